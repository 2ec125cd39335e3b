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
// The rules of code that runs here, before relocation, TLS and the C library:
// - no call outside this file (the ctest `prelibc-selfcontained` checks the object has no
//   undefined symbol but _start), no stack protector, no sanitizer, no builtins turned into memcpy;
// - no data holding pointers (a static PIE is not relocated yet), only code, constants and
//   string literals, which are reached PC-relative;
// - the status rules are those of container_status() (src/lib/state.cpp) and the document is
//   the one oci_state_json() prints: state.bats runs every status through both paths and
//   compares the bytes. NOOK_NO_FAST_STATE=1 in the environment turns this path off.
#include <asm/stat.h>
#include <asm/unistd.h>
#include <linux/fcntl.h>

#include "../lib/config.hpp"  // kOciVersion only
#include "exe.hpp"
#include "raw.hpp"

namespace {

constexpr int kLockSh = 1;  // LOCK_SH of flock(2)
constexpr unsigned long kMaxIdLen = 1024;

using nook::fast::eq;
using nook::fast::sys;

unsigned long len(const char* s) {
  unsigned long n = 0;
  while (s[n]) n++;
  return n;
}

// Text being built in a fixed buffer; `ok` turns false on overflow and stays so.
struct Out {
  char* p;
  unsigned long n, cap;
  bool ok = true;
  void put(const char* s, unsigned long k) {
    if (!ok || k > cap - n) {
      ok = false;
      return;
    }
    for (unsigned long i = 0; i < k; i++) p[n + i] = s[i];
    n += k;
  }
  void put(const char* s) { put(s, len(s)); }
  void num(unsigned long long v) {
    char b[24];
    int i = 24;
    do b[--i] = static_cast<char>('0' + v % 10), v /= 10;
    while (v);
    put(b + i, static_cast<unsigned long>(24 - i));
  }
  const char* c_str() {  // terminates without counting the NUL
    put("", 0);
    if (ok && n < cap) {
      p[n] = 0;
      return p;
    }
    ok = false;
    return nullptr;
  }
};

// Reads a whole (small) file; -1 when it cannot be opened or read, or does not fit.
long slurp(int dirfd, const char* path, char* buf, unsigned long cap, int flags = 0) {
  long fd = sys(__NR_openat, dirfd, reinterpret_cast<long>(path), O_RDONLY | O_CLOEXEC | flags);
  if (fd < 0) return fd;
  unsigned long got = 0;
  for (;;) {
    long k = sys(__NR_read, fd, reinterpret_cast<long>(buf + got), static_cast<long>(cap - got));
    if (k == -4) continue;  // EINTR
    if (k < 0) {
      got = ~0ul;
      break;
    }
    if (k == 0) break;
    got += static_cast<unsigned long>(k);
    if (got == cap) {  // possibly more: too big for this path
      got = ~0ul;
      break;
    }
  }
  sys(__NR_close, fd);
  return got == ~0ul ? -1 : static_cast<long>(got);
}

// A token of the compact JSON nook writes to state.json.
struct Tok {
  const char* b = nullptr;  // raw text, for a string including its quotes
  const char* e = nullptr;
};

struct Scan {
  const char* p;
  const char* end;
  bool ok = true;

  void ws() {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')) p++;
  }
  bool lit(char c) {
    ws();
    if (p < end && *p == c) {
      p++;
      return true;
    }
    return false;
  }
  // A JSON string, escapes checked (the raw text is copied to the output unchanged).
  Tok str() {
    ws();
    Tok t;
    if (p >= end || *p != '"') {
      ok = false;
      return t;
    }
    t.b = p++;
    while (p < end && *p != '"') {
      unsigned char c = static_cast<unsigned char>(*p);
      if (c < 0x20) break;
      if (c == '\\') {
        if (++p >= end) break;
        if (*p == 'u') {
          for (int i = 0; i < 4; i++) {
            ++p;
            char h = p < end ? *p : 0;
            if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F'))) {
              ok = false;
              return t;
            }
          }
        } else if (!(*p == '"' || *p == '\\' || *p == '/' || *p == 'b' || *p == 'f' || *p == 'n' ||
                     *p == 'r' || *p == 't')) {
          break;
        }
      }
      p++;
    }
    if (p >= end || *p != '"') {
      ok = false;
      return t;
    }
    t.e = ++p;
    return t;
  }
  unsigned long long uint(unsigned long long hi) {
    ws();
    if (p >= end || *p < '0' || *p > '9' ||
        (*p == '0' && p + 1 < end && p[1] >= '0' && p[1] <= '9')) {
      ok = false;
      return 0;
    }
    unsigned long long v = 0;
    while (p < end && *p >= '0' && *p <= '9') {
      unsigned d = static_cast<unsigned>(*p++ - '0');
      if (v > (hi - d) / 10) {
        ok = false;
        return 0;
      }
      v = v * 10 + d;
    }
    if (p < end && (*p == '.' || *p == 'e' || *p == 'E')) ok = false;
    return v;
  }
  bool boolean() {
    ws();
    if (end - p >= 4 && p[0] == 't' && p[1] == 'r' && p[2] == 'u' && p[3] == 'e') {
      p += 4;
      return true;
    }
    if (end - p >= 5 && p[0] == 'f' && p[1] == 'a' && p[2] == 'l' && p[3] == 's' && p[4] == 'e') {
      p += 5;
      return false;
    }
    ok = false;
    return false;
  }
};

