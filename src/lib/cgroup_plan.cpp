// cgroups, the pure side: where a container's cgroup goes (the path policy and the placement
// decisions), and what linux.resources become (the list of file writes, following runc's
// conversions). Decisions from the config and the host's facts only: no system calls here, so
// all of it is unit-tested (tests/unit/cgroup_test.cpp, cgroup_plan_test.cpp).
#include <algorithm>
#include <map>
#include <optional>

#include "cgroup.hpp"
#include "cgroup_internal.hpp"
#include "error.hpp"

namespace nook {
using namespace cgroup_internal;
namespace {

// Lexically cleans an absolute path: collapses "//" and "." and drops a trailing '/'.
// '..' components are refused: a cgroup path must not climb out of its parent.
std::string clean_path(const std::string& p, const std::string& what) {
  std::string out;
  for (auto& c : split(p, '/')) {
    if (c.empty() || c == ".") continue;
    if (c == "..") fail(what + ": \"" + p + "\" must not contain '..'");
    out += '/';
    out += c;
  }
  return out.empty() ? "/" : out;
}

std::string num(int64_t v) {
  return std::to_string(v);
}
std::string unum(uint64_t v) {
  return std::to_string(v);
}

std::string device_id(int64_t major, int64_t minor) {
  return num(major) + ":" + num(minor);
}

// ---------------------------------------------------------------------------------------------
// Resources -> writes (pure)

// runc's conversions (libcontainer/cgroups/utils.go), so that a config means the same here.
uint64_t shares_to_weight(uint64_t shares) {
  if (shares == 0) return 0;
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t blkio_weight_to_io_weight(uint64_t w) {
  if (w == 0) return 0;
  return 1 + (w - 10) * 9999 / 990;
}

std::string limit_v1(int64_t v) {
  return v < 0 ? "-1" : num(v);
}
std::string limit_v2(int64_t v) {
  return v < 0 ? "max" : num(v);
}

class Planner {
 public:
  Planner(const CgroupLayout& l, bool strict) : layout_(l), strict_(strict) {}

  // Which version serves `controller`: v1 when it is mounted as v1 (hybrid hosts keep the
  // real controllers there), else v2 when offered there. nullopt: nowhere (reported).
  std::optional<bool> where(const std::string& controller, const std::string& what) {
    if (layout_.v1.count(controller)) return false;
    if (layout_.v2.count(controller)) return true;
    std::string why = "linux.resources." + what + ": no " + controller +
                      " controller on this host (neither a cgroup v1 hierarchy nor in cgroup v2)";
    if (strict_) fail(why);
    ignore(why);
    return std::nullopt;
  }

  void add(bool v2, const std::string& controller, std::string file, std::string value,
           std::string alt_file = {}, std::string alt_value = {}, bool best_effort = false) {
    CgroupWrite w{v2,
                  controller,
                  std::move(file),
                  std::move(value),
                  std::move(alt_file),
                  std::move(alt_value),
                  best_effort};
    (v2 ? plan_.v2_needed : plan_.v1_needed).insert(controller);
    if (v2 && controller.empty()) plan_.v2_needed.erase(controller);
    plan_.writes.push_back(std::move(w));
  }

  void ignore(std::string msg) { plan_.ignored.push_back(std::move(msg)); }

  CgroupPlan take() { return std::move(plan_); }

  const CgroupLayout& layout() const { return layout_; }
  bool strict() const { return strict_; }

 private:
  const CgroupLayout& layout_;
  bool strict_;
  CgroupPlan plan_;
};

void plan_memory(Planner& p, const Resources::Memory& m) {
  bool any = m.limit || m.reservation || (m.swap && *m.swap != 0) || m.kernel_tcp || m.swappiness ||
             m.disable_oom_killer || m.use_hierarchy;
  if (m.kernel)
    p.ignore(
        "linux.resources.memory.kernel: kernel memory limits are deprecated "
        "and not set (as runc)");
  if (!any) return;
  auto v2 = p.where("memory", "memory");
  if (!v2) return;
  // OCI "swap" is memory+swap, as cgroup v1's memsw; 0 means unset (runc).
  std::optional<int64_t> swap = m.swap && *m.swap != 0 ? m.swap : std::nullopt;
  if (swap && *swap > 0 && m.limit && *m.limit > 0 && *swap < *m.limit)
    fail("linux.resources.memory: swap (memory+swap, " + num(*swap) +
         ") must not be below limit (" + num(*m.limit) + ")");
  if (!*v2) {
    if (m.limit) p.add(false, "memory", "memory.limit_in_bytes", limit_v1(*m.limit));
    if (swap) p.add(false, "memory", "memory.memsw.limit_in_bytes", limit_v1(*swap));
    if (m.reservation)
      p.add(false, "memory", "memory.soft_limit_in_bytes", limit_v1(*m.reservation));
    if (m.kernel_tcp)
      p.add(false, "memory", "memory.kmem.tcp.limit_in_bytes", limit_v1(*m.kernel_tcp));
    if (m.swappiness) p.add(false, "memory", "memory.swappiness", unum(*m.swappiness));
    if (m.disable_oom_killer)
      p.add(false, "memory", "memory.oom_control", *m.disable_oom_killer ? "1" : "0");
    if (m.use_hierarchy && *m.use_hierarchy) p.add(false, "memory", "memory.use_hierarchy", "1");
    return;
  }
  if (m.limit) p.add(true, "memory", "memory.max", limit_v2(*m.limit));
  if (m.reservation) p.add(true, "memory", "memory.low", limit_v2(*m.reservation));
  if (swap) {
    int64_t limit = m.limit.value_or(-1);
    if (*swap < 0) {
      p.add(true, "memory", "memory.swap.max", "max");
    } else if (limit <= 0) {
      fail("linux.resources.memory.swap: a swap limit needs a memory limit on cgroup v2");
    } else {
      p.add(true, "memory", "memory.swap.max", num(*swap - limit));
    }
  } else if (m.limit && *m.limit < 0) {
    // runc: unlimited memory without a swap value means unlimited swap too.
    p.add(true, "memory", "memory.swap.max", "max");
  }
  if (m.kernel_tcp) p.ignore("linux.resources.memory.kernelTCP: not available on cgroup v2");
  if (m.swappiness) p.ignore("linux.resources.memory.swappiness: not available on cgroup v2");
  if (m.disable_oom_killer && *m.disable_oom_killer)
    p.ignore("linux.resources.memory.disableOOMKiller: not available on cgroup v2");
}

void plan_cpu(Planner& p, const Resources::Cpu& c) {
  bool cpu_any = (c.shares && *c.shares) || c.quota || (c.period && *c.period) || c.burst ||
                 c.realtime_period || c.realtime_runtime || c.idle;
  if (cpu_any) {
    if (auto v2 = p.where("cpu", "cpu")) {
      if (!*v2) {
        if (c.shares && *c.shares) p.add(false, "cpu", "cpu.shares", unum(*c.shares));
        if (c.period && *c.period) p.add(false, "cpu", "cpu.cfs_period_us", unum(*c.period));
        if (c.quota) p.add(false, "cpu", "cpu.cfs_quota_us", limit_v1(*c.quota));
        if (c.burst) p.add(false, "cpu", "cpu.cfs_burst_us", num(*c.burst));
        if (c.realtime_period) p.add(false, "cpu", "cpu.rt_period_us", unum(*c.realtime_period));
        if (c.realtime_runtime) p.add(false, "cpu", "cpu.rt_runtime_us", num(*c.realtime_runtime));
        if (c.idle) p.add(false, "cpu", "cpu.idle", num(*c.idle));
      } else {
        if (c.shares && *c.shares)
          p.add(true, "cpu", "cpu.weight", unum(shares_to_weight(*c.shares)));
        if (c.quota || (c.period && *c.period)) {
          std::string v = c.quota && *c.quota > 0 ? num(*c.quota) : "max";
          if (c.period && *c.period) v += " " + unum(*c.period);
          p.add(true, "cpu", "cpu.max", v);
        }
        if (c.burst) p.add(true, "cpu", "cpu.max.burst", num(*c.burst));
        if (c.idle) p.add(true, "cpu", "cpu.idle", num(*c.idle));
        if (c.realtime_period || c.realtime_runtime)
          p.ignore(
              "linux.resources.cpu.realtimePeriod/realtimeRuntime: not available on "
              "cgroup v2");
      }
    }
  }
  if (!c.cpus.empty() || !c.mems.empty()) {
    if (auto v2 = p.where("cpuset", "cpu.cpus/mems")) {
      if (!c.cpus.empty()) p.add(*v2, "cpuset", "cpuset.cpus", c.cpus);
      if (!c.mems.empty()) p.add(*v2, "cpuset", "cpuset.mems", c.mems);
    }
  }
}

void plan_block_io(Planner& p, const Resources::BlockIo& b) {
  bool any = (b.weight && *b.weight) || !b.weight_device.empty() || !b.throttle_read_bps.empty() ||
             !b.throttle_write_bps.empty() || !b.throttle_read_iops.empty() ||
             !b.throttle_write_iops.empty();
  if (b.leaf_weight)
    p.ignore("linux.resources.blockIO.leafWeight: needs the CFQ scheduler, gone since Linux 5.0");
  if (!any) return;
  auto v2 = p.where(p.layout().v1.count("blkio") ? "blkio" : "io", "blockIO");
  if (!v2) return;
  if (!*v2) {
    // BFQ kernels name the weight files blkio.bfq.*; CFQ ones blkio.*.
    if (b.weight && *b.weight)
      p.add(false, "blkio", "blkio.weight", unum(*b.weight), "blkio.bfq.weight", unum(*b.weight));
    for (auto& d : b.weight_device) {
      if (d.leaf_weight)
        p.ignore("linux.resources.blockIO.weightDevice.leafWeight: needs CFQ, gone since 5.0");
      if (!d.weight) continue;
      std::string v = device_id(d.major, d.minor) + " " + unum(*d.weight);
      p.add(false, "blkio", "blkio.weight_device", v, "blkio.bfq.weight_device", v);
    }
    auto throttle = [&](const std::vector<BlockIoDevice>& list, const char* file) {
      for (auto& d : list)
        p.add(false, "blkio", file, device_id(d.major, d.minor) + " " + unum(d.rate));
    };
    throttle(b.throttle_read_bps, "blkio.throttle.read_bps_device");
    throttle(b.throttle_write_bps, "blkio.throttle.write_bps_device");
    throttle(b.throttle_read_iops, "blkio.throttle.read_iops_device");
    throttle(b.throttle_write_iops, "blkio.throttle.write_iops_device");
    return;
  }
  if (b.weight && *b.weight)
    p.add(true, "io", "io.bfq.weight", "default " + unum(*b.weight), "io.weight",
          "default " + unum(blkio_weight_to_io_weight(*b.weight)));
  for (auto& d : b.weight_device) {
    if (!d.weight) continue;
    std::string id = device_id(d.major, d.minor);
    p.add(true, "io", "io.bfq.weight", id + " " + unum(*d.weight), "io.weight",
          id + " " + unum(blkio_weight_to_io_weight(*d.weight)));
  }
  auto throttle = [&](const std::vector<BlockIoDevice>& list, const char* key) {
    for (auto& d : list)
      p.add(true, "io", "io.max", device_id(d.major, d.minor) + " " + key + "=" + unum(d.rate));
  };
  throttle(b.throttle_read_bps, "rbps");
  throttle(b.throttle_write_bps, "wbps");
  throttle(b.throttle_read_iops, "riops");
  throttle(b.throttle_write_iops, "wiops");
}

void plan_hugepages(Planner& p, const std::vector<Resources::HugepageLimit>& list) {
  if (list.empty()) return;
  auto v2 = p.where("hugetlb", "hugepageLimits");
  if (!v2) return;
  for (auto& h : list) {
    if (h.page_size.empty() || h.page_size.find('/') != std::string::npos)
      fail("linux.resources.hugepageLimits: bad pageSize \"" + h.page_size + "\"");
    p.add(*v2, "hugetlb", "hugetlb." + h.page_size + (*v2 ? ".max" : ".limit_in_bytes"),
          unum(h.limit));
  }
}

// net_cls and net_prio exist on cgroup v1 only. Unprivileged (not strict) nook never uses
// cgroup v1: create has said so once already (the key policy, keys.cpp), so nothing here. As
// root where cgroup v2 is the only hierarchy they are not set, with a warning: runc's cgroup v2
// manager ignores linux.resources.network (fs2 has no such controller) and engines send it
// regardless. As root where cgroup v1 is in use but the controller is not mounted, it is like
// any missing controller, an error (runc's v1 manager fails too: "cannot set net_cls limit").
void plan_network(Planner& p, const Resources::Network& n) {
  auto place = [&](const char* controller, const std::string& what) -> bool {
    if (p.layout().v1.count(controller)) return true;
    if (!p.strict()) return false;
    if (p.layout().v1.empty() && p.layout().v2_mounted) {
      p.ignore("linux.resources.network." + what + " ignored: cgroup v2 has no " + controller +
               " controller (a cgroup v1 one; runc ignores it on cgroup v2 too)");
      return false;
    }
    fail("linux.resources.network." + what + ": no " + controller +
         " controller on this host (not mounted as a cgroup v1 hierarchy)");
  };
  if (n.class_id && place("net_cls", "classID"))
    p.add(false, "net_cls", "net_cls.classid", unum(*n.class_id));
  if (!n.priorities.empty() && place("net_prio", "priorities"))
    for (auto& prio : n.priorities)
      p.add(false, "net_prio", "net_prio.ifpriomap", prio.name + " " + unum(prio.priority));
}

void plan_unified(Planner& p, const std::map<std::string, std::string>& unified) {
  if (unified.empty()) return;
  if (!p.layout().v2_mounted) {
    std::string why = "linux.resources.unified: needs cgroup v2, which is not mounted";
    if (p.strict()) fail(why);
    p.ignore(why);
    return;
  }
  for (auto& [key, value] : unified) {
    auto dot = key.find('.');
    if (key.find('/') != std::string::npos || dot == std::string::npos || dot == 0 ||
        key == "cgroup.procs" || key == "cgroup.threads" || key == "cgroup.subtree_control")
      fail("linux.resources.unified: \"" + key + "\" is not a cgroup v2 file nook may set");
    std::string controller = key.substr(0, dot);
    if (controller == "cgroup") {
      p.add(true, "", key, value);
      continue;
    }
    if (!p.layout().v2.count(controller)) {
      std::string why = "linux.resources.unified: \"" + key + "\": the " + controller +
                        " controller is not available in cgroup v2" +
                        (p.layout().v1.count(controller) ? " (this host has it on cgroup v1)" : "");
      if (p.strict()) fail(why);
      p.ignore(why);
      continue;
    }
    p.add(true, controller, key, value);
  }
}

// v1 device cgroup rules: the config's rules in order, then the devices every container
// gets (runc's AllowedDevices), then linux.devices. Best effort: see docs/cgroups.md.
void plan_devices(Planner& p, const std::vector<DeviceRule>& rules,
                  const std::vector<Device>& devices) {
  if (rules.empty()) return;
  if (!p.layout().v1.count("devices")) return;  // v2 needs eBPF; see docs/cgroups.md
  auto id = [](const std::optional<int64_t>& v) {
    return v && *v >= 0 ? num(*v) : std::string("*");
  };
  auto rule = [&](bool allow, const std::string& type, const std::string& major,
                  const std::string& minor, const std::string& access) {
    std::string t = type.empty() ? "a" : type;
    p.add(false, "devices", allow ? "devices.allow" : "devices.deny",
          t + " " + major + ":" + minor + " " + (access.empty() ? "rwm" : access), {}, {}, true);
  };
  for (auto& r : rules) rule(r.allow, r.type, id(r.major), id(r.minor), r.access);
  static const struct {
    const char* type;
    const char* major;
    const char* minor;
    const char* access;
  } kDefaults[] = {
      {"c", "*", "*", "m"},   {"b", "*", "*", "m"},      {"c", "1", "3", "rwm"},
      {"c", "1", "8", "rwm"}, {"c", "1", "7", "rwm"},    {"c", "5", "0", "rwm"},
      {"c", "1", "5", "rwm"}, {"c", "1", "9", "rwm"},    {"c", "136", "*", "rwm"},
      {"c", "5", "2", "rwm"}, {"c", "10", "200", "rwm"},
  };
  for (auto& d : kDefaults) rule(true, d.type, d.major, d.minor, d.access);
  for (auto& d : devices) {
    if (d.type != "c" && d.type != "b" && d.type != "u") continue;  // fifos need no rule
    rule(true, d.type == "u" ? "c" : d.type, num(d.major), num(d.minor), "rwm");
  }
}

}  // namespace

std::string cgroup_systemd_path(const std::string& spec, const std::string& id) {
  auto bad = [&](const std::string& why) -> std::string {
    fail("linux.cgroupsPath: \"" + spec + "\": " + why +
         " (--systemd-cgroup wants \"slice:prefix:name\")");
  };
  auto parts = split(spec, ':');
  if (parts.size() != 3) bad("not of the form slice:prefix:name");
  std::string slice = parts[0], prefix = parts[1], name = parts[2];
  if (name.empty()) name = id;
  for (auto* s : {&slice, &prefix, &name})
    if (s->find('/') != std::string::npos) bad("must not contain '/'");
  // Expand the slice like systemd: "a-b-c.slice" lives in /a.slice/a-b.slice/a-b-c.slice.
  std::string path;
  if (!slice.empty() && slice != "-.slice") {
    if (!ends_with(slice, ".slice")) bad("the slice must end in \".slice\"");
    std::string stem = slice.substr(0, slice.size() - 6);
    if (stem.empty() || stem.front() == '-' || stem.back() == '-' ||
        stem.find("--") != std::string::npos)
      bad("bad slice name \"" + slice + "\"");
    std::string prefix_so_far;
    for (auto& part : split(stem, '-')) {
      prefix_so_far += (prefix_so_far.empty() ? "" : "-") + part;
      path += "/" + prefix_so_far + ".slice";
    }
  }
  std::string unit;
  if (ends_with(name, ".slice"))
    unit = name;  // runc: a name that is a slice is used as it is
  else
    unit = (prefix.empty() ? "" : prefix + "-") + name + ".scope";
  return path + "/" + unit;
}

CgroupSystemdUnit cgroup_systemd_unit(const std::string& id, const std::string& cgroups_path,
                                      bool system) {
  std::string spec = cgroups_path.empty()
                         ? std::string(system ? "system.slice" : "user.slice") + ":nook:" + id
                         : cgroups_path;
  if (spec[0] == '/')
    fail("linux.cgroupsPath: \"" + spec +
         "\": with --systemd-cgroup it must be \"slice:prefix:name\", not a path");
  cgroup_systemd_path(spec, id);  // validates: throws for a malformed one
  auto parts = split(spec, ':');
  CgroupSystemdUnit u;
  u.slice = parts[0] == "-.slice" ? "" : parts[0];
  std::string name = parts[2].empty() ? id : parts[2];
  u.is_slice = ends_with(name, ".slice");
  u.name = u.is_slice ? name : (parts[1].empty() ? "" : parts[1] + "-") + name + ".scope";
  return u;
}

std::vector<uint8_t> cgroup_cpu_mask(const std::string& list, const std::string& what) {
  std::vector<uint8_t> mask;
  for (auto& part : split(list, ',')) {
    if (part.empty()) continue;
    auto dash = part.find('-');
    unsigned long lo = 0, hi = 0;
    try {
      size_t used = 0;
      std::string a = part.substr(0, dash);
      lo = std::stoul(a, &used);
      if (used != a.size()) throw std::invalid_argument(a);
      hi = lo;
      if (dash != std::string::npos) {
        std::string b = part.substr(dash + 1);
        hi = std::stoul(b, &used);
        if (used != b.size()) throw std::invalid_argument(b);
      }
    } catch (const std::exception&) {
      fail("linux.resources.cpu." + what + ": \"" + list + "\" is not a list of numbers");
    }
    if (hi < lo || hi > 8191) fail("linux.resources.cpu." + what + ": bad range \"" + part + "\"");
    if (mask.size() < hi / 8 + 1) mask.resize(hi / 8 + 1);
    for (unsigned long i = lo; i <= hi; i++) mask[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
  }
  return mask;
}

std::string cgroup_path_for(const std::string& id, const std::string& cgroups_path, bool systemd,
                            const std::string& parent) {
  if (systemd) {
    std::string spec = cgroups_path.empty() ? "system.slice:nook:" + id : cgroups_path;
    if (!spec.empty() && spec[0] == '/')
      fail("linux.cgroupsPath: \"" + spec +
           "\": with --systemd-cgroup it must be \"slice:prefix:name\", not a path");
    return cgroup_systemd_path(spec, id);
  }
  if (cgroups_path.empty()) return clean_path(parent + "/" + id, "container id");
  if (cgroups_path[0] == '/') return clean_path(cgroups_path, "linux.cgroupsPath");
  return clean_path(parent + "/" + clean_path(cgroups_path, "linux.cgroupsPath"),
                    "linux.cgroupsPath");
}

std::map<std::string, std::string> cgroup_parse_sub_paths(const std::vector<std::string>& args) {
  std::map<std::string, std::string> paths;
  for (auto& a : args) {
    auto colon = a.find(':');
    if (colon == std::string::npos) {
      if (args.size() != 1)
        fail("invalid --cgroup argument: " + a + " (missing <controller>: prefix)");
      paths[""] = a;
      continue;
    }
    for (auto& c : split(std::string_view(a).substr(0, colon), ',')) {
      if (c.empty()) fail("invalid --cgroup argument: " + a + " (empty <controller> prefix)");
      if (!paths.emplace(c, a.substr(colon + 1)).second)
        fail("invalid --cgroup argument(s): controller " + c + " specified multiple times");
    }
  }
  return paths;
}

CgroupPlacement cgroup_sub_placement_for(
    const CgroupPlacement& p, const std::vector<std::vector<std::string>>& v1_controllers,
    const std::map<std::string, std::string>& subs) {
  auto arg = [](const std::string& c, const std::string& path) {
    return "exec --cgroup " + (c.empty() ? path : c + ":" + path);
  };
  // The path below the container's cgroup, "" for the cgroup itself.
  auto rel = [&](const std::string& c, const std::string& path) {
    std::string r;
    for (auto& part : split(path, '/')) {
      if (part.empty() || part == ".") continue;
      if (part == "..")
        fail(arg(c, path) +
             ": the path must not contain '..' (it is below the container's cgroup)");
      r += "/" + part;
    }
    return r;
  };
  CgroupPlacement out = p;
  std::vector<std::string> v1_sub(p.v1.size());  // per v1 directory: the sub path, "" none
  std::vector<std::string> v1_by(p.v1.size());   // and the controller that named it
  std::optional<std::string> v2_sub;
  std::string v2_by;
  for (auto& [c, path] : subs) {
    std::string r = rel(c, path);
    if (c.empty()) {
      v2_sub = r;
      for (auto& s : v1_sub) s = r;
      continue;
    }
    bool found = false;
    for (size_t i = 0; i < p.v1.size(); i++) {
      auto& ctls = v1_controllers[i];
      if (std::find(ctls.begin(), ctls.end(), c) == ctls.end()) continue;
      found = true;
      if (!v1_by[i].empty() && v1_sub[i] != r)
        fail(arg(c, path) + ": " + v1_by[i] + " and " + c +
             " share a cgroup v1 hierarchy: give them the same path");
      v1_sub[i] = r;
      v1_by[i] = c;
    }
    if (found) continue;
    if (!p.v1.empty() || p.v2.empty() || !is_v1_controller(c))
      fail(arg(c, path) + ": unknown controller " + c +
           " (the container has no cgroup of its own for it)");
    // cgroup v2 alone: one hierarchy, so one path for every controller.
    if (v2_sub && *v2_sub != r)
      fail(arg(c, path) + ": cgroup v2 has a single hierarchy: " + v2_by + " and " + c +
           " must name the same path");
    v2_sub = r;
    v2_by = c;
  }
  for (size_t i = 0; i < p.v1.size(); i++) out.v1[i] += v1_sub[i];
  if (v2_sub && !p.v2.empty()) out.v2 += *v2_sub;
  return out;
}

bool cgroup_resources_requested(const Resources& r) {
  if (r.pids_limit || !r.hugepage_limits.empty() || r.network || r.has_rdma || !r.unified.empty())
    return true;
  if (r.memory) {
    auto& m = *r.memory;
    if (m.limit || m.reservation || m.swap || m.kernel || m.kernel_tcp || m.swappiness ||
        m.disable_oom_killer)
      return true;
  }
  if (r.cpu) {
    auto& c = *r.cpu;
    if (c.shares || c.quota || c.period || c.burst || c.realtime_period || c.realtime_runtime ||
        c.idle || !c.cpus.empty() || !c.mems.empty())
      return true;
  }
  if (r.block_io) {
    auto& b = *r.block_io;
    if (b.weight || b.leaf_weight || !b.weight_device.empty() || !b.throttle_read_bps.empty() ||
        !b.throttle_write_bps.empty() || !b.throttle_read_iops.empty() ||
        !b.throttle_write_iops.empty())
      return true;
  }
  return false;
}

CgroupPlan cgroup_plan(const Resources& r, const std::vector<Device>& devices,
                       const CgroupLayout& layout, bool strict) {
  Planner p(layout, strict);
  if (r.memory) plan_memory(p, *r.memory);
  if (r.cpu) plan_cpu(p, *r.cpu);
  if (r.pids_limit) {
    if (auto v2 = p.where("pids", "pids"))
      p.add(*v2, "pids", "pids.max", *r.pids_limit > 0 ? num(*r.pids_limit) : "max");
  }
  if (r.block_io) plan_block_io(p, *r.block_io);
  plan_hugepages(p, r.hugepage_limits);
  if (r.network) plan_network(p, *r.network);
  // rdma: create warns about it from the key policy (keys.cpp).
  plan_unified(p, r.unified);
  plan_devices(p, r.devices, devices);
  return p.take();
}

std::string cgroup_dir(const CgroupMount& m, const std::string& path) {
  // A mount of a sub-tree (container without a cgroup namespace: root "/docker/ID") shows
  // paths below its root; strip that root when the path is inside it.
  std::string rel = path;
  if (m.root != "/" && (path == m.root || path.rfind(m.root + "/", 0) == 0))
    rel = path.substr(m.root.size());
  return join_path(m.mountpoint, rel);
}

// ---------------------------------------------------------------------------------------------
// Placement decisions

namespace cgroup_internal {

CgroupLayout cgroup_layout(const std::vector<CgroupMount>& v1, bool v2_mounted,
                           const std::string& v2_controllers) {
  CgroupLayout layout;
  for (auto& m : v1)
    for (auto& c : m.controllers) layout.v1.insert(c);
  layout.v2_mounted = v2_mounted;
  for (auto& c : split(trim(v2_controllers), ' '))
    if (!c.empty()) layout.v2.insert(c);
  return layout;
}

bool cgroup_v1_wanted(const std::vector<std::string>& controllers,
                      const std::set<std::string>& v1_needed, bool explicit_path, bool v2_freezer) {
  bool want = explicit_path;
  for (auto& c : controllers)
    if ((c == "freezer" && !v2_freezer) || v1_needed.count(c)) want = true;
  return want;
}

CgroupTarget cgroup_target(const CgroupMount& m, const std::string& path) {
  std::string dir = cgroup_dir(m, path);
  std::string rel = dir.substr(m.mountpoint.size());
  return {dir, m.mountpoint, rel};
}

CgroupTarget cgroup_target_below(const CgroupMount& m, const std::string& own,
                                 const std::string& path) {
  std::string dir = cgroup_dir(m, path);
  bool below_own = path.rfind(own == "/" ? "/" : own + "/", 0) == 0;
  if (!below_own) return {dir, m.mountpoint, dir.substr(m.mountpoint.size())};
  return {dir, cgroup_dir(m, own), path.substr(own == "/" ? 0 : own.size())};
}

std::vector<std::string> cgroup_leftover_dirs(const Host& h, bool root, const std::string& id,
                                              const std::string& cgroups_path, bool systemd) {
  std::vector<std::string> dirs;
  if (root) {
    std::string path = cgroup_path_for(id, cgroups_path, systemd, "/nook");
    for (auto& m : h.v1) dirs.push_back(cgroup_dir(m, path));
    if (h.v2) dirs.push_back(cgroup_dir(*h.v2, path));
  } else if (h.v2) {
    dirs.push_back(cgroup_dir(
        *h.v2, cgroup_path_for(id, cgroups_path, systemd, join_path(h.own_path(*h.v2), "nook"))));
  }
  return dirs;
}

}  // namespace cgroup_internal
}  // namespace nook
