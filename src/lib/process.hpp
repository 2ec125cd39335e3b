// The container process's attributes, applied in the container process just before execve.
// Shared by create/run (init) and exec.
#pragma once
#include <string>
#include <vector>

#include "config.hpp"

namespace nook {

// Resolves args[0] against PATH from `env` inside the current root (after pivot_root).
// Throws nook::Error "exec: \"foo\": executable file not found in $PATH".
std::string find_executable(const std::string& prog, const std::vector<std::string>& env);

// setrlimit for every config rlimit.
void apply_rlimits(const std::vector<Rlimit>& rl);

// oomScoreAdj, scheduler, ioPriority, personality.
void apply_sched_attrs(const Process& p, const Linux& linux);

// Switches to process.user: groups (unless setgroups is denied), gid, uid, keeping the
// capabilities needed for apply_capabilities. `setgroups_ok` false in single-ID mode.
void switch_user(const User& u, bool setgroups_ok);

// Drops the bounding set to caps.bounding (needs CAP_SETPCAP: call before switch_user).
void drop_bounding_set(const Capabilities& caps);

// Sets effective/permitted/inheritable/ambient (after switch_user, which keeps permitted).
// With drop_bounding it first calls drop_bounding_set (for callers still holding CAP_SETPCAP).
void apply_capabilities(const Capabilities& caps, bool drop_bounding = true);

// Environment with HOME added from /etc/passwd (inside the container) when it is missing.
std::vector<std::string> container_env(const Process& p);

// Socket activation (sd_listen_fds(3)), as runc and crun pass it on: the number of
// descriptors from 3 on that nook was given for its program, LISTEN_FDS in nook's environment
// when LISTEN_PID is unset or nook's own PID (else they are another process's); 0 otherwise.
int inherited_listen_fds();

// LISTEN_FDS=n (runc) and LISTEN_PID=the calling process's PID (crun: 1, which it is in a PID
// namespace of its own) added to `env`, each unless `env` sets it already (crun).
void add_listen_env(std::vector<std::string>& env, int n);

// execve; returns only on failure (throws).
[[noreturn]] void exec_process(const std::string& path, const std::vector<std::string>& args,
                               const std::vector<std::string>& env);

// True when `cap` is in the effective set.
bool has_cap(int cap);

// What a container process needs to call exec_process().
struct Prepared {
  std::string exe;
  std::vector<std::string> env;
};

// The last steps before execve, shared by create/run (init.cpp) and exec (exec.cpp), in this
// order: seccomp filters (early when the process keeps the ability to gain privileges, as
// they then need CAP_SYS_ADMIN; else last), bounding set, user switch, capabilities,
// no_new_privs, umask, cwd (checked to be inside the root: CVE-2024-21626), the executable.
// `profile` may be null; `emulate_root` adds the root emulation filter
// (docs/root-emulation.md). A profile with a seccomp notify listener hands it to the parent
// over `sync_fd` right after loading and waits for its answer (seccomp.hpp). Throws ExecError
// when the executable is not found.
Prepared finish_process(const Process& proc, const Seccomp* profile, bool emulate_root,
                        bool setgroups_ok, int sync_fd);

// Keeps fds 0..2 and 3..3+preserve-1 (clearing their close-on-exec flag) and every fd in
// `keep`; closes everything else.
void close_fds_except(int preserve, const std::vector<int>& keep);

}  // namespace nook
