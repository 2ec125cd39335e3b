// mounts_options.cpp: parse_mount_options, an OCI mount's "options" -> mount(2) flags, the flags it
// clears, propagation, recursive mount_setattr attributes, bind/rbind, filesystem data, and
// the options nook accepts without applying or refuses. Pure; exact values.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include "error.hpp"
#include "mounts.hpp"

namespace nook {
namespace {

using Strings = std::vector<std::string>;

MountOptions parse(const Strings& opts) {
  return parse_mount_options(opts, "/dest");
}

TEST(MountOptions, NoneIsAllZero) {
  MountOptions o = parse({});
  EXPECT_EQ(o.flags, 0ul);
  EXPECT_EQ(o.clear, 0ul);
  EXPECT_EQ(o.propagation, 0ul);
  EXPECT_FALSE(o.bind);
  EXPECT_FALSE(o.recursive);
  EXPECT_EQ(o.attr_set, 0u);
  EXPECT_EQ(o.attr_clr, 0u);
  EXPECT_FALSE(o.atime_given);
  EXPECT_EQ(o.data, "");
  EXPECT_TRUE(o.ignored.empty());
  EXPECT_EQ(parse({"defaults"}).flags, 0ul);
  EXPECT_EQ(parse({"defaults"}).data, "");
}

// The usual options of a default config's /proc, /dev, /sys and a read-only bind.
TEST(MountOptions, DefaultConfigOptions) {
  MountOptions o = parse({"nosuid", "strictatime", "mode=755", "size=65536k"});
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_NOSUID | MS_STRICTATIME));
  EXPECT_EQ(o.clear, 0ul);
  EXPECT_TRUE(o.atime_given);
  EXPECT_EQ(o.data, "mode=755,size=65536k");

  o = parse({"nosuid", "noexec", "nodev", "ro"});
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY));
  EXPECT_FALSE(o.atime_given);
  EXPECT_EQ(o.data, "");

  o = parse({"rbind", "ro", "rprivate"});
  EXPECT_TRUE(o.bind);
  EXPECT_TRUE(o.recursive);
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_RDONLY));
  EXPECT_EQ(o.propagation, static_cast<unsigned long>(MS_PRIVATE | MS_REC));
}

// Each flag option and its opposite: the later one wins, and the opposite is remembered as
// explicitly cleared (a bind remount must keep or drop exactly those).
TEST(MountOptions, EveryFlagPairSetsAndClears) {
  struct Pair {
    const char* set;
    const char* clear;
    unsigned long flag;
  } pairs[] = {
      {"ro", "rw", MS_RDONLY},
      {"nosuid", "suid", MS_NOSUID},
      {"nodev", "dev", MS_NODEV},
      {"noexec", "exec", MS_NOEXEC},
      {"sync", "async", MS_SYNCHRONOUS},
      {"mand", "nomand", MS_MANDLOCK},
      {"noatime", "atime", MS_NOATIME},
      {"nodiratime", "diratime", MS_NODIRATIME},
      {"relatime", "norelatime", MS_RELATIME},
      {"strictatime", "nostrictatime", MS_STRICTATIME},
      {"lazytime", "nolazytime", MS_LAZYTIME},
      {"silent", "loud", MS_SILENT},
      {"nosymfollow", "symfollow", MS_NOSYMFOLLOW},
  };
  for (auto& p : pairs) {
    MountOptions o = parse({p.set});
    EXPECT_EQ(o.flags, p.flag) << p.set;
    EXPECT_EQ(o.clear, 0ul) << p.set;
    o = parse({p.clear});
    EXPECT_EQ(o.flags, 0ul) << p.clear;
    EXPECT_EQ(o.clear, p.flag) << p.clear;
    o = parse({p.clear, p.set});
    EXPECT_EQ(o.flags, p.flag) << p.clear << "," << p.set;
    EXPECT_EQ(o.clear, 0ul) << p.clear << "," << p.set;
    o = parse({p.set, p.clear});
    EXPECT_EQ(o.flags, 0ul) << p.set << "," << p.clear;
    EXPECT_EQ(o.clear, p.flag) << p.set << "," << p.clear;
    EXPECT_EQ(o.data, "") << p.set;
  }
  EXPECT_EQ(parse({"dirsync"}).flags, static_cast<unsigned long>(MS_DIRSYNC));
}

// atime_given: only the noatime / relatime / strictatime / nodiratime family, set or cleared.
TEST(MountOptions, AtimeGiven) {
  for (const char* opt : {"atime", "noatime", "diratime", "nodiratime", "relatime", "norelatime",
                          "strictatime", "nostrictatime"})
    EXPECT_TRUE(parse({opt}).atime_given) << opt;
  for (const char* opt : {"ro", "lazytime", "nolazytime", "nosuid", "defaults", "bind"})
    EXPECT_FALSE(parse({opt}).atime_given) << opt;
}

