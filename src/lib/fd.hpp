// RAII owner of one file descriptor.
#pragma once
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
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

// Descriptors that are done with, closed together: sorted, each run of consecutive numbers
// with one close_range(2). A loop that opens one descriptor per item and keeps it until the
// batch closes gets consecutive numbers (the lowest free one each time), so N items cost one
// system call instead of N (the mount loop: one per bind mount, ~1 us each on this project's
// VM). At most kCap are held; the destructor closes what is left.
class FdBatch {
 public:
  static constexpr int kCap = 64;
  FdBatch() = default;
  FdBatch(const FdBatch&) = delete;
  FdBatch& operator=(const FdBatch&) = delete;
  ~FdBatch() { flush(); }

  void add(Fd fd) {
    if (!fd) return;
    if (n_ == kCap) flush();
    fds_[n_++] = fd.release();
  }
  void flush() {
    std::sort(fds_, fds_ + n_);
    for (int i = 0; i < n_;) {
      int j = i;
      while (j + 1 < n_ && fds_[j + 1] == fds_[j] + 1) j++;
      if (j == i)
        ::close(fds_[i]);
      else if (syscall(SYS_close_range, static_cast<unsigned>(fds_[i]),
                       static_cast<unsigned>(fds_[j]), 0u) != 0)
        for (int k = i; k <= j; k++) ::close(fds_[k]);
      i = j + 1;
    }
    n_ = 0;
  }

 private:
  int fds_[kCap];
  int n_ = 0;
};

}  // namespace nook
