// config.json's process, and process.json (exec --process) -> Process.
#include <sys/resource.h>

#include <set>

#include "config_internal.hpp"
#include "error.hpp"
#include "keys.hpp"
#include "names.hpp"
#include "namespaces.hpp"

namespace nook::config_detail {

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

}  // namespace nook::config_detail
