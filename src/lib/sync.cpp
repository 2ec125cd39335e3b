#include "sync.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.hpp"

namespace nook::sync {

bool send(int fd, Msg type, const std::string& payload) {
  std::string buf(1, static_cast<char>(type));
  buf += payload.substr(0, 8000);
  for (;;) {
    ssize_t n = ::send(fd, buf.data(), buf.size(), MSG_NOSIGNAL);
    if (n >= 0) return true;
    if (errno != EINTR) return false;
  }
}

bool recv(int fd, Msg* type, std::string* payload) {
  char buf[8192];
  ssize_t n;
  do n = ::recv(fd, buf, sizeof buf, 0);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  *type = static_cast<Msg>(buf[0]);
  if (payload) payload->assign(buf + 1, static_cast<size_t>(n - 1));
  return true;
}

bool send(int fd, Msg type, const std::string& payload, const std::vector<int>& fds) {
  if (fds.size() > kMaxFds) return false;
  std::string buf(1, static_cast<char>(type));
  buf += payload.substr(0, 8000);
  return sendmsg_fds(fd, buf.data(), buf.size(), fds.data(), fds.size()) >= 0;
}

bool recv(int fd, Msg* type, std::string* payload, std::vector<int>* fds) {
  char buf[8192];
  int got[kMaxFds];
  size_t k = 0;
  ssize_t n = recvmsg_fds(fd, buf, sizeof buf, got, kMaxFds, &k);
  if (n <= 0) return false;
  fds->insert(fds->end(), got, got + k);
  *type = static_cast<Msg>(buf[0]);
  if (payload) payload->assign(buf + 1, static_cast<size_t>(n - 1));
  return true;
}

ssize_t sendmsg_fds(int sock, const void* data, size_t len, const int* fds, size_t nfds) {
  if (nfds > kMaxFds) {
    errno = EINVAL;
    return -1;
  }
  struct iovec iov = {const_cast<void*>(data), len};
  alignas(struct cmsghdr) char ctl[CMSG_SPACE(sizeof(int) * kMaxFds)];
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (nfds > 0) {
    std::memset(ctl, 0, CMSG_SPACE(sizeof(int) * nfds));
    msg.msg_control = ctl;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    std::memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
  }
  ssize_t n;
  do n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n;
}

bool send_one_fd(int sock, Msg type, int fd) {
  char data = static_cast<char>(type);
  return sendmsg_fds(sock, &data, 1, &fd, 1) >= 0;
}

void send_fd(int sock, int fd, const std::string& name) {
  if (sendmsg_fds(sock, name.data(), name.size(), &fd, 1) < 0)
    throw_sys("sendmsg", "console socket");
}

ssize_t recvmsg_fds(int sock, void* buf, size_t len, int* fds, size_t max_fds, size_t* nfds) {
  *nfds = 0;
  if (max_fds > kMaxFds) max_fds = kMaxFds;
  struct iovec iov = {buf, len};
  alignas(struct cmsghdr) char ctl[CMSG_SPACE(sizeof(int) * kMaxFds)];
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl;
  msg.msg_controllen = CMSG_SPACE(sizeof(int) * max_fds);
  ssize_t n;
  do n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) return n;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < k && *nfds < max_fds; i++)
        std::memcpy(&fds[(*nfds)++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
    }
  return n;
}

int recv_fd(int sock) {
  char data[512];
  int fd;
  size_t k = 0;
  if (recvmsg_fds(sock, data, sizeof data, &fd, 1, &k) < 0) throw_sys("recvmsg", "console");
  if (k == 0) fail("console: no file descriptor received");
  return fd;
}

}  // namespace nook::sync
