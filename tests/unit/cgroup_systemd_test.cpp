// cgroup_plan.cpp, the systemd driver's pure parts: the unit a linux.cgroupsPath names (as
// runc and crun name it) and the CPU bit masks of AllowedCPUs / AllowedMemoryNodes. The driver
// itself needs a systemd: tests/vm (vm-root-systemd-*, vm-user-systemd-*, vm-podman-*).
#include <gtest/gtest.h>

#include "cgroup.hpp"
#include "error.hpp"

namespace nook {
namespace {

// ---------------------------------------------------------------------------------------------
// The systemd driver's pure parts: the unit a cgroupsPath names, the CPU masks.

std::string unit_of(const std::string& path, bool system = true) {
  auto u = cgroup_systemd_unit("abc", path, system);
  std::string out = u.name;
  out += " in ";
  out += u.slice.empty() ? std::string("(default)") : u.slice;
  if (u.is_slice) out += " slice";
  return out;
}

TEST(CgroupSystemdUnit, NamesAsRuncAndCrun) {
  EXPECT_EQ(unit_of("machine.slice:libpod:abc"), "libpod-abc.scope in machine.slice");
  EXPECT_EQ(unit_of("user.slice:libpod:abc", false), "libpod-abc.scope in user.slice");
  EXPECT_EQ(unit_of("a-b.slice:p:n"), "p-n.scope in a-b.slice");
  EXPECT_EQ(unit_of("system.slice::n"), "n.scope in system.slice");
  EXPECT_EQ(unit_of("system.slice:p:"), "p-abc.scope in system.slice");
  EXPECT_EQ(unit_of(":p:n"), "p-n.scope in (default)");
  EXPECT_EQ(unit_of("-.slice:p:n"), "p-n.scope in (default)");
  EXPECT_EQ(unit_of("machine.slice:p:mine.slice"), "mine.slice in machine.slice slice");
}

TEST(CgroupSystemdUnit, DefaultsPerInstance) {
  EXPECT_EQ(unit_of(""), "nook-abc.scope in system.slice");
  EXPECT_EQ(unit_of("", false), "nook-abc.scope in user.slice");
}

TEST(CgroupSystemdUnit, RefusesPathsAndMalformedNames) {
  for (const char* bad : {"/a/b", "a:b", "a.slice:b:c:d", "nosuffix:p:n", "x.slice:p/q:n",
                          "-x.slice:p:n", "a--b.slice:p:n"}) {
    EXPECT_THROW(cgroup_systemd_unit("abc", bad, true), Error) << bad;
  }
  try {
    cgroup_systemd_unit("abc", "/a/b", true);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("slice:prefix:name"), std::string::npos) << e.what();
  }
}

TEST(CgroupCpuMask, BitsPerCpu) {
  EXPECT_EQ(cgroup_cpu_mask("0", "cpus"), (std::vector<uint8_t>{0x01}));
  EXPECT_EQ(cgroup_cpu_mask("0-3,5", "cpus"), (std::vector<uint8_t>{0x2f}));
  EXPECT_EQ(cgroup_cpu_mask("9", "cpus"), (std::vector<uint8_t>{0x00, 0x02}));
  EXPECT_EQ(cgroup_cpu_mask("1,8-9", "mems"), (std::vector<uint8_t>{0x02, 0x03}));
  EXPECT_TRUE(cgroup_cpu_mask("", "cpus").empty());
  for (const char* bad : {"x", "3-1", "1-", "1-2x", "9000"})
    EXPECT_THROW(cgroup_cpu_mask(bad, "cpus"), Error) << bad;
}

}  // namespace
}  // namespace nook
