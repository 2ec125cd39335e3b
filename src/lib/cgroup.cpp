// cgroups: where a container goes, what linux.resources become, freezing and listing.
//
// The code is in three layers:
//   1. pure functions (path policy, resources -> file writes, /proc parsing), unit-tested;
//   2. the host: which hierarchies are mounted where, read once per process;
//   3. the operations on the file system (mkdir, write, attach, freeze, rmdir).
// Every system call that fails reports the call, the path and errno.
#include "cgroup.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <string_view>
#include <thread>

#include "error.hpp"
#include "fd.hpp"
#include "log.hpp"

namespace nook {
namespace {

using namespace std::string_literals;

// ---------------------------------------------------------------------------------------------
// Small helpers

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos == std::string_view::npos ? s.npos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Lexically cleans an absolute path: collapses "//" and "." and drops a trailing '/'.
// '..' components are refused: a cgroup path must not climb out of its parent.
std::string clean_path(const std::string& p, const std::string& what) {
  std::string out;
  for (auto& c : split(p, '/')) {
    if (c.empty() || c == ".") continue;
    if (c == "..") fail(what + ": \"" + p + "\" must not contain '..'");
    out += '/';
    out += c;
  }
  return out.empty() ? "/" : out;
}

std::string join_path(const std::string& a, const std::string& b) {
  if (b.empty() || b == "/") return a;
  if (a.empty() || a == "/") return b[0] == '/' ? b : "/" + b;
  return a + (b[0] == '/' ? "" : "/") + b;
}

std::string num(int64_t v) {
  return std::to_string(v);
}
std::string unum(uint64_t v) {
  return std::to_string(v);
}

std::string device_id(int64_t major, int64_t minor) {
  return num(major) + ":" + num(minor);
}

// Reads a small file whole. Returns nullopt and sets errno on failure.
std::optional<std::string> read_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string read_file_or_throw(const std::string& path) {
  auto s = read_file(path);
  if (!s) throw_sys("read", path);
  return *s;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// `value` to an open cgroup file with one write(2), as cgroup files want. 0 or an errno.
int write_value(int fd, std::string_view value) {
  ssize_t n;
  do {
    n = ::write(fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  return n < 0 ? errno : 0;
}

// Writes `value` to the cgroup file `path`. Returns 0 or an errno.
int write_file(const std::string& path, std::string_view value) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return errno;
  return write_value(fd.get(), value);
}

void write_or_throw(const std::string& path, std::string_view value) {
  if (int e = write_file(path, value))
    throw Error(sys_message("write \"" + std::string(value) + "\" to", path, e), e);
}

bool is_permission_error(int e) {
  return e == EACCES || e == EPERM || e == EROFS;
}

bool exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

using Clock = std::chrono::steady_clock;

long micros_since(Clock::time_point t0) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count());
}

// ---------------------------------------------------------------------------------------------
// Resources -> writes (pure)

// runc's conversions (libcontainer/cgroups/utils.go), so that a config means the same here.
uint64_t shares_to_weight(uint64_t shares) {
  if (shares == 0) return 0;
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t blkio_weight_to_io_weight(uint64_t w) {
  if (w == 0) return 0;
  return 1 + (w - 10) * 9999 / 990;
}

std::string limit_v1(int64_t v) {
  return v < 0 ? "-1" : num(v);
}
std::string limit_v2(int64_t v) {
  return v < 0 ? "max" : num(v);
}

class Planner {
 public:
  Planner(const CgroupLayout& l, bool strict) : layout_(l), strict_(strict) {}

  // Which version serves `controller`: v1 when it is mounted as v1 (hybrid hosts keep the
  // real controllers there), else v2 when offered there. nullopt: nowhere (reported).
  std::optional<bool> where(const std::string& controller, const std::string& what) {
    if (layout_.v1.count(controller)) return false;
    if (layout_.v2.count(controller)) return true;
    std::string why = "linux.resources." + what + ": no " + controller +
                      " controller on this host (neither a cgroup v1 hierarchy nor in cgroup v2)";
    if (strict_) fail(why);
    ignore(why);
    return std::nullopt;
  }

  void add(bool v2, const std::string& controller, std::string file, std::string value,
           std::string alt_file = {}, std::string alt_value = {}, bool best_effort = false) {
    CgroupWrite w{v2,
                  controller,
                  std::move(file),
                  std::move(value),
                  std::move(alt_file),
                  std::move(alt_value),
                  best_effort};
    (v2 ? plan_.v2_needed : plan_.v1_needed).insert(controller);
    if (v2 && controller.empty()) plan_.v2_needed.erase(controller);
    plan_.writes.push_back(std::move(w));
  }

  void ignore(std::string msg) { plan_.ignored.push_back(std::move(msg)); }

  CgroupPlan take() { return std::move(plan_); }

  const CgroupLayout& layout() const { return layout_; }
  bool strict() const { return strict_; }

 private:
  const CgroupLayout& layout_;
  bool strict_;
  CgroupPlan plan_;
};

void plan_memory(Planner& p, const Resources::Memory& m) {
  bool any = m.limit || m.reservation || (m.swap && *m.swap != 0) || m.kernel_tcp || m.swappiness ||
             m.disable_oom_killer || m.use_hierarchy;
  if (m.kernel)
    p.ignore(
        "linux.resources.memory.kernel: kernel memory limits are deprecated "
        "and not set (as runc)");
  if (!any) return;
  auto v2 = p.where("memory", "memory");
  if (!v2) return;
  // OCI "swap" is memory+swap, as cgroup v1's memsw; 0 means unset (runc).
  std::optional<int64_t> swap = m.swap && *m.swap != 0 ? m.swap : std::nullopt;
  if (swap && *swap > 0 && m.limit && *m.limit > 0 && *swap < *m.limit)
    fail("linux.resources.memory: swap (memory+swap, " + num(*swap) +
         ") must not be below limit (" + num(*m.limit) + ")");
  if (!*v2) {
    if (m.limit) p.add(false, "memory", "memory.limit_in_bytes", limit_v1(*m.limit));
    if (swap) p.add(false, "memory", "memory.memsw.limit_in_bytes", limit_v1(*swap));
    if (m.reservation)
      p.add(false, "memory", "memory.soft_limit_in_bytes", limit_v1(*m.reservation));
    if (m.kernel_tcp)
      p.add(false, "memory", "memory.kmem.tcp.limit_in_bytes", limit_v1(*m.kernel_tcp));
    if (m.swappiness) p.add(false, "memory", "memory.swappiness", unum(*m.swappiness));
    if (m.disable_oom_killer)
      p.add(false, "memory", "memory.oom_control", *m.disable_oom_killer ? "1" : "0");
    if (m.use_hierarchy && *m.use_hierarchy) p.add(false, "memory", "memory.use_hierarchy", "1");
    return;
  }
  if (m.limit) p.add(true, "memory", "memory.max", limit_v2(*m.limit));
  if (m.reservation) p.add(true, "memory", "memory.low", limit_v2(*m.reservation));
  if (swap) {
    int64_t limit = m.limit.value_or(-1);
    if (*swap < 0) {
      p.add(true, "memory", "memory.swap.max", "max");
    } else if (limit <= 0) {
      fail("linux.resources.memory.swap: a swap limit needs a memory limit on cgroup v2");
    } else {
      p.add(true, "memory", "memory.swap.max", num(*swap - limit));
    }
  } else if (m.limit && *m.limit < 0) {
    // runc: unlimited memory without a swap value means unlimited swap too.
    p.add(true, "memory", "memory.swap.max", "max");
  }
  if (m.kernel_tcp) p.ignore("linux.resources.memory.kernelTCP: not available on cgroup v2");
  if (m.swappiness) p.ignore("linux.resources.memory.swappiness: not available on cgroup v2");
  if (m.disable_oom_killer && *m.disable_oom_killer)
    p.ignore("linux.resources.memory.disableOOMKiller: not available on cgroup v2");
}

void plan_cpu(Planner& p, const Resources::Cpu& c) {
  bool cpu_any = (c.shares && *c.shares) || c.quota || (c.period && *c.period) || c.burst ||
                 c.realtime_period || c.realtime_runtime || c.idle;
  if (cpu_any) {
    if (auto v2 = p.where("cpu", "cpu")) {
      if (!*v2) {
        if (c.shares && *c.shares) p.add(false, "cpu", "cpu.shares", unum(*c.shares));
        if (c.period && *c.period) p.add(false, "cpu", "cpu.cfs_period_us", unum(*c.period));
        if (c.quota) p.add(false, "cpu", "cpu.cfs_quota_us", limit_v1(*c.quota));
        if (c.burst) p.add(false, "cpu", "cpu.cfs_burst_us", num(*c.burst));
        if (c.realtime_period) p.add(false, "cpu", "cpu.rt_period_us", unum(*c.realtime_period));
        if (c.realtime_runtime) p.add(false, "cpu", "cpu.rt_runtime_us", num(*c.realtime_runtime));
        if (c.idle) p.add(false, "cpu", "cpu.idle", num(*c.idle));
      } else {
        if (c.shares && *c.shares)
          p.add(true, "cpu", "cpu.weight", unum(shares_to_weight(*c.shares)));
        if (c.quota || (c.period && *c.period)) {
          std::string v = c.quota && *c.quota > 0 ? num(*c.quota) : "max";
          if (c.period && *c.period) v += " " + unum(*c.period);
          p.add(true, "cpu", "cpu.max", v);
        }
        if (c.burst) p.add(true, "cpu", "cpu.max.burst", num(*c.burst));
        if (c.idle) p.add(true, "cpu", "cpu.idle", num(*c.idle));
        if (c.realtime_period || c.realtime_runtime)
          p.ignore(
              "linux.resources.cpu.realtimePeriod/realtimeRuntime: not available on "
              "cgroup v2");
      }
    }
  }
  if (!c.cpus.empty() || !c.mems.empty()) {
    if (auto v2 = p.where("cpuset", "cpu.cpus/mems")) {
      if (!c.cpus.empty()) p.add(*v2, "cpuset", "cpuset.cpus", c.cpus);
      if (!c.mems.empty()) p.add(*v2, "cpuset", "cpuset.mems", c.mems);
    }
  }
}

void plan_block_io(Planner& p, const Resources::BlockIo& b) {
  bool any = (b.weight && *b.weight) || !b.weight_device.empty() || !b.throttle_read_bps.empty() ||
             !b.throttle_write_bps.empty() || !b.throttle_read_iops.empty() ||
             !b.throttle_write_iops.empty();
  if (b.leaf_weight)
    p.ignore("linux.resources.blockIO.leafWeight: needs the CFQ scheduler, gone since Linux 5.0");
  if (!any) return;
  auto v2 = p.where(p.layout().v1.count("blkio") ? "blkio" : "io", "blockIO");
  if (!v2) return;
  if (!*v2) {
    // BFQ kernels name the weight files blkio.bfq.*; CFQ ones blkio.*.
    if (b.weight && *b.weight)
      p.add(false, "blkio", "blkio.weight", unum(*b.weight), "blkio.bfq.weight", unum(*b.weight));
    for (auto& d : b.weight_device) {
      if (d.leaf_weight)
        p.ignore("linux.resources.blockIO.weightDevice.leafWeight: needs CFQ, gone since 5.0");
      if (!d.weight) continue;
      std::string v = device_id(d.major, d.minor) + " " + unum(*d.weight);
      p.add(false, "blkio", "blkio.weight_device", v, "blkio.bfq.weight_device", v);
    }
    auto throttle = [&](const std::vector<BlockIoDevice>& list, const char* file) {
      for (auto& d : list)
        p.add(false, "blkio", file, device_id(d.major, d.minor) + " " + unum(d.rate));
    };
    throttle(b.throttle_read_bps, "blkio.throttle.read_bps_device");
    throttle(b.throttle_write_bps, "blkio.throttle.write_bps_device");
    throttle(b.throttle_read_iops, "blkio.throttle.read_iops_device");
    throttle(b.throttle_write_iops, "blkio.throttle.write_iops_device");
    return;
  }
  if (b.weight && *b.weight)
    p.add(true, "io", "io.bfq.weight", "default " + unum(*b.weight), "io.weight",
          "default " + unum(blkio_weight_to_io_weight(*b.weight)));
  for (auto& d : b.weight_device) {
    if (!d.weight) continue;
    std::string id = device_id(d.major, d.minor);
    p.add(true, "io", "io.bfq.weight", id + " " + unum(*d.weight), "io.weight",
          id + " " + unum(blkio_weight_to_io_weight(*d.weight)));
  }
  auto throttle = [&](const std::vector<BlockIoDevice>& list, const char* key) {
    for (auto& d : list)
      p.add(true, "io", "io.max", device_id(d.major, d.minor) + " " + key + "=" + unum(d.rate));
  };
  throttle(b.throttle_read_bps, "rbps");
  throttle(b.throttle_write_bps, "wbps");
  throttle(b.throttle_read_iops, "riops");
  throttle(b.throttle_write_iops, "wiops");
}

void plan_hugepages(Planner& p, const std::vector<Resources::HugepageLimit>& list) {
  if (list.empty()) return;
  auto v2 = p.where("hugetlb", "hugepageLimits");
  if (!v2) return;
  for (auto& h : list) {
    if (h.page_size.empty() || h.page_size.find('/') != std::string::npos)
      fail("linux.resources.hugepageLimits: bad pageSize \"" + h.page_size + "\"");
    p.add(*v2, "hugetlb", "hugetlb." + h.page_size + (*v2 ? ".max" : ".limit_in_bytes"),
          unum(h.limit));
  }
}

void plan_unified(Planner& p, const std::map<std::string, std::string>& unified) {
  if (unified.empty()) return;
  if (!p.layout().v2_mounted) {
    std::string why = "linux.resources.unified: needs cgroup v2, which is not mounted";
    if (p.strict()) fail(why);
    p.ignore(why);
    return;
  }
  for (auto& [key, value] : unified) {
    auto dot = key.find('.');
    if (key.find('/') != std::string::npos || dot == std::string::npos || dot == 0 ||
        key == "cgroup.procs" || key == "cgroup.threads" || key == "cgroup.subtree_control")
      fail("linux.resources.unified: \"" + key + "\" is not a cgroup v2 file nook may set");
    std::string controller = key.substr(0, dot);
    if (controller == "cgroup") {
      p.add(true, "", key, value);
      continue;
    }
    if (!p.layout().v2.count(controller)) {
      std::string why = "linux.resources.unified: \"" + key + "\": the " + controller +
                        " controller is not available in cgroup v2" +
                        (p.layout().v1.count(controller) ? " (this host has it on cgroup v1)" : "");
      if (p.strict()) fail(why);
      p.ignore(why);
      continue;
    }
    p.add(true, controller, key, value);
  }
}

// v1 device cgroup rules: the config's rules in order, then the devices every container
// gets (runc's AllowedDevices), then linux.devices. Best effort: see docs/cgroups.md.
void plan_devices(Planner& p, const std::vector<DeviceRule>& rules,
                  const std::vector<Device>& devices) {
  if (rules.empty()) return;
  if (!p.layout().v1.count("devices")) return;  // v2 needs eBPF; see docs/cgroups.md
  auto id = [](const std::optional<int64_t>& v) {
    return v && *v >= 0 ? num(*v) : std::string("*");
  };
  auto rule = [&](bool allow, const std::string& type, const std::string& major,
                  const std::string& minor, const std::string& access) {
    std::string t = type.empty() ? "a" : type;
    p.add(false, "devices", allow ? "devices.allow" : "devices.deny",
          t + " " + major + ":" + minor + " " + (access.empty() ? "rwm" : access), {}, {}, true);
  };
  for (auto& r : rules) rule(r.allow, r.type, id(r.major), id(r.minor), r.access);
  static const struct {
    const char* type;
    const char* major;
    const char* minor;
    const char* access;
  } kDefaults[] = {
      {"c", "*", "*", "m"},   {"b", "*", "*", "m"},      {"c", "1", "3", "rwm"},
      {"c", "1", "8", "rwm"}, {"c", "1", "7", "rwm"},    {"c", "5", "0", "rwm"},
      {"c", "1", "5", "rwm"}, {"c", "1", "9", "rwm"},    {"c", "136", "*", "rwm"},
      {"c", "5", "2", "rwm"}, {"c", "10", "200", "rwm"},
  };
  for (auto& d : kDefaults) rule(true, d.type, d.major, d.minor, d.access);
  for (auto& d : devices) {
    if (d.type != "c" && d.type != "b" && d.type != "u") continue;  // fifos need no rule
    rule(true, d.type == "u" ? "c" : d.type, num(d.major), num(d.minor), "rwm");
  }
}

// ---------------------------------------------------------------------------------------------
// The host: cgroup mounts and our own cgroups, read once.

const std::set<std::string_view> kV1Controllers = {
    "cpuset",  "cpu",        "cpuacct",  "blkio",   "memory", "devices", "freezer",
    "net_cls", "perf_event", "net_prio", "hugetlb", "pids",   "rdma",    "misc"};

std::string unescape_mountinfo(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '\\' && i + 3 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

struct Host {
  std::vector<CgroupMount> v1;
  std::optional<CgroupMount> v2;
  std::map<std::string, std::string> own;  // "cpu,cpuacct" / "" -> path of this process

  // The v1 mount holding `controller`, or nullptr.
  const CgroupMount* v1_for(const std::string& controller) const {
    for (auto& m : v1)
      if (std::find(m.controllers.begin(), m.controllers.end(), controller) != m.controllers.end())
        return &m;
    return nullptr;
  }
  std::string own_path(const CgroupMount& m) const {
    std::string key;
    for (auto& c : m.controllers) key += (key.empty() ? "" : ",") + c;
    auto it = own.find(m.v2 ? "" : key);
    return it == own.end() ? "/" : it->second;
  }
};

bool is_fs(const std::string& path, long magic) {
  struct statfs st;
  return ::statfs(path.c_str(), &st) == 0 && static_cast<long>(st.f_type) == magic;
}

// The fast way: the standard layout (/sys/fs/cgroup as cgroup2, or a tmpfs with one directory
// per v1 hierarchy named after its controllers and cgroup2 in "unified"), checked with statfs,
// and /proc/self/cgroup. Reading /proc/self/mountinfo costs ~150 us of kernel time here, more
// than everything else nook does for cgroups when there are no resources.
// nullopt when the layout is not the standard one; then mountinfo decides.
std::optional<Host> host_fast(const std::vector<std::pair<std::string, std::string>>& own) {
  constexpr long kCgroup2 = 0x63677270;  // CGROUP2_SUPER_MAGIC
  constexpr long kCgroup1 = 0x27e0eb;    // CGROUP_SUPER_MAGIC
  Host h;
  for (auto& [k, v] : own) h.own[k] = v;
  // A mount of a sub-tree (a container without a cgroup namespace) shows our own cgroup
  // path below its root, so our directory would not exist where the fast way looks.
  auto own_visible = [&](const std::string& mp, const std::string& key) {
    auto it = h.own.find(key);
    return it == h.own.end() || it->second == "/" || exists(mp + it->second);
  };
  CgroupMount v2;
  v2.v2 = true;
  v2.root = "/";
  if (is_fs("/sys/fs/cgroup", kCgroup2)) {
    v2.mountpoint = "/sys/fs/cgroup";
    if (!own_visible(v2.mountpoint, "")) return std::nullopt;
    h.v2 = v2;
    return h;
  }
  if (is_fs("/sys/fs/cgroup/unified", kCgroup2)) {
    v2.mountpoint = "/sys/fs/cgroup/unified";
    if (!own_visible(v2.mountpoint, "")) return std::nullopt;
    h.v2 = v2;
  }
  if (geteuid() != 0) return h;  // cgroup v1 is never used unprivileged
  for (auto& [key, path] : own) {
    if (key.empty()) continue;
    CgroupMount m;
    m.root = "/";
    m.controllers = split(key, ',');
    std::string name = key.rfind("name=", 0) == 0 ? key.substr(5) : key;
    m.mountpoint = "/sys/fs/cgroup/" + name;
    if (!is_fs(m.mountpoint, kCgroup1) || !own_visible(m.mountpoint, key)) return std::nullopt;
    h.v1.push_back(m);
  }
  return h;
}

const Host& host() {
  static const Host h = [] {
    std::vector<std::pair<std::string, std::string>> own;
    if (auto s = read_file("/proc/self/cgroup")) own = cgroup_parse_proc(*s);
    if (auto fast = host_fast(own)) return *fast;
    Host h;
    for (auto& m : cgroup_parse_mountinfo(read_file_or_throw("/proc/self/mountinfo"))) {
      if (m.v2) {
        if (!h.v2) h.v2 = m;
      } else {
        h.v1.push_back(m);
      }
    }
    for (auto& [k, v] : own) h.own[k] = v;
    return h;
  }();
  return h;
}

// ---------------------------------------------------------------------------------------------
// File-system operations

// A directory nook is about to use: the hierarchy it belongs to and what it needs.
struct Target {
  const CgroupMount* mount;
  std::string dir;
};

// mkdir -p for a cgroup directory `rel` below `base` (an existing directory). For cpuset v1,
// every new directory gets its parent's cpus/mems (a new cpuset is empty, and nothing can
// join an empty cpuset). Returns whether the leaf was created (false: it existed).
// `created` collects new directories, parents first.
bool make_cgroup_dir(const std::string& base, const std::string& rel, bool cpuset_v1,
                     std::vector<std::string>& created) {
  std::string dir = base;
  auto parts = split(rel, '/');
  parts.erase(std::remove(parts.begin(), parts.end(), ""), parts.end());
  bool leaf_created = false;
  for (size_t i = 0; i < parts.size(); i++) {
    std::string parent = dir;
    dir += "/" + parts[i];
    if (::mkdir(dir.c_str(), 0755) < 0) {
      if (errno != EEXIST) throw_sys("mkdir", dir);
      leaf_created = false;
      continue;
    }
    created.push_back(dir);
    leaf_created = true;
    if (cpuset_v1) {
      for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
        std::string mine = dir + "/" + f;
        if (!trim(read_file_or_throw(mine)).empty()) continue;
        write_or_throw(mine, trim(read_file_or_throw(parent + "/" + f)));
      }
    }
  }
  return leaf_created;
}

// cgroup v2: enables `controllers` in cgroup.subtree_control of `base` and of every directory
// between it and the leaf `rel`, so that the leaf has their interface files. Only missing
// ones are written (each write costs a tree walk in the kernel).
void enable_v2_controllers(const std::string& base, const std::string& rel,
                           const std::set<std::string>& controllers) {
  if (controllers.empty()) return;
  auto parts = split(rel, '/');
  parts.erase(std::remove(parts.begin(), parts.end(), ""), parts.end());
  std::string dir = base;
  for (size_t i = 0; i < parts.size(); i++) {
    std::string sc = dir + "/cgroup.subtree_control";
    auto enabled = split(trim(read_file_or_throw(sc)), ' ');
    std::string add;
    for (auto& c : controllers)
      if (std::find(enabled.begin(), enabled.end(), c) == enabled.end())
        add += (add.empty() ? "+" : " +") + c;
    if (!add.empty()) {
      if (int e = write_file(sc, add))
        throw Error(sys_message("write \"" + add + "\" to", sc, e) +
                        (e == EBUSY ? " (the cgroup holds processes, so its children may not "
                                      "have controllers)"
                                    : std::string()),
                    e);
    }
    dir += "/" + parts[i];
  }
}

// The file a plan wrote last, kept open: consecutive writes to one file (the dozen device
// rules of a default config go to devices.allow) reuse it; each write(2) is its own rule.
struct LastFile {
  std::string path;
  Fd fd;
  int write(const std::string& p, std::string_view value) {
    if (!fd || p != path) {
      path.clear();
      fd.reset(::open(p.c_str(), O_WRONLY | O_CLOEXEC));
      if (!fd) return errno;
      path = p;
    }
    return write_value(fd.get(), value);
  }
};

// Writes one planned value. A failing best-effort write is returned as a message, not thrown.
std::optional<std::string> apply_write(const std::string& dir, const CgroupWrite& w,
                                       LastFile& last) {
  std::string path = dir + "/" + w.file;
  const std::string* value = &w.value;
  int e = last.write(path, *value);
  if (e == ENOENT && !w.alt_file.empty()) {
    path = dir + "/" + w.alt_file;
    value = &w.alt_value;
    e = write_file(path, *value);
    if (e == ENOENT)
      fail("write \"" + w.value + "\" to " + dir + "/" + w.file + " (or " + w.alt_file +
           "): no such file: this kernel's I/O scheduler does not support weights");
  }
  if (!e) return std::nullopt;
  std::string msg = sys_message("write \"" + *value + "\" to", path, e);
  if (e == ENOENT) msg += " (this kernel has no " + w.file + ")";
  if (w.best_effort) return msg;
  throw Error(msg, e);
}

// Applies a plan; best-effort failures (device rules) become one warning.
template <typename DirOf>
void apply_plan(const CgroupPlan& plan, DirOf dir_of) {
  std::vector<std::string> failed;
  LastFile last;
  for (auto& w : plan.writes)
    if (auto m = apply_write(dir_of(w), w, last)) failed.push_back(*m);
  if (!failed.empty())
    log::warn(std::to_string(failed.size()) +
              " device cgroup rule(s) not applied, first: " + failed.front());
}

void attach(const std::string& dir, pid_t pid) {
  std::string procs = dir + "/cgroup.procs";
  if (int e = write_file(procs, std::to_string(pid)))
    throw Error(sys_message("write pid " + std::to_string(pid) + " to", procs, e), e);
}

// Removes `dir` and whatever sub-cgroups the container created in it, deepest first.
// EBUSY (processes still leaving) is retried for about a second.
int remove_tree(const std::string& dir) {
  if (DIR* d = ::opendir(dir.c_str())) {
    std::vector<std::string> subs;
    while (dirent* e = ::readdir(d))
      if (e->d_type == DT_DIR && std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, ".."))
        subs.push_back(dir + "/" + e->d_name);
    ::closedir(d);
    for (auto& s : subs)
      if (int e = remove_tree(s)) return e;
  } else if (errno == ENOENT) {
    return 0;
  }
  auto delay = std::chrono::microseconds(200);
  auto deadline = Clock::now() + std::chrono::seconds(1);
  while (::rmdir(dir.c_str()) < 0) {
    if (errno == ENOENT) return 0;
    if (errno != EBUSY || Clock::now() > deadline) return errno;
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::microseconds(50000));
  }
  return 0;
}

void collect_pids(const std::string& dir, std::vector<pid_t>& out) {
  auto s = read_file(dir + "/cgroup.procs");
  if (!s) {
    if (errno == ENOENT) return;
    throw_sys("read", dir + "/cgroup.procs");
  }
  for (auto& line : split(*s, '\n'))
    if (!line.empty()) out.push_back(static_cast<pid_t>(std::stol(line)));
  if (DIR* d = ::opendir(dir.c_str())) {
    std::vector<std::string> subs;
    while (dirent* e = ::readdir(d))
      if (e->d_type == DT_DIR && std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, ".."))
        subs.push_back(dir + "/" + e->d_name);
    ::closedir(d);
    for (auto& s : subs) collect_pids(s, out);
  }
}

