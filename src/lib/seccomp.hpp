// Seccomp through libseccomp: the config's profile and nook's root emulation filter.
//
// Two filters may be stacked on the container process, in this order:
//   1. root emulation (docs/root-emulation.md): a static BPF program, built at compile time
//      from a table of system call numbers, that makes the chown family, the set*id family,
//      capset and mknod/mknodat of device nodes return 0 without doing anything;
//   2. the config's profile (linux.seccomp), compiled with libseccomp.
// The kernel runs every filter on every call and takes the most severe verdict; between two
// equally severe ones (two SECCOMP_RET_ERRNO) the newer filter wins. Loading the emulation
// first therefore gives: profile ALLOW/LOG/TRACE -> the emulation's fake success wins;
// profile ERRNO/TRAP/KILL -> the profile wins, so a profile that denies chown still denies it.
#pragma once
#include <linux/filter.h>
#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "config.hpp"

namespace nook {

// Annotation that turns root emulation on ("true") or off ("false"); default: on exactly when
// the container runs with a single-ID user namespace mapping.
inline constexpr const char* kRootEmulationAnnotation = "run.nook.root-emulation";

// Checks the profile once at create time (syscall names may be unknown to this libseccomp:
// those are skipped with a warning, as runc does; unknown actions, ops, architectures and
// flags are errors). Throws nook::Error naming "/linux/seccomp/...".
// libseccomp's version as the library reports it ("2.5.4"), for `nook --version`.
std::string seccomp_library_version();

void seccomp_validate(const Seccomp& profile, const std::string& file);

// Loads, in the container process: first the root emulation filter (if emulate_root), then
// the config's profile (if any). Called as late as possible before execve.
// Same as seccomp_install(profile ? &seccomp_compile(*profile) : nullptr, emulate_root).
int seccomp_load(const Seccomp* profile, bool emulate_root);

// A profile compiled to a BPF program and the seccomp(2) flags to load it with.
struct SeccompProgram {
  std::vector<sock_filter> insns;
  // SECCOMP_FILTER_FLAG_*: the profile's flags, and NEW_LISTENER when it has a listener
  unsigned flags = 0;
};

// Compiles a validated profile with libseccomp (allocates: do it before clone() or in the
// child while allocation is still safe). Unknown syscall names are skipped silently here;
// seccomp_validate() warned about them. Throws nook::Error.
SeccompProgram seccomp_compile(const Seccomp& profile);

// Installs the filters: the root emulation program first (if emulate_root), then `profile`
// (if not null). Makes system calls only: no allocation on success. Needs no_new_privs or
// CAP_SYS_ADMIN in the process's user namespace; it never sets no_new_privs itself.
// Throws nook::Error ("load seccomp filter ...: Permission denied ...").
// Returns the profile's notification listener (close-on-exec) when it has one, else -1.
int seccomp_install(const SeccompProgram* profile, bool emulate_root);

// --- Seccomp notify (SCMP_ACT_NOTIFY, listenerPath, listenerMetadata) ------------------------
//
// A profile with a SCMP_ACT_NOTIFY rule (or SECCOMP_FILTER_FLAG_NEW_LISTENER) is loaded with
// a listener: the descriptor a seccomp agent reads the notifications from and answers them
// on. The container process hands it to the runtime over the sync channel (sync::kSeccomp,
// one sendmsg, nothing allocated in between) and closes it; the runtime connects to
// listenerPath, sends the containerProcessState with the listener attached (SCM_RIGHTS),
// closes its copy, and only then lets the container process go on (sync::kSeccompDone).

// runtime-spec's name of the listener in containerProcessState.fds.
inline constexpr const char* kSeccompFdName = "seccompFd";

// True when loading `profile` creates a listener.
bool seccomp_has_listener(const Seccomp& profile);

// The containerProcessState (runtime-spec, runtime.md): {"ociVersion", "fds": ["seccompFd"],
// "pid", "metadata": listenerMetadata, "state": `state_json`}. `pid`: the process that loaded
// the filter, as the runtime sees it.
std::string seccomp_process_state(const Seccomp& profile, pid_t pid, const std::string& state_json);

// Connects to profile.listenerPath and sends `process_state` with `listener` attached in one
// message. Throws nook::Error naming the call, the path and errno ("connect seccomp agent PATH
// (linux.seccomp.listenerPath): No such file or directory").
void seccomp_send_listener(const Seccomp& profile, int listener, const std::string& process_state);

// --- Root emulation -------------------------------------------------------------------------

// A native system call whose 6th argument register holds this value is never faked by the
// root emulation filter. The runtime's own setgroups/setresgid/setresuid/capset made after
// the filter is loaded go through syscall_unemulated(); a container program that passes the
// value on purpose merely gets the real system call, i.e. what it would get without emulation.
inline constexpr uint64_t kRootEmulationPassthrough = 0x4e4f4f4b524f4f54ULL;  // "NOOKROOT"

// syscall(nr, a0, a1, a2, 0, 0, kRootEmulationPassthrough): the real system call even under
// the root emulation filter. Returns like syscall(2) (-1 and errno on failure).
long syscall_unemulated(long nr, long a0 = 0, long a1 = 0, long a2 = 0);

// How a faked call is recognised.
enum class EmulationMatch : uint8_t {
  always,      // every call
  mknod_mode,  // only when the mode argument's S_IFMT bits say S_IFCHR or S_IFBLK
};

// One row of the emulation table: the call's number per architecture (-1: not on that
// architecture). x32 uses the x86_64 number with __X32_SYSCALL_BIT set.
struct EmulatedSyscall {
  const char* name;
  int x86_64, i386, aarch64, arm;
  EmulationMatch match = EmulationMatch::always;
  unsigned mode_arg = 0;  // mknod_mode: index of the mode argument
};

// The table root emulation is built from (for docs, `features` and tests).
std::span<const EmulatedSyscall> root_emulation_table();

// Architecture families the emulation program can be built for.
enum class EmulationAbi : uint8_t {
  x86,  // AUDIT_ARCH_X86_64 (native and x32) + AUDIT_ARCH_I386
  arm,  // AUDIT_ARCH_AARCH64 + AUDIT_ARCH_ARM
};

// The emulation BPF program for an architecture family (compile-time constant), and the one
// for the machine nook was built for (empty if nook has no table for it).
std::span<const sock_filter> root_emulation_program(EmulationAbi abi);
std::span<const sock_filter> root_emulation_program();

}  // namespace nook
