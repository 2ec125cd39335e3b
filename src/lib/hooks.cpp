#include "hooks.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

#include "error.hpp"
#include "fd.hpp"
#include "log.hpp"

namespace nook {
namespace {

void run_one(const Hook& h, const std::string& state, const char* phase, int container,
             const std::vector<std::string>* default_env) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw_sys("pipe");
  Fd rd(p[0]), wr(p[1]);
  std::vector<std::string> args = h.args.empty() ? std::vector<std::string>{h.path} : h.args;
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // Without `env`: `default_env` (the container's hooks), else nook's own environment (runc:
  // Go's exec with a nil Env; crun: environ), so PATH, LANG and the caller's settings reach it.
  if (const std::vector<std::string>* env = h.env ? &*h.env : default_env) {
    for (auto& e : *env) envp.push_back(const_cast<char*>(e.c_str()));
  } else {
    for (char** e = environ; *e; e++) envp.push_back(*e);
  }
  envp.push_back(nullptr);
  sigset_t all, old;
  sigfillset(&all);
  pid_t pid = ::fork();
  if (pid < 0) throw_sys("fork", h.path);
  if (pid == 0) {
    sigemptyset(&old);
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    ::dup2(rd.get(), 0);
    ::execve(h.path.c_str(), argv.data(), envp.data());
    std::string m = std::string("nook: ") + phase + " hook " + h.path +
                    ": exec: " + std::strerror(errno) + "\n";
    (void)!::write(2, m.data(), m.size());
    _exit(127);
  }
  rd.reset();
  // The state is small; a hook that does not read it must not block us (O_NONBLOCK, ignore
  // EPIPE: SIGPIPE is avoided by writing through send-less write with the signal blocked).
  ::fcntl(wr.get(), F_SETFL, O_NONBLOCK);
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  ::sigprocmask(SIG_BLOCK, &pipe_set, &old);
  (void)!::write(wr.get(), state.data(), state.size());
  wr.reset();
  struct timespec ts = {0, 0};
  while (sigtimedwait(&pipe_set, nullptr, &ts) > 0) {
  }
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  (void)all;

  Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  int timeout_ms = h.timeout ? *h.timeout * 1000 : -1;
  if (pidfd) {
    struct pollfd pf[2] = {{pidfd.get(), POLLIN, 0}, {container, POLLIN, 0}};
    int r;
    do r = ::poll(pf, container >= 0 ? 2 : 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    if (r == 0 || (r > 0 && !pf[0].revents && pf[1].revents)) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      if (r > 0)
        fail(std::string(phase) + " hook " + h.path +
             ": killed: the container's process ended while it ran");
      fail(std::string(phase) + " hook " + h.path + ": timed out after " +
           std::to_string(*h.timeout) + "s");
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw_sys("waitpid", h.path);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  if (WIFEXITED(status))
    fail(std::string(phase) + " hook " + h.path + ": exited with status " +
         std::to_string(WEXITSTATUS(status)));
  fail(std::string(phase) + " hook " + h.path + ": killed by signal " +
       std::to_string(WTERMSIG(status)));
}

}  // namespace

void run_hooks(const std::vector<Hook>& hooks, const std::string& state_json, const char* phase,
               bool warn_only, int container, const std::vector<std::string>* default_env) {
  for (auto& h : hooks) {
    try {
      run_one(h, state_json, phase, container, default_env);
    } catch (const Error& e) {
      if (!warn_only) throw;
      log::warn(e.what());
    }
  }
}

}  // namespace nook
