// checkpoint / restore through CRIU, as runc does them (libcontainer/criu_linux.go): the same
// RPC options, the container's bind mounts and masked files declared external, namespaces the
// config joined by path declared external too, the cgroup freezer for the dump, and on restore
// a new container from the bundle whose processes CRIU restores as nook's children.
//
// CRIU is driven through libcriu (libcriu.so.2, in Debian's criu package next to the criu
// binary), which speaks CRIU's protobuf RPC to `criu swrk` on a socketpair, as runc's go-criu
// does; nook starts `criu swrk` itself (spawn_swrk: why). nook is a static binary and must not need
// it to build nor pay for it when these verbs are not used, so the library is loaded with dlopen()
// the first time (hostlib.hpp), as the systemd driver loads libsystemd. libcriu 3.17 has no setter
// for the RPC's lazy_pages and empty_ns options: --lazy-pages and --empty-ns are refused with that
// reason.
//
// CRIU needs CAP_SYS_ADMIN (or CAP_CHECKPOINT_RESTORE) in the initial user namespace: an
// unprivileged caller, or root in another user namespace, is refused before anything runs.
#include "criu.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>

#include "cgroup.hpp"
#include "config.hpp"
#include "container.hpp"
#include "error.hpp"
#include "fileio.hpp"
#include "hooks.hpp"
#include "hostlib.hpp"
#include "log.hpp"
#include "mounts.hpp"
#include "procfs.hpp"
#include "spawn.hpp"
#include "state.hpp"
#include "sync.hpp"
#include "tty.hpp"

namespace nook {
namespace {

// ---------------------------------------------------------------------------------------------
// libcriu, as much of criu/criu.h (the criu_local_* API, CRIU >= 3.3) as nook calls.

struct criu_opts;
struct CriuNotify;
enum CriuCgMode { kCgIgnore = 0, kCgNone, kCgProps, kCgSoft, kCgFull, kCgStrict, kCgDefault };

struct LibCriu {
  int (*init_opts)(criu_opts**);
  void (*free_opts)(criu_opts*);
  void (*set_pid)(criu_opts*, int);
  void (*set_images_dir_fd)(criu_opts*, int);
  void (*set_work_dir_fd)(criu_opts*, int);
  int (*set_parent_images)(criu_opts*, const char*);
  void (*set_leave_running)(criu_opts*, bool);
  void (*set_ext_unix_sk)(criu_opts*, bool);
  void (*set_tcp_established)(criu_opts*, bool);
  void (*set_evasive_devices)(criu_opts*, bool);
  void (*set_shell_job)(criu_opts*, bool);
  void (*set_orphan_pts_master)(criu_opts*, bool);
  void (*set_file_locks)(criu_opts*, bool);
  void (*set_track_mem)(criu_opts*, bool);
  void (*set_auto_dedup)(criu_opts*, bool);
  void (*set_log_level)(criu_opts*, int);
  int (*set_log_file)(criu_opts*, const char*);
  int (*set_root)(criu_opts*, const char*);
  void (*set_manage_cgroups)(criu_opts*, bool);
  void (*set_manage_cgroups_mode)(criu_opts*, int);
  int (*set_freeze_cgroup)(criu_opts*, const char*);
  int (*set_lsm_profile)(criu_opts*, const char*);
  int (*set_lsm_mount_context)(criu_opts*, const char*);
  int (*add_ext_mount)(criu_opts*, const char*, const char*);
  int (*add_cg_root)(criu_opts*, const char*, const char*);
  int (*add_inherit_fd)(criu_opts*, int, const char*);
  int (*add_external)(criu_opts*, const char*);
  int (*set_page_server_address_port)(criu_opts*, const char*, int);
  void (*set_notify_cb)(criu_opts*, int (*)(char*, CriuNotify*));
  int (*notify_pid)(CriuNotify*);
  int (*get_orphan_pts_master_fd)();
  int (*dump)(criu_opts*);
  int (*pre_dump)(criu_opts*);
  int (*restore)(criu_opts*);
  void (*set_service_fd)(criu_opts*, int);
};

constexpr const char* kSoname = "libcriu.so.2";

const LibCriu& load_libcriu(const char* verb) {
  static std::string reason;
  static const LibCriu* lib = []() -> const LibCriu* {
    void* h = open_host_library(kSoname, &reason);
    if (!h) return nullptr;
    static LibCriu c;
    bool ok = true;
    auto sym = [&](auto& fn, const char* name) {
      ok = host_symbol(h, fn, kSoname, name, &reason) && ok;
    };
    sym(c.init_opts, "criu_local_init_opts");
    sym(c.free_opts, "criu_local_free_opts");
    sym(c.set_pid, "criu_local_set_pid");
    sym(c.set_images_dir_fd, "criu_local_set_images_dir_fd");
    sym(c.set_work_dir_fd, "criu_local_set_work_dir_fd");
    sym(c.set_parent_images, "criu_local_set_parent_images");
    sym(c.set_leave_running, "criu_local_set_leave_running");
    sym(c.set_ext_unix_sk, "criu_local_set_ext_unix_sk");
    sym(c.set_tcp_established, "criu_local_set_tcp_established");
    sym(c.set_evasive_devices, "criu_local_set_evasive_devices");
    sym(c.set_shell_job, "criu_local_set_shell_job");
    sym(c.set_orphan_pts_master, "criu_local_set_orphan_pts_master");
    sym(c.set_file_locks, "criu_local_set_file_locks");
    sym(c.set_track_mem, "criu_local_set_track_mem");
    sym(c.set_auto_dedup, "criu_local_set_auto_dedup");
    sym(c.set_log_level, "criu_local_set_log_level");
    sym(c.set_log_file, "criu_local_set_log_file");
    sym(c.set_root, "criu_local_set_root");
    sym(c.set_manage_cgroups, "criu_local_set_manage_cgroups");
    sym(c.set_manage_cgroups_mode, "criu_local_set_manage_cgroups_mode");
    sym(c.set_freeze_cgroup, "criu_local_set_freeze_cgroup");
    sym(c.set_lsm_profile, "criu_local_set_lsm_profile");
    sym(c.set_lsm_mount_context, "criu_local_set_lsm_mount_context");
    sym(c.add_ext_mount, "criu_local_add_ext_mount");
    sym(c.add_cg_root, "criu_local_add_cg_root");
    sym(c.add_inherit_fd, "criu_local_add_inherit_fd");
    sym(c.add_external, "criu_local_add_external");
    sym(c.set_page_server_address_port, "criu_local_set_page_server_address_port");
    sym(c.set_notify_cb, "criu_local_set_notify_cb");
    sym(c.notify_pid, "criu_notify_pid");
    sym(c.get_orphan_pts_master_fd, "criu_get_orphan_pts_master_fd");
    sym(c.dump, "criu_local_dump");
    sym(c.pre_dump, "criu_local_pre_dump");
    sym(c.restore, "criu_local_restore");
    sym(c.set_service_fd, "criu_local_set_service_fd");
    return ok ? &c : nullptr;
  }();
  if (!lib) fail(std::string(verb) + " needs CRIU's library (Debian package criu): " + reason);
  return *lib;
}

// One criu_opts, freed by scope.
class Opts {
 public:
  explicit Opts(const LibCriu& c) : c_(c) {
    if (int r = c_.init_opts(&o_); r < 0) throw_sys("criu_local_init_opts", "", -r);
  }
  ~Opts() {
    if (o_) c_.free_opts(o_);
  }
  Opts(const Opts&) = delete;
  Opts& operator=(const Opts&) = delete;
  criu_opts* get() const { return o_; }
  // For the setters that return a negative errno (they copy strings).
  void check(int r, const char* what) const {
    if (r < 0) throw_sys(what, "", -r);
  }

