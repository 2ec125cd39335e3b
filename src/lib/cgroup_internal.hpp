// cgroups, inside the module: what its files share. Not for other modules (cgroup.hpp is the
// interface); unit tests include it for the pure decisions below.
//
// The module's files, each one side of it (all run in the nook process, parent side: none of
// this runs in the container process):
//   cgroup_plan.cpp  pure: path policy, linux.resources -> file writes, the placement decisions
//                    below (which hierarchies, which directories); no system calls;
//   cgroup_host.cpp  the host: which hierarchies are mounted where, our own cgroups; read once
//                    per process (/proc/self/cgroup, statfs, else /proc/self/mountinfo);
//   cgroup_fs.cpp    the file system: mkdir, controllers, resource writes, attaching a process,
//                    rmdir (create / run / exec / delete);
//   cgroup_systemd.cpp the systemd driver: a transient unit over D-Bus (sd-bus, dlopen'd);
//   cgroup.cpp       a running container's cgroup: freeze and thaw, frozen, its processes,
//                    signalling them all (pause / resume / state / ps / kill --all).
// Every system call that fails reports the call, the path and errno.
#pragma once
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cgroup.hpp"
#include "error.hpp"
#include "fd.hpp"
#include "fileio.hpp"

namespace nook::cgroup_internal {

// ---------------------------------------------------------------------------------------------
// Small helpers

inline std::vector<std::string> split(std::string_view s, char sep) {
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

inline bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

inline std::string join_path(const std::string& a, const std::string& b) {
  if (b.empty() || b == "/") return a;
  if (a.empty() || a == "/") return b[0] == '/' ? b : "/" + b;
  return a + (b[0] == '/' ? "" : "/") + b;
}

inline std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The sub-cgroups (directories) of `dir`, as paths; nullopt with errno set when it cannot be
// opened.
inline std::optional<std::vector<std::string>> sub_dirs(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return std::nullopt;
  std::vector<std::string> subs;
  while (dirent* e = ::readdir(d))
    if (e->d_type == DT_DIR && std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, ".."))
      subs.push_back(dir + "/" + e->d_name);
  ::closedir(d);
  return subs;
}

using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// The host (cgroup_host.cpp)

struct Host {
  std::vector<CgroupMount> v1;
  std::optional<CgroupMount> v2;
  std::map<std::string, std::string> own;  // "cpu,cpuacct" / "" -> path of this process

  // The path of this process's cgroup in the hierarchy of `m` ("/" when unknown).
  std::string own_path(const CgroupMount& m) const {
    std::string key;
    for (auto& c : m.controllers) key += (key.empty() ? "" : ",") + c;
    auto it = own.find(m.v2 ? "" : key);
    return it == own.end() ? "/" : it->second;
  }
};

// This host's cgroup mounts and own cgroups, found on the first call.
const Host& host();

// Whether `name` is a cgroup v1 controller the kernel has ("memory", "net_cls"; not "name=...").
bool is_v1_controller(std::string_view name);

// ---------------------------------------------------------------------------------------------
// Placement decisions (cgroup_plan.cpp, pure)

// The layout a plan is made for: the controllers of the v1 mounts `v1`, and the v2 ones named
// in `v2_controllers` (the text of a cgroup.controllers file: "cpu io memory\n").
CgroupLayout cgroup_layout(const std::vector<CgroupMount>& v1, bool v2_mounted,
                           const std::string& v2_controllers);

// Whether the v1 hierarchy with `controllers` is joined: every one for an explicit cgroupsPath
// (tools read statistics there), else the freezer when cgroup v2 cannot freeze, and those the
// plan writes to (`v1_needed`).
bool cgroup_v1_wanted(const std::vector<std::string>& controllers,
                      const std::set<std::string>& v1_needed, bool explicit_path, bool v2_freezer);

// Where a cgroup directory is made: `dir` is `rel` below `base`, an existing directory.
struct CgroupTarget {
  std::string dir, base, rel;
  bool operator==(const CgroupTarget&) const = default;
};

// As root: cgroup `path` of the hierarchy mounted as `m`, made from the mount point down.
CgroupTarget cgroup_target(const CgroupMount& m, const std::string& path);

// Unprivileged, in cgroup v2 `m`: from the own cgroup `own` down when `path` is below it (the
// parents above are not ours to make), else from the mount point.
CgroupTarget cgroup_target_below(const CgroupMount& m, const std::string& own,
                                 const std::string& path);

// The directories `delete --force` of a container without a readable state file may remove:
// the path for `id` in every hierarchy as root, in the own cgroup v2 otherwise.
std::vector<std::string> cgroup_leftover_dirs(const Host& h, bool root, const std::string& id,
                                              const std::string& cgroups_path, bool systemd);

// ---------------------------------------------------------------------------------------------
// The file system (cgroup_fs.cpp)

// Applies linux.resources to a placement made elsewhere (the systemd driver's unit): the
// layout is what its directories offer; strict as root (a resource that cannot be applied is
// an error), else ignored ones are warnings.
void cgroup_apply(const CgroupPlacement& p, const Linux& linux, bool strict);

}  // namespace nook::cgroup_internal
