// Errors that say what was being done, on which path, and why.
#pragma once
#include <cerrno>
#include <stdexcept>
#include <string>
#include <string_view>

namespace nook {

// An error ready to be shown to the user: one line, lower-case, no trailing period.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg, int err = 0) : std::runtime_error(msg), errno_(err) {}
  int errnum() const { return errno_; }

 private:
  int errno_;
};

// The program could not be executed in the container (not found, not executable): `run`
// exits with 127 as shells do.
class ExecError : public Error {
 public:
  using Error::Error;
};

// "mount /dev/pts: Operation not permitted" style message for a failed system call.
// `call` names the syscall, `what` the path or object it was applied to (may be empty).
std::string sys_message(std::string_view call, std::string_view what, int err);

[[noreturn]] void throw_sys(std::string_view call, std::string_view what = {}, int err = errno);

// Throws Error(msg) — shorthand for policy errors.
[[noreturn]] void fail(const std::string& msg);

}  // namespace nook
