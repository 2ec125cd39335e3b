// cgroups, the file system: making the container's cgroup directories (v2 and v1), enabling v2
// controllers, writing the planned resource values, attaching processes, removing the
// directories again. Runs in nook's own process (create / run / exec / delete), never in the
// container's. What to make and write is decided in cgroup_plan.cpp; this file only does it.
#include <dirent.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "cgroup.hpp"
#include "cgroup_internal.hpp"
#include "error.hpp"
#include "fd.hpp"
#include "log.hpp"
#include "state.hpp"

namespace nook {
using namespace cgroup_internal;
namespace {

bool is_permission_error(int e) {
  return e == EACCES || e == EPERM || e == EROFS;
}

long micros_since(Clock::time_point t0) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count());
}

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

// Real-time bandwidth on cgroup v1 (CONFIG_RT_GROUP_SCHED): a group may hand its children
// no more than it has (the sum of their runtime/period ratios, in the kernel's 20-bit fixed
// point, is at most its own), and a new group has 0. So a container given
// cpu.realtimeRuntime below nook's default parent /nook (or any parent made without a budget)
// would get EINVAL: each ancestor below the hierarchy's root is first given what its children
// then hold, the new container's request included, as much as it lacks, top down. The budget
// stays with the ancestor when the container goes (other containers below it may use it).
uint64_t rt_ratio(long long runtime_us, long long period_us) {
  if (period_us <= 0) return 0;
  if (runtime_us < 0) return uint64_t(1) << 20;  // RUNTIME_INF
  return (uint64_t(runtime_us) << 20) / uint64_t(period_us);
}

long long read_ll(const std::string& path) {
  auto s = read_file(path);
  return s ? std::strtoll(s->c_str(), nullptr, 10) : 0;
}

