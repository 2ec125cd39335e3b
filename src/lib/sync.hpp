// Parent <-> container process messages over a SOCK_SEQPACKET socketpair.
#pragma once
#include <string>

namespace nook::sync {

enum Msg : char {
  kGo = 'G',          // parent -> child: IDs mapped, cgroup joined; carry on
  kReady = 'R',       // child -> parent: set up, waiting for start (create)
  kError = 'E',       // child -> parent: set-up failed; payload is the message
  kHooks = 'H',       // child -> parent: run prestart + createRuntime hooks now
  kHooksDone = 'h',   // parent -> child: hooks ran
  kExecFailed = 'X',  // child -> parent: execve failed (run); payload is the message
};

// Sends one message; returns false when the peer is gone.
bool send(int fd, Msg type, const std::string& payload = {});
// Receives one message; returns false on EOF (the peer exec'd or exited).
bool recv(int fd, Msg* type, std::string* payload);

// SCM_RIGHTS: sends `fd` over the unix socket `sock` with `name` as data.
void send_fd(int sock, int fd, const std::string& name);
int recv_fd(int sock);

}  // namespace nook::sync
