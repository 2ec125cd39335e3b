// config.json -> Config. One pass over the JSON document; every error names the file, the JSON
// pointer of the offending value and the reason.
#include "config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "error.hpp"
#include "fd.hpp"
#include "keys.hpp"
#include "names.hpp"
#include "namespaces.hpp"

namespace nook {
namespace {

// ordered_json: an object is one vector of members, not a tree of nodes: the parsed config
// takes about half the heap pages (each page first touched is a fault; docs/performance.md).
using json = nlohmann::ordered_json;

// The largest config.json nook reads, and the deepest nesting it accepts. Real configs are
// tens of kilobytes and nest about six levels; the limits keep hostile input from costing
// gigabytes or the stack.
constexpr size_t kMaxConfigBytes = 16u << 20;
constexpr int kMaxDepth = 64;

// What the kernel takes, for the numbers below that have a fixed range.
constexpr int64_t kMaxMajor = 4095;                 // dev_t: 12 bits of major
constexpr int64_t kMaxMinor = 1048575;              // and 20 of minor (new_decode_dev)
constexpr int64_t kMaxCfsQuota = (1ll << 44) - 1;   // us; the scheduler's MAX_BW
constexpr int64_t kMaxPids = 4194304;               // PID_MAX_LIMIT: pids.max takes 0..this
constexpr int64_t kMaxTimensSecs = 9223372036 / 2;  // KTIME_SEC_MAX / 2 (timens_offsets)
constexpr size_t kMaxIdExtents = 340;               // lines of a uid_map/gid_map
constexpr size_t kMaxGroups = 65536;                // NGROUPS_MAX, for setgroups()

class Reader {
 public:
  explicit Reader(const std::string& file) : file_(file) {}

  [[noreturn]] void bad(const std::string& ptr, const std::string& reason) const {
    throw Error(file_ + ": " + (ptr.empty() ? "/" : ptr) + ": " + reason);
  }

  static std::string show(const json& j) {
    std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
    if (s.size() > 40) s = s.substr(0, 37) + "...";
    return s;
  }

  [[noreturn]] void expected(const std::string& ptr, const char* what, const json& j) const {
    bad(ptr, std::string("expected ") + what + ", got " + show(j));
  }

  const json& object(const json& j, const std::string& ptr) const {
    if (!j.is_object()) expected(ptr, "an object", j);
    return j;
  }
  const json& array(const json& j, const std::string& ptr) const {
    if (!j.is_array()) expected(ptr, "an array", j);
    return j;
  }
  std::string str(const json& j, const std::string& ptr) const {
    if (!j.is_string()) expected(ptr, "a string", j);
    return j.get<std::string>();
  }
  bool boolean(const json& j, const std::string& ptr) const {
    if (!j.is_boolean()) expected(ptr, "a boolean", j);
    return j.get<bool>();
  }
  uint64_t u64(const json& j, const std::string& ptr) const {
    if (j.is_number_unsigned()) return j.get<uint64_t>();
    if (j.is_number_integer()) {
      if (j.get<int64_t>() >= 0) return static_cast<uint64_t>(j.get<int64_t>());
      expected(ptr, "a non-negative integer", j);
    }
    expected(ptr, "a non-negative integer", j);
  }
  // An integer within [lo, hi], or "V is out of range: RULE" (RULE by default "must be between
  // LO and HI"). Every number nook passes to the kernel goes through here (or in_range_or_zero)
  // with the range the kernel interface accepts, so that nothing is truncated or wraps on the
  // way (a blkio weight of 65636 was 100 as a uint16).
  int64_t in_range(const json& j, const std::string& ptr, int64_t lo, int64_t hi,
                   const std::string& rule = {}) const {
    if (!j.is_number_integer()) expected(ptr, lo >= 0 ? "a non-negative integer" : "an integer", j);
    bool ok;
    int64_t v = 0;
    if (j.is_number_unsigned()) {
      uint64_t u = j.get<uint64_t>();
      ok = hi >= 0 && u <= static_cast<uint64_t>(hi) && static_cast<int64_t>(u) >= lo;
      v = static_cast<int64_t>(u);
    } else {
      v = j.get<int64_t>();
      ok = v >= lo && v <= hi;
    }
    if (!ok) out_of_range(ptr, j, rule.empty() ? between(lo, hi) : rule);
    return v;
  }
  // 0 ("unset", as runc reads these) or an integer within [lo, hi].
  int64_t in_range_or_zero(const json& j, const std::string& ptr, int64_t lo, int64_t hi) const {
    std::string rule =
        "must be 0 (unset) or between " + std::to_string(lo) + " and " + std::to_string(hi);
    int64_t v = in_range(j, ptr, 0, hi, rule);
    if (v != 0 && v < lo) out_of_range(ptr, j, rule);
    return v;
  }
  uint32_t u32(const json& j, const std::string& ptr) const {
    return static_cast<uint32_t>(in_range(j, ptr, 0, UINT32_MAX));
  }
  // A uid or gid (process.user, additionalGids, mappings, device owners).
  uint32_t id(const json& j, const std::string& ptr) const {
    return static_cast<uint32_t>(in_range(j, ptr, 0, kMaxId, kIdRangeRule));
  }
  [[noreturn]] void out_of_range(const std::string& ptr, const json& j,
                                 const std::string& rule) const {
    bad(ptr, show(j) + " is out of range: " + rule);
  }
  static std::string between(int64_t lo, int64_t hi) {
    return "must be between " + std::to_string(lo) + " and " + std::to_string(hi);
  }
  std::vector<std::string> strings(const json& j, const std::string& ptr) const {
    array(j, ptr);
    std::vector<std::string> out;
    out.reserve(j.size());
    for (size_t i = 0; i < j.size(); i++) out.push_back(str(j[i], ptr + "/" + std::to_string(i)));
    return out;
  }
  std::map<std::string, std::string> string_map(const json& j, const std::string& ptr) const {
    object(j, ptr);
    std::map<std::string, std::string> out;
    for (auto& [k, v] : j.items()) out[k] = str(v, ptr + "/" + escape(k));
    return out;
  }
  // JSON pointer escaping of one key.
  static std::string escape(const std::string& k) {
    std::string out;
    for (char c : k) {
      if (c == '~')
        out += "~0";
      else if (c == '/')
        out += "~1";
      else
        out += c;
    }
    return out;
  }
  // Looks up an optional member; returns nullptr when absent or null.
  static const json* get(const json& obj, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
  }

