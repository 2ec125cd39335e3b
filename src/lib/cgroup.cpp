// cgroups, a running container's side: freezing and thawing it (pause, resume), whether it is
// frozen (state, list), which processes are in it (ps), and signalling them all (kill --all,
// delete --force). Runs in nook's own process, on the placement saved in the state file.
// Where the cgroup is made, written and removed: cgroup_fs.cpp; the rest of the module:
// cgroup_internal.hpp.
//
// This file needs nothing from the module's other .cpp files: the state fuzzer
// (fuzz/CMakeLists.txt) links it alone with state.cpp, which asks cgroup_frozen().
#include "cgroup.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "../fast/shared.hpp"
#include "cgroup_internal.hpp"
#include "error.hpp"
#include "fd.hpp"

namespace nook {
using namespace cgroup_internal;
namespace {

// The text of a cgroup file, or nullopt when the cgroup is gone (ENOENT); other errors throw.
std::optional<std::string> read_unless_gone(const std::string& path) {
  auto s = read_file(path);
  if (!s && errno != ENOENT) throw_sys("read", path);
  return s;
}

void collect_pids(const std::string& dir, std::vector<pid_t>& out) {
  auto s = read_unless_gone(dir + "/cgroup.procs");
  if (!s) return;
  for (auto& line : split(*s, '\n'))
    if (!line.empty()) out.push_back(static_cast<pid_t>(std::stol(line)));
  if (auto subs = sub_dirs(dir))
    for (auto& sub : *subs) collect_pids(sub, out);
}

// The directory used to freeze: the v1 freezer if the placement has one, else v2.
struct Freezer {
  std::string dir;
  bool v2 = false;
};

// cgroup v2's cgroup.freeze when there is one (cheap, and frozen tasks can still be killed);
// else the v1 freezer.
std::optional<Freezer> freezer_of(const CgroupPlacement& p) {
  if (!p.v2.empty() && exists(p.v2 + "/cgroup.freeze")) return Freezer{p.v2, true};
  for (auto& d : p.v1)
    if (exists(d + "/freezer.state")) return Freezer{d, false};
  return std::nullopt;
}

[[noreturn]] void no_cgroup(const std::string& what, const std::string& id) {
  std::string who = id.empty() ? "the container" : "container " + id;
  if (geteuid() != 0)
    fail(what + " needs a cgroup; " + who + " has none (unprivileged, no delegated cgroup v2)");
  fail(what + " needs a cgroup; " + who + " has none (no writable cgroup when it was created)");
}

// cgroup.events "frozen 0|1", or nullopt if the cgroup is gone.
std::optional<bool> v2_frozen(const std::string& dir) {
  auto s = read_unless_gone(dir + "/cgroup.events");
  if (!s) return std::nullopt;
  int f = fast::events_frozen(s->data(), static_cast<long>(s->size()));
  if (f >= 0) return f == 1;
  fail(dir + "/cgroup.events has no \"frozen\" line (kernel older than 5.2?)");
}

constexpr auto kFreezeTimeout = std::chrono::seconds(10);

void freeze_v2(const std::string& dir, bool freeze) {
  write_or_throw(dir + "/cgroup.freeze", freeze ? "1" : "0");
  // The kernel notifies changes of cgroup.events with POLLPRI; wait on it, but re-read on a
  // short timer too, in case the notification comes before we poll.
  Fd fd(::open((dir + "/cgroup.events").c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_sys("open", dir + "/cgroup.events");
  auto deadline = Clock::now() + kFreezeTimeout;
  while (true) {
    auto f = v2_frozen(dir);
    if (!f || *f == freeze) return;
    if (Clock::now() > deadline) {
      if (freeze) write_file(dir + "/cgroup.freeze", "0");
      fail(std::string("timed out after 10s waiting for ") + dir + " to " +
           (freeze ? "freeze" : "thaw"));
    }
    pollfd pfd{fd.get(), POLLPRI, 0};
    ::poll(&pfd, 1, 10);
  }
}

void freeze_v1(const std::string& dir, bool freeze) {
  std::string state = dir + "/freezer.state";
  const char* want = freeze ? "FROZEN" : "THAWED";
  auto deadline = Clock::now() + kFreezeTimeout;
  auto delay = std::chrono::microseconds(10);
  while (true) {
    // Writing FROZEN again makes the kernel retry tasks that could not be frozen yet
    // (FREEZING: e.g. in an uninterruptible sleep).
    write_or_throw(state, want);
    auto s = read_unless_gone(state);
    if (!s) return;
    if (trim(*s) == want) return;
    if (Clock::now() > deadline) {
      if (freeze) write_file(state, "THAWED");
      fail("timed out after 10s waiting for " + state + " to become " + want + " (it is " +
           trim(*s) + ")");
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::microseconds(10000));
  }
}

}  // namespace

std::vector<pid_t> cgroup_pids(const CgroupPlacement& p) {
  std::vector<pid_t> out;
  if (!p.v2.empty()) {
    collect_pids(p.v2, out);
  } else if (!p.v1.empty()) {
    auto f = freezer_of(p);
    collect_pids(f ? f->dir : p.v1.front(), out);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void cgroup_freeze(const CgroupPlacement& p, bool freeze, const std::string& id) {
  const char* what = freeze ? "pause" : "resume";
  if (p.empty()) no_cgroup(what, id);
  auto f = freezer_of(p);
  if (!f)
    fail(std::string(what) + " needs a freezer; the cgroups of " +
         (id.empty() ? "the container" : "container " + id) +
         " have none (no cgroup v1 freezer, no cgroup v2)");
  if (f->v2)
    freeze_v2(f->dir, freeze);
  else
    freeze_v1(f->dir, freeze);
}

bool cgroup_frozen(const CgroupPlacement& p) {
  auto f = freezer_of(p);
  if (!f) return false;
  if (f->v2) return v2_frozen(f->dir).value_or(false);
  auto s = read_file(f->dir + "/freezer.state");
  return s && fast::state_frozen(s->data(), static_cast<long>(s->size()));
}

std::pair<int, std::string> cgroup_freezer_file(const CgroupPlacement& p) {
  auto f = freezer_of(p);
  if (!f) return {static_cast<int>(fast::FreezerKind::none), ""};
  if (f->v2) return {static_cast<int>(fast::FreezerKind::v2), f->dir + "/cgroup.events"};
  return {static_cast<int>(fast::FreezerKind::v1), f->dir + "/freezer.state"};
}

void cgroup_signal_all(const CgroupPlacement& p, int sig, const std::string& id) {
  if (p.empty()) no_cgroup("kill --all", id);
  if (sig == SIGKILL && !p.v2.empty() && exists(p.v2 + "/cgroup.kill")) {
    write_or_throw(p.v2 + "/cgroup.kill", "1");
    return;
  }
  auto f = freezer_of(p);
  bool was_frozen = f && cgroup_frozen(p);
  // Freezing first means no process can fork a child that escapes the signal.
  if (f && !was_frozen) cgroup_freeze(p, true, id);
  std::optional<Error> err;
  try {
    for (pid_t pid : cgroup_pids(p))
      if (::kill(pid, sig) < 0 && errno != ESRCH) throw_sys("kill", std::to_string(pid));
  } catch (const Error& e) {
    err = e;
  }
  // Thaw unless the container was paused; a SIGKILL'd v1-frozen process only dies when thawed.
  if (f && (!was_frozen || (sig == SIGKILL && !f->v2))) cgroup_freeze(p, false, id);
  if (err) throw *err;
}

}  // namespace nook
