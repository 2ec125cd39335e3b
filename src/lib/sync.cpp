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
  std::string buf(1, static_cast<char>(type));
  buf += payload.substr(0, 8000);
  struct iovec iov = {buf.data(), buf.size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> ctl(CMSG_SPACE(sizeof(int) * fds.size()));
  if (!fds.empty()) {
    if (fds.size() > kMaxFds) return false;
    msg.msg_control = ctl.data();
    msg.msg_controllen = ctl.size();
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    if (::sendmsg(fd, &msg, MSG_NOSIGNAL) >= 0) return true;
    if (errno != EINTR) return false;
  }
}

bool recv(int fd, Msg* type, std::string* payload, std::vector<int>* fds) {
  char buf[8192];
  struct iovec iov = {buf, sizeof buf};
  alignas(struct cmsghdr) char ctl[CMSG_SPACE(sizeof(int) * kMaxFds)];
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl;
  msg.msg_controllen = sizeof ctl;
  ssize_t n;
  do n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < k; i++) {
        int f;
        std::memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
        fds->push_back(f);
      }
    }
  *type = static_cast<Msg>(buf[0]);
  if (payload) payload->assign(buf + 1, static_cast<size_t>(n - 1));
  return true;
}

bool send_one_fd(int sock, Msg type, int fd) {
  char data = static_cast<char>(type);
  struct iovec iov = {&data, 1};
  alignas(struct cmsghdr) char ctl[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl;
  msg.msg_controllen = sizeof ctl;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  for (;;) {
    if (::sendmsg(sock, &msg, MSG_NOSIGNAL) >= 0) return true;
    if (errno != EINTR) return false;
  }
}

void send_fd(int sock, int fd, const std::string& name) {
  struct msghdr msg = {};
  struct iovec iov = {const_cast<char*>(name.data()), name.size()};
  char ctl[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl;
  msg.msg_controllen = sizeof ctl;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ssize_t n;
  do n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) throw_sys("sendmsg", "console socket");
}

int recv_fd(int sock) {
  struct msghdr msg = {};
  char data[512];
  struct iovec iov = {data, sizeof data};
  char ctl[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl;
  msg.msg_controllen = sizeof ctl;
  ssize_t n;
  do n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) throw_sys("recvmsg", "console");
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
      return fd;
    }
  fail("console: no file descriptor received");
}

}  // namespace nook::sync
