// User namespace policy: which IDs the container gets, and writing the maps.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

#include "config.hpp"
#include "fd.hpp"

namespace nook {

struct IdPlan {
  bool new_userns = false;  // clone with CLONE_NEWUSER
  std::string join_path;    // setns into this user namespace instead
  bool single_id = false;   // Charliecloud mapping: one ID, setgroups denied
  std::vector<IdMapping> uid_map, gid_map;
  uid_t host_uid = 0;  // caller's effective IDs
  gid_t host_gid = 0;
  bool privileged = false;  // caller may grant mappings / mount without a new userns
  // The caller's own user namespace, read once (/proc/self/uid_map) for a privileged caller:
  // the initial one (real root: device nodes can be made), or one that maps a single ID
  // (root of rootless Buildah's or Podman's namespace for a user with no /etc/subuid entry,
  // where chown to another ID fails exactly as in single-ID mode).
  bool caller_in_initial_userns = false;
  bool inherited_single_id = false;
  std::string reason;  // why nook made or changed the user namespace (for the log)
  // Set when the config's mappings were asked for and something else is given (a warning:
  // the container's files and processes will not have the owners the config meant).
  std::string warning;
};

// True when the caller is uid 0 with CAP_SYS_ADMIN, CAP_SETUID and CAP_SETGID in its own user
// namespace (real root, or root inside Buildah's or Podman's user namespace).
bool caller_privileged();

// Decides the user namespace for `cfg` as run by the current caller.
IdPlan plan_ids(const Config& cfg, bool privileged);

// The caller's own uid_map (/proc/self/uid_map; empty when unreadable).
using OwnUidMap = std::vector<IdMapping> (*)();

// plan_ids with the caller's facts given, pure (unit tests): its effective `uid` and `gid`, and
// `own_map`, called only when a privileged caller needs its own namespace's mapping.
IdPlan plan_ids(const Config& cfg, bool privileged, uid_t uid, gid_t gid, OwnUidMap own_map);

// True if container uid `id` is mapped by `map`.
bool id_mapped(const std::vector<IdMapping>& map, uint32_t id);

// Writes /proc/PID/{setgroups,uid_map,gid_map} from the parent.
void write_id_maps(pid_t pid, const IdPlan& plan);

// A new user namespace with these maps (an ID-mapped mount's: mount_setattr(2) takes the
// mapping as a user namespace descriptor). A process is cloned into it to hold it while the
// maps are written (the kernel has no other way to make one for another mapping), and ends
// once the namespace's descriptor is open. Needs CAP_SETUID and CAP_SETGID over the host IDs
// (a privileged caller); parent side.
Fd make_userns(const std::vector<IdMapping>& uid_map, const std::vector<IdMapping>& gid_map);

}  // namespace nook
