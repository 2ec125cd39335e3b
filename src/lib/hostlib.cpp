#include "hostlib.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string_view>

#include "fd.hpp"
#include "fileio.hpp"

namespace nook {
namespace {

// "2.36" from "GNU C Library (Debian GLIBC 2.36-9+deb12u14) stable release version 2.36." in
// the file; "" when it is not there.
std::string libc_file_version(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st;
  if (!fd || ::fstat(fd.get(), &st) < 0 || st.st_size <= 0) return "";
  void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (p == MAP_FAILED) return "";
  std::string_view text(static_cast<const char*>(p), static_cast<size_t>(st.st_size));
  std::string out;
  constexpr std::string_view kMark = "release version ";
  if (auto at = text.find(kMark); at != std::string_view::npos) {
    for (size_t i = at + kMark.size(); i < text.size(); i++) {
      char c = text[i];
      if (!((c >= '0' && c <= '9') || c == '.')) break;
      out += c;
    }
    while (!out.empty() && out.back() == '.') out.pop_back();
  }
  ::munmap(p, static_cast<size_t>(st.st_size));
  return out;
}

}  // namespace

void* open_host_library(const char* soname, std::string* why) {
#if defined(__x86_64__)
  const char* dirs[] = {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64",
                        "/usr/lib64"};
#elif defined(__aarch64__)
  const char* dirs[] = {"/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib64",
                        "/usr/lib64"};
#else
  const char* dirs[] = {"/lib64", "/usr/lib64", "/lib", "/usr/lib"};
#endif
  std::string libc;
  for (const char* d : dirs)
    if (exists(std::string(d) + "/libc.so.6")) {
      libc = std::string(d) + "/libc.so.6";
      break;
    }
  std::string mine = gnu_get_libc_version();
  std::string host = libc.empty() ? "" : libc_file_version(libc);
  if (host != mine) {
    if (why)
      *why = libc.empty() ? std::string("no shared libc.so.6 found to load ") + soname + " with"
                          : "the host's glibc (" + (host.empty() ? "unknown" : host) + ", " + libc +
                                ") is not nook's (" + mine + "): a static binary can only load " +
                                soname + " with its own";
    return nullptr;
  }
  void* lib = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (!lib && why) {
    const char* e = ::dlerror();
    *why = std::string("cannot load ") + soname + ": " + (e ? e : "unknown error");
  }
  return lib;
}

void* host_symbol_raw(void* lib, const char* soname, const char* name, std::string* why) {
  void* p = ::dlsym(lib, name);
  if (!p && why && why->empty()) *why = std::string(soname) + " has no " + name;
  return p;
}

}  // namespace nook
