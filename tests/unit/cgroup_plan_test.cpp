// cgroup_plan.cpp: the placement decisions (layout, which v1 hierarchies, which directories
// are made from where, what delete --force may remove) and the rows of the resource table
// that cgroup_test.cpp does not check value by value. Pure, any user; exact values.
#include <gtest/gtest.h>

#include "cgroup.hpp"
#include "cgroup_internal.hpp"
#include "error.hpp"

namespace nook {
namespace {

using namespace cgroup_internal;
using Strings = std::vector<std::string>;
using Set = std::set<std::string>;

CgroupMount v1mount(const std::string& name, Strings controllers) {
  CgroupMount m;
  // append, not operator+: GCC 12's -Wrestrict misreads the inlined copy (a false positive)
  m.mountpoint = "/sys/fs/cgroup/";
  m.mountpoint.append(name);
  m.root = "/";
  m.controllers = std::move(controllers);
  return m;
}

CgroupMount v2mount(const std::string& mountpoint = "/sys/fs/cgroup") {
  CgroupMount m;
  m.v2 = true;
  m.mountpoint = mountpoint;
  m.root = "/";
  return m;
}

// This test host's kind: v1 hierarchies and cgroup2 in "unified".
Host hybrid_host() {
  Host h;
  h.v1 = {v1mount("cpu,cpuacct", {"cpu", "cpuacct"}), v1mount("memory", {"memory"}),
          v1mount("systemd", {"name=systemd"})};
  h.v2 = v2mount("/sys/fs/cgroup/unified");
  h.own = {{"cpu,cpuacct", "/user.slice"},
           {"memory", "/user.slice/u.service"},
           {"name=systemd", "/user.slice/u.service/s.scope"},
           {"", "/user.slice/u.service/s.scope"}};
  return h;
}

// The writes as "v1:controller:file=value" strings.
Strings writes(const CgroupPlan& p) {
  Strings out;
  for (auto& w : p.writes)
    out.push_back((w.v2 ? "v2:" : "v1:") + w.controller + ":" + w.file + "=" + w.value +
                  (w.alt_file.empty() ? "" : " | " + w.alt_file + "=" + w.alt_value));
  return out;
}

CgroupLayout layout_v1(Set v1) {
  CgroupLayout l;
  l.v1 = std::move(v1);
  return l;
}

CgroupLayout layout_v2(Set v2) {
  CgroupLayout l;
  l.v2 = std::move(v2);
  l.v2_mounted = true;
  return l;
}

// The error cgroup_plan throws, or "no error".
std::string plan_error(const Resources& r, const CgroupLayout& l, bool strict) {
  try {
    cgroup_plan(r, {}, l, strict);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// ---------------------------------------------------------------------------------------------
// Placement decisions

TEST(CgroupLayoutOf, ControllersOfTheV1MountsAndTheV2File) {
  Host h = hybrid_host();
  CgroupLayout l = cgroup_layout(h.v1, true, "cpuset cpu io memory hugetlb pids\n");
  EXPECT_EQ(l.v1, (Set{"cpu", "cpuacct", "memory", "name=systemd"}));
  EXPECT_EQ(l.v2, (Set{"cpuset", "cpu", "io", "memory", "hugetlb", "pids"}));
  EXPECT_TRUE(l.v2_mounted);
}

TEST(CgroupLayoutOf, EmptyOrUnreadableControllersFile) {
  CgroupLayout l = cgroup_layout({}, true, "");
  EXPECT_TRUE(l.v1.empty());
  EXPECT_TRUE(l.v2.empty());
  EXPECT_TRUE(l.v2_mounted);
  l = cgroup_layout({}, false, "\n");
  EXPECT_TRUE(l.v2.empty());
  EXPECT_FALSE(l.v2_mounted);
  // doubled and trailing blanks make no empty controller
  EXPECT_EQ(cgroup_layout({}, true, "cpu  memory \n").v2, (Set{"cpu", "memory"}));
}

TEST(CgroupV1Wanted, OnlyWhatTheJobNeeds) {
  Strings freezer = {"freezer"}, memory = {"memory"}, cpu = {"cpu", "cpuacct"};
  Strings systemd = {"name=systemd"};
  // default path, no resources, v2 freezes: no v1 hierarchy at all
  for (auto* c : {&freezer, &memory, &cpu, &systemd})
    EXPECT_FALSE(cgroup_v1_wanted(*c, {}, false, true));
  // v2 cannot freeze: the v1 freezer, and only it
  EXPECT_TRUE(cgroup_v1_wanted(freezer, {}, false, false));
  EXPECT_FALSE(cgroup_v1_wanted(memory, {}, false, false));
  // the hierarchies the plan writes to, by any of their controllers
  EXPECT_TRUE(cgroup_v1_wanted(memory, {"memory"}, false, true));
  EXPECT_TRUE(cgroup_v1_wanted(cpu, {"cpu"}, false, true));
  EXPECT_FALSE(cgroup_v1_wanted(cpu, {"memory"}, false, true));
  // an explicit cgroupsPath: every hierarchy
  for (auto* c : {&freezer, &memory, &cpu, &systemd})
    EXPECT_TRUE(cgroup_v1_wanted(*c, {}, true, true));
}

TEST(CgroupTargetOf, AsRootFromTheMountPoint) {
  EXPECT_EQ(cgroup_target(v2mount(), "/nook/c1"),
            (CgroupTarget{"/sys/fs/cgroup/nook/c1", "/sys/fs/cgroup", "/nook/c1"}));
  EXPECT_EQ(cgroup_target(v1mount("memory", {"memory"}), "/a/b"),
            (CgroupTarget{"/sys/fs/cgroup/memory/a/b", "/sys/fs/cgroup/memory", "/a/b"}));
  // a sub-tree mount: the path below its root is made below the mount point
  CgroupMount m = v2mount();
  m.root = "/docker/abc";
  EXPECT_EQ(cgroup_target(m, "/docker/abc/nook/c1"),
            (CgroupTarget{"/sys/fs/cgroup/nook/c1", "/sys/fs/cgroup", "/nook/c1"}));
}

TEST(CgroupTargetOf, UnprivilegedFromTheOwnCgroup) {
  CgroupMount m = v2mount();
  const std::string own = "/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope";
  EXPECT_EQ(
      cgroup_target_below(m, own, own + "/nook/c1"),
      (CgroupTarget{"/sys/fs/cgroup" + own + "/nook/c1", "/sys/fs/cgroup" + own, "/nook/c1"}));
  // an absolute cgroupsPath elsewhere: from the mount point (and probably not writable)
  EXPECT_EQ(cgroup_target_below(m, own, "/abs/x"),
            (CgroupTarget{"/sys/fs/cgroup/abs/x", "/sys/fs/cgroup", "/abs/x"}));
  // "/a" is not below "/ab"'s sibling: a prefix of the name is not a parent
  EXPECT_EQ(cgroup_target_below(m, "/a", "/ab/nook/c1"),
            (CgroupTarget{"/sys/fs/cgroup/ab/nook/c1", "/sys/fs/cgroup", "/ab/nook/c1"}));
  // own cgroup "/" (a cgroup namespace): everything is below it
  EXPECT_EQ(cgroup_target_below(m, "/", "/nook/c1"),
            (CgroupTarget{"/sys/fs/cgroup/nook/c1", "/sys/fs/cgroup", "/nook/c1"}));
}

TEST(CgroupLeftovers, RootEveryHierarchyV1First) {
  EXPECT_EQ(cgroup_leftover_dirs(hybrid_host(), true, "c1", "", false),
            (Strings{"/sys/fs/cgroup/cpu,cpuacct/nook/c1", "/sys/fs/cgroup/memory/nook/c1",
                     "/sys/fs/cgroup/systemd/nook/c1", "/sys/fs/cgroup/unified/nook/c1"}));
  EXPECT_EQ(cgroup_leftover_dirs(hybrid_host(), true, "c1", "/pod/c1", false).back(),
            "/sys/fs/cgroup/unified/pod/c1");
  EXPECT_EQ(cgroup_leftover_dirs(hybrid_host(), true, "c1", "", true).front(),
            "/sys/fs/cgroup/cpu,cpuacct/system.slice/nook-c1.scope");
}

TEST(CgroupLeftovers, UnprivilegedOnlyBelowTheOwnV2Cgroup) {
  EXPECT_EQ(cgroup_leftover_dirs(hybrid_host(), false, "c1", "", false),
            (Strings{"/sys/fs/cgroup/unified/user.slice/u.service/s.scope/nook/c1"}));
  EXPECT_EQ(cgroup_leftover_dirs(hybrid_host(), false, "c1", "sub", false),
            (Strings{"/sys/fs/cgroup/unified/user.slice/u.service/s.scope/nook/sub"}));
  Host no_v2 = hybrid_host();
  no_v2.v2.reset();
  EXPECT_TRUE(cgroup_leftover_dirs(no_v2, false, "c1", "", false).empty());
  EXPECT_THROW(cgroup_leftover_dirs(hybrid_host(), false, "c1", "../x", false), Error);
}

TEST(CgroupHostOwnPath, ByControllerListAndV2) {
  Host h = hybrid_host();
  EXPECT_EQ(h.own_path(h.v1[0]), "/user.slice");
  EXPECT_EQ(h.own_path(h.v1[1]), "/user.slice/u.service");
  EXPECT_EQ(h.own_path(h.v1[2]), "/user.slice/u.service/s.scope");
  EXPECT_EQ(h.own_path(*h.v2), "/user.slice/u.service/s.scope");
  EXPECT_EQ(h.own_path(v1mount("pids", {"pids"})), "/");  // not in /proc/self/cgroup
  h.own.clear();
  EXPECT_EQ(h.own_path(*h.v2), "/");
}

// ---------------------------------------------------------------------------------------------
// Resource rows checked value by value

TEST(CgroupPlanRows, MemoryV1EveryKnob) {
  Resources r;
  r.memory.emplace();
  r.memory->kernel_tcp = 1 << 20;
  r.memory->disable_oom_killer = false;
  r.memory->use_hierarchy = true;
  auto p = cgroup_plan(r, {}, layout_v1({"memory"}), true);
  EXPECT_EQ(writes(p),
            (Strings{"v1:memory:memory.kmem.tcp.limit_in_bytes=1048576",
                     "v1:memory:memory.oom_control=0", "v1:memory:memory.use_hierarchy=1"}));
  r.memory->use_hierarchy = false;  // false is the kernel's default: nothing written
  EXPECT_EQ(writes(cgroup_plan(r, {}, layout_v1({"memory"}), true)).size(), 2u);
}

TEST(CgroupPlanRows, MemoryV2IgnoredKnobsSayWhy) {
  Resources r;
  r.memory.emplace();
  r.memory->kernel_tcp = 1;
  r.memory->swappiness = 1;
  r.memory->disable_oom_killer = true;
  r.memory->kernel = 1;
  auto p = cgroup_plan(r, {}, layout_v2({"memory"}), true);
  EXPECT_TRUE(p.writes.empty());
  EXPECT_EQ(p.ignored,
            (Strings{"linux.resources.memory.kernel: kernel memory limits are deprecated and not "
                     "set (as runc)",
                     "linux.resources.memory.kernelTCP: not available on cgroup v2",
                     "linux.resources.memory.swappiness: not available on cgroup v2",
                     "linux.resources.memory.disableOOMKiller: not available on cgroup v2"}));
  r.memory->disable_oom_killer = false;  // asking for the default is not ignored
  EXPECT_EQ(cgroup_plan(r, {}, layout_v2({"memory"}), true).ignored.size(), 3u);
}

TEST(CgroupPlanRows, SwapMessages) {
  Resources r;
  r.memory.emplace();
  r.memory->limit = 200;
  r.memory->swap = 100;
  EXPECT_EQ(plan_error(r, layout_v1({"memory"}), true),
            "linux.resources.memory: swap (memory+swap, 100) must not be below "
            "limit (200)");
  r.memory->limit.reset();
  EXPECT_EQ(plan_error(r, layout_v2({"memory"}), true),
            "linux.resources.memory.swap: a swap limit needs a memory limit on cgroup v2");
}

TEST(CgroupPlanRows, CpuV1EveryKnob) {
  Resources r;
  r.cpu.emplace();
  r.cpu->quota = -1;
  r.cpu->burst = 1000;
  r.cpu->realtime_period = 1000000;
  r.cpu->realtime_runtime = 950000;
  r.cpu->idle = 1;
  EXPECT_EQ(writes(cgroup_plan(r, {}, layout_v1({"cpu"}), true)),
            (Strings{"v1:cpu:cpu.cfs_quota_us=-1", "v1:cpu:cpu.cfs_burst_us=1000",
                     "v1:cpu:cpu.rt_period_us=1000000", "v1:cpu:cpu.rt_runtime_us=950000",
                     "v1:cpu:cpu.idle=1"}));
}

TEST(CgroupPlanRows, CpuV2MaxBurstIdle) {
  Resources r;
  r.cpu.emplace();
  r.cpu->quota = 20000;  // without a period: the kernel keeps its period
  r.cpu->burst = 500;
  r.cpu->idle = 0;
  EXPECT_EQ(writes(cgroup_plan(r, {}, layout_v2({"cpu"}), true)),
            (Strings{"v2:cpu:cpu.max=20000", "v2:cpu:cpu.max.burst=500", "v2:cpu:cpu.idle=0"}));
  r = {};
  r.cpu.emplace();
  r.cpu->period = 50000;  // a period alone: unlimited quota
  EXPECT_EQ(writes(cgroup_plan(r, {}, layout_v2({"cpu"}), true)),
            (Strings{"v2:cpu:cpu.max=max 50000"}));
  r.cpu->quota = 0;
  EXPECT_EQ(writes(cgroup_plan(r, {}, layout_v2({"cpu"}), true)),
            (Strings{"v2:cpu:cpu.max=max 50000"}));
  r.cpu->period = 0;  // 0 is unset, and so is shares 0
  r.cpu->quota.reset();
  r.cpu->shares = 0;
  EXPECT_TRUE(cgroup_plan(r, {}, layout_v2({"cpu"}), true).writes.empty());
}

TEST(CgroupPlanRows, CpusetOnV2AndMissing) {
  Resources r;
  r.cpu.emplace();
  r.cpu->mems = "0-1";
  EXPECT_EQ(writes(cgroup_plan(r, {}, layout_v2({"cpuset"}), true)),
            (Strings{"v2:cpuset:cpuset.mems=0-1"}));
  auto p = cgroup_plan(r, {}, layout_v2({"cpu"}), false);
  EXPECT_EQ(p.ignored, (Strings{"linux.resources.cpu.cpus/mems: no cpuset controller on this "
                                "host (neither a cgroup v1 hierarchy nor in cgroup v2)"}));
  EXPECT_EQ(p.v2_needed, Set{});
}

BlockIoDevice dev(int64_t major, int64_t minor, uint64_t rate) {
  BlockIoDevice d;
  d.major = major;
  d.minor = minor;
  d.rate = rate;
  return d;
}

Resources block_io_every_knob() {
  Resources r;
  r.block_io.emplace();
  auto& b = *r.block_io;
  b.weight = 10;
  BlockIoDevice w;
  w.major = 8;
  w.minor = 0;
  w.weight = 1000;
  BlockIoDevice leaf_only;  // no weight: nothing to write
  leaf_only.major = 8;
  leaf_only.minor = 16;
  leaf_only.leaf_weight = 10;
  b.weight_device = {w, leaf_only};
  b.throttle_read_bps = {dev(8, 0, 1)};
  b.throttle_write_bps = {dev(8, 0, 2)};
  b.throttle_read_iops = {dev(8, 0, 3)};
  b.throttle_write_iops = {dev(8, 0, 4), dev(253, 1, 5)};
  return r;
}

TEST(CgroupPlanRows, BlockIoV1EveryKnob) {
  auto p = cgroup_plan(block_io_every_knob(), {}, layout_v1({"blkio"}), true);
  EXPECT_EQ(writes(p), (Strings{"v1:blkio:blkio.weight=10 | blkio.bfq.weight=10",
                                "v1:blkio:blkio.weight_device=8:0 1000 | "
                                "blkio.bfq.weight_device=8:0 1000",
                                "v1:blkio:blkio.throttle.read_bps_device=8:0 1",
                                "v1:blkio:blkio.throttle.write_bps_device=8:0 2",
                                "v1:blkio:blkio.throttle.read_iops_device=8:0 3",
                                "v1:blkio:blkio.throttle.write_iops_device=8:0 4",
                                "v1:blkio:blkio.throttle.write_iops_device=253:1 5"}));
  EXPECT_EQ(p.ignored, (Strings{"linux.resources.blockIO.weightDevice.leafWeight: needs CFQ, "
                                "gone since 5.0"}));
}

TEST(CgroupPlanRows, BlockIoV2EveryKnob) {
  auto p = cgroup_plan(block_io_every_knob(), {}, layout_v2({"io"}), true);
  // io.weight = 1 + (W - 10) * 9999 / 990: 10 -> 1, 1000 -> 10000
  EXPECT_EQ(writes(p), (Strings{"v2:io:io.bfq.weight=default 10 | io.weight=default 1",
                                "v2:io:io.bfq.weight=8:0 1000 | io.weight=8:0 10000",
                                "v2:io:io.max=8:0 rbps=1", "v2:io:io.max=8:0 wbps=2",
                                "v2:io:io.max=8:0 riops=3", "v2:io:io.max=8:0 wiops=4",
                                "v2:io:io.max=253:1 wiops=5"}));
  EXPECT_TRUE(p.ignored.empty());  // the per-device leaf weight is only reported on v1
  EXPECT_EQ(p.v2_needed, Set{"io"});
}

TEST(CgroupPlanRows, BlockIoMissingNamesTheV2Controller) {
  Resources r;
  r.block_io.emplace();
  r.block_io->weight = 100;
  EXPECT_EQ(plan_error(r, layout_v2({"memory"}), true),
            "linux.resources.blockIO: no io controller on this host (neither a "
            "cgroup v1 hierarchy nor in cgroup v2)");
}

TEST(CgroupPlanRows, IgnoredResourcesSayWhy) {
  Resources r;
  r.has_rdma = true;
  r.block_io.emplace();
  r.block_io->leaf_weight = 500;
  r.cpu.emplace();
  r.cpu->realtime_period = 1;
  auto p = cgroup_plan(r, {}, layout_v2({"cpu", "io"}), true);
  EXPECT_EQ(p.ignored,
            (Strings{"linux.resources.cpu.realtimePeriod/realtimeRuntime: not available on "
                     "cgroup v2",
                     "linux.resources.blockIO.leafWeight: needs the CFQ scheduler, gone since "
                     "Linux 5.0"}));
  EXPECT_TRUE(p.writes.empty());
}

// Where the controller exists nowhere: an error as root (docs/cgroups.md: a resource that
// cannot be applied), one warning unprivileged; runc and crun fail as root too.
TEST(CgroupPlanRows, HugepagesWithoutTheControllerAnErrorAsRoot) {
  Resources r;
  r.hugepage_limits = {{"2MB", 4 << 20}};
  const std::string why =
      "linux.resources.hugepageLimits: no hugetlb controller on this host (neither a cgroup v1 "
      "hierarchy nor in cgroup v2)";
  EXPECT_EQ(plan_error(r, layout_v2({"memory", "pids"}), true), why);
  EXPECT_EQ(plan_error(r, layout_v1({"memory", "cpu"}), true), why);
  auto p = cgroup_plan(r, {}, layout_v2({"memory", "pids"}), false);
  EXPECT_EQ(p.ignored, (Strings{why}));
  EXPECT_TRUE(p.writes.empty());
  EXPECT_TRUE(p.v2_needed.empty());
}

// linux.resources.network: net_cls.classid and one net_prio.ifpriomap line per priority on
// cgroup v1 (the hierarchy "net_cls,net_prio" or two of their own).
TEST(CgroupPlanRows, NetworkOnV1) {
  Resources r;
  r.network.emplace();
  r.network->class_id = 0x100001;
  r.network->priorities = {{"eth0", 5}, {"lo", 4294967295u}};
  auto p = cgroup_plan(r, {}, layout_v1({"net_cls", "net_prio", "memory"}), true);
  EXPECT_EQ(writes(p),
            (Strings{"v1:net_cls:net_cls.classid=1048577", "v1:net_prio:net_prio.ifpriomap=eth0 5",
                     "v1:net_prio:net_prio.ifpriomap=lo 4294967295"}));
  EXPECT_EQ(p.v1_needed, (Set{"net_cls", "net_prio"}));
  EXPECT_TRUE(p.ignored.empty());
  // classID alone needs only net_cls
  r.network->priorities.clear();
  p = cgroup_plan(r, {}, layout_v1({"net_cls"}), true);
  EXPECT_EQ(writes(p), (Strings{"v1:net_cls:net_cls.classid=1048577"}));
  EXPECT_EQ(p.v1_needed, (Set{"net_cls"}));
}

// Where cgroup v1 is used but net_cls / net_prio are not mounted: an error as root (runc's v1
// manager fails too); nothing from the plan unprivileged (the key policy has warned).
TEST(CgroupPlanRows, NetworkV1ControllerNotMounted) {
  Resources r;
  r.network.emplace();
  r.network->class_id = 7;
  EXPECT_EQ(plan_error(r, layout_v1({"memory"}), true),
            "linux.resources.network.classID: no net_cls controller on this host (not mounted "
            "as a cgroup v1 hierarchy)");
  r.network->class_id.reset();
  r.network->priorities = {{"eth0", 1}};
  CgroupLayout hybrid = layout_v2({"memory"});
  hybrid.v1 = {"cpu", "net_cls"};
  EXPECT_EQ(plan_error(r, hybrid, true),
            "linux.resources.network.priorities: no net_prio controller on this host (not "
            "mounted as a cgroup v1 hierarchy)");
  auto p = cgroup_plan(r, {}, layout_v2({"memory"}), false);
  EXPECT_TRUE(p.writes.empty());
  EXPECT_TRUE(p.ignored.empty());
}

// cgroup v2 alone has no such controllers: ignored with a warning even as root, as runc's fs2
// manager ignores them (it has no code for them).
TEST(CgroupPlanRows, NetworkOnV2OnlyIgnoredWithAWarning) {
  Resources r;
  r.network.emplace();
  r.network->class_id = 7;
  r.network->priorities = {{"eth0", 1}};
  auto p = cgroup_plan(r, {}, layout_v2({"memory", "pids"}), true);
  EXPECT_TRUE(p.writes.empty());
  EXPECT_EQ(p.ignored,
            (Strings{"linux.resources.network.classID ignored: cgroup v2 has no net_cls "
                     "controller (a cgroup v1 one; runc ignores it on cgroup v2 too)",
                     "linux.resources.network.priorities ignored: cgroup v2 has no net_prio "
                     "controller (a cgroup v1 one; runc ignores it on cgroup v2 too)"}));
}

TEST(CgroupPlanRows, HugepageBadSizeMessage) {
  Resources r;
  r.hugepage_limits = {{"", 1}};
  EXPECT_EQ(plan_error(r, layout_v2({"hugetlb"}), true),
            "linux.resources.hugepageLimits: bad pageSize \"\"");
}

TEST(CgroupPlanRows, UnifiedMessages) {
  Resources r;
  r.unified = {{"io.max", "8:0 rbps=1"}};
  CgroupLayout l = layout_v2({"memory"});
  l.v1 = {"blkio"};
  auto p = cgroup_plan(r, {}, l, false);
  EXPECT_EQ(p.ignored, (Strings{"linux.resources.unified: \"io.max\": the io controller is not "
                                "available in cgroup v2"}));
  l.v1 = {"io"};
  EXPECT_EQ(cgroup_plan(r, {}, l, false).ignored.front(),
            "linux.resources.unified: \"io.max\": the io controller is not available in cgroup "
            "v2 (this host has it on cgroup v1)");
  r.unified = {{"a/b.c", "1"}};
  EXPECT_EQ(plan_error(r, l, false),
            "linux.resources.unified: \"a/b.c\" is not a cgroup v2 file nook may set");
}

// The whole v1 device list of a default config, in order.
TEST(CgroupPlanRows, DeviceRulesExactList) {
  Resources r;
  DeviceRule deny;
  deny.access = "rwm";
  DeviceRule any_type;  // no type, no access: all devices, all access
  any_type.allow = true;
  any_type.major = -1;
  any_type.minor = 3;
  r.devices = {deny, any_type};
  Device fuse;
  fuse.type = "u";  // unbuffered character device: a "c" rule
  fuse.major = 10;
  fuse.minor = 229;
  auto p = cgroup_plan(r, {fuse}, layout_v1({"devices"}), true);
  Strings want = {"deny=a *:* rwm",     "allow=a *:3 rwm",   "allow=c *:* m",     "allow=b *:* m",
                  "allow=c 1:3 rwm",    "allow=c 1:8 rwm",   "allow=c 1:7 rwm",   "allow=c 5:0 rwm",
                  "allow=c 1:5 rwm",    "allow=c 1:9 rwm",   "allow=c 136:* rwm", "allow=c 5:2 rwm",
                  "allow=c 10:200 rwm", "allow=c 10:229 rwm"};
  Strings got;
  for (auto& w : p.writes) got.push_back(w.file.substr(8) + "=" + w.value);
  EXPECT_EQ(got, want);
  // no rules: not even the defaults
  r.devices.clear();
  EXPECT_TRUE(cgroup_plan(r, {fuse}, layout_v1({"devices"}), true).writes.empty());
}

TEST(CgroupPlanRows, ResourcesRequestedByEachField) {
  auto requested = [](auto set) {
    Resources r;
    set(r);
    return cgroup_resources_requested(r);
  };
  EXPECT_TRUE(requested([](Resources& r) { r.hugepage_limits = {{"2MB", 1}}; }));
  EXPECT_TRUE(requested([](Resources& r) { r.has_rdma = true; }));
  EXPECT_TRUE(requested([](Resources& r) { r.network.emplace().class_id = 1; }));
  EXPECT_TRUE(requested([](Resources& r) { r.unified = {{"memory.high", "1"}}; }));
  EXPECT_TRUE(requested([](Resources& r) { r.memory.emplace().kernel = 1; }));
  EXPECT_TRUE(requested([](Resources& r) { r.memory.emplace().swap = 0; }));
  EXPECT_TRUE(requested([](Resources& r) { r.cpu.emplace().cpus = "0"; }));
  EXPECT_TRUE(requested([](Resources& r) { r.cpu.emplace().idle = 0; }));
  EXPECT_TRUE(requested([](Resources& r) { r.block_io.emplace().leaf_weight = 1; }));
  EXPECT_TRUE(
      requested([](Resources& r) { r.block_io.emplace().throttle_write_iops = {dev(1, 1, 1)}; }));
  // use_hierarchy alone is not counted (no warning for it), nor are empty sections
  EXPECT_FALSE(requested([](Resources& r) { r.memory.emplace().use_hierarchy = true; }));
  EXPECT_FALSE(requested([](Resources& r) { r.block_io.emplace(); }));
}

// ---------------------------------------------------------------------------------------------
// exec --cgroup

using SubPaths = std::map<std::string, std::string>;

std::string sub_paths_error(const Strings& args) {
  try {
    cgroup_parse_sub_paths(args);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(CgroupExecSub, ParsedAsRuncDoes) {
  EXPECT_EQ(cgroup_parse_sub_paths({"sub"}), (SubPaths{{"", "sub"}}));
  EXPECT_EQ(cgroup_parse_sub_paths({"memory:m", "cpu,cpuacct:c/d"}),
            (SubPaths{{"memory", "m"}, {"cpu", "c/d"}, {"cpuacct", "c/d"}}));
  EXPECT_EQ(cgroup_parse_sub_paths({"/"}), (SubPaths{{"", "/"}}));
  EXPECT_TRUE(cgroup_parse_sub_paths({}).empty());
  EXPECT_EQ(sub_paths_error({"a", "b"}),
            "invalid --cgroup argument: a (missing <controller>: prefix)");
  EXPECT_EQ(sub_paths_error({"memory:m", "b"}),
            "invalid --cgroup argument: b (missing <controller>: prefix)");
  EXPECT_EQ(sub_paths_error({":x"}), "invalid --cgroup argument: :x (empty <controller> prefix)");
  EXPECT_EQ(sub_paths_error({"cpu,:x"}),
            "invalid --cgroup argument: cpu,:x (empty <controller> prefix)");
  EXPECT_EQ(sub_paths_error({"cpu:a", "cpu,memory:b"}),
            "invalid --cgroup argument(s): controller cpu specified multiple times");
}

std::string sub_error(const CgroupPlacement& p, const std::vector<Strings>& ctls,
                      const SubPaths& subs) {
  try {
    cgroup_sub_placement_for(p, ctls, subs);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(CgroupExecSub, PathBelowTheContainersCgroupInEveryHierarchy) {
  CgroupPlacement p{"/u/nook/c", {"/m/nook/c", "/cc/nook/c"}};
  std::vector<Strings> ctls = {{"memory"}, {"cpu", "cpuacct"}};
  auto q = cgroup_sub_placement_for(p, ctls, {{"", "a/b"}});
  EXPECT_EQ(q.v2, "/u/nook/c/a/b");
  EXPECT_EQ(q.v1, (Strings{"/m/nook/c/a/b", "/cc/nook/c/a/b"}));
  // "/" and "" are the container's own; a leading '/' is relative, '.' and '//' cleaned
  q = cgroup_sub_placement_for(p, ctls, {{"", "/"}});
  EXPECT_EQ(q.v2, p.v2);
  EXPECT_EQ(q.v1, p.v1);
  q = cgroup_sub_placement_for(p, ctls, {{"", "/x//./y/"}});
  EXPECT_EQ(q.v2, "/u/nook/c/x/y");
  for (auto bad : {"..", "a/../b", "../../x", "a/.."})
    EXPECT_EQ(sub_error(p, ctls, {{"", bad}}),
              "exec --cgroup " + std::string(bad) +
                  ": the path must not contain '..' (it is below the container's cgroup)")
        << bad;
}

TEST(CgroupExecSub, ControllerFormsOnV1AndHybrid) {
  CgroupPlacement p{"/u/nook/c", {"/m/nook/c", "/cc/nook/c"}};
  std::vector<Strings> ctls = {{"memory"}, {"cpu", "cpuacct"}};
  // one hierarchy; the others (v2 included) stay the container's
  auto q = cgroup_sub_placement_for(p, ctls, {{"memory", "m"}});
  EXPECT_EQ(q.v1, (Strings{"/m/nook/c/m", "/cc/nook/c"}));
  EXPECT_EQ(q.v2, "/u/nook/c");
  q = cgroup_sub_placement_for(p, ctls, {{"cpu", "s"}, {"cpuacct", "s"}, {"memory", "/"}});
  EXPECT_EQ(q.v1, (Strings{"/m/nook/c", "/cc/nook/c/s"}));
  EXPECT_EQ(sub_error(p, ctls, {{"cpu", "s"}, {"cpuacct", "t"}}),
            "exec --cgroup cpuacct:t: cpu and cpuacct share a cgroup v1 hierarchy: give them the "
            "same path");
  EXPECT_EQ(sub_error(p, ctls, {{"pids", "s"}}),
            "exec --cgroup pids:s: unknown controller pids (the container has no cgroup of its "
            "own for it)");
  EXPECT_EQ(sub_error(p, ctls, {{"whaaat", "/"}}),
            "exec --cgroup whaaat:/: unknown controller whaaat (the container has no cgroup of "
            "its own for it)");
}

TEST(CgroupExecSub, ControllerFormsOnV2AloneNameOnePath) {
  CgroupPlacement p{"/sys/fs/cgroup/nook/c", {}};
  auto q = cgroup_sub_placement_for(p, {}, {{"memory", "s"}, {"cpu", "s"}});
  EXPECT_EQ(q.v2, "/sys/fs/cgroup/nook/c/s");
  EXPECT_EQ(sub_error(p, {}, {{"cpu", "s"}, {"memory", "t"}}),
            "exec --cgroup memory:t: cgroup v2 has a single hierarchy: cpu and memory must name "
            "the same path");
  EXPECT_EQ(sub_error(p, {}, {{"whaaat", "s"}}),
            "exec --cgroup whaaat:s: unknown controller whaaat (the container has no cgroup of "
            "its own for it)");
}

}  // namespace
}  // namespace nook
