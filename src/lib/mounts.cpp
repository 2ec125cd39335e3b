#include "mounts.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "cgroup.hpp"
#include "error.hpp"
#include "fileio.hpp"
#include "idmap.hpp"
#include "keys.hpp"
#include "log.hpp"
#include "mounts_internal.hpp"
#include "namespaces.hpp"
#include "sync.hpp"
#include "userns.hpp"

namespace nook {

int openat2_retry(int dirfd, const char* path, struct open_how* how) {
  for (int i = 0;; i++) {
    int fd = static_cast<int>(syscall(SYS_openat2, dirfd, path, how, sizeof *how));
    if (fd >= 0 || errno != EAGAIN || i == 64) return fd;
  }
}

std::string fd_path(int fd) {
  return "/proc/self/fd/" + std::to_string(fd);
}

// Flags of the mount at `fd` that an unprivileged user namespace may not clear (they are
// "locked" when the mount was inherited from a more privileged namespace).
unsigned long locked_flags(int fd) {
  struct statvfs sv;
  if (::fstatvfs(fd, &sv) != 0) return 0;
  unsigned long f = 0;
  if (sv.f_flag & ST_RDONLY) f |= MS_RDONLY;
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

[[noreturn]] void mount_fail(const char* what, const Mount& m, int err) {
  throw Error(sys_message(std::string("mount ") + what, m.destination, err), err);
}

namespace {

// `path` opened O_PATH inside the root; an empty Fd when it does not exist.
Fd open_existing_in_root(int rootfd, const std::string& path) {
  struct open_how how = {};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  int fd = openat2_retry(rootfd, path.c_str(), &how);
  if (fd < 0 && errno != ENOENT) throw_sys("open (in container root)", path);
  return Fd(fd);
}

// Remounts the bind mount at `target` with `flags`; in a user namespace retries keeping the
// locked flags of the source (the kernel refuses to clear them, EPERM).
void remount_bind(const std::string& target, int fd, unsigned long flags, const Mount& m) {
  unsigned long f = MS_REMOUNT | MS_BIND | flags;
  if (::mount(nullptr, target.c_str(), nullptr, f, nullptr) == 0) return;
  int e = errno;
  if (e == EPERM) {
    unsigned long locked = locked_flags(fd) & ~MS_RDONLY;
    // atime flags are one field: keep the source's if it has one and we did not choose.
    if (::mount(nullptr, target.c_str(), nullptr, f | locked, nullptr) == 0) return;
    e = errno;
  }
  mount_fail("(remount)", m, e);
}

void set_propagation(const std::string& target, unsigned long prop, const Mount& m) {
  if (prop && ::mount(nullptr, target.c_str(), nullptr, prop, nullptr) != 0)
    mount_fail("(propagation)", m, errno);
}

// The recursive attributes (rro, rnosuid, rnoatime, ...) on every mount of the tree at `fd`.
// In a user namespace the kernel locks the atime mode of every mount that came from a more
// privileged mount namespace (the host's) and refuses to change it (EPERM): the mode is then
// kept as it is, with a log line, and the other attributes are applied.
void set_attrs(int fd, const MountOptions& o, const Mount& m) {
  if (!o.attr_set && !o.attr_clr) return;
  struct mount_attr attr = {};
  attr.attr_set = o.attr_set;
  attr.attr_clr = o.attr_clr;
  if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) == 0)
    return;
  int e = errno;
  if (e != EPERM || !(attr.attr_clr & MOUNT_ATTR__ATIME)) mount_fail("(mount_setattr)", m, e);
  log::info("mount " + m.destination +
            ": recursive atime option not applied: the atime mode of mounts from the host is "
            "locked in this user namespace (mount_setattr: EPERM); kept as it is");
  attr.attr_set &= ~static_cast<uint64_t>(MOUNT_ATTR__ATIME);
  attr.attr_clr &= ~static_cast<uint64_t>(MOUNT_ATTR__ATIME);
  if ((attr.attr_set || attr.attr_clr) &&
      syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0)
    mount_fail("(mount_setattr)", m, errno);
}

// Binds host `source` onto the open target `fd`.
void bind_onto(const std::string& source, int fd, bool recursive, const Mount& m) {
  std::string target = fd_path(fd);
  if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND | (recursive ? MS_REC : 0),
              nullptr) != 0)
    mount_fail(("(bind " + source + ")").c_str(), m, errno);
}

