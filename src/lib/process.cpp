#include "process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "error.hpp"
#include "fd.hpp"
#include "fileio.hpp"
#include "keys.hpp"
#include "log.hpp"
#include "names.hpp"
#include "seccomp.hpp"
#include "spawn.hpp"
#include "sync.hpp"

namespace nook {

namespace {
const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

bool executable(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
}
}  // namespace

std::string find_executable(const std::string& prog, const std::vector<std::string>& env) {
  if (prog.find('/') != std::string::npos) {
    struct stat st;
    if (::stat(prog.c_str(), &st) != 0) throw_sys("exec: \"" + prog + "\":", "stat", errno);
    if (S_ISDIR(st.st_mode)) fail("exec: \"" + prog + "\": is a directory");
    // As the container's user (this runs after the switch), so that a program the user may
    // not execute fails `create`, not the start (runc's check). EPERM/ENOSYS: a seccomp
    // profile that denies faccessat2 leaves the answer to execve.
    if (!S_ISREG(st.st_mode) || (::faccessat(AT_FDCWD, prog.c_str(), X_OK, AT_EACCESS) != 0 &&
                                 errno != EPERM && errno != ENOSYS))
      fail("exec: \"" + prog + "\": permission denied");
    return prog;
  }
  std::string path = kDefaultPath;
  for (auto& e : env)
    if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find(':', i);
    if (j == std::string::npos) j = path.size();
    std::string dir = j > i ? path.substr(i, j - i) : std::string(1, '.');
    std::string cand = dir + "/" + prog;
    if (executable(cand)) return cand;
    i = j + 1;
  }
  fail("exec: \"" + prog + "\": executable file not found in $PATH");
}

void apply_rlimits(const std::vector<Rlimit>& rl) {
  for (auto& r : rl) {
    struct rlimit l = {static_cast<rlim_t>(r.soft), static_cast<rlim_t>(r.hard)};
    if (::setrlimit(r.resource, &l) != 0) {
      int e = errno;
      struct rlimit cur = {};
      ::getrlimit(r.resource, &cur);
      throw Error(sys_message("setrlimit",
                              r.type + " soft=" + std::to_string(r.soft) +
                                  " hard=" + std::to_string(r.hard) + " (current hard limit " +
                                  std::to_string(cur.rlim_max) + ")",
                              e),
                  e);
    }
  }
}

void apply_sched_attrs(const Process& p, const Linux& linux) {
  if (p.oom_score_adj) {
    write_or_throw("/proc/self/oom_score_adj", std::to_string(*p.oom_score_adj));
  }
  if (linux.personality) {
    unsigned long persona = linux.personality->domain == "LINUX32" ? PER_LINUX32 : PER_LINUX;
    if (::personality(persona) < 0) throw_sys("personality", linux.personality->domain);
  }
  if (p.scheduler) {
    auto& s = *p.scheduler;
    static const std::pair<const char*, int> pol[] = {
        {"SCHED_OTHER", SCHED_OTHER}, {"SCHED_FIFO", SCHED_FIFO}, {"SCHED_RR", SCHED_RR},
        {"SCHED_BATCH", SCHED_BATCH}, {"SCHED_IDLE", SCHED_IDLE}, {"SCHED_DEADLINE", 6}};
    int policy = -1;
    for (auto& [n, v] : pol)
      if (s.policy == n) policy = v;
    if (policy < 0) fail("process.scheduler.policy " + s.policy + " is not supported on Linux");
    struct {
      uint32_t size;
      uint32_t sched_policy;
      uint64_t sched_flags;
      int32_t sched_nice;
      uint32_t sched_priority;
      uint64_t sched_runtime, sched_deadline, sched_period;
    } attr = {48,
              static_cast<uint32_t>(policy),
              0,
              s.nice,
              static_cast<uint32_t>(s.priority),
              s.runtime,
              s.deadline,
              s.period};
    for (auto& f : s.flags) {
      if (f == "SCHED_FLAG_RESET_ON_FORK")
        attr.sched_flags |= 0x01;
      else if (f == "SCHED_FLAG_RECLAIM")
        attr.sched_flags |= 0x02;
      else if (f == "SCHED_FLAG_DL_OVERRUN")
        attr.sched_flags |= 0x04;
      else
        fail("process.scheduler.flags: unknown flag " + f);
    }
    if (syscall(SYS_sched_setattr, 0, &attr, 0) != 0) throw_sys("sched_setattr", s.policy);
  }
  if (p.io_priority) {
    int cls = p.io_priority->io_class == "IOPRIO_CLASS_RT"   ? 1
              : p.io_priority->io_class == "IOPRIO_CLASS_BE" ? 2
                                                             : 3;
    int prio = (cls << 13) | p.io_priority->priority;
    if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, prio) != 0)
      throw_sys("ioprio_set", p.io_priority->io_class);
  }
}

