// The container's filesystem: rootfs, config mounts, devices, pivot_root, masked and read-only
// paths. Runs in the container process, inside its new mount namespace.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

#include "config.hpp"
#include "fd.hpp"
#include "userns.hpp"

namespace nook {

// mount(2) flags and data decoded from an OCI mount's options.
struct MountOptions {
  unsigned long flags = 0;               // MS_* to set
  unsigned long clear = 0;               // MS_* explicitly cleared (rw, suid, dev, exec, ...)
  unsigned long propagation = 0;         // MS_PRIVATE/MS_SHARED/MS_SLAVE/MS_UNBINDABLE, | MS_REC
  bool bind = false, recursive = false;  // bind / rbind
  uint64_t attr_set = 0, attr_clr = 0;   // recursive mount_setattr (rro, rnosuid, rnoatime, ...)
  bool idmap = false, idmap_recursive = false;  // idmap / ridmap (ID-mapped bind mount)
  bool atime_given = false;                     // an atime option was given (relatime family)
  std::string data;                             // comma-separated filesystem options
  std::vector<std::string> ignored;             // options nook accepts and does not apply
};

// Pure: decodes options; throws nook::Error for options nook refuses.
MountOptions parse_mount_options(const std::vector<std::string>& opts, const std::string& where);

// The options parse_mount_options applies itself (its tables: not refused, not ignored, not
// passed to the filesystem as data), sorted: what `nook features` lists as mountOptions.
std::vector<std::string> mount_option_names();

// What to do when mount(2) of a filesystem of `type` with options `data` failed with `err`
// (`userns`: in a user namespace). Pure; unit-tested.
struct MountFallback {
  enum Kind { none, devpts_without_ids, bind_host } kind = none;
  const char* host = nullptr;  // bind_host: the host's instance to bind (recursively)
  bool read_only = false;      // bind_host: read-only throughout
};
MountFallback mount_fallback(const std::string& type, int err, bool userns,
                             const std::string& data);

struct FsPlan {
  const Config* cfg = nullptr;
  std::string bundle;
  // The bind sources the parent opened (send_bind_sources), by index of cfg->mounts; -1 (an
  // empty Fd) or missing: the source is resolved by path here, as before.
  const std::vector<Fd>* bind_sources = nullptr;
  bool userns = false;     // the container has its own (or a joined) user namespace
  bool can_mknod = false;  // real root in the initial user namespace
  bool new_pidns = false, new_netns = false, new_ipcns = false, new_cgroupns = false;
  bool no_pivot = false;
};

// Bind sources opened with the caller's credentials, as runc opens them on the host's side:
// a container in a user namespace of its own, made by a privileged caller (root), has a root
// that may not reach a source the caller can (below a directory of mode 0700 or 0000). Parent
// side, before GO: each bind source outside the rootfs is opened O_PATH in the container's
// new mount namespace (through /proc/PID/root, so that the mount belongs to it and the child
// may clone it) without following any symlink (RESOLVE_NO_SYMLINKS: no symlink, whoever
// controls it, is followed with the caller's rights), and sent to the child (kBindSources
// messages). A source that cannot be opened so is left to the child, resolved as before.
// ID-mapped mounts (any caller nook lets make them: privileged) are made here whatever the
// namespaces: each is sent as its detached tree, cloned and ID-mapped (idmap.hpp,
// IdmapTrees), with the mount's own mappings (a user namespace made for them, userns.hpp
// make_userns) or the container's user namespace.
void send_bind_sources(const Config& cfg, const std::string& bundle, const IdPlan& ids, pid_t child,
                       int channel);

// Whether `m` is a bind mount, by its type ("bind") or options ("bind", "rbind"), without
// parsing the others.
bool mount_is_bind(const Mount& m);

// Child side: the descriptors of one kBindSources message (`payload`: their mount indices)
// stored in `out` by mount index, each moved to `min_fd` or above (clear of the descriptors
// passed to the program).
void take_bind_sources(const std::string& payload, const std::vector<int>& fds, int min_fd,
                       size_t mounts, std::vector<Fd>& out);

// Mounts the rootfs, the config's mounts and the devices (before pivot_root).
void setup_rootfs(const FsPlan& plan);

// pivot_root (or MS_MOVE + chroot with no_pivot) into the rootfs; afterwards cwd is "/".
void enter_rootfs(const FsPlan& plan);

// Without a mount namespace of the container's: chroot into the rootfs (nothing is mounted,
// nothing can be moved); afterwards cwd is "/". Not a boundary for a process that keeps
// CAP_SYS_CHROOT (docs/config-keys.md).
void chroot_rootfs(const std::string& rootfs);

// After pivot_root: read-only paths, masked paths, read-only root.
void finish_rootfs(const FsPlan& plan);

// With no /dev mount of the config's (the image's own /dev receives the device nodes): the
// device paths set-up would create that do not exist in the rootfs yet. Parent side, before
// the container process is made.
std::vector<std::string> absent_device_nodes(const Config& cfg);

// A create that failed: removes what set-up made at those paths (device nodes, and the empty
// files host devices were bound onto), so the bundle's rootfs is as it was. Parent side,
// after the container process (and its mount namespace) is gone.
void remove_device_nodes(const std::string& rootfs, const std::vector<std::string>& paths);

// After pivot_root: binds the terminal `tty_fd` (the pty's slave) over /dev/console, creating
// an empty file there when there is none, as the spec's default devices ask. Symlinks on the
// way, or a /dev/console on procfs or sysfs, are refused; a /dev that cannot take the new file
// (read-only image /dev) gets a warning.
void bind_console(int tty_fd);

// Opens `path` inside the directory tree rooted at `rootfd` (openat2 RESOLVE_IN_ROOT), creating
// missing components (directories, and the last one as a file when `file` is true).
// Symlinks are followed inside the root only.
Fd open_in_root(int rootfd, const std::string& path, bool create, bool file,
                bool no_symlinks = false);

}  // namespace nook
