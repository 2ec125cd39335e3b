#include "userns.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "error.hpp"
#include "fd.hpp"
#include "fileio.hpp"
#include "procfs.hpp"

namespace nook {

bool caller_privileged() {
  if (geteuid() != 0) return false;
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &hdr, data) != 0) return false;
  auto has = [&](int cap) { return (data[cap / 32].effective >> (cap % 32)) & 1u; };
  return has(CAP_SYS_ADMIN) && has(CAP_SETUID) && has(CAP_SETGID);
}

bool id_mapped(const std::vector<IdMapping>& map, uint32_t id) {
  for (auto& m : map)
    if (id >= m.container_id && uint64_t(id) < uint64_t(m.container_id) + m.size) return true;
  return false;
}

namespace {
// "[0 100000 65536, 65536 5 1]": container ID, host ID, size of each range.
std::string maps_shown(const std::vector<IdMapping>& m) {
  std::string s = "[";
  for (auto& e : m)
    s += (s.size() > 1 ? ", " : "") + std::to_string(e.container_id) + " " +
         std::to_string(e.host_id) + " " + std::to_string(e.size);
  return s + "]";
}

// Sets the two facts about the caller's own user namespace a privileged caller needs.
void read_own_userns(IdPlan& p, OwnUidMap own_map) {
  auto map = own_map();
  p.caller_in_initial_userns = is_initial_map(map);
  p.inherited_single_id = map.size() == 1 && map[0].size == 1;
}

}  // namespace

IdPlan plan_ids(const Config& cfg, bool privileged) {
  return plan_ids(cfg, privileged, geteuid(), getegid(), own_uid_map);
}

IdPlan plan_ids(const Config& cfg, bool privileged, uid_t uid, gid_t gid, OwnUidMap own_map) {
  IdPlan p;
  p.privileged = privileged;
  p.host_uid = uid;
  p.host_gid = gid;
  const Namespace* userns = cfg.linux.find_ns(NsType::user);
  uint32_t cuid = cfg.process ? cfg.process->user.uid : 0;
  uint32_t cgid = cfg.process ? cfg.process->user.gid : 0;
  auto single = [&](const std::string& why) {
    p.new_userns = true;
    p.single_id = true;
    p.uid_map = {{cuid, p.host_uid, 1}};
    p.gid_map = {{cgid, p.host_gid, 1}};
    p.reason = why + ": single-ID user namespace, container uid " + std::to_string(cuid) + " gid " +
               std::to_string(cgid) + " mapped to host uid " + std::to_string(p.host_uid) +
               " gid " + std::to_string(p.host_gid) + ", setgroups denied";
  };
  if (userns && !userns->path.empty()) {
    p.join_path = userns->path;
    return p;
  }
  if (userns) {
    if (privileged && !cfg.linux.uid_mappings.empty()) {
      read_own_userns(p, own_map);
      p.new_userns = true;
      p.uid_map = cfg.linux.uid_mappings;
      p.gid_map = cfg.linux.gid_mappings;
      return p;
    }
    single(privileged ? "config asks for a user namespace without mappings"
                      : "unprivileged caller cannot grant the config's mappings");
    if (!cfg.linux.uid_mappings.empty() || !cfg.linux.gid_mappings.empty()) {
      if (cfg.linux.uid_mappings != p.uid_map || cfg.linux.gid_mappings != p.gid_map)
        p.warning =
            "linux.uidMappings " + maps_shown(cfg.linux.uid_mappings) + " and gidMappings " +
            maps_shown(cfg.linux.gid_mappings) + " replaced by " + maps_shown(p.uid_map) + " and " +
            maps_shown(p.gid_map) + ": " +
            (privileged ? "both are needed" : "an unprivileged caller maps only its own IDs") +
            " (the single-ID user namespace)";
    }
    return p;
  }
  if (privileged) {  // no user namespace, as runc does
    read_own_userns(p, own_map);
    return p;
  }
  single("unprivileged caller and no user namespace in the config");
  return p;
}

namespace {
std::string map_text(const std::vector<IdMapping>& m) {
  std::string s;
  char line[64];
  for (auto& e : m) {
    std::snprintf(line, sizeof line, "%u %u %u\n", e.container_id, e.host_id, e.size);
    s += line;
  }
  return s;
}

void write_proc(pid_t pid, const char* file, const std::string& text) {
  std::string shown = text;
  while (!shown.empty() && shown.back() == '\n') shown.pop_back();
  for (auto& c : shown)
    if (c == '\n') c = ',';
  write_or_throw("/proc/" + std::to_string(pid) + "/" + file, text, shown);
}
}  // namespace

void write_id_maps(pid_t pid, const IdPlan& plan) {
  if (!plan.new_userns) return;
  // An unprivileged process may map only its own ID, and only after giving up setgroups(2)
  // (otherwise it could drop a group that denies it access: user_namespaces(7)).
  if (plan.single_id && !plan.privileged) write_proc(pid, "setgroups", "deny");
  write_proc(pid, "uid_map", map_text(plan.uid_map));
  write_proc(pid, "gid_map", map_text(plan.gid_map));
}

Fd make_userns(const std::vector<IdMapping>& uid_map, const std::vector<IdMapping>& gid_map) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw_sys("pipe2", "(user namespace holder)");
  Fd hold(p[0]), release(p[1]);
  pid_t pid = static_cast<pid_t>(
      syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
  if (pid < 0) throw_sys("clone", "CLONE_NEWUSER (user namespace for an ID-mapped mount)");
  if (pid == 0) {
    // Holds the namespace until the parent closes its end of the pipe (or dies): read then
    // returns 0. Nothing here allocates or touches the parent's state.
    ::close(p[1]);
    char c;
    while (::read(p[0], &c, 1) < 0 && errno == EINTR) {
    }
    _exit(0);
  }
  hold.reset();
  struct Reap {
    pid_t pid;
    Fd* release;
    ~Reap() {
      release->reset();  // the holder's read returns; it exits
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  } reap{pid, &release};
  write_proc(pid, "uid_map", map_text(uid_map));
  write_proc(pid, "gid_map", map_text(gid_map));
  std::string ns = "/proc/" + std::to_string(pid) + "/ns/user";
  Fd fd(::open(ns.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_sys("open", ns);
  return fd;
}

}  // namespace nook