 private:
  const std::string& file_;
};

std::string join(const std::string& a, const char* b) {
  return a + "/" + b;
}
std::string idx(const std::string& a, size_t i) {
  return a + "/" + std::to_string(i);
}

void require_absolute(const Reader& r, const std::string& p, const std::string& ptr) {
  if (p.empty() || p[0] != '/') r.bad(ptr, "path \"" + p + "\" must be absolute");
}

std::vector<IdMapping> parse_mappings(const Reader& r, const json& j, const std::string& ptr) {
  r.array(j, ptr);
  std::vector<IdMapping> out;
  for (size_t i = 0; i < j.size(); i++) {
    std::string p = idx(ptr, i);
    r.object(j[i], p);
    IdMapping m;
    for (auto [key, field] : {std::pair{"containerID", &m.container_id},
                              std::pair{"hostID", &m.host_id}, std::pair{"size", &m.size}}) {
      auto* v = Reader::get(j[i], key);
      if (!v) r.bad(join(p, key), "required property is missing");
      if (field == &m.size) {
        if (v->is_number_integer() && *v == 0)
          r.bad(join(p, key), "a mapping of size 0 maps nothing");
        // The kernel refuses an extent whose end wraps in 32 bits (first + count).
        *field = static_cast<uint32_t>(
            r.in_range(*v, join(p, key), 1, UINT32_MAX - std::max(m.container_id, m.host_id),
                       "containerID + size and hostID + size must be at most 4294967295"));
      } else {
        *field = r.id(*v, join(p, key));
      }
    }
    // The kernel refuses more extents, and extents that overlap on either side.
    if (i == kMaxIdExtents) r.bad(p, "more than 340 mappings (the kernel's limit)");
    for (size_t k = 0; k < out.size(); k++) {
      auto overlap = [](uint32_t a, uint32_t b, uint32_t n, uint32_t bn) {
        return uint64_t(a) < uint64_t(b) + bn && uint64_t(b) < uint64_t(a) + n;
      };
      const IdMapping& o = out[k];
      if (overlap(m.container_id, o.container_id, m.size, o.size))
        r.bad(p, "its containerID range overlaps that of " + idx(ptr, k));
      if (overlap(m.host_id, o.host_id, m.size, o.size))
        r.bad(p, "its hostID range overlaps that of " + idx(ptr, k));
    }
    out.push_back(m);
  }
  return out;
}

Capabilities parse_caps(const Reader& r, const json& j, const std::string& ptr) {
  r.object(j, ptr);
  Capabilities c;
  std::set<std::string> unknown;
  for (auto [key, field] :
       {std::pair{"bounding", &c.bounding}, std::pair{"effective", &c.effective},
        std::pair{"inheritable", &c.inheritable}, std::pair{"permitted", &c.permitted},
        std::pair{"ambient", &c.ambient}}) {
    auto* v = Reader::get(j, key);
    if (!v) continue;
    auto names = r.strings(*v, join(ptr, key));
    for (auto& n : names) {
      int cap = cap_from_name(n);
      if (cap < 0) {
        unknown.insert(n);
        continue;
      }
      *field |= 1ull << cap;
    }
  }
  c.names_unknown.assign(unknown.begin(), unknown.end());
  return c;
}

User parse_user(const Reader& r, const json& j, const std::string& ptr) {
  r.object(j, ptr);
  User u;
  if (auto* v = Reader::get(j, "uid")) u.uid = r.id(*v, join(ptr, "uid"));
  if (auto* v = Reader::get(j, "gid")) u.gid = r.id(*v, join(ptr, "gid"));
  if (auto* v = Reader::get(j, "umask"))
    u.umask = static_cast<uint32_t>(
        r.in_range(*v, join(ptr, "umask"), 0, 0777, "must be between 0 and 0777 (511)"));
  if (auto* v = Reader::get(j, "additionalGids")) {
    std::string gp = join(ptr, "additionalGids");
    r.array(*v, gp);
    if (v->size() > kMaxGroups)
      r.bad(gp, std::to_string(v->size()) + " groups; setgroups() takes at most 65536");
    for (size_t i = 0; i < v->size(); i++) u.additional_gids.push_back(r.id((*v)[i], idx(gp, i)));
  }
  if (auto* v = Reader::get(j, "username")) u.username = r.str(*v, join(ptr, "username"));
  return u;
}

Process parse_process_json(const Reader& r, const json& j, const std::string& ptr) {
  r.object(j, ptr);
  Process p;
  if (auto* v = Reader::get(j, "terminal")) p.terminal = r.boolean(*v, join(ptr, "terminal"));
  if (auto* v = Reader::get(j, "consoleSize")) {
    std::string cp = join(ptr, "consoleSize");
    r.object(*v, cp);
    ConsoleSize cs;
    // struct winsize holds unsigned shorts.
    if (auto* h = Reader::get(*v, "height"))
      cs.height = static_cast<unsigned>(r.in_range(*h, join(cp, "height"), 0, 65535));
    if (auto* w = Reader::get(*v, "width"))
      cs.width = static_cast<unsigned>(r.in_range(*w, join(cp, "width"), 0, 65535));
    p.console_size = cs;
  }
  auto* user = Reader::get(j, "user");
  if (user) p.user = parse_user(r, *user, join(ptr, "user"));
  auto* args = Reader::get(j, "args");
  if (auto* cl = Reader::get(j, "commandLine"))
    p.command_line = r.str(*cl, join(ptr, "commandLine"));
  if (!args) r.bad(join(ptr, "args"), "required property is missing");
  p.args = r.strings(*args, join(ptr, "args"));
  if (p.args.empty()) r.bad(join(ptr, "args"), "must name at least the program to run");
  if (p.args[0].empty()) r.bad(join(ptr, "args") + "/0", "program name is empty");
  if (auto* v = Reader::get(j, "env")) p.env = r.strings(*v, join(ptr, "env"));
  auto* cwd = Reader::get(j, "cwd");
  if (!cwd) r.bad(join(ptr, "cwd"), "required property is missing");
  p.cwd = r.str(*cwd, join(ptr, "cwd"));
  require_absolute(r, p.cwd, join(ptr, "cwd"));
  if (auto* v = Reader::get(j, "capabilities"))
    p.capabilities = parse_caps(r, *v, join(ptr, "capabilities"));
  if (auto* v = Reader::get(j, "rlimits")) {
    std::string rp = join(ptr, "rlimits");
    r.array(*v, rp);
    std::set<int> seen;
    for (size_t i = 0; i < v->size(); i++) {
      std::string ip = idx(rp, i);
      const json& e = (*v)[i];
      r.object(e, ip);
      Rlimit rl;
      auto* t = Reader::get(e, "type");
      if (!t) r.bad(join(ip, "type"), "required property is missing");
      rl.type = r.str(*t, join(ip, "type"));
      rl.resource = rlimit_from_name(rl.type);
      if (rl.resource < 0) r.bad(join(ip, "type"), "unknown rlimit \"" + rl.type + "\"");
      if (!seen.insert(rl.resource).second)
        r.bad(join(ip, "type"), "rlimit " + rl.type + " is given twice");
      auto* s = Reader::get(e, "soft");
      auto* h = Reader::get(e, "hard");
      if (!s) r.bad(join(ip, "soft"), "required property is missing");
      if (!h) r.bad(join(ip, "hard"), "required property is missing");
      rl.soft = r.u64(*s, join(ip, "soft"));
      rl.hard = r.u64(*h, join(ip, "hard"));
      if (rl.soft > rl.hard)
        r.bad(ip, "soft limit " + std::to_string(rl.soft) + " is above hard limit " +
                      std::to_string(rl.hard));
      p.rlimits.push_back(rl);
    }
  }
  if (auto* v = Reader::get(j, "noNewPrivileges"))
    p.no_new_privileges = r.boolean(*v, join(ptr, "noNewPrivileges"));
  if (auto* v = Reader::get(j, "apparmorProfile"))
    p.apparmor_profile = r.str(*v, join(ptr, "apparmorProfile"));
  if (auto* v = Reader::get(j, "selinuxLabel"))
    p.selinux_label = r.str(*v, join(ptr, "selinuxLabel"));
  if (auto* v = Reader::get(j, "oomScoreAdj")) {
    p.oom_score_adj = static_cast<int>(r.in_range(*v, join(ptr, "oomScoreAdj"), -1000, 1000));
  }
  if (auto* v = Reader::get(j, "scheduler")) {
    std::string sp = join(ptr, "scheduler");
    r.object(*v, sp);
    Scheduler s;
    auto* pol = Reader::get(*v, "policy");
    if (!pol) r.bad(join(sp, "policy"), "required property is missing");
    s.policy = r.str(*pol, join(sp, "policy"));
    static const std::set<std::string> policies = {"SCHED_OTHER",   "SCHED_FIFO", "SCHED_RR",
                                                   "SCHED_BATCH",   "SCHED_ISO",  "SCHED_IDLE",
                                                   "SCHED_DEADLINE"};
    if (!policies.count(s.policy)) r.bad(join(sp, "policy"), "unknown policy \"" + s.policy + "\"");
    if (auto* x = Reader::get(*v, "nice"))
      s.nice = static_cast<int>(r.in_range(*x, join(sp, "nice"), -20, 19));
    // sched_setattr(): a static priority 1..99 for the real-time policies, 0 for the others.
    bool rt = s.policy == "SCHED_FIFO" || s.policy == "SCHED_RR";
    if (auto* x = Reader::get(*v, "priority"))
      s.priority = static_cast<int>(r.in_range(
          *x, join(sp, "priority"), rt ? 1 : 0, rt ? 99 : 0,
          rt ? "must be between 1 and 99 for " + s.policy
             : "must be 0 for " + s.policy + " (only SCHED_FIFO and SCHED_RR take one)"));
    else if (rt)
      r.bad(join(sp, "priority"), "required property is missing: " + s.policy + " needs 1..99");
    if (auto* x = Reader::get(*v, "flags")) s.flags = r.strings(*x, join(sp, "flags"));
    // Nanoseconds; the kernel refuses bit 63 (it keeps it for wrap-around).
    if (auto* x = Reader::get(*v, "runtime"))
      s.runtime = static_cast<uint64_t>(r.in_range(*x, join(sp, "runtime"), 0, INT64_MAX));
    if (auto* x = Reader::get(*v, "deadline"))
      s.deadline = static_cast<uint64_t>(r.in_range(*x, join(sp, "deadline"), 0, INT64_MAX));
    if (auto* x = Reader::get(*v, "period"))
      s.period = static_cast<uint64_t>(r.in_range(*x, join(sp, "period"), 0, INT64_MAX));
    if (s.policy == "SCHED_DEADLINE") {  // the kernel's __checkparam_dl()
      if (s.runtime < 1024)
        r.bad(join(sp, "runtime"), "SCHED_DEADLINE needs a runtime of at least 1024 ns");
      if (s.deadline < s.runtime)
        r.bad(join(sp, "deadline"), "SCHED_DEADLINE needs runtime <= deadline");
      if (s.period != 0 && s.period < s.deadline)
        r.bad(join(sp, "period"), "SCHED_DEADLINE needs deadline <= period (or period 0)");
    }
    p.scheduler = s;
  }
  if (auto* v = Reader::get(j, "ioPriority")) {
    std::string ipp = join(ptr, "ioPriority");
    r.object(*v, ipp);
    IoPriority io;
    auto* c = Reader::get(*v, "class");
    if (!c) r.bad(join(ipp, "class"), "required property is missing");
    io.io_class = r.str(*c, join(ipp, "class"));
    if (io.io_class != "IOPRIO_CLASS_RT" && io.io_class != "IOPRIO_CLASS_BE" &&
        io.io_class != "IOPRIO_CLASS_IDLE")
      r.bad(join(ipp, "class"), "unknown class \"" + io.io_class + "\"");
    if (auto* x = Reader::get(*v, "priority"))
      io.priority = static_cast<int>(r.in_range(*x, join(ipp, "priority"), 0, 7));
    p.io_priority = io;
  }
  return p;
}

Hook parse_hook(const Reader& r, const json& j, const std::string& ptr) {
  r.object(j, ptr);
  Hook h;
  auto* p = Reader::get(j, "path");
  if (!p) r.bad(join(ptr, "path"), "required property is missing");
  h.path = r.str(*p, join(ptr, "path"));
  require_absolute(r, h.path, join(ptr, "path"));
  if (auto* v = Reader::get(j, "args")) h.args = r.strings(*v, join(ptr, "args"));
  if (auto* v = Reader::get(j, "env")) h.env = r.strings(*v, join(ptr, "env"));
  if (auto* v = Reader::get(j, "timeout")) {
    h.timeout = static_cast<int>(r.in_range(*v, join(ptr, "timeout"), 1, INT32_MAX,
                                            "must be between 1 and 2147483647 (seconds)"));
  }
  return h;
}

Seccomp parse_seccomp(const Reader& r, const json& j, const std::string& ptr) {
  r.object(j, ptr);
  Seccomp s;
  auto* d = Reader::get(j, "defaultAction");
  if (!d) r.bad(join(ptr, "defaultAction"), "required property is missing");
  s.default_action = r.str(*d, join(ptr, "defaultAction"));
  if (auto* v = Reader::get(j, "defaultErrnoRet"))
    s.default_errno_ret = r.u32(*v, join(ptr, "defaultErrnoRet"));
  if (auto* v = Reader::get(j, "architectures"))
    s.architectures = r.strings(*v, join(ptr, "architectures"));
  if (auto* v = Reader::get(j, "flags")) s.flags = r.strings(*v, join(ptr, "flags"));
  if (auto* v = Reader::get(j, "listenerPath"))
    s.listener_path = r.str(*v, join(ptr, "listenerPath"));
  if (auto* v = Reader::get(j, "listenerMetadata"))
    s.listener_metadata = r.str(*v, join(ptr, "listenerMetadata"));
  if (auto* v = Reader::get(j, "syscalls")) {
    std::string sp = join(ptr, "syscalls");
    r.array(*v, sp);
    for (size_t i = 0; i < v->size(); i++) {
      std::string ip = idx(sp, i);
      const json& e = (*v)[i];
      r.object(e, ip);
      SeccompSyscall sc;
      auto* n = Reader::get(e, "names");
      if (!n) r.bad(join(ip, "names"), "required property is missing");
      sc.names = r.strings(*n, join(ip, "names"));
      auto* a = Reader::get(e, "action");
      if (!a) r.bad(join(ip, "action"), "required property is missing");
      sc.action = r.str(*a, join(ip, "action"));
      if (auto* x = Reader::get(e, "errnoRet")) sc.errno_ret = r.u32(*x, join(ip, "errnoRet"));
      if (auto* x = Reader::get(e, "args")) {
        std::string ap = join(ip, "args");
        r.array(*x, ap);
        for (size_t k = 0; k < x->size(); k++) {
          std::string kp = idx(ap, k);
          const json& ae = (*x)[k];
          r.object(ae, kp);
          SeccompArg arg;
          auto* ix = Reader::get(ae, "index");
          if (!ix) r.bad(join(kp, "index"), "required property is missing");
          arg.index = static_cast<unsigned>(r.in_range(*ix, join(kp, "index"), 0, 5));
          auto* val = Reader::get(ae, "value");
          if (!val) r.bad(join(kp, "value"), "required property is missing");
          arg.value = r.u64(*val, join(kp, "value"));
          if (auto* v2 = Reader::get(ae, "valueTwo"))
            arg.value_two = r.u64(*v2, join(kp, "valueTwo"));
          auto* op = Reader::get(ae, "op");
          if (!op) r.bad(join(kp, "op"), "required property is missing");
          arg.op = r.str(*op, join(kp, "op"));
          sc.args.push_back(arg);
        }
      }
      s.syscalls.push_back(std::move(sc));
    }
  }
  return s;
}

// A blkio weight: 10..1000 is what blkio.weight (CFQ) takes, and what cgroup.cpp converts to
// io.weight (1 + (W - 10) * 9999 / 990: 1..10000) and passes to io.bfq.weight (1..1000).
// 0 leaves it unset, as in runc.
uint16_t blkio_weight(const Reader& r, const json& j, const std::string& ptr) {
  return static_cast<uint16_t>(r.in_range_or_zero(j, ptr, 10, 1000));
}

std::vector<BlockIoDevice> parse_bio_devices(const Reader& r, const json& j, const std::string& ptr,
                                             bool weight) {
  r.array(j, ptr);
  std::vector<BlockIoDevice> out;
  for (size_t i = 0; i < j.size(); i++) {
    std::string ip = idx(ptr, i);
    r.object(j[i], ip);
    BlockIoDevice d;
    auto* ma = Reader::get(j[i], "major");
    auto* mi = Reader::get(j[i], "minor");
    if (!ma) r.bad(join(ip, "major"), "required property is missing");
    if (!mi) r.bad(join(ip, "minor"), "required property is missing");
    d.major = r.in_range(*ma, join(ip, "major"), 0, kMaxMajor);
    d.minor = r.in_range(*mi, join(ip, "minor"), 0, kMaxMinor);
    if (weight) {
      if (auto* w = Reader::get(j[i], "weight")) d.weight = blkio_weight(r, *w, join(ip, "weight"));
      if (auto* w = Reader::get(j[i], "leafWeight"))
        d.leaf_weight = blkio_weight(r, *w, join(ip, "leafWeight"));
    } else {
      auto* rate = Reader::get(j[i], "rate");
      if (!rate) r.bad(join(ip, "rate"), "required property is missing");
      d.rate = r.u64(*rate, join(ip, "rate"));
    }
    out.push_back(d);
  }
  return out;
}

Resources parse_resources(const Reader& r, const json& j, const std::string& ptr) {
  r.object(j, ptr);
  Resources res;
  if (auto* v = Reader::get(j, "devices")) {
    std::string dp = join(ptr, "devices");
    r.array(*v, dp);
    for (size_t i = 0; i < v->size(); i++) {
      std::string ip = idx(dp, i);
      r.object((*v)[i], ip);
      DeviceRule d;
      auto* a = Reader::get((*v)[i], "allow");
      if (!a) r.bad(join(ip, "allow"), "required property is missing");
      d.allow = r.boolean(*a, join(ip, "allow"));
      if (auto* x = Reader::get((*v)[i], "type")) d.type = r.str(*x, join(ip, "type"));
      // -1, like leaving it out, matches every device ("*" in the rule).
      if (auto* x = Reader::get((*v)[i], "major"))
        d.major = r.in_range(*x, join(ip, "major"), -1, kMaxMajor,
                             "must be -1 (all) or between 0 and " + std::to_string(kMaxMajor));
      if (auto* x = Reader::get((*v)[i], "minor"))
        d.minor = r.in_range(*x, join(ip, "minor"), -1, kMaxMinor,
                             "must be -1 (all) or between 0 and " + std::to_string(kMaxMinor));
      if (auto* x = Reader::get((*v)[i], "access")) d.access = r.str(*x, join(ip, "access"));
      res.devices.push_back(d);
    }
  }
  if (auto* v = Reader::get(j, "memory")) {
    std::string mp = join(ptr, "memory");
    r.object(*v, mp);
    Resources::Memory m;
    for (auto [key, field] :
         {std::pair{"limit", &m.limit}, std::pair{"reservation", &m.reservation},
          std::pair{"swap", &m.swap}, std::pair{"kernel", &m.kernel},
          std::pair{"kernelTCP", &m.kernel_tcp}})
      if (auto* x = Reader::get(*v, key))  // bytes; -1 is unlimited (the kernel's "-1"/"max")
        *field = r.in_range(*x, join(mp, key), -1, INT64_MAX,
                            "must be -1 (unlimited) or a number of bytes from 0");
    if (auto* x = Reader::get(*v, "swappiness"))  // runc's range; kernels before 5.8 take 0..100
      m.swappiness = static_cast<uint64_t>(r.in_range(*x, join(mp, "swappiness"), 0, 100));
    if (auto* x = Reader::get(*v, "disableOOMKiller"))
      m.disable_oom_killer = r.boolean(*x, join(mp, "disableOOMKiller"));
    if (auto* x = Reader::get(*v, "useHierarchy"))
      m.use_hierarchy = r.boolean(*x, join(mp, "useHierarchy"));
    if (auto* x = Reader::get(*v, "checkBeforeUpdate"))
      m.check_before_update = r.boolean(*x, join(mp, "checkBeforeUpdate"));
    res.memory = m;
  }
  if (auto* v = Reader::get(j, "cpu")) {
    std::string cp = join(ptr, "cpu");
    r.object(*v, cp);
    Resources::Cpu c;
    // cpu.shares 2..262144 (cpu.weight 1..10000 after cgroup.cpp's conversion); the CFS
    // period 1 ms..1 s and quota from 1 ms, both in us (tg_set_cfs_bandwidth); 0 is unset.
    if (auto* x = Reader::get(*v, "shares"))
      c.shares = static_cast<uint64_t>(r.in_range_or_zero(*x, join(cp, "shares"), 2, 262144));
    if (auto* x = Reader::get(*v, "period"))
      c.period = static_cast<uint64_t>(r.in_range_or_zero(*x, join(cp, "period"), 1000, 1000000));
    if (auto* x = Reader::get(*v, "quota")) {
      std::string rule = "must be -1 (unlimited), 0 (unset) or between 1000 and " +
                         std::to_string(kMaxCfsQuota) + " (us)";
      c.quota = r.in_range(*x, join(cp, "quota"), -1, kMaxCfsQuota, rule);
      if (*c.quota > 0 && *c.quota < 1000) r.out_of_range(join(cp, "quota"), *x, rule);
    }
    if (auto* x = Reader::get(*v, "burst"))
      c.burst = r.in_range(*x, join(cp, "burst"), 0, kMaxCfsQuota);
    // cpu.rt_period_us: 1.. (U64_MAX / 1000); cpu.rt_runtime_us: -1 (unlimited) up to the
    // scheduler's MAX_BW in ns (sched_group_set_rt_runtime, tg_set_rt_bandwidth).
    if (auto* x = Reader::get(*v, "realtimePeriod"))
      c.realtime_period = static_cast<uint64_t>(
          r.in_range_or_zero(*x, join(cp, "realtimePeriod"), 1, int64_t(UINT64_MAX / 1000)));
    if (auto* x = Reader::get(*v, "realtimeRuntime"))
      c.realtime_runtime = r.in_range(*x, join(cp, "realtimeRuntime"), -1, kMaxCfsQuota / 1000,
                                      "must be -1 (unlimited) or between 0 and " +
                                          std::to_string(kMaxCfsQuota / 1000) + " (us)");
    if (c.realtime_period && *c.realtime_period && c.realtime_runtime && *c.realtime_runtime > 0 &&
        uint64_t(*c.realtime_runtime) > *c.realtime_period)
      r.bad(join(cp, "realtimeRuntime"), "runtime " + std::to_string(*c.realtime_runtime) +
                                             " is above realtimePeriod " +
                                             std::to_string(*c.realtime_period));
    if (auto* x = Reader::get(*v, "idle")) c.idle = r.in_range(*x, join(cp, "idle"), 0, 1);
    if (auto* x = Reader::get(*v, "cpus")) c.cpus = r.str(*x, join(cp, "cpus"));
    if (auto* x = Reader::get(*v, "mems")) c.mems = r.str(*x, join(cp, "mems"));
    res.cpu = c;
  }
  if (auto* v = Reader::get(j, "pids")) {
    std::string pp = join(ptr, "pids");
    r.object(*v, pp);
    if (auto* x = Reader::get(*v, "limit"))  // pids.max takes 0..PID_MAX_LIMIT or "max"
      res.pids_limit =
          r.in_range(*x, join(pp, "limit"), -1, kMaxPids,
                     "must be -1 (unlimited) or between 0 and " + std::to_string(kMaxPids));
  }
  if (auto* v = Reader::get(j, "blockIO")) {
    std::string bp = join(ptr, "blockIO");
    r.object(*v, bp);
    Resources::BlockIo b;
    if (auto* x = Reader::get(*v, "weight")) b.weight = blkio_weight(r, *x, join(bp, "weight"));
    if (auto* x = Reader::get(*v, "leafWeight"))
      b.leaf_weight = blkio_weight(r, *x, join(bp, "leafWeight"));
    if (auto* x = Reader::get(*v, "weightDevice"))
      b.weight_device = parse_bio_devices(r, *x, join(bp, "weightDevice"), true);
    if (auto* x = Reader::get(*v, "throttleReadBpsDevice"))
      b.throttle_read_bps = parse_bio_devices(r, *x, join(bp, "throttleReadBpsDevice"), false);
    if (auto* x = Reader::get(*v, "throttleWriteBpsDevice"))
      b.throttle_write_bps = parse_bio_devices(r, *x, join(bp, "throttleWriteBpsDevice"), false);
    if (auto* x = Reader::get(*v, "throttleReadIOPSDevice"))
      b.throttle_read_iops = parse_bio_devices(r, *x, join(bp, "throttleReadIOPSDevice"), false);
    if (auto* x = Reader::get(*v, "throttleWriteIOPSDevice"))
      b.throttle_write_iops = parse_bio_devices(r, *x, join(bp, "throttleWriteIOPSDevice"), false);
    res.block_io = b;
  }
  if (auto* v = Reader::get(j, "hugepageLimits")) {
    std::string hp = join(ptr, "hugepageLimits");
    r.array(*v, hp);
    for (size_t i = 0; i < v->size(); i++) {
      std::string ip = idx(hp, i);
      r.object((*v)[i], ip);
      Resources::HugepageLimit h;
      auto* ps = Reader::get((*v)[i], "pageSize");
      auto* l = Reader::get((*v)[i], "limit");
      if (!ps) r.bad(join(ip, "pageSize"), "required property is missing");
      if (!l) r.bad(join(ip, "limit"), "required property is missing");
      h.page_size = r.str(*ps, join(ip, "pageSize"));
      h.limit = r.u64(*l, join(ip, "limit"));
      res.hugepage_limits.push_back(h);
    }
  }
  if (auto* v = Reader::get(j, "network"))
    res.has_network = !r.object(*v, join(ptr, "network")).empty();
  if (auto* v = Reader::get(j, "rdma")) res.has_rdma = !r.object(*v, join(ptr, "rdma")).empty();
  if (auto* v = Reader::get(j, "unified")) res.unified = r.string_map(*v, join(ptr, "unified"));
  return res;
}

Linux parse_linux(const Reader& r, const json& j, const std::string& ptr) {
  r.object(j, ptr);
  Linux l;
  if (auto* v = Reader::get(j, "namespaces")) {
    std::string np = join(ptr, "namespaces");
    r.array(*v, np);
    for (size_t i = 0; i < v->size(); i++) {
      std::string ip = idx(np, i);
      r.object((*v)[i], ip);
      auto* t = Reader::get((*v)[i], "type");
      if (!t) r.bad(join(ip, "type"), "required property is missing");
      std::string ts = r.str(*t, join(ip, "type"));
      auto type = ns_from_name(ts);
      if (!type) r.bad(join(ip, "type"), "unknown namespace type \"" + ts + "\"");
      Namespace ns{*type, {}};
      if (auto* p = Reader::get((*v)[i], "path")) {
        ns.path = r.str(*p, join(ip, "path"));
        if (!ns.path.empty()) require_absolute(r, ns.path, join(ip, "path"));
      }
      if (l.find_ns(*type)) r.bad(ip, "namespace type \"" + ts + "\" is given twice");
      l.namespaces.push_back(ns);
    }
  }
  if (auto* v = Reader::get(j, "uidMappings"))
    l.uid_mappings = parse_mappings(r, *v, join(ptr, "uidMappings"));
  if (auto* v = Reader::get(j, "gidMappings"))
    l.gid_mappings = parse_mappings(r, *v, join(ptr, "gidMappings"));
  if (auto* v = Reader::get(j, "timeOffsets")) {
    std::string tp = join(ptr, "timeOffsets");
    r.object(*v, tp);
    for (auto& [k, off] : v->items()) {
      if (k != "monotonic" && k != "boottime")
        r.bad(join(tp, k.c_str()), "unknown clock (monotonic or boottime)");
      std::string op = join(tp, k.c_str());
      r.object(off, op);
      l.time_offsets_secs[k] = 0;
      l.time_offsets_nanosecs[k] = 0;
      // The kernel refuses a clock that the offset would put past KTIME_SEC_MAX / 2.
      if (auto* s = Reader::get(off, "secs"))
        l.time_offsets_secs[k] = r.in_range(*s, join(op, "secs"), -kMaxTimensSecs, kMaxTimensSecs);
      if (auto* n = Reader::get(off, "nanosecs"))
        l.time_offsets_nanosecs[k] = r.in_range(*n, join(op, "nanosecs"), 0, 999999999);
    }
  }
  if (auto* v = Reader::get(j, "devices")) {
    std::string dp = join(ptr, "devices");
    r.array(*v, dp);
    for (size_t i = 0; i < v->size(); i++) {
      std::string ip = idx(dp, i);
      const json& e = (*v)[i];
      r.object(e, ip);
      Device d;
      auto* t = Reader::get(e, "type");
      auto* p = Reader::get(e, "path");
      if (!t) r.bad(join(ip, "type"), "required property is missing");
      if (!p) r.bad(join(ip, "path"), "required property is missing");
      d.type = r.str(*t, join(ip, "type"));
      if (d.type != "c" && d.type != "b" && d.type != "u" && d.type != "p")
        r.bad(join(ip, "type"), "device type must be c, b, u or p, got \"" + d.type + "\"");
      d.path = r.str(*p, join(ip, "path"));
      require_absolute(r, d.path, join(ip, "path"));
      if (d.type != "p") {
        auto* ma = Reader::get(e, "major");
        auto* mi = Reader::get(e, "minor");
        if (!ma) r.bad(join(ip, "major"), "required property is missing");
        if (!mi) r.bad(join(ip, "minor"), "required property is missing");
        d.major = r.in_range(*ma, join(ip, "major"), 0, kMaxMajor);
        d.minor = r.in_range(*mi, join(ip, "minor"), 0, kMaxMinor);
      }
      // The permission bits only: mknod gets the type from "type".
      if (auto* x = Reader::get(e, "fileMode"))
        d.file_mode = static_cast<uint32_t>(
            r.in_range(*x, join(ip, "fileMode"), 0, 07777,
                       "must be between 0 and 07777 (4095), the permission bits"));
      if (auto* x = Reader::get(e, "uid")) d.uid = r.id(*x, join(ip, "uid"));
      if (auto* x = Reader::get(e, "gid")) d.gid = r.id(*x, join(ip, "gid"));
      l.devices.push_back(d);
    }
  }
  if (auto* v = Reader::get(j, "cgroupsPath")) l.cgroups_path = r.str(*v, join(ptr, "cgroupsPath"));
  if (auto* v = Reader::get(j, "resources"))
    l.resources = parse_resources(r, *v, join(ptr, "resources"));
  if (auto* v = Reader::get(j, "seccomp")) l.seccomp = parse_seccomp(r, *v, join(ptr, "seccomp"));
  if (auto* v = Reader::get(j, "rootfsPropagation")) {
    l.rootfs_propagation = r.str(*v, join(ptr, "rootfsPropagation"));
    static const std::set<std::string> ok = {"",        "private",    "rprivate",
                                             "slave",   "rslave",     "shared",
                                             "rshared", "unbindable", "runbindable"};
    if (!ok.count(l.rootfs_propagation))
      r.bad(join(ptr, "rootfsPropagation"), "unknown propagation \"" + l.rootfs_propagation + "\"");
  }
  if (auto* v = Reader::get(j, "maskedPaths")) {
    l.masked_paths = r.strings(*v, join(ptr, "maskedPaths"));
    for (size_t i = 0; i < l.masked_paths.size(); i++)
      require_absolute(r, l.masked_paths[i], idx(join(ptr, "maskedPaths"), i));
  }
  if (auto* v = Reader::get(j, "readonlyPaths")) {
    l.readonly_paths = r.strings(*v, join(ptr, "readonlyPaths"));
    for (size_t i = 0; i < l.readonly_paths.size(); i++)
      require_absolute(r, l.readonly_paths[i], idx(join(ptr, "readonlyPaths"), i));
  }
  if (auto* v = Reader::get(j, "mountLabel")) l.mount_label = r.str(*v, join(ptr, "mountLabel"));
  if (auto* v = Reader::get(j, "sysctl")) l.sysctl = r.string_map(*v, join(ptr, "sysctl"));
  if (auto* v = Reader::get(j, "personality")) {
    std::string pp = join(ptr, "personality");
    r.object(*v, pp);
    Personality p;
    auto* d = Reader::get(*v, "domain");
    if (!d) r.bad(join(pp, "domain"), "required property is missing");
    p.domain = r.str(*d, join(pp, "domain"));
    if (p.domain != "LINUX" && p.domain != "LINUX32")
      r.bad(join(pp, "domain"), "unknown domain \"" + p.domain + "\" (LINUX or LINUX32)");
    if (auto* f = Reader::get(*v, "flags")) p.flags = r.strings(*f, join(pp, "flags"));
    // runtime-spec 1.2: "currently no flag values are supported".
    if (!p.flags.empty())
      r.bad(join(pp, "flags"), "personality flag \"" + p.flags[0] + "\" is not supported (" +
                                   key_reason("/linux/personality/flags") + ")");
    l.personality = p;
  }
  if (auto* v = Reader::get(j, "intelRdt"))
    l.has_intel_rdt = !r.object(*v, join(ptr, "intelRdt")).empty();
  // The spec: a runtime MUST put the process in a resctrl group when intelRdt is set, and
  // MUST fail when it cannot. nook has no resctrl support, so it always fails.
  if (l.has_intel_rdt) r.bad(join(ptr, "intelRdt"), key_reason("/linux/intelRdt"));
  // Semantic checks across keys.
  if ((!l.uid_mappings.empty() || !l.gid_mappings.empty()) && !l.find_ns(NsType::user))
    r.bad(join(ptr, "uidMappings"),
          "mappings are given but linux.namespaces has no user namespace");
  if (auto* u = l.find_ns(NsType::user);
      u && u->path.empty() && !l.uid_mappings.empty() && l.gid_mappings.empty())
    r.bad(join(ptr, "gidMappings"), "uidMappings are given without gidMappings");
  if (!l.time_offsets_secs.empty() && !l.find_ns(NsType::time))
    r.bad(join(ptr, "timeOffsets"), "time offsets need a time namespace in linux.namespaces");
  // A namespace joined by path is already set up: settings for it cannot be applied.
  if (auto* t = l.find_ns(NsType::time); t && !t->path.empty() && !l.time_offsets_secs.empty())
    r.bad(join(ptr, "timeOffsets"),
          "time offsets cannot be set on a time namespace joined by path");
  if (auto* u = l.find_ns(NsType::user);
      u && !u->path.empty() && (!l.uid_mappings.empty() || !l.gid_mappings.empty()))
    r.bad(join(ptr, "uidMappings"), "mappings cannot be set on a user namespace joined by path");
  return l;
}

// A parse error (or out_of_range, for 1e400) as "NAME: message", without nlohmann's
// "[json.exception.parse_error.101] " prefix.
Error json_error(const std::string& name, const json::exception& e) {
  std::string m = e.what();
  if (auto p = m.find("] "); p != std::string::npos) m = m.substr(p + 2);
  return Error(name + ": " + m);
}

[[noreturn]] void too_deep(const std::string& name) {
  throw Error(name + ": JSON nests deeper than " + std::to_string(kMaxDepth) + " levels");
}

// Rejects nesting deeper than kMaxDepth before the JSON parser sees the text.
void check_depth(std::string_view text, const std::string& name) {
  int depth = 0;
  bool in_str = false, esc = false;
  for (char c : text) {
    if (in_str) {
      if (esc)
        esc = false;
      else if (c == '\\')
        esc = true;
      else if (c == '"')
        in_str = false;
      continue;
    }
    if (c == '"')
      in_str = true;
    else if (c == '{' || c == '[') {
      if (++depth > kMaxDepth) too_deep(name);
    } else if (c == '}' || c == ']') {
      depth--;
    }
  }
}

// What both readings ask of the text before parsing: at most kMaxConfigBytes, and no NUL byte
// (JSON allows none outside a \u escape, and nlohmann's lexer would take one for the end of
// the input, accepting `{...}\0anything`).
void check_text(std::string_view text, const std::string& name) {
  if (text.size() > kMaxConfigBytes)
    throw Error(name + ": " + std::to_string(text.size()) + " bytes is larger than the " +
                std::to_string(kMaxConfigBytes >> 20) + " MiB nook accepts");
  if (auto p = text.find('\0'); p != std::string_view::npos)
    throw Error(name + ": byte " + std::to_string(p) + " is a NUL, which JSON does not allow");
}

json parse_json(std::string_view text, const std::string& name) {
  check_text(text, name);
  check_depth(text, name);
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw json_error(name, e);
  }
}

// The rules of a mounts entry, whichever reader found its members (ConfigReader or the DOM
// loop of config_from_json): the destination is required and not empty, and a relative one
// is relative to "/" (runtime-spec 1.1). `present`: entry `i` has the member. (The JSON
// pointer is made for an error only: this runs once per mount.)
void check_destination(const Reader& r, size_t i, bool present, std::string& d) {
  if (!present) r.bad(idx("/mounts", i) + "/destination", "required property is missing");
  if (d.empty()) r.bad(idx("/mounts", i) + "/destination", "destination is empty");
  if (d[0] != '/') d.insert(0, 1, '/');
}

// ID-mapped mounts (like the idmap option) are not implemented: refused rather than mounted
// with the wrong owners. (ConfigReader leaves entries with mappings to the DOM loop.)
void check_mappings(const Reader& r, const std::string& ip, const Mount& m) {
  if (!m.uid_mappings.empty() || !m.gid_mappings.empty())
    r.bad(join(ip, m.uid_mappings.empty() ? "gidMappings" : "uidMappings"),
          key_reason("/mounts/*/uidMappings"));
}

// The mounts entries as ConfigReader read them, not yet checked.
struct MountEntries {
  std::vector<Mount> entries;
  std::vector<bool> has_destination;
};

// Thrown by ConfigReader when a mounts entry is not of the plain shape it reads itself; the
// document is then read again through parse_json and the DOM code, which gives the exact
// reading or error for any shape.
struct NotPlain {};

// One SAX pass over config.json (nlohmann's lexer and parser, no DOM for mounts). It builds
// the DOM of everything but the top-level "mounts" array, whose entries it reads straight into
// Mounts: a bind-mount-heavy config (Buildah's, Slurm's) no longer builds, walks and frees one
// tree per entry (docs/performance.md: parse cost per mount). It also enforces kMaxDepth, which
// check_depth does on the DOM path. An entry qualifies when it is an object whose
// "destination", "type" and "source" are strings, "options" an array of strings, no key
// repeats and there are no ID mappings; anything else (and a second "mounts" key) throws
// NotPlain. What an entry means is decided for both readings by check_destination.
class ConfigReader {
 public:
  ConfigReader(std::string_view text, const std::string& name) : text_(text), name_(name) {}

