// OCI hooks: run a list of hooks with the state JSON on stdin.
#pragma once
#include <string>
#include <vector>

#include "config.hpp"

namespace nook {

// Runs each hook in order (fork + execve, state on stdin, args/env/timeout as configured).
// Throws nook::Error naming the phase, hook path and how it failed. With warn_only (poststop)
// failures are logged as warnings instead.
void run_hooks(const std::vector<Hook>& hooks, const std::string& state_json, const char* phase,
               bool warn_only = false);

}  // namespace nook
