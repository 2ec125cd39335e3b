// What the set-up files of the container's file system share (mounts.cpp, masks.cpp,
// devices.cpp, sysctl.cpp, idmap.cpp); not an interface for other modules (mounts.hpp is).
#pragma once
#include <linux/openat2.h>
#include <sys/types.h>

#include <string>

#include "mounts.hpp"

namespace nook {

// openat2(2); EAGAIN (a rename raced with the ".." walk of RESOLVE_IN_ROOT: the kernel could
// not prove the result stays inside) is retried, as the man page asks.
int openat2_retry(int dirfd, const char* path, struct open_how* how);

// "/proc/self/fd/N": a path naming what `fd` is open on (mount(2) takes paths).
std::string fd_path(int fd);

// Flags of the mount at `fd` that an unprivileged user namespace may not clear (they are
// "locked" when the mount was inherited from a more privileged namespace).
unsigned long locked_flags(int fd);

// Throws "mount WHAT DESTINATION: errno text" for mount `m`.
[[noreturn]] void mount_fail(const char* what, const Mount& m, int err);

// linux.rootfsPropagation as mount(2) flags (rslave, the default, when empty).
unsigned long rootfs_propagation(const std::string& p);

// "directory", "symlink", "character device", ... for messages.
const char* file_kind(mode_t m);

// The container's /dev: the spec's default devices (not those linux.devices overrides), the
// standard symlinks when /dev is nook's own tmpfs, and linux.devices. In the child, with the
// root at `rootfd` before pivot_root.
void setup_dev(const FsPlan& plan, int rootfd, bool dev_is_ours);

}  // namespace nook
