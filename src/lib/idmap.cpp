#include "idmap.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "error.hpp"
#include "keys.hpp"
#include "mounts_internal.hpp"

namespace nook {

bool mount_idmapped(const Mount& m) {
  if (!m.uid_mappings.empty()) return true;
  return std::any_of(m.options.begin(), m.options.end(),
                     [](const std::string& o) { return o == "idmap" || o == "ridmap"; });
}

int IdmapTrees::userns(const Mount& m) {
  if (m.uid_mappings.empty()) {
    if (!own_) {
      std::string path = !ids_.join_path.empty() ? ids_.join_path
                         : ids_.new_userns       ? "/proc/" + std::to_string(child_) + "/ns/user"
                                                 : "";
      if (path.empty())
        fail("mount " + m.destination + ": idmap: the container has no user namespace");
      own_ = Fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
      if (!own_) throw_sys("open", path);
    }
    return own_.get();
  }
  for (auto& e : made_)
    if (e.uid == m.uid_mappings && e.gid == m.gid_mappings) return e.fd.get();
  made_.push_back({m.uid_mappings, m.gid_mappings, make_userns(m.uid_mappings, m.gid_mappings)});
  return made_.back().fd.get();
}

// Made in the parent: the kernel lets only a caller with CAP_SYS_ADMIN in the user namespace
// that owns the source's filesystem set MOUNT_ATTR_IDMAP (for a disk filesystem of the host:
// the initial one), which the container's process, in a user namespace of its own, does not
// have. The container's process sets its flags and propagation and attaches it (bind_mount).
Fd IdmapTrees::tree(const Mount& m, const std::string& source) {
  int ns = userns(m);
  MountOptions o = parse_mount_options(m.options, m.destination);
  struct open_how how = {};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  Fd src(openat2_retry(AT_FDCWD, source.c_str(), &how));
  if (!src && errno == ELOOP)
    fail("mount " + m.destination + ": source " + source +
         ": an ID-mapped mount's source is opened with the caller's rights and may not pass "
         "through a symlink");
  if (!src) throw_sys("mount " + m.destination + ": source", source);
  unsigned otf =
      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (o.recursive ? AT_RECURSIVE : 0);
  Fd tree(static_cast<int>(syscall(SYS_open_tree, src.get(), "", otf)));
  if (!tree) mount_fail(("(open_tree " + source + ")").c_str(), m, errno);
  mount_attr a = {};
  a.attr_set = MOUNT_ATTR_IDMAP;
  a.userns_fd = static_cast<uint64_t>(ns);
  unsigned fl = AT_EMPTY_PATH | (o.idmap_recursive ? AT_RECURSIVE : 0);
  if (syscall(SYS_mount_setattr, tree.get(), "", fl, &a, sizeof a) != 0) {
    int e = errno;
    std::string what =
        sys_message("mount " + m.destination + ": mount_setattr MOUNT_ATTR_IDMAP", source, e);
    if (e == EPERM) fail(what + ": " + key_reason("/mounts/*/options", "idmap"));
    if (e == EINVAL)
      fail(what +
           " (the filesystem does not support ID-mapped mounts on this kernel, or the "
           "mapping is the filesystem's own)");
    throw Error(what, e);
  }
  return tree;
}

}  // namespace nook
