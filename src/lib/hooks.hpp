// OCI hooks: run a list of hooks with the state JSON on stdin.
#pragma once
#include <string>
#include <vector>

#include "config.hpp"

namespace nook {

// Runs each hook in order (fork + execve, state on stdin, args/env/timeout as configured).
// Throws nook::Error naming the phase, hook path and how it failed. With warn_only (poststop)
// failures are logged as warnings instead. `container` is a pidfd of the container's process
// (or -1): if that process ends while a hook runs (`delete --force` killed it), the hook is
// killed and the run fails at once, so that create does not hold the container lock for a
// hook's whole run. A hook without `env` gets `default_env` when given (the hooks that run in
// the container process: its process.env, as runc, whose init has loaded it by then), else
// nook's own environment (the runtime's hooks, as runc and crun).
void run_hooks(const std::vector<Hook>& hooks, const std::string& state_json, const char* phase,
               bool warn_only = false, int container = -1,
               const std::vector<std::string>* default_env = nullptr);

}  // namespace nook
