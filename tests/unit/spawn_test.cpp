// spawn: the Child guard (kills and reaps unless released), spawn() and the reply loop of
// await_child(), with fork() as the clone and children that answer over the channel as the
// container process and the exec child do. No privileges needed.
#include "spawn.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "error.hpp"
#include "sync.hpp"

namespace nook {
namespace {

long fork_clone() {
  return ::fork();
}

// True while `pid` is a process (or an unreaped zombie) of ours.
bool exists(pid_t pid) {
  return ::kill(pid, 0) == 0;
}

void spawn_child(Child& c, std::function<void()> child) {
  Spawn s;
  s.clone = fork_clone;
  s.child = std::move(child);
  s.what = "test child";
  spawn(c, s);
}

TEST(Spawn, ChannelDescriptorsAreAboveThePreservedOnes) {
  Child c(40);
  EXPECT_GE(c.channel(), 0);
  EXPECT_GE(c.child_end(), 40);
  EXPECT_EQ(c.pid(), -1);
}

TEST(Spawn, GuardKillsAndReapsTheChild) {
  pid_t pid;
  {
    Child c(3);
    spawn_child(c, [] {
      for (;;) ::pause();
    });
    pid = c.pid();
    ASSERT_GT(pid, 0);
    EXPECT_EQ(c.child_end(), -1);  // closed once the child is made
    EXPECT_TRUE(exists(pid));
  }
  // Killed and reaped: no process, not even a zombie, is left under that PID.
  errno = 0;
  EXPECT_FALSE(exists(pid));
  EXPECT_EQ(errno, ESRCH);
}

TEST(Spawn, ReleasedChildIsLeftAlone) {
  pid_t pid;
  {
    Child c(3);
    spawn_child(c, [] {
      for (;;) ::pause();
    });
    pid = c.release();
    EXPECT_EQ(c.pid(), -1);
  }
  EXPECT_TRUE(exists(pid));
  ::kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status));
}

TEST(Spawn, FailedCloneNamesWhatAndThePidNamespace) {
  Child c(3);
  Spawn s;
  s.clone = [] {
    errno = ENOMEM;
    return -1L;
  };
  s.child = [] { _exit(0); };
  s.what = "test child";
  try {
    spawn(c, s);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("clone test child: ", 0), 0u) << e.what();
  }
  s.other_pidns = true;
  s.pidns_gone = "the PID namespace has no init";
  try {
    spawn(c, s);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "the PID namespace has no init");
  }
  EXPECT_EQ(c.pid(), -1);
}

TEST(Spawn, ReadyAfterGoAndHooks) {
  Child c(3);
  int fd = c.child_end();
  spawn_child(c, [fd] {
    std::string payload;
    child_wait(fd, sync::kGo, &payload);
    if (payload != "state") _exit(2);
    sync::send(fd, sync::kHooks);
    child_wait(fd, sync::kHooksDone);
    sync::send(fd, sync::kReady);
    for (;;) ::pause();
  });
  c.go("state", "child exited");
  int hooks = 0;
  Replies r;
  r.exited = "child exited during set-up";
  r.hooks = [&] { hooks++; };
  await_child(c, r);
  EXPECT_EQ(hooks, 1);
  EXPECT_GT(c.pid(), 0);  // still ours: the guard kills it
}

TEST(Spawn, ErrorReapsAndThrowsTheChildsMessage) {
  Child c(3);
  int fd = c.child_end();
  spawn_child(c, [fd] { child_die(fd, sync::kError, "mount /proc: denied"); });
  try {
    await_child(c, Replies{});
    FAIL() << "no error";
  } catch (const ExecError&) {
    FAIL() << "ERROR is not EXEC_FAILED";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "mount /proc: denied");
  }
  EXPECT_EQ(c.pid(), -1);
}

TEST(Spawn, ExecFailedThrowsExecError) {
  Child c(3);
  int fd = c.child_end();
  spawn_child(c, [fd] {
    child_try(fd, []() -> int { throw ExecError("exec /bin/nope: No such file or directory"); });
    _exit(0);
  });
  EXPECT_THROW(await_child(c, Replies{}), ExecError);
  EXPECT_EQ(c.pid(), -1);
}

TEST(Spawn, EofIsTheProgramRunningOrADeath) {
  {
    Child c(3);
    spawn_child(c, [] { _exit(0); });
    await_child(c, Replies{});  // EOF: as after execve
    EXPECT_GT(c.pid(), 0);
  }
  Child c(3);
  spawn_child(c, [] { _exit(3); });
  Replies r;
  r.exited = "child exited during set-up";
  try {
    await_child(c, r);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "child exited during set-up (3)");
  }
  EXPECT_EQ(c.pid(), -1);
}

TEST(Spawn, ChildDieExitStatus) {
  for (auto [type, code] : {std::pair{sync::kError, 1}, std::pair{sync::kExecFailed, 127}}) {
    Child c(3);
    int fd = c.child_end();
    spawn_child(c, [fd, type] { child_die(fd, type, "x"); });
    pid_t pid = c.release();
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), code);
  }
}

TEST(Spawn, SharedMemoryChildWritesOursAndWeWaitForIt) {
  // CLONE_VM|CLONE_VFORK (launch's foreground run): the child runs in our memory, on a stack
  // of its own, and spawn() returns only once it has exited (or exec'd).
  Child c(3);
  Spawn s;
  s.clone = fork_clone;
  s.shared_vm = true;
  s.vm_flags = SIGCHLD;
  bool refused = false;
  s.vm_refused = [&refused] { refused = true; };
  int value = 0;
  s.child = [&value] {
    ::usleep(50000);
    value = 42;
    _exit(7);
  };
  s.what = "test child";
  spawn(c, s);
  if (refused) {
    c.reap();
    GTEST_SKIP() << "clone3 with CLONE_VM refused here (a kernel before 5.3, or the sanitizers' "
                    "build, which keeps the copy)";
  }
  EXPECT_EQ(value, 42);
  int status = 0;
  c.reap(&status);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 7);
}

}  // namespace
}  // namespace nook
