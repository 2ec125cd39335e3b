// exec, parent side and child side.
//
// Parent (nook exec):
//   load the state (shared lock), check the container runs, build the process (flags or
//   --process, defaults from the container's config.json copy)
//   pidfd of the container's process; /proc/PID/ns and /proc/PID/root; start time re-checked
//   join the container's PID namespace for our children (first its user namespace when we are
//   unprivileged: only there do we hold CAP_SYS_ADMIN over it)
//   clone3(CLONE_INTO_CGROUP) straight into the container's cgroup v2 (else clone + migrate);
//   the child joins the v1 hierarchies itself ("0" to their `tasks` files: no migration)
//   wait on the SOCK_SEQPACKET channel: EOF means the program runs, a message is an error
//   --detach: pid file, return 0; else forward signals, proxy the pty, return the status
// Child (direct child of nook exec, already in the container's PID namespace):
//   setns(pidfd, every other namespace that differs from ours) in one atomic call
//   the container's root (chroot to /proc/PID/root: right after pivot_root and --no-pivot)
//   terminal or new session, keyring, descriptors, rlimits, scheduling, environment,
//   seccomp profile, user, capabilities, no_new_privs, umask, cwd, root emulation, execve:
//   the same order as init.cpp.
#include "exec.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "container.hpp"
#include "error.hpp"
#include "fd.hpp"
#include "fileio.hpp"
#include "keys.hpp"
#include "log.hpp"
#include "names.hpp"
#include "namespaces.hpp"
#include "process.hpp"
#include "procfs.hpp"
#include "seccomp.hpp"
#include "spawn.hpp"
#include "state.hpp"
#include "sync.hpp"
#include "testpause.hpp"
#include "tty.hpp"
#include "userns.hpp"

namespace nook {
namespace {

// --- The process ------------------------------------------------------------------------------

uint32_t parse_u32(const std::string& s, const std::string& what) {
  if (s.empty() || s.size() > 10 ||
      !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    fail(what + ": \"" + s + "\" is not a number");
  unsigned long long v = std::stoull(s);
  if (v > 0xfffffffeULL) fail(what + ": " + s + " is out of range");
  return static_cast<uint32_t>(v);
}

// "sys_admin", "CAP_SYS_ADMIN" -> the capability number; throws for unknown names.
int parse_cap(const std::string& name) {
  std::string n = name;
  for (auto& c : n) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (n.rfind("CAP_", 0) != 0) n = "CAP_" + n;
  int cap = cap_from_name(n);
  if (cap < 0) fail("--cap " + name + ": unknown capability");
  return cap;
}

void set_env(std::vector<std::string>& env, const std::string& kv) {
  auto eq = kv.find('=');
  if (eq == std::string::npos || eq == 0) fail("--env " + kv + ": expected NAME=VALUE");
  std::string_view name(kv.data(), eq + 1);  // "NAME="
  for (auto& e : env)
    if (std::string_view(e).substr(0, name.size()) == name) {
      e = kv;
      return;
    }
  env.push_back(kv);
}

// --- The child --------------------------------------------------------------------------------

// What the child needs, prepared before clone(); the child reads its copy-on-write image.
struct ExecChild {
  const Config* cfg = nullptr;
  const Process* proc = nullptr;
  std::string id;
  int sync_fd = -1;     // child's end of the channel
  int console_fd = -1;  // where the pty master goes (terminal)
  int log_fd = -1;
  int pidfd = -1;        // the container's process (-1: kernel without pidfd_open)
  int nsdir = -1;        // /proc/PID/ns of the container's process
  int root_fd = -1;      // /proc/PID/root of the container's process
  int ns_flags = 0;      // CLONE_NEW* to join in the child
  bool wait_go = false;  // the parent still has to place us in the v2 cgroup
  // cgroup v1 `tasks` files (descriptor, path) we write "0" to: the process joins the v1
  // hierarchies itself, without a migration (container.cpp, prepare_cgroup)
  std::vector<TasksFile> cgroup_tasks;
  bool setgroups_ok = true;
  bool emulate_root = false;
  int preserve_fds = 0;
  sigset_t parent_mask;
};

void join_namespaces(const ExecChild& c) {
  if (!c.ns_flags) return;
  // One call, all namespaces at once (Linux >= 5.8): the kernel joins the user namespace
  // first and checks the others against it; nothing is half-joined when it fails.
  if (c.pidfd >= 0 && ::setns(c.pidfd, c.ns_flags) == 0) return;
  if (c.pidfd >= 0 && errno != EINVAL) throw_sys("setns", "namespaces of the container's process");
  // Older kernels: one namespace file at a time, in ns_join_order().
  std::vector<NsJoin> fds;
  for (NsType t : ns_join_order()) {
    if (!(c.ns_flags & ns_clone_flag(t))) continue;
    Fd fd(::openat(c.nsdir, ns_proc_name(t), O_RDONLY | O_CLOEXEC));
    if (!fd)
      throw_sys("open",
                std::string("/proc/PID/ns/") + ns_proc_name(t) + " of the container's process");
    fds.push_back(NsJoin{t, std::move(fd)});
  }
  for (auto& [t, fd] : fds)
    if (::setns(fd.get(), ns_clone_flag(t)) != 0)
      throw_sys("setns", std::string(ns_name(t)) + " namespace of the container");
}

Prepared prepare(const ExecChild& c) {
  const Process& proc = *c.proc;
  const Config& cfg = *c.cfg;
  // Before the container's namespaces: /proc/self/oom_score_adj is nook's /proc here, not a
  // path the container's mounts decide (CVE-2025-52881 class).
  apply_sched_attrs(proc, cfg.linux);
  join_namespaces(c);
  test_pause("exec-joined");
  // setns(CLONE_NEWNS) put us at the root of the mount namespace, which pivot_root made the
  // container's root; after --no-pivot the container's root is a chroot below it. Taking
  // the root of the container's process covers both.
  if (c.root_fd >= 0) {
    if (::fchdir(c.root_fd) != 0) throw_sys("fchdir", "root of the container's process");
    if (::chroot(".") != 0) throw_sys("chroot", "root of the container's process");
  }
  // Nothing of the host may stay reachable: close every descriptor but stdio, the
  // preserved ones and our channels (close-on-exec).
  close_fds_except(c.preserve_fds, {c.sync_fd, c.console_fd, c.log_fd});

  if (proc.terminal && c.console_fd >= 0)
    setup_terminal(c.console_fd, proc);
  else if (::setsid() < 0 && errno != EPERM)
    throw_sys("setsid");
  // The container's session keyring (runc names it _ses.ID): joined, or made if it is gone.
  std::string keyring = "_ses." + c.id;
  if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, keyring.c_str()) < 0 && errno != ENOSYS &&
      errno != EPERM && errno != EACCES && errno != EDQUOT)
    throw_sys("keyctl", "join session keyring");