 private:
  const LibCriu& c_;
  criu_opts* o_ = nullptr;
};

// Root in the initial user namespace: what CRIU needs (CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE
// there). Root in another user namespace maps to an ordinary user outside it.
void require_initial_root(const char* verb) {
  bool init_ns = is_initial_map(own_uid_map());
  if (geteuid() != 0 || !init_ns)
    fail(std::string(verb) +
         " needs root: CRIU requires CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE in the initial "
         "user namespace, which uid " +
         std::to_string(geteuid()) + (init_ns ? "" : " in a user namespace") + " does not have");
}

// Refusals common to both verbs, before anything is made.
void refuse_unsupported(const CriuOptions& o, const char* verb) {
  if (o.lazy_pages)
    fail(std::string(verb) +
         " --lazy-pages is not supported: libcriu 3.17 (Debian 12's) has no lazy-pages option "
         "and nook runs no page server");
  if (!o.empty_ns.empty())
    fail(std::string(verb) +
         " --empty-ns is not supported: libcriu 3.17 (Debian 12's) has no "
         "empty-ns option");
}

int cg_mode(const std::string& m) {
  if (m.empty()) return kCgDefault;
  if (m == "soft") return kCgSoft;
  if (m == "full") return kCgFull;
  if (m == "strict") return kCgStrict;
  if (m == "ignore") return kCgIgnore;
  fail("--manage-cgroups-mode: invalid value \"" + m + "\" (soft, full, strict or ignore)");
}

// The criu binary: --criu as given when it has a slash, else found in PATH (libcriu would run
// it with execvp and report only that the connection closed).
std::string criu_binary(const std::string& name, const char* verb) {
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) != 0) throw_sys("access", name);
    return name;
  }
  const char* path = std::getenv("PATH");
  std::string p =
      path && *path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string dir = p.substr(start, end - start);
    if (!dir.empty()) {
      std::string f = dir + "/" + name;
      if (::access(f.c_str(), X_OK) == 0) return f;
    }
    start = end + 1;
  }
  fail(std::string(verb) + " needs the criu binary: \"" + name +
       "\" is not in PATH (install Debian's criu package, or give --criu PATH)");
}

