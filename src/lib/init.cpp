// The container process, step by step. Everything here runs in the child of clone(); it is a
// copy-on-write image of a single-threaded parent, so allocation is safe until execve.
#include "init.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "error.hpp"
#include "fd.hpp"
#include "fileio.hpp"
#include "hooks.hpp"
#include "log.hpp"
#include "mounts.hpp"
#include "namespaces.hpp"
#include "process.hpp"
#include "seccomp.hpp"
#include "spawn.hpp"
#include "sync.hpp"
#include "sysctl.hpp"
#include "testpause.hpp"
#include "tty.hpp"

namespace nook {
namespace {

void loopback_up() {
  Fd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) throw_sys("socket", "lo");
  struct ifreq ifr = {};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &ifr) != 0) throw_sys("ioctl SIOCGIFFLAGS", "lo");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &ifr) != 0) throw_sys("ioctl SIOCSIFFLAGS", "lo");
}

// The namespaces: existing ones joined, the user namespace first, so that we hold
// capabilities over the others (setns(2) checks CAP_SYS_ADMIN in the target's owning user
// namespace); container root become for the set-up; then those clone() cannot make.
void enter_namespaces(const InitSpec& s) {
  const Config& cfg = *s.cfg;
  for (auto& [type, fd] : s.join)
    if (::setns(fd, ns_clone_flag(type)) != 0)
      throw_sys("setns", std::string(ns_name(type)) + " namespace");

  // In a new user namespace with container root mapped, become that root for the set-up
  // (a root-created namespace starts with our host uid, which is unmapped there).
  if (s.ids.new_userns && !s.ids.single_id && id_mapped(s.ids.uid_map, 0) &&
      id_mapped(s.ids.gid_map, 0)) {
    if (syscall(SYS_setresgid, 0, 0, 0) != 0) throw_sys("setresgid", "0");
    if (syscall(SYS_setresuid, 0, 0, 0) != 0) throw_sys("setresuid", "0");
  }
  // Namespaces clone() cannot make here: cgroup (after the parent placed us in our cgroup)
  // and time (clone() has no flag for it; it applies to us from execve on).
  if (cfg.linux.own_ns(NsType::cgroup))
    if (::unshare(CLONE_NEWCGROUP) != 0) throw_sys("unshare", "cgroup namespace");
  if (cfg.linux.own_ns(NsType::time)) {
    if (::unshare(CLONE_NEWTIME) != 0) throw_sys("unshare", "time namespace");
    std::string offs;
    for (auto& [clock, secs] : cfg.linux.time_offsets_secs)
      offs += clock + " " + std::to_string(secs) + " " +
              std::to_string(cfg.linux.time_offsets_nanosecs.at(clock)) + "\n";
    if (!offs.empty()) {
      // Non-dumpable, /proc/self is root's: writable again for this one write.
      ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
      write_or_throw("/proc/self/timens_offsets", offs, "linux.timeOffsets");
      ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
  }
}

// Hostname, domain name, the loopback interface of a new network namespace, the session
// keyring.
void set_identity(const InitSpec& s) {
  const Config& cfg = *s.cfg;
  if (!cfg.hostname.empty() && ::sethostname(cfg.hostname.data(), cfg.hostname.size()) != 0)
    throw_sys("sethostname", cfg.hostname);
  if (!cfg.domainname.empty() && ::setdomainname(cfg.domainname.data(), cfg.domainname.size()) != 0)
    throw_sys("setdomainname", cfg.domainname);
  if (cfg.linux.own_ns(NsType::network)) loopback_up();
  if (!s.no_new_keyring) {
    std::string name = "_ses." + s.id;
    if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name.c_str()) < 0 && errno != ENOSYS &&
        errno != EPERM && errno != EACCES)
      throw_sys("keyctl", "join session keyring");
  }
}

// What the mount set-up needs to know of this container.
FsPlan fs_plan(const InitSpec& s, const std::vector<Fd>& bind_sources) {
  const Config& cfg = *s.cfg;
  FsPlan fs;
  fs.cfg = &cfg;
  fs.bundle = s.bundle;
  fs.bind_sources = &bind_sources;
  fs.userns = s.ids.new_userns || !s.ids.join_path.empty();
  // Device nodes need CAP_MKNOD in the initial user namespace; root inside Buildah's or
  // Podman's user namespace has it only there, so it binds the host's nodes instead.
  fs.can_mknod =
      !fs.userns && s.ids.privileged && has_cap(CAP_MKNOD) && s.ids.caller_in_initial_userns;
  auto own = [&](NsType t) {
    auto* n = cfg.linux.find_ns(t);
    return n && n->path.empty();
  };
  fs.new_pidns = own(NsType::pid);
  fs.new_netns = own(NsType::network);
  fs.new_ipcns = own(NsType::ipc);
  fs.new_cgroupns = own(NsType::cgroup);
  fs.no_pivot = s.no_pivot;
  return fs;
}