bool tok_is(Tok t, const char* s) {
  unsigned long k = len(s);
  if (static_cast<unsigned long>(t.e - t.b) != k + 2) return false;
  for (unsigned long i = 0; i < k; i++)
    if (t.b[i + 1] != s[i]) return false;
  return true;
}

// A string token as a path: its content if it has no escapes.
bool tok_path(Tok t, Out& o) {
  for (const char* c = t.b + 1; c < t.e - 1; c++)
    if (*c == '\\') return false;
  o.put(t.b + 1, static_cast<unsigned long>(t.e - t.b - 2));
  return o.ok;
}

struct Fields {
  Tok id, bundle, rootfs, created, annotations, cgroup_v2, cgroup_v1;
  bool has_pid = false, has_start = false, single_id = false, root_emulation = false,
       creating = false;
  unsigned long long pid = 0, start = 0, owner = 0;
};

// Skips an object of string members ("annotations") or an array of strings ("cgroupV1").
void strings(Scan& s, bool object) {
  if (!s.lit(object ? '{' : '[')) {
    s.ok = false;
    return;
  }
  if (s.lit(object ? '}' : ']')) return;
  do {
    s.str();
    if (object && !s.lit(':')) s.ok = false;
    if (object) s.str();
  } while (s.ok && s.lit(','));
  if (!s.lit(object ? '}' : ']')) s.ok = false;
}

bool parse(const char* text, unsigned long n, Fields& f) {
  Scan s{text, text + n};
  if (!s.lit('{')) return false;
  if (s.lit('}')) return false;
  do {
    Tok k = s.str();
    if (!s.ok || !s.lit(':')) return false;
    if (tok_is(k, "id")) {
      f.id = s.str();
    } else if (tok_is(k, "pid")) {
      f.pid = s.uint(0x7fffffff);
      f.has_pid = true;
    } else if (tok_is(k, "startTime")) {
      f.start = s.uint(~0ull);
      f.has_start = true;
    } else if (tok_is(k, "bundle")) {
      f.bundle = s.str();
    } else if (tok_is(k, "rootfs")) {
      f.rootfs = s.str();
    } else if (tok_is(k, "created")) {
      f.created = s.str();
    } else if (tok_is(k, "owner")) {
      f.owner = s.uint(0xffffffff);
    } else if (tok_is(k, "singleId")) {
      f.single_id = s.boolean();
    } else if (tok_is(k, "rootEmulation")) {
      f.root_emulation = s.boolean();
    } else if (tok_is(k, "creating")) {
      f.creating = s.boolean();
    } else if (tok_is(k, "hooks") || tok_is(k, "ownPidns") || tok_is(k, "cgroupSystemd")) {
      s.boolean();
    } else if (tok_is(k, "annotations")) {
      s.ws();
      f.annotations.b = s.p;
      strings(s, true);
      f.annotations.e = s.p;
    } else if (tok_is(k, "cgroupV2")) {
      f.cgroup_v2 = s.str();
    } else if (tok_is(k, "cgroupV1")) {
      s.ws();
      f.cgroup_v1.b = s.p;
      strings(s, false);
      f.cgroup_v1.e = s.p;
    } else {
      return false;  // a key this path does not know: the full parser decides
    }
  } while (s.ok && s.lit(','));
  if (!s.ok || !s.lit('}')) return false;
  s.ws();
  // Everything the document shows must be there (rootfs and created may be missing: "").
  return s.p == s.end && f.id.b && f.bundle.b && f.has_pid && f.has_start;
}

