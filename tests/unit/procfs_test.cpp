// /proc readers (src/lib/procfs.cpp) and the namespace table (src/lib/namespaces.cpp).
#include "procfs.hpp"

#include <gtest/gtest.h>
#include <sched.h>

#include "namespaces.hpp"

namespace nook {
namespace {

TEST(Procfs, ParsesIdMapsAsTheKernelPrintsThem) {
  // the kernel right-aligns each column in a 10-character field
  auto m = parse_id_map("         0       1000          1\n         1     100000      65536\n");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0], (IdMapping{0, 1000, 1}));
  EXPECT_EQ(m[1], (IdMapping{1, 100000, 65536}));
  EXPECT_TRUE(is_initial_map(parse_id_map("0 0 4294967295\n")));
  EXPECT_FALSE(is_initial_map(m));
  EXPECT_FALSE(is_initial_map(parse_id_map("0 0 4294967294\n")));
}

TEST(Procfs, SkipsWhatDoesNotParse) {
  EXPECT_TRUE(parse_id_map("").empty());
  EXPECT_TRUE(parse_id_map("\n").empty());
  auto m = parse_id_map("0 1000\nx y z\n5 6 7");  // a short line, words, no final newline
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0], (IdMapping{5, 6, 7}));
  EXPECT_TRUE(parse_id_map("0 0 4294967296\n").empty());  // beyond 32 bits
}

TEST(Procfs, ReadsOurOwnMap) {
  // Whatever namespace the test runs in, its own map is readable and not empty.
  EXPECT_FALSE(own_uid_map().empty());
}

TEST(Namespaces, TableIsConsistent) {
  EXPECT_EQ(ns_clone_flag(NsType::network), CLONE_NEWNET);
  EXPECT_STREQ(ns_proc_name(NsType::network), "net");
  EXPECT_STREQ(ns_proc_name(NsType::mount), "mnt");
  for (NsType t : ns_join_order()) {
    ASSERT_TRUE(ns_from_name(ns_name(t)).has_value());
    EXPECT_EQ(*ns_from_name(ns_name(t)), t);
  }
  EXPECT_EQ(ns_join_order().front(), NsType::user);
  EXPECT_EQ(ns_join_order().back(), NsType::mount);
  EXPECT_FALSE(ns_from_name("net").has_value());  // config.json says "network"
}

}  // namespace
}  // namespace nook
