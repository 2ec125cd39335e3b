// cgroups, the host: which hierarchies are mounted where and which cgroups this process is in,
// found once per process. The fast way checks the standard layout with statfs; only an unusual
// one costs a read of /proc/self/mountinfo (docs/cgroups.md, "Measurements"). The two parsers
// are pure and unit-tested.
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "cgroup.hpp"
#include "cgroup_internal.hpp"
#include "error.hpp"

namespace nook {
using namespace cgroup_internal;
namespace {

// A constant table, not a std::set: nothing to construct when the program starts.
constexpr std::array<std::string_view, 14> kV1Controllers = {
    "cpuset",  "cpu",        "cpuacct",  "blkio",   "memory", "devices", "freezer",
    "net_cls", "perf_event", "net_prio", "hugetlb", "pids",   "rdma",    "misc"};

std::string unescape_mountinfo(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '\\' && i + 3 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool is_fs(const std::string& path, long magic) {
  struct statfs st;
  return ::statfs(path.c_str(), &st) == 0 && static_cast<long>(st.f_type) == magic;
}

// The fast way: the standard layout (/sys/fs/cgroup as cgroup2, or a tmpfs with one directory
// per v1 hierarchy named after its controllers and cgroup2 in "unified"), checked with statfs,
// and /proc/self/cgroup. Reading /proc/self/mountinfo costs ~150 us of kernel time here, more
// than everything else nook does for cgroups when there are no resources.
// nullopt when the layout is not the standard one; then mountinfo decides.
std::optional<Host> host_fast(const std::vector<std::pair<std::string, std::string>>& own) {
  constexpr long kCgroup2 = 0x63677270;  // CGROUP2_SUPER_MAGIC
  constexpr long kCgroup1 = 0x27e0eb;    // CGROUP_SUPER_MAGIC
  Host h;
  for (auto& [k, v] : own) h.own[k] = v;
  // A mount of a sub-tree (a container without a cgroup namespace) shows our own cgroup
  // path below its root, so our directory would not exist where the fast way looks.
  auto own_visible = [&](const std::string& mp, const std::string& key) {
    auto it = h.own.find(key);
    return it == h.own.end() || it->second == "/" || exists(mp + it->second);
  };
  CgroupMount v2;
  v2.v2 = true;
  v2.root = "/";
  if (is_fs("/sys/fs/cgroup", kCgroup2)) {
    v2.mountpoint = "/sys/fs/cgroup";
    if (!own_visible(v2.mountpoint, "")) return std::nullopt;
    h.v2 = v2;
    return h;
  }
  if (is_fs("/sys/fs/cgroup/unified", kCgroup2)) {
    v2.mountpoint = "/sys/fs/cgroup/unified";
    if (!own_visible(v2.mountpoint, "")) return std::nullopt;
    h.v2 = v2;
  }
  if (geteuid() != 0) return h;  // cgroup v1 is never used unprivileged
  for (auto& [key, path] : own) {
    if (key.empty()) continue;
    CgroupMount m;
    m.root = "/";
    m.controllers = split(key, ',');
    std::string name = key.rfind("name=", 0) == 0 ? key.substr(5) : key;
    m.mountpoint = "/sys/fs/cgroup/" + name;
    if (!is_fs(m.mountpoint, kCgroup1) || !own_visible(m.mountpoint, key)) return std::nullopt;
    h.v1.push_back(m);
  }
  return h;
}

}  // namespace

namespace cgroup_internal {

bool is_v1_controller(std::string_view name) {
  return std::find(kV1Controllers.begin(), kV1Controllers.end(), name) != kV1Controllers.end();
}

const Host& host() {
  static const Host h = [] {
    std::vector<std::pair<std::string, std::string>> own;
    if (auto s = read_file("/proc/self/cgroup")) own = cgroup_parse_proc(*s);
    if (auto fast = host_fast(own)) return *fast;
    Host h;
    for (auto& m : cgroup_parse_mountinfo(read_file_or_throw("/proc/self/mountinfo"))) {
      if (m.v2) {
        if (!h.v2) h.v2 = m;
      } else {
        h.v1.push_back(m);
      }
    }
    for (auto& [k, v] : own) h.own[k] = v;
    return h;
  }();
  return h;
}

}  // namespace cgroup_internal

std::vector<CgroupMount> cgroup_parse_mountinfo(const std::string& text) {
  std::vector<CgroupMount> out;
  for (auto& line : split(text, '\n')) {
    // id parent maj:min root mountpoint options [optional...] - fstype source superoptions
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    auto left = split(line.substr(0, dash), ' ');
    auto right = split(line.substr(dash + 3), ' ');
    if (left.size() < 6 || right.size() < 3) continue;
    CgroupMount m;
    if (right[0] == "cgroup2") {
      m.v2 = true;
    } else if (right[0] != "cgroup") {
      continue;
    }
    m.root = unescape_mountinfo(left[3]);
    m.mountpoint = unescape_mountinfo(left[4]);
    if (!m.v2) {
      for (auto& o : split(right[2], ','))
        if (is_v1_controller(o) || o.rfind("name=", 0) == 0) m.controllers.push_back(o);
      if (m.controllers.empty()) continue;
    }
    bool dup = std::any_of(out.begin(), out.end(), [&](const CgroupMount& o) {
      return o.v2 == m.v2 && o.controllers == m.controllers;
    });
    if (!dup) out.push_back(std::move(m));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> cgroup_parse_proc(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& line : split(text, '\n')) {
    auto a = line.find(':');
    if (a == std::string::npos) continue;
    auto b = line.find(':', a + 1);
    if (b == std::string::npos) continue;
    std::string path = line.substr(b + 1);
    // A cgroup deleted under us shows as "/x (deleted)"; treat it as its parent would be
    // wrong, so keep the text minus the marker.
    if (ends_with(path, " (deleted)")) path.resize(path.size() - 10);
    out.emplace_back(line.substr(a + 1, b - a - 1), path);
  }
  return out;
}

}  // namespace nook
