#include "keys.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <iterator>

#include "config.hpp"
#include "error.hpp"
#include "fd.hpp"
#include "log.hpp"

namespace nook {
namespace {

// One row per row of docs/config-keys.md, in its order; keys_test.cpp checks the doc against
// this table (labels both ways, the treatment each cell begins with, the reasons) and the
// mount option rows against the parser's own tables (mounts_options.cpp).
// Why an unprivileged caller's ID-mapped mounts are refused (and a privileged caller's fail
// on a filesystem its user namespace does not own): the kernel's rule.
constexpr std::string_view kIdmapReason =
    "the kernel sets an ID mapping (mount_setattr(2) MOUNT_ATTR_IDMAP) only for a caller with "
    "CAP_SYS_ADMIN in the user namespace that owns the source's filesystem (for the host's "
    "disks the initial one)";

constexpr KeyPolicy kKeys[] = {
    {"/ociVersion", "", "`ociVersion`", Treatment::honoured, Treatment::honoured, ""},
    {"/root/path", "", "`root.path`", Treatment::honoured, Treatment::honoured, ""},
    {"/root/readonly", "", "`root.readonly`", Treatment::honoured, Treatment::honoured, ""},
    {"/mounts/*/destination", "", "`mounts[].destination`", Treatment::honoured,
     Treatment::honoured, ""},
    {"/mounts/*/destination", "proc sysfs", "`mounts[].destination` for `proc`/`sysfs`",
     Treatment::honoured, Treatment::honoured, ""},
    {"/mounts/*/source", "", "`mounts[].source`", Treatment::honoured, Treatment::honoured, ""},
    {"/mounts/*/type", "bind none", "`mounts[].type` `bind`/`none`+`bind`", Treatment::honoured,
     Treatment::honoured, ""},
    {"/mounts/*/type", "tmpfs",
     "`mounts[].type` `tmpfs` (`size`, `mode`, `uid`, `gid`, `nr_inodes`…)", Treatment::honoured,
     Treatment::honoured, ""},
    {"/mounts/*/type", "proc", "`mounts[].type` `proc`", Treatment::honoured, Treatment::fallback,
     ""},
    {"/mounts/*/type", "sysfs", "`mounts[].type` `sysfs`", Treatment::honoured, Treatment::fallback,
     ""},
    {"/mounts/*/type", "devpts", "`mounts[].type` `devpts`", Treatment::honoured,
     Treatment::fallback, ""},
    {"/mounts/*/type", "mqueue", "`mounts[].type` `mqueue`", Treatment::honoured,
     Treatment::fallback, ""},
    {"/mounts/*/type", "cgroup cgroup2", "`mounts[].type` `cgroup`/`cgroup2`", Treatment::fallback,
     Treatment::fallback, ""},
    {"/mounts/*/options", "ro rw nosuid suid nodev dev noexec exec",
     "`mounts[].options` `ro`, `rw`, `nosuid`, `suid`, `nodev`, `dev`, `noexec`, `exec`",
     Treatment::honoured, Treatment::honoured, ""},
    {"/mounts/*/options",
     "sync async dirsync mand nomand lazytime nolazytime silent loud nosymfollow symfollow",
     "`mounts[].options` `sync`, `async`, `dirsync`, `mand`, `nomand`, `lazytime`, "
     "`nolazytime`, `silent`, `loud`, `nosymfollow`, `symfollow`",
     Treatment::honoured, Treatment::honoured, ""},
    {"/mounts/*/options",
     "atime noatime relatime norelatime strictatime nostrictatime diratime nodiratime",
     "`mounts[].options` relatime family: `atime`, `noatime`, `relatime`, `norelatime`, "
     "`strictatime`, `nostrictatime`, `diratime`, `nodiratime`",
     Treatment::honoured, Treatment::honoured, ""},
    {"/mounts/*/options", "bind rbind", "`mounts[].options` `bind`, `rbind`", Treatment::honoured,
     Treatment::honoured, ""},
    {"/mounts/*/options", "defaults remount", "`mounts[].options` `defaults`, `remount`",
     Treatment::honoured, Treatment::honoured, ""},
    {"/mounts/*/options",
     "rro rrw rnosuid rsuid rnodev rdev rnoexec rexec rnodiratime rdiratime rnosymfollow "
     "rsymfollow",
     "`mounts[].options` `rro`, `rrw`, `rnosuid`, `rsuid`, `rnodev`, `rdev`, `rnoexec`, `rexec`, "
     "`rnodiratime`, `rdiratime`, `rnosymfollow`, `rsymfollow`",
     Treatment::honoured, Treatment::honoured, ""},
    {"/mounts/*/options", "ratime rnoatime rrelatime rnorelatime rstrictatime rnostrictatime",
     "`mounts[].options` recursive atime family: `ratime`, `rnoatime`, `rrelatime`, "
     "`rnorelatime`, `rstrictatime`, `rnostrictatime`",
     Treatment::honoured, Treatment::fallback, ""},
    {"/mounts/*/options", "private rprivate shared rshared slave rslave unbindable runbindable",
     "`mounts[].options` `private`, `rprivate`, `shared`, `rshared`, `slave`, `rslave`, "
     "`unbindable`, `runbindable`",
     Treatment::honoured, Treatment::honoured, ""},
    {"/mounts/*/options", "idmap ridmap", "`mounts[].options` `idmap`, `ridmap`",
     Treatment::honoured, Treatment::refused, kIdmapReason},
    {"/mounts/*/options", "tmpcopyup copy-symlink notmpcopyup",
     "`mounts[].options` `tmpcopyup`, `copy-symlink`, `notmpcopyup` (crun extensions)",
     Treatment::ignored, Treatment::ignored, "accepted and not applied"},
    {"/mounts/*/options", "", "`mounts[].options` anything else", Treatment::honoured,
     Treatment::honoured, ""},
    {"/mounts/*/uidMappings /mounts/*/gidMappings", "",
     "`mounts[].uidMappings`, `mounts[].gidMappings`", Treatment::honoured, Treatment::refused,
     kIdmapReason},
    {"/process", "", "`process`", Treatment::honoured, Treatment::honoured, ""},
    {"/process/terminal", "", "`process.terminal`", Treatment::honoured, Treatment::honoured, ""},
    {"/process/terminal", "/dev/console", "`/dev/console` with `process.terminal`",
     Treatment::honoured, Treatment::honoured, ""},
    {"/process/consoleSize/height /process/consoleSize/width", "",
     "`process.consoleSize.height`, `.width`", Treatment::honoured, Treatment::honoured, ""},
    {"/process/cwd", "", "`process.cwd`", Treatment::honoured, Treatment::honoured, ""},
    {"/process/env", "", "`process.env`", Treatment::honoured, Treatment::honoured, ""},
    {"/process/args", "", "`process.args`", Treatment::honoured, Treatment::honoured, ""},
    {"/process/commandLine", "", "`process.commandLine`", Treatment::ignored, Treatment::ignored,
     "Windows only", [](const Config& c) { return c.process && !c.process->command_line.empty(); }},
    {"/process/rlimits/*/type /process/rlimits/*/soft /process/rlimits/*/hard", "",
     "`process.rlimits[].type/soft/hard`", Treatment::honoured, Treatment::honoured, ""},
    {"/process/apparmorProfile", "", "`process.apparmorProfile`", Treatment::lsm, Treatment::lsm,
     "nook cannot apply AppArmor profiles"},
    {"/process/capabilities/bounding /process/capabilities/effective "
     "/process/capabilities/permitted /process/capabilities/inheritable "
     "/process/capabilities/ambient",
     "", "`process.capabilities.bounding/effective/permitted/inheritable/ambient`",
     Treatment::honoured, Treatment::honoured, ""},
    {"/process/noNewPrivileges", "", "`process.noNewPrivileges`", Treatment::honoured,
     Treatment::honoured, ""},
    {"/process/oomScoreAdj", "", "`process.oomScoreAdj`", Treatment::honoured, Treatment::honoured,
     ""},
    {"/process/scheduler", "",
     "`process.scheduler.policy/nice/priority/flags/runtime/deadline/period`", Treatment::honoured,
     Treatment::honoured, ""},
    {"/process/ioPriority", "", "`process.ioPriority.class/priority`", Treatment::honoured,
     Treatment::honoured, ""},
    {"/process/selinuxLabel", "", "`process.selinuxLabel`", Treatment::lsm, Treatment::lsm,
     "nook cannot apply SELinux labels"},
    {"/process/execCPUAffinity", "", "`process.execCPUAffinity.initial/final`", Treatment::honoured,
     Treatment::honoured, ""},
    {"/process/user/uid /process/user/gid", "", "`process.user.uid`, `.gid`", Treatment::honoured,
     Treatment::honoured, ""},
    {"/process/user/umask", "", "`process.user.umask`", Treatment::honoured, Treatment::honoured,
     ""},
    {"/process/user/additionalGids", "", "`process.user.additionalGids`", Treatment::honoured,
     Treatment::ignored, "setgroups is denied in this user namespace"},
    {"/process/user/username", "", "`process.user.username`", Treatment::ignored,
     Treatment::ignored, "Windows only",
     [](const Config& c) { return c.process && !c.process->user.username.empty(); }},
    {"/hostname", "", "`hostname`", Treatment::honoured, Treatment::honoured, ""},
    {"/domainname", "", "`domainname`", Treatment::honoured, Treatment::honoured, ""},
    {"/hooks/prestart", "", "`hooks.prestart`", Treatment::honoured, Treatment::honoured, ""},
    {"/hooks/createRuntime", "", "`hooks.createRuntime`", Treatment::honoured, Treatment::honoured,
     ""},
    {"/hooks/createContainer", "", "`hooks.createContainer`", Treatment::honoured,
     Treatment::honoured, ""},
    {"/hooks/startContainer", "", "`hooks.startContainer`", Treatment::honoured,
     Treatment::honoured, ""},
    {"/hooks/poststart", "", "`hooks.poststart`", Treatment::honoured, Treatment::honoured, ""},
    {"/hooks/poststop", "", "`hooks.poststop`", Treatment::honoured, Treatment::honoured, ""},
    {"/hooks/*/*/path /hooks/*/*/args /hooks/*/*/env /hooks/*/*/timeout", "",
     "`hooks.*[].path/args/env/timeout`", Treatment::honoured, Treatment::honoured, ""},
    {"/annotations", "", "`annotations`", Treatment::honoured, Treatment::honoured, ""},
    {"/solaris /windows /vm /zos /freebsd", "", "`solaris`, `windows`, `vm`, `zos`, `freebsd`",
     Treatment::refused, Treatment::refused,
     "platform is not Linux; nook runs Linux containers only"},
    {"/linux/namespaces/*/type", "pid", "`linux.namespaces[].type` `pid`", Treatment::honoured,
     Treatment::honoured, ""},
    {"/linux/namespaces/*/type", "network", "`linux.namespaces[].type` `network`",
     Treatment::honoured, Treatment::honoured, ""},
    {"/linux/namespaces/*/type", "mount", "`linux.namespaces[].type` `mount`", Treatment::honoured,
     Treatment::honoured, ""},
    {"/linux/namespaces", "no mount",
     "`linux.namespaces` without `mount` (none at all, or no mount entry)", Treatment::honoured,
     Treatment::honoured, ""},
    {"/linux/namespaces/*/type", "ipc", "`linux.namespaces[].type` `ipc`", Treatment::honoured,
     Treatment::honoured, ""},
    {"/linux/namespaces/*/type", "uts", "`linux.namespaces[].type` `uts`", Treatment::honoured,
     Treatment::honoured, ""},
    {"/linux/namespaces/*/type", "user", "`linux.namespaces[].type` `user`", Treatment::honoured,
     Treatment::fallback, ""},
    {"/linux/namespaces/*/type", "cgroup", "`linux.namespaces[].type` `cgroup`",
     Treatment::honoured, Treatment::honoured, ""},
    {"/linux/namespaces/*/type", "time", "`linux.namespaces[].type` `time`", Treatment::honoured,
     Treatment::honoured, ""},
    {"/linux/namespaces/*/type", "", "`linux.namespaces[].type` given twice", Treatment::refused,
     Treatment::refused, ""},
    {"/linux/namespaces/*/path", "", "`linux.namespaces[].path`", Treatment::honoured,
     Treatment::honoured, ""},
    {"/linux/namespaces/*/path", "pid", "`linux.namespaces[].path` for `pid`", Treatment::honoured,
     Treatment::refused, ""},
    {"/linux/uidMappings /linux/gidMappings", "",
     "`linux.uidMappings`, `linux.gidMappings` (`containerID`, `hostID`, `size`)",
     Treatment::honoured, Treatment::fallback, ""},
    {"/linux/timeOffsets/monotonic /linux/timeOffsets/boottime", "",
     "`linux.timeOffsets.monotonic/boottime` (`secs`, `nanosecs`)", Treatment::honoured,
     Treatment::honoured, ""},
    {"/linux/devices", "",
     "`linux.devices[]` (`type` c/b/u/p, `path`, `major`, `minor`, `fileMode`, `uid`, `gid`)",
     Treatment::honoured, Treatment::fallback, ""},
    {"/linux/devices", "default",
     "default devices (`/dev/null`, `zero`, `full`, `random`, `urandom`, `tty`, `ptmx`)",
     Treatment::honoured, Treatment::fallback, ""},
    {"/linux/cgroupsPath", "", "`linux.cgroupsPath`", Treatment::honoured, Treatment::honoured, ""},
    {"/linux/resources/devices", "", "`linux.resources.devices`", Treatment::honoured,
     Treatment::ignored, ""},
    {"/linux/resources/memory", "limit reservation swap",
     "`linux.resources.memory` (`limit`, `reservation`, `swap`)", Treatment::honoured,
     Treatment::honoured, ""},
    {"/linux/resources/memory",
     "kernel kernelTCP swappiness disableOOMKiller useHierarchy checkBeforeUpdate",
     "`linux.resources.memory` (`kernel`, `kernelTCP`, `swappiness`, `disableOOMKiller`, "
     "`useHierarchy`, `checkBeforeUpdate`)",
     Treatment::honoured, Treatment::honoured, ""},
    {"/linux/resources/cpu", "",
     "`linux.resources.cpu` (`shares`, `quota`, `burst`, `period`, `realtimeRuntime`, "
     "`realtimePeriod`, `cpus`, `mems`, `idle`)",
     Treatment::honoured, Treatment::honoured, ""},
    {"/linux/resources/blockIO", "",
     "`linux.resources.blockIO` (`weight`, `leafWeight`, `weightDevice`, `throttle*Device`)",
     Treatment::honoured, Treatment::honoured, ""},
    {"/linux/resources/hugepageLimits", "", "`linux.resources.hugepageLimits`", Treatment::honoured,
     Treatment::honoured, ""},
    {"/linux/resources/network", "", "`linux.resources.network` (`classID`, `priorities`)",
     Treatment::honoured, Treatment::ignored,
     "net_cls and net_prio are cgroup v1 controllers, and cgroup v1 is never delegated",
     [](const Config& c) { return c.linux.resources && c.linux.resources->network.has_value(); }},
    {"/linux/resources/pids/limit", "", "`linux.resources.pids.limit`", Treatment::honoured,
     Treatment::honoured, ""},
    {"/linux/resources/rdma", "", "`linux.resources.rdma`", Treatment::ignored, Treatment::ignored,
     "the rdma controller is not managed by nook",
     [](const Config& c) { return c.linux.resources && c.linux.resources->has_rdma; }},
    {"/linux/resources/unified", "", "`linux.resources.unified`", Treatment::honoured,
     Treatment::honoured, ""},
    {"/linux/resources", "no cgroup", "cgroups when nook may not write them", Treatment::none,
     Treatment::ignored, ""},
    {"/linux/intelRdt", "",
     "`linux.intelRdt` (`closID`, `l3CacheSchema`, `memBwSchema`, `schemata`, `enableCMT`, "
     "`enableMBM`, `enableMonitoring`)",
     Treatment::refused, Treatment::refused, "Intel RDT (resctrl) is not supported by nook"},
    {"/linux/memoryPolicy", "", "`linux.memoryPolicy` (`mode`, `nodes`, `flags`)",
     Treatment::refused, Treatment::refused,
     "a NUMA memory policy (runtime-spec 1.3) is not implemented by nook"},
    {"/linux/netDevices", "", "`linux.netDevices`", Treatment::refused, Treatment::refused,
     "moving network devices into the container (runtime-spec 1.3) is not implemented by nook"},
    {"/linux/sysctl", "", "`linux.sysctl`", Treatment::honoured, Treatment::honoured, ""},
    {"/linux/seccomp/defaultAction /linux/seccomp/defaultErrnoRet", "",
     "`linux.seccomp.defaultAction`, `defaultErrnoRet`", Treatment::honoured, Treatment::honoured,
     ""},
    {"/linux/seccomp/architectures", "", "`linux.seccomp.architectures`", Treatment::honoured,
     Treatment::honoured, ""},
    {"/linux/seccomp/flags", "", "`linux.seccomp.flags`", Treatment::honoured, Treatment::honoured,
     ""},
    {"/linux/seccomp/listenerPath /linux/seccomp/listenerMetadata", "",
     "`linux.seccomp.listenerPath`, `listenerMetadata`", Treatment::honoured, Treatment::honoured,
     ""},
    {"/linux/seccomp/syscalls/*/names /linux/seccomp/syscalls/*/action "
     "/linux/seccomp/syscalls/*/errnoRet",
     "", "`linux.seccomp.syscalls[].names/action/errnoRet`", Treatment::honoured,
     Treatment::honoured, ""},
    {"/linux/seccomp/syscalls/*/args", "",
     "`linux.seccomp.syscalls[].args[]` (`index`, `value`, `valueTwo`, `op`)", Treatment::honoured,
     Treatment::honoured, ""},
    {"/linux/rootfsPropagation", "", "`linux.rootfsPropagation`", Treatment::honoured,
     Treatment::honoured, ""},
    {"/linux/maskedPaths", "", "`linux.maskedPaths`", Treatment::honoured, Treatment::honoured, ""},
    {"/linux/readonlyPaths", "", "`linux.readonlyPaths`", Treatment::honoured, Treatment::honoured,
     ""},
    {"/linux/mountLabel", "", "`linux.mountLabel`", Treatment::lsm, Treatment::lsm,
     "nook cannot apply SELinux labels"},
    {"/linux/personality/domain", "", "`linux.personality.domain`", Treatment::honoured,
     Treatment::honoured, ""},
    {"/linux/personality/flags", "", "`linux.personality.flags`", Treatment::refused,
     Treatment::refused, "the spec defines none"},
};

// Each treatment's name (`nook config-keys`) and the phrase its doc cells begin with, in the
// order of the enum.
struct TreatmentWords {
  std::string_view name, phrase;
};
constexpr TreatmentWords kTreatments[] = {
    {"honoured", "honoured"}, {"fallback", "fallback"}, {"ignored", "ignored"},
    {"refused", "refused"},   {"lsm", "refused where"}, {"none", "—"},
};
static_assert(std::size(kTreatments) == static_cast<size_t>(Treatment::none) + 1);

// The LSM keys: the file saying whether the LSM is on, and how a refusal says so.
struct Lsm {
  std::string_view pointer;
  const char* enabled_file;
  std::string_view on, off;
};
constexpr Lsm kLsms[] = {
    {"/process/apparmorProfile", "/sys/module/apparmor/parameters/enabled",
     "AppArmor is enabled on this host", "AppArmor is not enabled on this host"},
    {"/process/selinuxLabel", "/sys/fs/selinux/enforce", "SELinux is enforcing on this host",
     "SELinux is not enabled on this host"},
    {"/linux/mountLabel", "/sys/fs/selinux/enforce", "SELinux is enforcing on this host",
     "SELinux is not enabled on this host"},
};

// Whether `word` is one of the space-separated words of `list`.
bool has_word(std::string_view list, std::string_view word) {
  while (!list.empty()) {
    size_t sp = list.find(' ');
    if (list.substr(0, sp) == word) return true;
    if (sp == std::string_view::npos) break;
    list.remove_prefix(sp + 1);
  }
  return false;
}

// The file reads Y or 1 (AppArmor's "enabled", SELinux's "enforce"); missing: off.
bool lsm_enabled(const char* file) {
  Fd fd(::open(file, O_RDONLY | O_CLOEXEC));
  char c = 0;
  return fd && ::read(fd.get(), &c, 1) == 1 && (c == 'Y' || c == '1');
}

void check_one_lsm(std::string_view pointer, const std::string& value, const std::string& where) {
  if (value.empty()) return;
  for (auto& l : kLsms) {
    if (l.pointer != pointer) continue;
    if (lsm_enabled(l.enabled_file))
      fail(where + ": " + std::string(pointer) + ": " + std::string(l.on) + ", and " +
           key_reason(pointer));
    log::warn(dotted(pointer) + " ignored: " + std::string(l.off));
    return;
  }
  fail("no LSM entry for " + std::string(pointer));
}

}  // namespace

std::span<const KeyPolicy> key_policies() {
  return kKeys;
}

const KeyPolicy& key_policy(std::string_view pointer, std::string_view value) {
  for (auto& k : kKeys)
    if (has_word(k.pointers, pointer) &&
        (k.values.empty() ? value.empty() : has_word(k.values, value)))
      return k;
  fail("config key policy: no row for " + std::string(pointer) +
       (value.empty() ? "" : " \"" + std::string(value) + "\""));
}

std::string key_reason(std::string_view pointer, std::string_view value) {
  return std::string(key_policy(pointer, value).reason);
}

std::string_view treatment_phrase(Treatment t) {
  return kTreatments[static_cast<size_t>(t)].phrase;
}

std::string_view treatment_name(Treatment t) {
  return kTreatments[static_cast<size_t>(t)].name;
}

std::string dotted(std::string_view pointer) {
  std::string s(pointer.substr(pointer.starts_with('/') ? 1 : 0));
  for (auto& c : s)
    if (c == '/') c = '.';
  return s;
}

void warn_ignored_keys(const Config& cfg, bool root) {
  for (auto& k : kKeys)
    if (k.set_in && (root ? k.root : k.unprivileged) == Treatment::ignored && k.set_in(cfg)) {
      std::string_view first = k.pointers.substr(0, k.pointers.find(' '));
      log::warn(dotted(first) + " ignored: " + std::string(k.reason));
    }
}

void check_lsm(const Process& proc, const std::string& mount_label, const std::string& where) {
  check_one_lsm("/process/apparmorProfile", proc.apparmor_profile, where);
  check_one_lsm("/process/selinuxLabel", proc.selinux_label, where);
  check_one_lsm("/linux/mountLabel", mount_label, where);
}

bool key_supported(std::string_view pointer, std::string_view value) {
  Treatment t = key_policy(pointer, value).root;
  return t != Treatment::refused && t != Treatment::lsm;
}

}  // namespace nook
