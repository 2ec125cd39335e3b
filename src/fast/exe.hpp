// nook's binary out of the containers' reach (src/fast/exe.cpp): callable before the C
// library starts (from the ELF entry point) and after (from main()).
#pragma once

#define NOOK_PRELIBC extern "C" __attribute__((visibility("hidden")))

// Returns 0 when the process runs from a file no container of this caller can write, does
// not return when it re-executes itself from a read-only clone or a sealed copy, and returns
// -errno with *step naming what failed otherwise. `prelibc`: called from the ELF entry point,
// before the C library has written to the binary's data (it may then switch without execve).
NOOK_PRELIBC long nook_exe_protect(char** argv, char** envp, const char** step, bool prelibc);

// True for the verbs that start a process in a container (create, run, exec).
NOOK_PRELIBC bool nook_verb_enters_container(const char* verb);

// The verb of a command line (after runc's global options) is one of those.
NOOK_PRELIBC bool nook_argv_enters_container(int argc, char** argv);

// Step 3a keeps the descriptor of the read-only clone open: closing its last reference
// dissolves the detached mount, and the kernel then waits for an RCU grace period (0.1-5 ms
// on this project's VMs, on the critical path of a start when done at once). Closes it (once;
// no-op otherwise). Called by the container's or exec's process first thing after the clone
// (the parent still holds it: no wait there) and by nook once that process is set up
// (the end of await_child), so that the wait never falls on the process being set up.
NOOK_PRELIBC void nook_exe_release();
