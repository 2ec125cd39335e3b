// Parent <-> container process messages over a SOCK_SEQPACKET socketpair.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

namespace nook::sync {

enum Msg : char {
  kGo = 'G',           // parent -> child: IDs mapped, cgroup joined; carry on
  kReady = 'R',        // child -> parent: set up, waiting for start (create)
  kError = 'E',        // child -> parent: set-up failed; payload is the message
  kHooks = 'H',        // child -> parent: hooks begin (state: created); run prestart +
                       // createRuntime now
  kHooksDone = 'h',    // parent -> child: hooks ran
  kExecFailed = 'X',   // child -> parent: execve failed (run); payload is the message
  kBindSources = 'B',  // parent -> child, before GO: bind sources (mounts.hpp), SCM_RIGHTS
  kSeccomp = 'S',      // child -> parent: the seccomp notify listener, SCM_RIGHTS (seccomp.hpp)
  kSeccompDone = 's',  // parent -> child: the agent has the listener; carry on
};

// Sends one message; returns false when the peer is gone.
bool send(int fd, Msg type, const std::string& payload = {});
// Receives one message; returns false on EOF (the peer exec'd or exited).
bool recv(int fd, Msg* type, std::string* payload);

// One message with descriptors (SCM_RIGHTS, at most kMaxFds); returns false when the peer
// is gone.
constexpr size_t kMaxFds = 200;
bool send(int fd, Msg type, const std::string& payload, const std::vector<int>& fds);
// Receives one message and the descriptors it carries (close-on-exec, appended to `fds`).
bool recv(int fd, Msg* type, std::string* payload, std::vector<int>* fds);

// One sendmsg(2) of the `len` bytes at `data` with `nfds` descriptors attached (SCM_RIGHTS, at
// most kMaxFds; none: no control message), retried on EINTR, MSG_NOSIGNAL. Returns what
// sendmsg returned: the bytes sent (a stream socket may take fewer), or -1 with errno set.
// Allocates nothing: the one way every message with descriptors is sent.
ssize_t sendmsg_fds(int sock, const void* data, size_t len, const int* fds, size_t nfds);

// One message of type `type` carrying `fd` and no payload, in one sendmsg and without
// allocating: safe right after a seccomp filter is loaded (seccomp.hpp). False when the peer
// is gone or the call fails (errno set).
bool send_one_fd(int sock, Msg type, int fd);

// One recvmsg(2) into the `len` bytes at `buf`, retried on EINTR; the descriptors it carries
// (SCM_RIGHTS, close-on-exec; at most `max_fds`, itself at most kMaxFds: the kernel closes
// any beyond) are stored in `fds` and counted in `*nfds`. Returns what recvmsg returned (0:
// EOF; -1 with errno set). Allocates nothing: the one way descriptors are received.
ssize_t recvmsg_fds(int sock, void* buf, size_t len, int* fds, size_t max_fds, size_t* nfds);

// SCM_RIGHTS: sends `fd` over the unix socket `sock` with `name` as data.
void send_fd(int sock, int fd, const std::string& name);
int recv_fd(int sock);

}  // namespace nook::sync
