// Shared libraries of the host, loaded with dlopen() by the static binary only when a feature
// needs them (libsystemd for the systemd cgroup driver, libcriu for checkpoint/restore): the
// common paths pay nothing and the build needs none of them.
#pragma once
#include <string>

namespace nook {

// dlopen(soname, RTLD_NOW | RTLD_LOCAL) after checking that the host's libc.so.6 is the glibc
// nook was linked with (a static binary can only load a shared glibc of its own version: the
// loader's private structures are shared). nullptr, and the reason in *why, when it cannot.
void* open_host_library(const char* soname, std::string* why);

// dlsym into `fn`; false (and, the first time, the reason in *why) when the symbol is missing.
template <typename F>
bool host_symbol(void* lib, F& fn, const char* soname, const char* name, std::string* why);

// The non-template part of host_symbol.
void* host_symbol_raw(void* lib, const char* soname, const char* name, std::string* why);

template <typename F>
bool host_symbol(void* lib, F& fn, const char* soname, const char* name, std::string* why) {
  fn = reinterpret_cast<F>(host_symbol_raw(lib, soname, name, why));
  return fn != nullptr;
}

}  // namespace nook