// Field 22 (start time) of /proc/PID/stat; 0 when the process is gone or a zombie.
// `scratch`: 1 KiB of the caller's arena.
unsigned long long start_time(unsigned long long pid, char* scratch) {
  char path[40];
  char* buf = scratch;
  constexpr long kBuf = 1024;
  Out o{path, 0, sizeof path};
  o.put("/proc/");
  o.num(pid);
  o.put("/stat");
  if (!o.c_str()) return 0;
  long fd = sys(__NR_openat, AT_FDCWD, reinterpret_cast<long>(path), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  long n = sys(__NR_read, fd, reinterpret_cast<long>(buf), kBuf - 1);
  sys(__NR_close, fd);
  if (n <= 0) return 0;
  const char* p = nullptr;
  for (long i = 0; i < n; i++)
    if (buf[i] == ')') p = buf + i;
  if (!p || p + 2 >= buf + n) return 0;
  p += 2;
  if (*p == 'Z' || *p == 'X') return 0;
  const char* end = buf + n;
  for (int field = 3; field < 22 && p < end; p++)
    if (*p == ' ') field++;
  unsigned long long v = 0;
  while (p < end && *p >= '0' && *p <= '9') v = v * 10 + static_cast<unsigned>(*p++ - '0');
  return v;
}

bool file_exists(const char* path) {
  return sys(__NR_faccessat, AT_FDCWD, reinterpret_cast<long>(path), 0 /* F_OK */) == 0;
}

// The freezer of the container's cgroup: 1 frozen, 0 not, -1 undecided (slow path).
// `scratch`: 4.6 KiB of the caller's arena.
int frozen(const Fields& f, char* scratch) {
  char* path = scratch;
  char* buf = scratch + 4200;
  constexpr unsigned long kPath = 4200, kBuf = 512;
  if (f.cgroup_v2.b) {
    Out o{path, 0, kPath};
    if (!tok_path(f.cgroup_v2, o)) return -1;
    unsigned long base = o.n;
    o.put("/cgroup.freeze");
    if (!o.c_str()) return -1;
    if (file_exists(path)) {
      o.n = base;
      o.put("/cgroup.events");
      if (!o.c_str()) return -1;
      long n = slurp(AT_FDCWD, path, buf, kBuf);
      if (n < 0) return -1;
      for (long i = 0; i + 7 <= n; i++) {  // the line "frozen 0" or "frozen 1"
        if ((i == 0 || buf[i - 1] == '\n') && buf[i] == 'f' && buf[i + 1] == 'r' &&
            buf[i + 2] == 'o' && buf[i + 3] == 'z' && buf[i + 4] == 'e' && buf[i + 5] == 'n' &&
            buf[i + 6] == ' ') {
          long j = i + 7;
          long e = j;
          while (e < n && buf[e] != '\n') e++;
          return e - j == 1 && buf[j] == '1' ? 1 : 0;
        }
      }
      return -1;
    }
  }
  if (f.cgroup_v1.b) {
    Scan s{f.cgroup_v1.b, f.cgroup_v1.e};
    s.lit('[');
    if (s.lit(']')) return 0;
    do {
      Tok t = s.str();
      if (!s.ok) return -1;
      Out o{path, 0, kPath};
      if (!tok_path(t, o)) return -1;
      o.put("/freezer.state");
      if (!o.c_str()) return -1;
      if (file_exists(path)) {
        long n = slurp(AT_FDCWD, path, buf, kBuf);
        if (n < 0) return 0;  // unreadable reads as not frozen, as in cgroup_frozen()
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) n--;
        return n == 6 && buf[0] == 'F' && buf[1] == 'R' && buf[2] == 'O' && buf[3] == 'Z' &&
               buf[4] == 'E' && buf[5] == 'N';
      }
    } while (s.lit(','));
  }
  return 0;
}

// getenv(3) before there is a C library: the value of the first "KEY=..." in `envp`.
const char* env_value(char** envp, const char* key) {
  for (char** e = envp; *e; e++) {
    const char* v = *e;
    const char* k = key;
    while (*k && *v == *k) v++, k++;
    if (!*k) return v;
  }
  return nullptr;
}