void switch_user(const User& u, bool setgroups_ok) {
  if (setgroups_ok) {
    std::vector<gid_t> g(u.additional_gids.begin(), u.additional_gids.end());
    // EPERM while holding CAP_SETGID means the user namespace we run in (or its ancestor:
    // the setting is inherited) has setgroups "deny", e.g. a rootless Buildah or Podman that
    // made its own single-ID namespace. That is the single-ID case below, not an error.
    if (syscall_unemulated(SYS_setgroups, static_cast<long>(g.size()),
                           reinterpret_cast<long>(g.data())) != 0) {
      if (errno != EPERM) throw_sys("setgroups");
      setgroups_ok = false;
    }
  }
  if (!setgroups_ok) {
    for (auto g : u.additional_gids)
      if (g != u.gid) {
        log::warn("process.user.additionalGids: group " + std::to_string(g) +
                  " not set: " + key_reason("/process/user/additionalGids"));
        break;
      }
  }
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) throw_sys("prctl", "PR_SET_KEEPCAPS");
  if (syscall_unemulated(SYS_setresgid, u.gid, u.gid, u.gid) != 0)
    throw_sys("setresgid", std::to_string(u.gid) + " (is it mapped in the user namespace?)");
  if (syscall_unemulated(SYS_setresuid, u.uid, u.uid, u.uid) != 0)
    throw_sys("setresuid", std::to_string(u.uid) + " (is it mapped in the user namespace?)");
}

namespace {
// The highest capability number the kernel knows, asked of the kernel itself: PR_CAPBSET_READ
// fails with EINVAL above it. Not /proc/sys/kernel/cap_last_cap: after pivot_root, or after
// exec's setns into the container, that path is the image's file or the container's mount,
// and a file inside the container must not decide which capabilities are dropped (an image
// saying -1 kept every capability). A binary search: 6 prctl calls.
int last_cap() {
  static int last = -1;
  if (last >= 0) return last;
  int lo = 0, hi = 63;  // capability 0 always exists; the sets are 64 bits wide
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (::prctl(PR_CAPBSET_READ, mid, 0, 0, 0) >= 0)
      lo = mid;
    else
      hi = mid - 1;
  }
  last = lo;
  return last;
}
}  // namespace

void drop_bounding_set(const Capabilities& caps) {
  int last = last_cap();
  // After a switch to a non-root user (with KEEPCAPS) CAP_SETPCAP is permitted but no longer
  // effective: make the permitted set effective first.
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct cur[2] = {};
  if (syscall(SYS_capget, &hdr, cur) == 0 &&
      (cur[0].effective != cur[0].permitted || cur[1].effective != cur[1].permitted)) {
    cur[0].effective = cur[0].permitted;
    cur[1].effective = cur[1].permitted;
    syscall_unemulated(SYS_capset, reinterpret_cast<long>(&hdr), reinterpret_cast<long>(cur));
  }
  for (int c = 0; c <= last; c++)
    if (!((caps.bounding >> c) & 1) && ::prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL)
      throw_sys("prctl PR_CAPBSET_DROP", cap_name(c) ? cap_name(c) : "?");
}