// The directory used to freeze: the v1 freezer if the placement has one, else v2.
struct Freezer {
  std::string dir;
  bool v2 = false;
};

// cgroup v2's cgroup.freeze when there is one (cheap, and frozen tasks can still be killed);
// else the v1 freezer.
std::optional<Freezer> freezer_of(const CgroupPlacement& p) {
  if (!p.v2.empty() && exists(p.v2 + "/cgroup.freeze")) return Freezer{p.v2, true};
  for (auto& d : p.v1)
    if (exists(d + "/freezer.state")) return Freezer{d, false};
  return std::nullopt;
}

[[noreturn]] void no_cgroup(const std::string& what, const std::string& id) {
  std::string who = id.empty() ? "the container" : "container " + id;
  if (geteuid() != 0)
    fail(what + " needs a cgroup; " + who + " has none (unprivileged, no delegated cgroup v2)");
  fail(what + " needs a cgroup; " + who + " has none (no writable cgroup when it was created)");
}

// cgroup.events "frozen 0|1", or nullopt if the cgroup is gone.
std::optional<bool> v2_frozen(const std::string& dir) {
  auto s = read_file(dir + "/cgroup.events");
  if (!s) {
    if (errno == ENOENT) return std::nullopt;
    throw_sys("read", dir + "/cgroup.events");
  }
  for (auto& line : split(*s, '\n'))
    if (line.rfind("frozen ", 0) == 0) return line == "frozen 1";
  fail(dir + "/cgroup.events has no \"frozen\" line (kernel older than 5.2?)");
}

