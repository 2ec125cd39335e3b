// The cgroup module: path policy, resources -> file writes, /proc parsing (pure, any user), and
// the real thing on this host's cgroups (root only; skipped otherwise).
#include "cgroup.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "error.hpp"

namespace nook {
namespace {

// ---------------------------------------------------------------------------------------------
// Path policy

TEST(CgroupPath, DefaultIsParentSlashId) {
  EXPECT_EQ(cgroup_path_for("c1", "", false, "/nook"), "/nook/c1");
}

TEST(CgroupPath, RelativeGoesBelowTheDefaultParent) {
  EXPECT_EQ(cgroup_path_for("c1", "pod/c1", false, "/nook"), "/nook/pod/c1");
  EXPECT_EQ(cgroup_path_for("c1", "./a//b/", false, "/nook"), "/nook/a/b");
}

TEST(CgroupPath, AbsoluteIsBelowTheHierarchyRoot) {
  EXPECT_EQ(cgroup_path_for("c1", "/libpod_parent/libpod-abc", false, "/nook"),
            "/libpod_parent/libpod-abc");
  EXPECT_EQ(cgroup_path_for("c1", "//a/./b/", false, "/nook"), "/a/b");
}

TEST(CgroupPath, UnprivilegedParentIsTheOwnCgroup) {
  EXPECT_EQ(cgroup_path_for("c1", "", false, "/user.slice/user@1000.service/app/nook"),
            "/user.slice/user@1000.service/app/nook/c1");
  EXPECT_EQ(cgroup_path_for("c1", "x", false, "/own/nook"), "/own/nook/x");
}

TEST(CgroupPath, DotDotIsRefused) {
  EXPECT_THROW(cgroup_path_for("c1", "../../escape", false, "/nook"), Error);
  EXPECT_THROW(cgroup_path_for("c1", "/a/../b", false, "/nook"), Error);
  try {
    cgroup_path_for("c1", "a/../../b", false, "/nook");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("linux.cgroupsPath"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(".."), std::string::npos) << e.what();
  }
}

TEST(CgroupPath, SystemdFormMapsLikeRunc) {
  EXPECT_EQ(cgroup_path_for("c1", "system.slice:nook:c1", true, "/nook"),
            "/system.slice/nook-c1.scope");
  EXPECT_EQ(cgroup_path_for("c1", "machine.slice:libpod:abc", true, "/nook"),
            "/machine.slice/libpod-abc.scope");
  EXPECT_EQ(cgroup_systemd_path("user-1000-app.slice:p:n", "id"),
            "/user.slice/user-1000.slice/user-1000-app.slice/p-n.scope");
  // a name that is a slice is used as it is; an empty name is the id; no prefix
  EXPECT_EQ(cgroup_systemd_path("system.slice:p:sub.slice", "id"), "/system.slice/sub.slice");
  EXPECT_EQ(cgroup_systemd_path("system.slice:p:", "id"), "/system.slice/p-id.scope");
  EXPECT_EQ(cgroup_systemd_path("system.slice::n", "id"), "/system.slice/n.scope");
  EXPECT_EQ(cgroup_systemd_path("-.slice:p:n", "id"), "/p-n.scope");
  EXPECT_EQ(cgroup_systemd_path(":p:n", "id"), "/p-n.scope");
}

TEST(CgroupPath, SystemdDefaultIsSystemSlice) {
  EXPECT_EQ(cgroup_path_for("c1", "", true, "/nook"), "/system.slice/nook-c1.scope");
}

TEST(CgroupPath, SystemdMalformedIsRefused) {
  for (const char* bad : {"/plain/path", "a:b", "a:b:c:d", "notaslice:p:n", "a--b.slice:p:n",
                          "-a.slice:p:n", "a.slice:p/q:n", "a.slice:p:n/m"}) {
    try {
      cgroup_path_for("c1", bad, true, "/nook");
      ADD_FAILURE() << bad << ": no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("slice:prefix:name"), std::string::npos) << e.what();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Resources -> writes

CgroupLayout hybrid() {  // this test host: real controllers on v1, hugetlb only on v2
  CgroupLayout l;
  l.v1 = {"cpu",     "cpuacct", "cpuset", "memory",      "devices",
          "freezer", "blkio",   "pids",   "name=systemd"};
  l.v2 = {"hugetlb"};
  l.v2_mounted = true;
  return l;
}

CgroupLayout v2only() {
  CgroupLayout l;
  l.v2 = {"cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"};
  l.v2_mounted = true;
  return l;
}

CgroupLayout v1only() {
  CgroupLayout l = hybrid();
  l.v2.clear();
  l.v2_mounted = false;
  return l;
}

// The writes as "v1:file=value" / "v2:file=value" strings, easy to compare.
std::vector<std::string> files(const CgroupPlan& p) {
  std::vector<std::string> out;
  for (auto& w : p.writes) out.push_back((w.v2 ? "v2:" : "v1:") + w.file + "=" + w.value);
  return out;
}

using Strings = std::vector<std::string>;

TEST(CgroupPlan, NothingRequestedNothingWritten) {
  Resources r;
  auto p = cgroup_plan(r, {}, hybrid(), true);
  EXPECT_TRUE(p.writes.empty());
  EXPECT_TRUE(p.ignored.empty());
  r.memory.emplace();  // "memory": {} asks for nothing
  r.cpu.emplace();
  EXPECT_TRUE(cgroup_plan(r, {}, v2only(), true).writes.empty());
  EXPECT_FALSE(cgroup_resources_requested(r));
}

TEST(CgroupPlan, MemoryV1) {
  Resources r;
  r.memory.emplace();
  r.memory->limit = 64 << 20;
  r.memory->reservation = 32 << 20;
  r.memory->swap = 128 << 20;
  r.memory->swappiness = 10;
  r.memory->disable_oom_killer = true;
  auto p = cgroup_plan(r, {}, hybrid(), true);
  EXPECT_EQ(files(p), (Strings{"v1:memory.limit_in_bytes=67108864",
                               "v1:memory.memsw.limit_in_bytes=134217728",
                               "v1:memory.soft_limit_in_bytes=33554432", "v1:memory.swappiness=10",
                               "v1:memory.oom_control=1"}));
  EXPECT_EQ(p.v1_needed, (std::set<std::string>{"memory"}));
  EXPECT_TRUE(p.v2_needed.empty());
}

TEST(CgroupPlan, MemoryUnlimitedV1AndV2) {
  Resources r;
  r.memory.emplace();
  r.memory->limit = -1;
  EXPECT_EQ(files(cgroup_plan(r, {}, hybrid(), true)), (Strings{"v1:memory.limit_in_bytes=-1"}));
  EXPECT_EQ(files(cgroup_plan(r, {}, v2only(), true)),
            (Strings{"v2:memory.max=max", "v2:memory.swap.max=max"}));
}

TEST(CgroupPlan, MemoryV2SwapIsTheDifference) {
  Resources r;
  r.memory.emplace();
  r.memory->limit = 100 << 20;
  r.memory->swap = 300 << 20;
  r.memory->reservation = 50 << 20;
  auto p = cgroup_plan(r, {}, v2only(), true);
  EXPECT_EQ(files(p), (Strings{"v2:memory.max=104857600", "v2:memory.low=52428800",
                               "v2:memory.swap.max=209715200"}));
  EXPECT_EQ(p.v2_needed, (std::set<std::string>{"memory"}));
  r.memory->swap = -1;
  EXPECT_EQ(files(cgroup_plan(r, {}, v2only(), true)).back(), "v2:memory.swap.max=max");
  r.memory->swap = 0;  // 0 means unset (runc)
  EXPECT_EQ(files(cgroup_plan(r, {}, v2only(), true)).size(), 2u);
}

TEST(CgroupPlan, SwapBelowLimitIsAnError) {
  Resources r;
  r.memory.emplace();
  r.memory->limit = 200;
  r.memory->swap = 100;
  EXPECT_THROW(cgroup_plan(r, {}, hybrid(), true), Error);
  EXPECT_THROW(cgroup_plan(r, {}, v2only(), true), Error);
}

TEST(CgroupPlan, SwapWithoutLimitOnV2IsAnError) {
  Resources r;
  r.memory.emplace();
  r.memory->swap = 100 << 20;
  EXPECT_THROW(cgroup_plan(r, {}, v2only(), true), Error);
}

TEST(CgroupPlan, KernelMemoryIsIgnoredWithAReason) {
  Resources r;
  r.memory.emplace();
  r.memory->kernel = 1 << 20;
  auto p = cgroup_plan(r, {}, hybrid(), true);
  EXPECT_TRUE(p.writes.empty());
  ASSERT_EQ(p.ignored.size(), 1u);
  EXPECT_NE(p.ignored[0].find("memory.kernel"), std::string::npos);
}

TEST(CgroupPlan, MemoryV2OnlyKnobsAreIgnoredOnV2) {
  Resources r;
  r.memory.emplace();
  r.memory->swappiness = 5;
  r.memory->disable_oom_killer = true;
  auto p = cgroup_plan(r, {}, v2only(), true);
  EXPECT_TRUE(p.writes.empty());
  EXPECT_EQ(p.ignored.size(), 2u);
}

TEST(CgroupPlan, CpuV1) {
  Resources r;
  r.cpu.emplace();
  r.cpu->shares = 512;
  r.cpu->period = 100000;
  r.cpu->quota = 50000;
  r.cpu->cpus = "0";
  r.cpu->mems = "0";
  auto p = cgroup_plan(r, {}, hybrid(), true);
  EXPECT_EQ(files(p),
            (Strings{"v1:cpu.shares=512", "v1:cpu.cfs_period_us=100000",
                     "v1:cpu.cfs_quota_us=50000", "v1:cpuset.cpus=0", "v1:cpuset.mems=0"}));
  EXPECT_EQ(p.v1_needed, (std::set<std::string>{"cpu", "cpuset"}));
  EXPECT_EQ(p.writes[3].controller, "cpuset");
}

TEST(CgroupPlan, CpuV2ConversionsMatchRunc) {
  Resources r;
  r.cpu.emplace();
  r.cpu->shares = 1024;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  EXPECT_EQ(files(cgroup_plan(r, {}, v2only(), true)),
            (Strings{"v2:cpu.weight=39", "v2:cpu.max=50000 100000"}));
  r.cpu->shares = 2;  // the minimum -> weight 1
  r.cpu->quota = -1;
  EXPECT_EQ(files(cgroup_plan(r, {}, v2only(), true)),
            (Strings{"v2:cpu.weight=1", "v2:cpu.max=max 100000"}));
  r.cpu->shares = 262144;  // the maximum -> 10000
  r.cpu->quota.reset();
  r.cpu->period.reset();
  EXPECT_EQ(files(cgroup_plan(r, {}, v2only(), true)), (Strings{"v2:cpu.weight=10000"}));
}

TEST(CgroupPlan, CpuRealtimeIsIgnoredOnV2) {
  Resources r;
  r.cpu.emplace();
  r.cpu->realtime_runtime = 1000;
  auto p = cgroup_plan(r, {}, v2only(), true);
  EXPECT_TRUE(p.writes.empty());
  EXPECT_EQ(p.ignored.size(), 1u);
  EXPECT_EQ(files(cgroup_plan(r, {}, hybrid(), true)), (Strings{"v1:cpu.rt_runtime_us=1000"}));
}

TEST(CgroupPlan, Pids) {
  Resources r;
  r.pids_limit = 42;
  EXPECT_EQ(files(cgroup_plan(r, {}, hybrid(), true)), (Strings{"v1:pids.max=42"}));
  EXPECT_EQ(files(cgroup_plan(r, {}, v2only(), true)), (Strings{"v2:pids.max=42"}));
  r.pids_limit = -1;
  EXPECT_EQ(files(cgroup_plan(r, {}, hybrid(), true)), (Strings{"v1:pids.max=max"}));
  r.pids_limit = 0;
  EXPECT_EQ(files(cgroup_plan(r, {}, hybrid(), true)), (Strings{"v1:pids.max=max"}));
}

TEST(CgroupPlan, BlockIoV1WithBfqFallback) {
  Resources r;
  r.block_io.emplace();
  r.block_io->weight = 500;
  BlockIoDevice d;
  d.major = 8;
  d.minor = 0;
  d.rate = 1048576;
  r.block_io->throttle_read_bps = {d};
  r.block_io->throttle_write_iops = {d};
  auto p = cgroup_plan(r, {}, hybrid(), true);
  EXPECT_EQ(files(p),
            (Strings{"v1:blkio.weight=500", "v1:blkio.throttle.read_bps_device=8:0 1048576",
                     "v1:blkio.throttle.write_iops_device=8:0 1048576"}));
  EXPECT_EQ(p.writes[0].alt_file, "blkio.bfq.weight");
  EXPECT_EQ(p.writes[0].alt_value, "500");
}

TEST(CgroupPlan, BlockIoV2) {
  Resources r;
  r.block_io.emplace();
  r.block_io->weight = 500;
  BlockIoDevice d;
  d.major = 8;
  d.minor = 16;
  d.rate = 100;
  r.block_io->throttle_read_bps = {d};
  r.block_io->throttle_write_bps = {d};
  auto p = cgroup_plan(r, {}, v2only(), true);
  EXPECT_EQ(files(p), (Strings{"v2:io.bfq.weight=default 500", "v2:io.max=8:16 rbps=100",
                               "v2:io.max=8:16 wbps=100"}));
  EXPECT_EQ(p.writes[0].alt_file, "io.weight");
  EXPECT_EQ(p.writes[0].alt_value, "default 4950");  // 1 + (500-10)*9999/990
  EXPECT_EQ(p.v2_needed, (std::set<std::string>{"io"}));
}

TEST(CgroupPlan, LeafWeightIsIgnored) {
  Resources r;
  r.block_io.emplace();
  r.block_io->leaf_weight = 300;
  auto p = cgroup_plan(r, {}, hybrid(), true);
  EXPECT_TRUE(p.writes.empty());
  EXPECT_EQ(p.ignored.size(), 1u);
}

TEST(CgroupPlan, HugepagesGoWhereTheControllerIs) {
  Resources r;
  r.hugepage_limits = {{"2MB", 4 << 20}};
  // on the hybrid host hugetlb exists only in cgroup v2
  auto p = cgroup_plan(r, {}, hybrid(), true);
  EXPECT_EQ(files(p), (Strings{"v2:hugetlb.2MB.max=4194304"}));
  EXPECT_EQ(p.v2_needed, (std::set<std::string>{"hugetlb"}));
  CgroupLayout l = v1only();
  l.v1.insert("hugetlb");
  EXPECT_EQ(files(cgroup_plan(r, {}, l, true)), (Strings{"v1:hugetlb.2MB.limit_in_bytes=4194304"}));
  r.hugepage_limits = {{"../x", 1}};
  EXPECT_THROW(cgroup_plan(r, {}, v2only(), true), Error);
}

TEST(CgroupPlan, MissingControllerStrictThrowsLenientIgnores) {
  Resources r;
  r.memory.emplace();
  r.memory->limit = 1 << 20;
  CgroupLayout none;
  none.v2_mounted = true;  // a delegation without the memory controller
  try {
    cgroup_plan(r, {}, none, true);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no memory controller"), std::string::npos) << e.what();
  }
  auto p = cgroup_plan(r, {}, none, false);
  EXPECT_TRUE(p.writes.empty());
  ASSERT_EQ(p.ignored.size(), 1u);
  EXPECT_NE(p.ignored[0].find("memory"), std::string::npos);
}

TEST(CgroupPlan, UnifiedOnHybridGoesToV2) {
  Resources r;
  r.unified = {{"hugetlb.1GB.max", "0"}, {"cgroup.max.depth", "4"}};
  auto p = cgroup_plan(r, {}, hybrid(), true);
  EXPECT_EQ(files(p), (Strings{"v2:cgroup.max.depth=4", "v2:hugetlb.1GB.max=0"}));
  EXPECT_EQ(p.v2_needed, (std::set<std::string>{"hugetlb"}));  // no "" for cgroup.* files
}

TEST(CgroupPlan, UnifiedControllerOnlyOnV1IsRefused) {
  Resources r;
  r.unified = {{"memory.high", "1000000"}};
  try {
    cgroup_plan(r, {}, hybrid(), true);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cgroup v1"), std::string::npos) << e.what();
  }
  EXPECT_EQ(files(cgroup_plan(r, {}, v2only(), true)), (Strings{"v2:memory.high=1000000"}));
}

TEST(CgroupPlan, UnifiedBadKeysAreRefused) {
  for (const char* key : {"../../etc/passwd", "memory/max", "nodot", ".max", "cgroup.procs",
                          "cgroup.subtree_control", "cgroup.threads"}) {
    Resources r;
    r.unified = {{key, "1"}};
    EXPECT_THROW(cgroup_plan(r, {}, v2only(), true), Error) << key;
    EXPECT_THROW(cgroup_plan(r, {}, v2only(), false), Error) << key;
  }
}

TEST(CgroupPlan, UnifiedWithoutV2) {
  Resources r;
  r.unified = {{"memory.high", "1"}};
  EXPECT_THROW(cgroup_plan(r, {}, v1only(), true), Error);
  EXPECT_EQ(cgroup_plan(r, {}, v1only(), false).ignored.size(), 1u);
}

TEST(CgroupPlan, DeviceRulesV1) {
  Resources r;
  DeviceRule deny_all;  // {"allow": false, "access": "rwm"} as in every default config
  deny_all.access = "rwm";
  DeviceRule allow_fuse;
  allow_fuse.allow = true;
  allow_fuse.type = "c";
  allow_fuse.major = 10;
  allow_fuse.minor = 229;
  allow_fuse.access = "rw";
  r.devices = {deny_all, allow_fuse};
  Device sda;
  sda.type = "b";
  sda.path = "/dev/sda";
  sda.major = 8;
  sda.minor = 0;
  Device fifo;
  fifo.type = "p";
  fifo.path = "/dev/fifo";
  auto p = cgroup_plan(r, {sda, fifo}, hybrid(), true);
  auto f = files(p);
  ASSERT_GE(f.size(), 4u);
  EXPECT_EQ(f[0], "v1:devices.deny=a *:* rwm");
  EXPECT_EQ(f[1], "v1:devices.allow=c 10:229 rw");
  EXPECT_NE(std::find(f.begin(), f.end(), "v1:devices.allow=c 1:3 rwm"), f.end());    // null
  EXPECT_NE(std::find(f.begin(), f.end(), "v1:devices.allow=c 136:* rwm"), f.end());  // pts
  EXPECT_EQ(f.back(), "v1:devices.allow=b 8:0 rwm");
  for (auto& w : p.writes) EXPECT_TRUE(w.best_effort) << w.file;
  EXPECT_EQ(p.v1_needed, (std::set<std::string>{"devices"}));
  // device rules are not "resources asked for"
  EXPECT_FALSE(cgroup_resources_requested(r));
}

TEST(CgroupPlan, DeviceRulesAreNotWrittenOnV2) {
  Resources r;
  r.devices = {DeviceRule{}};
  auto p = cgroup_plan(r, {}, v2only(), true);
  EXPECT_TRUE(p.writes.empty());
  EXPECT_TRUE(p.ignored.empty());
}

// rdma is the key policy's to warn about (keys_test.cpp), once, not the plan's; so is network
// unprivileged (network as root: cgroup_plan_test.cpp).
TEST(CgroupPlan, RdmaAndUnprivilegedNetworkAreNotThePlans) {
  Resources r;
  r.network.emplace().class_id = 1;
  r.has_rdma = true;
  EXPECT_TRUE(cgroup_plan(r, {}, v2only(), false).ignored.empty());
  r.network.reset();
  auto p = cgroup_plan(r, {}, v2only(), true);
  EXPECT_TRUE(p.writes.empty());
  EXPECT_TRUE(p.ignored.empty());
  EXPECT_TRUE(cgroup_resources_requested(r));
}

TEST(CgroupPlan, ResourcesRequested) {
  Resources r;
  EXPECT_FALSE(cgroup_resources_requested(r));
  r.pids_limit = 5;
  EXPECT_TRUE(cgroup_resources_requested(r));
  Resources m;
  m.memory.emplace();
  EXPECT_FALSE(cgroup_resources_requested(m));
  m.memory->limit = 1;
  EXPECT_TRUE(cgroup_resources_requested(m));
}

// ---------------------------------------------------------------------------------------------
// Parsing /proc

const char* kHybridMountinfo =
    "24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "30 24 0:26 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:27 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "32 30 0:28 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "33 30 0:29 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "34 30 0:30 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n"
    "35 30 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "36 30 0:28 / /mnt/again rw,relatime - cgroup cgroup rw,memory\n";

TEST(CgroupParse, Mountinfo) {
  auto m = cgroup_parse_mountinfo(kHybridMountinfo);
  ASSERT_EQ(m.size(), 5u);  // the second memory mount is dropped
  EXPECT_EQ(m[0].mountpoint, "/sys/fs/cgroup/cpu");
  EXPECT_EQ(m[0].controllers, (Strings{"cpu"}));
  EXPECT_FALSE(m[0].v2);
  EXPECT_EQ(m[2].controllers, (Strings{"name=systemd"}));
  EXPECT_TRUE(m[3].v2);
  EXPECT_EQ(m[3].mountpoint, "/sys/fs/cgroup/unified");
  EXPECT_EQ(m[4].controllers, (Strings{"cpu", "cpuacct"}));
}

TEST(CgroupParse, MountinfoEscapesAndOptionalFields) {
  auto m = cgroup_parse_mountinfo(
      "40 30 0:40 /docker/abc /sys/fs/cgroup/my\\040dir rw shared:1 master:2 - cgroup2 none rw\n");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].mountpoint, "/sys/fs/cgroup/my dir");
  EXPECT_EQ(m[0].root, "/docker/abc");
  EXPECT_TRUE(m[0].v2);
}

TEST(CgroupParse, ProcCgroup) {
  auto p = cgroup_parse_proc(
      "9:name=systemd:/\n4:memory:/process_api/c255\n1:cpu,cpuacct:/a:b\n0::/user.slice "
      "(deleted)\n");
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[1], (std::pair<std::string, std::string>{"memory", "/process_api/c255"}));
  EXPECT_EQ(p[2], (std::pair<std::string, std::string>{"cpu,cpuacct", "/a:b"}));
  EXPECT_EQ(p[3], (std::pair<std::string, std::string>{"", "/user.slice"}));
}

TEST(CgroupParse, DirOfAPathInASubtreeMount) {
  CgroupMount m;
  m.mountpoint = "/sys/fs/cgroup/memory";
  m.root = "/";
  EXPECT_EQ(cgroup_dir(m, "/nook/c1"), "/sys/fs/cgroup/memory/nook/c1");
  EXPECT_EQ(cgroup_dir(m, "/"), "/sys/fs/cgroup/memory");
  m.root = "/docker/abc";  // a container's view without a cgroup namespace
  EXPECT_EQ(cgroup_dir(m, "/docker/abc/nook/c1"), "/sys/fs/cgroup/memory/nook/c1");
  EXPECT_EQ(cgroup_dir(m, "/docker/abc"), "/sys/fs/cgroup/memory");
  EXPECT_EQ(cgroup_dir(m, "/docker/abcd"), "/sys/fs/cgroup/memory/docker/abcd");
}

// ---------------------------------------------------------------------------------------------
// Errors without a cgroup (any user)

TEST(CgroupNone, PauseWithoutCgroupSaysWhy) {
  try {
    cgroup_freeze(CgroupPlacement{}, true, "box");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("pause needs a cgroup; container box has none"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(cgroup_freeze(CgroupPlacement{}, false, "box"), Error);
  EXPECT_THROW(cgroup_signal_all(CgroupPlacement{}, SIGTERM, "box"), Error);
  EXPECT_FALSE(cgroup_frozen(CgroupPlacement{}));
  EXPECT_TRUE(cgroup_pids(CgroupPlacement{}).empty());
  EXPECT_NO_THROW(cgroup_remove(CgroupPlacement{}));
  EXPECT_NO_THROW(cgroup_join(CgroupPlacement{}, getpid()));
}

// ---------------------------------------------------------------------------------------------
// The real thing (root, on this host's hierarchies)

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

bool have_cgroups() {
  return access("/sys/fs/cgroup", F_OK) == 0;
}

// A child that sleeps until killed.
struct Child {
  pid_t pid = -1;
  Child() {
    pid = fork();
    if (pid == 0) {
      for (;;) pause();
    }
  }
  ~Child() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
  void reap() {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    pid = -1;
  }
};

class CgroupRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    if (!have_cgroups()) GTEST_SKIP() << "no /sys/fs/cgroup";
    id_ = "nook-unit-" + std::to_string(getpid()) + "-" +
          ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  std::string id_;
};

TEST_F(CgroupRoot, DefaultPlacementFreezesListsAndRemoves) {
  Child c;
  Linux l;
  auto p = cgroup_enter(id_, l, c.pid, false);
  ASSERT_FALSE(p.empty());
  std::vector<std::string> all = p.v1;
  if (!p.v2.empty()) all.push_back(p.v2);
  for (auto& d : all) {
    EXPECT_NE(d.find("/nook/" + id_), std::string::npos) << d;
    EXPECT_EQ(slurp(d + "/cgroup.procs"), std::to_string(c.pid)) << d;
  }
  EXPECT_EQ(cgroup_pids(p), (std::vector<pid_t>{c.pid}));
  EXPECT_FALSE(cgroup_frozen(p));
  cgroup_freeze(p, true, id_);
  EXPECT_TRUE(cgroup_frozen(p));
  cgroup_freeze(p, true, id_);  // idempotent
  EXPECT_TRUE(cgroup_frozen(p));
  cgroup_freeze(p, false, id_);
  EXPECT_FALSE(cgroup_frozen(p));
  // a joined process shows up too
  Child c2;
  cgroup_join(p, c2.pid);
  auto pids = cgroup_pids(p);
  EXPECT_EQ(pids.size(), 2u);
  // kill --all while paused: the processes die, the cgroup stays paused
  cgroup_freeze(p, true, id_);
  cgroup_signal_all(p, SIGKILL, id_);
  int st = 0;
  EXPECT_EQ(waitpid(c.pid, &st, 0), c.pid);
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  EXPECT_EQ(waitpid(c2.pid, &st, 0), c2.pid);
  c.pid = c2.pid = -1;
  cgroup_remove(p);
  for (auto& d : all) EXPECT_NE(access(d.c_str(), F_OK), 0) << d << " still exists";
  EXPECT_NO_THROW(cgroup_remove(p));  // twice is fine
}

TEST_F(CgroupRoot, SignalAllDeliversToEveryProcess) {
  Child c1, c2;
  Linux l;
  auto p = cgroup_enter(id_, l, c1.pid, false);
  cgroup_join(p, c2.pid);
  cgroup_signal_all(p, SIGTERM, id_);
  int st = 0;
  EXPECT_EQ(waitpid(c1.pid, &st, 0), c1.pid);
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
  EXPECT_EQ(waitpid(c2.pid, &st, 0), c2.pid);
  c1.pid = c2.pid = -1;
  EXPECT_FALSE(cgroup_frozen(p));  // thawed again
  cgroup_remove(p);
}

TEST_F(CgroupRoot, ResourcesAreWritten) {
  Child c;
  Linux l;
  l.resources.emplace();
  l.resources->memory.emplace();
  l.resources->memory->limit = 64 << 20;
  l.resources->pids_limit = 17;
  l.resources->cpu.emplace();
  l.resources->cpu->shares = 512;
  l.resources->cpu->quota = 20000;
  l.resources->cpu->period = 100000;
  auto p = cgroup_enter(id_, l, c.pid, false);
  auto find = [&](const std::string& file) -> std::string {
    for (auto& d : p.v1)
      if (access((d + "/" + file).c_str(), F_OK) == 0) return slurp(d + "/" + file);
    if (!p.v2.empty() && access((p.v2 + "/" + file).c_str(), F_OK) == 0)
      return slurp(p.v2 + "/" + file);
    return "(no " + file + ")";
  };
  if (access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) == 0) {
    EXPECT_EQ(find("memory.limit_in_bytes"), std::to_string(64 << 20));
    EXPECT_EQ(find("pids.max"), "17");
    EXPECT_EQ(find("cpu.shares"), "512");
    EXPECT_EQ(find("cpu.cfs_quota_us"), "20000");
    EXPECT_EQ(find("cpu.cfs_period_us"), "100000");
    // cpuset was joined? Not asked for: only freezer + what the resources need.
    for (auto& d : p.v1) EXPECT_EQ(d.find("/cpuset/"), std::string::npos) << d;
  } else {
    EXPECT_EQ(find("memory.max"), std::to_string(64 << 20));
    EXPECT_EQ(find("pids.max"), "17");
    EXPECT_EQ(find("cpu.max"), "20000 100000");
  }
  c.reap();
  cgroup_remove(p);
}

TEST_F(CgroupRoot, DeviceRulesOnV1) {
  if (access("/sys/fs/cgroup/devices/devices.list", F_OK) != 0) GTEST_SKIP() << "no v1 devices";
  Child c;
  Linux l;
  l.resources.emplace();
  DeviceRule deny_all;
  deny_all.access = "rwm";
  l.resources->devices = {deny_all};
  auto p = cgroup_enter(id_, l, c.pid, false);
  std::string devices;
  for (auto& d : p.v1)
    if (d.find("/devices/") != std::string::npos) devices = d;
  ASSERT_FALSE(devices.empty()) << "devices hierarchy not joined";
  std::string list = slurp(devices + "/devices.list");
  EXPECT_EQ(list.find("a *:* rwm"), std::string::npos) << list;    // no longer allow-all
  EXPECT_NE(list.find("c 1:3 rwm"), std::string::npos) << list;    // /dev/null
  EXPECT_NE(list.find("c 136:* rwm"), std::string::npos) << list;  // pts
  c.reap();
  cgroup_remove(p);
}

TEST_F(CgroupRoot, CpusetIsInitialisedFromTheParent) {
  if (access("/sys/fs/cgroup/cpuset/cpuset.cpus", F_OK) != 0) GTEST_SKIP() << "no v1 cpuset";
  Child c;
  Linux l;
  l.cgroups_path = "/nook-unit/" + id_;  // explicit: every hierarchy
  auto p = cgroup_enter(id_, l, c.pid, false);
  std::string cpuset;
  for (auto& d : p.v1)
    if (d.find("/cpuset/") != std::string::npos) cpuset = d;
  ASSERT_FALSE(cpuset.empty());
  EXPECT_EQ(slurp(cpuset + "/cpuset.cpus"), slurp("/sys/fs/cgroup/cpuset/cpuset.cpus"));
  EXPECT_EQ(slurp(cpuset + "/cpuset.mems"), slurp("/sys/fs/cgroup/cpuset/cpuset.mems"));
  EXPECT_EQ(slurp(cpuset + "/cgroup.procs"), std::to_string(c.pid));
  EXPECT_GE(p.v1.size(), 7u);  // memory pids cpu cpuset blkio freezer devices ...
  c.reap();
  cgroup_remove(p);
  rmdir("/sys/fs/cgroup/cpuset/nook-unit");
  for (auto& d : p.v1) {
    auto parent = d.substr(0, d.rfind('/'));
    rmdir(parent.c_str());
  }
  if (!p.v2.empty()) rmdir(p.v2.substr(0, p.v2.rfind('/')).c_str());
}

TEST_F(CgroupRoot, DefaultPathInUseIsRefused) {
  Child c1, c2;
  Linux l;
  auto p = cgroup_enter(id_, l, c1.pid, false);
  try {
    cgroup_enter(id_, l, c2.pid, false);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("in use"), std::string::npos) << e.what();
  }
  c1.reap();
  // an empty leftover is reused
  auto p2 = cgroup_enter(id_, l, c2.pid, false);
  EXPECT_EQ(p2.v1, p.v1);
  c2.reap();
  cgroup_remove(p2);
}

TEST_F(CgroupRoot, BadResourceFailsWithPathAndErrno) {
  Child c;
  Linux l;
  l.resources.emplace();
  l.resources->cpu.emplace();
  l.resources->cpu->cpus = "9999";  // no such CPU
  try {
    cgroup_enter(id_, l, c.pid, false);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("cpuset.cpus"), std::string::npos) << m;
    EXPECT_NE(m.find("write \"9999\" to /sys/fs/cgroup/"), std::string::npos) << m;
    EXPECT_NE(e.errnum(), 0);
  }
  // nothing left behind
  EXPECT_NE(access(("/sys/fs/cgroup/freezer/nook/" + id_).c_str(), F_OK), 0);
  EXPECT_NE(access(("/sys/fs/cgroup/cpuset/nook/" + id_).c_str(), F_OK), 0);
}

