// Test hook for crash-consistency tests (tests/integration/crash.bats): with
// NOOK_TEST_PAUSE=STEP in the environment, nook stops itself (SIGSTOP) when it reaches the
// named step, so that a test can SIGKILL it exactly there and check what `delete --force` and
// `list` recover. Several steps may be given, comma-separated. Without the variable this is a
// getenv() per step. It grants nothing: any caller can stop its own process.
//
// Steps: create-dir, create-fifo, create-clone, create-cgroup, create-go, create-ready,
// create-state, create-pidfile (parent, create/run); init-go, init-rootfs, init-ready (the
// container process); start-locked, start-fifo; delete-locked, delete-killed, delete-cgroup.
#pragma once
#include <signal.h>

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
      ::raise(SIGSTOP);
      return;
    }
  }
}

}  // namespace nook