TEST(MountOptions, PropagationLastOneWins) {
  struct {
    const char* name;
    unsigned long flags;
  } props[] = {
      {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
      {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
      {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
      {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
  };
  for (auto& p : props) {
    MountOptions o = parse({p.name});
    EXPECT_EQ(o.propagation, p.flags) << p.name;
    EXPECT_EQ(o.flags, 0ul) << p.name;  // propagation is not a mount flag here
  }
  EXPECT_EQ(parse({"rshared", "private"}).propagation, static_cast<unsigned long>(MS_PRIVATE));
  EXPECT_EQ(parse({"slave", "rslave"}).propagation, static_cast<unsigned long>(MS_SLAVE | MS_REC));
}

// The recursive attributes (runc's rro, rnosuid, ...): set, cleared, the later one wins.
TEST(MountOptions, RecursiveAttributes) {
  MountOptions o = parse({"rro", "rnosuid", "rnodev", "rnoexec", "rnodiratime", "rnosymfollow"});
  EXPECT_EQ(o.attr_set, static_cast<uint64_t>(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
                                              MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                                              MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW));
  EXPECT_EQ(o.attr_clr, 0u);
  EXPECT_EQ(o.flags, 0ul);
  EXPECT_FALSE(o.atime_given);  // rnodiratime is an attribute, not the flag

  o = parse({"rrw", "rsuid", "rdev", "rexec", "rdiratime", "rsymfollow"});
  EXPECT_EQ(o.attr_set, 0u);
  EXPECT_EQ(o.attr_clr, static_cast<uint64_t>(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
                                              MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                                              MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW));

  o = parse({"rro", "rrw"});
  EXPECT_EQ(o.attr_set, 0u);
  EXPECT_EQ(o.attr_clr, static_cast<uint64_t>(MOUNT_ATTR_RDONLY));
  o = parse({"rrw", "rro"});
  EXPECT_EQ(o.attr_set, static_cast<uint64_t>(MOUNT_ATTR_RDONLY));
  EXPECT_EQ(o.attr_clr, 0u);
}

TEST(MountOptions, BindAndRbind) {
  MountOptions o = parse({"bind"});
  EXPECT_TRUE(o.bind);
  EXPECT_FALSE(o.recursive);
  EXPECT_EQ(o.flags, 0ul);  // bind is not passed as MS_BIND here
  o = parse({"rbind"});
  EXPECT_TRUE(o.bind);
  EXPECT_TRUE(o.recursive);
  o = parse({"rbind", "bind"});  // bind does not undo the recursion
  EXPECT_TRUE(o.recursive);
  EXPECT_EQ(o.data, "");
}

TEST(MountOptions, RemountIsAFlag) {
  MountOptions o = parse({"remount", "ro"});
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_REMOUNT | MS_RDONLY));
  EXPECT_EQ(o.data, "");
}

// Everything else is filesystem data, in order, comma-separated, as given.
TEST(MountOptions, UnknownOptionsAreData) {
  MountOptions o = parse({"mode=1777", "nosuid", "size=10m", "uid=0", "gid=5", "newinstance",
                          "ptmxmode=0666", "x-foo"});
  EXPECT_EQ(o.data, "mode=1777,size=10m,uid=0,gid=5,newinstance,ptmxmode=0666,x-foo");
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_NOSUID));
  // names are matched exactly: case and prefixes do not count
  EXPECT_EQ(parse({"RO"}).data, "RO");
  EXPECT_EQ(parse({"RO"}).flags, 0ul);
  EXPECT_EQ(parse({"ro=1"}).data, "ro=1");
  EXPECT_EQ(parse({""}).data, "");  // an empty option adds an empty field
  EXPECT_EQ(parse({"a", ""}).data, "a,");
}

TEST(MountOptions, CrunExtensionsAreAcceptedAndIgnored) {
  MountOptions o = parse({"tmpcopyup", "ro", "copy-symlink", "notmpcopyup"});
  EXPECT_EQ(o.ignored, (Strings{"tmpcopyup", "copy-symlink", "notmpcopyup"}));
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_RDONLY));
  EXPECT_EQ(o.data, "");
}

// idmap / ridmap: an ID-mapped bind (the top mount, or every mount of the tree); never data.
TEST(MountOptions, IdmapAndRidmap) {
  MountOptions o = parse({"rbind", "idmap"});
  EXPECT_TRUE(o.idmap);
  EXPECT_FALSE(o.idmap_recursive);
  EXPECT_TRUE(o.recursive);
  EXPECT_EQ(o.data, "");
  EXPECT_EQ(o.attr_set, 0u);  // MOUNT_ATTR_IDMAP is the parent's (idmapped_tree), not an attribute
  o = parse({"rbind", "ridmap"});
  EXPECT_TRUE(o.idmap);
  EXPECT_TRUE(o.idmap_recursive);
  // the later one wins
  EXPECT_TRUE(parse({"idmap", "ridmap"}).idmap_recursive);
  EXPECT_FALSE(parse({"ridmap", "idmap"}).idmap_recursive);
  EXPECT_FALSE(parse({"rbind"}).idmap);
  // idmap with a value is not the option: it goes to the filesystem as data
  EXPECT_EQ(parse({"idmap=uids=0-1000-10"}).data, "idmap=uids=0-1000-10");
  EXPECT_FALSE(parse({"idmap=uids=0-1000-10"}).idmap);
}

