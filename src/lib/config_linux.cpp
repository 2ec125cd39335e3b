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
      auto* v = Reader::get(j[i], key);
      if (!v) r.bad(join(p, key), "required property is missing");
      if (field == &m.size) {
        if (v->is_number_integer() && *v == 0)
          r.bad(join(p, key), "a mapping of size 0 maps nothing");
        // The kernel refuses an extent whose end wraps in 32 bits (first + count).
        *field = static_cast<uint32_t>(
            r.in_range(*v, join(p, key), 1, UINT32_MAX - std::max(m.container_id, m.host_id),
                       "containerID + size and hostID + size must be at most 4294967295"));
      } else {
        *field = r.id(*v, join(p, key));
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

Seccomp parse_seccomp(const Reader& r, const json& j, const std::string& ptr) {
  r.object(j, ptr);
  Seccomp s;
  auto* d = Reader::get(j, "defaultAction");
  if (!d) r.bad(join(ptr, "defaultAction"), "required property is missing");
  s.default_action = r.str(*d, join(ptr, "defaultAction"));
  if (auto* v = Reader::get(j, "defaultErrnoRet"))
    s.default_errno_ret = r.u32(*v, join(ptr, "defaultErrnoRet"));
  if (auto* v = Reader::get(j, "architectures"))
    s.architectures = r.strings(*v, join(ptr, "architectures"));
  if (auto* v = Reader::get(j, "flags")) s.flags = r.strings(*v, join(ptr, "flags"));
  if (auto* v = Reader::get(j, "listenerPath"))
    s.listener_path = r.str(*v, join(ptr, "listenerPath"));
  if (auto* v = Reader::get(j, "listenerMetadata"))
    s.listener_metadata = r.str(*v, join(ptr, "listenerMetadata"));
  if (auto* v = Reader::get(j, "syscalls")) {
    std::string sp = join(ptr, "syscalls");
    r.array(*v, sp);
    for (size_t i = 0; i < v->size(); i++) {
      std::string ip = idx(sp, i);
      const json& e = (*v)[i];
      r.object(e, ip);
      SeccompSyscall sc;
      auto* n = Reader::get(e, "names");
      if (!n) r.bad(join(ip, "names"), "required property is missing");
      sc.names = r.strings(*n, join(ip, "names"));
      auto* a = Reader::get(e, "action");
      if (!a) r.bad(join(ip, "action"), "required property is missing");
      sc.action = r.str(*a, join(ip, "action"));
      if (auto* x = Reader::get(e, "errnoRet")) sc.errno_ret = r.u32(*x, join(ip, "errnoRet"));
      if (auto* x = Reader::get(e, "args")) {
        std::string ap = join(ip, "args");
        r.array(*x, ap);
        for (size_t k = 0; k < x->size(); k++) {
          std::string kp = idx(ap, k);
          const json& ae = (*x)[k];
          r.object(ae, kp);
          SeccompArg arg;
          auto* ix = Reader::get(ae, "index");
          if (!ix) r.bad(join(kp, "index"), "required property is missing");
          arg.index = static_cast<unsigned>(r.in_range(*ix, join(kp, "index"), 0, 5));
          auto* val = Reader::get(ae, "value");
          if (!val) r.bad(join(kp, "value"), "required property is missing");
          arg.value = r.u64(*val, join(kp, "value"));
          if (auto* v2 = Reader::get(ae, "valueTwo"))
            arg.value_two = r.u64(*v2, join(kp, "valueTwo"));
          auto* op = Reader::get(ae, "op");
          if (!op) r.bad(join(kp, "op"), "required property is missing");
          arg.op = r.str(*op, join(kp, "op"));
          sc.args.push_back(arg);
        }
      }
      s.syscalls.push_back(std::move(sc));
    }
  }
  return s;
}

// A blkio weight: 10..1000 is what blkio.weight (CFQ) takes, and what cgroup.cpp converts to
// io.weight (1 + (W - 10) * 9999 / 990: 1..10000) and passes to io.bfq.weight (1..1000).
// 0 leaves it unset, as in runc.
uint16_t blkio_weight(const Reader& r, const json& j, const std::string& ptr) {
  return static_cast<uint16_t>(r.in_range_or_zero(j, ptr, 10, 1000));
}

std::vector<BlockIoDevice> parse_bio_devices(const Reader& r, const json& j, const std::string& ptr,
                                             bool weight) {
  r.array(j, ptr);
  std::vector<BlockIoDevice> out;
  for (size_t i = 0; i < j.size(); i++) {
    std::string ip = idx(ptr, i);
    r.object(j[i], ip);
    BlockIoDevice d;
    auto* ma = Reader::get(j[i], "major");
    auto* mi = Reader::get(j[i], "minor");
    if (!ma) r.bad(join(ip, "major"), "required property is missing");
    if (!mi) r.bad(join(ip, "minor"), "required property is missing");
    d.major = r.in_range(*ma, join(ip, "major"), 0, kMaxMajor);
    d.minor = r.in_range(*mi, join(ip, "minor"), 0, kMaxMinor);
    if (weight) {
      if (auto* w = Reader::get(j[i], "weight")) d.weight = blkio_weight(r, *w, join(ip, "weight"));
      if (auto* w = Reader::get(j[i], "leafWeight"))
        d.leaf_weight = blkio_weight(r, *w, join(ip, "leafWeight"));
    } else {
      auto* rate = Reader::get(j[i], "rate");
      if (!rate) r.bad(join(ip, "rate"), "required property is missing");
      d.rate = r.u64(*rate, join(ip, "rate"));
    }
    out.push_back(d);
  }
  return out;
}

Resources parse_resources(const Reader& r, const json& j, const std::string& ptr) {
  r.object(j, ptr);
  Resources res;
  if (auto* v = Reader::get(j, "devices")) {
    std::string dp = join(ptr, "devices");
    r.array(*v, dp);
    for (size_t i = 0; i < v->size(); i++) {
      std::string ip = idx(dp, i);
      r.object((*v)[i], ip);
      DeviceRule d;
      auto* a = Reader::get((*v)[i], "allow");
      if (!a) r.bad(join(ip, "allow"), "required property is missing");
      d.allow = r.boolean(*a, join(ip, "allow"));
      if (auto* x = Reader::get((*v)[i], "type")) d.type = r.str(*x, join(ip, "type"));
      // -1, like leaving it out, matches every device ("*" in the rule).
      if (auto* x = Reader::get((*v)[i], "major"))
        d.major = r.in_range(*x, join(ip, "major"), -1, kMaxMajor,
                             "must be -1 (all) or between 0 and " + std::to_string(kMaxMajor));
      if (auto* x = Reader::get((*v)[i], "minor"))
        d.minor = r.in_range(*x, join(ip, "minor"), -1, kMaxMinor,
                             "must be -1 (all) or between 0 and " + std::to_string(kMaxMinor));
      if (auto* x = Reader::get((*v)[i], "access")) d.access = r.str(*x, join(ip, "access"));
      res.devices.push_back(d);
    }
  }
  if (auto* v = Reader::get(j, "memory")) {
    std::string mp = join(ptr, "memory");
    r.object(*v, mp);
    Resources::Memory m;
    for (auto [key, field] :
         {std::pair{"limit", &m.limit}, std::pair{"reservation", &m.reservation},
          std::pair{"swap", &m.swap}, std::pair{"kernel", &m.kernel},
          std::pair{"kernelTCP", &m.kernel_tcp}})
      if (auto* x = Reader::get(*v, key))  // bytes; -1 is unlimited (the kernel's "-1"/"max")
        *field = r.in_range(*x, join(mp, key), -1, INT64_MAX,
                            "must be -1 (unlimited) or a number of bytes from 0");
    if (auto* x = Reader::get(*v, "swappiness"))  // runc's range; kernels before 5.8 take 0..100
      m.swappiness = static_cast<uint64_t>(r.in_range(*x, join(mp, "swappiness"), 0, 100));
    if (auto* x = Reader::get(*v, "disableOOMKiller"))
      m.disable_oom_killer = r.boolean(*x, join(mp, "disableOOMKiller"));
    if (auto* x = Reader::get(*v, "useHierarchy"))
      m.use_hierarchy = r.boolean(*x, join(mp, "useHierarchy"));
    if (auto* x = Reader::get(*v, "checkBeforeUpdate"))
      m.check_before_update = r.boolean(*x, join(mp, "checkBeforeUpdate"));
    res.memory = m;
  }
  if (auto* v = Reader::get(j, "cpu")) {
    std::string cp = join(ptr, "cpu");
    r.object(*v, cp);
    Resources::Cpu c;
    // cpu.shares 2..262144 (cpu.weight 1..10000 after cgroup.cpp's conversion); the CFS
    // period 1 ms..1 s and quota from 1 ms, both in us (tg_set_cfs_bandwidth); 0 is unset.
    if (auto* x = Reader::get(*v, "shares"))
      c.shares = static_cast<uint64_t>(r.in_range_or_zero(*x, join(cp, "shares"), 2, 262144));
    if (auto* x = Reader::get(*v, "period"))
      c.period = static_cast<uint64_t>(r.in_range_or_zero(*x, join(cp, "period"), 1000, 1000000));
    if (auto* x = Reader::get(*v, "quota")) {
      std::string rule = "must be -1 (unlimited), 0 (unset) or between 1000 and " +
                         std::to_string(kMaxCfsQuota) + " (us)";
      c.quota = r.in_range(*x, join(cp, "quota"), -1, kMaxCfsQuota, rule);
      if (*c.quota > 0 && *c.quota < 1000) r.out_of_range(join(cp, "quota"), *x, rule);
    }
    if (auto* x = Reader::get(*v, "burst"))
      c.burst = r.in_range(*x, join(cp, "burst"), 0, kMaxCfsQuota);
    // cpu.rt_period_us: 1.. (U64_MAX / 1000); cpu.rt_runtime_us: -1 (unlimited) up to the
    // scheduler's MAX_BW in ns (sched_group_set_rt_runtime, tg_set_rt_bandwidth).
    if (auto* x = Reader::get(*v, "realtimePeriod"))
      c.realtime_period = static_cast<uint64_t>(
          r.in_range_or_zero(*x, join(cp, "realtimePeriod"), 1, int64_t(UINT64_MAX / 1000)));
    if (auto* x = Reader::get(*v, "realtimeRuntime"))
      c.realtime_runtime = r.in_range(*x, join(cp, "realtimeRuntime"), -1, kMaxCfsQuota / 1000,
                                      "must be -1 (unlimited) or between 0 and " +
                                          std::to_string(kMaxCfsQuota / 1000) + " (us)");
    if (c.realtime_period && *c.realtime_period && c.realtime_runtime && *c.realtime_runtime > 0 &&
        uint64_t(*c.realtime_runtime) > *c.realtime_period)
      r.bad(join(cp, "realtimeRuntime"), "runtime " + std::to_string(*c.realtime_runtime) +
                                             " is above realtimePeriod " +
                                             std::to_string(*c.realtime_period));
    if (auto* x = Reader::get(*v, "idle")) c.idle = r.in_range(*x, join(cp, "idle"), 0, 1);
    if (auto* x = Reader::get(*v, "cpus")) c.cpus = r.str(*x, join(cp, "cpus"));
    if (auto* x = Reader::get(*v, "mems")) c.mems = r.str(*x, join(cp, "mems"));
    res.cpu = c;
  }
  if (auto* v = Reader::get(j, "pids")) {
    std::string pp = join(ptr, "pids");
    r.object(*v, pp);
    if (auto* x = Reader::get(*v, "limit"))  // pids.max takes 0..PID_MAX_LIMIT or "max"
      res.pids_limit =
          r.in_range(*x, join(pp, "limit"), -1, kMaxPids,
                     "must be -1 (unlimited) or between 0 and " + std::to_string(kMaxPids));
  }
  if (auto* v = Reader::get(j, "blockIO")) {
    std::string bp = join(ptr, "blockIO");
    r.object(*v, bp);
    Resources::BlockIo b;
    if (auto* x = Reader::get(*v, "weight")) b.weight = blkio_weight(r, *x, join(bp, "weight"));
    if (auto* x = Reader::get(*v, "leafWeight"))
      b.leaf_weight = blkio_weight(r, *x, join(bp, "leafWeight"));
    if (auto* x = Reader::get(*v, "weightDevice"))
      b.weight_device = parse_bio_devices(r, *x, join(bp, "weightDevice"), true);
    if (auto* x = Reader::get(*v, "throttleReadBpsDevice"))
      b.throttle_read_bps = parse_bio_devices(r, *x, join(bp, "throttleReadBpsDevice"), false);
    if (auto* x = Reader::get(*v, "throttleWriteBpsDevice"))
      b.throttle_write_bps = parse_bio_devices(r, *x, join(bp, "throttleWriteBpsDevice"), false);
    if (auto* x = Reader::get(*v, "throttleReadIOPSDevice"))
      b.throttle_read_iops = parse_bio_devices(r, *x, join(bp, "throttleReadIOPSDevice"), false);
    if (auto* x = Reader::get(*v, "throttleWriteIOPSDevice"))
      b.throttle_write_iops = parse_bio_devices(r, *x, join(bp, "throttleWriteIOPSDevice"), false);
    res.block_io = b;
  }
  if (auto* v = Reader::get(j, "hugepageLimits")) {
    std::string hp = join(ptr, "hugepageLimits");
    r.array(*v, hp);
    for (size_t i = 0; i < v->size(); i++) {
      std::string ip = idx(hp, i);
      r.object((*v)[i], ip);
      Resources::HugepageLimit h;
      auto* ps = Reader::get((*v)[i], "pageSize");
      auto* l = Reader::get((*v)[i], "limit");
      if (!ps) r.bad(join(ip, "pageSize"), "required property is missing");
      if (!l) r.bad(join(ip, "limit"), "required property is missing");
      h.page_size = r.str(*ps, join(ip, "pageSize"));
      h.limit = r.u64(*l, join(ip, "limit"));
      res.hugepage_limits.push_back(h);
    }
  }
  if (auto* v = Reader::get(j, "network"))
    res.has_network = !r.object(*v, join(ptr, "network")).empty();
  if (auto* v = Reader::get(j, "rdma")) res.has_rdma = !r.object(*v, join(ptr, "rdma")).empty();
  if (auto* v = Reader::get(j, "unified")) res.unified = r.string_map(*v, join(ptr, "unified"));
  return res;
}

Linux parse_linux(const Reader& r, const json& j, const std::string& ptr) {
  r.object(j, ptr);
  Linux l;
  if (auto* v = Reader::get(j, "namespaces")) {
    std::string np = join(ptr, "namespaces");
    r.array(*v, np);
    for (size_t i = 0; i < v->size(); i++) {
      std::string ip = idx(np, i);
      r.object((*v)[i], ip);
      auto* t = Reader::get((*v)[i], "type");
      if (!t) r.bad(join(ip, "type"), "required property is missing");
      std::string ts = r.str(*t, join(ip, "type"));
      auto type = ns_from_name(ts);
      if (!type) r.bad(join(ip, "type"), "unknown namespace type \"" + ts + "\"");
      Namespace ns{*type, {}};
      if (auto* p = Reader::get((*v)[i], "path")) {
        ns.path = r.str(*p, join(ip, "path"));
        if (!ns.path.empty()) require_absolute(r, ns.path, join(ip, "path"));
      }
      if (l.find_ns(*type)) r.bad(ip, "namespace type \"" + ts + "\" is given twice");
      l.namespaces.push_back(ns);
    }
  }
  if (auto* v = Reader::get(j, "uidMappings"))
    l.uid_mappings = parse_mappings(r, *v, join(ptr, "uidMappings"));
  if (auto* v = Reader::get(j, "gidMappings"))
    l.gid_mappings = parse_mappings(r, *v, join(ptr, "gidMappings"));
  if (auto* v = Reader::get(j, "timeOffsets")) {
    std::string tp = join(ptr, "timeOffsets");
    r.object(*v, tp);
    for (auto& [k, off] : v->items()) {
      if (k != "monotonic" && k != "boottime")
        r.bad(join(tp, k.c_str()), "unknown clock (monotonic or boottime)");
      std::string op = join(tp, k.c_str());
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
  if (auto* v = Reader::get(j, "devices")) {
    std::string dp = join(ptr, "devices");
    r.array(*v, dp);
    for (size_t i = 0; i < v->size(); i++) {
      std::string ip = idx(dp, i);
      const json& e = (*v)[i];
      r.object(e, ip);
      Device d;
      auto* t = Reader::get(e, "type");
      auto* p = Reader::get(e, "path");
      if (!t) r.bad(join(ip, "type"), "required property is missing");
      if (!p) r.bad(join(ip, "path"), "required property is missing");
      d.type = r.str(*t, join(ip, "type"));
      if (d.type != "c" && d.type != "b" && d.type != "u" && d.type != "p")
        r.bad(join(ip, "type"), "device type must be c, b, u or p, got \"" + d.type + "\"");
      d.path = r.str(*p, join(ip, "path"));
      require_absolute(r, d.path, join(ip, "path"));
      if (d.type != "p") {
        auto* ma = Reader::get(e, "major");
        auto* mi = Reader::get(e, "minor");
        if (!ma) r.bad(join(ip, "major"), "required property is missing");
        if (!mi) r.bad(join(ip, "minor"), "required property is missing");
        d.major = r.in_range(*ma, join(ip, "major"), 0, kMaxMajor);
        d.minor = r.in_range(*mi, join(ip, "minor"), 0, kMaxMinor);
      }
      // The permission bits only: mknod gets the type from "type".
      if (auto* x = Reader::get(e, "fileMode"))
        d.file_mode = static_cast<uint32_t>(
            r.in_range(*x, join(ip, "fileMode"), 0, 07777,
                       "must be between 0 and 07777 (4095), the permission bits"));
      if (auto* x = Reader::get(e, "uid")) d.uid = r.id(*x, join(ip, "uid"));
      if (auto* x = Reader::get(e, "gid")) d.gid = r.id(*x, join(ip, "gid"));
      l.devices.push_back(d);
    }
  }
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
  if (auto* v = Reader::get(j, "maskedPaths")) {
    l.masked_paths = r.strings(*v, join(ptr, "maskedPaths"));
    for (size_t i = 0; i < l.masked_paths.size(); i++)
      require_absolute(r, l.masked_paths[i], idx(join(ptr, "maskedPaths"), i));
  }
  if (auto* v = Reader::get(j, "readonlyPaths")) {
    l.readonly_paths = r.strings(*v, join(ptr, "readonlyPaths"));
    for (size_t i = 0; i < l.readonly_paths.size(); i++)
      require_absolute(r, l.readonly_paths[i], idx(join(ptr, "readonlyPaths"), i));
  }
  if (auto* v = Reader::get(j, "mountLabel")) l.mount_label = r.str(*v, join(ptr, "mountLabel"));
  if (auto* v = Reader::get(j, "sysctl")) l.sysctl = r.string_map(*v, join(ptr, "sysctl"));
  if (auto* v = Reader::get(j, "personality")) {
    std::string pp = join(ptr, "personality");
    r.object(*v, pp);
    Personality p;
    auto* d = Reader::get(*v, "domain");
    if (!d) r.bad(join(pp, "domain"), "required property is missing");
    p.domain = r.str(*d, join(pp, "domain"));
    if (p.domain != "LINUX" && p.domain != "LINUX32")
      r.bad(join(pp, "domain"), "unknown domain \"" + p.domain + "\" (LINUX or LINUX32)");
    if (auto* f = Reader::get(*v, "flags")) p.flags = r.strings(*f, join(pp, "flags"));
    // runtime-spec 1.2: "currently no flag values are supported".
    if (!p.flags.empty())
      r.bad(join(pp, "flags"), "personality flag \"" + p.flags[0] + "\" is not supported (" +
                                   key_reason("/linux/personality/flags") + ")");
    l.personality = p;
  }
  if (auto* v = Reader::get(j, "intelRdt"))
    l.has_intel_rdt = !r.object(*v, join(ptr, "intelRdt")).empty();
  // The spec: a runtime MUST put the process in a resctrl group when intelRdt is set, and
  // MUST fail when it cannot. nook has no resctrl support, so it always fails.
  if (l.has_intel_rdt) r.bad(join(ptr, "intelRdt"), key_reason("/linux/intelRdt"));
  // Semantic checks across keys.
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
  return l;
}

// A parse error (or out_of_range, for 1e400) as "NAME: message", without nlohmann's
// "[json.exception.parse_error.101] " prefix.
}  // namespace nook::config_detail
