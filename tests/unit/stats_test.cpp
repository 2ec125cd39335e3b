// stats.cpp: the cgroup file parsers behind `nook events` (runc's statistics format).
#include "stats.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace nook {
namespace {

TEST(StatField, FindsTheKeyOnItsOwnLine) {
  const char* cpu = "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 0\n";
  EXPECT_EQ(stat_field(cpu, "usage_usec"), 1500u);
  EXPECT_EQ(stat_field(cpu, "system_usec"), 500u);
  EXPECT_EQ(stat_field(cpu, "usage"), std::nullopt);           // a prefix is not the key
  EXPECT_EQ(stat_field("oom 1\noom_kill 2", "oom_kill"), 2u);  // no final newline
  EXPECT_EQ(stat_field("oom_kill x\n", "oom_kill"), std::nullopt);
  EXPECT_EQ(stat_field("", "x"), std::nullopt);
}

TEST(LimitValue, MaxIsTheLargestNumber) {
  EXPECT_EQ(limit_value("max\n"), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(limit_value("67108864\n"), 67108864u);
  EXPECT_EQ(limit_value("9223372036854771712\n"), 9223372036854771712u);
  EXPECT_EQ(limit_value(""), 0u);
}

TEST(IoStatBlkio, ReadAndWriteBytesAndOperationsPerDevice) {
  auto b = io_stat_blkio(
      "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n"
      "253:1 rbytes=0 wbytes=512 rios=0 wios=1 dbytes=0 dios=0\n");
  ASSERT_EQ(b["ioServiceBytesRecursive"].size(), 4u);
  EXPECT_EQ(b["ioServiceBytesRecursive"][0],
            (nlohmann::json{{"major", 8}, {"minor", 0}, {"op", "Read"}, {"value", 4096}}));
  EXPECT_EQ(b["ioServiceBytesRecursive"][3]["value"], 512);
  EXPECT_EQ(b["ioServiceBytesRecursive"][3]["major"], 253);
  EXPECT_EQ(b["ioServicedRecursive"][1]["value"], 2);
  EXPECT_EQ(io_stat_blkio(""), nlohmann::json::object());
  EXPECT_EQ(io_stat_blkio("garbage\n"), nlohmann::json::object());
}

}  // namespace
}  // namespace nook
