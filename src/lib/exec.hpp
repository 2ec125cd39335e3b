// exec: a new process in a running container. The process is a direct child of `nook exec`:
// the runtime joins the container's PID namespace for its children, clones, and the child
// joins the other namespaces and the cgroup, takes the process's attributes and execs.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config.hpp"

namespace nook {

// `nook exec` flags (runc's).
struct ExecOptions {
  std::string process_file;              // --process: the whole process, as JSON
  std::vector<std::string> args;         // the command after the container ID
  bool tty = false;                      // --tty
  std::string console_socket;            // --console-socket
  std::string cwd;                       // --cwd
  std::vector<std::string> env;          // --env NAME=VALUE (repeatable)
  std::string user;                      // --user UID[:GID]
  std::vector<int64_t> additional_gids;  // --additional-gids
  bool detach = false;                   // --detach
  std::string pid_file;                  // --pid-file
  int preserve_fds = 0;                  // --preserve-fds
  bool no_new_privs = false;             // --no-new-privs
  std::vector<std::string> caps;         // --cap (repeatable)
  std::string apparmor;                  // --apparmor
  std::string process_label;             // --process-label
  bool ignore_paused = false;            // --ignore-paused
  std::vector<std::string> cgroup;       // --cgroup [CONTROLLER[,CONTROLLER...]:]PATH (repeatable)
};

// Parses --user "UID[:GID]" (numbers only, as runc). Throws nook::Error.
void parse_exec_user(const std::string& spec, uint32_t* uid, std::optional<uint32_t>* gid);

// The process to run, by runc's rules. With --process, the file's process (its capabilities and
// rlimits default to the container's when it has none). Otherwise the container's
// process.json with args replaced, --env appended (a later NAME= replaces an earlier one),
// --cwd, --user, --additional-gids, --cap (added to bounding, effective, permitted, and
// ambient when inheritable is not empty), --no-new-privs, --apparmor, --process-label, and
// terminal = --tty. `process_text` is the --process file's content (read by the caller).
// Throws nook::Error naming the flag or the JSON pointer.
Process exec_process_for(const Config& cfg, const ExecOptions& o, const std::string& process_text);

// nook exec. In the foreground: waits for the process, forwards signals, returns its exit
// status (128+N for a death by signal N). With detach: returns 0 once the program runs.
int container_exec(const std::string& root, const std::string& id, const ExecOptions& o);

}  // namespace nook
