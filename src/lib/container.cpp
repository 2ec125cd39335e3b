#include "container.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "../fast/shared.hpp"
#include "config.hpp"
#include "error.hpp"
#include "fileio.hpp"
#include "hooks.hpp"
#include "idmap.hpp"
#include "init.hpp"
#include "keys.hpp"
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
#include "userns.hpp"

namespace nook {
namespace {

// Without a mount namespace of its own the container shares nook's (the spec: a namespace
// type not listed is the runtime's) and only chroots into its rootfs, as runc does: a mount,
// a device node or a remount would be made in that namespace and outlive the container (runc
// makes them, and leaves the host's "/" a slave on the way). Refused up front instead
// (docs/config-keys.md, "linux.namespaces without mount").
void check_without_mount_ns(const Config& c, const std::string& file) {
  if (c.linux.find_ns(NsType::mount)) return;
  auto bad = [&](const char* ptr, const std::string& what) {
    fail(file + ": " + ptr + ": " + what +
         " needs a mount namespace in linux.namespaces: without one the container shares "
         "nook's and this would change the host's mounts");
  };
  if (!c.mounts.empty()) bad("/mounts", "mounts");
  if (c.root.readonly) bad("/root/readonly", "a read-only root");
  if (!c.linux.masked_paths.empty()) bad("/linux/maskedPaths", "maskedPaths");
  if (!c.linux.readonly_paths.empty()) bad("/linux/readonlyPaths", "readonlyPaths");
  if (!c.linux.rootfs_propagation.empty()) bad("/linux/rootfsPropagation", "rootfsPropagation");
  if (!c.linux.devices.empty())
    fail(file +
         ": /linux/devices: device nodes need a mount namespace in linux.namespaces: without "
         "one they would be created in the image's /dev on the host");
  if (c.process && c.process->terminal)
    fail(file +
         ": /process/terminal: a terminal needs a mount namespace in linux.namespaces: its "
         "pty is bound over the container's /dev/console");
}

// Checks that need the config and the host, before anything is created.
void validate_for_host(const Config& cfg, const std::string& file) {
  if (!cfg.process) fail(file + ": /process: required property is missing");
  check_without_mount_ns(cfg, file);
  // Once, at create: exec, update and delete read the stored copy and say nothing more.
  if (oci_version_newer(cfg.oci_version))
    log::warn(file + ": ociVersion \"" + cfg.oci_version + "\" is newer than runtime-spec " +
              kOciVersion + ", which nook implements: properties added since are ignored");
  if (cfg.linux.seccomp) seccomp_validate(*cfg.linux.seccomp, file);
  validate_sysctls(cfg, file);
  struct stat st;
  if (::stat(cfg.root.path.c_str(), &st) != 0) throw_sys("rootfs", cfg.root.path);
  if (!S_ISDIR(st.st_mode)) fail("rootfs " + cfg.root.path + ": not a directory");
  // The key policy (keys.cpp): AppArmor/SELinux labels, the keys nook ignores.
  check_lsm(*cfg.process, cfg.linux.mount_label, file);
  warn_ignored_keys(cfg, ::geteuid() == 0);  // the cgroup module decides root so too
}

bool want_root_emulation(const Config& cfg, const IdPlan& ids) {
  auto it = cfg.annotations.find(kRootEmulationAnnotation);
  if (it == cfg.annotations.end()) return ids.single_id || ids.inherited_single_id;
  if (it->second == "true" || it->second == "on" || it->second == "1") return true;
  if (it->second == "false" || it->second == "off" || it->second == "0") return false;
  fail(std::string("annotation ") + kRootEmulationAnnotation + ": expected true or false, got \"" +
       it->second + "\"");
}

struct Launch {
  std::optional<Child> child;  // the container process until create/run succeeds
  Fd console_peer;  // run in the foreground with a terminal: our end of the console channel
  std::optional<ContainerDir> dir;
  State state;
  Config cfg;
  std::vector<std::string> new_devices;  // device paths set-up may create in the image's /dev
  bool committed = false;
  bool migrate_v2 = false;  // clone3 refused CLONE_INTO_CGROUP (clone_container)
  bool subreaper = false;   // run in the foreground: reap the orphans unless in an own PID ns
  // The container is made: nothing of it is undone any more, its process is no longer ours.
  void commit() {
    committed = true;
    if (child) child->release();
  }
  ~Launch() {
    if (committed) return;
    // The OCI rule: an operation that fails leaves things as if it was never attempted.
    child.reset();  // killed and reaped first: a cgroup with a process cannot be removed
    try {
      if (!new_devices.empty()) remove_device_nodes(cfg.root.path, new_devices);
    } catch (const std::exception& e) {
      log::warn(e.what());
    }
    discard_container(state.cgroup, dir);
  }
};

enum class Mode { create, foreground, detach };

// The checks of the config against this invocation, and the plan of user IDs.
IdPlan check_and_plan(const Config& cfg, const std::string& file, const CreateOptions& o,
                      Mode mode) {
  validate_for_host(cfg, file);
  const Process& proc = *cfg.process;
  if (proc.terminal && o.console_socket.empty() && mode != Mode::foreground)
    fail(file + ": /process/terminal: true needs --console-socket (or `run` in the foreground)");
  if (!proc.terminal && !o.console_socket.empty())
    log::warn("--console-socket ignored: process.terminal is false");

  IdPlan ids = plan_ids(cfg, caller_privileged());
  if (!ids.reason.empty()) log::info(ids.reason);
  if (!ids.warning.empty()) log::warn(ids.warning);
  // ID-mapped mounts: the kernel's rule (mount_setattr(2) MOUNT_ATTR_IDMAP) leaves an
  // unprivileged caller no filesystem it could map (keys.cpp says why); refused before
  // anything is made.
  if (!ids.privileged)
    for (size_t i = 0; i < cfg.mounts.size(); i++)
      if (mount_idmapped(cfg.mounts[i]))
        fail(file + ": /mounts/" + std::to_string(i) +
             (cfg.mounts[i].uid_mappings.empty() ? "/options: " : "/uidMappings: ") +
             key_reason("/mounts/*/uidMappings"));
  if (ids.new_userns && !ids.single_id) {
    if (!id_mapped(ids.uid_map, proc.user.uid))
      fail(file + ": /process/user/uid: uid " + std::to_string(proc.user.uid) +
           " is not mapped by linux.uidMappings");
    if (!id_mapped(ids.gid_map, proc.user.gid))
      fail(file + ": /process/user/gid: gid " + std::to_string(proc.user.gid) +
           " is not mapped by linux.gidMappings");
  }
  return ids;
}

// linux.namespaces[].path, opened above the preserved descriptors: the PID namespace is
// returned (setns(CLONE_NEWPID) moves only later children: the parent joins, not the child),
// the others go to spec.join and their descriptors to `owned`.
Fd open_joins(const Config& cfg, const std::string& file, int min_fd, InitSpec& spec,
              std::vector<Fd>& owned) {
  Fd join_pid;
  for (auto& [t, fd] : open_join_namespaces(cfg, file)) {
    Fd f = raise_fd(std::move(fd), min_fd);
    if (t == NsType::pid) {
      join_pid = std::move(f);
    } else {
      spec.join.emplace_back(t, f.get());
      owned.push_back(std::move(f));
    }
  }
  return join_pid;
}

unsigned long clone_flags(const Config& cfg, const IdPlan& ids) {
  unsigned long flags = SIGCHLD;
  for (auto& n : cfg.linux.namespaces)
    if (n.path.empty() && n.type != NsType::cgroup && n.type != NsType::time &&
        n.type != NsType::user)
      flags |= ns_clone_flag(n.type);
  if (ids.new_userns) flags |= CLONE_NEWUSER;
  return flags;
}

// The cgroupfs driver makes the container's cgroup before the clone, so that its process never
// migrates, which costs a grace period of the kernel's global cgroup lock (1-3 ms here, once
// per hierarchy written in a row; docs/cgroups.md): it is cloned into the v2 cgroup
// (clone3 CLONE_INTO_CGROUP, the returned directory descriptor) and joins its v1 hierarchies
// itself, by writing "0" to their `tasks` files (spec.cgroup_tasks): the kernel moves a thread
// that moves itself without that lock (Linux 6.0). The systemd driver needs the PID (place()).
Fd prepare_cgroup(Launch& L, const std::string& id, const CreateOptions& o, int min_fd,
                  InitSpec& spec, std::vector<Fd>& owned) {
  if (o.no_cgroups || o.systemd_cgroup) return {};
  const CgroupPlacement& p = L.state.cgroup = cgroup_prepare(id, L.cfg.linux, false);
  for (Fd& f : open_tasks_files(p.v1, min_fd, spec.cgroup_tasks)) owned.push_back(std::move(f));
  if (p.v2.empty()) return {};
  Fd dir(::open(p.v2.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) throw_sys("open", p.v2);
  return raise_fd(std::move(dir), min_fd);
}

// clone(2) with `flags`, into the cgroup v2 directory `cgroup_fd` when there is one; when the
// kernel refuses that (ENOSYS, EBUSY, EOPNOTSUPP), a plain clone and *migrate_v2.
long clone_container(unsigned long flags, int cgroup_fd, bool* migrate_v2) {
  if (cgroup_fd >= 0) {
    long pid = clone3_into(flags, cgroup_fd);
    if (pid >= 0 || (errno != ENOSYS && errno != EBUSY && errno != EOPNOTSUPP)) return pid;
    *migrate_v2 = true;
  }
  return syscall(SYS_clone, flags, nullptr, nullptr, nullptr, nullptr);
}

// The cloned container process, placed before GO: its ID maps and, with the systemd driver
// or when clone3 could not place it, its cgroup. Nothing else the child waits for.
void place(Launch& L, const std::string& id, const CreateOptions& o, const InitSpec& spec) {
  pid_t pid = L.child->pid();
  write_id_maps(pid, spec.ids);
  State& st = L.state;
  if (o.no_cgroups) {
    // crun's --cgroup-manager disabled (Podman --cgroups=disabled): the container stays in
    // the caller's cgroup; resources cannot be applied.
    if (L.cfg.linux.resources && !L.cfg.linux.resources->empty())
      log::warn("linux.resources ignored: --cgroup-manager disabled");
  } else if (o.systemd_cgroup) {
    st.cgroup = cgroup_enter(id, L.cfg.linux, pid, true);
  } else if (L.migrate_v2) {
    // clone3 refused CLONE_INTO_CGROUP (an old kernel, a cgroup that cannot take processes
    // this way): the v2 cgroup takes the child by migration.
    cgroup_join(CgroupPlacement{st.cgroup.v2, {}}, pid);
  }
}

// The state of the placed process (status "creating"): filled before GO when hooks need it
// as their input, otherwise after GO, so that the child does not wait for it.
void fill_state(Launch& L, const std::string& id, const std::string& bundle, Mode mode,
                const InitSpec& spec) {
  State& st = L.state;
  fill_new_state(st, id, bundle, L.cfg);  // st.cgroup is prepare_cgroup's or place()'s
  st.pid = L.child->pid();
  st.start_time = proc_start_time(st.pid);
  st.created = log::now_rfc3339();
  st.single_id = spec.ids.single_id;
  st.root_emulation = spec.emulate_root;
  st.creating = mode != Mode::foreground;
}

// After READY: the state says created (create, run --detach) or, in the foreground, that the
// program runs; the pid file.
void record_ready(Launch& L, const CreateOptions& o, Mode mode) {
  pid_t pid = L.child->pid();
  if (mode != Mode::foreground) {
    L.state.creating = false;
    L.state.create_hooks = false;
    L.dir->write_state(L.state);
    test_pause("create-state");
    write_child_pid_file(o.pid_file, pid);
    test_pause("create-pidfile");
  } else {
    if (L.state.create_hooks) {
      L.state.create_hooks = false;  // the program runs: running from here
      L.dir->write_state(L.state);
    }
    write_child_pid_file(o.pid_file, pid);
  }
}

// In its own PID namespace the container's init reaps its orphans; otherwise they would go to
// the host's init, out of the container's accounting: runc's default, one prctl, made before
// the clone so that no orphan of the program can be born before it.
void become_subreaper(const Launch& L) {
  if (L.subreaper && !L.cfg.linux.own_ns(NsType::pid) &&
      ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
    log::debug(sys_message("prctl", "PR_SET_CHILD_SUBREAPER", errno));
}

// How the container process is cloned: its namespaces, the v2 cgroup, a PID namespace joined
// by path. `run` in the foreground of a container that nook has nothing to do for between the
// clone and its execve shares nook's memory until then (Spawn::shared_vm): not with ID maps or
// ID-mapped mounts to make, a systemd unit to join, hooks, a seccomp agent or a console to
// serve; and only into a PID namespace of its own, where no other process can be there to
// reach it before its execve.
Spawn container_spawn(Launch& L, const std::string& file, const CreateOptions& o, Mode mode,
                      InitSpec& spec, const IdPlan& ids, int join_pid, int cgroup_v2) {
  const Config& cfg = L.cfg;
  Spawn s;
  unsigned long flags = clone_flags(cfg, ids);
  s.clone = [flags, &L, cgroup_v2] { return clone_container(flags, cgroup_v2, &L.migrate_v2); };
  s.child = [&spec] { container_init(spec); };
  if (join_pid >= 0) {
    s.pidns_fd = join_pid;
    s.pidns_path = cfg.linux.find_ns(NsType::pid)->path;
    s.other_pidns = true;
    s.pidns_gone = file + ": /linux/namespaces: PID namespace " + s.pidns_path +
                   " has no init process any more";
  }
  s.what = "container process";
  spec.shared_vm = s.shared_vm =
      mode == Mode::foreground && shares_nook_memory(cfg, ids.new_userns, o.systemd_cgroup);
  s.vm_flags = flags;
  s.vm_cgroup = cgroup_v2;
  s.vm_refused = [&spec] { spec.shared_vm = false; };
  return s;
}

// Everything up to a container process that is set up: for create/detach it is waiting on the
// exec fifo; in the foreground it is on its way to execve.
void launch(Launch& L, const std::string& root, const std::string& id, const CreateOptions& o,
            Mode mode, const sigset_t* old_mask) {
  validate_id(id);
  std::string bundle = absolute_path(o.bundle);
  std::string raw;
  std::string file = o.config.empty() ? bundle + "/config.json" : absolute_path(o.config);
  L.cfg = load_bundle_config(bundle, &raw, file);
  const Config& cfg = L.cfg;
  IdPlan ids = check_and_plan(cfg, file, o, mode);
  const Process& proc = *cfg.process;
  // Socket activation's descriptors first, then --preserve-fds' (runc, crun).
  int listen_fds = inherited_listen_fds();
  int min_fd = 3 + listen_fds + std::max(o.preserve_fds, 0);

  InitSpec spec;
  spec.cfg = &cfg;
  spec.process = &proc;
  spec.bundle = bundle;
  spec.id = id;
  spec.ids = ids;
  spec.emulate_root = want_root_emulation(cfg, ids);
  spec.no_pivot = o.no_pivot;
  spec.no_new_keyring = o.no_new_keyring;
  spec.foreground = mode == Mode::foreground;
  spec.preserve_fds = listen_fds + std::max(o.preserve_fds, 0);
  spec.listen_fds = listen_fds;

  std::vector<Fd> owned;  // descriptors to close in the parent after clone
  Fd join_pid = open_joins(cfg, file, min_fd, spec, owned);

  L.dir.emplace(ContainerDir::create(root, id));
  test_pause("create-dir");
  L.new_devices = absent_device_nodes(cfg);
  Fd fifo;
  if (mode != Mode::foreground) {
    if (::mkfifoat(L.dir->fd(), "exec.fifo", 0600) != 0)
      throw_sys("mkfifo", L.dir->path() + "/exec.fifo");
    fifo =
        raise_fd(Fd(::openat(L.dir->fd(), "exec.fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC)), min_fd);
    if (!fifo) throw_sys("open", L.dir->path() + "/exec.fifo");
    spec.fifo_fd = fifo.get();
    test_pause("create-fifo");
  }
  Fd console;
  if (proc.terminal) {
    console = console_channel(o.console_socket, min_fd, &L.console_peer);
    spec.console_fd = console.get();
  }
  // Kept for exec and hooks: the config exactly as it was read. Written before the cgroup is
  // made: `delete --force` finds a linux.cgroupsPath there when state.json is unreadable.
  L.dir->write_file("config.json", raw);
  Fd cgroup_v2 = prepare_cgroup(L, id, o, min_fd, spec, owned);
  Child& child = L.child.emplace(min_fd);
  spec.sync_fd = child.child_end();
  spec.log_fd = child.log_fd();
  spec.parent_mask = old_mask ? *old_mask : sigset_t{};
  if (!old_mask) ::sigprocmask(SIG_SETMASK, nullptr, &spec.parent_mask);

  // The container's process is our direct child: no re-exec of nook, no helper process.
  become_subreaper(L);
  Spawn s = container_spawn(L, file, o, mode, spec, ids, join_pid.get(), cgroup_v2.get());
  spawn(child, s);
  test_pause("create-clone");

  place(L, id, o, spec);
  test_pause("create-cgroup");

  // The prestart, createRuntime and createContainer hooks are lifecycle steps 3-5, after
  // step 2 ("creating: the container is being created"): they are told "created", as crun
  // and the runtime-tools validation suite have it, and `state` says so while they run.
  std::string hook_state;
  if (!spec.shared_vm) {
    send_bind_sources(cfg, bundle, ids, child.pid(), child.channel());
    if (!cfg.hooks.empty()) {
      fill_state(L, id, bundle, mode, spec);
      hook_state = oci_state_json(L.state, Status::created);
    }
    child.go(hook_state, "container process exited during set-up");
  }
  // Written after GO, so that the child does not wait for it (with a shared memory, once the
  // child has gone to its execve), and before anything waits for the child: a
  // create killed from here on leaves the PID and the cgroup for `delete --force` to clean
  // (status "creating" until the write after READY). Killed before it, the child dies with
  // its death signal, and `delete --force` finds the cgroup through config.json.
  if (cfg.hooks.empty()) fill_state(L, id, bundle, mode, spec);
  L.dir->write_state(L.state);
  test_pause("create-go");

  Replies r;
  if (mode != Mode::foreground) r.exited = "container process exited during set-up";
  r.hooks = [&] {
    // From here `state` (which reads without waiting while the lock is busy) says created.
    // `creating` stays set: a create that dies now leaves what delete --force cleans, as before.
    L.state.create_hooks = true;
    L.dir->write_state(L.state);
    test_pause("create-hooks");
    // The lock is held while they run: a `delete --force` (kill_before_lock) ends them by
    // killing the container's process.
    Fd init(static_cast<int>(syscall(SYS_pidfd_open, child.pid(), 0)));
    run_hooks(cfg.hooks.prestart, hook_state, "prestart", false, init.get());
    run_hooks(cfg.hooks.create_runtime, hook_state, "createRuntime", false, init.get());
  };
  if (cfg.linux.seccomp && seccomp_has_listener(*cfg.linux.seccomp))
    r.seccomp = [&](int listener) {
      // The container is still being created: runc's "creating", with the process's PID.
      seccomp_send_listener(*cfg.linux.seccomp, listener,
                            seccomp_process_state(*cfg.linux.seccomp, child.pid(),
                                                  oci_state_json(L.state, Status::creating)));
    };
  await_child(child, r);
  test_pause("create-ready");
  record_ready(L, o, mode);
}

void kill_all(const State& st, int sig);

void destroy(ContainerDir& dir, const State& st) {
  if (!st.cgroup.empty()) {
    try {
      cgroup_remove(st.cgroup);
    } catch (const Error& e) {
      log::warn(e.what());
    }
  }
  test_pause("delete-cgroup");
  if (st.hooks) {
    try {
      Config cfg = parse_config(dir.read_file("config.json"), dir.path() + "/config.json");
      run_hooks(cfg.hooks.poststop, oci_state_json(st, Status::stopped), "poststop", true);
    } catch (const Error& e) {
      log::warn(e.what());
    }
  }
  dir.remove();
}

bool wait_gone(const State& st, int ms);

// runtime-spec 1.3 (lifecycle step 9): "If any poststart hook fails, the runtime MUST generate
// an error, stop the container, and continue the lifecycle at step 12" (1.2 said: log a
// warning). As runc: the container is killed and the operation fails; `delete` (or run in
// the foreground, which deletes its container) then destroys it and runs poststop.
void run_poststart(const std::vector<Hook>& hooks, const State& st) {
  try {
    run_hooks(hooks, oci_state_json(st, Status::running), "poststart", false);
  } catch (const Error&) {
    kill_all(st, SIGKILL);
    wait_gone(st, 2000);
    throw;
  }
}

bool wait_gone(const State& st, int ms) {
  for (int i = 0; i < ms; i++) {
    bool zombie = false;
    unsigned long long t = proc_start_time(st.pid, &zombie);
    if (t == 0 || t != st.start_time || zombie) return true;
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, nullptr);
  }
  return false;
}

}  // namespace

void fill_new_state(State& st, const std::string& id, const std::string& bundle,
                    const Config& cfg) {
  st.id = id;
  st.bundle = bundle;
  st.rootfs = cfg.root.path;
  st.annotations = cfg.annotations;
  st.owner = geteuid();
  st.hooks = !cfg.hooks.empty();
  st.own_pidns = cfg.linux.own_ns(NsType::pid);
}

void discard_container(const CgroupPlacement& cg, std::optional<ContainerDir>& dir) {
  if (!cg.empty()) {
    try {
      cgroup_remove(cg);
    } catch (const Error& e) {
      log::warn(e.what());
    }
  }
  if (dir) {
    try {
      dir->remove();
    } catch (const Error& e) {
      log::warn(e.what());
    }
  }
}

int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

Loaded container_load(const std::string& root, const std::string& id, bool exclusive) {
  auto dir = ContainerDir::open(root, id, exclusive);
  auto st = dir->read_state();
  if (!st)
    fail("container \"" + id +
         "\" has no state (its create was interrupted); delete --force removes it");
  Status s = container_status(*st, dir->fd());
  return Loaded{std::move(*dir), std::move(*st), s};
}

void container_create(const std::string& root, const std::string& id, const CreateOptions& o) {
  Launch L;
  launch(L, root, id, o, Mode::create, nullptr);
  L.commit();
}

void container_start(const std::string& root, const std::string& id) {
  Loaded c = container_load(root, id, true);
  test_pause("start-locked");
  if (c.status != Status::created)
    fail("cannot start container \"" + id + "\": it is " + status_name(c.status) + ", not created");
  Fd fifo(::openat(c.dir.fd(), "exec.fifo", O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fifo) {
    if (errno == ENXIO)
      fail("cannot start container \"" + id + "\": its process is not waiting (it exited)");
    throw_sys("open", c.dir.path() + "/exec.fifo");
  }
  if (::write(fifo.get(), "0", 1) != 1) throw_sys("write", c.dir.path() + "/exec.fifo");
  test_pause("start-fifo");
  fifo.reset();
  ::unlinkat(c.dir.fd(), "exec.fifo", 0);
  c.dir.unlock();  // a poststart hook may take its time; the state is not written again
  if (c.state.hooks) {
    Config cfg = parse_config(c.dir.read_file("config.json"), c.dir.path() + "/config.json");
    run_poststart(cfg.hooks.poststart, c.state);
  }
}

int container_run(const std::string& root, const std::string& id, const CreateOptions& o,
                  const RunOptions& r) {
  if (r.detach) {
    {
      Launch L;
      launch(L, root, id, o, Mode::detach, nullptr);
      L.commit();
    }
    container_start(root, id);
    return 0;
  }
  sigset_t fwd = forwarded_signals(), old;
  ::sigprocmask(SIG_BLOCK, &fwd, &old);
  Launch L;
  L.subreaper = !r.no_subreaper;
  launch(L, root, id, o, Mode::foreground, &old);
  L.commit();
  pid_t pid = L.state.pid;
  State st = L.state;
  Fd console = std::move(L.console_peer);
  L.dir->unlock();
  std::optional<Error> poststart_failed;
  if (st.hooks) {
    try {
      run_poststart(L.cfg.hooks.poststart, st);
    } catch (const Error& e) {
      poststart_failed = e;  // reported once the killed container is reaped and deleted
    }
  }

  int status = foreground_wait(pid, std::move(console), fwd);
  if (auto dir = ContainerDir::open(root, id, true, true)) {
    if (st.own_pidns) {
      // The PID namespace ends with its init; nothing to wait for.
    } else {
      kill_all(st, SIGKILL);
    }
    // --keep: the stopped container stays (state, cgroup) until `delete`, which runs the
    // poststop hooks then.
    if (!r.keep) destroy(*dir, st);
  }
  if (poststart_failed) throw *poststart_failed;
  return exit_code(status);
}

std::string container_state(const std::string& root, const std::string& id) {
  // Without waiting for another nook's lock (a hook of create's may be asking: it must see
  // what its stdin says, not wait for create): state.json is replaced atomically. What is not
  // there to read without the lock (a create before its first write, a delete half-way)
  // waits for it as before.
  {
    ContainerDir dir = ContainerDir::open_to_read(root, id);
    std::optional<State> st;
    try {
      st = dir.read_state();
    } catch (const Error&) {
      if (dir.locked()) throw;
    }
    if (st) return oci_state_json(*st, container_status(*st, dir.fd()));
    if (dir.locked()) {
      State s;
      s.id = id;
      return oci_state_json(s, Status::creating);
    }
  }
  auto dir = ContainerDir::open(root, id, false);
  auto st = dir->read_state();
  if (!st) {
    State s;
    s.id = id;
    return oci_state_json(s, Status::creating);
  }
  return oci_state_json(*st, container_status(*st, dir->fd()));
}

namespace {

unsigned long long ns_inode(pid_t pid, const char* ns) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/ns/%s", pid, ns);
  struct stat st;
  if (::stat(path, &st) != 0) return 0;
  return st.st_ino;
}

// Processes of a container without a cgroup: its PID namespace's members when it has one,
// else the descendants of its init.
std::vector<pid_t> pids_without_cgroup(const State& st) {
  std::vector<pid_t> out;
  if (proc_start_time(st.pid) != st.start_time) return out;
  unsigned long long pidns = st.own_pidns ? ns_inode(st.pid, "pid") : 0;
  std::vector<std::pair<pid_t, pid_t>> procs;  // pid, ppid
  DIR* d = ::opendir("/proc");
  if (!d) throw_sys("opendir", "/proc");
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    pid_t p = std::atoi(e->d_name);
    if (pidns) {
      if (ns_inode(p, "pid") == pidns) out.push_back(p);
      continue;
    }
    auto text = read_file("/proc/" + std::to_string(p) + "/stat");
    unsigned long long ppid = 0;
    char state = 0;
    if (text && fast::stat_field(text->data(), static_cast<long>(text->size()), 4, &ppid, &state))
      procs.emplace_back(p, static_cast<pid_t>(ppid));
  }
  ::closedir(d);
  if (pidns) return out;
  out.push_back(st.pid);
  for (size_t i = 0; i < out.size(); i++)
    for (auto& [p, pp] : procs)
      if (pp == out[i]) out.push_back(p);
  return out;
}

std::vector<pid_t> pids_of(const State& st) {
  if (!st.cgroup.empty()) {
    auto p = cgroup_pids(st.cgroup);
    if (!p.empty()) return p;
  }
  return pids_without_cgroup(st);
}

void kill_all(const State& st, int sig) {
  bool done = false;
  if (!st.cgroup.empty()) {
    // cgroup.kill for SIGKILL on cgroup v2; otherwise freeze, signal every member, thaw, so
    // nothing forks away while we signal.
    try {
      cgroup_signal_all(st.cgroup, sig, st.id);
      done = true;
    } catch (const Error& e) {
      log::debug(std::string(e.what()) + "; signalling the processes found by a scan instead");
    }
  }
  if (!done)
    for (pid_t p : pids_without_cgroup(st)) ::kill(p, sig);
  // The container's process itself, in case the cgroup did not hold it.
  if (proc_start_time(st.pid) == st.start_time) ::kill(st.pid, sig);
}

}  // namespace

void container_kill(const std::string& root, const std::string& id, int sig, bool all) {
  Loaded c = container_load(root, id, false);
  if (c.status == Status::stopped) {
    if (all) return;  // runc: kill --all of a stopped container is not an error
    fail("cannot kill container \"" + id + "\": it is not running");
  }
  if (all) {
    kill_all(c.state, sig);
    return;
  }
  if (::kill(c.state.pid, sig) != 0) throw_sys("kill", "container " + id);
}

namespace {

// The debris of a container without a readable state (a create killed before it wrote
// state.json, or outside damage): its empty cgroups, where its config.json (written before
// the cgroup was made) or else the default placement puts them, then its directory.
void remove_unknown(ContainerDir& dir, const std::string& id, bool systemd) {
  std::string cgroups_path;
  try {
    cgroups_path =
        parse_config(dir.read_file("config.json"), dir.path() + "/config.json").linux.cgroups_path;
  } catch (const Error& e) {
    log::debug(std::string(e.what()) + "; looking for the default cgroup");
  }
  try {
    for (auto& d : cgroup_remove_if_empty(id, cgroups_path, systemd))
      log::debug("removed empty cgroup " + d);
  } catch (const Error& e) {
    log::warn(e.what());
  }
  dir.remove();
}

}  // namespace

// delete --force while another nook holds the lock (an exec waiting on a frozen cgroup, a
// start or create waiting on the container): thaw and kill first, from the state as it is on
// disk (written atomically, so readable without the lock), so that the holder's wait ends.
void kill_before_lock(const ContainerDir& dir) {
  try {
    auto st = dir.read_state();
    if (!st || container_status(*st, dir.fd()) == Status::stopped) return;
    log::debug("container " + dir.id() + " is locked by another nook; killing it first");
    if (!st->cgroup.empty()) cgroup_freeze(st->cgroup, false);
    kill_all(*st, SIGKILL);
  } catch (const Error& e) {
    log::debug(std::string(e.what()) + " (killing before the lock)");
  }
}

void container_delete(const std::string& root, const std::string& id, bool force,
                      bool systemd_cgroup) {
  auto dir = ContainerDir::open(root, id, true, force, force ? kill_before_lock : nullptr);
  if (!dir) return;  // delete --force of an unknown ID succeeds quietly, as in runc
  test_pause("delete-locked");
  std::optional<State> st;
  try {
    st = dir->read_state();
  } catch (const Error& e) {
    // A state file nook cannot read (writes are atomic: only damage from outside does
    // this): its process is unknown; --force still removes what is left.
    if (!force) throw;
    log::warn(std::string(e.what()) + "; removing the container's directory");
    remove_unknown(*dir, id, systemd_cgroup);
    return;
  }
  if (!st) {
    // A create that died before writing its state: nothing runs; remove the debris.
    if (!force)
      fail("container \"" + id +
           "\" has no state (its create was interrupted); use delete --force");
    remove_unknown(*dir, id, systemd_cgroup);
    return;
  }
  Status s = container_status(*st, dir->fd());
  // A created container is deleted without --force, as runc does (containerd's shim deletes
  // a container whose start failed): its process only waits for start.
  if (s != Status::stopped && s != Status::created && !force)
    fail("cannot delete container \"" + id + "\": it is " + status_name(s) +
         ", not stopped (use --force)");
  if (s != Status::stopped) {
    if (s == Status::paused && !st->cgroup.empty()) {
      try {
        cgroup_freeze(st->cgroup, false);
      } catch (const Error&) {
      }
    }
    kill_all(*st, SIGKILL);
    if (!wait_gone(*st, 2000))
      log::warn("container " + id + ": process " + std::to_string(st->pid) +
                " still exists after SIGKILL");
    test_pause("delete-killed");
  }
  destroy(*dir, *st);
}

std::vector<ListEntry> container_list(const std::string& root) {
  std::vector<ListEntry> out;
  for (auto& id : list_ids(root)) {
    try {
      auto dir = ContainerDir::open(root, id, false, true);
      if (!dir) continue;
      auto st = dir->read_state();
      if (!st) {
        State s;
        s.id = id;
        out.push_back({s, Status::stopped});
        continue;
      }
      out.push_back({*st, container_status(*st, dir->fd())});
    } catch (const Error& e) {
      log::warn(e.what());
    }
  }
  return out;
}

std::vector<pid_t> container_pids(const std::string& root, const std::string& id) {
  Loaded c = container_load(root, id, false);
  if (c.status == Status::stopped) return {};
  return pids_of(c.state);
}

void container_pause(const std::string& root, const std::string& id, bool pause) {
  Loaded c = container_load(root, id, true);
  // A created container can be paused, as in runc: its process waits for start, frozen.
  if (pause && c.status != Status::running && c.status != Status::created)
    fail("cannot pause container \"" + id + "\": it is " + status_name(c.status));
  if (!pause && c.status != Status::paused)
    fail("cannot resume container \"" + id + "\": it is " + status_name(c.status) + ", not paused");
  if (c.state.cgroup.empty())
    fail(std::string(pause ? "pause" : "resume") + " needs a cgroup freezer; container \"" + id +
         "\" has no cgroup (nook could not create one for uid " + std::to_string(geteuid()) + ")");
  cgroup_freeze(c.state.cgroup, pause);
}

bool shares_nook_memory(const Config& cfg, bool new_userns, bool systemd_cgroup) {
  return !new_userns && !systemd_cgroup && cfg.hooks.empty() && cfg.linux.own_ns(NsType::pid) &&
         !(cfg.process && cfg.process->terminal) &&
         !(cfg.linux.seccomp && seccomp_has_listener(*cfg.linux.seccomp)) &&
         std::none_of(cfg.mounts.begin(), cfg.mounts.end(), mount_idmapped);
}

}  // namespace nook
