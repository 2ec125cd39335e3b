// `nook state ID` before the C library starts.
//
// Buildah polls `state` every 100 ms for as long as a RUN step runs, and Slurm and Podman call
// it too, so its cost is almost all process start-up. On virtual machines where a CPUID
// instruction or a page fault traps to the hypervisor, glibc's start-up alone is most of a
// millisecond (this project's 2-core VM: 41 CPUIDs at ~8.5 us each, and ~14 us per page
// fault; docs/performance.md). This file is the ELF entry point of nook (nook_entry): it
// recognises a plain `state` call, answers it with a few raw system calls, and exits; for
// anything else, or anything it does not fully understand, it returns and glibc's _start runs
// the normal command line, which gives the same answer (and every error message) the slow way.
//
// It parses no JSON: create wrote the document pre-rendered next to state.json (state.oci,
// src/fast/shared.hpp), and the status is decided by the code the full path runs
// (decide_status). What is left here is the command line, the checks on the state root and
// the container directory, and the checks that state.oci belongs to this state.json.
//
// The rules of code that runs here, before relocation, TLS and the C library:
// - no call outside this file and the headers it includes (the ctest `prelibc-selfcontained`
//   checks the object has no undefined symbol but _start and no data that needs relocating),
//   no stack protector, no sanitizer, no builtins turned into memcpy;
// - no data holding pointers (a static PIE is not relocated yet), only code, constants and
//   string literals, which are reached PC-relative.
// NOOK_NO_FAST_STATE=1 in the environment turns this path off.
#include <asm/stat.h>
#include <linux/fcntl.h>

#include "exe.hpp"
#include "shared.hpp"

namespace {

constexpr int kLockSh = 1;  // LOCK_SH of flock(2)
constexpr int kLockNb = 4;  // LOCK_NB
constexpr long kEWouldBlock = 11;

using namespace nook::fast;

// A directory nook may use: the caller's (effective uid), not writable by group or others.
bool trusted(const struct stat& st, long euid) {
  return st.st_uid == static_cast<unsigned long>(euid) && (st.st_mode & 022) == 0;
}

// Whether the kGlobalFlags entry `e` is the option `name`.
bool named(const char* e, const char* name) {
  while (*name && *e == *name) e++, name++;
  return !*name && (!*e || *e == '=');
}

// A global option of kGlobalFlags at argv[*i] ("--name VALUE", "--name=VALUE", "-name VALUE"
// or "-name=VALUE"), its value checked; advances *i past its value. Its name, or nullptr when
// argv[*i] is none or its value is not one it takes.
const char* global_option(char** argv, int argc, int* i, const char** value) {
  const char* a = argv[*i];
  if (*a++ != '-') return nullptr;
  if (*a == '-') a++;
  const char* found = nullptr;
  each_global([&](const char* name, unsigned long n, const char* values) {
    unsigned long k = 0;
    while (k < n && a[k] == name[k]) k++;
    if (found || k < n || (a[k] && (a[k] != '=' || !values))) return;
    if (values && a[k] != '=' && *i + 1 >= argc) return;
    const char* v = !values ? nullptr : a[k] == '=' ? a + k + 1 : argv[*i + 1];
    if (values && !one_of(v, values)) return;
    if (values && a[k] != '=') ++*i;
    *value = v;
    found = name;
  });
  return found;
}

// The ID of a plain `state ID` with runc's global options, or nullptr (*root: --root's value).
const char* state_call(int argc, char** argv, const char** root) {
  const char* id = nullptr;
  bool verb = false;
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    const char* v = nullptr;
    if (verb) {
      if (id || a[0] == '-') return nullptr;  // --help, more words
      id = a;
    } else if (eq(a, "state")) {
      verb = true;
    } else if (const char* name = global_option(argv, argc, &i, &v)) {
      // --debug logs: the full path. --log must open, as in runc (a `state` that succeeds
      // logs nothing): the full path reports the error.
      if (named(name, "debug")) return nullptr;
      if (named(name, "log") && *v) {
        long fd = sys(__NR_openat, AT_FDCWD, reinterpret_cast<long>(v),
                      O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) return nullptr;
        sys(__NR_close, fd);
      }
      if (named(name, "root")) *root = v;
    } else {
      return nullptr;  // another verb, an unknown option, a value not taken, ...
    }
  }
  return verb ? id : nullptr;
}

