#include "spec.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cgroup.hpp"
#include "config.hpp"
#include "keys.hpp"
#include "mounts.hpp"
#include "names.hpp"
#include "seccomp.hpp"

namespace nook {

using json = nlohmann::json;

std::string default_spec(bool rootless) {
  json caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  json j = {
      {"ociVersion", kOciVersion},
      {"process",
       {{"terminal", true},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", {"sh"}},
        {"env",
         {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
        {"cwd", "/"},
        {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
        {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
        {"noNewPrivileges", true}}},
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"hostname", "nook"},
      {"mounts",
       {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
        {{"destination", "/dev"},
         {"type", "tmpfs"},
         {"source", "tmpfs"},
         {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
        {{"destination", "/dev/pts"},
         {"type", "devpts"},
         {"source", "devpts"},
         {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
        {{"destination", "/dev/shm"},
         {"type", "tmpfs"},
         {"source", "shm"},
         {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
        {{"destination", "/dev/mqueue"},
         {"type", "mqueue"},
         {"source", "mqueue"},
         {"options", {"nosuid", "noexec", "nodev"}}},
        {{"destination", "/sys"},
         {"type", "sysfs"},
         {"source", "sysfs"},
         {"options", {"nosuid", "noexec", "nodev", "ro"}}},
        {{"destination", "/sys/fs/cgroup"},
         {"type", "cgroup"},
         {"source", "cgroup"},
         {"options", {"nosuid", "noexec", "nodev", "relatime", "ro"}}}}},
      {"linux",
       {{"resources", {{"devices", {{{"allow", false}, {"access", "rwm"}}}}}},
        {"namespaces",
         {{{"type", "pid"}},
          {{"type", "network"}},
          {{"type", "ipc"}},
          {{"type", "uts"}},
          {{"type", "mount"}},
          {{"type", "cgroup"}}}},
        {"maskedPaths",
         {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
          "/proc/scsi"}},
        {"readonlyPaths",
         {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}}}};
  if (rootless) {
    auto& l = j["linux"];
    l.erase("resources");
    l["namespaces"] = {{{"type", "pid"}},
                       {{"type", "ipc"}},
                       {{"type", "uts"}},
                       {{"type", "mount"}},
                       {{"type", "user"}}};
    l["uidMappings"] = {{{"containerID", 0}, {"hostID", geteuid()}, {"size", 1}}};
    l["gidMappings"] = {{{"containerID", 0}, {"hostID", getegid()}, {"size", 1}}};
    json mounts = json::array();
    for (auto& m : j["mounts"]) {
      if (m["destination"] == "/sys/fs/cgroup") continue;
      if (m["destination"] == "/sys") {
        m = {{"destination", "/sys"},
             {"type", "none"},
             {"source", "/sys"},
             {"options", {"rbind", "nosuid", "noexec", "nodev", "ro"}}};
      }
      if (m["destination"] == "/dev/pts") {
        json opts = json::array();
        for (auto& o : m["options"])
          if (o != "gid=5") opts.push_back(o);
        m["options"] = opts;
      }
      mounts.push_back(m);
    }
    j["mounts"] = mounts;
  }
  return j.dump(4) + "\n";
}

std::string features_json() {
  json caps = json::array();
  for (int c = 0; c <= cap_last_known(); c++) caps.push_back(cap_name(c));
  json j = {
      {"ociVersionMin", kOciVersionMin},
      {"ociVersionMax", kOciVersion},
      {"hooks",
       {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}},
      {"mountOptions", mount_option_names()},
      {"linux",
       {{"namespaces", {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"}},
        {"capabilities", caps},
        {"cgroup",
         {{"v1", true},
          {"v2", true},
          {"systemd", kCgroupSystemdDriver},
          {"systemdUser", kCgroupSystemdDriver}}},
        {"seccomp",
         {{"enabled", true},
          {"actions",
           {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
            "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE",
            "SCMP_ACT_TRAP"}},
          {"operators",
           {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
            "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"}},
          {"archs",
           {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_X32", "SCMP_ARCH_X86",
            "SCMP_ARCH_X86_64"}},
          {"knownFlags",
           {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
            "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_NEW_LISTENER",
            "SECCOMP_FILTER_FLAG_TSYNC_ESRCH", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"}},
          {"supportedFlags",
           {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
            "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_NEW_LISTENER",
            "SECCOMP_FILTER_FLAG_TSYNC_ESRCH", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"}}}},
        // From the key policy (keys.cpp): what nook refuses it does not support.
        {"apparmor", {{"enabled", key_supported("/process/apparmorProfile")}}},
        {"selinux", {{"enabled", key_supported("/process/selinuxLabel")}}},
        {"intelRdt", {{"enabled", key_supported("/linux/intelRdt")}}},
        {"mountExtensions",
         {{"idmap", {{"enabled", key_supported("/mounts/*/options", "idmap")}}}}}}},
      {"annotations",
       {{kRootEmulationAnnotation,
         "true|false: seccomp root emulation (fake success for chown, set*id, setgroups, capset, "
         "mknod of devices); default true in single-ID mode"},
        {"org.opencontainers.runc.version", NOOK_VERSION}}},
      {"potentiallyUnsafeConfigAnnotations", json::array()}};
  return j.dump(4) + "\n";
}

}  // namespace nook