// --root as the normal path defaults it (default_state_root in src/lib/state.cpp).
bool default_root(char** envp, Out& o) {
  const char* xdg = env_value(envp, "XDG_RUNTIME_DIR=");
  long euid = sys(__NR_geteuid);
  if (euid == 0) {
    bool initial = false;
    char buf[128];
    long n = slurp(AT_FDCWD, "/proc/self/uid_map", buf, sizeof buf - 1);
    if (n > 0) {
      buf[n] = 0;
      Scan s{buf, buf + n};
      unsigned long long a = s.uint(~0ull), b = s.uint(~0ull), c = s.uint(~0ull);
      initial = s.ok && a == 0 && b == 0 && c == 4294967295ull;
    }
    if (initial || !xdg) {
      o.put("/run/nook");
      return o.ok;
    }
  }
  if (xdg && *xdg) {
    struct stat st;
    if (sys(__NR_newfstatat, AT_FDCWD, reinterpret_cast<long>(xdg), reinterpret_cast<long>(&st),
            0) == 0 &&
        st.st_uid == static_cast<unsigned long>(euid) && (st.st_mode & 0170000) == 0040000) {
      o.put(xdg);
      o.put("/nook");
      return o.ok;
    }
  }
  o.put("/tmp/nook-");
  o.num(static_cast<unsigned long long>(euid));
  return o.ok;
}

// validate_id() of src/lib/state.cpp: a hidden name ("." and ".." too) is no ID.
bool valid_id(const char* id) {
  unsigned long n = len(id);
  if (n == 0 || n > kMaxIdLen || id[0] == '.') return false;
  for (const char* c = id; *c; c++) {
    char x = *c;
    if (!((x >= 'a' && x <= 'z') || (x >= 'A' && x <= 'Z') || (x >= '0' && x <= '9') || x == '_' ||
          x == '+' || x == '-' || x == '.'))
      return false;
  }
  return true;
}

// A directory nook may use: the caller's (effective uid), not writable by group or others.
bool trusted(const struct stat& st, long euid) {
  return st.st_uid == static_cast<unsigned long>(euid) && (st.st_mode & 022) == 0;
}

// "--name VALUE", "--name=VALUE", "-name VALUE" or "-name=VALUE" at argv[*i]; advances *i.
const char* option(char** argv, int argc, int* i, const char* name) {
  const char* a = argv[*i];
  if (*a++ != '-') return nullptr;
  if (*a == '-') a++;
  while (*name && *a == *name) a++, name++;
  if (*name) return nullptr;
  if (*a == '=') return a + 1;
  if (*a || *i + 1 >= argc) return nullptr;
  return argv[++*i];
}

// The pretty-printed annotations object as nlohmann::json::dump(2) writes it.
void annotations(Tok t, Out& o) {
  Scan s{t.b, t.e};
  s.lit('{');
  if (s.lit('}')) {
    o.put("{}");
    return;
  }
  o.put("{\n");
  bool first = true;
  do {
    Tok k = s.str();
    s.lit(':');
    Tok v = s.str();
    if (!first) o.put(",\n");
    first = false;
    o.put("    ");
    o.put(k.b, static_cast<unsigned long>(k.e - k.b));
    o.put(": ");
    o.put(v.b, static_cast<unsigned long>(v.e - v.b));
  } while (s.lit(','));
  o.put("\n  }");
}

