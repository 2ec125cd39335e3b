// cgroups: placing the container, applying linux.resources, freezing, listing processes.
//
// Policy (docs/cgroups.md has the long version and the measurements):
// - Path: linux.cgroupsPath absolute -> that path below the root of every hierarchy; relative
//   -> below nook's default parent "/nook"; empty -> "/nook/<id>". With --systemd-cgroup the
//   "slice:prefix:name" form is mapped to the plain path systemd would use
//   ("/system.slice/prefix-name.scope"); nook writes cgroupfs itself, it does not ask systemd.
// - As root: a cgroup v2 directory whenever cgroup2 is mounted (hybrid hosts too: it tracks
//   the processes for ps / kill --all and freezes them in ~40 us); the v1 freezer only where
//   v2 cannot freeze; the v1 hierarchies that the requested resources need (and devices when
//   there are device rules); an explicit cgroupsPath joins every hierarchy.
// - Unprivileged: only a delegated cgroup v2 subtree (the caller's own cgroup is writable by
//   it); the container goes below it, in "nook/<id>". Otherwise no cgroup, and one warning if
//   resources were asked for.
// The implementation is one side per file (cgroup_internal.hpp lists them): cgroup_plan.cpp
// (pure decisions), cgroup_host.cpp (the host), cgroup_fs.cpp (create, join, remove) and
// cgroup.cpp (freeze, pids, signal).
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "config.hpp"

