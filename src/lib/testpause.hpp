// Test hook for crash-consistency tests (tests/integration/crash.bats): with
// NOOK_TEST_PAUSE=STEP in the environment, nook stops itself (SIGSTOP) when it reaches the
// named step, so that a test can SIGKILL it exactly there and check what `delete --force` and
// `list` recover. Several steps may be given, comma-separated. Without the variable this is a
// getenv() per step. It grants nothing: any caller can stop its own process.
//
// Steps: create-dir, create-fifo, create-clone, create-cgroup, create-go, create-ready,
// create-hooks, create-state, create-pidfile (parent, create/run); init-go, init-rootfs, init-ready
// (the container process); start-locked, start-fifo; delete-locked, delete-killed, delete-cgroup;
// exec-joined (the process `exec` clones, in the container's namespaces).
#pragma once
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace nook {

inline void test_pause(const char* step) {
  const char* want = std::getenv("NOOK_TEST_PAUSE");
  if (!want || !*want) return;
  size_t n = std::strlen(step);
  for (const char* p = want; (p = std::strstr(p, step)) != nullptr; p += n) {
    bool starts = p == want || p[-1] == ',';
    bool ends = p[n] == '\0' || p[n] == ',';
    if (starts && ends) {
      // The line tells the test the step is reached (stderr is the caller's).
      char msg[160];
      int len = std::snprintf(msg, sizeof msg, "nook: test pause at %s\n", step);
      if (len > 0) (void)!::write(2, msg, static_cast<size_t>(len));
      // PID 1 of a new PID namespace cannot stop itself: the kernel drops SIGSTOP sent from
      // inside. It waits to be killed (its parent's death signal comes from outside).
      if (::getpid() == 1)
        for (;;) ::pause();
      // Not raise(): it signals the thread ID cached in the thread's control block, which a
      // process cloned with CLONE_VM shares with nook (Spawn::shared_vm).
      ::kill(::getpid(), SIGSTOP);
      return;
    }
  }
}

}  // namespace nook