void apply_capabilities(const Capabilities& caps, bool drop_bounding) {
  for (auto& n : caps.names_unknown)
    log::warn("process.capabilities: unknown capability \"" + n + "\" ignored");
  int last = last_cap();
  if (drop_bounding) drop_bounding_set(caps);
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  for (int i = 0; i < 2; i++) {
    data[i].effective = static_cast<uint32_t>(caps.effective >> (32 * i));
    data[i].permitted = static_cast<uint32_t>(caps.permitted >> (32 * i));
    data[i].inheritable = static_cast<uint32_t>(caps.inheritable >> (32 * i));
  }
  if (syscall_unemulated(SYS_capset, reinterpret_cast<long>(&hdr), reinterpret_cast<long>(data)) !=
      0)
    throw_sys("capset");
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    throw_sys("prctl PR_CAP_AMBIENT_CLEAR_ALL");
  for (int c = 0; c <= last; c++)
    if ((caps.ambient >> c) & 1) {
      if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) != 0)
        log::debug(std::string("process.capabilities.ambient: cannot raise ") + cap_name(c) +
                   " (it must also be permitted and inheritable)");
    }
}

std::vector<std::string> container_env(const Process& p) {
  std::vector<std::string> env = p.env;
  bool has_home = false;
  for (auto& e : env)
    if (e.rfind("HOME=", 0) == 0) has_home = true;
  if (!has_home) {
    std::string home = "/";
    if (FILE* f = std::fopen("/etc/passwd", "re")) {
      char line[1024];
      while (std::fgets(line, sizeof line, f)) {
        // name:pw:uid:gid:gecos:home:shell
        char* fields[7] = {};
        int n = 0;
        char* s = line;
        fields[n++] = s;
        for (; *s && n < 7; s++)
          if (*s == ':') *s = 0, fields[n++] = s + 1;
        if (n >= 6 && std::strtoul(fields[2], nullptr, 10) == p.user.uid && *fields[2]) {
          home = fields[5];
          break;
        }
      }
      std::fclose(f);
    }
    env.push_back("HOME=" + home);
  }
  return env;
}

int inherited_listen_fds() {
  const char* fds = std::getenv("LISTEN_FDS");
  if (!fds || !*fds) return 0;
  char* end = nullptr;
  long n = std::strtol(fds, &end, 10);
  if (*end || n <= 0 || n > (1 << 20)) {
    log::warn(std::string("LISTEN_FDS=") + fds + ": not a number of descriptors; not passed on");
    return 0;
  }
  if (const char* pid = std::getenv("LISTEN_PID"); pid && *pid) {
    long p = std::strtol(pid, &end, 10);
    if (*end || p != ::getpid()) {
      log::debug(std::string("LISTEN_PID=") + pid + " is not nook's PID: LISTEN_FDS not passed on");
      return 0;
    }
  }
  return static_cast<int>(n);
}

void add_listen_env(std::vector<std::string>& env, int n) {
  auto has = [&](std::string_view name) {
    return std::any_of(env.begin(), env.end(), [&](const std::string& e) {
      return e.size() > name.size() && e.compare(0, name.size(), name) == 0 &&
             e[name.size()] == '=';
    });
  };
  if (!has("LISTEN_FDS")) env.push_back("LISTEN_FDS=" + std::to_string(n));
  if (!has("LISTEN_PID")) env.push_back("LISTEN_PID=" + std::to_string(::getpid()));
}

void exec_process(const std::string& path, const std::vector<std::string>& args,
                  const std::vector<std::string>& env) {
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  ::execve(path.c_str(), argv.data(), envp.data());
  throw_sys("exec", path);
}

void close_fds_except(int preserve, const std::vector<int>& keep) {
  int first = 3 + std::max(preserve, 0);
  for (int fd = 3; fd < first; fd++) {
    int fl = ::fcntl(fd, F_GETFD);
    if (fl >= 0) ::fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
  }
  std::vector<int> k;
  for (int fd : keep)
    if (fd >= first) k.push_back(fd);
  std::sort(k.begin(), k.end());
  unsigned lo = static_cast<unsigned>(first);
  for (int fd : k) {
    if (static_cast<unsigned>(fd) > lo)
      syscall(SYS_close_range, lo, static_cast<unsigned>(fd) - 1, 0);
    lo = static_cast<unsigned>(fd) + 1;
  }
  syscall(SYS_close_range, lo, ~0u, 0);
}

