// What the pre-libc code (src/fast/*.cpp) shares: a raw system call (-errno on failure, as the
// kernel returns it) and string equality, with no call outside the object file. Internal
// linkage (the unnamed namespace): the engine includes this too (shared.hpp), and an inline
// function of external linkage could be linked as the engine's copy, built with a stack
// protector or sanitizer that cannot run before the C library.
#pragma once

// Constants the entry point reads before src/fast/exe.cpp maps the binary again: placed in
// the code segment, not in .rodata. A page of a mapping that was read is present, and
// replacing a mapping with present pages costs a TLB flush (~0.1-0.3 ms on this project's VM,
// against ~5 us for a mapping never read): the .rodata segment is then never read before it
// is replaced. The code segment's first pages are present anyway (this code runs there).
#define NOOK_ENTRY_CONST __attribute__((section(".text.nook_entry_const")))

namespace nook::fast {
namespace {

#if defined(__x86_64__)
inline long sys(long n, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0, long f = 0) {
  long r;
  register long r10 asm("r10") = d;
  register long r8 asm("r8") = e;
  register long r9 asm("r9") = f;
  asm volatile("syscall"
               : "=a"(r)
               : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
               : "rcx", "r11", "memory");
  return r;
}
#else
}  // namespace
}  // namespace nook::fast
#include <errno.h>
#include <unistd.h>
namespace nook::fast {
namespace {
// Elsewhere src/fast/exe.cpp is called from main() only (no pre-libc entry point).
inline long sys(long n, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0, long f = 0) {
  long r = syscall(n, a, b, c, d, e, f);
  return r < 0 ? -errno : r;
}
#endif

inline bool eq(const char* a, const char* b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

}  // namespace
}  // namespace nook::fast