// Makes (0700, existing is fine) and opens a directory; the descriptor is inherited by criu
// (libcriu passes its number).
Fd open_dir(const std::string& path, bool create) {
  if (create && ::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) throw_sys("mkdir", path);
  Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY));
  if (!fd) throw_sys("open", path);
  return fd;
}

// A mount point as CRIU's external-mount keys name it: absolute, no trailing or double slash.
std::string clean_dest(const std::string& d) {
  std::string out = "/";
  for (size_t i = 0; i < d.size(); i++) {
    if (d[i] == '/' && !out.empty() && out.back() == '/') continue;
    out += d[i];
  }
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

// The mount points of the container's mount namespace, as it sees them (mountinfo field 5).
std::vector<std::string> container_mount_points(pid_t pid) {
  std::vector<std::string> out;
  auto text = read_file("/proc/" + std::to_string(pid) + "/mountinfo");
  if (!text) return out;
  size_t pos = 0;
  while (pos < text->size()) {
    size_t nl = text->find('\n', pos);
    if (nl == std::string::npos) nl = text->size();
    std::string line = text->substr(pos, nl - pos);
    pos = nl + 1;
    size_t f = 0;
    for (int i = 0; i < 4 && f != std::string::npos; i++) f = line.find(' ', f + 1);
    if (f == std::string::npos) continue;
    size_t e = line.find(' ', f + 1);
    out.push_back(line.substr(f + 1, e == std::string::npos ? std::string::npos : e - f - 1));
  }
  return out;
}

// The log's first error line, and where the log is: CRIU's failure in one line.
[[noreturn]] void criu_failed(const char* verb, int ret, const std::string& dir,
                              const char* log_name, const std::string& stderr_text) {
  std::string log_path = dir + "/" + log_name, out_path = dir + "/criu.stderr";
  std::string first = criu_first_error(read_file(log_path).value_or(""));
  std::string where = exists(log_path) ? log_path : out_path;
  if (first.empty()) {
    // Before its log is open (kernel feature detection) CRIU writes to its stderr only.
    first = criu_first_error(stderr_text);
    if (!first.empty()) where = out_path;
  }
  if (first.empty()) {
    // libcriu's own errors: -EBADE (CRIU said no), -ECOMM (criu died), ...
    first = std::string("libcriu: ") + std::strerror(ret < 0 ? -ret : EIO);
  }
  fail(std::string(verb) + " failed in CRIU: " + first + " (log: " + where + ")");
}

// criu inherits nook's stderr: its few lines of a failure before the log is open (kernel
// feature detection, e.g. CRIU 3.17 on a kernel whose vDSO it does not know) and libcriu's
// perror() lines go to a file in the work directory for the duration of the call, and nook
// reports the first error in one line.
class StderrToFile {
 public:
  StderrToFile(int dirfd, const std::string& dir) : path_(dir + "/criu.stderr") {
    Fd f(::openat(dirfd, "criu.stderr", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                  0600));
    if (!f) throw_sys("open", path_);
    saved_ = Fd(::fcntl(2, F_DUPFD_CLOEXEC, 3));
    if (!saved_ || ::dup2(f.get(), 2) < 0) throw_sys("dup2", path_);
  }
  ~StderrToFile() { restore(); }
  StderrToFile(const StderrToFile&) = delete;
  StderrToFile& operator=(const StderrToFile&) = delete;
  void restore() {
    if (saved_) {
      ::dup2(saved_.get(), 2);
      saved_.reset();
    }
  }
  std::string text() const { return read_file(path_).value_or(""); }

 private:
  std::string path_;
  Fd saved_;
};

// `criu swrk FD`, started by nook (fork + execve, no shell) on one end of a SOCK_SEQPACKET
// socketpair; libcriu gets the other end (criu_local_set_service_fd) and sends one request on
// it, then closes it, which ends criu. libcriu could start criu itself, but it would fork from
// the libc.so.6 it was loaded with, which is not the one of this static binary: the child
// crashes before its execve. criu's stderr is the caller's (see StderrToFile).
struct Swrk {
  pid_t pid = -1;
  int fd = -1;  // nook's end: libcriu's to close
};
Swrk spawn_swrk(const std::string& binary) {
  int sk[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sk) != 0)
    throw_sys("socketpair", "criu swrk");
  char num[16];
  std::snprintf(num, sizeof num, "%d", sk[1]);
  const char* path = binary.c_str();
  pid_t pid = ::fork();
  if (pid < 0) {
    int e = errno;
    ::close(sk[0]);
    ::close(sk[1]);
    throw_sys("fork", "criu swrk", e);
  }
  if (pid == 0) {
    // CRIU catches its restored tasks' failures with SIGCHLD: default disposition, no mask.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGCHLD, SIG_DFL);
    ::signal(SIGPIPE, SIG_DFL);
    if (::fcntl(sk[1], F_SETFD, 0) != 0) ::_exit(127);
    ::execl(path, "criu", "swrk", num, static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(sk[1]);
  return {pid, sk[0]};
}

// Waits for criu to exit (after libcriu closed the socket); its status, for the debug log.
void reap_swrk(pid_t pid) {
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  log::debug("criu swrk " + std::to_string(pid) + " exited with status " +
             std::to_string(exit_code(st)));
}

std::string ns_external(pid_t pid, const char* ns, const char* key) {
  struct stat st;
  std::string p = "/proc/" + std::to_string(pid) + "/ns/" + ns;
  if (::stat(p.c_str(), &st) != 0) throw_sys("stat", p);
  return std::string(ns) + "[" + std::to_string(st.st_ino) + "]:" + key;
}

constexpr const char* kDescriptors = "descriptors.json";

// ---------------------------------------------------------------------------------------------
// restore's notifications: libcriu's callback has no user pointer.

struct RestoreCtx {
  const LibCriu* c = nullptr;
  const Config* cfg = nullptr;
  State* state = nullptr;
  int console = -1;  // --console-socket (or our end's peer in the foreground)
  std::string error;
};
RestoreCtx* g_restore = nullptr;

int restore_notify(char* action, CriuNotify* na) {
  RestoreCtx& x = *g_restore;
  std::string a = action ? action : "";
  try {
    if (a == "setup-namespaces") {
      // The container's init exists, in its namespaces, not yet running: prestart and
      // createRuntime hooks, as runc runs them here.
      if (!x.cfg->hooks.empty()) {
        State s = *x.state;
        s.pid = x.c->notify_pid(na);
        std::string js = oci_state_json(s, Status::created);
        run_hooks(x.cfg->hooks.prestart, js, "prestart");
        run_hooks(x.cfg->hooks.create_runtime, js, "createRuntime");
      }
    } else if (a == "orphan-pts-master") {
      Fd master(x.c->get_orphan_pts_master_fd());
      if (!master) fail("CRIU sent no pty master for the restored terminal");
      if (x.console < 0)
        fail("the restored process has a terminal: restore needs --console-socket");
      sync::send_fd(x.console, master.get(), "orphan-pts-master");
    } else if (a == "post-restore") {
      x.state->pid = x.c->notify_pid(na);
    }
  } catch (const std::exception& e) {
    x.error = e.what();
    return -1;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// What checkpoint and restore share.

// The image directory and the work directory (CRIU's logs, criu.stderr), open; the images are
// the work directory too without --work-path.
struct CriuDirs {
  std::string images, work;
  Fd images_fd, work_fd;
  int log_dir() const { return work_fd ? work_fd.get() : images_fd.get(); }
};

CriuDirs open_criu_dirs(const CriuOptions& o, bool create_images) {
  CriuDirs d;
  d.images = absolute_path(o.image_path);
  d.images_fd = open_dir(d.images, create_images);
  d.work = o.work_path.empty() ? d.images : absolute_path(o.work_path);
  if (!o.work_path.empty()) d.work_fd = open_dir(d.work, true);
  return d;
}

// The options both verbs set alike: directories, the log, cgroups, runc's boolean flags.
void set_common_opts(const LibCriu& c, const Opts& opts, const CriuDirs& d, const char* log_name,
                     int cg_mode, const CriuOptions& o) {
  criu_opts* p = opts.get();
  c.set_images_dir_fd(p, d.images_fd.get());
  if (d.work_fd) c.set_work_dir_fd(p, d.work_fd.get());
  c.set_log_level(p, 4);
  opts.check(c.set_log_file(p, log_name), "criu_local_set_log_file");
  c.set_manage_cgroups(p, true);
  c.set_manage_cgroups_mode(p, cg_mode);
  c.set_tcp_established(p, o.tcp_established);
  c.set_ext_unix_sk(p, o.ext_unix_sk);
  c.set_shell_job(p, o.shell_job);
  c.set_file_locks(p, o.file_locks);
  c.set_auto_dedup(p, o.auto_dedup);
  c.set_orphan_pts_master(p, true);
}

// One request (`call`: criu_local_dump, _pre_dump or _restore) to a `criu swrk` nook starts,
// with criu's stderr in the work directory for its duration. Returns libcriu's result; on
// failure `stderr_text` is what criu wrote there.
int run_swrk(const LibCriu& c, criu_opts* p, int (*call)(criu_opts*), const std::string& binary,
             const CriuDirs& d, std::string* stderr_text) {
  StderrToFile redirect(d.log_dir(), d.work);
  Swrk sw = spawn_swrk(binary);
  c.set_service_fd(p, sw.fd);
  int r = call(p);
  reap_swrk(sw.pid);
  redirect.restore();
  if (r < 0) *stderr_text = redirect.text();
  return r;
}

// After run_swrk: CRIU's failure in one line (criu_failed), or criu.stderr removed (it is
// kept only to explain a failure).
void check_swrk(int r, const std::string& stderr_text, const char* verb, const CriuDirs& d,
                const char* log_name) {
  if (r < 0) criu_failed(verb, r, d.work, log_name, stderr_text);
  ::unlinkat(d.log_dir(), "criu.stderr", 0);
}

// ---------------------------------------------------------------------------------------------
// checkpoint's steps.

// The freezer: CRIU freezes the whole cgroup instead of seizing the tasks one by one.
void set_freezer(const LibCriu& c, const Opts& opts, const CgroupPlacement& cg) {
  if (!cg.v2.empty()) {
    opts.check(c.set_freeze_cgroup(opts.get(), cg.v2.c_str()), "criu_local_set_freeze_cgroup");
    return;
  }
  for (auto& d : cg.v1)
    if (d.find("/freezer/") != std::string::npos)
      opts.check(c.set_freeze_cgroup(opts.get(), d.c_str()), "criu_local_set_freeze_cgroup");
}

// What the dump declares external. Namespaces the config joined by path are not the
// container's to dump: CRIU records them as external and restore hands the ones named in the
// new config back (inherit_fd). Unless pre-dumping, mounts whose source is outside the
// container: the config's bind mounts (restore binds the new config's sources there), masked
// files (/dev/null bound over them) and device nodes bound from the host. Only mount points
// the container has are named.
void add_dump_externals(const LibCriu& c, const Opts& opts, const Config& cfg, pid_t pid,
                        bool pre_dump) {
  criu_opts* p = opts.get();
  if (auto* n = cfg.linux.find_ns(NsType::network); n && !n->path.empty())
    opts.check(c.add_external(p, ns_external(pid, "net", "extRootNetNS").c_str()),
               "criu_local_add_external");
  if (auto* n = cfg.linux.find_ns(NsType::pid); n && !n->path.empty())
    opts.check(c.add_external(p, ns_external(pid, "pid", "extRootPidNS").c_str()),
               "criu_local_add_external");
  if (pre_dump) return;
  std::vector<std::string> points = container_mount_points(pid);
  auto mounted = [&](const std::string& d) {
    return std::find(points.begin(), points.end(), d) != points.end();
  };
  for (auto& m : cfg.mounts) {
    std::string d = clean_dest(m.destination);
    if (mount_is_bind(m) && mounted(d))
      opts.check(c.add_ext_mount(p, d.c_str(), d.c_str()), "criu_local_add_ext_mount");
  }
  for (auto& path : cfg.linux.masked_paths) {
    std::string d = clean_dest(path);
    struct stat st;
    std::string in = "/proc/" + std::to_string(pid) + "/root" + d;
    if (!mounted(d) || ::stat(in.c_str(), &st) != 0 || S_ISDIR(st.st_mode)) continue;
    opts.check(c.add_ext_mount(p, d.c_str(), "/dev/null"), "criu_local_add_ext_mount");
  }
  for (auto& dev : cfg.linux.devices) {
    std::string d = clean_dest(dev.path);
    if (mounted(d))
      opts.check(c.add_ext_mount(p, d.c_str(), d.c_str()), "criu_local_add_ext_mount");
  }
}

// The container's stdio as runc records it (descriptors.json): restore hands pipes back by
// these names.
void write_descriptors(pid_t pid, const CriuDirs& d) {
  nlohmann::json fds = nlohmann::json::array();
  for (int i = 0; i < 3; i++) {
    char buf[4096];
    std::string l = "/proc/" + std::to_string(pid) + "/fd/" + std::to_string(i);
    ssize_t n = ::readlink(l.c_str(), buf, sizeof buf - 1);
    fds.push_back(n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("/dev/null"));
  }
  std::string text = fds.dump();
  Fd f(::openat(d.images_fd.get(), kDescriptors,
                O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!f || ::write(f.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    throw_sys("write", d.images + "/" + kDescriptors);
}

// ---------------------------------------------------------------------------------------------
// restore's steps.

// descriptors.json of the checkpoint (none: an empty list).
std::vector<std::string> read_descriptors(const std::string& images) {
  std::vector<std::string> out;
  if (auto t = read_file(images + "/" + kDescriptors)) {
    try {
      out = nlohmann::json::parse(*t).get<std::vector<std::string>>();
    } catch (const std::exception& e) {
      fail(images + "/" + kDescriptors + ": " + e.what());
    }
  }
  return out;
}

// What a restore makes, undone on failure as create's is (discard_container): the cgroup and
// the state directory; the rootfs bind and nook's stay in the container's cgroup end once
// CRIU has returned, whatever it said.
struct RestoreUndo {
  std::optional<ContainerDir> dir;
  CgroupPlacement cg;
  std::string criu_root;
  std::vector<std::string> back;  // cgroup.procs files nook goes back to
  bool mounted = false, done = false;
  // Once CRIU has returned: the rootfs bind goes, nook leaves the container's cgroup.
  void leave() {
    if (mounted) ::umount2(criu_root.c_str(), MNT_DETACH);
    mounted = false;
    if (!criu_root.empty()) ::rmdir(criu_root.c_str());
    criu_root.clear();
    for (auto& procs : back) {
      Fd f(::open(procs.c_str(), O_WRONLY | O_CLOEXEC));
      std::string me = std::to_string(getpid());
      if (!f || ::write(f.get(), me.data(), me.size()) < 0)
        log::warn(sys_message("write", procs, errno));
    }
    back.clear();
  }
  ~RestoreUndo() {
    leave();
    if (!done) discard_container(cg, dir);
  }
};

// CRIU mounts the checkpoint's mounts onto the restore's rootfs and fails on a mount point that
// is not there ("Can't stat mountpoint"): a new rootfs (`podman container restore --import`, a
// new container from a checkpoint image) has none of those create made. As runc's
// prepareCriuRestoreMounts: each config mount's destination is made (a file for a bind of a
// file) unless it is below a tmpfs mount, whose contents CRIU restores; cgroup mounts appear
// with /sys. Resolved inside the rootfs (open_in_root), never through its symlinks out of it.
void make_restore_mount_points(const Config& cfg, const std::string& bundle) {
  std::vector<std::string> tmpfs;
  for (auto& m : cfg.mounts)
    if (m.type == "tmpfs") tmpfs.push_back(clean_dest(m.destination));
  auto below_tmpfs = [&](const std::string& d) {
    for (auto& t : tmpfs)
      if (d == t || (d.compare(0, t.size(), t) == 0 && (t == "/" || d[t.size()] == '/')))
        return true;
    return false;
  };
  Fd root(::open(cfg.root.path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) throw_sys("open", cfg.root.path);
  for (auto& m : cfg.mounts) {
    std::string d = clean_dest(m.destination);
    if (m.type == "cgroup" || m.type == "cgroup2" || below_tmpfs(d)) continue;
    bool file = false;
    if (mount_is_bind(m)) {
      std::string src = m.source.empty() || m.source[0] == '/' ? m.source : bundle + "/" + m.source;
      struct stat st;
      if (::stat(src.c_str(), &st) != 0) continue;  // CRIU names the missing source
      file = !S_ISDIR(st.st_mode);
    }
    open_in_root(root.get(), d, true, file);
  }
}

// CRIU's root must be a mount point whose parent is not overmounted: the rootfs bound
// (recursively) on ROOT/ID/criu-root, as runc does.
void bind_criu_root(RestoreUndo& U, const Config& cfg, const LibCriu& c, const Opts& opts) {
  U.criu_root = U.dir->path() + "/criu-root";
  if (::mkdir(U.criu_root.c_str(), 0755) != 0) throw_sys("mkdir", U.criu_root);
  if (::mount(cfg.root.path.c_str(), U.criu_root.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
    throw_sys("mount (bind " + cfg.root.path + ")", U.criu_root);
  U.mounted = true;
  opts.check(c.set_root(opts.get(), U.criu_root.c_str()), "criu_local_set_root");
}

// What the restore gets from outside: the new config's bind sources, /dev/null for masked
// files, host devices (external mounts); the namespaces it joins by path (the checkpoint's
// external ones: their descriptors are returned, inherited by criu); the pipes recorded on
// stdio (`descriptors`), which become restore's stdio, as in runc.
std::vector<Fd> add_restore_externals(const LibCriu& c, const Opts& opts, const Config& cfg,
                                      const std::string& bundle,
                                      const std::vector<std::string>& descriptors) {
  criu_opts* p = opts.get();
  for (auto& m : cfg.mounts) {
    if (!mount_is_bind(m)) continue;
    std::string src = m.source.empty() || m.source[0] == '/' ? m.source : bundle + "/" + m.source;
    opts.check(c.add_ext_mount(p, clean_dest(m.destination).c_str(), src.c_str()),
               "criu_local_add_ext_mount");
  }
  if (!cfg.linux.masked_paths.empty())
    opts.check(c.add_ext_mount(p, "/dev/null", "/dev/null"), "criu_local_add_ext_mount");
  for (auto& dev : cfg.linux.devices) {
    std::string d = clean_dest(dev.path);
    opts.check(c.add_ext_mount(p, d.c_str(), d.c_str()), "criu_local_add_ext_mount");
  }
  std::vector<Fd> ns_fds;
  for (auto [t, key] :
       {std::pair{NsType::network, "extRootNetNS"}, std::pair{NsType::pid, "extRootPidNS"}}) {
    auto* n = cfg.linux.find_ns(t);
    if (!n || n->path.empty()) continue;
    Fd f(::open(n->path.c_str(), O_RDONLY));  // inherited by criu
    if (!f) throw_sys("open", n->path);
    opts.check(c.add_inherit_fd(p, f.get(), key), "criu_local_add_inherit_fd");
    ns_fds.push_back(std::move(f));
  }
  for (size_t i = 0; i < descriptors.size() && i < 3; i++)
    if (descriptors[i].find("pipe:") != std::string::npos)
      opts.check(c.add_inherit_fd(p, static_cast<int>(i), descriptors[i].c_str()),
                 "criu_local_add_inherit_fd");
  return ns_fds;
}

// The cgroup: made and configured by nook, with nook itself in it so that criu (its child)
// and the tasks CRIU restores start there; CRIU maps the checkpoint's cgroup root of each
// hierarchy onto the container's cgroup. With the systemd driver (`systemd`) nook is the
// process the transient scope starts with (runc starts it with criu's). nook goes back to its
// own cgroup afterwards (RestoreUndo::leave); the restored tasks keep the scope.
void enter_restore_cgroup(RestoreUndo& U, const std::string& id, const Config& cfg, bool systemd,
                          const LibCriu& c, const Opts& opts) {
  auto own_cgroups = [] { return cgroup_parse_proc(read_file("/proc/self/cgroup").value_or("")); };
  auto before = own_cgroups();
  U.cg = cgroup_enter(id, cfg.linux, getpid(), systemd);
  auto after = own_cgroups();
  std::vector<std::string> dirs = U.cg.v1;
  if (!U.cg.v2.empty()) dirs.push_back(U.cg.v2);
  for (size_t i = 0; i < after.size() && i < before.size(); i++) {
    const std::string& now = after[i].second;
    if (now == before[i].second) continue;
    opts.check(c.add_cg_root(opts.get(), after[i].first.empty() ? nullptr : after[i].first.c_str(),
                             now.c_str()),
               "criu_local_add_cg_root");
    for (auto& d : dirs)
      if (d.size() > now.size() && d.compare(d.size() - now.size(), now.size(), now) == 0)
        U.back.push_back(d.substr(0, d.size() - now.size()) + before[i].second + "/cgroup.procs");
  }
}

// The foreground: as run, wait, forward signals, then delete the container.
int restore_foreground(const std::string& root, const std::string& id, const RestoreOptions& o,
                       ContainerDir& dir, const State& st, Fd console_peer, const sigset_t& fwd,
                       const sigset_t& old) {
  dir.unlock();
  // nook stays the subreaper it became for CRIU (the container's orphans are reaped here, as
  // run's), unless asked not to or the container's init reaps them in its own PID namespace.
  if ((st.own_pidns || o.no_subreaper) && ::prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0) != 0)
    log::debug(sys_message("prctl", "PR_SET_CHILD_SUBREAPER", errno));
  int status = foreground_wait(st.pid, std::move(console_peer), fwd);
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  container_delete(root, id, true);
  return exit_code(status);
}

}  // namespace

std::string criu_first_error(const std::string& text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line(text.data() + pos, nl - pos);
    pos = nl + 1;
    size_t e = line.find("Error (");
    if (e == std::string_view::npos) continue;
    return std::string(line.substr(e));
  }
  return "";
}

void container_checkpoint(const std::string& root, const std::string& id,
                          const CheckpointOptions& o) {
  refuse_unsupported(o, "checkpoint");
  require_initial_root("checkpoint");
  int mode = cg_mode(o.manage_cgroups_mode);
  // The binary first: without Debian's criu package both are missing, and its message says
  // what to install or pass (--criu).
  std::string binary = criu_binary(o.criu, "checkpoint");
  const LibCriu& c = load_libcriu("checkpoint");

  Loaded L = container_load(root, id, true);
  if (L.status != Status::running && L.status != Status::paused)
    fail("cannot checkpoint container \"" + id + "\": it is " + status_name(L.status) +
         ", not running or paused");
  Config cfg = parse_config(L.dir.read_file("config.json"), L.dir.path() + "/config.json");
  pid_t pid = L.state.pid;
  CriuDirs d = open_criu_dirs(o, true);
  const char* log_name = o.pre_dump ? "predump.log" : "dump.log";

  Opts opts(c);
  criu_opts* p = opts.get();
  set_common_opts(c, opts, d, log_name, mode, o);
  c.set_pid(p, pid);
  opts.check(c.set_root(p, L.state.rootfs.c_str()), "criu_local_set_root");
  c.set_leave_running(p, o.leave_running);
  if (!o.parent_path.empty()) {
    opts.check(c.set_parent_images(p, o.parent_path.c_str()), "criu_local_set_parent_images");
    c.set_track_mem(p, true);
  }
  if (o.pre_dump) c.set_track_mem(p, true);
  if (!o.page_server.empty()) {
    size_t colon = o.page_server.rfind(':');
    int port = colon == std::string::npos ? 0 : std::atoi(o.page_server.c_str() + colon + 1);
    if (colon == std::string::npos || port <= 0 || port > 65535)
      fail("--page-server: expected ADDRESS:PORT, got \"" + o.page_server + "\"");
    opts.check(c.set_page_server_address_port(p, o.page_server.substr(0, colon).c_str(), port),
               "criu_local_set_page_server_address_port");
  }
  set_freezer(c, opts, L.state.cgroup);
  add_dump_externals(c, opts, cfg, pid, o.pre_dump);
  write_descriptors(pid, d);

  log::debug("checkpoint " + id + ": criu " + binary + ", images " + d.images);
  std::string err;
  int r = run_swrk(c, p, o.pre_dump ? c.pre_dump : c.dump, binary, d, &err);
  check_swrk(r, err, "checkpoint", d, log_name);
  if (o.leave_running || o.pre_dump) return;
  // As runc: the checkpointed container is destroyed (CRIU has killed its processes).
  L.dir.unlock();
  container_delete(root, id, true);
}

int container_restore(const std::string& root, const std::string& id, const RestoreOptions& o) {
  refuse_unsupported(o, "restore");
  require_initial_root("restore");
  validate_id(id);
  int mode = cg_mode(o.manage_cgroups_mode);
  // The binary first: without Debian's criu package both are missing, and its message says
  // what to install or pass (--criu).
  std::string binary = criu_binary(o.criu, "restore");
  const LibCriu& c = load_libcriu("restore");

  std::string bundle = absolute_path(o.bundle);
  std::string raw;
  Config cfg = load_bundle_config(bundle, &raw);
  if (!cfg.process) fail(bundle + "/config.json: /process: required property is missing");
  bool terminal = cfg.process->terminal;
  if (terminal && o.console_socket.empty() && o.detach)
    fail(bundle + "/config.json: /process/terminal: true needs --console-socket with --detach");
  CriuDirs d = open_criu_dirs(o, false);
  std::vector<std::string> descriptors = read_descriptors(d.images);

  RestoreUndo U;
  ContainerDir& dir = U.dir.emplace(ContainerDir::create(root, id));
  dir.write_file("config.json", raw);
  State st;
  fill_new_state(st, id, bundle, cfg);

  Opts opts(c);
  criu_opts* p = opts.get();
  set_common_opts(c, opts, d, "restore.log", mode, o);
  c.set_evasive_devices(p, true);
  if (!o.lsm_profile.empty())
    opts.check(c.set_lsm_profile(p, o.lsm_profile.c_str()), "criu_local_set_lsm_profile");
  if (!o.lsm_mount_context.empty())
    opts.check(c.set_lsm_mount_context(p, o.lsm_mount_context.c_str()),
               "criu_local_set_lsm_mount_context");
  make_restore_mount_points(cfg, bundle);
  bind_criu_root(U, cfg, c, opts);
  std::vector<Fd> ns_fds = add_restore_externals(c, opts, cfg, bundle, descriptors);
  if (!o.no_cgroups) {
    enter_restore_cgroup(U, id, cfg, o.systemd_cgroup, c, opts);
    st.cgroup = U.cg;
  }

  // The console: --console-socket gets the pty master CRIU hands back; in the foreground
  // without one, nook proxies it as run does.
  Fd console_peer;
  Fd console;
  if (terminal) console = console_channel(o.console_socket, 3, &console_peer);

  sigset_t fwd = forwarded_signals(), old;
  if (!o.detach) ::sigprocmask(SIG_BLOCK, &fwd, &old);
  RestoreCtx ctx;
  ctx.c = &c;
  ctx.cfg = &cfg;
  ctx.state = &st;
  ctx.console = console ? console.get() : -1;
  g_restore = &ctx;
  c.set_notify_cb(p, restore_notify);
  log::debug("restore " + id + ": criu " + binary + ", images " + d.images);
  // Restored in the swrk mode, CRIU's tasks are its children; when criu exits they go to the
  // nearest subreaper: nook, which then waits for them in the foreground.
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
    throw_sys("prctl", "PR_SET_CHILD_SUBREAPER");
  std::string err;
  int r = run_swrk(c, p, c.restore, binary, d, &err);
  g_restore = nullptr;
  U.leave();
  if (r < 0 && !ctx.error.empty()) fail("restore: " + ctx.error);
  check_swrk(r, err, "restore", d, "restore.log");
  st.pid = r;
  st.start_time = proc_start_time(r);
  st.created = log::now_rfc3339();
  dir.write_state(st);
  write_child_pid_file(o.pid_file, r);
  U.done = true;
  console.reset();
  if (o.detach) return 0;
  return restore_foreground(root, id, o, dir, st, std::move(console_peer), fwd, old);
}

}  // namespace nook
