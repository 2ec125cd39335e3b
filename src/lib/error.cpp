#include "error.hpp"

#include <cstring>

namespace nook {

std::string sys_message(std::string_view call, std::string_view what, int err) {
  std::string m(call);
  if (!what.empty()) {
    m += ' ';
    m += what;
  }
  m += ": ";
  m += std::strerror(err);
  return m;
}

void throw_sys(std::string_view call, std::string_view what, int err) {
  throw Error(sys_message(call, what, err), err);
}

void fail(const std::string& msg) {
  throw Error(msg);
}

}  // namespace nook