// Drops `key=...` from a comma-separated option string.
std::string drop_option(const std::string& data, const std::string& key) {
  std::string out;
  size_t i = 0;
  while (i <= data.size()) {
    size_t j = data.find(',', i);
    if (j == std::string::npos) j = data.size();
    std::string opt = data.substr(i, j - i);
    if (opt.rfind(key + "=", 0) != 0 && !opt.empty()) {
      if (!out.empty()) out += ',';
      out += opt;
    }
    i = j + 1;
  }
  return out;
}

// The per-mount flags of a bind (ro, nosuid, nodev, noexec, nodiratime, nosymfollow, the
// atime mode) as mount_setattr(2) attributes for the top mount of the new tree.
mount_attr bind_attrs(const MountOptions& o) {
  auto attrs = [](unsigned long ms) {
    uint64_t a = 0;
    if (ms & MS_RDONLY) a |= MOUNT_ATTR_RDONLY;
    if (ms & MS_NOSUID) a |= MOUNT_ATTR_NOSUID;
    if (ms & MS_NODEV) a |= MOUNT_ATTR_NODEV;
    if (ms & MS_NOEXEC) a |= MOUNT_ATTR_NOEXEC;
    if (ms & MS_NODIRATIME) a |= MOUNT_ATTR_NODIRATIME;
    if (ms & MS_NOSYMFOLLOW) a |= MOUNT_ATTR_NOSYMFOLLOW;
    return a;
  };
  mount_attr a = {};
  a.attr_set = attrs(o.flags);
  a.attr_clr = attrs(o.clear);
  // The atime mode is one field: noatime, strictatime or relatime replace it; clearing one
  // of them ("atime", "nostrictatime") returns to the default, relatime.
  if (o.flags & MS_NOATIME)
    a.attr_set |= MOUNT_ATTR_NOATIME;
  else if (o.flags & MS_STRICTATIME)
    a.attr_set |= MOUNT_ATTR_STRICTATIME;
  if ((o.flags | o.clear) & (MS_NOATIME | MS_STRICTATIME | MS_RELATIME))
    a.attr_clr |= MOUNT_ATTR__ATIME;
  return a;
}

// What the config's mount loop carries from one mount to the next (setup_rootfs).
struct MountWalk {
  Fd cwd;         // the working directory before the first plain bind changed it
  FdBatch spent;  // destinations of plain binds, closed together
};