TEST_F(CgroupRoot, RemoveWaitsForNothingAndReportsBusy) {
  Child c;
  Linux l;
  auto p = cgroup_enter(id_, l, c.pid, false);
  auto t0 = std::chrono::steady_clock::now();
  try {
    cgroup_remove(p);
    ADD_FAILURE() << "removed a populated cgroup";
  } catch (const Error& e) {
    EXPECT_EQ(e.errnum(), EBUSY) << e.what();
    EXPECT_NE(std::string(e.what()).find("rmdir"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  c.reap();
  cgroup_remove(p);
}

TEST_F(CgroupRoot, UnprivilegedWithoutDelegationGetsNothing) {
  // As nobody: the own cgroup v2 (here the root cgroup) is not writable -> empty placement.
  Child c;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t k = fork();
  if (k == 0) {
    close(fds[0]);
    if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534)) _exit(3);
    Linux l;
    l.resources.emplace();
    l.resources->pids_limit = 5;
    try {
      auto p = cgroup_enter("nobody-box", l, c.pid, false);
      _exit(p.empty() ? 0 : 1);
    } catch (...) {
      _exit(2);
    }
  }
  close(fds[1]);
  close(fds[0]);
  int st = 0;
  ASSERT_EQ(waitpid(k, &st, 0), k);
  ASSERT_TRUE(WIFEXITED(st));
  // 0: no delegation (as on the test host); if nobody's cgroup were delegated it would be 1.
  EXPECT_EQ(WEXITSTATUS(st), 0);
}

}  // namespace
}  // namespace nook
