// RAII owner of one file descriptor.
#pragma once
#include <fcntl.h>
#include <unistd.h>

#include <utility>

#include "error.hpp"

namespace nook {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) reset(std::exchange(o.fd_, -1));
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Moves `fd` to a number at or above `min` (close-on-exec), so it can never be mistaken for
// one of the --preserve-fds descriptors 3..3+N-1. Returns `fd` itself when it already is.
inline Fd raise_fd(Fd fd, int min) {
  if (!fd || fd.get() >= min) return fd;
  int n = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, min);
  if (n < 0) throw_sys("fcntl", "F_DUPFD_CLOEXEC");
  return Fd(n);
}

}  // namespace nook