namespace nook {

// Where a container's cgroup lives; empty when nook has none for it (no permission, or
// unprivileged without a delegated cgroup v2 subtree). Stored in the state file as strings.
struct CgroupPlacement {
  std::string v2;               // absolute path of the cgroup v2 directory, or empty
  std::vector<std::string> v1;  // absolute paths of the cgroup v1 directories, or empty
  bool systemd = false;         // the systemd driver made it: a unit named as the leaf directory
  bool empty() const { return v2.empty() && v1.empty(); }
};

// Decides and creates the container's cgroup(s) for `id`. With `systemd` (--systemd-cgroup,
// --cgroup-manager systemd) the systemd driver asks systemd for it first (cgroup_systemd_enter);
// the cgroupfs driver places it when systemd cannot be reached.
// Otherwise: decides and creates the container's cgroup(s) for `id` (from linux.cgroupsPath or a
// default path), moves `pid` into them and applies `resources`. Where nook may not write cgroups,
// returns an empty placement and logs one warning if resources were asked for.
// Throws nook::Error when a resource was asked for, the cgroup is writable, and applying fails.
CgroupPlacement cgroup_enter(const std::string& id, const Linux& linux, pid_t pid, bool systemd);

// cgroup_enter in two steps, for a caller that creates the child with clone3(CLONE_INTO_CGROUP)
// (no migration: attaching costs 50 us to several ms, see docs/cgroups.md):
//   p = cgroup_prepare(...)          directories made, resources applied, no process yet
//   fd = open(p.v2, O_RDONLY | O_DIRECTORY | O_CLOEXEC)  -> clone_args.cgroup (when !p.v2.empty())
//   cgroup_join(p, pid, /*v2_done=*/true)               the v1 directories, if any
// If the child is never made, cgroup_remove(p).
CgroupPlacement cgroup_prepare(const std::string& id, const Linux& linux, bool systemd);

// The systemd driver (cgroup_systemd.cpp): a transient unit with Delegate=yes holding `pid`
// (a scope; a slice when the name ends in ".slice"), on the system bus as root, else on the
// caller's user bus; its resource properties, then every resource written into its cgroup.
// nullopt, after one warning saying why, when no systemd is reachable (the caller then uses
// the cgroupfs driver). Throws when systemd refuses the unit or a resource cannot be applied.
std::optional<CgroupPlacement> cgroup_systemd_enter(const std::string& id, const Linux& linux,
                                                    pid_t pid);

// Writes `linux.resources` into an existing placement (`nook update`): as root every value
// must be applied (an error otherwise), unprivileged what the delegated controllers allow. As
// root with the cgroupfs driver a cgroup v1 hierarchy the resources need and the container is
// not in yet is joined first (its directory is added to `p`; the caller stores it). For a unit
// of the systemd driver the values go into its delegated cgroup directly.
void cgroup_update(CgroupPlacement& p, const Linux& linux);
// Stops the unit of a placement the systemd driver made (cgroup_remove calls it).
void cgroup_systemd_stop(const CgroupPlacement& p);

// Whether this build has the systemd driver (`nook features`).
constexpr bool kCgroupSystemdDriver = true;

// Moves `pid` (an exec'd process, or the child after cgroup_prepare) into every directory of
// the placement; `v2_done` skips the v2 one. No-op when empty.
void cgroup_join(const CgroupPlacement& p, pid_t pid, bool v2_done = false);

// Removes the container's cgroup directories (after its processes are gone). Waits up to
// about a second for exiting processes to leave; sub-cgroups the container made are removed
// too. Missing directories are fine.
void cgroup_remove(const CgroupPlacement& p);

// For `delete --force` of a container whose state.json is missing or unreadable (a create
// killed before it wrote it, or outside damage): removes the cgroups the placement for `id`
// and this linux.cgroupsPath would have made (by default ROOT/nook/ID in every hierarchy as
// root, OWN/nook/ID in a delegated cgroup v2 otherwise) when they exist and are empty.
// Nothing is killed and a populated cgroup is left alone (it may be another --root's
// container of the same name). Returns the directories removed.
std::vector<std::string> cgroup_remove_if_empty(const std::string& id,
                                                const std::string& cgroups_path, bool systemd);

// PIDs (host view) in the container's cgroup, including its sub-cgroups, sorted.
std::vector<pid_t> cgroup_pids(const CgroupPlacement& p);

// Freezes / thaws and waits until the state has settled; throws nook::Error with the reason
// when there is no freezer for it ("pause needs a cgroup; container ID has none (...)").
// `id` is only used in messages.
void cgroup_freeze(const CgroupPlacement& p, bool freeze, const std::string& id = {});
bool cgroup_frozen(const CgroupPlacement& p);

// The file that tells whether the placement is frozen, for `state` (src/fast/shared.hpp):
// {2, V2/cgroup.events}, {1, V1-FREEZER/freezer.state}, or {0, ""} without a freezer.
std::pair<int, std::string> cgroup_freezer_file(const CgroupPlacement& p);

// Sends `sig` to every process in the cgroup (kill --all, delete --force) without racing
// forks: cgroup.kill for SIGKILL on cgroup v2, else freeze, signal each, thaw. A paused
// container stays paused, except that SIGKILL'd processes are thawed so that they can die.
// Throws like cgroup_freeze when there is no cgroup.
void cgroup_signal_all(const CgroupPlacement& p, int sig, const std::string& id = {});

// exec --cgroup (runc 1.1): the placement an exec'd process joins instead of the container's
// own, its sub-cgroups named by `subs` (cgroup_parse_sub_paths). Every directory must exist.
// Throws nook::Error naming the argument and the directory otherwise, and when the container
// has no cgroup. `id` is only used in messages.
CgroupPlacement cgroup_sub_placement(const CgroupPlacement& p,
                                     const std::map<std::string, std::string>& subs,
                                     const std::string& id);

// ---------------------------------------------------------------------------------------------
// The pure parts, exposed for unit tests.

// The cgroup path (below a hierarchy's root, starting with '/') for a container.
// `parent` is where the default and relative paths go ("/nook" as root, "<own cgroup>/nook"
// unprivileged). Throws nook::Error for '..' components and malformed systemd paths.
std::string cgroup_path_for(const std::string& id, const std::string& cgroups_path, bool systemd,
                            const std::string& parent);

// "machine.slice:libpod:abc" -> "/machine.slice/libpod-abc.scope", as runc expands it.
std::string cgroup_systemd_path(const std::string& spec, const std::string& id);

// The systemd unit for a container (the systemd driver): "slice:prefix:name" ->
// "prefix-name.scope" in "slice"; a name ending in ".slice" is the unit itself; an empty
// cgroupsPath is "system.slice:nook:<id>" (`system`) or "user.slice:nook:<id>".
// Throws nook::Error for a malformed path.
struct CgroupSystemdUnit {
  std::string name;   // "nook-abc.scope", "machine-x.slice"
  std::string slice;  // the parent slice; "" for systemd's default
  bool is_slice = false;
};
CgroupSystemdUnit cgroup_systemd_unit(const std::string& id, const std::string& cgroups_path,
                                      bool system);

// "0-3,5" -> the bit mask systemd's AllowedCPUs / AllowedMemoryNodes take (byte i, bit j is
// CPU 8i+j). `what` ("cpus", "mems") names the field in errors.
std::vector<uint8_t> cgroup_cpu_mask(const std::string& list, const std::string& what);

// exec --cgroup's arguments, as runc parses them: "PATH" (one argument: the same sub-cgroup in
// every hierarchy) or any number of "CONTROLLER[,CONTROLLER...]:PATH" -> controller -> path,
// "" for the first form. Throws nook::Error with runc's wording for an empty controller, a
// controller given twice, and a PATH without controller among several arguments.
std::map<std::string, std::string> cgroup_parse_sub_paths(const std::vector<std::string>& args);

// The pure side of cgroup_sub_placement: `v1_controllers[i]` are the controllers of the
// hierarchy of `p.v1[i]`. The path is below the container's cgroup ("/" is the cgroup itself;
// '..' is refused). "" applies to every directory; a controller to the v1 directory of its
// hierarchy (controllers sharing one must name the same path); where the placement has no v1
// directory, every controller must name the same path, which is then the v2 one (cgroup v2
// has a single hierarchy). A controller nook placed the container in no hierarchy of is
// refused. Directories no argument names stay the container's.
CgroupPlacement cgroup_sub_placement_for(
    const CgroupPlacement& p, const std::vector<std::vector<std::string>>& v1_controllers,
    const std::map<std::string, std::string>& subs);

// Which controllers exist where.
struct CgroupLayout {
  std::set<std::string> v1;  // controllers mounted as cgroup v1 hierarchies that nook may use
  std::set<std::string> v2;  // controllers usable in cgroup v2 (empty set if none)
  bool v2_mounted = false;
};

// One file to write. For v1, `controller` picks the hierarchy; for v2 it names the controller
// that must be enabled in the parents' cgroup.subtree_control ("" for core cgroup.* files).
struct CgroupWrite {
  bool v2 = false;
  std::string controller;
  std::string file;
  std::string value;
  std::string alt_file, alt_value;  // written instead when `file` does not exist
  bool best_effort = false;         // a failure is a warning (v1 device rules)
  bool operator==(const CgroupWrite&) const = default;
};

struct CgroupPlan {
  std::vector<CgroupWrite> writes;   // in order
  std::vector<std::string> ignored;  // one message per resource nook does not apply
  std::set<std::string> v1_needed;   // v1 controllers the writes go to
  std::set<std::string> v2_needed;   // v2 controllers to enable along the path
};

// Translates linux.resources (+ linux.devices for the v1 device allow-list) into file writes,
// following runc's conversions (cpu.weight from shares, memory.swap.max = swap - limit, ...).
// strict (root): a resource whose controller exists nowhere throws nook::Error; otherwise it
// goes to `ignored`.
CgroupPlan cgroup_plan(const Resources& r, const std::vector<Device>& devices,
                       const CgroupLayout& layout, bool strict);

// True if any resource other than device rules has a value (they are what the "ignored"
// warning is about; device rules are in every default config).
bool cgroup_resources_requested(const Resources& r);

// One cgroup hierarchy as mounted.
struct CgroupMount {
  bool v2 = false;
  std::string mountpoint;                // "/sys/fs/cgroup/memory"
  std::string root;                      // root of the mount within the hierarchy, usually "/"
  std::vector<std::string> controllers;  // v1: "memory", "cpu", "cpuacct", "name=systemd"
};

// Cgroup mounts from /proc/self/mountinfo text (the first mount of each hierarchy).
std::vector<CgroupMount> cgroup_parse_mountinfo(const std::string& text);

// /proc/PID/cgroup text -> (controllers "cpu,cpuacct" or "" for v2, path) pairs.
std::vector<std::pair<std::string, std::string>> cgroup_parse_proc(const std::string& text);

// Directory of cgroup `path` in a mount whose root is `mount_root`.
std::string cgroup_dir(const CgroupMount& m, const std::string& path);

}  // namespace nook