  apply_rlimits(proc.rlimits);
  return finish_process(proc, cfg.linux.seccomp ? &*cfg.linux.seccomp : nullptr, c.emulate_root,
                        c.setgroups_ok, c.sync_fd);
}

[[noreturn]] void exec_child(const ExecChild& c) {
  // Not dumpable until execve: while it joins the container, a process in there must not be
  // able to ptrace it or open its /proc entries (fds of the host, CVE-2016-9962).
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  ::sigprocmask(SIG_SETMASK, &c.parent_mask, nullptr);
  // Until the program runs, we die with nook exec (cleared again just before execve: the
  // program itself outlives a killed or detached nook, as with runc).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (c.wait_go) child_wait(c.sync_fd, sync::kGo);
  join_own_cgroups(c.cgroup_tasks, c.sync_fd);
  Prepared p = child_try(c.sync_fd, [&] { return prepare(c); });
  try {
    ::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
    exec_process(p.exe, c.proc->args, p.env);
  } catch (const std::exception& e) {
    child_die(c.sync_fd, sync::kExecFailed, e.what());
  }
}

// --- The parent -------------------------------------------------------------------------------

// The cgroup v2 directory of the container's process, when it lies within the container's
// cgroup (the container may have moved its processes into sub-cgroups, and a cgroup with
// children that have controllers enabled cannot take processes). Empty when unknown.
std::string init_cgroup_v2(pid_t pid, const CgroupPlacement& cg) {
  try {
    std::string rel;
    for (auto& [ctl, path] :
         cgroup_parse_proc(read_file_or_throw("/proc/" + std::to_string(pid) + "/cgroup")))
      if (ctl.empty()) rel = path;
    if (rel.empty()) return {};
    for (auto& m : cgroup_parse_mountinfo(read_file_or_throw("/proc/self/mountinfo"))) {
      if (!m.v2) continue;
      std::string dir = cgroup_dir(m, rel);
      if (dir == cg.v2 || dir.rfind(cg.v2 + "/", 0) == 0) return dir;
    }
  } catch (const Error& e) {
    log::debug(e.what());
  }
  return {};
}

// The container's process, pinned: a pidfd, its namespaces and its root, then the start
// time once more so that none of them belongs to a process that reused the PID.
struct Pinned {
  Fd pidfd, nsdir, root_fd;
  std::vector<IdMapping> uid_map, gid_map;
  bool setgroups_ok = true;
};

Pinned pin(const State& st, const std::string& id, int min_fd) {
  Pinned p;
  std::string proc_dir = "/proc/" + std::to_string(st.pid);
  p.pidfd = Fd(static_cast<int>(syscall(SYS_pidfd_open, st.pid, 0)));
  if (!p.pidfd && errno == ESRCH)
    fail("cannot exec in container \"" + id + "\": its process has exited");
  if (!p.pidfd && errno != ENOSYS)
    throw_sys("pidfd_open", "container process " + std::to_string(st.pid));
  p.pidfd = raise_fd(std::move(p.pidfd), min_fd);
  p.nsdir =
      raise_fd(Fd(::open((proc_dir + "/ns").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)), min_fd);
  if (!p.nsdir) throw_sys("open", proc_dir + "/ns");
  p.root_fd =
      raise_fd(Fd(::open((proc_dir + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)), min_fd);
  if (!p.root_fd)
    log::debug(sys_message("open", proc_dir + "/root", errno) +
               ": using the mount namespace's root");
  p.uid_map = read_id_map(proc_dir, "uid_map");
  p.gid_map = read_id_map(proc_dir, "gid_map");
  p.setgroups_ok = read_file_or_throw(proc_dir + "/setgroups").rfind("allow", 0) == 0;
  if (proc_start_time(st.pid) != st.start_time)
    fail("cannot exec in container \"" + id + "\": its process has exited");
  return p;
}

// Only the IDs the container's user namespace maps exist in it.
void check_mapped(const Process& proc, const State& st, const Pinned& p, const std::string& id) {
  if (id_mapped(p.uid_map, proc.user.uid) && id_mapped(p.gid_map, proc.user.gid)) return;
  std::string who =
      "uid " + std::to_string(proc.user.uid) + " gid " + std::to_string(proc.user.gid);
  if (st.single_id && !p.uid_map.empty() && !p.gid_map.empty())
    fail("cannot exec as " + who + " in container \"" + id +
         "\": it has a single-ID user namespace where only uid " +
         std::to_string(p.uid_map[0].container_id) + " gid " +
         std::to_string(p.gid_map[0].container_id) +
         " exist (an unprivileged caller can map no other IDs)");
  fail("cannot exec as " + who + " in container \"" + id + "\": not mapped in its user namespace");
}

// Our children go to the container's PID namespace; this process stays where it is.
// setns(CLONE_NEWPID) needs CAP_SYS_ADMIN over the namespace and in our own user namespace:
// an unprivileged caller has it only inside the container's user namespace (it owns it),
// so it joins that first; its children then inherit it (*join_user is cleared).
void join_pid_namespace(const Pinned& p, bool* join_user) {
  int flags = CLONE_NEWPID;
  if (*join_user && !caller_privileged()) {
    flags |= CLONE_NEWUSER;
    *join_user = false;
  }
  bool done = p.pidfd && ::setns(p.pidfd.get(), flags) == 0;
  if (!done && (!p.pidfd || errno == EINVAL)) {
    for (const char* f : {"user", "pid"}) {
      int type = f[0] == 'u' ? CLONE_NEWUSER : CLONE_NEWPID;
      if (!(flags & type)) continue;
      Fd nfd(::openat(p.nsdir.get(), f, O_RDONLY | O_CLOEXEC));
      if (!nfd || ::setns(nfd.get(), type) != 0)
        throw_sys("setns", std::string(f) + " namespace of the container");
    }
    done = true;
  }
  if (!done) throw_sys("setns", "PID namespace of the container");
}

// Straight into the container's cgroup v2 (no migration); kernels or cgroups that refuse
// CLONE_INTO_CGROUP take the child by migration before it goes on (ch->wait_go). The v1
// hierarchies the child joins itself (ch->cgroup_tasks).
// `cg` is the container's placement, or with exec --cgroup its sub-cgroups (`explicit_cg`: then
// no fallback to the init's cgroup, as runc).
long clone_exec(ExecChild* ch, const State& st, const CgroupPlacement& cg, bool explicit_cg,
                int cgroup_fd, int min_fd) {
  long pid = clone3_into(SIGCHLD, cgroup_fd);
  if (pid < 0 && cgroup_fd >= 0 && !explicit_cg && (errno == EBUSY || errno == EOPNOTSUPP)) {
    std::string dir = init_cgroup_v2(st.pid, st.cgroup);
    if (!dir.empty() && dir != st.cgroup.v2) {
      Fd alt(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (alt) pid = clone3_into(SIGCHLD, raise_fd(std::move(alt), min_fd).get());
    }
  }
  if (pid < 0 && errno == ENOSYS) {
    ch->wait_go = !cg.v2.empty();
    pid = syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  }
  return pid;
}

}  // namespace

void parse_exec_user(const std::string& spec, uint32_t* uid, std::optional<uint32_t>* gid) {
  // 0..2^31-1, as config.json's IDs: setresuid(4294967295) changes nothing (it would run as
  // root), and the runc wording for anything above.
  auto id = [](const std::string& s) -> uint32_t {
    bool digits =
        !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits && (s.size() > 10 || std::stoull(s) > kMaxId))
      fail("--user: " + s + " is out of range: " + kIdRangeRule);
    return parse_u32(s, "--user");  // the number, or its "is not a number" error
  };
  auto colon = spec.find(':');
  *uid = id(spec.substr(0, colon));
  if (colon == std::string::npos)
    gid->reset();
  else
    *gid = id(spec.substr(colon + 1));
}

Process exec_process_for(const Config& cfg, const ExecOptions& o, const std::string& process_text) {
  if (!o.process_file.empty()) {
    // runc: the file is the whole process; what it leaves out comes from the container.
    Process p = parse_process(process_text, o.process_file);
    if (!p.capabilities && cfg.process) p.capabilities = cfg.process->capabilities;
    if (p.rlimits.empty() && cfg.process) p.rlimits = cfg.process->rlimits;
    return p;
  }
  if (!cfg.process)
    fail("config.json of the container has no process to take defaults from; use --process");
  if (o.args.empty()) fail("exec needs a command after the container ID, or --process FILE");
  if (o.args[0].empty()) fail("exec: the program name is empty");
  Process p = *cfg.process;
  p.args = o.args;
  p.terminal = o.tty;
  p.console_size.reset();
  if (!o.cwd.empty()) {
    if (o.cwd[0] != '/') fail("--cwd " + o.cwd + ": must be an absolute path");
    p.cwd = o.cwd;
  }
  for (auto& e : o.env) set_env(p.env, e);
  if (!o.user.empty()) {
    std::optional<uint32_t> gid;
    parse_exec_user(o.user, &p.user.uid, &gid);
    if (gid) p.user.gid = *gid;
  }
  for (auto g : o.additional_gids) {
    if (g < 0 || g > static_cast<long long>(kMaxId))
      fail("--additional-gids: " + std::to_string(g) + " is out of range: " + kIdRangeRule);
    p.user.additional_gids.push_back(static_cast<uint32_t>(g));
  }
  if (!o.caps.empty()) {
    if (!p.capabilities) p.capabilities = Capabilities{};
    auto& c = *p.capabilities;
    for (auto& name : o.caps) {
      uint64_t bit = 1ULL << parse_cap(name);
      c.bounding |= bit;
      c.effective |= bit;
      c.permitted |= bit;
      // Ambient needs inheritable, which --cap does not set: only when the config has some.
      if (c.inheritable) c.ambient |= bit;
    }
  }
  if (o.no_new_privs) p.no_new_privileges = true;
  if (!o.apparmor.empty()) p.apparmor_profile = o.apparmor;
  if (!o.process_label.empty()) p.selinux_label = o.process_label;
  return p;
}

int container_exec(const std::string& root, const std::string& id, const ExecOptions& o) {
  Loaded c = container_load(root, id, false);
  if (c.status == Status::paused && !o.ignore_paused)
    fail("cannot exec in container \"" + id + "\": it is paused (--ignore-paused to exec anyway)");
  if (c.status != Status::running && c.status != Status::paused)
    fail("cannot exec in container \"" + id + "\": it is " + status_name(c.status) +
         ", not running");
  const State& st = c.state;
  // exec --cgroup: the sub-cgroups, checked before anything is made.
  const bool explicit_cg = !o.cgroup.empty();
  const CgroupPlacement cg =
      explicit_cg ? cgroup_sub_placement(st.cgroup, cgroup_parse_sub_paths(o.cgroup), id)
                  : st.cgroup;
  Config cfg = parse_config(c.dir.read_file("config.json"), c.dir.path() + "/config.json");
  std::string text;
  if (!o.process_file.empty()) {
    text = read_file_or_throw(o.process_file);
    if (!o.args.empty())
      log::warn("arguments after the container ID ignored: --process gives the process");
  }
  const Process proc = exec_process_for(cfg, o, text);
  // nook applies no LSM label (keys.cpp); the container's mountLabel was checked at create.
  check_lsm(proc, {}, o.process_file.empty() ? "exec" : o.process_file);
  if (proc.terminal && o.console_socket.empty() && o.detach)
    fail("a terminal with --detach needs --console-socket");
  if (!proc.terminal && !o.console_socket.empty())
    log::warn("--console-socket ignored: the process has no terminal");

  int min_fd = 3 + std::max(o.preserve_fds, 0);
  Pinned pinned = pin(st, id, min_fd);
  // The lock guards the state read only: from here on the container is held by its pinned
  // init (pidfd, /proc/PID), and the child waits on what the container controls (a frozen
  // cgroup, its PID namespace), which must not keep delete --force or resume out (issue 21).
  c.dir.unlock();
  check_mapped(proc, st, pinned, id);

  ExecChild ch;
  ch.cfg = &cfg;
  ch.proc = &proc;
  ch.id = id;
  ch.pidfd = pinned.pidfd.get();
  ch.nsdir = pinned.nsdir.get();
  ch.root_fd = pinned.root_fd.get();
  ch.setgroups_ok = pinned.setgroups_ok;
  ch.emulate_root = st.root_emulation;
  ch.preserve_fds = o.preserve_fds;

  bool join_user = ns_differs(ch.nsdir, NsType::user);
  bool join_pid = ns_differs(ch.nsdir, NsType::pid);
  for (NsType t : ns_join_order())
    if (t != NsType::pid && t != NsType::user && ns_differs(ch.nsdir, t))
      ch.ns_flags |= ns_clone_flag(t);
  // A container without a mount namespace of its own is a chroot in ours: without its root
  // the process would run in the host's tree.
  if (!pinned.root_fd && !(ch.ns_flags & CLONE_NEWNS))
    fail("cannot exec in container \"" + id + "\": it has no mount namespace of its own and " +
         "the root of its process cannot be opened");

  Fd console, console_peer;
  if (proc.terminal) {
    console = console_channel(o.console_socket, min_fd, &console_peer);
    ch.console_fd = console.get();
  }
  Child child(min_fd);
  ch.sync_fd = child.child_end();
  ch.log_fd = child.log_fd();
  Fd cgroup_fd;
  if (!cg.v2.empty()) {
    cgroup_fd = raise_fd(Fd(::open(cg.v2.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)), min_fd);
    if (!cgroup_fd) throw_sys("open", cg.v2);
  }
  std::vector<Fd> tasks = open_tasks_files(cg.v1, min_fd, ch.cgroup_tasks);

  sigset_t fwd = forwarded_signals();
  if (o.detach)
    ::sigprocmask(SIG_SETMASK, nullptr, &ch.parent_mask);
  else
    ::sigprocmask(SIG_BLOCK, &fwd, &ch.parent_mask);

  if (join_pid) join_pid_namespace(pinned, &join_user);
  if (join_user) ch.ns_flags |= CLONE_NEWUSER;

  Spawn s;
  s.clone = [&] { return clone_exec(&ch, st, cg, explicit_cg, cgroup_fd.get(), min_fd); };
  s.child = [&ch] { exec_child(ch); };
  s.other_pidns = join_pid;  // ENOMEM: the PID namespace has no init any more
  s.pidns_gone = "cannot exec in container \"" + id + "\": its process has exited";
  s.what =
      "exec process in container " + id + (explicit_cg && !cg.v2.empty() ? " into " + cg.v2 : "");
  spawn(child, s);
  console.reset();
  tasks.clear();

  if (ch.wait_go) {
    cgroup_join(CgroupPlacement{cg.v2, {}}, child.pid());
    child.go({}, "exec process exited during set-up");
  }
  Replies replies;  // any other message is a failure; EOF: execve closed the channel
  if (cfg.linux.seccomp && seccomp_has_listener(*cfg.linux.seccomp))
    replies.seccomp = [&](int listener) {
      // runc's choice for exec: the exec'd process's PID, the container's state as running.
      seccomp_send_listener(*cfg.linux.seccomp, listener,
                            seccomp_process_state(*cfg.linux.seccomp, child.pid(),
                                                  oci_state_json(st, Status::running)));
    };
  await_child(child, replies);
  write_child_pid_file(o.pid_file, child.pid());
  pid_t pid = child.release();  // the program runs: it is no longer ours to kill
  if (o.detach) return 0;
  return exit_code(foreground_wait(pid, std::move(console_peer), fwd));
}

}  // namespace nook
