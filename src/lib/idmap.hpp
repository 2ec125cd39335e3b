// ID-mapped mounts (the `idmap` and `ridmap` options, `mounts[].uidMappings`): parent side.
// mount_setattr(2) MOUNT_ATTR_IDMAP needs CAP_SYS_ADMIN in the user namespace that owns the
// source's filesystem (the initial one for the host's disks), which the container's process,
// in a user namespace of its own, does not have: nook makes each ID-mapped tree before GO and
// sends it with the bind sources (mounts.hpp, send_bind_sources); the child gives it its
// flags and propagation and attaches it (mounts.cpp, bind_mount).
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

#include "config.hpp"
#include "fd.hpp"
#include "userns.hpp"

namespace nook {

// Whether `m` is an ID-mapped mount: it has uidMappings (and gidMappings: config checks
// they go together) or the idmap or ridmap option.
bool mount_idmapped(const Mount& m);

// The ID-mapped trees of one create, and the user namespaces that carry their mappings: one
// per distinct mapping of the mounts' own (made for it, userns.hpp make_userns), else the
// container's user namespace (joined by path, or the one made for the container process
// `child`).
class IdmapTrees {
 public:
  IdmapTrees(const IdPlan& ids, pid_t child) : ids_(ids), child_(child) {}

  // `m`'s tree, detached and ID-mapped: `source` (the mount's source, absolute) opened in
  // nook's mount namespace with the caller's rights and without following any symlink
  // (RESOLVE_NO_SYMLINKS, as send_bind_sources), cloned (open_tree, recursively for rbind),
  // and the clone given the mapping (recursively for ridmap).
  Fd tree(const Mount& m, const std::string& source);

 private:
  // The user namespace whose mapping `m` gets: its own mappings, else the container's.
  int userns(const Mount& m);

  struct Made {
    std::vector<IdMapping> uid, gid;
    Fd fd;
  };
  const IdPlan& ids_;
  pid_t child_;
  Fd own_;
  std::vector<Made> made_;
};

}  // namespace nook