// Set-up up to the point where the program may be started. Errors throw nook::Error.
Prepared prepare(const InitSpec& s, const std::string& state_json, std::vector<Fd>& bind_sources) {
  const Config& cfg = *s.cfg;
  const Process& proc = *s.process;
  enter_namespaces(s);
  set_identity(s);

  // apply_sched_attrs may write /proc/self/oom_score_adj (see container_init on dumpable):
  // before the container's mounts, so that the path is nook's /proc.
  if (proc.oom_score_adj) ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
  apply_sched_attrs(proc, cfg.linux);
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

  // Filesystem.
  ::umask(0);
  FsPlan fs = fs_plan(s, bind_sources);
  // Lifecycle steps 3-5 begin: the parent marks the state created (what the hooks are
  // told), runs prestart and createRuntime, and lets us go on to createContainer.
  if (!cfg.hooks.prestart.empty() || !cfg.hooks.create_runtime.empty() ||
      !cfg.hooks.create_container.empty()) {
    sync::send(s.sync_fd, sync::kHooks);
    child_wait(s.sync_fd, sync::kHooksDone);
  }
  if (cfg.linux.find_ns(NsType::mount)) {
    // Sysctls first, through a procfs of nook's, before any file of the image is in reach.
    write_sysctls(cfg);
    setup_rootfs(fs);
    bind_sources.clear();
    test_pause("init-rootfs");
    // createContainer hooks: in the container's namespaces, before pivot_root, so their
    // paths still resolve in the runtime's filesystem.
    run_hooks(cfg.hooks.create_container, state_json, "createContainer", false, -1, &proc.env);
    enter_rootfs(fs);
    // Nothing of the host may stay reachable from here on: close every descriptor but
    // stdio, the preserved ones, and our own channels (all close-on-exec).
    close_fds_except(s.preserve_fds, {s.sync_fd, s.fifo_fd, s.console_fd, s.log_fd});
    finish_rootfs(fs);
  } else {
    // No mount namespace: the container shares nook's (docs/config-keys.md). Nothing is
    // mounted (check_without_mount_ns refused what would be, and no /dev is made); the rootfs
    // becomes the root by chroot, as runc does then. CAP_SYS_CHROOT is checked in our own user
    // namespace: root, or root of the single-ID namespace nook made, has it.
    write_sysctls(cfg);
    run_hooks(cfg.hooks.create_container, state_json, "createContainer", false, -1, &proc.env);
    chroot_rootfs(cfg.root.path);
    // As after pivot_root: a descriptor of the host's tree would lead out of the chroot.
    close_fds_except(s.preserve_fds, {s.sync_fd, s.fifo_fd, s.console_fd, s.log_fd});
  }

  if (proc.terminal && s.console_fd >= 0) {
    setup_terminal(s.console_fd, proc);
    bind_console(0);  // the program's stdin is now the pty's slave
  } else if (::setsid() < 0 && errno != EPERM) {
    throw_sys("setsid");
  }

  apply_rlimits(proc.rlimits);

  // Seccomp, user, capabilities, cwd, executable: as for exec.
  return finish_process(proc, cfg.linux.seccomp ? &*cfg.linux.seccomp : nullptr, s.emulate_root,
                        !s.ids.single_id || s.ids.privileged, s.sync_fd);
}

}  // namespace

void container_init(const InitSpec& s) {
  // Signals blocked by the parent (to forward them) must not stay blocked for the program.
  ::sigprocmask(SIG_SETMASK, &s.parent_mask, nullptr);
  // Until the program runs, the container dies with nook (create: cleared before READY).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  // GO carries the state JSON for the hooks that run in here; before it may come the bind
  // sources the parent opened for us (send_bind_sources).
  std::string state_json;
  std::vector<Fd> bind_sources;
  for (; !s.shared_vm;) {
    sync::Msg m;
    std::vector<int> fds;
    if (!sync::recv(s.sync_fd, &m, &state_json, &fds)) _exit(1);  // the parent gave up
    if (m == sync::kGo && fds.empty()) break;
    if (m != sync::kBindSources) _exit(1);
    child_try(s.sync_fd, [&] {
      take_bind_sources(state_json, fds, 3 + s.preserve_fds, s.cfg->mounts.size(), bind_sources);
      return 0;
    });
  }
  // This process runs nook's binary until execve. Non-dumpable, its /proc/PID/{exe,fd,mem,
  // root} are closed to every process without CAP_SYS_PTRACE in the host's user namespace,
  // so nothing in the container can take hold of nook's binary or our descriptors
  // (CVE-2019-5736 class; docs/errors.md). execve makes the program dumpable again. Set
  // after GO: the parent has written our uid/gid maps, which needs us dumpable.
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
    child_die(s.sync_fd, sync::kError, sys_message("prctl", "PR_SET_DUMPABLE", errno));
  join_own_cgroups(s.cgroup_tasks, s.sync_fd);
  test_pause("init-go");
  Prepared p = child_try(s.sync_fd, [&] { return prepare(s, state_json, bind_sources); });
  if (!s.foreground) {
    // create: report ready, then wait for `start` to write the exec fifo. The parent exits
    // after READY, so the death signal must go first.
    test_pause("init-ready");
    ::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
    sync::send(s.sync_fd, sync::kReady);
    struct pollfd pf = {s.fifo_fd, POLLIN, 0};
    for (;;) {
      int r = ::poll(&pf, 1, -1);
      if (r > 0) break;
      if (r < 0 && errno != EINTR) _exit(1);
    }
    char c;
    if (::read(s.fifo_fd, &c, 1) != 1) _exit(1);
  }
  try {
    // startContainer hooks: in the container, after start, before the program.
    run_hooks(s.cfg->hooks.start_container, state_json, "startContainer", false, -1,
              &s.process->env);
    if (s.listen_fds > 0) add_listen_env(p.env, s.listen_fds);
    exec_process(p.exe, s.process->args, p.env);
  } catch (const std::exception& e) {
    child_die(s.sync_fd, sync::kExecFailed, e.what());
  }
}

}  // namespace nook
