// userns.cpp: plan_ids, the user-namespace policy of docs/design.md ("Users and IDs"), for
// every case of caller (privileged or not) x config (no user namespace, one without mappings,
// one with mappings, one joined by path) x the privileged caller's own namespace (the initial
// one, an inherited single ID, a range). Pure: the caller's IDs and uid_map are given.
#include "userns.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include "config.hpp"

namespace nook {
namespace {

using Maps = std::vector<IdMapping>;

// The caller's own uid_map as the tests give it, and how often plan_ids asked for it.
int g_map_reads = 0;
Maps initial_map() {
  g_map_reads++;
  return {{0, 0, 4294967295u}};
}
Maps single_id_map() {  // root of rootless Podman for a user without /etc/subuid
  g_map_reads++;
  return {{0, 1000, 1}};
}
Maps range_map() {  // root of rootless Podman with subordinate IDs
  g_map_reads++;
  return {{0, 1000, 1}, {1, 100000, 65536}};
}
Maps one_range_map() {
  g_map_reads++;
  return {{0, 100000, 65536}};
}
Maps unreadable_map() {
  g_map_reads++;
  return {};
}

Config config(uint32_t uid, uint32_t gid) {
  Config c;
  c.process.emplace();
  c.process->user.uid = uid;
  c.process->user.gid = gid;
  return c;
}

Config with_userns(Config c, const Maps& uids = {}, const Maps& gids = {}) {
  c.linux.namespaces.push_back({NsType::user, ""});
  c.linux.uid_mappings = uids;
  c.linux.gid_mappings = gids;
  return c;
}

const Maps kUids = {{0, 100000, 65536}};
const Maps kGids = {{0, 200000, 65536}, {65536, 5, 1}};

class PlanIds : public ::testing::Test {
 protected:
  void SetUp() override { g_map_reads = 0; }
};

// Privileged with mappings: those mappings, nothing single-ID about it.
TEST_F(PlanIds, PrivilegedWithMappingsUsesThem) {
  IdPlan p = plan_ids(with_userns(config(0, 0), kUids, kGids), true, 0, 0, initial_map);
  EXPECT_TRUE(p.new_userns);
  EXPECT_FALSE(p.single_id);
  EXPECT_EQ(p.join_path, "");
  EXPECT_EQ(p.uid_map, kUids);
  EXPECT_EQ(p.gid_map, kGids);
  EXPECT_TRUE(p.privileged);
  EXPECT_EQ(p.host_uid, 0u);
  EXPECT_EQ(p.host_gid, 0u);
  EXPECT_EQ(g_map_reads, 1);
  EXPECT_TRUE(p.caller_in_initial_userns);
  EXPECT_FALSE(p.inherited_single_id);
  EXPECT_EQ(p.reason, "");
}

// Privileged without a user namespace: none, as runc.
TEST_F(PlanIds, PrivilegedWithoutUsernsMakesNone) {
  IdPlan p = plan_ids(config(1000, 1000), true, 0, 0, initial_map);
  EXPECT_FALSE(p.new_userns);
  EXPECT_FALSE(p.single_id);
  EXPECT_EQ(p.join_path, "");
  EXPECT_TRUE(p.uid_map.empty());
  EXPECT_TRUE(p.gid_map.empty());
  EXPECT_EQ(g_map_reads, 1);
  EXPECT_TRUE(p.caller_in_initial_userns);
  EXPECT_FALSE(p.inherited_single_id);
  EXPECT_EQ(p.reason, "");
}

// Privileged, a user namespace without mappings: the single-ID mapping of the caller's IDs.
TEST_F(PlanIds, PrivilegedUsernsWithoutMappingsIsSingleId) {
  IdPlan p = plan_ids(with_userns(config(0, 0)), true, 0, 0, initial_map);
  EXPECT_TRUE(p.new_userns);
  EXPECT_TRUE(p.single_id);
  EXPECT_EQ(p.uid_map, (Maps{{0, 0, 1}}));
  EXPECT_EQ(p.gid_map, (Maps{{0, 0, 1}}));
  EXPECT_EQ(p.reason,
            "config asks for a user namespace without mappings: single-ID user namespace, "
            "container uid 0 gid 0 mapped to host uid 0 gid 0, setgroups denied");
  EXPECT_EQ(g_map_reads, 0);  // not needed: the own namespace is not asked
  EXPECT_FALSE(p.caller_in_initial_userns);
  EXPECT_FALSE(p.inherited_single_id);
}

// Privileged with gid mappings only: uid mappings decide, so this is single-ID as well.
TEST_F(PlanIds, PrivilegedWithOnlyGidMappingsIsSingleId) {
  IdPlan p = plan_ids(with_userns(config(0, 0), {}, kGids), true, 0, 0, initial_map);
  EXPECT_TRUE(p.single_id);
  EXPECT_EQ(p.gid_map, (Maps{{0, 0, 1}}));
}

// Unprivileged with mappings: it cannot grant them; its own IDs become process.user's.
TEST_F(PlanIds, UnprivilegedWithMappingsIsSingleId) {
  IdPlan p = plan_ids(with_userns(config(5, 6), kUids, kGids), false, 1000, 1001, initial_map);
  EXPECT_TRUE(p.new_userns);
  EXPECT_TRUE(p.single_id);
  EXPECT_FALSE(p.privileged);
  EXPECT_EQ(p.uid_map, (Maps{{5, 1000, 1}}));
  EXPECT_EQ(p.gid_map, (Maps{{6, 1001, 1}}));
  EXPECT_EQ(p.host_uid, 1000u);
  EXPECT_EQ(p.host_gid, 1001u);
  EXPECT_EQ(p.reason,
            "unprivileged caller cannot grant the config's mappings: single-ID user namespace, "
            "container uid 5 gid 6 mapped to host uid 1000 gid 1001, setgroups denied");
  EXPECT_EQ(p.warning,
            "linux.uidMappings [0 100000 65536] and gidMappings [0 200000 65536, 65536 5 1] "
            "replaced by [5 1000 1] and [6 1001 1]: an unprivileged caller maps only its own "
            "IDs (the single-ID user namespace)");
  EXPECT_EQ(g_map_reads, 0);
}

// Mappings that are exactly the single-ID map (`nook spec --rootless`) are granted: no warning.
TEST_F(PlanIds, UnprivilegedWithItsOwnSingleMappingHasNoWarning) {
  IdPlan p = plan_ids(with_userns(config(0, 0), {{0, 1000, 1}}, {{0, 1001, 1}}), false, 1000, 1001,
                      initial_map);
  EXPECT_TRUE(p.single_id);
  EXPECT_EQ(p.warning, "");
}

// Unprivileged with a user namespace and no mappings: the same single-ID mapping.
TEST_F(PlanIds, UnprivilegedUsernsWithoutMappingsIsSingleId) {
  IdPlan p = plan_ids(with_userns(config(0, 0)), false, 1000, 1000, initial_map);
  EXPECT_TRUE(p.single_id);
  EXPECT_EQ(p.uid_map, (Maps{{0, 1000, 1}}));
  EXPECT_EQ(p.gid_map, (Maps{{0, 1000, 1}}));
  EXPECT_EQ(p.reason,
            "unprivileged caller cannot grant the config's mappings: single-ID user namespace, "
            "container uid 0 gid 0 mapped to host uid 1000 gid 1000, setgroups denied");
}

// Unprivileged without a user namespace in the config: nook makes one anyway.
TEST_F(PlanIds, UnprivilegedWithoutUsernsGetsOne) {
  IdPlan p = plan_ids(config(1000, 100), false, 1234, 5678, initial_map);
  EXPECT_TRUE(p.new_userns);
  EXPECT_TRUE(p.single_id);
  EXPECT_EQ(p.join_path, "");
  EXPECT_EQ(p.uid_map, (Maps{{1000, 1234, 1}}));
  EXPECT_EQ(p.gid_map, (Maps{{100, 5678, 1}}));
  EXPECT_EQ(p.reason,
            "unprivileged caller and no user namespace in the config: single-ID user namespace, "
            "container uid 1000 gid 100 mapped to host uid 1234 gid 5678, setgroups denied");
  EXPECT_EQ(g_map_reads, 0);
  EXPECT_FALSE(p.caller_in_initial_userns);
}

// No process: container uid and gid 0.
TEST_F(PlanIds, NoProcessMapsRoot) {
  Config c;
  IdPlan p = plan_ids(c, false, 1000, 1000, initial_map);
  EXPECT_EQ(p.uid_map, (Maps{{0, 1000, 1}}));
  EXPECT_EQ(p.gid_map, (Maps{{0, 1000, 1}}));
}

// A user namespace given by path is joined, whoever the caller is: no maps, no reason.
TEST_F(PlanIds, UsernsByPathIsJoined) {
  for (bool privileged : {true, false}) {
    Config c = config(0, 0);
    c.linux.namespaces.push_back({NsType::user, "/proc/42/ns/user"});
    c.linux.uid_mappings = kUids;
    IdPlan p = plan_ids(c, privileged, privileged ? 0 : 1000, 0, initial_map);
    EXPECT_EQ(p.join_path, "/proc/42/ns/user");
    EXPECT_FALSE(p.new_userns);
    EXPECT_FALSE(p.single_id);
    EXPECT_TRUE(p.uid_map.empty());
    EXPECT_EQ(p.reason, "");
    EXPECT_EQ(p.privileged, privileged);
  }
  EXPECT_EQ(g_map_reads, 0);
}

// Root inside a user namespace that maps one ID (rootless Podman without subordinate IDs):
// inherited single ID, with and without a user namespace in the config.
TEST_F(PlanIds, InheritedSingleId) {
  IdPlan p = plan_ids(config(0, 0), true, 0, 0, single_id_map);
  EXPECT_FALSE(p.new_userns);
  EXPECT_TRUE(p.inherited_single_id);
  EXPECT_FALSE(p.caller_in_initial_userns);
  EXPECT_FALSE(p.single_id);  // nook's own single-ID mode is not set by it
  EXPECT_EQ(g_map_reads, 1);

  p = plan_ids(with_userns(config(0, 0), kUids, kGids), true, 0, 0, single_id_map);
  EXPECT_TRUE(p.new_userns);
  EXPECT_TRUE(p.inherited_single_id);
  EXPECT_FALSE(p.caller_in_initial_userns);
  EXPECT_EQ(p.uid_map, kUids);
}

// Neither fact for a namespace of ranges, or an unreadable uid_map.
TEST_F(PlanIds, OwnNamespaceOfRangesOrUnknown) {
  for (OwnUidMap map : {range_map, one_range_map, unreadable_map}) {
    IdPlan p = plan_ids(config(0, 0), true, 0, 0, map);
    EXPECT_FALSE(p.inherited_single_id);
    EXPECT_FALSE(p.caller_in_initial_userns);
  }
  EXPECT_EQ(g_map_reads, 3);
}

// The initial namespace must map all of 0..2^32-2 from 0: a shifted full range is not it.
TEST_F(PlanIds, InitialNamespaceIsExact) {
  IdPlan p = plan_ids(config(0, 0), true, 0, 0, [] { return Maps{{0, 1, 4294967295u}}; });
  EXPECT_FALSE(p.caller_in_initial_userns);
  p = plan_ids(config(0, 0), true, 0, 0, [] { return Maps{{0, 0, 4294967294u}}; });
  EXPECT_FALSE(p.caller_in_initial_userns);
}

// The two-argument form is the same decision for this process's real IDs.
TEST_F(PlanIds, RealCallerUsesItsEffectiveIds) {
  IdPlan p = plan_ids(config(0, 0), false);
  EXPECT_EQ(p.host_uid, geteuid());
  EXPECT_EQ(p.host_gid, getegid());
  EXPECT_EQ(p.uid_map, (Maps{{0, geteuid(), 1}}));
}

TEST(IdMapped, RangesAndEdges) {
  Maps m = {{0, 100000, 1000}, {5000, 1, 1}};
  EXPECT_TRUE(id_mapped(m, 0));
  EXPECT_TRUE(id_mapped(m, 999));
  EXPECT_FALSE(id_mapped(m, 1000));
  EXPECT_TRUE(id_mapped(m, 5000));
  EXPECT_FALSE(id_mapped(m, 5001));
  EXPECT_FALSE(id_mapped({}, 0));
  // a range up to the top of the ID space does not overflow
  Maps full = {{0, 0, 4294967295u}};
  EXPECT_TRUE(id_mapped(full, 4294967294u));
  EXPECT_FALSE(id_mapped(full, 4294967295u));
  EXPECT_TRUE(id_mapped({{4294967290u, 0, 10}}, 4294967295u));
}

}  // namespace
}  // namespace nook
