// The container's file system after pivot_root (child side): read-only and masked paths, the
// read-only root, and the terminal bound over /dev/console. "/" is the container's root now:
// every path is resolved from it with RESOLVE_IN_ROOT, never through the image's symlinks.
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>

#include "error.hpp"
#include "log.hpp"
#include "mounts_internal.hpp"

namespace nook {
namespace {

// maskedPaths and readonlyPaths run after pivot_root, so "/" is the container's root, opened
// once for all of them. Each path is resolved with RESOLVE_IN_ROOT from it (a symlink in the
// image cannot lead anywhere else, not even through /proc magic links) and the new mount is
// attached to the resolved descriptor with move_mount(2): no path is looked up a second time.
Fd resolve_in_container(int root, const std::string& path) {
  struct open_how how = {};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return Fd(openat2_retry(root, path.c_str(), &how));
}

void attach(int tree, int target, const char* what, const std::string& path) {
  if (syscall(SYS_move_mount, tree, "", target, "",
              MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
    throw_sys(std::string("move_mount (") + what + ")", path);
}

// The container's /dev/null, checked to be the real device, opened at the first masked file
// and cloned for each one after it.
struct NullDevice {
  Fd fd;
  int get(int root, const std::string& masked) {
    if (fd) return fd.get();
    fd = resolve_in_container(root, "/dev/null");
    struct stat ns;
    if (!fd || ::fstat(fd.get(), &ns) != 0 || !S_ISCHR(ns.st_mode) || ns.st_rdev != makedev(1, 3))
      fail("masked path " + masked +
           ": the container has no /dev/null character device to mask it with");
    return fd.get();
  }
};

// Masks `path`: /dev/null over a file, an empty read-only tmpfs over a directory. A path
// that does not exist in the container has nothing to mask.
void mask_path(int root, const std::string& path, NullDevice& null) {
  Fd target = resolve_in_container(root, path);
  if (!target) {
    if (errno == ENOENT || errno == ENOTDIR) return;
    throw_sys("open (masked path)", path);
  }
  struct stat st;
  if (::fstat(target.get(), &st) != 0) throw_sys("stat", path);
  Fd tree;
  if (S_ISDIR(st.st_mode)) {
    Fd fs(static_cast<int>(syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC)));
    if (!fs) throw_sys("fsopen tmpfs (mask)", path);
    if (syscall(SYS_fsconfig, fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
      throw_sys("fsconfig tmpfs (mask)", path);
    tree.reset(static_cast<int>(
        syscall(SYS_fsmount, fs.get(), FSMOUNT_CLOEXEC,
                MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)));
    if (!tree) throw_sys("fsmount tmpfs (mask)", path);
  } else {
    tree.reset(static_cast<int>(syscall(SYS_open_tree, null.get(root, path), "",
                                        OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH)));
    if (!tree) throw_sys("open_tree /dev/null (mask)", path);
  }
  attach(tree.get(), target.get(), "mask", path);
}

// Makes `path` read-only: a recursive bind of it onto itself, read-only at every level.
void readonly_path(int root, const std::string& path) {
  Fd target = resolve_in_container(root, path);
  if (!target) {
    if (errno == ENOENT || errno == ENOTDIR) return;
    throw_sys("open (read-only path)", path);
  }
  Fd tree(static_cast<int>(
      syscall(SYS_open_tree, target.get(), "",
              OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE)));
  if (!tree) throw_sys("open_tree (read-only path)", path);
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_RDONLY;
  if (syscall(SYS_mount_setattr, tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
              sizeof attr) != 0)
    throw_sys("mount_setattr read-only", path);
  attach(tree.get(), target.get(), "read-only", path);
}

}  // namespace

void finish_rootfs(const FsPlan& plan) {
  const Config& cfg = *plan.cfg;
  Fd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) throw_sys("open", "/");
  for (auto& p : cfg.linux.readonly_paths) readonly_path(root.get(), p);
  NullDevice null;
  for (auto& p : cfg.linux.masked_paths) mask_path(root.get(), p, null);
  if (cfg.root.readonly) {
    unsigned long f = MS_REMOUNT | MS_BIND | MS_RDONLY;
    if (::mount(nullptr, "/", nullptr, f, nullptr) != 0 &&
        (errno != EPERM ||
         ::mount(nullptr, "/", nullptr, f | locked_flags(root.get()), nullptr) != 0))
      throw_sys("mount (remount root read-only)", "/");
  }
}

void bind_console(int tty_fd) {
  Fd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) throw_sys("open", "/");
  // No symlink anywhere on the way: the mount must land on the container's own /dev/console,
  // not on a file an image (or a racing process) points it to, such as one in /proc/sys.
  auto open_no_links = [&](const char* path, uint64_t flags) {
    struct open_how how = {};
    how.flags = flags | O_CLOEXEC | O_NOFOLLOW;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS;
    return Fd(openat2_retry(root.get(), path, &how));
  };
  Fd target = open_no_links("/dev/console", O_PATH);
  if (!target && errno == ENOENT) {
    Fd dev = open_no_links("/dev", O_PATH | O_DIRECTORY);
    if (dev)
      target.reset(::openat(dev.get(), "console",
                            O_CREAT | O_EXCL | O_NOFOLLOW | O_RDONLY | O_CLOEXEC, 0600));
    if (!target) {
      log::warn(sys_message("create", "/dev/console", errno) + ": the terminal is not bound there");
      return;
    }
  }
  if (!target) throw_sys("open", "/dev/console (symlinks refused)");
  struct stat st;
  struct statfs sf;
  if (::fstat(target.get(), &st) != 0) throw_sys("stat", "/dev/console");
  if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
    fail("/dev/console in the container is a " + std::string(file_kind(st.st_mode)) +
         ", not a file or a character device");
  if (::fstatfs(target.get(), &sf) != 0) throw_sys("statfs", "/dev/console");
  if (sf.f_type == PROC_SUPER_MAGIC || sf.f_type == SYSFS_MAGIC)
    fail("/dev/console in the container is on procfs or sysfs");
  Fd tree(static_cast<int>(
      syscall(SYS_open_tree, tty_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH)));
  if (!tree) throw_sys("open_tree (terminal)", "/dev/console");
  attach(tree.get(), target.get(), "terminal", "/dev/console");
}

}  // namespace nook
