// The container lifecycle (parent side): create, start, run, state, kill, delete, list, ps,
// pause. Each operation takes the state root and a container ID; the CLI is a thin layer over
// these functions.
#pragma once
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "config.hpp"
#include "state.hpp"

namespace nook {

struct Config;

struct CreateOptions {
  std::string bundle = ".";
  std::string config;  // crun's --config: the config file, relative to the cwd (not the bundle)
  std::string pid_file;
  std::string console_socket;
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;
  bool systemd_cgroup = false;
  bool no_cgroups = false;  // --cgroup-manager disabled: no cgroup of the container's own
};

// Whether the container process of a foreground `run` may share nook's memory until its
// execve (Spawn::shared_vm: CLONE_VM|CLONE_VFORK): nook must have nothing to do for it between
// the clone and its execve (no ID maps or ID-mapped mounts to make, no systemd unit to join,
// no hooks, seccomp agent or console to serve), and it must be alone in a PID namespace made
// for it, where no process is there to reach it (and through it nook) before its execve.
bool shares_nook_memory(const Config& cfg, bool new_userns, bool systemd_cgroup);

// create: the container is set up and its process waits for `start`.
void container_create(const std::string& root, const std::string& id, const CreateOptions& o);

// start: releases a created container's program; runs poststart hooks.
void container_start(const std::string& root, const std::string& id);

// run: create + start. In the foreground, waits for the program, forwards signals, deletes
// the container (unless `keep`: then it stays, stopped, for `delete`) and returns the exit
// status (128+N for a death by signal N). With detach, returns 0 once the program runs.
// Without a PID namespace of its own the foreground run is a child subreaper (as runc's,
// unless `no_subreaper`): the container's orphans are reaped by nook, not the host's init.
struct RunOptions {
  bool detach = false, keep = false, no_subreaper = false;
};
int container_run(const std::string& root, const std::string& id, const CreateOptions& o,
                  const RunOptions& r);

// The OCI state JSON.
std::string container_state(const std::string& root, const std::string& id);

void container_kill(const std::string& root, const std::string& id, int sig, bool all);

void container_delete(const std::string& root, const std::string& id, bool force,
                      bool systemd_cgroup = false);

struct ListEntry {
  State state;
  Status status;
};
std::vector<ListEntry> container_list(const std::string& root);

// PIDs (host view) of every process in the container.
std::vector<pid_t> container_pids(const std::string& root, const std::string& id);

void container_pause(const std::string& root, const std::string& id, bool pause);

// Loads and locks a container's state for the exec implementation; throws if missing.
struct Loaded {
  ContainerDir dir;
  State state;
  Status status;
};
Loaded container_load(const std::string& root, const std::string& id, bool exclusive);

// For create and restore: the fields of a new container's state (`id`) that its bundle and
// config decide: ID, bundle, rootfs, annotations, owner (the caller's euid), hooks, whether
// its PID namespace is its own. The others (process, cgroup, ...) are left as they are.
void fill_new_state(State& st, const std::string& id, const std::string& bundle, const Config& cfg);

// For create and restore, when they fail (the OCI rule: an operation that fails leaves things
// as if it was never attempted): removes the cgroup `cg` (when not empty) and the state
// directory `dir` (when open), each failure a warning. The container's process must be gone.
void discard_container(const CgroupPlacement& cg, std::optional<ContainerDir>& dir);

// Exit status of a wait status: code, or 128+signal.
int exit_code(int wait_status);

}  // namespace nook