constexpr auto kFreezeTimeout = std::chrono::seconds(10);

void freeze_v2(const std::string& dir, bool freeze) {
  write_or_throw(dir + "/cgroup.freeze", freeze ? "1" : "0");
  // The kernel notifies changes of cgroup.events with POLLPRI; wait on it, but re-read on a
  // short timer too, in case the notification comes before we poll.
  Fd fd(::open((dir + "/cgroup.events").c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_sys("open", dir + "/cgroup.events");
  auto deadline = Clock::now() + kFreezeTimeout;
  while (true) {
    auto f = v2_frozen(dir);
    if (!f || *f == freeze) return;
    if (Clock::now() > deadline) {
      if (freeze) write_file(dir + "/cgroup.freeze", "0");
      fail(std::string("timed out after 10s waiting for ") + dir + " to " +
           (freeze ? "freeze" : "thaw"));
    }
    pollfd pfd{fd.get(), POLLPRI, 0};
    ::poll(&pfd, 1, 10);
  }
}

void freeze_v1(const std::string& dir, bool freeze) {
  std::string state = dir + "/freezer.state";
  const char* want = freeze ? "FROZEN" : "THAWED";
  auto deadline = Clock::now() + kFreezeTimeout;
  auto delay = std::chrono::microseconds(10);
  while (true) {
    // Writing FROZEN again makes the kernel retry tasks that could not be frozen yet
    // (FREEZING: e.g. in an uninterruptible sleep).
    write_or_throw(state, want);
    auto s = read_file(state);
    if (!s) {
      if (errno == ENOENT) return;
      throw_sys("read", state);
    }
    if (trim(*s) == want) return;
    if (Clock::now() > deadline) {
      if (freeze) write_file(state, "THAWED");
      fail("timed out after 10s waiting for " + state + " to become " + want + " (it is " +
           trim(*s) + ")");
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::microseconds(10000));
  }
}

}  // namespace

// =============================================================================================
// Pure parts

std::string cgroup_systemd_path(const std::string& spec, const std::string& id) {
  auto bad = [&](const std::string& why) -> std::string {
    fail("linux.cgroupsPath: \"" + spec + "\": " + why +
         " (--systemd-cgroup wants \"slice:prefix:name\")");
  };
  auto parts = split(spec, ':');
  if (parts.size() != 3) bad("not of the form slice:prefix:name");
  std::string slice = parts[0], prefix = parts[1], name = parts[2];
  if (name.empty()) name = id;
  for (auto* s : {&slice, &prefix, &name})
    if (s->find('/') != std::string::npos) bad("must not contain '/'");
  // Expand the slice like systemd: "a-b-c.slice" lives in /a.slice/a-b.slice/a-b-c.slice.
  std::string path;
  if (!slice.empty() && slice != "-.slice") {
    if (!ends_with(slice, ".slice")) bad("the slice must end in \".slice\"");
    std::string stem = slice.substr(0, slice.size() - 6);
    if (stem.empty() || stem.front() == '-' || stem.back() == '-' ||
        stem.find("--") != std::string::npos)
      bad("bad slice name \"" + slice + "\"");
    std::string prefix_so_far;
    for (auto& part : split(stem, '-')) {
      prefix_so_far += (prefix_so_far.empty() ? "" : "-") + part;
      path += "/" + prefix_so_far + ".slice";
    }
  }
  std::string unit;
  if (ends_with(name, ".slice"))
    unit = name;  // runc: a name that is a slice is used as it is
  else
    unit = (prefix.empty() ? "" : prefix + "-") + name + ".scope";
  return path + "/" + unit;
}

std::string cgroup_path_for(const std::string& id, const std::string& cgroups_path, bool systemd,
                            const std::string& parent) {
  if (systemd) {
    std::string spec = cgroups_path.empty() ? "system.slice:nook:" + id : cgroups_path;
    if (!spec.empty() && spec[0] == '/')
      fail("linux.cgroupsPath: \"" + spec +
           "\": with --systemd-cgroup it must be \"slice:prefix:name\", not a path");
    return cgroup_systemd_path(spec, id);
  }
  if (cgroups_path.empty()) return clean_path(parent + "/" + id, "container id");
  if (cgroups_path[0] == '/') return clean_path(cgroups_path, "linux.cgroupsPath");
  return clean_path(parent + "/" + clean_path(cgroups_path, "linux.cgroupsPath"),
                    "linux.cgroupsPath");
}

bool cgroup_resources_requested(const Resources& r) {
  if (r.pids_limit || !r.hugepage_limits.empty() || r.has_network || r.has_rdma ||
      !r.unified.empty())
    return true;
  if (r.memory) {
    auto& m = *r.memory;
    if (m.limit || m.reservation || m.swap || m.kernel || m.kernel_tcp || m.swappiness ||
        m.disable_oom_killer)
      return true;
  }
  if (r.cpu) {
    auto& c = *r.cpu;
    if (c.shares || c.quota || c.period || c.burst || c.realtime_period || c.realtime_runtime ||
        c.idle || !c.cpus.empty() || !c.mems.empty())
      return true;
  }
  if (r.block_io) {
    auto& b = *r.block_io;
    if (b.weight || b.leaf_weight || !b.weight_device.empty() || !b.throttle_read_bps.empty() ||
        !b.throttle_write_bps.empty() || !b.throttle_read_iops.empty() ||
        !b.throttle_write_iops.empty())
      return true;
  }
  return false;
}

CgroupPlan cgroup_plan(const Resources& r, const std::vector<Device>& devices,
                       const CgroupLayout& layout, bool strict) {
  Planner p(layout, strict);
  if (r.memory) plan_memory(p, *r.memory);
  if (r.cpu) plan_cpu(p, *r.cpu);
  if (r.pids_limit) {
    if (auto v2 = p.where("pids", "pids"))
      p.add(*v2, "pids", "pids.max", *r.pids_limit > 0 ? num(*r.pids_limit) : "max");
  }
  if (r.block_io) plan_block_io(p, *r.block_io);
  plan_hugepages(p, r.hugepage_limits);
  if (r.has_network)
    p.ignore("linux.resources.network: net_cls/net_prio are not supported by nook");
  if (r.has_rdma) p.ignore("linux.resources.rdma: not supported by nook");
  plan_unified(p, r.unified);
  plan_devices(p, r.devices, devices);
  return p.take();
}

std::vector<CgroupMount> cgroup_parse_mountinfo(const std::string& text) {
  std::vector<CgroupMount> out;
  for (auto& line : split(text, '\n')) {
    // id parent maj:min root mountpoint options [optional...] - fstype source superoptions
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    auto left = split(line.substr(0, dash), ' ');
    auto right = split(line.substr(dash + 3), ' ');
    if (left.size() < 6 || right.size() < 3) continue;
    CgroupMount m;
    if (right[0] == "cgroup2") {
      m.v2 = true;
    } else if (right[0] != "cgroup") {
      continue;
    }
    m.root = unescape_mountinfo(left[3]);
    m.mountpoint = unescape_mountinfo(left[4]);
    if (!m.v2) {
      for (auto& o : split(right[2], ','))
        if (kV1Controllers.count(o) || o.rfind("name=", 0) == 0) m.controllers.push_back(o);
      if (m.controllers.empty()) continue;
    }
    bool dup = std::any_of(out.begin(), out.end(), [&](const CgroupMount& o) {
      return o.v2 == m.v2 && o.controllers == m.controllers;
    });
    if (!dup) out.push_back(std::move(m));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> cgroup_parse_proc(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& line : split(text, '\n')) {
    auto a = line.find(':');
    if (a == std::string::npos) continue;
    auto b = line.find(':', a + 1);
    if (b == std::string::npos) continue;
    std::string path = line.substr(b + 1);
    // A cgroup deleted under us shows as "/x (deleted)"; treat it as its parent would be
    // wrong, so keep the text minus the marker.
    if (ends_with(path, " (deleted)")) path.resize(path.size() - 10);
    out.emplace_back(line.substr(a + 1, b - a - 1), path);
  }
  return out;
}

std::string cgroup_dir(const CgroupMount& m, const std::string& path) {
  // A mount of a sub-tree (container without a cgroup namespace: root "/docker/ID") shows
  // paths below its root; strip that root when the path is inside it.
  std::string rel = path;
  if (m.root != "/" && (path == m.root || path.rfind(m.root + "/", 0) == 0))
    rel = path.substr(m.root.size());
  return join_path(m.mountpoint, rel);
}

// =============================================================================================
// Operations

namespace {

void warn_no_cgroup(const Linux& linux, const std::string& why) {
  bool asked = (linux.resources && cgroup_resources_requested(*linux.resources)) ||
               !linux.cgroups_path.empty();
  std::string msg = "linux.resources ignored: no writable cgroup for uid " +
                    std::to_string(geteuid()) + " (" + why + ")";
  if (asked)
    log::warn(msg);
  else
    log::debug(msg);
}

// Rolls back the directories made so far if cgroup_enter fails half-way.
struct Created {
  std::vector<std::string> dirs;
  bool keep = false;
  ~Created() {
    if (keep) return;
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) ::rmdir(it->c_str());
  }
};

CgroupPlacement prepare_unprivileged(const std::string& id, const Linux& linux, bool systemd,
                                     const Resources& res) {
  const Host& h = host();
  if (!h.v2) {
    warn_no_cgroup(linux, "cgroup v2 is not mounted; cgroup v1 is never delegated");
    return {};
  }
  std::string own = h.own_path(*h.v2);
  std::string own_dir = cgroup_dir(*h.v2, own);
  if (::faccessat(AT_FDCWD, own_dir.c_str(), W_OK, AT_EACCESS) < 0 ||
      ::faccessat(AT_FDCWD, (own_dir + "/cgroup.procs").c_str(), W_OK, AT_EACCESS) < 0) {
    warn_no_cgroup(linux, "own cgroup v2 " + own + " is not delegated to it");
    return {};
  }
  std::string path = cgroup_path_for(id, linux.cgroups_path, systemd, join_path(own, "nook"));
  std::string dir = cgroup_dir(*h.v2, path);

  // Controllers the delegation offers: the own cgroup's cgroup.controllers.
  CgroupLayout layout;
  layout.v2_mounted = true;
  if (auto s = read_file(own_dir + "/cgroup.controllers"))
    for (auto& c : split(trim(*s), ' '))
      if (!c.empty()) layout.v2.insert(c);
  CgroupPlan plan = cgroup_plan(res, linux.devices, layout, /*strict=*/false);
  for (auto& m : plan.ignored) log::warn(m);

  // Directories from the own cgroup down (relative paths) or from the root (absolute ones).
  bool below_own = path.rfind(own == "/" ? "/" : own + "/", 0) == 0;
  std::string base = below_own ? own_dir : h.v2->mountpoint;
  std::string rel =
      below_own ? path.substr(own == "/" ? 0 : own.size()) : dir.substr(h.v2->mountpoint.size());

  Created created;
  try {
    make_cgroup_dir(base, rel, false, created.dirs);
  } catch (const Error& e) {
    if (!is_permission_error(e.errnum())) throw;
    warn_no_cgroup(linux, e.what());
    return {};
  }
  bool apply = !plan.writes.empty();
  try {
    enable_v2_controllers(base, rel, plan.v2_needed);
  } catch (const Error& e) {
    if (!is_permission_error(e.errnum()) && e.errnum() != EBUSY && e.errnum() != ENOENT &&
        e.errnum() != ENOTSUP)
      throw;
    // The delegation does not let us enable the controllers (typically: the own cgroup holds
    // the caller, so its children may not have controllers): a placement without resources
    // still serves pause, ps and kill --all.
    log::warn("linux.resources ignored: cgroup v2 controllers cannot be enabled for uid " +
              std::to_string(geteuid()) + " (" + e.what() + ")");
    apply = false;
  }
  if (apply) apply_plan(plan, [&](const CgroupWrite&) { return dir; });
  created.keep = true;
  return CgroupPlacement{dir, {}};
}

}  // namespace

namespace {

CgroupPlacement prepare_privileged(const std::string& id, const Linux& linux, bool systemd,
                                   const Resources& res) {
  const Host& h = host();
  if (h.v1.empty() && !h.v2) {
    warn_no_cgroup(linux, "no cgroup file system is mounted");
    return {};
  }
  std::string path = cgroup_path_for(id, linux.cgroups_path, systemd, "/nook");
  bool explicit_path = !linux.cgroups_path.empty() || systemd;

  CgroupLayout layout;
  for (auto& m : h.v1)
    for (auto& c : m.controllers) layout.v1.insert(c);
  layout.v2_mounted = h.v2.has_value();
  if (h.v2)  // read here, not in host(): the unprivileged path does not need it
    if (auto s = read_file(h.v2->mountpoint + "/cgroup.controllers"))
      for (auto& c : split(trim(*s), ' '))
        if (!c.empty()) layout.v2.insert(c);
  CgroupPlan plan = cgroup_plan(res, linux.devices, layout, /*strict=*/true);
  for (auto& m : plan.ignored) log::warn(m);

  CgroupPlacement out;
  Created created;
  std::map<std::string, std::string> dir_of;  // v1 controller -> directory
  auto check_reuse = [&](bool leaf_created, const std::string& dir) {
    if (leaf_created || explicit_path) return;
    // The default path is /nook/<id>: a populated one belongs to another container of the
    // same name (another --root). Sharing it would pause both.
    auto s = read_file(dir + "/cgroup.procs");
    if (s && !trim(*s).empty())
      fail("cgroup " + dir + " is in use by other processes (a container named \"" + id +
           "\" under another --root?); set linux.cgroupsPath");
  };
  try {
    // cgroup v2 whenever it is mounted: it tracks the processes and freezes them cheaply
    // (cgroup.freeze: ~40 us; the v1 freezer costs milliseconds, see docs/cgroups.md).
    bool v2_freezer = false;
    if (h.v2) {
      out.v2 = cgroup_dir(*h.v2, path);
      std::string rel = out.v2.substr(h.v2->mountpoint.size());
      bool made = make_cgroup_dir(h.v2->mountpoint, rel, false, created.dirs);
      check_reuse(made, out.v2);
      enable_v2_controllers(h.v2->mountpoint, rel, plan.v2_needed);
      v2_freezer = exists(out.v2 + "/cgroup.freeze");  // Linux >= 5.2
    }
    // cgroup v1: what the resources need; the freezer when v2 cannot freeze; everything for
    // an explicit cgroupsPath (tools read statistics from there).
    for (auto& m : h.v1) {
      bool want = explicit_path;
      for (auto& c : m.controllers)
        if ((c == "freezer" && !v2_freezer) || plan.v1_needed.count(c)) want = true;
      if (!want) continue;
      bool cpuset =
          std::find(m.controllers.begin(), m.controllers.end(), "cpuset") != m.controllers.end();
      std::string dir = cgroup_dir(m, path);
      bool made =
          make_cgroup_dir(m.mountpoint, dir.substr(m.mountpoint.size()), cpuset, created.dirs);
      check_reuse(made, dir);
      out.v1.push_back(dir);
      for (auto& c : m.controllers) dir_of[c] = dir;
    }
  } catch (const Error& e) {
    // Root without the right to write cgroups (a user namespace, a read-only /sys/fs/cgroup):
    // the same as unprivileged.
    if (is_permission_error(e.errnum()) && created.dirs.empty() &&
        std::string(e.what()).rfind("mkdir", 0) == 0) {
      warn_no_cgroup(linux, e.what());
      return {};
    }
    throw;
  }
  apply_plan(plan, [&](const CgroupWrite& w) { return w.v2 ? out.v2 : dir_of.at(w.controller); });
  created.keep = true;
  return out;
}

}  // namespace

CgroupPlacement cgroup_prepare(const std::string& id, const Linux& linux, bool systemd) {
  static const Resources kNone;
  const Resources& res = linux.resources ? *linux.resources : kNone;
  // A malformed cgroupsPath is a config error whether or not nook gets a cgroup.
  cgroup_path_for(id, linux.cgroups_path, systemd, "/nook");
  if (geteuid() != 0) return prepare_unprivileged(id, linux, systemd, res);
  return prepare_privileged(id, linux, systemd, res);
}

CgroupPlacement cgroup_enter(const std::string& id, const Linux& linux, pid_t pid, bool systemd) {
  auto t0 = Clock::now();
  CgroupPlacement p = cgroup_prepare(id, linux, systemd);
  try {
    cgroup_join(p, pid);
  } catch (...) {
    // Only the leaves (the pid may be in some of them already: those stay, and the caller
    // kills the child anyway).
    for (auto& d : p.v1) ::rmdir(d.c_str());
    if (!p.v2.empty()) ::rmdir(p.v2.c_str());
    throw;
  }
  if (log::debug_enabled() && !p.empty()) {
    std::string where = p.v2;
    for (auto& d : p.v1) where += (where.empty() ? "" : " ") + d;
    log::debug("cgroup: pid " + std::to_string(pid) + " in " + where + " (" +
               std::to_string(micros_since(t0)) + " us)");
  }
  return p;
}

void cgroup_join(const CgroupPlacement& p, pid_t pid, bool v2_done) {
  for (auto& d : p.v1) attach(d, pid);
  if (!p.v2.empty() && !v2_done) attach(p.v2, pid);
}

void cgroup_remove(const CgroupPlacement& p) {
  std::vector<std::string> dirs = p.v1;
  if (!p.v2.empty()) dirs.push_back(p.v2);
  std::optional<Error> first;
  for (auto& d : dirs) {
    // A frozen v1 cgroup keeps its killed processes; thaw so that they can go.
    if (exists(d + "/freezer.state")) write_file(d + "/freezer.state", "THAWED");
    if (int e = remove_tree(d)) {
      Error err(sys_message("rmdir", d, e) +
                    (e == EBUSY ? " (processes are still in it)" : std::string()),
                e);
      if (!first) first = err;
    }
  }
  if (first) throw *first;
}

std::vector<std::string> cgroup_remove_if_empty(const std::string& id,
                                                const std::string& cgroups_path, bool systemd) {
  const Host& h = host();
  std::vector<std::string> dirs;
  if (geteuid() == 0) {
    std::string path = cgroup_path_for(id, cgroups_path, systemd, "/nook");
    for (auto& m : h.v1) dirs.push_back(cgroup_dir(m, path));
    if (h.v2) dirs.push_back(cgroup_dir(*h.v2, path));
  } else if (h.v2) {
    dirs.push_back(cgroup_dir(
        *h.v2, cgroup_path_for(id, cgroups_path, systemd, join_path(h.own_path(*h.v2), "nook"))));
  }
  std::vector<std::string> removed;
  for (auto& d : dirs) {
    auto procs = read_file(d + "/cgroup.procs");
    if (!procs || !trim(*procs).empty()) continue;  // missing, or someone's processes are in it
    if (::rmdir(d.c_str()) == 0) removed.push_back(d);
  }
  return removed;
}

std::vector<pid_t> cgroup_pids(const CgroupPlacement& p) {
  std::vector<pid_t> out;
  if (!p.v2.empty()) {
    collect_pids(p.v2, out);
  } else if (!p.v1.empty()) {
    auto f = freezer_of(p);
    collect_pids(f ? f->dir : p.v1.front(), out);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void cgroup_freeze(const CgroupPlacement& p, bool freeze, const std::string& id) {
  const char* what = freeze ? "pause" : "resume";
  if (p.empty()) no_cgroup(what, id);
  auto f = freezer_of(p);
  if (!f)
    fail(std::string(what) + " needs a freezer; the cgroups of " +
         (id.empty() ? "the container" : "container " + id) +
         " have none (no cgroup v1 freezer, no cgroup v2)");
  if (f->v2)
    freeze_v2(f->dir, freeze);
  else
    freeze_v1(f->dir, freeze);
}

bool cgroup_frozen(const CgroupPlacement& p) {
  auto f = freezer_of(p);
  if (!f) return false;
  if (f->v2) return v2_frozen(f->dir).value_or(false);
  auto s = read_file(f->dir + "/freezer.state");
  return s && trim(*s) == "FROZEN";
}

void cgroup_signal_all(const CgroupPlacement& p, int sig, const std::string& id) {
  if (p.empty()) no_cgroup("kill --all", id);
  if (sig == SIGKILL && !p.v2.empty() && exists(p.v2 + "/cgroup.kill")) {
    write_or_throw(p.v2 + "/cgroup.kill", "1");
    return;
  }
  auto f = freezer_of(p);
  bool was_frozen = f && cgroup_frozen(p);
  // Freezing first means no process can fork a child that escapes the signal.
  if (f && !was_frozen) cgroup_freeze(p, true, id);
  std::optional<Error> err;
  try {
    for (pid_t pid : cgroup_pids(p))
      if (::kill(pid, sig) < 0 && errno != ESRCH) throw_sys("kill", std::to_string(pid));
  } catch (const Error& e) {
    err = e;
  }
  // Thaw unless the container was paused; a SIGKILL'd v1-frozen process only dies when thawed.
  if (f && (!was_frozen || (sig == SIGKILL && !f->v2))) cgroup_freeze(p, false, id);
  if (err) throw *err;
}

}  // namespace nook