// A bind mount with the new mount API: the source tree is cloned (open_tree; recursively for
// rbind), its flags and propagation set while it is still detached (mount_setattr), and it is
// attached to the destination opened inside the rootfs (move_mount). No path is resolved
// twice and no /proc/self/fd path is walked. In a user namespace the kernel refuses to clear
// flags the source's mount has locked (EPERM); they are then kept, as runc does.
//
// A plain bind (no flags, no propagation: "bind", "rbind", as Buildah and ctr send most of
// theirs) onto an existing directory takes a shorter way: the destination, opened inside the
// rootfs, becomes the working directory and the source is mounted onto "." (no detached tree
// to allocate and free: 3 system calls instead of 5, ~3 us less per mount on this project's
// VM). `walk->cwd` keeps the caller's working directory for setup_rootfs to return to, and
// the destination's descriptor goes to `walk->spent`, closed with the others in one
// close_range (one system call fewer per mount).
//
// `source_fd`, when not -1, is the source opened by the parent (send_bind_sources): it is
// cloned from the descriptor, the path is not looked up again. For an ID-mapped mount
// (`idmapped`) it is the detached tree itself, cloned and ID-mapped by the parent
// (idmap.hpp): it only gets its flags and propagation here, and is attached.
void bind_mount(int rootfd, const Mount& m, const MountOptions& o, const std::string& source,
                MountWalk* walk, int source_fd, bool idmapped) {
  mount_attr a = bind_attrs(o);
  bool plain =
      !a.attr_set && !a.attr_clr && !o.attr_set && !o.attr_clr && !o.propagation && source_fd < 0;
  if (idmapped && source_fd < 0)  // the parent sends every ID-mapped tree before GO
    fail("mount " + m.destination + ": the ID-mapped tree of " + source + " was not received");
  // Most destinations exist: the source's type is looked at only to create a missing one.
  Fd target = open_existing_in_root(rootfd, m.destination);
  if (plain && target) {
    Fd& cwd = walk->cwd;
    if (!cwd) cwd.reset(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (cwd && ::fchdir(target.get()) == 0 &&
        ::mount(source.c_str(), ".", nullptr, MS_BIND | (o.recursive ? MS_REC : 0), nullptr) == 0) {
      walk->spent.add(std::move(target));  // closed with the others: one close_range
      return;
    }
    // not a directory (a file bound onto a file), or an error the general way reports exactly
  }
  unsigned otf = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (o.recursive ? AT_RECURSIVE : 0);
  Fd tree(static_cast<int>(idmapped ? ::fcntl(source_fd, F_DUPFD_CLOEXEC, 0)
                           : source_fd >= 0
                               ? syscall(SYS_open_tree, source_fd, "", otf | AT_EMPTY_PATH)
                               : syscall(SYS_open_tree, AT_FDCWD, source.c_str(), otf)));
  if (!tree) {
    if (errno == ENOENT || errno == ENOTDIR || errno == EACCES)
      throw_sys("mount " + m.destination + ": source", source);
    mount_fail(("(bind " + source + ")").c_str(), m, errno);
  }
  if (!target) {
    struct stat st;
    if (::fstat(tree.get(), &st) != 0) throw_sys("stat", source);
    target = open_in_root(rootfd, m.destination, true, !S_ISDIR(st.st_mode), false);
  }

  if (a.attr_set || a.attr_clr) {
    if (syscall(SYS_mount_setattr, tree.get(), "", AT_EMPTY_PATH, &a, sizeof a) != 0) {
      int e = errno;
      if (e != EPERM) mount_fail("(mount_setattr)", m, e);
      // Keep what the source has locked: do not clear its flags or change its atime mode.
      a.attr_clr &= ~(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                      MOUNT_ATTR__ATIME | MOUNT_ATTR_NODIRATIME);
      a.attr_set &= ~MOUNT_ATTR__ATIME;
      if (syscall(SYS_mount_setattr, tree.get(), "", AT_EMPTY_PATH, &a, sizeof a) != 0)
        mount_fail("(mount_setattr)", m, errno);
    }
  }
  if (o.attr_set || o.attr_clr) set_attrs(tree.get(), o, m);  // rro, rnoatime, ...: every mount
  // Propagation too is set on the detached tree (its new parent in the container is a slave or
  // private mount, so attaching it changes nothing); a kernel that refuses that for a detached
  // tree gets it after the attach, through the descriptor's /proc path.
  bool prop_pending = o.propagation != 0;
  if (prop_pending) {
    mount_attr pa = {};
    pa.propagation = o.propagation & ~static_cast<unsigned long>(MS_REC);
    unsigned fl = AT_EMPTY_PATH | ((o.propagation & MS_REC) ? AT_RECURSIVE : 0);
    if (syscall(SYS_mount_setattr, tree.get(), "", fl, &pa, sizeof pa) == 0)
      prop_pending = false;
    else if (errno != EINVAL)
      mount_fail("(propagation)", m, errno);
  }
  if (syscall(SYS_move_mount, tree.get(), "", target.get(), "",
              MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
    mount_fail(("(bind " + source + ")").c_str(), m, errno);
  // Attached now; the tree descriptor addresses the new mount.
  if (prop_pending) set_propagation(fd_path(tree.get()), o.propagation, m);
}

// Recursively binds the host's `host` tree onto the open `target` (the cgroup v1 host's
// /sys/fs/cgroup, and the unprivileged fallbacks for proc, sysfs, mqueue and cgroup): `flags`
// (ro, nosuid, nodev, noexec) on its top mount, read-only on every submount too when
// `all_ro`, then the mount's propagation.
void bind_host_tree(const char* host, int target, int rootfd, const Mount& m, unsigned long flags,
                    bool all_ro, unsigned long propagation) {
  bind_onto(host, target, true, m);
  Fd top = open_in_root(rootfd, m.destination, false, false);
  unsigned long rf = flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
  if (rf) remount_bind(fd_path(top.get()), top.get(), rf, m);
  if (all_ro) {
    struct mount_attr attr = {};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    syscall(SYS_mount_setattr, top.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr);
  }
  set_propagation(fd_path(top.get()), propagation, m);
}

// The container's view of a cgroup v1 (or hybrid) host, as runc and crun mount it: a tmpfs at
// the destination with one directory per hierarchy of the host's /sys/fs/cgroup, each showing
// the container's own cgroup there, so that limits read inside (memory.limit_in_bytes, what
// JVMs and Go runtimes size themselves by) are the container's and the host's other groups
// are out of sight. With a cgroup namespace of its own, a fresh mount of each hierarchy (its
// root is the namespace's cgroup, which the parent placed us in before GO); else a bind of the
// own cgroup directory. The host's symlinks (cpu -> cpu,cpuacct) are copied. Only as root in
// the initial user namespace; false (nothing mounted) when the host's tree is not the standard
// layout, and the caller then binds the host's /sys/fs/cgroup as before.
bool mount_cgroup_v1_view(const FsPlan& plan, int rootfd, const Mount& m, int target,
                          unsigned long flags) {
  if (plan.userns) return false;
  auto own = cgroup_parse_proc(read_file("/proc/self/cgroup").value_or(""));
  // The standard layout: /sys/fs/cgroup/<name>, a v1 hierarchy of the controllers its name
  // lists ("cpu,cpuacct"; "systemd" is "name=systemd"), or cgroup2 ("unified").
  std::vector<CgroupMount> hier;
  std::vector<std::pair<std::string, std::string>> aliases;  // "cpu" -> "cpu,cpuacct", ...
  if (DIR* d = ::opendir("/sys/fs/cgroup")) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_type == DT_LNK) {
        char link[256];
        ssize_t n = ::readlinkat(::dirfd(d), e->d_name, link, sizeof link - 1);
        if (n > 0) aliases.emplace_back(e->d_name, std::string(link, static_cast<size_t>(n)));
        continue;
      }
      if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
      std::string name = e->d_name;
      struct statfs sf;
      if (::statfs(("/sys/fs/cgroup/" + name).c_str(), &sf) != 0) continue;
      CgroupMount cm;
      cm.mountpoint = "/sys/fs/cgroup/" + name;
      cm.root = "/";
      if (sf.f_type == CGROUP2_SUPER_MAGIC) {
        cm.v2 = true;
      } else if (sf.f_type == CGROUP_SUPER_MAGIC) {
        bool named = std::any_of(own.begin(), own.end(),
                                 [&](auto& kv) { return kv.first == "name=" + name; });
        cm.controllers = {named ? "name=" + name : name};
      } else {
        continue;
      }
      hier.push_back(cm);
    }
    ::closedir(d);
  }
  if (hier.empty()) return false;

  unsigned long f = flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
  if (::mount("tmpfs", fd_path(target).c_str(), "tmpfs", f, "mode=755") != 0)
    mount_fail("(tmpfs for the cgroup v1 view)", m, errno);
  Fd top = open_in_root(rootfd, m.destination, false, false);
  std::string top_path = fd_path(top.get());
  for (auto& cm : hier) {
    std::string name = cm.mountpoint.substr(15);
    if (::mkdirat(top.get(), name.c_str(), 0555) != 0)
      mount_fail(("(mkdir " + name + ")").c_str(), m, errno);
    std::string dst = top_path + "/" + name;
    unsigned long mf = f | (flags & MS_RDONLY);
    std::string opts;
    for (auto& c : cm.controllers) opts += (opts.empty() ? "" : ",") + c;
    int rc = -1;
    if (plan.new_cgroupns) {
      if (cm.v2)
        rc = ::mount("cgroup2", dst.c_str(), "cgroup2", mf, nullptr);
      else
        rc = ::mount("cgroup", dst.c_str(), "cgroup", mf,
                     (opts.rfind("name=", 0) == 0 ? "none," + opts : opts).c_str());
      if (rc != 0)
        log::debug("mount " + m.destination + "/" + name + ": " + std::strerror(errno) +
                   "; binding the own cgroup instead");
    }
    if (rc != 0) {
      std::string path = "/";
      for (auto& [key, p] : own)
        if (key == (cm.v2 ? "" : opts)) path = p;
      std::string src = cgroup_dir(cm, path);
      Fd dir(::openat(top.get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!dir) mount_fail(("(open " + name + ")").c_str(), m, errno);
      bind_onto(src, dir.get(), false, m);
      if (mf) remount_bind(dst, dir.get(), mf, m);
    }
  }
  // The host's aliases, read in the same pass over /sys/fs/cgroup.
  for (auto& [name, link] : aliases)
    if (::symlinkat(link.c_str(), top.get(), name.c_str()) != 0 && errno != EEXIST)
      log::debug("cgroup v1 view: symlink " + name + ": " + std::strerror(errno));
  if ((flags & MS_RDONLY) && ::mount(nullptr, top_path.c_str(), nullptr,
                                     MS_REMOUNT | MS_BIND | MS_RDONLY | f, nullptr) != 0)
    mount_fail("(read-only cgroup v1 view)", m, errno);
  return true;
}

void mount_one(const FsPlan& plan, int rootfd, const Mount& m, MountWalk* walk, int source_fd) {
  MountOptions o = parse_mount_options(m.options, m.destination);
  bool bind = o.bind || m.type == "bind";
  const std::string& type = m.type;
  for (auto& ign : o.ignored)
    log::debug("mount " + m.destination + ": option \"" + ign + "\" accepted and not applied");

  if (bind) {
    std::string joined;  // a relative source is the bundle's
    const std::string& source = !m.source.empty() && m.source[0] != '/'
                                    ? (joined = plan.bundle + "/" + m.source)
                                    : m.source;
    bind_mount(rootfd, m, o, source, walk, source_fd, o.idmap || !m.uid_mappings.empty());
    return;
  }
  // proc and sysfs must land on a real directory: a symlink placed there by the image could
  // otherwise redirect them (CVE-2019-19921).
  bool strict = type == "proc" || type == "sysfs";
  Fd target = open_in_root(rootfd, m.destination, true, false, strict);
  std::string tpath = fd_path(target.get());

  std::string data = o.data;
  unsigned long flags = o.flags;
  if (type == "cgroup" || type == "cgroup2") {
    // One cgroup2 mount on a unified host. On a cgroup v1 or hybrid host the hierarchies are
    // many mounts; bind the host's tree (recursively), as a fresh v1 mount of all
    // controllers together is refused when they are already mounted apart.
    struct statfs sfs;
    if (::statfs("/sys/fs/cgroup", &sfs) != 0 || sfs.f_type != CGROUP2_SUPER_MAGIC) {
      if (mount_cgroup_v1_view(plan, rootfd, m, target.get(), flags)) return;
      log::debug("mount " + m.destination + ": cgroup v1 host: binding /sys/fs/cgroup");
      bind_host_tree("/sys/fs/cgroup", target.get(), rootfd, m, flags, flags & MS_RDONLY,
                     o.propagation);
      return;
    }
  }
  const char* fstype = type == "cgroup" ? "cgroup2" : type.c_str();
  int rc = ::mount(m.source.empty() ? type.c_str() : m.source.c_str(), tpath.c_str(), fstype, flags,
                   data.empty() ? nullptr : data.c_str());
  int e = rc == 0 ? 0 : errno;
  MountFallback fb = rc == 0 ? MountFallback{} : mount_fallback(type, e, plan.userns, data);
  if (fb.kind == MountFallback::devpts_without_ids) {
    std::string d2 = drop_option(drop_option(data, "gid"), "uid");
    log::info("mount " + m.destination +
              ": devpts uid=/gid= dropped: ID not mapped in the container");
    rc = ::mount(m.source.c_str(), tpath.c_str(), "devpts", flags,
                 d2.empty() ? nullptr : d2.c_str());
    e = rc == 0 ? 0 : errno;
    fb = rc == 0 ? MountFallback{} : mount_fallback(type, e, plan.userns, d2);
  }
  if (fb.kind == MountFallback::bind_host) {
    log::info("mount " + m.destination + ": " + type + " not allowed here (" + std::strerror(e) +
              "); bind-mounting the host's " + fb.host + " instead");
    bind_host_tree(fb.host, target.get(), rootfd, m, flags | (fb.read_only ? MS_RDONLY : 0),
                   fb.read_only, o.propagation);
    return;
  }
  if (rc != 0) mount_fail(("(" + type + ")").c_str(), m, e);
  if (o.attr_set || o.attr_clr || o.propagation) {
    Fd top = open_in_root(rootfd, m.destination, false, false);
    set_attrs(top.get(), o, m);
    set_propagation(fd_path(top.get()), o.propagation, m);
  }
}

// open_in_root with a bound on how many dangling symlinks it creates the targets of (a link
// cycle such as a -> b, b -> a would otherwise recurse for ever).
Fd open_in_root_at_depth(int rootfd, const std::string& path, bool create, bool file,
                         bool no_symlinks, int depth) {
  struct open_how how = {};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | (no_symlinks ? RESOLVE_NO_SYMLINKS : 0);
  auto try_open = [&](const std::string& p) { return openat2_retry(rootfd, p.c_str(), &how); };
  int fd = try_open(path);
  if (fd >= 0) return Fd(fd);
  if (errno == ELOOP && no_symlinks)
    fail("mount destination " + path + " is or passes through a symlink; refusing to mount there");
  if (errno != ENOENT || !create) throw_sys("open (in container root)", path);
  // Mostly only the last component is missing (/dev/pts in a fresh /dev): create it in its
  // parent, resolved inside the root too. Anything else (a missing parent, a dangling
  // symlink, an error) is left to the walk below, which also reports it.
  if (auto slash = path.rfind('/'); slash != std::string::npos) {
    std::string base = path.substr(slash + 1);
    Fd dir(base.empty() || base == "." || base == ".." ? -1 : try_open(path.substr(0, slash + 1)));
    if (dir) {
      int made = file ? ::openat(dir.get(), base.c_str(),
                                 O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644)
                      : ::mkdirat(dir.get(), base.c_str(), 0755);
      if (file && made >= 0) ::close(made);
      if (made >= 0 && (fd = try_open(path)) >= 0) return Fd(fd);
    }
  }
  // Walk down, creating what is missing. Each parent is resolved inside the root, so a
  // symlink on the way cannot lead out of it; the new entry is created in that parent.
  Fd parent(::dup(rootfd));
  if (!parent) throw_sys("dup", path);
  std::string prefix;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') i++;
    if (i >= path.size()) break;
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string comp = path.substr(i, j - i);
    std::string parent_prefix = prefix;
    prefix += "/" + comp;
    bool last = j >= path.size() || path.find_first_not_of('/', j) == std::string::npos;
    int next = try_open(prefix);
    if (next < 0) {
      if (errno == ELOOP && no_symlinks)
        fail("mount destination " + path +
             " is or passes through a symlink; refusing to mount there");
      if (errno != ENOENT) throw_sys("open (in container root)", prefix);
      if (comp == "..") throw_sys("open (in container root)", prefix, ENOENT);
      if (last && file) {
        int f = ::openat(parent.get(), comp.c_str(),
                         O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (f < 0 && errno != EEXIST) throw_sys("create mount point", prefix);
        if (f >= 0) ::close(f);
      } else if (::mkdirat(parent.get(), comp.c_str(), 0755) != 0 && errno != EEXIST) {
        throw_sys("mkdir", prefix);
      }
      next = try_open(prefix);
      if (next < 0 && errno == ENOENT) {
        // A dangling symlink: create its target, resolved inside the root like everything
        // else (an absolute target is relative to the container's root, as it will be
        // once the container runs), then go through the link.
        char target[4096];
        ssize_t n = ::readlinkat(parent.get(), comp.c_str(), target, sizeof target - 1);
        if (n <= 0) fail("mount destination " + path + ": " + prefix + " cannot be created");
        if (depth >= 40)
          fail("mount destination " + path + ": too many levels of dangling symlinks at " + prefix);
        target[n] = 0;
        std::string t = target[0] == '/' ? std::string(target) : parent_prefix + "/" + target;
        open_in_root_at_depth(rootfd, t, true, last && file, no_symlinks, depth + 1);
        next = try_open(prefix);
      }
      if (next < 0) throw_sys("open (in container root)", prefix);
    }
    parent.reset(next);
    i = j;
  }
  return parent;
}
}  // namespace