// ROOT/ID opened O_NOFOLLOW, each trusted only when it is the caller's and not writable by
// group or others (ContainerDir in src/lib/state.cpp, which prints what is wrong: any doubt
// returns to it), and locked shared as the full path locks it, or, while another nook holds
// the lock (create running its hooks, start, delete, pause), left unlocked: state.oci and
// state.json are each replaced atomically and used only when their hashes agree, and what is
// missing (a create before its first write, a delete half-way) sends us to the full path,
// which waits; -1 otherwise.
long open_container(const char* root, const char* id) {
  long euid = sys(__NR_geteuid);
  struct stat st;
  long rfd = sys(__NR_openat, AT_FDCWD, reinterpret_cast<long>(root),
                 O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (rfd < 0) return -1;
  long dfd = -1;
  if (sys(__NR_fstat, rfd, reinterpret_cast<long>(&st)) == 0 && trusted(st, euid))
    dfd = sys(__NR_openat, rfd, reinterpret_cast<long>(id),
              O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  sys(__NR_close, rfd);
  if (dfd < 0) return -1;
  long r = -1;
  if (sys(__NR_fstat, dfd, reinterpret_cast<long>(&st)) == 0 && trusted(st, euid))
    if ((r = sys(__NR_flock, dfd, kLockSh | kLockNb)) == -kEWouldBlock) r = 0;
  // a concurrent delete may have removed the directory
  if (r != 0 || sys(__NR_fstat, dfd, reinterpret_cast<long>(&st)) != 0 || st.st_nlink == 0)
    return -1;
  return dfd;
}

// state.oci's fields (shared.hpp), checked against the call and state.json; `buf` holds the
// file and then state.json.
struct Rendered {
  const char* f[kOciFields];
  unsigned long long pid = 0, start = 0;
};

bool read_rendered(long dfd, const char* id, char* buf, unsigned long cap, Rendered& r) {
  long n = slurp(static_cast<int>(dfd), "state.oci", buf, cap, O_NOFOLLOW);
  if (n <= 0 || buf[n - 1] != 0) return false;
  int k = 0;
  for (long i = 0; i < n; i++) {
    if (k == kOciFields) return false;
    r.f[k++] = buf + i;
    while (buf[i]) i++;
  }
  if (k != kOciFields || !eq(r.f[0], kOciMagic) || !eq(r.f[1], id)) return false;
  if (r.f[5][0] < '0' || r.f[5][0] > '2' || r.f[5][1] || r.f[6][0] < '0' || r.f[6][0] > '2' ||
      r.f[6][1])
    return false;
  const char* p = r.f[3];
  const char* q = r.f[4];
  if (!parse_u64(&p, p + len(p), 0x7fffffff, &r.pid) || *p ||
      !parse_u64(&q, q + len(q), ~0ull, &r.start) || *q)
    return false;
  // Written with this state.json, or an older state.oci (a write that died half-way, a hand
  // edit): then the full path reads state.json.
  char* json = buf + n;
  long m = slurp(static_cast<int>(dfd), "state.json", json, cap - static_cast<unsigned long>(n),
                 O_NOFOLLOW);
  if (m < 0) return false;
  char hex[17];
  Out h{hex, 0, sizeof hex};
  put_hex(h, fnv1a(json, static_cast<unsigned long>(m)));
  return h.c_str() && eq(hex, r.f[2]);
}

}  // namespace

// Returns when the call is not a plain `state`; exits the process when it answered it.
extern "C" __attribute__((used, visibility("hidden"))) void nook_prelibc(long* sp) {
  int argc = static_cast<int>(sp[0]);
  char** argv = reinterpret_cast<char**>(sp + 1);
  char** envp = argv + argc + 1;
  // create/run/exec: re-executed from a copy no container can write, unless already so
  // (src/fast/exe.cpp); on failure main() tries again and reports the error.
  if (const char* step; nook_argv_enters_container(argc, argv))
    nook_exe_protect(argv, envp, &step, true);
  const char* root = nullptr;
  const char* id = state_call(argc, argv, &root);
  if (!id || check_id(id, len(id)).problem != IdProblem::none) return;
  // (after the command line: every other verb returns above without reading the environment)
  if (const char* off = env_value(envp, "NOOK_NO_FAST_STATE="); off && *off && !eq(off, "0"))
    return;
  if (root && !*root) return;  // --root "": the full path's error "--root: empty path"

  // One arena for every buffer, used from its start: the few hundred bytes a call needs share
  // one or two stack pages (each page first touched is a fault, ~14 us on a VM).
  char mem[4200 + 32768];
  Out dir{mem, 0, 4200};
  if (root)
    dir.put(root);
  else if (!default_root(env_value(envp, "XDG_RUNTIME_DIR="), dir))
    return;
  while (dir.n > 1 && mem[dir.n - 1] == '/') dir.n--;  // O_NOFOLLOW must see the last name
  if (!dir.c_str()) return;
  long dfd = open_container(mem, id);
  if (dfd < 0) return;
  char* buf = mem + dir.n + 1;
  Rendered r;
  unsigned long cap = static_cast<unsigned long>(mem + sizeof mem - buf) / 2;
  if (!read_rendered(dfd, id, buf, cap, r)) return;
  Status s =
      decide_status(static_cast<long>(r.pid), r.start, static_cast<CreatePhase>(r.f[5][0] - '0'),
                    static_cast<int>(dfd), static_cast<FreezerKind>(r.f[6][0] - '0'), r.f[7]);
  Out o{buf + cap, 0, cap};
  fill_state(o, r.f[8], r.f[9], r.f[10], s, static_cast<long>(r.pid));
  o.put("\n");
  if (!o.ok) return;
  for (unsigned long off = 0; off < o.n;) {
    long w = sys(__NR_write, 1, reinterpret_cast<long>(o.p + off), static_cast<long>(o.n - off));
    if (w == -4) continue;
    if (w <= 0) break;
    off += static_cast<unsigned long>(w);
  }
  sys(__NR_exit_group, 0);
  __builtin_unreachable();
}

// The ELF entry point: nook_prelibc(stack), then glibc's _start with the stack and %rdx (the
// kernel's zero, "no rtld_fini") exactly as the kernel left them.
asm(R"(
  .text
  .globl nook_entry
  .hidden nook_entry
  .type nook_entry, @function
nook_entry:
  xor %ebp, %ebp
  mov %rsp, %rbx
  mov %rsp, %rdi
  and $-16, %rsp
  call nook_prelibc
  mov %rbx, %rsp
  xor %ebx, %ebx
  xor %edx, %edx
  jmp _start
  .size nook_entry, .-nook_entry
)");