  json doc;             // the document; "mounts" is null in it when mounts_read
  MountEntries mounts;  // the entries, in order, when mounts_read
  bool mounts_read = false;

  bool null() { return scalar(json(nullptr)); }
  bool boolean(bool v) { return scalar(json(v)); }
  bool number_integer(json::number_integer_t v) { return scalar(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return scalar(json(v)); }
  bool number_float(json::number_float_t v, const std::string&) { return scalar(json(v)); }
  bool binary(json::binary_t&) { throw NotPlain{}; }  // not produced by the JSON lexer

  bool string(std::string& v) {
    switch (mode_) {
      case Mode::dom:
        return scalar(json(std::move(v)));
      case Mode::entry:
        if (field_ == Field::options) throw NotPlain{};
        field_str() = std::move(v);
        return true;
      case Mode::options:
        entry_.options.push_back(std::move(v));
        return true;
      case Mode::skip:
        return skip_scalar();
      case Mode::mounts:
        throw NotPlain{};
    }
    return true;
  }

  bool start_object(size_t) { return open(json::value_t::object); }
  bool start_array(size_t) { return open(json::value_t::array); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(std::string& k) {
    switch (mode_) {
      case Mode::dom:
        if (stack_.size() == 1 && k == "mounts") {
          if (mounts_key_) throw NotPlain{};
          mounts_key_ = pending_mounts_ = true;
        }
        member_ =
            &stack_.back()->get_ref<json::object_t&>().emplace(std::move(k), json()).first->second;
        return true;
      case Mode::entry:
        if (k == "destination")
          field_ = Field::destination;
        else if (k == "type")
          field_ = Field::type;
        else if (k == "source")
          field_ = Field::source;
        else if (k == "options")
          field_ = Field::options;
        else if (k == "uidMappings" || k == "gidMappings")
          throw NotPlain{};
        else {
          mode_ = Mode::skip;  // an unknown member: its value is ignored, as on the DOM path
          skip_depth_ = 0;
          return true;
        }
        if (seen_ & (1u << static_cast<unsigned>(field_))) throw NotPlain{};
        seen_ |= 1u << static_cast<unsigned>(field_);
        return true;
      default:
        return true;  // skip: keys of ignored values
    }
  }

  // The DOM path checks the depth of the whole text before it parses: a text both too deep
  // and malformed gets the depth error there, so it gets it here too.
  bool parse_error(size_t, const std::string&, const json::exception& e) {
    check_depth(text_, name_);
    throw json_error(name_, e);
  }

 private:
  enum class Mode { dom, mounts, entry, options, skip };
  enum class Field : unsigned { destination, type, source, options };

  // An object or array starts: a DOM container, a mounts entry, its options, or more of an
  // ignored value. The JSON parser has checked the brackets match, so close() need not.
  bool open(json::value_t t) {
    if (++depth_ > kMaxDepth) too_deep(name_);
    bool array = t == json::value_t::array;
    switch (mode_) {
      case Mode::dom:
        if (array && pending_mounts_) {
          mode_ = Mode::mounts;
          mounts.entries.reserve(16);
        } else {
          stack_.push_back(place(json(t)));
        }
        pending_mounts_ = false;
        return true;
      case Mode::mounts:
        if (array) throw NotPlain{};
        entry_ = Mount{};
        seen_ = 0;
        mode_ = Mode::entry;
        return true;
      case Mode::entry:
        if (!array || field_ != Field::options) throw NotPlain{};
        mode_ = Mode::options;
        return true;
      case Mode::options:
        throw NotPlain{};
      case Mode::skip:
        skip_depth_++;
        return true;
    }
    return true;
  }
  bool close() {
    depth_--;
    switch (mode_) {
      case Mode::dom:
        stack_.pop_back();
        return true;
      case Mode::mounts:  // the end of the mounts array
        mode_ = Mode::dom;
        mounts_read = true;
        return true;
      case Mode::entry:
        mounts.entries.push_back(std::move(entry_));
        mounts.has_destination.push_back(seen_ & 1u << static_cast<unsigned>(Field::destination));
        mode_ = Mode::mounts;
        return true;
      case Mode::options:
        mode_ = Mode::entry;
        return true;
      case Mode::skip:
        return skip_end();
    }
    return true;
  }
  bool scalar(json&& v) {
    if (mode_ == Mode::skip) return skip_scalar();
    if (mode_ != Mode::dom) throw NotPlain{};
    pending_mounts_ = false;
    place(std::move(v));
    return true;
  }
  bool skip_scalar() {
    if (skip_depth_ == 0) mode_ = Mode::entry;
    return true;
  }
  bool skip_end() {
    if (--skip_depth_ == 0) mode_ = Mode::entry;
    return true;
  }
  std::string& field_str() {
    switch (field_) {
      case Field::type:
        return entry_.type;
      case Field::source:
        return entry_.source;
      default:
        return entry_.destination;
    }
  }
  // Puts a value where the DOM parser would: the root, the next array element, or the
  // member whose key came last (a repeated key keeps its place and takes the last value).
  json* place(json&& v) {
    if (stack_.empty()) {
      doc = std::move(v);
      return &doc;
    }
    json& top = *stack_.back();
    if (top.is_array()) {
      auto& a = top.get_ref<json::array_t&>();
      a.push_back(std::move(v));
      return &a.back();
    }
    *member_ = std::move(v);
    return member_;
  }

  std::string_view text_;
  const std::string& name_;
  std::vector<json*> stack_;
  json* member_ = nullptr;
  Mode mode_ = Mode::dom;
  Field field_ = Field::destination;
  Mount entry_;
  unsigned seen_ = 0;
  int depth_ = 0, skip_depth_ = 0;
  bool mounts_key_ = false, pending_mounts_ = false;
};

}  // namespace

bool oci_version_supported(const std::string& v) {
  unsigned maj = 0, min = 0, pat = 0;
  int n = 0;
  if (std::sscanf(v.c_str(), "%u.%u.%u%n", &maj, &min, &pat, &n) != 3) return false;
  if (v[n] != '\0' && v[n] != '-' && v[n] != '+') return false;
  return maj == 1 && min <= 2;
}

namespace {

// The typed config from its DOM. `mounts` holds the entries ConfigReader read (the DOM's
// "mounts" is then null); without it they are read from the DOM. Either way each entry is
// checked by check_destination and check_mappings, at its place in the order of errors.
Config config_from_json(const json& j, MountEntries* mounts, const std::string& name) {
  Reader r(name);
  r.object(j, "");
  Config c;
  auto* ver = Reader::get(j, "ociVersion");
  if (!ver) r.bad("/ociVersion", "required property is missing");
  c.oci_version = r.str(*ver, "/ociVersion");
  if (!oci_version_supported(c.oci_version))
    r.bad("/ociVersion", "version \"" + c.oci_version + "\" is not supported (nook supports " +
                             kOciVersionMin + " through 1.2.x)");
  auto* root = Reader::get(j, "root");
  if (!root) r.bad("/root", "required property is missing");
  r.object(*root, "/root");
  auto* rp = Reader::get(*root, "path");
  if (!rp) r.bad("/root/path", "required property is missing");
  c.root.path = r.str(*rp, "/root/path");
  if (c.root.path.empty()) r.bad("/root/path", "path is empty");
  if (auto* v = Reader::get(*root, "readonly")) c.root.readonly = r.boolean(*v, "/root/readonly");
  if (auto* v = Reader::get(j, "process")) c.process = parse_process_json(r, *v, "/process");
  if (auto* v = Reader::get(j, "hostname")) c.hostname = r.str(*v, "/hostname");
  if (auto* v = Reader::get(j, "domainname")) c.domainname = r.str(*v, "/domainname");
  if (c.hostname.size() > 64) r.bad("/hostname", "longer than 64 bytes");
  if (c.domainname.size() > 64) r.bad("/domainname", "longer than 64 bytes");
  if (mounts) {
    c.mounts = std::move(mounts->entries);
    for (size_t i = 0; i < c.mounts.size(); i++)
      check_destination(r, i, mounts->has_destination[i], c.mounts[i].destination);
  } else if (auto* v = Reader::get(j, "mounts")) {
    r.array(*v, "/mounts");
    c.mounts.reserve(v->size());
    for (size_t i = 0; i < v->size(); i++) {
      std::string ip = idx("/mounts", i);
      const json& e = (*v)[i];
      r.object(e, ip);
      Mount m;
      auto* d = Reader::get(e, "destination");
      if (d) m.destination = r.str(*d, join(ip, "destination"));
      check_destination(r, i, d != nullptr, m.destination);
      if (auto* x = Reader::get(e, "type")) m.type = r.str(*x, join(ip, "type"));
      if (auto* x = Reader::get(e, "source")) m.source = r.str(*x, join(ip, "source"));
      if (auto* x = Reader::get(e, "options")) m.options = r.strings(*x, join(ip, "options"));
      if (auto* x = Reader::get(e, "uidMappings"))
        m.uid_mappings = parse_mappings(r, *x, join(ip, "uidMappings"));
      if (auto* x = Reader::get(e, "gidMappings"))
        m.gid_mappings = parse_mappings(r, *x, join(ip, "gidMappings"));
      check_mappings(r, ip, m);
      c.mounts.push_back(std::move(m));
    }
  }
  if (auto* v = Reader::get(j, "hooks")) {
    r.object(*v, "/hooks");
    for (auto [key, list] :
         {std::pair{"prestart", &c.hooks.prestart},
          std::pair{"createRuntime", &c.hooks.create_runtime},
          std::pair{"createContainer", &c.hooks.create_container},
          std::pair{"startContainer", &c.hooks.start_container},
          std::pair{"poststart", &c.hooks.poststart}, std::pair{"poststop", &c.hooks.poststop}}) {
      auto* h = Reader::get(*v, key);
      if (!h) continue;
      std::string hp = join("/hooks", key);
      r.array(*h, hp);
      for (size_t i = 0; i < h->size(); i++) list->push_back(parse_hook(r, (*h)[i], idx(hp, i)));
    }
  }
  if (auto* v = Reader::get(j, "annotations")) c.annotations = r.string_map(*v, "/annotations");
  if (auto* v = Reader::get(j, "linux")) {
    c.linux = parse_linux(r, *v, "/linux");
    c.has_linux = true;
  }
  // Setting a hostname outside a UTS namespace of the container's would rename the host
  // (as root) or fail half-way (unprivileged): refuse it up front, as runc does.
  if (!c.linux.find_ns(NsType::uts)) {
    if (!c.hostname.empty())
      r.bad("/hostname", "a hostname needs a uts namespace in linux.namespaces");
    if (!c.domainname.empty())
      r.bad("/domainname", "a domainname needs a uts namespace in linux.namespaces");
  }
  for (auto* key : {"solaris", "windows", "vm", "zos"})
    if (Reader::get(j, key)) r.bad(std::string("/") + key, key_reason(std::string("/") + key));
  return c;
}

}  // namespace

Config parse_config(std::string_view text, const std::string& name, bool* read_by_dom) {
  if (read_by_dom) *read_by_dom = true;
  check_text(text, name);  // no NUL: the SAX pass reads the whole text, as check_depth does
  ConfigReader rd(text, name);
  try {
    json::sax_parse(text, &rd);
  } catch (const NotPlain&) {
    return parse_config_dom(text, name);
  }
  if (read_by_dom)  // a "mounts" that is not an array is in the DOM (for its error)
    *read_by_dom = !rd.mounts_read && rd.doc.is_object() && Reader::get(rd.doc, "mounts");
  return config_from_json(rd.doc, rd.mounts_read ? &rd.mounts : nullptr, name);
}

Config parse_config_dom(std::string_view text, const std::string& name) {
  return config_from_json(parse_json(text, name), nullptr, name);
}

Process parse_process(std::string_view text, const std::string& name) {
  json j = parse_json(text, name);
  Reader r(name);
  return parse_process_json(r, j, "");
}

Config load_bundle_config(const std::string& bundle, std::string* raw, const std::string& file) {
  std::string path = file.empty() ? bundle + "/config.json" : file;
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    int e = errno;
    struct stat st;
    if (::stat(bundle.c_str(), &st) != 0) throw_sys("bundle", bundle, errno);
    if (!S_ISDIR(st.st_mode)) fail("bundle " + bundle + ": not a directory");
    throw_sys("open", path, e);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) throw_sys("fstat", path);
  if (!S_ISREG(st.st_mode)) fail(path + ": not a regular file");
  if (static_cast<size_t>(st.st_size) > kMaxConfigBytes)
    fail(path + ": " + std::to_string(st.st_size) + " bytes is larger than the " +
         std::to_string(kMaxConfigBytes >> 20) + " MiB nook accepts");
  std::string text;
  text.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_sys("read", path);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  Config c = parse_config(text, path);
  if (c.root.path[0] != '/') c.root.path = bundle + "/" + c.root.path;
  if (raw) *raw = std::move(text);
  return c;
}

}  // namespace nook