Fd open_in_root(int rootfd, const std::string& path, bool create, bool file, bool no_symlinks) {
  return open_in_root_at_depth(rootfd, path, create, file, no_symlinks, 0);
}

bool mount_is_bind(const Mount& m) {
  return m.type == "bind" ||
         std::any_of(m.options.begin(), m.options.end(),
                     [](const std::string& o) { return o == "bind" || o == "rbind"; });
}

void send_bind_sources(const Config& cfg, const std::string& bundle, const IdPlan& ids, pid_t child,
                       int channel) {
  // Only a privileged caller reaches more than the container's root (an unprivileged caller
  // is that root's host ID, with less rights than it has in its namespace), and only into a
  // mount namespace made for the child (a joined one is entered after GO). ID-mapped mounts
  // are always made here (idmap.hpp); an unprivileged caller's were refused at create.
  bool open_sources = ids.new_userns && ids.privileged && cfg.linux.own_ns(NsType::mount);
  if (!open_sources && std::none_of(cfg.mounts.begin(), cfg.mounts.end(), mount_idmapped)) return;
  const std::string& rootfs = cfg.root.path;
  Fd root;
  std::optional<IdmapTrees> idmap;
  std::string index;
  std::vector<Fd> fds;
  auto flush = [&] {
    std::vector<int> raw;
    for (auto& f : fds) raw.push_back(f.get());
    if (!raw.empty() && !sync::send(channel, sync::kBindSources, index, raw))
      fail("container process exited during set-up");
    index.clear();
    fds.clear();
  };
  for (size_t i = 0; i < cfg.mounts.size(); i++) {
    const Mount& m = cfg.mounts[i];
    if (m.source.empty() || !mount_is_bind(m)) continue;
    std::string source = m.source[0] == '/' ? m.source : bundle + "/" + m.source;
    if (mount_idmapped(m)) {
      if (!idmap) idmap.emplace(ids, child);
      index += (index.empty() ? "" : ",") + std::to_string(i);
      fds.push_back(idmap->tree(m, source));
      if (fds.size() == sync::kMaxFds) flush();
      continue;
    }
    if (!open_sources) continue;
    // The image's files: resolved by the container, after the mounts before this one.
    if (source.size() > rootfs.size() && source.compare(0, rootfs.size(), rootfs) == 0 &&
        source[rootfs.size()] == '/')
      continue;
    if (!root) {
      root = Fd(::open(("/proc/" + std::to_string(child) + "/root").c_str(),
                       O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!root) {
        log::debug(sys_message("open", "/proc/" + std::to_string(child) + "/root", errno) +
                   ": bind sources are opened by the container");
        return;
      }
    }
    size_t start = source.find_first_not_of('/');
    std::string rel = start == std::string::npos ? "." : source.substr(start);
    struct open_how how = {};
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    Fd fd(openat2_retry(root.get(), rel.c_str(), &how));
    if (!fd) {
      log::debug(sys_message("open", source, errno) + ": mount " + m.destination +
                 ": the container resolves the source");
      continue;
    }
    index += (index.empty() ? "" : ",") + std::to_string(i);
    fds.push_back(std::move(fd));
    if (fds.size() == sync::kMaxFds) flush();
  }
  flush();
}

void take_bind_sources(const std::string& payload, const std::vector<int>& fds, int min_fd,
                       size_t mounts, std::vector<Fd>& out) {
  out.resize(mounts);
  size_t k = 0, pos = 0;
  while (pos < payload.size() && k < fds.size()) {
    size_t end = payload.find(',', pos);
    if (end == std::string::npos) end = payload.size();
    size_t i = std::strtoul(payload.substr(pos, end - pos).c_str(), nullptr, 10);
    Fd fd = raise_fd(Fd(fds[k++]), min_fd);
    if (i < mounts) out[i] = std::move(fd);
    pos = end + 1;
  }
  for (; k < fds.size(); k++) ::close(fds[k]);
}

void setup_rootfs(const FsPlan& plan) {
  const Config& cfg = *plan.cfg;
  // 1. Stop mount events from leaving this namespace: make every mount a slave (or what
  //    linux.rootfsPropagation asks). pivot_root also needs the old root not to be shared.
  //    Always recursively: a non-recursive "private" would leave the mounts below "/" (the
  //    rootfs among them) shared with the host, so the container's mounts would appear on
  //    the host and pivot_root would refuse the shared rootfs. "shared" and "unbindable"
  //    cannot be set before pivot_root (a shared or unbindable rootfs cannot be bound or
  //    pivoted into): the tree is made a slave or private first and the rootfs gets its
  //    final propagation in enter_rootfs.
  unsigned long prop = rootfs_propagation(cfg.linux.rootfs_propagation);
  unsigned long first = (prop & MS_SHARED)       ? (MS_SLAVE | MS_REC)
                        : (prop & MS_UNBINDABLE) ? (MS_PRIVATE | MS_REC)
                                                 : (prop | MS_REC);
  if (::mount(nullptr, "/", nullptr, first, nullptr) != 0) throw_sys("mount (make / private)", "/");
  // 2. The new root must be a mount point for pivot_root: bind the rootfs onto itself.
  const std::string& rootfs = cfg.root.path;
  if (::mount(rootfs.c_str(), rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
    throw_sys("mount (bind rootfs)", rootfs);
  Fd rootfd(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!rootfd) throw_sys("open rootfs", rootfs);
  // 3. The config's mounts, in order, each resolved inside the rootfs.
  bool dev_is_ours = false;
  MountWalk walk;  // a plain bind mounts onto "." (bind_mount)
  for (size_t i = 0; i < cfg.mounts.size(); i++) {
    const Mount& m = cfg.mounts[i];
    int source_fd =
        plan.bind_sources && i < plan.bind_sources->size() ? (*plan.bind_sources)[i].get() : -1;
    mount_one(plan, rootfd.get(), m, &walk, source_fd);
    if (m.destination == "/dev" || m.destination == "/dev/") dev_is_ours = true;
  }
  walk.spent.flush();
  if (walk.cwd && ::fchdir(walk.cwd.get()) != 0) throw_sys("fchdir", "(working directory)");
  // 4. Devices.
  setup_dev(plan, rootfd.get(), dev_is_ours);
  // 5. The working directory exists (as runc, create it when missing).
  if (cfg.process) open_in_root(rootfd.get(), cfg.process->cwd, true, false);
}

void chroot_rootfs(const std::string& rootfs) {
  Fd top(::open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!top || ::fchdir(top.get()) != 0) throw_sys("chdir", rootfs);
  if (::chroot(".") != 0) throw_sys("chroot", rootfs);
  if (::chdir("/") != 0) throw_sys("chdir", "/");
}

void enter_rootfs(const FsPlan& plan) {
  const std::string& rootfs = plan.cfg->root.path;
  // 6. Switch root. pivot_root(".", ".") stacks the old root on top of the new one at "/";
  //    detaching it leaves only the container's tree, with no directory for old root needed.
  Fd top(::open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!top || ::fchdir(top.get()) != 0) throw_sys("chdir", rootfs);
  if (plan.no_pivot) {
    if (::mount(".", "/", nullptr, MS_MOVE, nullptr) != 0) throw_sys("mount (move rootfs)", rootfs);
    if (::chroot(".") != 0) throw_sys("chroot", rootfs);
  } else {
    if (syscall(SYS_pivot_root, ".", ".") != 0) throw_sys("pivot_root", rootfs);
    if (::umount2(".", MNT_DETACH) != 0) throw_sys("umount (old root)", "/");
  }
  if (::chdir("/") != 0) throw_sys("chdir", "/");
  // linux.rootfsPropagation shared or unbindable: now that "/" is the rootfs.
  unsigned long prop = rootfs_propagation(plan.cfg->linux.rootfs_propagation);
  if ((prop & (MS_SHARED | MS_UNBINDABLE)) && ::mount(nullptr, "/", nullptr, prop, nullptr) != 0)
    throw_sys("mount (rootfs propagation)", "/");
}

}  // namespace nook
