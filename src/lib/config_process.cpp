// config.json's process, and process.json (exec --process) -> Process.
#include <sys/resource.h>

#include <set>

#include "config_internal.hpp"
#include "error.hpp"
#include "keys.hpp"
#include "names.hpp"
#include "namespaces.hpp"

namespace nook::config_detail {

namespace {

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

ConsoleSize parse_console_size(const Reader& r, const json& j, const std::string& ptr) {
  r.object(j, ptr);
  ConsoleSize cs;
  // struct winsize holds unsigned shorts.
  if (auto* h = Reader::get(j, "height"))
    cs.height = static_cast<unsigned>(r.in_range(*h, join(ptr, "height"), 0, 65535));
  if (auto* w = Reader::get(j, "width"))
    cs.width = static_cast<unsigned>(r.in_range(*w, join(ptr, "width"), 0, 65535));
  return cs;
}

// process.rlimits: each type known and given once, soft <= hard.
std::vector<Rlimit> parse_rlimits(const Reader& r, const json& j, const std::string& ptr) {
  r.array(j, ptr);
  std::vector<Rlimit> out;
  std::set<int> seen;
  for (size_t i = 0; i < j.size(); i++) {
    std::string ip = idx(ptr, i);
    const json& e = j[i];
    r.object(e, ip);
    Rlimit rl;
    rl.type = r.str(r.required(e, "type", ip), join(ip, "type"));
    rl.resource = rlimit_from_name(rl.type);
    if (rl.resource < 0) r.bad(join(ip, "type"), "unknown rlimit \"" + rl.type + "\"");
    if (!seen.insert(rl.resource).second)
      r.bad(join(ip, "type"), "rlimit " + rl.type + " is given twice");
    const json& soft = r.required(e, "soft", ip);
    const json& hard = r.required(e, "hard", ip);
    rl.soft = r.u64(soft, join(ip, "soft"));
    rl.hard = r.u64(hard, join(ip, "hard"));
    if (rl.soft > rl.hard)
      r.bad(ip, "soft limit " + std::to_string(rl.soft) + " is above hard limit " +
                    std::to_string(rl.hard));
    out.push_back(rl);
  }
  return out;
}

// process.scheduler, with the ranges sched_setattr() accepts for the policy.
Scheduler parse_scheduler(const Reader& r, const json& j, const std::string& ptr) {
  r.object(j, ptr);
  Scheduler s;
  s.policy = r.str(r.required(j, "policy", ptr), join(ptr, "policy"));
  static const std::set<std::string> policies = {"SCHED_OTHER",   "SCHED_FIFO", "SCHED_RR",
                                                 "SCHED_BATCH",   "SCHED_ISO",  "SCHED_IDLE",
                                                 "SCHED_DEADLINE"};
  if (!policies.count(s.policy)) r.bad(join(ptr, "policy"), "unknown policy \"" + s.policy + "\"");
  if (auto* x = Reader::get(j, "nice"))
    s.nice = static_cast<int>(r.in_range(*x, join(ptr, "nice"), -20, 19));
  // sched_setattr(): a static priority 1..99 for the real-time policies, 0 for the others.
  bool rt = s.policy == "SCHED_FIFO" || s.policy == "SCHED_RR";
  if (auto* x = Reader::get(j, "priority"))
    s.priority = static_cast<int>(
        r.in_range(*x, join(ptr, "priority"), rt ? 1 : 0, rt ? 99 : 0,
                   rt ? "must be between 1 and 99 for " + s.policy
                      : "must be 0 for " + s.policy + " (only SCHED_FIFO and SCHED_RR take one)"));
  else if (rt)
    r.bad(join(ptr, "priority"), "required property is missing: " + s.policy + " needs 1..99");
  if (auto* x = Reader::get(j, "flags")) s.flags = r.strings(*x, join(ptr, "flags"));
  // Nanoseconds; the kernel refuses bit 63 (it keeps it for wrap-around).
  for (auto [key, field] : {std::pair{"runtime", &s.runtime}, std::pair{"deadline", &s.deadline},
                            std::pair{"period", &s.period}})
    if (auto* x = Reader::get(j, key))
      *field = static_cast<uint64_t>(r.in_range(*x, join(ptr, key), 0, INT64_MAX));
  if (s.policy == "SCHED_DEADLINE") {  // the kernel's __checkparam_dl()
    if (s.runtime < 1024)
      r.bad(join(ptr, "runtime"), "SCHED_DEADLINE needs a runtime of at least 1024 ns");
    if (s.deadline < s.runtime)
      r.bad(join(ptr, "deadline"), "SCHED_DEADLINE needs runtime <= deadline");
    if (s.period != 0 && s.period < s.deadline)
      r.bad(join(ptr, "period"), "SCHED_DEADLINE needs deadline <= period (or period 0)");
  }
  return s;
}

IoPriority parse_io_priority(const Reader& r, const json& j, const std::string& ptr) {
  r.object(j, ptr);
  IoPriority io;
  io.io_class = r.str(r.required(j, "class", ptr), join(ptr, "class"));
  if (io.io_class != "IOPRIO_CLASS_RT" && io.io_class != "IOPRIO_CLASS_BE" &&
      io.io_class != "IOPRIO_CLASS_IDLE")
    r.bad(join(ptr, "class"), "unknown class \"" + io.io_class + "\"");
  if (auto* x = Reader::get(j, "priority"))
    io.priority = static_cast<int>(r.in_range(*x, join(ptr, "priority"), 0, 7));
  return io;
}

}  // namespace

Process parse_process_json(const Reader& r, const json& j, const std::string& ptr) {
  r.object(j, ptr);
  Process p;
  if (auto* v = Reader::get(j, "terminal")) p.terminal = r.boolean(*v, join(ptr, "terminal"));
  if (auto* v = Reader::get(j, "consoleSize"))
    p.console_size = parse_console_size(r, *v, join(ptr, "consoleSize"));
  if (auto* v = Reader::get(j, "user")) p.user = parse_user(r, *v, join(ptr, "user"));
  if (auto* v = Reader::get(j, "commandLine")) p.command_line = r.str(*v, join(ptr, "commandLine"));
  p.args = r.strings(r.required(j, "args", ptr), join(ptr, "args"));
  if (p.args.empty()) r.bad(join(ptr, "args"), "must name at least the program to run");
  if (p.args[0].empty()) r.bad(join(ptr, "args") + "/0", "program name is empty");
  if (auto* v = Reader::get(j, "env")) p.env = r.strings(*v, join(ptr, "env"));
  p.cwd = r.str(r.required(j, "cwd", ptr), join(ptr, "cwd"));
  require_absolute(r, p.cwd, join(ptr, "cwd"));
  if (auto* v = Reader::get(j, "capabilities"))
    p.capabilities = parse_caps(r, *v, join(ptr, "capabilities"));
  if (auto* v = Reader::get(j, "rlimits")) p.rlimits = parse_rlimits(r, *v, join(ptr, "rlimits"));
  if (auto* v = Reader::get(j, "noNewPrivileges"))
    p.no_new_privileges = r.boolean(*v, join(ptr, "noNewPrivileges"));
  if (auto* v = Reader::get(j, "apparmorProfile"))
    p.apparmor_profile = r.str(*v, join(ptr, "apparmorProfile"));
  if (auto* v = Reader::get(j, "selinuxLabel"))
    p.selinux_label = r.str(*v, join(ptr, "selinuxLabel"));
  if (auto* v = Reader::get(j, "oomScoreAdj"))
    p.oom_score_adj = static_cast<int>(r.in_range(*v, join(ptr, "oomScoreAdj"), -1000, 1000));
  if (auto* v = Reader::get(j, "scheduler"))
    p.scheduler = parse_scheduler(r, *v, join(ptr, "scheduler"));
  if (auto* v = Reader::get(j, "ioPriority"))
    p.io_priority = parse_io_priority(r, *v, join(ptr, "ioPriority"));
  return p;
}

}  // namespace nook::config_detail
