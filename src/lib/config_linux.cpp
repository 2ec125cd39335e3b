// config.json's linux -> Linux: namespaces, ID mappings, devices, resources, seccomp, ...
#include <set>

#include "config_internal.hpp"
#include "error.hpp"
#include "keys.hpp"
#include "names.hpp"
#include "namespaces.hpp"

namespace nook::config_detail {

std::vector<IdMapping> parse_mappings(const Reader& r, const json& j, const std::string& ptr) {
  r.array(j, ptr);
  std::vector<IdMapping> out;
  for (size_t i = 0; i < j.size(); i++) {
    std::string p = idx(ptr, i);
    r.object(j[i], p);
    IdMapping m;
    for (auto [key, field] : {std::pair{"containerID", &m.container_id},
                              std::pair{"hostID", &m.host_id}, std::pair{"size", &m.size}}) {
      const json& v = r.required(j[i], key, p);
      if (field == &m.size) {
        if (v.is_number_integer() && v == 0)
          r.bad(join(p, key), "a mapping of size 0 maps nothing");
        // The kernel refuses an extent whose end wraps in 32 bits (first + count).
        *field = static_cast<uint32_t>(
            r.in_range(v, join(p, key), 1, UINT32_MAX - std::max(m.container_id, m.host_id),
                       "containerID + size and hostID + size must be at most 4294967295"));
      } else {
        *field = r.id(v, join(p, key));
      }
    }
    // The kernel refuses more extents, and extents that overlap on either side.
    if (i == kMaxIdExtents) r.bad(p, "more than 340 mappings (the kernel's limit)");
    for (size_t k = 0; k < out.size(); k++) {
      auto overlap = [](uint32_t a, uint32_t b, uint32_t n, uint32_t bn) {
        return uint64_t(a) < uint64_t(b) + bn && uint64_t(b) < uint64_t(a) + n;
      };
      const IdMapping& o = out[k];
      if (overlap(m.container_id, o.container_id, m.size, o.size))
        r.bad(p, "its containerID range overlaps that of " + idx(ptr, k));
      if (overlap(m.host_id, o.host_id, m.size, o.size))
        r.bad(p, "its hostID range overlaps that of " + idx(ptr, k));
    }
    out.push_back(m);
  }
  return out;
}

namespace {

// Calls f(element, its pointer) for each element of the array `j` at `ptr`, each required to
// be an object.
template <class F>
void each_object(const Reader& r, const json& j, const std::string& ptr, F f) {
  r.array(j, ptr);
  for (size_t i = 0; i < j.size(); i++) {
    std::string ip = idx(ptr, i);
    r.object(j[i], ip);
    f(j[i], ip);
  }
}

// ---- seccomp

SeccompArg parse_seccomp_arg(const Reader& r, const json& j, const std::string& ptr) {
  SeccompArg arg;
  arg.index =
      static_cast<unsigned>(r.in_range(r.required(j, "index", ptr), join(ptr, "index"), 0, 5));
  arg.value = r.u64(r.required(j, "value", ptr), join(ptr, "value"));
  if (auto* v = Reader::get(j, "valueTwo")) arg.value_two = r.u64(*v, join(ptr, "valueTwo"));
  arg.op = r.str(r.required(j, "op", ptr), join(ptr, "op"));
  return arg;
}

SeccompSyscall parse_seccomp_syscall(const Reader& r, const json& j, const std::string& ptr) {
  SeccompSyscall sc;
  sc.names = r.strings(r.required(j, "names", ptr), join(ptr, "names"));
  sc.action = r.str(r.required(j, "action", ptr), join(ptr, "action"));
  if (auto* x = Reader::get(j, "errnoRet")) sc.errno_ret = r.u32(*x, join(ptr, "errnoRet"));
  if (auto* x = Reader::get(j, "args"))
    each_object(r, *x, join(ptr, "args"), [&](const json& e, const std::string& ep) {
      sc.args.push_back(parse_seccomp_arg(r, e, ep));
    });
  return sc;
}

Seccomp parse_seccomp(const Reader& r, const json& j, const std::string& ptr) {
  r.object(j, ptr);
  Seccomp s;
  s.default_action = r.str(r.required(j, "defaultAction", ptr), join(ptr, "defaultAction"));
  if (auto* v = Reader::get(j, "defaultErrnoRet"))
    s.default_errno_ret = r.u32(*v, join(ptr, "defaultErrnoRet"));
  if (auto* v = Reader::get(j, "architectures"))
    s.architectures = r.strings(*v, join(ptr, "architectures"));
  if (auto* v = Reader::get(j, "flags")) s.flags = r.strings(*v, join(ptr, "flags"));
  if (auto* v = Reader::get(j, "listenerPath"))
    s.listener_path = r.str(*v, join(ptr, "listenerPath"));
  if (auto* v = Reader::get(j, "listenerMetadata"))
    s.listener_metadata = r.str(*v, join(ptr, "listenerMetadata"));
  if (auto* v = Reader::get(j, "syscalls"))
    each_object(r, *v, join(ptr, "syscalls"), [&](const json& e, const std::string& ep) {
      s.syscalls.push_back(parse_seccomp_syscall(r, e, ep));
    });
  return s;
}

// ---- resources

// The required "major" and "minor" of a device (linux.devices, the blockIO device lists).
void device_numbers(const Reader& r, const json& j, const std::string& ptr, int64_t* major,
                    int64_t* minor) {
  const json& ma = r.required(j, "major", ptr);
  const json& mi = r.required(j, "minor", ptr);
  *major = r.in_range(ma, join(ptr, "major"), 0, kMaxMajor);
  *minor = r.in_range(mi, join(ptr, "minor"), 0, kMaxMinor);
}

// A blkio weight: 10..1000 is what blkio.weight (CFQ) takes, and what cgroup.cpp converts to
// io.weight (1 + (W - 10) * 9999 / 990: 1..10000) and passes to io.bfq.weight (1..1000).
// 0 leaves it unset, as in runc.
uint16_t blkio_weight(const Reader& r, const json& j, const std::string& ptr) {
  return static_cast<uint16_t>(r.in_range_or_zero(j, ptr, 10, 1000));
}

std::vector<BlockIoDevice> parse_bio_devices(const Reader& r, const json& j, const std::string& ptr,
                                             bool weight) {
  std::vector<BlockIoDevice> out;
  each_object(r, j, ptr, [&](const json& e, const std::string& ip) {
    BlockIoDevice d;
    device_numbers(r, e, ip, &d.major, &d.minor);
    if (weight) {
      if (auto* w = Reader::get(e, "weight")) d.weight = blkio_weight(r, *w, join(ip, "weight"));
      if (auto* w = Reader::get(e, "leafWeight"))
        d.leaf_weight = blkio_weight(r, *w, join(ip, "leafWeight"));
    } else {
      d.rate = r.u64(r.required(e, "rate", ip), join(ip, "rate"));
    }
    out.push_back(d);
  });
  return out;
}

DeviceRule parse_device_rule(const Reader& r, const json& j, const std::string& ptr) {
  DeviceRule d;
  d.allow = r.boolean(r.required(j, "allow", ptr), join(ptr, "allow"));
  if (auto* x = Reader::get(j, "type")) d.type = r.str(*x, join(ptr, "type"));
  // -1, like leaving it out, matches every device ("*" in the rule).
  if (auto* x = Reader::get(j, "major"))
    d.major = r.in_range(*x, join(ptr, "major"), -1, kMaxMajor,
                         "must be -1 (all) or between 0 and " + std::to_string(kMaxMajor));
  if (auto* x = Reader::get(j, "minor"))
    d.minor = r.in_range(*x, join(ptr, "minor"), -1, kMaxMinor,
                         "must be -1 (all) or between 0 and " + std::to_string(kMaxMinor));
  if (auto* x = Reader::get(j, "access")) d.access = r.str(*x, join(ptr, "access"));
  return d;
}

Resources::Memory parse_memory(const Reader& r, const json& j, const std::string& ptr) {
  r.object(j, ptr);
  Resources::Memory m;
  for (auto [key, field] : {std::pair{"limit", &m.limit}, std::pair{"reservation", &m.reservation},
                            std::pair{"swap", &m.swap}, std::pair{"kernel", &m.kernel},
                            std::pair{"kernelTCP", &m.kernel_tcp}})
    if (auto* x = Reader::get(j, key))  // bytes; -1 is unlimited (the kernel's "-1"/"max")
      *field = r.in_range(*x, join(ptr, key), -1, INT64_MAX,
                          "must be -1 (unlimited) or a number of bytes from 0");
  if (auto* x = Reader::get(j, "swappiness"))  // runc's range; kernels before 5.8 take 0..100
    m.swappiness = static_cast<uint64_t>(r.in_range(*x, join(ptr, "swappiness"), 0, 100));
  for (auto [key, field] : {std::pair{"disableOOMKiller", &m.disable_oom_killer},
                            std::pair{"useHierarchy", &m.use_hierarchy},
                            std::pair{"checkBeforeUpdate", &m.check_before_update}})
    if (auto* x = Reader::get(j, key)) *field = r.boolean(*x, join(ptr, key));
  return m;
}

Resources::Cpu parse_cpu(const Reader& r, const json& j, const std::string& ptr) {
  r.object(j, ptr);
  Resources::Cpu c;
  // cpu.shares 2..262144 (cpu.weight 1..10000 after cgroup.cpp's conversion); the CFS
  // period 1 ms..1 s and quota from 1 ms, both in us (tg_set_cfs_bandwidth); 0 is unset.
  if (auto* x = Reader::get(j, "shares"))
    c.shares = static_cast<uint64_t>(r.in_range_or_zero(*x, join(ptr, "shares"), 2, 262144));
  if (auto* x = Reader::get(j, "period"))
    c.period = static_cast<uint64_t>(r.in_range_or_zero(*x, join(ptr, "period"), 1000, 1000000));
  if (auto* x = Reader::get(j, "quota")) {
    std::string rule = "must be -1 (unlimited), 0 (unset) or between 1000 and " +
                       std::to_string(kMaxCfsQuota) + " (us)";
    c.quota = r.in_range(*x, join(ptr, "quota"), -1, kMaxCfsQuota, rule);
    if (*c.quota > 0 && *c.quota < 1000) r.out_of_range(join(ptr, "quota"), *x, rule);
  }
  if (auto* x = Reader::get(j, "burst"))
    c.burst = r.in_range(*x, join(ptr, "burst"), 0, kMaxCfsQuota);
  // cpu.rt_period_us: 1.. (U64_MAX / 1000); cpu.rt_runtime_us: -1 (unlimited) up to the
  // scheduler's MAX_BW in ns (sched_group_set_rt_runtime, tg_set_rt_bandwidth).
  if (auto* x = Reader::get(j, "realtimePeriod"))
    c.realtime_period = static_cast<uint64_t>(
        r.in_range_or_zero(*x, join(ptr, "realtimePeriod"), 1, int64_t(UINT64_MAX / 1000)));
  if (auto* x = Reader::get(j, "realtimeRuntime"))
    c.realtime_runtime = r.in_range(
        *x, join(ptr, "realtimeRuntime"), -1, kMaxCfsQuota / 1000,
        "must be -1 (unlimited) or between 0 and " + std::to_string(kMaxCfsQuota / 1000) + " (us)");
  if (c.realtime_period && *c.realtime_period && c.realtime_runtime && *c.realtime_runtime > 0 &&
      uint64_t(*c.realtime_runtime) > *c.realtime_period)
    r.bad(join(ptr, "realtimeRuntime"), "runtime " + std::to_string(*c.realtime_runtime) +
                                            " is above realtimePeriod " +
                                            std::to_string(*c.realtime_period));
  if (auto* x = Reader::get(j, "idle")) c.idle = r.in_range(*x, join(ptr, "idle"), 0, 1);
  if (auto* x = Reader::get(j, "cpus")) c.cpus = r.str(*x, join(ptr, "cpus"));
  if (auto* x = Reader::get(j, "mems")) c.mems = r.str(*x, join(ptr, "mems"));
  return c;
}

Resources::BlockIo parse_block_io(const Reader& r, const json& j, const std::string& ptr) {
  r.object(j, ptr);
  Resources::BlockIo b;
  if (auto* x = Reader::get(j, "weight")) b.weight = blkio_weight(r, *x, join(ptr, "weight"));
  if (auto* x = Reader::get(j, "leafWeight"))
    b.leaf_weight = blkio_weight(r, *x, join(ptr, "leafWeight"));
  if (auto* x = Reader::get(j, "weightDevice"))
    b.weight_device = parse_bio_devices(r, *x, join(ptr, "weightDevice"), true);
  for (auto [key, field] : {std::pair{"throttleReadBpsDevice", &b.throttle_read_bps},
                            std::pair{"throttleWriteBpsDevice", &b.throttle_write_bps},
                            std::pair{"throttleReadIOPSDevice", &b.throttle_read_iops},
                            std::pair{"throttleWriteIOPSDevice", &b.throttle_write_iops}})
    if (auto* x = Reader::get(j, key)) *field = parse_bio_devices(r, *x, join(ptr, key), false);
  return b;
}

Resources parse_resources(const Reader& r, const json& j, const std::string& ptr) {
  r.object(j, ptr);
  Resources res;
  if (auto* v = Reader::get(j, "devices"))
    each_object(r, *v, join(ptr, "devices"), [&](const json& e, const std::string& ep) {
      res.devices.push_back(parse_device_rule(r, e, ep));
    });
  if (auto* v = Reader::get(j, "memory")) res.memory = parse_memory(r, *v, join(ptr, "memory"));
  if (auto* v = Reader::get(j, "cpu")) res.cpu = parse_cpu(r, *v, join(ptr, "cpu"));
  if (auto* v = Reader::get(j, "pids")) {
    std::string pp = join(ptr, "pids");
    r.object(*v, pp);
    if (auto* x = Reader::get(*v, "limit"))  // pids.max takes 0..PID_MAX_LIMIT or "max"
      res.pids_limit =
          r.in_range(*x, join(pp, "limit"), -1, kMaxPids,
                     "must be -1 (unlimited) or between 0 and " + std::to_string(kMaxPids));
  }
  if (auto* v = Reader::get(j, "blockIO"))
    res.block_io = parse_block_io(r, *v, join(ptr, "blockIO"));
  if (auto* v = Reader::get(j, "hugepageLimits"))
    each_object(r, *v, join(ptr, "hugepageLimits"), [&](const json& e, const std::string& ep) {
      Resources::HugepageLimit h;
      const json& ps = r.required(e, "pageSize", ep);
      const json& l = r.required(e, "limit", ep);
      h.page_size = r.str(ps, join(ep, "pageSize"));
      h.limit = r.u64(l, join(ep, "limit"));
      res.hugepage_limits.push_back(h);
    });
  if (auto* v = Reader::get(j, "network")) {
    std::string np = join(ptr, "network");
    Resources::Network n;
    if (auto* x = Reader::get(r.object(*v, np), "classID"))
      n.class_id = r.u32(*x, join(np, "classID"));
    if (auto* x = Reader::get(*v, "priorities"))
      each_object(r, *x, join(np, "priorities"), [&](const json& e, const std::string& ep) {
        Resources::Network::Priority p;
        std::string name_ptr = join(ep, "name");
        p.name = r.str(r.required(e, "name", ep), name_ptr);
        // What the kernel takes as a device name (dev_valid_name): net_prio.ifpriomap reads
        // "NAME PRIORITY", so a blank would split it.
        if (p.name.empty() || p.name.size() >= 16 || p.name == "." || p.name == ".." ||
            p.name.find_first_of("/: \t\n") != std::string::npos)
          r.bad(name_ptr, "\"" + p.name +
                              "\" is not an interface name (1 to 15 characters, no '/', ':' "
                              "or blank, not . or ..)");
        p.priority = r.u32(r.required(e, "priority", ep), join(ep, "priority"));
        n.priorities.push_back(p);
      });
    if (!n.empty()) res.network = n;
  }
  if (auto* v = Reader::get(j, "rdma")) res.has_rdma = !r.object(*v, join(ptr, "rdma")).empty();
  if (auto* v = Reader::get(j, "unified")) res.unified = r.string_map(*v, join(ptr, "unified"));
  return res;
}

// ---- the rest of linux

void parse_namespaces(const Reader& r, const json& j, const std::string& ptr, Linux& l) {
  each_object(r, j, ptr, [&](const json& e, const std::string& ip) {
    std::string ts = r.str(r.required(e, "type", ip), join(ip, "type"));
    auto type = ns_from_name(ts);
    if (!type) r.bad(join(ip, "type"), "unknown namespace type \"" + ts + "\"");
    Namespace ns{*type, {}};
    if (auto* p = Reader::get(e, "path")) {
      ns.path = r.str(*p, join(ip, "path"));
      if (!ns.path.empty()) require_absolute(r, ns.path, join(ip, "path"));
    }
    if (l.find_ns(*type)) r.bad(ip, "namespace type \"" + ts + "\" is given twice");
    l.namespaces.push_back(ns);
  });
}

void parse_time_offsets(const Reader& r, const json& j, const std::string& ptr, Linux& l) {
  r.object(j, ptr);
  for (auto& [k, off] : j.items()) {
    if (k != "monotonic" && k != "boottime")
      r.bad(join(ptr, k.c_str()), "unknown clock (monotonic or boottime)");
    std::string op = join(ptr, k.c_str());
    r.object(off, op);
    l.time_offsets_secs[k] = 0;
    l.time_offsets_nanosecs[k] = 0;
    // The kernel refuses a clock that the offset would put past KTIME_SEC_MAX / 2.
    if (auto* s = Reader::get(off, "secs"))
      l.time_offsets_secs[k] = r.in_range(*s, join(op, "secs"), -kMaxTimensSecs, kMaxTimensSecs);
    if (auto* n = Reader::get(off, "nanosecs"))
      l.time_offsets_nanosecs[k] = r.in_range(*n, join(op, "nanosecs"), 0, 999999999);
  }
}

Device parse_device(const Reader& r, const json& j, const std::string& ptr) {
  Device d;
  const json& t = r.required(j, "type", ptr);
  const json& p = r.required(j, "path", ptr);
  d.type = r.str(t, join(ptr, "type"));
  if (d.type != "c" && d.type != "b" && d.type != "u" && d.type != "p")
    r.bad(join(ptr, "type"), "device type must be c, b, u or p, got \"" + d.type + "\"");
  d.path = r.str(p, join(ptr, "path"));
  require_absolute(r, d.path, join(ptr, "path"));
  if (d.type != "p") device_numbers(r, j, ptr, &d.major, &d.minor);
  // The permission bits only: mknod gets the type from "type".
  if (auto* x = Reader::get(j, "fileMode"))
    d.file_mode = static_cast<uint32_t>(
        r.in_range(*x, join(ptr, "fileMode"), 0, 07777,
                   "must be between 0 and 07777 (4095), the permission bits"));
  if (auto* x = Reader::get(j, "uid")) d.uid = r.id(*x, join(ptr, "uid"));
  if (auto* x = Reader::get(j, "gid")) d.gid = r.id(*x, join(ptr, "gid"));
  return d;
}

// maskedPaths, readonlyPaths: absolute paths.
std::vector<std::string> absolute_paths(const Reader& r, const json& j, const std::string& ptr) {
  std::vector<std::string> out = r.strings(j, ptr);
  for (size_t i = 0; i < out.size(); i++) require_absolute(r, out[i], idx(ptr, i));
  return out;
}

Personality parse_personality(const Reader& r, const json& j, const std::string& ptr) {
  r.object(j, ptr);
  Personality p;
  p.domain = r.str(r.required(j, "domain", ptr), join(ptr, "domain"));
  if (p.domain != "LINUX" && p.domain != "LINUX32")
    r.bad(join(ptr, "domain"), "unknown domain \"" + p.domain + "\" (LINUX or LINUX32)");
  if (auto* f = Reader::get(j, "flags")) p.flags = r.strings(*f, join(ptr, "flags"));
  // runtime-spec 1.2: "currently no flag values are supported".
  if (!p.flags.empty())
    r.bad(join(ptr, "flags"), "personality flag \"" + p.flags[0] + "\" is not supported (" +
                                  key_reason("/linux/personality/flags") + ")");
  return p;
}

// The rules across keys of linux: mappings need a user namespace of nook's making, time
// offsets a time namespace of nook's making.
void check_linux(const Reader& r, const Linux& l, const std::string& ptr) {
  if ((!l.uid_mappings.empty() || !l.gid_mappings.empty()) && !l.find_ns(NsType::user))
    r.bad(join(ptr, "uidMappings"),
          "mappings are given but linux.namespaces has no user namespace");
  if (auto* u = l.find_ns(NsType::user);
      u && u->path.empty() && !l.uid_mappings.empty() && l.gid_mappings.empty())
    r.bad(join(ptr, "gidMappings"), "uidMappings are given without gidMappings");
  if (!l.time_offsets_secs.empty() && !l.find_ns(NsType::time))
    r.bad(join(ptr, "timeOffsets"), "time offsets need a time namespace in linux.namespaces");
  // A namespace joined by path is already set up: settings for it cannot be applied.
  if (auto* t = l.find_ns(NsType::time); t && !t->path.empty() && !l.time_offsets_secs.empty())
    r.bad(join(ptr, "timeOffsets"),
          "time offsets cannot be set on a time namespace joined by path");
  if (auto* u = l.find_ns(NsType::user);
      u && !u->path.empty() && (!l.uid_mappings.empty() || !l.gid_mappings.empty()))
    r.bad(join(ptr, "uidMappings"), "mappings cannot be set on a user namespace joined by path");
}

}  // namespace

Linux parse_linux(const Reader& r, const json& j, const std::string& ptr) {
  r.object(j, ptr);
  Linux l;
  if (auto* v = Reader::get(j, "namespaces")) parse_namespaces(r, *v, join(ptr, "namespaces"), l);
  if (auto* v = Reader::get(j, "uidMappings"))
    l.uid_mappings = parse_mappings(r, *v, join(ptr, "uidMappings"));
  if (auto* v = Reader::get(j, "gidMappings"))
    l.gid_mappings = parse_mappings(r, *v, join(ptr, "gidMappings"));
  if (auto* v = Reader::get(j, "timeOffsets"))
    parse_time_offsets(r, *v, join(ptr, "timeOffsets"), l);
  if (auto* v = Reader::get(j, "devices"))
    each_object(r, *v, join(ptr, "devices"), [&](const json& e, const std::string& ep) {
      l.devices.push_back(parse_device(r, e, ep));
    });
  if (auto* v = Reader::get(j, "cgroupsPath")) l.cgroups_path = r.str(*v, join(ptr, "cgroupsPath"));
  if (auto* v = Reader::get(j, "resources"))
    l.resources = parse_resources(r, *v, join(ptr, "resources"));
  if (auto* v = Reader::get(j, "seccomp")) l.seccomp = parse_seccomp(r, *v, join(ptr, "seccomp"));
  if (auto* v = Reader::get(j, "rootfsPropagation")) {
    l.rootfs_propagation = r.str(*v, join(ptr, "rootfsPropagation"));
    static const std::set<std::string> ok = {"",        "private",    "rprivate",
                                             "slave",   "rslave",     "shared",
                                             "rshared", "unbindable", "runbindable"};
    if (!ok.count(l.rootfs_propagation))
      r.bad(join(ptr, "rootfsPropagation"), "unknown propagation \"" + l.rootfs_propagation + "\"");
  }
  if (auto* v = Reader::get(j, "maskedPaths"))
    l.masked_paths = absolute_paths(r, *v, join(ptr, "maskedPaths"));
  if (auto* v = Reader::get(j, "readonlyPaths"))
    l.readonly_paths = absolute_paths(r, *v, join(ptr, "readonlyPaths"));
  if (auto* v = Reader::get(j, "mountLabel")) l.mount_label = r.str(*v, join(ptr, "mountLabel"));
  if (auto* v = Reader::get(j, "sysctl")) l.sysctl = r.string_map(*v, join(ptr, "sysctl"));
  if (auto* v = Reader::get(j, "personality"))
    l.personality = parse_personality(r, *v, join(ptr, "personality"));
  if (auto* v = Reader::get(j, "intelRdt"))
    l.has_intel_rdt = !r.object(*v, join(ptr, "intelRdt")).empty();
  // The spec: a runtime MUST put the process in a resctrl group when intelRdt is set, and
  // MUST fail when it cannot. nook has no resctrl support, so it always fails.
  if (l.has_intel_rdt) r.bad(join(ptr, "intelRdt"), key_reason("/linux/intelRdt"));
  // runtime-spec 1.3 additions nook does not implement: refused rather than run without them
  // (docs/config-keys.md).
  for (auto* key : {"memoryPolicy", "netDevices"})
    if (Reader::get(j, key)) r.bad(join(ptr, key), key_reason(std::string("/linux/") + key));
  check_linux(r, l, ptr);
  return l;
}

}  // namespace nook::config_detail
