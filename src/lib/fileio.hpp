// Small whole-file reads and single-write(2) writes by path: kernel interface files (/proc,
// /sys/fs/cgroup) and small inputs (process.json). Every failure reports the call, the path
// and errno. Files in directories nook does not own are not written through these (those go
// through descriptors and O_EXCL|O_NOFOLLOW: state.cpp, mounts.cpp).
#pragma once
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>
#include <string_view>

#include "error.hpp"
#include "fd.hpp"

namespace nook {

// Reads a small file whole. Returns nullopt and sets errno on failure.
inline std::optional<std::string> read_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

inline std::string read_file_or_throw(const std::string& path) {
  auto s = read_file(path);
  if (!s) throw_sys("read", path);
  return *s;
}

// `value` to an open kernel file with one write(2), as /proc and cgroup files want. 0 or an
// errno.
inline int write_value(int fd, std::string_view value) {
  ssize_t n;
  do {
    n = ::write(fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n >= 0 && static_cast<size_t>(n) != value.size()) return EIO;
  return n < 0 ? errno : 0;
}

// Writes `value` to the existing file `path`. Returns 0 or an errno.
inline int write_file(const std::string& path, std::string_view value) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return errno;
  return write_value(fd.get(), value);
}

// The same, throwing "write "VALUE" to PATH: reason"; `shown` replaces VALUE in the message
// when given (multi-line values).
inline void write_or_throw(const std::string& path, std::string_view value,
                           std::string_view shown = {}) {
  if (int e = write_file(path, value))
    throw Error(
        sys_message("write \"" + std::string(shown.empty() ? value : shown) + "\" to", path, e), e);
}

inline bool exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

}  // namespace nook
