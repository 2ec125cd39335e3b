// The mount option parser and the fallback decisions: pure, no system calls
// (mounts_options_test.cpp). Its tables are what `features` lists (mount_option_names).
#include <sys/mount.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

#include "error.hpp"
#include "keys.hpp"
#include "mounts_internal.hpp"

namespace nook {

namespace {

struct FlagOpt {
  std::string_view name;  // a view: compared length first
  bool clear;
  unsigned long flag;
};

constexpr FlagOpt kFlagOpts[] = {
    {"defaults", false, 0},
    {"rw", true, MS_RDONLY},
    {"ro", false, MS_RDONLY},
    {"suid", true, MS_NOSUID},
    {"nosuid", false, MS_NOSUID},
    {"dev", true, MS_NODEV},
    {"nodev", false, MS_NODEV},
    {"exec", true, MS_NOEXEC},
    {"noexec", false, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"atime", true, MS_NOATIME},
    {"noatime", false, MS_NOATIME},
    {"diratime", true, MS_NODIRATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"lazytime", false, MS_LAZYTIME},
    {"nolazytime", true, MS_LAZYTIME},
    {"silent", false, MS_SILENT},
    {"loud", true, MS_SILENT},
    {"nosymfollow", false, MS_NOSYMFOLLOW},
    {"symfollow", true, MS_NOSYMFOLLOW},
};

struct PropOpt {
  std::string_view name;  // a view: compared length first
  unsigned long flags;
};
constexpr PropOpt kPropOpts[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

struct AttrOpt {
  std::string_view name;  // a view: compared length first
  bool clear;
  uint64_t attr;
  bool atime = false;  // one of the atime modes (MOUNT_ATTR__ATIME is one field, not flags)
};
// The options that are none of the above: what the parser does with each.
struct OtherOpt {
  std::string_view name;  // a view: compared length first
  enum Act { bind, rbind, remount, idmap, ridmap, refuse, ignore } act;
};
constexpr OtherOpt kOtherOpts[] = {
    {"bind", OtherOpt::bind},           {"rbind", OtherOpt::rbind},
    {"remount", OtherOpt::remount},     {"idmap", OtherOpt::idmap},       // ID-mapped mounts
    {"ridmap", OtherOpt::ridmap},       {"tmpcopyup", OtherOpt::ignore},  // crun extensions
    {"copy-symlink", OtherOpt::ignore}, {"notmpcopyup", OtherOpt::ignore},
};

constexpr AttrOpt kAttrOpts[] = {
    {"rro", false, MOUNT_ATTR_RDONLY},
    {"rrw", true, MOUNT_ATTR_RDONLY},
    {"rnosuid", false, MOUNT_ATTR_NOSUID},
    {"rsuid", true, MOUNT_ATTR_NOSUID},
    {"rnodev", false, MOUNT_ATTR_NODEV},
    {"rdev", true, MOUNT_ATTR_NODEV},
    {"rnoexec", false, MOUNT_ATTR_NOEXEC},
    {"rexec", true, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", false, MOUNT_ATTR_NODIRATIME},
    {"rdiratime", true, MOUNT_ATTR_NODIRATIME},
    {"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW},
    {"rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
    // The atime mode, as runc: setting one replaces the mode (MOUNT_ATTR__ATIME goes into
    // attr_clr, mount_setattr(2) requires it); clearing one ("ratime": not noatime) drops it
    // from attr_set, which leaves the kernel's default, relatime, unless another mode is set.
    {"rnoatime", false, MOUNT_ATTR_NOATIME, true},
    {"ratime", true, MOUNT_ATTR_NOATIME, true},
    {"rrelatime", false, MOUNT_ATTR_RELATIME, true},
    {"rnorelatime", true, MOUNT_ATTR_RELATIME, true},
    {"rstrictatime", false, MOUNT_ATTR_STRICTATIME, true},
    {"rnostrictatime", true, MOUNT_ATTR_STRICTATIME, true},
};

bool has_option(const std::string& data, const std::string& key) {
  return data == key || data.rfind(key + "=", 0) == 0 ||
         data.find("," + key + "=") != std::string::npos;
}

}  // namespace

unsigned long rootfs_propagation(const std::string& p) {
  if (p.empty() || p == "rslave") return MS_SLAVE | MS_REC;
  for (auto& e : kPropOpts)
    if (p == e.name) return e.flags;
  return MS_SLAVE | MS_REC;
}

MountFallback mount_fallback(const std::string& type, int err, bool userns,
                             const std::string& data) {
  // gid=5 (tty) cannot be honoured when that group is not mapped; Podman drops it too.
  if (type == "devpts" && (err == EINVAL || err == EPERM) &&
      (has_option(data, "gid") || has_option(data, "uid")))
    return {MountFallback::devpts_without_ids, nullptr, false};
  // Filesystems an unprivileged user namespace may not mount fresh: a recursive bind of the
  // host's instance, read-only throughout only where the fallback itself demands it.
  if (userns && (err == EPERM || err == EACCES)) {
    if (type == "proc") return {MountFallback::bind_host, "/proc", false};
    if (type == "sysfs") return {MountFallback::bind_host, "/sys", true};
    if (type == "mqueue") return {MountFallback::bind_host, "/dev/mqueue", false};
    if (type == "cgroup" || type == "cgroup2")
      return {MountFallback::bind_host, "/sys/fs/cgroup", true};
  }
  return {};
}

MountOptions parse_mount_options(const std::vector<std::string>& opts, const std::string& where) {
  MountOptions o;
  for (auto& opt : opts) {
    bool done = false;
    for (auto& f : kFlagOpts) {
      if (opt != f.name) continue;
      if (f.clear) {
        o.flags &= ~f.flag;
        o.clear |= f.flag;
      } else {
        o.flags |= f.flag;
        o.clear &= ~f.flag;
      }
      if (f.flag & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME | MS_NODIRATIME))
        o.atime_given = true;
      done = true;
      break;
    }
    if (done) continue;
    for (auto& p : kPropOpts)
      if (opt == p.name) {
        o.propagation = p.flags;
        done = true;
        break;
      }
    if (done) continue;
    for (auto& a : kAttrOpts)
      if (opt == a.name) {
        if (a.atime) {
          o.attr_clr |= MOUNT_ATTR__ATIME;
          o.attr_set &= a.clear ? ~a.attr : ~static_cast<uint64_t>(MOUNT_ATTR__ATIME);
          if (!a.clear) o.attr_set |= a.attr;
        } else if (a.clear) {
          o.attr_clr |= a.attr, o.attr_set &= ~a.attr;
        } else {
          o.attr_set |= a.attr, o.attr_clr &= ~a.attr;
        }
        done = true;
        break;
      }
    if (done) continue;
    const OtherOpt* other = nullptr;
    for (auto& x : kOtherOpts)
      if (opt == x.name) other = &x;
    if (!other) {
      if (!o.data.empty()) o.data += ',';
      o.data += opt;
      continue;
    }
    switch (other->act) {
      case OtherOpt::bind:
        o.bind = true;
        break;
      case OtherOpt::rbind:
        o.bind = o.recursive = true;
        break;
      case OtherOpt::remount:
        o.flags |= MS_REMOUNT;
        break;
      case OtherOpt::idmap:
        o.idmap = true;
        o.idmap_recursive = false;
        break;
      case OtherOpt::ridmap:
        o.idmap = o.idmap_recursive = true;
        break;
      case OtherOpt::refuse:
        fail("mount " + where + ": option \"" + opt +
             "\": " + key_reason("/mounts/*/options", opt));
      case OtherOpt::ignore:
        o.ignored.push_back(opt);
        break;
    }
  }
  return o;
}

std::vector<std::string> mount_option_names() {
  std::vector<std::string> out;
  for (auto& f : kFlagOpts) out.emplace_back(f.name);
  for (auto& p : kPropOpts) out.emplace_back(p.name);
  for (auto& a : kAttrOpts) out.emplace_back(a.name);
  for (auto& x : kOtherOpts)
    if (x.act != OtherOpt::refuse && x.act != OtherOpt::ignore) out.emplace_back(x.name);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace nook
