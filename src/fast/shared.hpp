// What `nook state` needs, written once for both of its paths: the pre-libc one
// (src/fast/state.cpp, run from the ELF entry point before relocation, TLS and the C library)
// and the engine (src/lib/state.cpp, src/lib/cgroup.cpp). The container ID check, the default
// state root, /proc/PID/stat's start time, the freezer files, the status decision and the
// pre-rendered state document (ROOT/ID/state.oci, docs/design.md "State directory").
//
// Rules, because the pre-libc side compiles this too:
// - raw system calls only (raw.hpp), no library call, no data holding pointers (text is
//   reached PC-relatively; a table of pointers would need the relocation that has not run);
// - internal linkage (the unnamed namespace): each side keeps its own copy of the code,
//   compiled with its own flags; a shared inline copy could be the engine's, with a stack
//   protector or sanitizer the pre-libc side cannot run;
// - the includer provides struct stat (the kernel's layout: <asm/stat.h> before libc,
//   <sys/stat.h> after, the same on x86-64 and arm64) and the O_* and AT_* constants.
#pragma once
#include <asm/unistd.h>

#include "raw.hpp"

namespace nook::fast {
namespace {

inline unsigned long len(const char* s) {
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
    if (ok && n < cap) {
      p[n] = 0;
      return p;
    }
    ok = false;
    return nullptr;
  }
};

// A decimal number in [0, hi] at *p (before `end`), after any spaces; advances *p.
inline bool parse_u64(const char** p, const char* end, unsigned long long hi,
                      unsigned long long* v) {
  const char* s = *p;
  while (s < end && *s == ' ') s++;
  if (s >= end || *s < '0' || *s > '9') return false;
  unsigned long long x = 0;
  while (s < end && *s >= '0' && *s <= '9') {
    unsigned d = static_cast<unsigned>(*s++ - '0');
    if (x > (hi - d) / 10) return false;
    x = x * 10 + d;
  }
  *p = s;
  *v = x;
  return true;
}

// Reads a whole small file: its length, or -1 when it cannot be opened or read or does not fit.
// A short read is the end: so it is for a regular file, and for the small procfs and cgroupfs
// files read here, which the kernel renders whole into a large enough buffer (one read fewer).
inline long slurp(int dirfd, const char* path, char* buf, unsigned long cap, int flags = 0) {
  long fd = sys(__NR_openat, dirfd, reinterpret_cast<long>(path), O_RDONLY | O_CLOEXEC | flags);
  if (fd < 0) return -1;
  long k;
  while ((k = sys(__NR_read, fd, reinterpret_cast<long>(buf), static_cast<long>(cap))) == -4) {
  }
  sys(__NR_close, fd);
  return k < 0 || static_cast<unsigned long>(k) == cap ? -1 : k;  // == cap: possibly more
}

// ---- container IDs

constexpr unsigned long kMaxIdLen = 1024;

enum class IdProblem { none, empty, too_long, dots, bad_char, hidden };
struct IdCheck {
  IdProblem problem;
  unsigned long at;  // the offending byte, for bad_char
};

// The set runc allows (letters, digits, _ + - .: no slash, no control character), at most
// 1024 bytes, and no hidden name: "." and ".." and anything else starting with a dot, which
// ls, shell globs and `list` skip (issue 14, finding 9; runc would list it). In this order,
// which is the order of validate_id's messages.
inline IdCheck check_id(const char* id, unsigned long n) {
  if (n == 0) return {IdProblem::empty, 0};
  if (n > kMaxIdLen) return {IdProblem::too_long, 0};
  if (id[0] == '.' && (n == 1 || (n == 2 && id[1] == '.'))) return {IdProblem::dots, 0};
  for (unsigned long i = 0; i < n; i++) {
    char x = id[i];
    if (!((x >= 'a' && x <= 'z') || (x >= 'A' && x <= 'Z') || (x >= '0' && x <= '9') || x == '_' ||
          x == '+' || x == '-' || x == '.'))
      return {IdProblem::bad_char, i};
  }
  if (id[0] == '.') return {IdProblem::hidden, 0};
  return {IdProblem::none, 0};
}

// ---- the default state root

// The value of the first "KEY=..." in `envp` (getenv(3) without a C library).
inline const char* env_value(char** envp, const char* key) {
  for (char** e = envp; *e; e++) {
    const char* v = *e;
    const char* k = key;
    while (*k && *v == *k) v++, k++;
    if (!*k) return v;
  }
  return nullptr;
}

// Default --root, given $XDG_RUNTIME_DIR (or nullptr). Root of the host: /run/nook. Root inside
// a rootless client's user namespace (Buildah, Podman) cannot write /run: like runc, it uses
// $XDG_RUNTIME_DIR/nook, and so does everyone else, but only when that directory is really
// theirs (Slurm and sudo keep a stale one around); else /tmp/nook-UID.
inline bool default_root(const char* xdg, Out& o) {
  long euid = sys(__NR_geteuid);
  if (euid == 0) {
    bool initial = false;  // the initial user namespace: uid_map "0 0 4294967295"
    char buf[128];
    long n = slurp(AT_FDCWD, "/proc/self/uid_map", buf, sizeof buf);
    const char* p = buf;
    unsigned long long a = 1, b = 1, c = 0;
    if (n > 0 && parse_u64(&p, buf + n, ~0ull, &a) && parse_u64(&p, buf + n, ~0ull, &b) &&
        parse_u64(&p, buf + n, ~0ull, &c))
      initial = a == 0 && b == 0 && c == 4294967295ull;
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

// ---- runc's global options

// NAME, then "=" when it takes a value, and then the values it takes ("|" between them; none
// listed: any). One string, each entry ending in NUL (a table of pointers would need
// relocating). The pre-libc `state` reads it (src/fast/state.cpp), and so does the command
// line (src/cli/app.cpp: the one-dash spellings and the options that take a value).
NOOK_ENTRY_CONST constexpr char kGlobalFlags[] =
    "root=\0log=\0log-format=text|json\0debug\0systemd-cgroup\0"
    "rootless=true|false|auto|1|0|t|f|T|F|TRUE|FALSE|True|False\0"
    "cgroup-manager=cgroupfs|systemd|disabled\0criu=\0";

// Calls f(name, name_len, values) for each global option; values is nullptr when it takes
// none, "" when it takes any, else "a|b|c".
template <class F>
inline void each_global(F f) {
  for (const char* e = kGlobalFlags; *e; e += len(e) + 1) {
    unsigned long n = 0;
    while (e[n] && e[n] != '=') n++;
    f(e, n, e[n] == '=' ? e + n + 1 : nullptr);
  }
}

// Where the verb is in argv: the first word that is not a global option or the value of one
// ("--name VALUE", "-name VALUE"; "--name=VALUE" is one word), or 0 when there is none ("--"
// ends the options, and with them the search). Read by the pre-libc entry (src/fast/exe.cpp:
// whether this call enters a container) and by the command line (src/cli/app.cpp: which verb
// to build).
inline int verb_index(int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    if (a[0] != '-' || !a[1]) return i;
    const char* n = a + (a[1] == '-' ? 2 : 1);
    if (!*n) return 0;  // "--"
    bool value = false;
    each_global([&](const char* name, unsigned long len, const char* values) {
      if (values && !value) {
        unsigned long k = 0;
        while (k < len && n[k] == name[k]) k++;
        value = k == len && n[k] == 0;
      }
    });
    i += value;
  }
  return 0;
}

// Whether `v` is one of "a|b|c" (any value when `values` is empty).
inline bool one_of(const char* v, const char* values) {
  if (!*values) return true;
  for (const char* a = values;;) {
    const char* b = v;
    while (*b && *a == *b) a++, b++;
    if (!*b && (!*a || *a == '|')) return true;
    while (*a && *a != '|') a++;
    if (!*a++) return false;
  }
}

// ---- processes

// Numeric field `k` (4 and up: after the command name and the state) of the text of
// /proc/PID/stat into *v; *state gets field 3. False when the text is not one.
inline bool stat_field(const char* buf, long n, int k, unsigned long long* v, char* state) {
  const char* p = nullptr;
  for (long i = 0; i < n; i++)  // the last ')': the command name may hold one
    if (buf[i] == ')') p = buf + i;
  const char* end = buf + n;
  if (!p || p + 2 >= end) return false;
  p += 2;  // field 3, the state
  *state = *p;
  for (int field = 3; field < k && p < end; p++)
    if (*p == ' ') field++;
  return parse_u64(&p, end, ~0ull, v);
}

// Field 22 (start time) of the text of /proc/PID/stat; sets *zombie for state Z or X.
// 0 when the text is not one.
inline unsigned long long stat_start_time(const char* buf, long n, bool* zombie) {
  unsigned long long v = 0;
  char state = 0;
  bool ok = stat_field(buf, n, 22, &v, &state);
  *zombie = state == 'Z' || state == 'X';
  return ok ? v : 0;
}

// Start time of process `pid`, 0 if there is no such process; sets *zombie when it has
// exited but not been reaped.
inline unsigned long long read_start_time(long pid, bool* zombie) {
  *zombie = false;
  if (pid <= 0) return 0;
  char path[40];
  Out o{path, 0, sizeof path};
  o.put("/proc/");
  o.num(static_cast<unsigned long long>(pid));
  o.put("/stat");
  char buf[1024];
  long n = o.c_str() ? slurp(AT_FDCWD, path, buf, sizeof buf) : -1;
  return n > 0 ? stat_start_time(buf, n, zombie) : 0;
}

// ---- the freezer (docs/cgroups.md)

enum class FreezerKind { none = 0, v1 = 1, v2 = 2 };  // v1 freezer.state, v2 cgroup.events

// The text of cgroup.events: 1 for a line "frozen 1", 0 for "frozen " anything else, -1 when
// there is no such line.
inline int events_frozen(const char* buf, long n) {
  for (long i = 0; i + 7 <= n; i++) {
    if ((i == 0 || buf[i - 1] == '\n') && buf[i] == 'f' && buf[i + 1] == 'r' && buf[i + 2] == 'o' &&
        buf[i + 3] == 'z' && buf[i + 4] == 'e' && buf[i + 5] == 'n' && buf[i + 6] == ' ') {
      long j = i + 7, e = j;
      while (e < n && buf[e] != '\n') e++;
      return e - j == 1 && buf[j] == '1' ? 1 : 0;
    }
  }
  return -1;
}

// The text of a v1 freezer.state: FROZEN (not THAWED or FREEZING, which is on its way).
inline bool state_frozen(const char* buf, long n) {
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) n--;
  return n == 6 && buf[0] == 'F' && buf[1] == 'R' && buf[2] == 'O' && buf[3] == 'Z' &&
         buf[4] == 'E' && buf[5] == 'N';
}

// Whether the freezer file `path` (cgroup_freezer_file in src/lib/cgroup.cpp) says frozen;
// a file that cannot be read or understood reads as not frozen (the cgroup went away).
inline bool file_frozen(FreezerKind kind, const char* path) {
  if (kind == FreezerKind::none) return false;
  char buf[512];
  long n = slurp(AT_FDCWD, path, buf, sizeof buf);
  if (n < 0) return false;
  return kind == FreezerKind::v2 ? events_frozen(buf, n) == 1 : state_frozen(buf, n);
}

// ---- status

// In the order of nook::Status (src/lib/state.hpp).
enum class Status { creating, created, running, paused, stopped };

// The status names, 10 bytes apart (a table of pointers would need relocating).
constexpr char kStatusNames[] = "creating\0\0created\0\0\0running\0\0\0paused\0\0\0\0stopped\0\0";
inline const char* status_name(Status s) {
  return kStatusNames + 10 * static_cast<int>(s);
}

// How far create (or run) is with the container: done (or run in the foreground without
// hooks), setting it up (lifecycle step 2), or running its prestart, createRuntime and
// createContainer hooks (steps 3-5, which come after step 2: the hooks are told "created",
// and state says the same; docs/design.md, "create / start protocol").
enum class CreatePhase { done, setup, hooks };

// What a container is: stopped when its process is gone, a zombie or another process with its
// PID (the start time differs); else creating while create sets it up (or its create was
// killed: delete --force cleans), created while create runs the hooks of steps 3-5 and while
// the exec fifo waits for start, paused when the freezer says so, and running.
inline Status decide_status(long pid, unsigned long long start, CreatePhase phase, int dirfd,
                            FreezerKind freezer, const char* freezer_file) {
  bool zombie = false;
  unsigned long long t = read_start_time(pid, &zombie);
  if (t == 0 || t != start || zombie) return Status::stopped;
  if (phase == CreatePhase::setup) return Status::creating;
  if (phase == CreatePhase::hooks) return Status::created;
  // Frozen first: a created container can be paused too (runc allows it), and then says so.
  if (file_frozen(freezer, freezer_file)) return Status::paused;
  struct stat st;
  if (sys(__NR_newfstatat, dirfd, reinterpret_cast<long>("exec.fifo"), reinterpret_cast<long>(&st),
          AT_SYMLINK_NOFOLLOW) == 0)
    return Status::created;
  return Status::running;
}

// ---- the pre-rendered state document, ROOT/ID/state.oci
//
// Written by ContainerDir::write_state with state.json; fields end with a NUL byte each:
//   "nook-state-1", the ID, the FNV-1a hash of state.json's bytes (16 hex digits), the pid,
//   the start time, the create phase ("0" done, "1" setup, "2" hooks), the freezer kind ("0", "1",
//   "2"), the freezer file, and the OCI state document cut in three: before the pid, between the
//   pid and the status, after the status.
// `nook state` is HEAD PID MID STATUS TAIL with the pid 0 when stopped; both paths print it
// through fill_state.

constexpr int kOciFields = 11;
constexpr char kOciMagic[] = "nook-state-1";

inline unsigned long long fnv1a(const char* s, unsigned long n) {
  unsigned long long h = 0xcbf29ce484222325ull;
  for (unsigned long i = 0; i < n; i++) {
    h ^= static_cast<unsigned char>(s[i]);
    h *= 0x100000001b3ull;
  }
  return h;
}

inline void put_hex(Out& o, unsigned long long v) {
  char b[16];
  for (int i = 15; i >= 0; i--, v >>= 4) b[i] = "0123456789abcdef"[v & 15];
  o.put(b, 16);
}

// The document: head, pid, mid, status name, tail.
inline void fill_state(Out& o, const char* head, const char* mid, const char* tail, Status s,
                       long pid) {
  o.put(head);
  o.num(s == Status::stopped ? 0 : static_cast<unsigned long long>(pid));
  o.put(mid);
  o.put(status_name(s));
  o.put(tail);
}

}  // namespace
}  // namespace nook::fast
