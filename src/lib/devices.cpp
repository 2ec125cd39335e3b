// Device nodes in the container's /dev (mounts.hpp): the spec's default devices and
// linux.devices, made by mknod or bound from the host's /dev, and the parent's record of the
// nodes a failed create must remove from an image's own /dev again.
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdio>

#include "error.hpp"
#include "log.hpp"
#include "mounts.hpp"
#include "mounts_internal.hpp"

namespace nook {
namespace {

struct DefaultDev {
  const char* name;
  unsigned major, minor;
};
constexpr DefaultDev kDefaultDevices[] = {{"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
                                          {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};

}  // namespace

const char* file_kind(mode_t m) {
  switch (m & S_IFMT) {
    case S_IFDIR:
      return "directory";
    case S_IFLNK:
      return "symlink";
    case S_IFCHR:
      return "character device";
    case S_IFBLK:
      return "block device";
    case S_IFIFO:
      return "fifo";
    case S_IFSOCK:
      return "socket";
    default:
      return "regular file";
  }
}

namespace {

// Creates one device node at `path` (inside the root), by mknod or, where that is not
// allowed, by bind-mounting the host's node onto an empty file.
//
// Whatever is already at `path` must be the very device asked for (runtime-spec: a file that
// does not match is an error), or an empty regular file: the mount point a bind fallback left
// in the rootfs on an earlier run. A symlink there is never followed (it could point out of
// the rootfs) and is refused like any other mismatch.
// `dev` is the container's /dev when the caller has it open already (-1 if not).
void make_device(const FsPlan& plan, int rootfd, int dev, const std::string& path, char type,
                 unsigned major, unsigned minor, mode_t mode, uid_t uid, gid_t gid) {
  mode_t fmt = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;
  // Parent directory, resolved inside the root.
  auto slash = path.rfind('/');
  std::string dir = path.substr(0, slash == 0 ? 1 : slash), base = path.substr(slash + 1);
  if (base.empty() || base == "." || base == "..") fail("device " + path + ": not a file name");
  Fd opened;
  if (dev < 0 || dir != "/dev") {
    opened = open_in_root(rootfd, dir, true, false);
    dev = opened.get();
  }
  struct stat cur;
  bool exists = ::fstatat(dev, base.c_str(), &cur, AT_SYMLINK_NOFOLLOW) == 0;
  bool placeholder = exists && S_ISREG(cur.st_mode) && cur.st_size == 0;
  if (exists && !placeholder) {
    bool same =
        (cur.st_mode & S_IFMT) == fmt && (type == 'p' || cur.st_rdev == makedev(major, minor));
    if (!same)
      fail("device " + path + ": a " + file_kind(cur.st_mode) +
           " already exists there and is not the requested device");
    // The node is already right (an image's /dev, or the host's /dev bound there): keep it
    // untouched. Replacing or re-owning it could change the host's node.
    log::debug("device " + path + ": the node already exists; kept as it is");
    return;
  }
  if (plan.can_mknod || type == 'p') {
    if (placeholder && ::unlinkat(dev, base.c_str(), 0) != 0) throw_sys("unlink", path);
    if (::mknodat(dev, base.c_str(), fmt | (mode & 07777), makedev(major, minor)) == 0) {
      if (::fchownat(dev, base.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
        throw_sys("chown", path);
      return;
    }
    // EPERM: no CAP_MKNOD over the initial user namespace after all; bind the host's node.
    if (errno != EPERM || type == 'p') throw_sys("mknod", path);
  }
  // Bind the host's device: find it by number under /dev. Mode and owner are the host's.
  std::string host = path;
  struct stat st;
  if (::stat(host.c_str(), &st) != 0 || (st.st_mode & S_IFMT) != fmt ||
      major(st.st_rdev) != major || minor(st.st_rdev) != minor) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "/dev/%s/%u:%u", type == 'b' ? "block" : "char", major, minor);
    host = buf;
    if (::stat(host.c_str(), &st) != 0) {
      // No /dev/char (no udev): look for a node with that number directly in /dev.
      host.clear();
      if (DIR* d = ::opendir("/dev")) {
        while (struct dirent* e = ::readdir(d)) {
          std::string cand = std::string("/dev/") + e->d_name;
          struct stat cs;
          if (::lstat(cand.c_str(), &cs) == 0 && (cs.st_mode & S_IFMT) == fmt &&
              cs.st_rdev == makedev(major, minor)) {
            host = cand;
            break;
          }
        }
        ::closedir(d);
      }
    }
    if (host.empty())
      fail("device " + path + " (" + std::to_string(major) + ":" + std::to_string(minor) +
           "): mknod is not allowed in a user namespace and the host has no such device to bind");
  }
  Fd f(::openat(dev, base.c_str(),
                O_WRONLY | O_CREAT | (placeholder ? 0 : O_EXCL) | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!f) throw_sys("create", path);
  std::string target = fd_path(f.get());
  if (::mount(host.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0)
    throw_sys("mount (bind " + host + ")", path);
  log::debug("device " + path + ": bind-mounted from the host's " + host +
             " (mknod is not allowed here; mode and owner are the host's)");
}

// `path` (absolute, in the container's terms) opened O_PATH below the bundle's rootfs `root`
// with RESOLVE_IN_ROOT: never outside it, whatever the image's symlinks say. An empty Fd with
// errno set when it cannot be.
Fd open_in_rootfs(int root, const std::string& path, int flags) {
  struct open_how how = {};
  how.flags = O_PATH | O_CLOEXEC | static_cast<unsigned>(flags);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return Fd(openat2_retry(root, path.c_str(), &how));
}

}  // namespace

std::vector<std::string> absent_device_nodes(const Config& cfg) {
  std::vector<std::string> out;
  if (!cfg.linux.find_ns(NsType::mount)) return out;  // no /dev is made without one (init.cpp)
  for (auto& m : cfg.mounts)
    if (m.destination == "/dev" || m.destination == "/dev/") return out;  // a tmpfs of ours
  std::vector<std::string> paths;
  for (auto& d : kDefaultDevices) paths.push_back(std::string("/dev/") + d.name);
  for (auto& d : cfg.linux.devices) paths.push_back(d.path);
  Fd root(::open(cfg.root.path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return out;
  for (auto& p : paths)
    if (!open_in_rootfs(root.get(), p, O_NOFOLLOW) && errno == ENOENT) out.push_back(p);
  return out;
}

void remove_device_nodes(const std::string& rootfs, const std::vector<std::string>& paths) {
  Fd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return;
  for (auto& p : paths) {
    auto slash = p.rfind('/');
    std::string dir = p.substr(0, slash == 0 ? 1 : slash), base = p.substr(slash + 1);
    Fd d = open_in_rootfs(root.get(), dir, O_DIRECTORY);
    struct stat st;
    if (!d || ::fstatat(d.get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    // What set-up makes there: a node, or the empty file a host device was bound onto.
    bool ours = S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode) ||
                (S_ISREG(st.st_mode) && st.st_size == 0);
    if (ours && ::unlinkat(d.get(), base.c_str(), 0) != 0)
      log::debug(sys_message("unlink", rootfs + p, errno));
  }
}

void setup_dev(const FsPlan& plan, int rootfd, bool dev_is_ours) {
  const Config& cfg = *plan.cfg;
  // Our own /dev (a fresh tmpfs) is opened once for all its nodes and links; the image's is
  // opened for each node, where a failure is only a warning.
  Fd dev;
  if (dev_is_ours) dev = open_in_root(rootfd, "/dev", false, false);
  for (auto& d : kDefaultDevices) {
    std::string path = std::string("/dev/") + d.name;
    bool overridden = false;
    for (auto& cd : cfg.linux.devices)
      if (cd.path == path) overridden = true;
    if (overridden) continue;
    if (dev_is_ours) {
      make_device(plan, rootfd, dev.get(), path, 'c', d.major, d.minor, 0666, 0, 0);
      continue;
    }
    // /dev is the image's own directory: supply what is missing (the spec's default
    // devices), keep what is there, and do not fail a read-only image for it.
    try {
      make_device(plan, rootfd, -1, path, 'c', d.major, d.minor, 0666, 0, 0);
    } catch (const Error& e) {
      log::warn(std::string("default device not supplied: ") + e.what());
    }
  }
  if (dev_is_ours) {
    static const std::pair<const char*, const char*> links[] = {{"/proc/self/fd", "fd"},
                                                                {"/proc/self/fd/0", "stdin"},
                                                                {"/proc/self/fd/1", "stdout"},
                                                                {"/proc/self/fd/2", "stderr"},
                                                                {"pts/ptmx", "ptmx"}};
    for (auto& [to, name] : links) {
      if (::symlinkat(to, dev.get(), name) != 0 && errno != EEXIST)
        throw_sys("symlink", std::string("/dev/") + name);
    }
  }
  for (auto& d : cfg.linux.devices) {
    if (d.type == "u" || d.type == "c" || d.type == "b" || d.type == "p") {
      mode_t mode = d.file_mode.value_or(0666);
      make_device(plan, rootfd, dev ? dev.get() : -1, d.path, d.type == "u" ? 'c' : d.type[0],
                  static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor), mode,
                  d.uid.value_or(0), d.gid.value_or(0));
    }
  }
}

}  // namespace nook