void tok(Tok t, Out& o) {
  if (t.b)
    o.put(t.b, static_cast<unsigned long>(t.e - t.b));
  else
    o.put("\"\"");
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
  const char* id = nullptr;
  bool verb = false;
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    const char* v;
    if (!verb) {
      if ((v = option(argv, argc, &i, "root"))) {
        root = v;
      } else if ((v = option(argv, argc, &i, "log"))) {
        // opened only when a message is logged, and `state` logs none when it succeeds
      } else if ((v = option(argv, argc, &i, "log-format"))) {
        if (!eq(v, "json") && !eq(v, "text")) return;
      } else if ((v = option(argv, argc, &i, "rootless"))) {
        if (!eq(v, "true") && !eq(v, "false") && !eq(v, "auto")) return;
      } else if ((v = option(argv, argc, &i, "cgroup-manager"))) {
        if (!eq(v, "cgroupfs") && !eq(v, "systemd") && !eq(v, "disabled")) return;
      } else if (eq(a, "--systemd-cgroup") || eq(a, "-systemd-cgroup")) {
      } else if (eq(a, "state")) {
        verb = true;
      } else {
        return;  // --debug, --help, another verb, ...
      }
    } else {
      if (id || a[0] == '-') return;
      id = a;
    }
  }
  if (!verb || !id || !valid_id(id)) return;
  // (after the command line: every other verb returns above without reading the environment)
  if (const char* off = env_value(envp, "NOOK_NO_FAST_STATE="); off && *off && !eq(off, "0"))
    return;
  if (root && !*root) return;  // --root "": the full path's error "--root: empty path"

  // One arena for every buffer, used from its start: the few hundred bytes a call needs share
  // one or two stack pages (each page first touched is a fault, ~14 us on a VM).
  char mem[4200 + 16384 + 24000];
  char* dirbuf = mem;
  Out dir{dirbuf, 0, 4200};
  if (root)
    dir.put(root);
  else if (!default_root(envp, dir))
    return;
  while (dir.n > 1 && dirbuf[dir.n - 1] == '/') dir.n--;  // O_NOFOLLOW must see the last name
  if (!dir.c_str()) return;

  // The root, then ROOT/ID below it, each opened O_NOFOLLOW and trusted only when it is the
  // caller's and not writable by group or others (ContainerDir in src/lib/state.cpp, which
  // prints what is wrong: any doubt returns to it).
  long euid = sys(__NR_geteuid);
  struct stat st;
  long rfd = sys(__NR_openat, AT_FDCWD, reinterpret_cast<long>(dirbuf),
                 O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (rfd < 0) return;
  long dfd = -1;
  if (sys(__NR_fstat, rfd, reinterpret_cast<long>(&st)) == 0 && trusted(st, euid))
    dfd = sys(__NR_openat, rfd, reinterpret_cast<long>(id),
              O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  sys(__NR_close, rfd);
  if (dfd < 0) return;
  if (sys(__NR_fstat, dfd, reinterpret_cast<long>(&st)) != 0 || !trusted(st, euid)) return;
  long r;
  while ((r = sys(__NR_flock, dfd, kLockSh)) == -4) {
  }
  if (r != 0 || sys(__NR_fstat, dfd, reinterpret_cast<long>(&st)) != 0 || st.st_nlink == 0) return;

  char* text = dirbuf + dir.n + 1;
  long n = slurp(static_cast<int>(dfd), "state.json", text, 16384, O_NOFOLLOW);
  Fields f;
  if (n <= 0 || !parse(text, static_cast<unsigned long>(n), f)) return;
  if (!tok_is(f.id, id)) return;  // belongs to another container: the slow path says so

  const char* status;
  char* rest = text + n;  // scratch, then the document
  if (f.pid == 0 || start_time(f.pid, rest) != f.start || f.start == 0) {
    status = "stopped";
  } else if (f.creating) {
    status = "creating";
  } else if (sys(__NR_newfstatat, dfd, reinterpret_cast<long>("exec.fifo"),
                 reinterpret_cast<long>(&st), AT_SYMLINK_NOFOLLOW) == 0) {
    status = "created";
  } else {
    int fz = frozen(f, rest);
    if (fz < 0) return;
    status = fz ? "paused" : "running";
  }

  char* outbuf = rest;
  Out o{outbuf, 0, static_cast<unsigned long>(mem + sizeof mem - rest)};
  o.put("{\n  \"annotations\": ");
  if (f.annotations.b)
    annotations(f.annotations, o);
  else
    o.put("{}");
  o.put(",\n  \"bundle\": ");
  tok(f.bundle, o);
  o.put(",\n  \"created\": ");
  tok(f.created, o);
  o.put(",\n  \"id\": ");
  tok(f.id, o);
  o.put(",\n  \"nook\": {\n    \"rootEmulation\": ");
  o.put(f.root_emulation ? "true" : "false");
  o.put(",\n    \"singleIdMapping\": ");
  o.put(f.single_id ? "true" : "false");
  o.put("\n  },\n  \"ociVersion\": \"");
  o.put(nook::kOciVersion);
  o.put("\",\n  \"owner\": \"");
  if (f.owner == 0)
    o.put("root");
  else
    o.num(f.owner);
  o.put("\",\n  \"pid\": ");
  o.num(eq(status, "stopped") ? 0 : f.pid);
  o.put(",\n  \"rootfs\": ");
  tok(f.rootfs, o);
  o.put(",\n  \"status\": \"");
  o.put(status);
  o.put("\"\n}\n");
  if (!o.ok) return;

  for (unsigned long off = 0; off < o.n;) {
    long w = sys(__NR_write, 1, reinterpret_cast<long>(outbuf + off), static_cast<long>(o.n - off));
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
