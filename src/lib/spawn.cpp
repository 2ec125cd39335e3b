#include "spawn.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "container.hpp"
#include "log.hpp"
#include "state.hpp"

// src/fast/exe.hpp: in the nook binary, not in the engine library the unit tests link.
extern "C" __attribute__((weak)) void nook_exe_release();

namespace nook {

Child::Child(int min_fd) {
  int sp[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0)
    throw_sys("socketpair", "sync");
  sync_ = Fd(sp[0]);
  child_end_ = raise_fd(Fd(sp[1]), min_fd);
  if (int lfd = log::open_now(); lfd >= 0)
    log_ = raise_fd(Fd(::fcntl(lfd, F_DUPFD_CLOEXEC, min_fd)), min_fd);
}

void Child::go(const std::string& payload, const std::string& exited) {
  if (!sync::send(sync_.get(), sync::kGo, payload)) fail(exited);
}

void Child::reap(int* status) {
  ::waitpid(pid_, status, 0);
  pid_ = -1;
}

pid_t Child::release() {
  return std::exchange(pid_, -1);
}

void Child::kill() {
  pid_t pid = std::exchange(pid_, -1);
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

namespace {

// clone(2)-style flags (namespaces | exit signal) as clone3's arguments, into the v2 cgroup
// `cgroup_fd` when it is one (>= 0).
struct clone_args clone3_args(unsigned long flags, int cgroup_fd) {
  struct clone_args ca;
  std::memset(&ca, 0, sizeof ca);
  ca.flags = flags & ~static_cast<unsigned long>(CSIGNAL);
  ca.exit_signal = flags & CSIGNAL;
  if (cgroup_fd >= 0) {
    ca.flags |= CLONE_INTO_CGROUP;
    ca.cgroup = static_cast<uint64_t>(cgroup_fd);
  }
  return ca;
}

#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
// clone3 with a function to run in the child, on the stack clone_args names (as glibc's
// internal __clone3): returns the child's PID or -errno; the child calls fn(arg) and exits
// with its result. fn and arg stay in r8/r9, which the system call preserves.
extern "C" long nook_clone3_run(struct clone_args* args, size_t size, int (*fn)(void*), void* arg)
    __attribute__((visibility("hidden")));
asm(R"(
  .text
  .globl nook_clone3_run
  .hidden nook_clone3_run
  .type nook_clone3_run, @function
nook_clone3_run:
  mov %rdx, %r8
  mov %rcx, %r9
  mov $435, %eax
  syscall
  test %rax, %rax
  jz 1f
  ret
1:
  xor %ebp, %ebp
  mov %r9, %rdi
  call *%r8
  mov %eax, %edi
  mov $60, %eax
  syscall
  hlt
  .size nook_clone3_run, .-nook_clone3_run
)");

// The child's stack: below ours, clear of the frames nook keeps while it waits (its pages
// are those earlier deep calls made present, so they cost no fault).
constexpr uintptr_t kVmStack = 512 * 1024, kVmGap = 16 * 1024;

long clone_shared_vm(unsigned long flags, int cgroup_fd, int (*fn)(void*), void* arg) {
  struct clone_args ca = clone3_args(flags | CLONE_VM | CLONE_VFORK, cgroup_fd);
  uintptr_t top =
      (reinterpret_cast<uintptr_t>(__builtin_frame_address(0)) - kVmGap) & ~uintptr_t{63};
  ca.stack = top - kVmStack;
  ca.stack_size = kVmStack;
  long r = nook_clone3_run(&ca, sizeof ca, fn, arg);
  if (r < 0) {
    errno = static_cast<int>(-r);
    return -1;
  }
  return r;
}
#else
long clone_shared_vm(unsigned long, int, int (*)(void*), void*) {
  errno = ENOSYS;  // the sanitizers track stacks per thread: not on a stack they do not know
  return -1;
}
#endif

struct VmChild {
  int parent_end;
  const std::function<void()>* child;
};

// The shared-memory child: writes nothing of nook's memory (no Fd::release, no
// nook_exe_release: the clone's descriptor is close-on-exec and closed before execve).
int vm_child(void* p) {
  auto* v = static_cast<VmChild*>(p);
  ::close(v->parent_end);  // our copy (the descriptor table is the child's own)
  (*v->child)();
  _exit(1);
}

}  // namespace

long clone3_into(unsigned long flags, int cgroup_fd) {
  struct clone_args ca = clone3_args(flags, cgroup_fd);
  return syscall(SYS_clone3, &ca, sizeof ca);
}

std::vector<Fd> open_tasks_files(const std::vector<std::string>& dirs, int min_fd,
                                 std::vector<TasksFile>& files) {
  std::vector<Fd> out;
  for (auto& d : dirs) {
    std::string path = d + "/tasks";
    Fd f(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!f) throw_sys("open", path);
    out.push_back(raise_fd(std::move(f), min_fd));
    files.emplace_back(out.back().get(), path);
  }
  return out;
}

void spawn(Child& c, const Spawn& s) {
  // Joining a PID namespace by path: our next child is born in it; we go back to our own for
  // the children that follow (hooks), which setns(2) allows since ours is its ancestor.
  Fd own_pid;
  if (s.pidns_fd >= 0) {
    own_pid = Fd(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
    if (!own_pid) throw_sys("open", "/proc/self/ns/pid");
    if (::setns(s.pidns_fd, CLONE_NEWPID) != 0)
      throw_sys("setns", s.pidns_path + " (PID namespace)");
  }
  long pid = -1;
  bool cloned = false;
  if (s.shared_vm) {
    VmChild v{c.sync_.get(), &s.child};
    int dumpable = ::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    pid = clone_shared_vm(s.vm_flags, s.vm_cgroup, vm_child, &v);
    cloned = pid > 0 || (errno != ENOSYS && errno != EBUSY && errno != EOPNOTSUPP &&
                         errno != EINVAL && errno != E2BIG);
    if (pid > 0 && dumpable >= 0)  // the child made the memory it shared with us non-dumpable
      ::prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
    if (!cloned && s.vm_refused) s.vm_refused();
  }
  if (!cloned) pid = s.clone();
  int clone_errno = errno;
  if (pid == 0) {
    // The parent's end: closed here, so that a parent that dies shows as EOF to us.
    ::close(c.sync_.release());
    if (nook_exe_release) nook_exe_release();  // our copy; the parent's is the last (await_child)
    s.child();
    _exit(1);  // not reached: the child function execs or exits
  }
  if (own_pid && ::setns(own_pid.get(), CLONE_NEWPID) != 0) {
    int e = errno;
    if (pid > 0) c.pid_ = static_cast<pid_t>(pid);
    throw_sys("setns", "/proc/self/ns/pid (back to nook's PID namespace)", e);
  }
  if (pid < 0 && s.other_pidns && clone_errno == ENOMEM) fail(s.pidns_gone);
  if (pid < 0) throw_sys("clone", s.what, clone_errno);
  c.pid_ = static_cast<pid_t>(pid);
  c.child_end_.reset();
}

void await_child(Child& c, const Replies& r) {
  // The read-only clone of nook's binary (src/fast/exe.hpp): our descriptor is the last one
  // (the child closed its copy first thing) and is closed once the child is set up, whatever
  // the outcome. The last close dissolves the detached mount, which waits for an expedited
  // RCU grace period (~50 us here): the child, which runs on this CPU once we wait, would
  // otherwise be the one that waits, if we closed ours before it ran.
  struct Release {
    ~Release() {
      if (nook_exe_release) nook_exe_release();
    }
  } release;
  for (;;) {
    sync::Msg m;
    std::string payload;
    std::vector<int> raw;
    bool got = sync::recv(c.channel(), &m, &payload, &raw);
    std::vector<Fd> fds;  // closed whatever happens to them
    for (int f : raw) fds.emplace_back(f);
    if (!got) {
      if (r.exited.empty()) return;  // the program is running (execve closed the channel)
      int status = 0;
      c.reap(&status);
      fail(r.exited + " (" + std::to_string(exit_code(status)) + ")");
    }
    if (m == sync::kHooks && r.hooks) {
      r.hooks();
      sync::send(c.channel(), sync::kHooksDone);
      continue;
    }
    if (m == sync::kSeccomp && r.seccomp && fds.size() == 1) {
      r.seccomp(fds[0].get());
      fds.clear();  // our copy closed before the child goes on: the agent holds the only one
      sync::send(c.channel(), sync::kSeccompDone);
      continue;
    }
    if (m == sync::kReady) return;
    if (m == sync::kSeccomp) payload = "the container process sent a seccomp listener unasked";
    // ERROR, EXEC_FAILED, or a message this caller does not expect: the child failed.
    c.reap();
    if (m == sync::kExecFailed) throw ExecError(payload);
    throw Error(payload);
  }
}

std::string absolute_path(const std::string& p) {
  if (!p.empty() && p[0] == '/') return p;
  char cwd[4096];
  if (!::getcwd(cwd, sizeof cwd)) throw_sys("getcwd");
  if (p.empty() || p == ".") return cwd;
  return std::string(cwd) + "/" + p;
}

void write_child_pid_file(const std::string& path, pid_t pid) {
  if (!path.empty()) write_pid_file(absolute_path(path), pid);
}

void child_die(int sync_fd, sync::Msg type, const std::string& msg) {
  if (!sync::send(sync_fd, type, msg)) {
    std::string line = "nook: " + msg + "\n";
    (void)!::write(2, line.data(), line.size());
  }
  _exit(type == sync::kExecFailed ? 127 : 1);
}

void join_own_cgroups(const std::vector<TasksFile>& files, int sync_fd) {
  for (auto& [fd, path] : files) {
    if (::write(fd, "0", 1) != 1)
      child_die(sync_fd, sync::kError, sys_message("write \"0\" to", path, errno));
    ::close(fd);
  }
}

void child_wait(int sync_fd, sync::Msg want, std::string* payload) {
  sync::Msg m;
  if (!sync::recv(sync_fd, &m, payload) || m != want) _exit(1);  // the parent gave up
}

}  // namespace nook
