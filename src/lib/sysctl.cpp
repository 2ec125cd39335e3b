// linux.sysctl (sysctl.hpp): checked in the parent against nook's own namespaces, written in
// the container's namespaces through a procfs the container has not touched.
#include "sysctl.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "error.hpp"
#include "mounts_internal.hpp"
#include "namespaces.hpp"

namespace nook {

void validate_sysctls(const Config& cfg, const std::string& file) {
  // The container's own namespace of a kind: created for it, or joined by path and not the
  // one nook itself runs in (a namespaced sysctl written there would change the host's).
  auto own = [&](NsType t) {
    auto* n = cfg.linux.find_ns(t);
    if (!n) return false;
    return n->path.empty() || ns_path_differs(n->path, t);
  };
  for (auto& [key, value] : cfg.linux.sysctl) {
    bool ipc = key == "kernel.msgmax" || key == "kernel.msgmnb" || key == "kernel.msgmni" ||
               key == "kernel.sem" || key == "kernel.shmall" || key == "kernel.shmmax" ||
               key == "kernel.shmmni" || key == "kernel.shm_rmid_forced" ||
               key.rfind("fs.mqueue.", 0) == 0;
    bool uts = key == "kernel.hostname" || key == "kernel.domainname";
    bool net = key.rfind("net.", 0) == 0;
    std::string where = file + ": /linux/sysctl/" + key + ": ";
    if (key.find("..") != std::string::npos || key.find('/') != std::string::npos)
      fail(where + "invalid sysctl name");
    // The spec has keys of its own for these; runc and crun refuse kernel.hostname, and crun
    // a kernel.domainname that differs from `domainname` (the two would race).
    if (key == "kernel.hostname")
      fail(where + "not allowed: set the container's host name with the spec's `hostname` key");
    if (key == "kernel.domainname" && !cfg.domainname.empty() && value != cfg.domainname)
      fail(where + "conflicts with the spec's `domainname` key (\"" + cfg.domainname +
           "\"); set only `domainname`");
    if (ipc && !own(NsType::ipc)) fail(where + "needs an IPC namespace of the container's own");
    if (uts && !own(NsType::uts)) fail(where + "needs a UTS namespace of the container's own");
    if (net && !own(NsType::network))
      fail(where + "needs a network namespace of the container's own");
    if (!ipc && !uts && !net) fail(where + "not a namespaced sysctl; it would change the host");
  }
}

namespace {

// A procfs to write sysctls through that nothing in the container has touched: a new,
// detached instance (fsopen), or else the runtime's own /proc, still reachable before
// pivot_root. Never the container's /proc, which the image or a racing process may have
// replaced or overmounted (CVE-2025-52881).
Fd sysctl_procfs() {
  Fd fs(static_cast<int>(syscall(SYS_fsopen, "proc", FSOPEN_CLOEXEC)));
  if (fs && syscall(SYS_fsconfig, fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) == 0) {
    Fd m(static_cast<int>(syscall(SYS_fsmount, fs.get(), FSMOUNT_CLOEXEC,
                                  MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)));
    if (m) return m;
  }
  // Not permitted (a user namespace that does not own our PID namespace, or a /proc with
  // overmounts in it): the /proc nook was started with.
  Fd proc(::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC));
  struct statfs sf;
  if (!proc || ::fstatfs(proc.get(), &sf) != 0 || sf.f_type != PROC_SUPER_MAGIC)
    fail("linux.sysctl: nook's /proc is not a procfs to write sysctls through");
  return proc;
}

}  // namespace

void write_sysctls(const Config& cfg) {
  if (cfg.linux.sysctl.empty()) return;
  Fd proc = sysctl_procfs();
  for (auto& [key, value] : cfg.linux.sysctl) {
    std::string path = "sys/" + key;
    for (size_t i = 4; i < path.size(); i++)
      if (path[i] == '.') path[i] = '/';
    // No symlink, no mount crossed below the procfs root: the file is that procfs's sysctl.
    struct open_how how = {};
    how.flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
    Fd fd(openat2_retry(proc.get(), path.c_str(), &how));
    if (!fd || ::write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size()))
      throw_sys("write sysctl", key);
  }
}

}  // namespace nook