void give_rt_budget(const std::string& base, const std::string& leaf, long long runtime_us,
                    long long period_us) {
  if (leaf.size() <= base.size() || runtime_us <= 0) return;
  std::vector<std::string> chain;  // leaf's ancestors below base, nearest first
  for (size_t i = leaf.rfind('/'); i != std::string::npos && i > base.size();
       i = leaf.rfind('/', i - 1))
    chain.push_back(leaf.substr(0, i));
  if (chain.empty() || !exists(base + "/cpu.rt_runtime_us")) return;
  std::vector<uint64_t> need(chain.size());
  std::string child = leaf;
  uint64_t child_need = rt_ratio(runtime_us, period_us);
  for (size_t k = 0; k < chain.size(); k++) {
    uint64_t sum = child_need;
    if (DIR* d = ::opendir(chain[k].c_str())) {
      while (dirent* e = ::readdir(d)) {
        std::string sub = chain[k] + "/" + e->d_name;
        if (e->d_type != DT_DIR || e->d_name[0] == '.' || sub == child) continue;
        sum += rt_ratio(read_ll(sub + "/cpu.rt_runtime_us"), read_ll(sub + "/cpu.rt_period_us"));
      }
      ::closedir(d);
    }
    need[k] = sum;
    child = chain[k];
    child_need = sum;
  }
  for (size_t k = chain.size(); k-- > 0;) {
    const std::string& dir = chain[k];
    long long period = read_ll(dir + "/cpu.rt_period_us");
    long long have = read_ll(dir + "/cpu.rt_runtime_us");
    if (period <= 0 || rt_ratio(have, period) >= need[k]) continue;
    long long want = static_cast<long long>(((need[k] * uint64_t(period)) + (1u << 20) - 1) >> 20);
    log::debug("cgroup: " + dir + "/cpu.rt_runtime_us " + std::to_string(have) + " -> " +
               std::to_string(want) + " for its children");
    if (int e = write_file(dir + "/cpu.rt_runtime_us", std::to_string(want)))
      throw Error(
          sys_message("write \"" + std::to_string(want) + "\" to", dir + "/cpu.rt_runtime_us", e) +
              " (linux.resources.cpu.realtimeRuntime: the parent has no real-time "
              "budget to give)",
          e);
  }
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
// EBUSY (processes still leaving) is retried for about a second. Most containers make no
// sub-cgroups: an rmdir first spares them the directory listing (an open, two getdents and
// a close on the way out of every `run`); the kernel refuses it with EBUSY otherwise.
int remove_tree(const std::string& dir) {
  if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return 0;
  if (auto subs = sub_dirs(dir)) {
    for (auto& s : *subs)
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

// The text of `dir`/cgroup.controllers, "" when it cannot be read.
std::string controllers_of(const std::string& dir) {
  return read_file(dir + "/cgroup.controllers").value_or("");
}

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

  // Controllers the delegation offers: the own cgroup's cgroup.controllers.
  CgroupPlan plan =
      cgroup_plan(res, linux.devices, cgroup_layout({}, true, controllers_of(own_dir)),
                  /*strict=*/false);
  for (auto& m : plan.ignored) log::warn(m);

  // Directories from the own cgroup down (relative paths) or from the root (absolute ones).
  CgroupTarget t = cgroup_target_below(*h.v2, own, path);
  Created created;
  try {
    make_cgroup_dir(t.base, t.rel, false, created.dirs);
  } catch (const Error& e) {
    if (!is_permission_error(e.errnum())) throw;
    warn_no_cgroup(linux, e.what());
    return {};
  }
  bool apply = !plan.writes.empty();
  try {
    enable_v2_controllers(t.base, t.rel, plan.v2_needed);
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
  if (apply) apply_plan(plan, [&](const CgroupWrite&) { return t.dir; });
  created.keep = true;
  return CgroupPlacement{t.dir, {}};
}

CgroupPlacement prepare_privileged(const std::string& id, const Linux& linux, bool systemd,
                                   const Resources& res) {
  const Host& h = host();
  if (h.v1.empty() && !h.v2) {
    warn_no_cgroup(linux, "no cgroup file system is mounted");
    return {};
  }
  std::string path = cgroup_path_for(id, linux.cgroups_path, systemd, "/nook");
  bool explicit_path = !linux.cgroups_path.empty() || systemd;

  // cgroup.controllers is read here, not in host(): the unprivileged path does not need it
  CgroupLayout layout =
      cgroup_layout(h.v1, h.v2.has_value(), h.v2 ? controllers_of(h.v2->mountpoint) : "");
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
      CgroupTarget t = cgroup_target(*h.v2, path);
      out.v2 = t.dir;
      bool made = make_cgroup_dir(t.base, t.rel, false, created.dirs);
      check_reuse(made, out.v2);
      enable_v2_controllers(t.base, t.rel, plan.v2_needed);
      v2_freezer = exists(out.v2 + "/cgroup.freeze");  // Linux >= 5.2
    }
    // cgroup v1: what the resources need; the freezer when v2 cannot freeze; everything for
    // an explicit cgroupsPath (tools read statistics from there).
    for (auto& m : h.v1) {
      if (!cgroup_v1_wanted(m.controllers, plan.v1_needed, explicit_path, v2_freezer)) continue;
      bool cpuset =
          std::find(m.controllers.begin(), m.controllers.end(), "cpuset") != m.controllers.end();
      CgroupTarget t = cgroup_target(m, path);
      bool made = make_cgroup_dir(t.base, t.rel, cpuset, created.dirs);
      check_reuse(made, t.dir);
      out.v1.push_back(t.dir);
      for (auto& c : m.controllers) dir_of[c] = t.dir;
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
  if (res.cpu && res.cpu->realtime_runtime && dir_of.count("cpu")) {
    auto m = std::find_if(h.v1.begin(), h.v1.end(), [&](const CgroupMount& v) {
      return dir_of["cpu"].rfind(v.mountpoint + "/", 0) == 0;
    });
    if (m != h.v1.end()) {
      long long period = res.cpu->realtime_period && *res.cpu->realtime_period
                             ? static_cast<long long>(*res.cpu->realtime_period)
                             : read_ll(dir_of["cpu"] + "/cpu.rt_period_us");
      give_rt_budget(m->mountpoint, dir_of["cpu"], *res.cpu->realtime_runtime, period);
    }
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
  // The systemd driver only when asked for: the cgroupfs path makes no D-Bus call.
  if (systemd)
    if (auto p = cgroup_systemd_enter(id, linux, pid)) return *p;
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
  // systemd removes the unit's cgroup when it stops the unit; what is left is removed below.
  if (p.systemd) {
    try {
      cgroup_systemd_stop(p);
    } catch (const Error& e) {
      log::warn(e.what());
    }
  }
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

namespace cgroup_internal {

void cgroup_apply(const CgroupPlacement& p, const Linux& linux, bool strict) {
  if (!linux.resources) return;
  const Host& h = host();
  std::vector<CgroupMount> v1;                // the hierarchies the placement has a directory in
  std::map<std::string, std::string> dir_of;  // v1 controller -> directory
  for (auto& m : h.v1)
    for (auto& d : p.v1)
      if (d.rfind(m.mountpoint + "/", 0) == 0) {
        v1.push_back(m);
        for (auto& c : m.controllers) dir_of[c] = d;
      }
  CgroupLayout layout = cgroup_layout(v1, !p.v2.empty(), p.v2.empty() ? "" : controllers_of(p.v2));
  CgroupPlan plan = cgroup_plan(*linux.resources, linux.devices, layout, strict);
  for (auto& m : plan.ignored) log::warn(m);
  apply_plan(plan, [&](const CgroupWrite& w) { return w.v2 ? p.v2 : dir_of.at(w.controller); });
}

}  // namespace cgroup_internal

namespace {

// As root with the cgroupfs driver: the hierarchies `linux.resources` needs and the placement
// lacks (create joins only what its own resources needed), joined now with every process of
// the container, and the v2 controllers it needs enabled along its path.
void grow_placement(CgroupPlacement& p, const Linux& linux) {
  const Host& h = host();
  CgroupLayout layout =
      cgroup_layout(h.v1, h.v2.has_value(), h.v2 ? controllers_of(h.v2->mountpoint) : "");
  CgroupPlan plan = cgroup_plan(*linux.resources, {}, layout, /*strict=*/true);
  std::string path;  // the container's cgroup path, the same in every hierarchy
  if (h.v2 && !p.v2.empty() && p.v2.rfind(h.v2->mountpoint + "/", 0) == 0)
    path = p.v2.substr(h.v2->mountpoint.size());
  for (auto& m : h.v1)
    for (auto& d : p.v1)
      if (path.empty() && d.rfind(m.mountpoint + "/", 0) == 0) path = d.substr(m.mountpoint.size());
  if (path.empty()) return;
  if (h.v2 && !p.v2.empty()) {
    CgroupTarget t = cgroup_target(*h.v2, path);
    enable_v2_controllers(t.base, t.rel, plan.v2_needed);
  }
  for (auto& m : h.v1) {
    bool needed = std::any_of(m.controllers.begin(), m.controllers.end(),
                              [&](auto& c) { return plan.v1_needed.count(c) > 0; });
    bool placed = std::any_of(p.v1.begin(), p.v1.end(),
                              [&](auto& d) { return d.rfind(m.mountpoint + "/", 0) == 0; });
    if (!needed || placed) continue;
    bool cpuset =
        std::find(m.controllers.begin(), m.controllers.end(), "cpuset") != m.controllers.end();
    CgroupTarget t = cgroup_target(m, path);
    std::vector<std::string> made;
    make_cgroup_dir(t.base, t.rel, cpuset, made);
    // Twice: a process forked while the first pass ran is in the list the second time.
    for (int pass = 0; pass < 2; pass++)
      for (pid_t pid : cgroup_pids(p)) {
        try {
          attach(t.dir, pid);
        } catch (const Error&) {
          if (proc_start_time(pid) != 0) throw;  // a process that exited meanwhile is fine
        }
      }
    p.v1.push_back(t.dir);
    log::debug("update: joined " + t.dir);
  }
}

}  // namespace

void cgroup_update(CgroupPlacement& p, const Linux& linux) {
  bool root = geteuid() == 0;
  if (root && !p.systemd && linux.resources) grow_placement(p, linux);
  cgroup_apply(p, linux, /*strict=*/root);
}

CgroupPlacement cgroup_sub_placement(const CgroupPlacement& p,
                                     const std::map<std::string, std::string>& subs,
                                     const std::string& id) {
  std::string what = "exec --cgroup";
  for (auto& [c, path] : subs) what += " " + (c.empty() ? path : c + ":" + path);
  if (p.empty())
    fail(what + ": container \"" + id + "\" has no cgroup (nook could not create one for uid " +
         std::to_string(geteuid()) + ")");
  // The controllers of each v1 directory: those of the hierarchy it lies in.
  std::vector<std::vector<std::string>> controllers;
  for (auto& d : p.v1) {
    controllers.emplace_back();
    for (auto& m : host().v1)
      if (d.rfind(m.mountpoint + "/", 0) == 0) controllers.back() = m.controllers;
  }
  CgroupPlacement out = cgroup_sub_placement_for(p, controllers, subs);
  std::vector<std::string> dirs = out.v1;
  if (!out.v2.empty()) dirs.push_back(out.v2);
  for (auto& d : dirs) {
    struct stat st;
    if (::stat(d.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      int e = ::stat(d.c_str(), &st) != 0 ? errno : ENOTDIR;
      throw Error(what + ": " + sys_message("stat", d, e) +
                      " (the sub-cgroup must exist: make it in the container's cgroup first)",
                  e);
    }
  }
  return out;
}

std::vector<std::string> cgroup_remove_if_empty(const std::string& id,
                                                const std::string& cgroups_path, bool systemd) {
  std::vector<std::string> removed;
  for (auto& d : cgroup_leftover_dirs(host(), geteuid() == 0, id, cgroups_path, systemd)) {
    auto procs = read_file(d + "/cgroup.procs");
    if (!procs || !trim(*procs).empty()) continue;  // missing, or someone's processes are in it
    if (::rmdir(d.c_str()) == 0) removed.push_back(d);
  }
  return removed;
}

}  // namespace nook