// The recursive atime family (runc's): a mode set replaces the mode, and MOUNT_ATTR__ATIME is
// always in attr_clr (mount_setattr(2) refuses an atime mode in attr_set without it); the
// "clearing" ones drop their mode from attr_set only (relatime, the kernel's default, stays
// unless another mode is set). Never data, never the non-recursive flags.
TEST(MountOptions, RecursiveAtimeFamily) {
  const uint64_t atime = MOUNT_ATTR__ATIME;
  struct Case {
    Strings opts;
    uint64_t set, clr;
  } cases[] = {
      {{"rnoatime"}, MOUNT_ATTR_NOATIME, atime},
      {{"rstrictatime"}, MOUNT_ATTR_STRICTATIME, atime},
      {{"rrelatime"}, MOUNT_ATTR_RELATIME, atime},
      {{"ratime"}, 0, atime},
      {{"rnorelatime"}, 0, atime},
      {{"rnostrictatime"}, 0, atime},
      {{"rnoatime", "rstrictatime"}, MOUNT_ATTR_STRICTATIME, atime},
      {{"rstrictatime", "rnoatime"}, MOUNT_ATTR_NOATIME, atime},
      {{"rnoatime", "rrelatime"}, MOUNT_ATTR_RELATIME, atime},
      {{"rnoatime", "ratime"}, 0, atime},
      {{"rstrictatime", "ratime"}, MOUNT_ATTR_STRICTATIME, atime},  // ratime: not noatime
      {{"rstrictatime", "rnostrictatime"}, 0, atime},
      {{"rro", "rnoatime", "rnodiratime"},
       MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOATIME | MOUNT_ATTR_NODIRATIME,
       atime},
      {{"rnoatime", "rdiratime"}, MOUNT_ATTR_NOATIME, atime | MOUNT_ATTR_NODIRATIME},
  };
  for (auto& c : cases) {
    MountOptions o = parse(c.opts);
    std::string name;
    for (auto& s : c.opts) name += s + ",";
    EXPECT_EQ(o.attr_set, c.set) << name;
    EXPECT_EQ(o.attr_clr, c.clr) << name;
    EXPECT_EQ(o.flags, 0ul) << name;
    EXPECT_EQ(o.data, "") << name;
    EXPECT_FALSE(o.atime_given) << name;  // the non-recursive family only
    // at most one atime mode is ever asked for
    uint64_t mode = o.attr_set & atime;
    EXPECT_TRUE(mode == 0 || mode == MOUNT_ATTR_NOATIME || mode == MOUNT_ATTR_STRICTATIME) << name;
  }
  // with the non-recursive options: each in its own field
  MountOptions o = parse({"noatime", "rstrictatime"});
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_NOATIME));
  EXPECT_EQ(o.attr_set, static_cast<uint64_t>(MOUNT_ATTR_STRICTATIME));
}

}  // namespace
}  // namespace nook

// The fallback decisions of a failed mount(2): (type, errno, user namespace) -> action.
TEST(MountFallback, DevptsWithIdsRetriesWithoutThem) {
  for (int e : {EINVAL, EPERM}) {
    auto f = nook::mount_fallback("devpts", e, true, "newinstance,ptmxmode=0666,gid=5");
    EXPECT_EQ(f.kind, nook::MountFallback::devpts_without_ids) << e;
  }
  // without gid=/uid= there is nothing to drop; another errno is a real failure
  EXPECT_EQ(nook::mount_fallback("devpts", EPERM, true, "newinstance").kind,
            nook::MountFallback::none);
  EXPECT_EQ(nook::mount_fallback("devpts", ENODEV, true, "gid=5").kind, nook::MountFallback::none);
}

TEST(MountFallback, UserNamespaceBindsTheHostsInstance) {
  struct Case {
    const char* type;
    const char* host;
    bool ro;
  } cases[] = {{"proc", "/proc", false},
               {"sysfs", "/sys", true},
               {"mqueue", "/dev/mqueue", false},
               {"cgroup", "/sys/fs/cgroup", true},
               {"cgroup2", "/sys/fs/cgroup", true}};
  for (auto& c : cases)
    for (int e : {EPERM, EACCES}) {
      auto f = nook::mount_fallback(c.type, e, true, "");
      EXPECT_EQ(f.kind, nook::MountFallback::bind_host) << c.type;
      EXPECT_STREQ(f.host, c.host) << c.type;
      EXPECT_EQ(f.read_only, c.ro) << c.type;
    }
}

TEST(MountFallback, NoneOutsideAUserNamespaceOrForOtherErrors) {
  EXPECT_EQ(nook::mount_fallback("proc", EPERM, false, "").kind, nook::MountFallback::none);
  EXPECT_EQ(nook::mount_fallback("proc", EBUSY, true, "").kind, nook::MountFallback::none);
  EXPECT_EQ(nook::mount_fallback("tmpfs", EPERM, true, "").kind, nook::MountFallback::none);
  EXPECT_EQ(nook::mount_fallback("sysfs", ENODEV, true, "").kind, nook::MountFallback::none);
}
