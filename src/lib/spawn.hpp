// Making a process that runs in a container, parent side and child side: the one path shared
// by create/run (launch, container.cpp) and exec (exec.cpp).
//
// Parent: a Child guard owns the sync channel (SOCK_SEQPACKET), the child's end of it, a
// duplicate of the --log descriptor for the child, and the child's PID; until released it
// kills and reaps the child when it goes out of scope, so a failed operation leaves no
// process behind. spawn() clones the child (in another PID namespace when asked: the parent
// joins it just for the clone, since setns(CLONE_NEWPID) moves only later children);
// await_child() reads the child's replies until it is ready or runs its program.
// Child: child_die() reports an error to the parent and exits; child_try() turns exceptions
// into that report.
#pragma once
#include <sys/types.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "error.hpp"
#include "fd.hpp"
#include "sync.hpp"

namespace nook {

struct Spawn;

class Child {
 public:
  Child() = default;
  // The channel: our end where the kernel puts it, the child's end and the log duplicate
  // (when --log is open) at or above `min_fd`, clear of the --preserve-fds descriptors.
  explicit Child(int min_fd);
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() { kill(); }

  int channel() const { return sync_.get(); }
  int child_end() const { return child_end_.get(); }
  int log_fd() const { return log_.get(); }
  pid_t pid() const { return pid_; }

  // GO (with `payload`); a child that is gone fails with `exited`.
  void go(const std::string& payload, const std::string& exited);
  // Waits for the child to end; it is no longer ours to kill.
  void reap(int* status = nullptr);
  // The child runs on its own now: returns its PID, which is no longer ours to kill.
  pid_t release();
  // SIGKILL and reap, if the child is still ours.
  void kill();

 private:
  friend void spawn(Child& c, const Spawn& s);
  Fd sync_;       // our end
  Fd child_end_;  // closed once the child is made
  Fd log_;        // the child's copy of the --log descriptor (close-on-exec)
  pid_t pid_ = -1;
};

struct Spawn {
  // Makes the child; returns like fork(): 0 in the child, its PID, or -1 with errno set.
  std::function<long()> clone;
  // Runs in the child after our end of the channel is closed; never returns.
  std::function<void()> child;
  // A PID namespace (by path) for the child: the parent joins it for the clone, then goes
  // back to its own, so that later children (hooks) are born in nook's namespace.
  int pidns_fd = -1;
  std::string pidns_path;  // for messages
  // The clone fails with ENOMEM in a PID namespace (joined here or by the caller) whose init
  // is gone: then this message, else "clone WHAT: errno text".
  bool other_pidns = false;
  std::string pidns_gone;
  std::string what;
  // Clone sharing nook's memory, as posix_spawn does (CLONE_VM|CLONE_VFORK, the child on a
  // stack of its own below nook's): no page table copied at the clone and no page copied on
  // write afterwards, on either side (each a page fault of 15-20 us on this project's VM). nook
  // waits in the kernel until the child's execve or exit, so this is only for a child that
  // nook has nothing to do for before then (launch decides), and the child changes nothing of
  // nook's memory that nook reads afterwards. `vm_flags`: the clone flags; `vm_cgroup`: the v2
  // cgroup directory to clone into, or -1. When the kernel refuses (no clone3, a cgroup that
  // cannot take the process this way), `vm_refused` runs and `clone` makes the child instead.
  bool shared_vm = false;
  unsigned long vm_flags = 0;
  int vm_cgroup = -1;
  std::function<void()> vm_refused;
};

// Clones the child (its PID goes to `c`, the child's end of the channel is closed). Throws
// nook::Error.
void spawn(Child& c, const Spawn& s);

struct Replies {
  // EOF on the channel: with an empty `exited` the child ran its program (execve closed the
  // channel); otherwise it died, and the error is "EXITED (STATUS)".
  std::string exited;
  // HOOKS: runs them, then answers HOOKS_DONE.
  std::function<void()> hooks;
  // SECCOMP: gets the listener (closed after it returns), then answers SECCOMP_DONE; throws
  // to fail the operation (the child is killed with the Child guard).
  std::function<void(int listener)> seccomp;
};

// Reads the child's replies until READY or EOF. ERROR and EXEC_FAILED reap the child and
// throw nook::Error or nook::ExecError with its message.
void await_child(Child& c, const Replies& r);

// Writes the PID to `path` (relative to our working directory) when `path` is not empty.
void write_child_pid_file(const std::string& path, pid_t pid);

// clone3 with `flags` (the exit signal in their CSIGNAL bits), straight into the cgroup v2
// directory `cgroup_fd` (CLONE_INTO_CGROUP; -1: where we are). Returns like fork(); -1 with
// errno on failure.
long clone3_into(unsigned long flags, int cgroup_fd);

// A cgroup v1 `tasks` file the child writes "0" to: (descriptor, path for messages).
using TasksFile = std::pair<int, std::string>;

// The `tasks` files of the cgroup v1 directories `dirs`, opened at or above `min_fd` for the
// child about to be cloned, which joins them itself (join_own_cgroups): a thread that moves
// itself needs no migration and skips the kernel's global cgroup lock (docs/cgroups.md).
// `files` gets what the child needs; the returned descriptors are closed after the clone.
std::vector<Fd> open_tasks_files(const std::vector<std::string>& dirs, int min_fd,
                                 std::vector<TasksFile>& files);

// Our working directory's `p`; "" and "." are the directory itself.
std::string absolute_path(const std::string& p);

// --- The child's side ------------------------------------------------------------------------

// Reports `msg` to the parent (or on stderr when the parent is gone) and exits: 127 for
// EXEC_FAILED, else 1.
[[noreturn]] void child_die(int sync_fd, sync::Msg type, const std::string& msg);

// Writes "0" to each of `files` (open_tasks_files) and closes it: this process joins those
// cgroups. A failure is reported with child_die.
void join_own_cgroups(const std::vector<TasksFile>& files, int sync_fd);

// Waits for the parent's `want` (its payload into `payload`); exits when the parent gave up.
void child_wait(int sync_fd, sync::Msg want, std::string* payload = nullptr);

// f(), with an ExecError reported as EXEC_FAILED and any other exception as ERROR.
template <class F>
auto child_try(int sync_fd, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const ExecError& e) {
    child_die(sync_fd, sync::kExecFailed, e.what());
  } catch (const std::exception& e) {
    child_die(sync_fd, sync::kError, e.what());
  }
}

}  // namespace nook