bool has_cap(int cap) {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &hdr, data) != 0) return false;
  return (data[cap / 32].effective >> (cap % 32)) & 1u;
}

namespace {

// The working directory, checked to be inside the container's root (CVE-2024-21626: a leaked
// host directory reached through /proc/self/fd; getcwd() reports "(unreachable)" then), and
// the program to execute.
std::string enter_cwd_find_exe(const Process& proc, const std::vector<std::string>& env) {
  if (::chdir(proc.cwd.c_str()) != 0) throw_sys("chdir", proc.cwd);
  char cwd[4096];
  if (!::getcwd(cwd, sizeof cwd) || cwd[0] != '/')
    fail("process.cwd " + proc.cwd + " is outside the container's root");
  try {
    return find_executable(proc.args[0], env);
  } catch (const Error& e) {
    throw ExecError(e.what());
  }
}

// The profile's listener, if the filter made one, to the parent (which sends it to the agent
// at listenerPath), then closed: it must not reach the container's program. Until the agent
// has it, a call the profile sends to the agent would wait for nobody; the one call made
// before the parent has it is the sendmsg here, which seccomp_validate keeps out of
// SCMP_ACT_NOTIFY (and nothing is allocated: no brk or mmap in between). The parent answers
// SECCOMP_DONE once the agent has it, or kills us.
void hand_over_listener(int sync_fd, int listener) {
  if (listener < 0) return;
  if (!sync::send_one_fd(sync_fd, sync::kSeccomp, listener)) _exit(1);  // the parent gave up
  ::close(listener);
  child_wait(sync_fd, sync::kSeccompDone);
}

}  // namespace

Prepared finish_process(const Process& proc, const Seccomp* profile, bool emulate_root,
                        bool setgroups_ok, int sync_fd) {
  std::vector<std::string> env = container_env(proc);
  // Compiled here, while allocating is harmless: loading it is system calls only.
  std::optional<SeccompProgram> prog;
  if (profile) prog = seccomp_compile(*profile);
  auto load_filters = [&] {
    hand_over_listener(sync_fd, seccomp_install(prog ? &*prog : nullptr, emulate_root));
  };
  // Without no_new_privs the filters need CAP_SYS_ADMIN, so they go in now, before the user
  // switch and the capability drop (those use syscall_unemulated(), which the emulation lets
  // through), and the cwd and program checks, which a filter may deny (getcwd, newfstatat,
  // faccessat2), run before them, as the still privileged process (runc also changes
  // directory before the user switch when it can). With no_new_privs the filters go in as
  // late as possible: after the checks, which then run as process.user, right before execve.
  const bool want_filters = profile || emulate_root;
  const bool filters_first = want_filters && !proc.no_new_privileges;
  ::umask(proc.user.umask.value_or(022));
  std::string exe;
  if (filters_first) {
    exe = enter_cwd_find_exe(proc, env);
    // In single-ID mode no_new_privs changes nothing a process could otherwise do.
    if (emulate_root && !has_cap(CAP_SYS_ADMIN) && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
      throw_sys("prctl", "PR_SET_NO_NEW_PRIVS");
    load_filters();
  }
  // The bounding set needs CAP_SETPCAP, which a non-root process.user no longer has
  // effective after the switch; the other sets are set after it (KEEPCAPS keeps permitted).
  if (proc.capabilities) drop_bounding_set(*proc.capabilities);
  switch_user(proc.user, setgroups_ok);
  if (proc.capabilities) apply_capabilities(*proc.capabilities, false);
  if (proc.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    throw_sys("prctl", "PR_SET_NO_NEW_PRIVS");
  if (!filters_first) {
    exe = enter_cwd_find_exe(proc, env);
    if (want_filters) load_filters();
  }
  return {exe, std::move(env)};
}

}  // namespace nook
