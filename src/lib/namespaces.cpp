// Linux namespaces: the kinds, the ones a config joins by path, comparison with nook's own.
#include "namespaces.hpp"

#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "config.hpp"
#include "error.hpp"

namespace nook {
namespace {
// Per NsType, in enum order: the config name, the /proc/PID/ns name, the clone flag.
struct NsInfo {
  NsType type;
  const char* name;
  const char* proc_name;
  int clone_flag;
};
constexpr NsInfo kNamespaces[] = {
    {NsType::pid, "pid", "pid", CLONE_NEWPID},
    {NsType::network, "network", "net", CLONE_NEWNET},
    {NsType::mount, "mount", "mnt", CLONE_NEWNS},
    {NsType::ipc, "ipc", "ipc", CLONE_NEWIPC},
    {NsType::uts, "uts", "uts", CLONE_NEWUTS},
    {NsType::user, "user", "user", CLONE_NEWUSER},
    {NsType::cgroup, "cgroup", "cgroup", CLONE_NEWCGROUP},
    {NsType::time, "time", "time", CLONE_NEWTIME},
};
static_assert(std::size(kNamespaces) == static_cast<size_t>(NsType::time) + 1);

const NsInfo& ns_info(NsType t) {
  static_assert([] {
    for (size_t i = 0; i < std::size(kNamespaces); i++)
      if (static_cast<size_t>(kNamespaces[i].type) != i) return false;
    return true;
  }());
  return kNamespaces[static_cast<size_t>(t)];
}
}  // namespace

const char* ns_name(NsType t) {
  return ns_info(t).name;
}

const char* ns_proc_name(NsType t) {
  return ns_info(t).proc_name;
}

int ns_clone_flag(NsType t) {
  return ns_info(t).clone_flag;
}

std::optional<NsType> ns_from_name(const std::string& name) {
  for (auto& n : kNamespaces)
    if (name == n.name) return n.type;
  return std::nullopt;
}

const std::array<NsType, 8>& ns_join_order() {
  static constexpr std::array<NsType, 8> order = {NsType::user, NsType::pid,     NsType::ipc,
                                                  NsType::uts,  NsType::network, NsType::cgroup,
                                                  NsType::time, NsType::mount};
  return order;
}

std::vector<NsJoin> open_join_namespaces(const Config& cfg, const std::string& file) {
  std::vector<NsJoin> out;
  for (size_t i = 0; i < cfg.linux.namespaces.size(); i++) {
    auto& n = cfg.linux.namespaces[i];
    if (n.path.empty()) continue;
    std::string where = file + ": /linux/namespaces/" + std::to_string(i) + "/path: ";
    Fd fd(::open(n.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) fail(where + sys_message("open", n.path, errno));
    // NS_GET_NSTYPE tells what kind of namespace the file is.
    int type = ::ioctl(fd.get(), _IO(0xb7, 0x3));
    if (type < 0) fail(where + n.path + " is not a namespace file");
    if (type != ns_clone_flag(n.type))
      fail(where + n.path + " is not a " + ns_name(n.type) + " namespace");
    if (n.type == NsType::user)
      out.insert(out.begin(), NsJoin{n.type, std::move(fd)});
    else
      out.push_back(NsJoin{n.type, std::move(fd)});
  }
  return out;
}

namespace {
bool differs_from_own(const struct stat& theirs, NsType t) {
  std::string self = std::string("/proc/self/ns/") + ns_proc_name(t);
  struct stat ours;
  if (::stat(self.c_str(), &ours) != 0) throw_sys("stat", self);
  return theirs.st_ino != ours.st_ino || theirs.st_dev != ours.st_dev;
}
}  // namespace

bool ns_differs(int nsdir, NsType t) {
  struct stat theirs;
  if (::fstatat(nsdir, ns_proc_name(t), &theirs, 0) != 0) {
    if (errno == ENOENT) return false;  // a kernel without this namespace type
    throw_sys("stat", std::string("namespace ") + ns_proc_name(t) + " of the container's process");
  }
  return differs_from_own(theirs, t);
}

bool ns_path_differs(const std::string& path, NsType t) {
  struct stat theirs;
  if (::stat(path.c_str(), &theirs) != 0) throw_sys("stat", path);
  return differs_from_own(theirs, t);
}

}  // namespace nook
