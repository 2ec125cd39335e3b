// The container process's side of create/run: from clone() to execve() of the user's program.
#pragma once
#include <signal.h>

#include <string>
#include <utility>
#include <vector>

#include "config.hpp"
#include "spawn.hpp"
#include "userns.hpp"

namespace nook {

// Everything the container process needs, prepared by the parent before clone(). The child
// is a copy-on-write image of the parent, so it reads this directly.
struct InitSpec {
  const Config* cfg = nullptr;
  const Process* process = nullptr;  // cfg->process
  std::string bundle;
  std::string id;
  IdPlan ids;
  bool emulate_root = false;
  bool no_pivot = false;
  bool no_new_keyring = false;
  bool foreground = false;  // `run` without --detach: no exec fifo, nook stays the parent
  int preserve_fds = 0;     // LISTEN_FDS and --preserve-fds: 3..3+N-1
  int listen_fds = 0;       // socket activation: LISTEN_* for the program
  int sync_fd = -1;         // child's end of the socketpair
  int fifo_fd = -1;         // exec.fifo, read end (create)
  int console_fd = -1;      // where to send the pty master (terminal)
  int log_fd = -1;          // kept open until execve (close-on-exec)
  std::vector<std::pair<NsType, int>> join;  // namespaces to setns into, user first
  // cgroup v1 `tasks` files (descriptor, path) the process writes "0" to after GO: it joins
  // the container's v1 hierarchies itself, without a migration (container.cpp)
  std::vector<TasksFile> cgroup_tasks;
  sigset_t parent_mask;  // signal mask to restore
  // Cloned sharing nook's memory (CLONE_VM|CLONE_VFORK; spawn.hpp's Spawn::shared_vm): nook
  // waits in the kernel until our execve, so there is no GO to wait for.
  bool shared_vm = false;
};

// Runs in the cloned child; never returns. Reports set-up errors to the parent over sync_fd.
[[noreturn]] void container_init(const InitSpec& spec);

}  // namespace nook
