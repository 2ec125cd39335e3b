// config.json parsing and validation: the typed model and every error path's message.
#include "config.hpp"

#include <dirent.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "error.hpp"
#include "names.hpp"
#include "state.hpp"

namespace nook {
namespace {

const char* kMinimal = R"({"ociVersion":"1.0.2-dev","root":{"path":"rootfs"},
  "process":{"args":["sh"],"cwd":"/"}})";

// Parses `text` and returns the error message ("" when it parses).
std::string error_of(const std::string& text) {
  try {
    parse_config(text, "config.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// kMinimal with `patch` (a JSON object) merged in at the top level, by string surgery.
std::string with(const std::string& members) {
  std::string s = kMinimal;
  s.insert(s.rfind('}'), "," + members);
  return s;
}

TEST(Config, MinimalParses) {
  Config c = parse_config(kMinimal);
  EXPECT_EQ(c.oci_version, "1.0.2-dev");
  EXPECT_EQ(c.root.path, "rootfs");
  ASSERT_TRUE(c.process);
  EXPECT_EQ(c.process->args, std::vector<std::string>{"sh"});
  EXPECT_EQ(c.process->user.uid, 0u);
  EXPECT_FALSE(c.root.readonly);
}

TEST(Config, WrongTypeNamesPointerAndValue) {
  EXPECT_EQ(
      error_of(
          R"({"ociVersion":"1.0.0","root":{"path":"r"},"process":{"args":["a",42],"cwd":"/"}})"),
      "config.json: /process/args/1: expected a string, got 42");
  EXPECT_EQ(
      error_of(
          R"({"ociVersion":"1.0.0","root":{"path":"r"},"process":{"args":["a"],"cwd":"/","user":{"uid":1.5}}})"),
      "config.json: /process/user/uid: expected a non-negative integer, got 1.5");
  EXPECT_EQ(error_of(R"({"ociVersion":"1.0.0","root":"r"})"),
            "config.json: /root: expected an object, got \"r\"");
  EXPECT_EQ(error_of(R"([1])"), "config.json: /: expected an object, got [1]");
}

TEST(Config, MalformedJsonHasPosition) {
  std::string e = error_of("{\"ociVersion\": }");
  EXPECT_NE(e.find("config.json: parse error at line 1, column 16"), std::string::npos) << e;
}

TEST(Config, InvalidUtf8IsAnError) {
  std::string e = error_of("{\"ociVersion\":\"1.0.0\",\"hostname\":\"\xff\xfe\"}");
  EXPECT_NE(e.find("config.json: parse error"), std::string::npos) << e;
}

TEST(Config, DeepNestingIsRefusedWithoutRecursion) {
  std::string deep(100000, '[');
  EXPECT_EQ(error_of(deep), "config.json: JSON nests deeper than 64 levels");
}

TEST(Config, OciVersionRange) {
  for (auto v : {"1.0.0", "1.0.2-dev", "1.1.0-rc.1-dev", "1.1.0", "1.2.0", "1.2.1", "1.2.9+build",
                 "1.3.0", "1.3.0+dev", "1.2.5-dev", "1.4.0", "1.99.7-rc.1+b.2"})
    EXPECT_TRUE(oci_version_supported(v)) << v;
  for (auto v :
       {"0.9.0", "2.0.0", "2.0.0-dev", "1", "1.0", "x.y.z", "1.0.0garbage", "", "1.3.0-", "1.3.0+",
        " 1.3.0", "+1.3.0", "1.-3.0", "1.3.0.1", "1..0", "1.3.x", "1.3.99999999999999999999"})
    EXPECT_FALSE(oci_version_supported(v)) << v;
  for (auto v : {"1.4.0", "1.4.0-dev", "1.10.0"}) EXPECT_TRUE(oci_version_newer(v)) << v;
  for (auto v : {"1.3.0", "1.3.9+dev", "1.0.0", "2.0.0", "banana"})
    EXPECT_FALSE(oci_version_newer(v)) << v;
  EXPECT_EQ(error_of(R"({"ociVersion":"2.0.0","root":{"path":"r"}})"),
            "config.json: /ociVersion: version \"2.0.0\" is not supported: nook accepts 1.0.0 and "
            "every later 1.x version (it implements 1.3.0); major version 2 is incompatible with "
            "1.x by definition");
  EXPECT_EQ(error_of(R"({"ociVersion":"1.3","root":{"path":"r"}})"),
            "config.json: /ociVersion: version \"1.3\" is not a runtime-spec version "
            "(MAJOR.MINOR.PATCH, optionally with a -pre-release or +build suffix)");
  EXPECT_EQ(error_of(R"({"root":{"path":"r"}})"),
            "config.json: /ociVersion: required property is missing");
}

TEST(Config, UnknownPropertiesAreIgnored) {
  EXPECT_EQ(error_of(with(R"("futureThing":{"a":1},"linux":{"newKey":[1,2]})")), "");
}

TEST(Config, ProcessRules) {
  EXPECT_EQ(
      error_of(R"({"ociVersion":"1.0.0","root":{"path":"r"},"process":{"args":[],"cwd":"/"}})"),
      "config.json: /process/args: must name at least the program to run");
  EXPECT_EQ(
      error_of(
          R"({"ociVersion":"1.0.0","root":{"path":"r"},"process":{"args":["a"],"cwd":"rel"}})"),
      "config.json: /process/cwd: path \"rel\" must be absolute");
  EXPECT_EQ(error_of(R"({"ociVersion":"1.0.0","root":{"path":"r"},"process":{"args":["a"]}})"),
            "config.json: /process/cwd: required property is missing");
  EXPECT_EQ(
      error_of(
          R"({"ociVersion":"1.0.0","root":{"path":"r"},"process":{"args":["a"],"cwd":"/","rlimits":[{"type":"RLIMIT_FOO","soft":1,"hard":1}]}})"),
      "config.json: /process/rlimits/0/type: unknown rlimit \"RLIMIT_FOO\"");
  EXPECT_EQ(
      error_of(
          R"({"ociVersion":"1.0.0","root":{"path":"r"},"process":{"args":["a"],"cwd":"/","rlimits":[{"type":"RLIMIT_NOFILE","soft":2,"hard":1}]}})"),
      "config.json: /process/rlimits/0: soft limit 2 is above hard limit 1");
  EXPECT_EQ(
      error_of(
          R"({"ociVersion":"1.0.0","root":{"path":"r"},"process":{"args":["a"],"cwd":"/","rlimits":[{"type":"RLIMIT_NOFILE","soft":1,"hard":1},{"type":"RLIMIT_NOFILE","soft":1,"hard":1}]}})"),
      "config.json: /process/rlimits/1/type: rlimit RLIMIT_NOFILE is given twice");
  EXPECT_EQ(
      error_of(
          R"({"ociVersion":"1.0.0","root":{"path":"r"},"process":{"args":["a"],"cwd":"/","oomScoreAdj":5000}})"),
      "config.json: /process/oomScoreAdj: 5000 is out of range: must be between -1000 and 1000");
}

TEST(Config, CapabilitiesBecomeMasksAndUnknownNamesAreKept) {
  Config c =
      parse_config(R"({"ociVersion":"1.0.0","root":{"path":"r"},"process":{"args":["a"],"cwd":"/",
    "capabilities":{"bounding":["CAP_KILL","CAP_SYS_ADMIN","CAP_FUTURE"],"effective":["CAP_CHOWN"]}}})");
  ASSERT_TRUE(c.process->capabilities);
  EXPECT_EQ(c.process->capabilities->bounding, (1ull << 5) | (1ull << 21));
  EXPECT_EQ(c.process->capabilities->effective, 1ull);
  EXPECT_EQ(c.process->capabilities->names_unknown, std::vector<std::string>{"CAP_FUTURE"});
}

TEST(Config, LinuxRules) {
  EXPECT_EQ(error_of(with(R"("linux":{"namespaces":[{"type":"pid"},{"type":"pid"}]})")),
            "config.json: /linux/namespaces/1: namespace type \"pid\" is given twice");
  EXPECT_EQ(error_of(with(R"("linux":{"namespaces":[{"type":"bogus"}]})")),
            "config.json: /linux/namespaces/0/type: unknown namespace type \"bogus\"");
  EXPECT_EQ(error_of(with(R"("linux":{"namespaces":[{"type":"net","path":"rel"}]})")),
            "config.json: /linux/namespaces/0/type: unknown namespace type \"net\"");
  EXPECT_EQ(error_of(with(R"("linux":{"namespaces":[{"type":"network","path":"rel"}]})")),
            "config.json: /linux/namespaces/0/path: path \"rel\" must be absolute");
  EXPECT_EQ(error_of(with(R"("linux":{"uidMappings":[{"containerID":0,"hostID":1000,"size":1}]})")),
            "config.json: /linux/uidMappings: mappings are given but linux.namespaces has no user "
            "namespace");
  EXPECT_EQ(
      error_of(with(
          R"("linux":{"namespaces":[{"type":"user"}],"uidMappings":[{"containerID":0,"hostID":1000,"size":0}]})")),
      "config.json: /linux/uidMappings/0/size: a mapping of size 0 maps nothing");
  EXPECT_EQ(error_of(with(R"("linux":{"devices":[{"type":"x","path":"/dev/x"}]})")),
            "config.json: /linux/devices/0/type: device type must be c, b, u or p, got \"x\"");
  EXPECT_EQ(error_of(with(R"("linux":{"rootfsPropagation":"sideways"})")),
            "config.json: /linux/rootfsPropagation: unknown propagation \"sideways\"");
  EXPECT_EQ(
      error_of(with(R"("linux":{"timeOffsets":{"monotonic":{"secs":1}}})")),
      "config.json: /linux/timeOffsets: time offsets need a time namespace in linux.namespaces");
  EXPECT_EQ(error_of(with(R"("linux":{"maskedPaths":["proc/kcore"]})")),
            "config.json: /linux/maskedPaths/0: path \"proc/kcore\" must be absolute");
}

TEST(Config, OtherPlatformsAreRefused) {
  EXPECT_EQ(error_of(with(R"("windows":{})")),
            "config.json: /windows: platform is not Linux; nook runs Linux containers only");
}

TEST(Config, HooksAndMounts) {
  Config c = parse_config(
      with(R"("mounts":[{"destination":"dev/shm","type":"tmpfs","options":["size=1k"]}],
    "hooks":{"poststop":[{"path":"/bin/true","timeout":3}]})"));
  ASSERT_EQ(c.mounts.size(), 1u);
  EXPECT_EQ(c.mounts[0].destination, "/dev/shm");
  ASSERT_EQ(c.hooks.poststop.size(), 1u);
  EXPECT_EQ(*c.hooks.poststop[0].timeout, 3);
  EXPECT_EQ(error_of(with(R"("hooks":{"prestart":[{"path":"true"}]})")),
            "config.json: /hooks/prestart/0/path: path \"true\" must be absolute");
  EXPECT_EQ(error_of(with(R"("hooks":{"prestart":[{"path":"/x","timeout":0}]})")),
            "config.json: /hooks/prestart/0/timeout: 0 is out of range: must be between 1 and "
            "2147483647 (seconds)");
}

TEST(Config, SharedClientConfigsParse) {
  // Every config a real client sent on this kind of machine (tests/configs).
  for (auto dir : {NOOK_TEST_CONFIGS}) {
    for (auto name :
         {"buildah-bud-root-RUN1", "buildah-bud-rootless-RUN1", "buildah-run-root-tty",
          "podman-run-root", "podman-run-rootless", "podman-run-it-root", "containerd-run.create",
          "containerd-memory-limit.create", "slurm-srun-tuser.run"}) {
      std::ifstream f(std::string(dir) + "/" + name + ".config.json");
      ASSERT_TRUE(f) << name;
      std::stringstream ss;
      ss << f.rdbuf();
      EXPECT_NO_THROW(parse_config(ss.str(), name)) << name;
    }
  }
}

// The SAX reader (mounts straight into Mount) and the DOM reading agree on every input:
// the same Config, or the same error message.
struct Outcome {
  std::optional<Config> config;
  std::string error;
  bool read_by_dom = false;
};
Outcome read_fast(const std::string& text) {
  Outcome o;
  try {
    o.config = parse_config(text, "config.json", &o.read_by_dom);
  } catch (const Error& e) {
    o.error = e.what();
  }
  return o;
}
Outcome read_dom(const std::string& text) {
  Outcome o;
  try {
    o.config = parse_config_dom(text, "config.json");
  } catch (const Error& e) {
    o.error = e.what();
  }
  return o;
}
void expect_same(const std::string& text) {
  Outcome f = read_fast(text), d = read_dom(text);
  EXPECT_EQ(f.error, d.error) << text;
  EXPECT_EQ(f.config.has_value(), d.config.has_value()) << text;
  if (f.config && d.config) {
    EXPECT_TRUE(*f.config == *d.config) << text;
  }
}

TEST(ConfigReader, ClientConfigsReadWithoutTheDom) {
  std::string dir = NOOK_TEST_CONFIGS;
  std::unique_ptr<DIR, int (*)(DIR*)> d(opendir(dir.c_str()), closedir);
  ASSERT_TRUE(d) << dir;
  int n = 0;
  while (dirent* e = readdir(d.get())) {
    std::string name = e->d_name;
    if (!name.ends_with(".config.json")) continue;
    std::ifstream f(dir + "/" + name);
    std::stringstream ss;
    ss << f.rdbuf();
    Outcome fast = read_fast(ss.str()), dom = read_dom(ss.str());
    ASSERT_EQ(fast.error, "") << name;
    EXPECT_FALSE(fast.read_by_dom) << name << ": its mounts should need no DOM";
    EXPECT_FALSE(fast.config->mounts.empty()) << name;
    EXPECT_TRUE(*fast.config == *dom.config) << name;
    n++;
  }
  EXPECT_GE(n, 20);  // tests/configs holds 21 client configs
}

TEST(ConfigReader, PlainMountsMatchTheDom) {
  const char* plain[] = {
      R"("mounts":[])",
      R"("mounts":null)",
      R"("mounts":[{"destination":"/a","type":"bind","source":"/s","options":["rbind","ro"]}])",
      R"("mounts":[{"destination":"dev/shm","type":"tmpfs","options":["size=1k"]}])",
      R"("mounts":[{"options":[],"source":"/s","destination":"/a"}])",
      // unknown members of any shape are ignored
      R"("mounts":[{"destination":"/a","x":{"y":[1,{"z":null}],"w":[]},"q":[[]],"r":7,"options":["bind"]}])",
      R"("mounts":[{"destination":"/a"},{"destination":"/b","type":"proc"}],"hostname":"h","linux":{"namespaces":[{"type":"uts"},{"type":"mount"}]})",
      // read without the DOM, refused by the rule both readings share (check_destination),
      // in the DOM's order of errors: process before mounts, mounts before linux
      R"("mounts":[{}])",
      R"("mounts":[{"destination":""}])",
      R"("mounts":[{"destination":"/a"},{"type":"bind","options":["ro"]}])",
      R"("mounts":[{"destination":""}],"process":{"args":"sh"})",
      R"("mounts":[{"destination":""}],"linux":{"namespaces":7})",
  };
  for (auto* m : plain) {
    expect_same(with(m));
    EXPECT_FALSE(read_fast(with(m)).read_by_dom) << m;
  }
  // "mounts" anywhere but the top level is an unknown key
  expect_same(with(R"("x":{"mounts":[{"destination":5}]},"mounts":[{"destination":"/a"}])"));
}

TEST(ConfigReader, OtherShapesGoThroughTheDom) {
  const char* odd[] = {
      R"("mounts":{})",
      R"("mounts":"x")",
      R"("mounts":[1])",
      R"("mounts":[null])",
      R"("mounts":[["a"]])",
      R"("mounts":[{"destination":5}])",
      R"("mounts":[{"destination":null}])",
      R"("mounts":[{"destination":"/a","type":null}])",
      R"("mounts":[{"destination":"/a","type":1}])",
      R"("mounts":[{"destination":"/a","source":{"k":"v"}}])",
      R"("mounts":[{"destination":"/a","options":"ro"}])",
      R"("mounts":[{"destination":"/a","options":[1]}])",
      R"("mounts":[{"destination":"/a","options":null}])",
      R"("mounts":[{"destination":"/a","options":[["ro"]]}])",
      R"("mounts":[{"destination":"/a","destination":"/b"}])",
      R"("mounts":[{"destination":"/a","uidMappings":[]}])",
      R"("mounts":[{"destination":"/a","uidMappings":[{"containerID":0,"hostID":1,"size":1}],"gidMappings":[{"containerID":0,"hostID":1,"size":1}]}])",
      R"("mounts":[{"destination":"/a"}],"mounts":[{"destination":"/b"}])",
      R"("mounts":[{"destination":"/a"}],"mounts":null)",
  };
  for (auto* m : odd) {
    expect_same(with(m));
    EXPECT_TRUE(read_fast(with(m)).read_by_dom) << m;
  }
}

TEST(ConfigReader, ErrorsMatchTheDom) {
  std::string deep = std::string(70, '[') + std::string(70, ']');
  for (const std::string& t : {
           with(R"("mounts":[{"destination":"/a","x":)" + deep + "}]"),
           with(R"("annotations":{"a":)" + deep + "}"),
           // both too deep and malformed: the depth error, whichever comes first in the text
           with(R"("mounts":[{"destination":"/a",}],"x":)" + deep),
           with(R"("x":)" + deep + R"(,"mounts":[{"destination":"/a",}])"),
           std::string(R"({"ociVersion":"1.0.2","mounts":[{"destination":"/a",)") + deep,
           with(R"("mounts":[{"destination":"/a","x":1e400}])"),
           with(R"("mounts":[{"destination":"/a",}])"),
           std::string(R"({"ociVersion":"1.0.2","mounts":[{"destination":"/a")"),
           with(R"("mounts":[{"destination":"/a"}],"hostname":"h")"),
           with(R"("mounts":[{"destination":"/a"}],"process":{"args":"sh"})"),
           std::string(kMinimal) + std::string(1, '\0') + "trailing",
           std::string("5") + std::string(1, '\0') + std::string(70, '['),
           std::string("[]"),
           std::string("\"s\""),
           std::string(""),
       }) {
    expect_same(t);
    EXPECT_NE(read_fast(t).error, "") << t;
  }
}

// --- Every number is range-checked (issue 14, findings 3, 7 and 10a) --------------------------

// kMinimal's process with `members` added.
std::string proc(const std::string& members) {
  return R"({"ociVersion":"1.0.2-dev","root":{"path":"rootfs"},"process":{"args":["sh"],"cwd":"/",)" +
         members + "}}";
}
// A linux object with `members` (and a user and a time namespace, for mappings and offsets).
std::string lin(const std::string& members) {
  return with(R"("linux":{"namespaces":[{"type":"user"},{"type":"time"}],)" + members + "}");
}
std::string res(const std::string& members) {
  return with(R"("linux":{"resources":{)" + members + "}}");
}

const std::string kIdRange = " is out of range: uids and gids must be in range 0-2147483647";

// Both readings give the error, and the same one.
std::string range_error(const std::string& text) {
  expect_same(text);
  return error_of(text);
}

TEST(ConfigRanges, IdsAboveTwoToThe31AreRefused) {
  // uid 4294967295 is -1 to setresuid(): "leave it unchanged", i.e. root.
  EXPECT_EQ(range_error(proc(R"("user":{"uid":4294967295})")),
            "config.json: /process/user/uid: 4294967295" + kIdRange);
  EXPECT_EQ(range_error(proc(R"("user":{"uid":2147483648})")),
            "config.json: /process/user/uid: 2147483648" + kIdRange);
  EXPECT_EQ(range_error(proc(R"("user":{"uid":-1})")),
            "config.json: /process/user/uid: -1" + kIdRange);
  EXPECT_EQ(range_error(proc(R"("user":{"gid":4294967295})")),
            "config.json: /process/user/gid: 4294967295" + kIdRange);
  EXPECT_EQ(range_error(proc(R"("user":{"additionalGids":[0,4294967295]})")),
            "config.json: /process/user/additionalGids/1: 4294967295" + kIdRange);
  // beyond 64 bits JSON numbers are floats: not an ID either
  EXPECT_EQ(range_error(proc(R"("user":{"uid":99999999999999999999})")),
            "config.json: /process/user/uid: expected a non-negative integer, got 1e+20");
  Config c = parse_config(
      proc(R"("user":{"uid":2147483647,"gid":2147483647,"additionalGids":[2147483647]})"));
  EXPECT_EQ(c.process->user.uid, 2147483647u);
  EXPECT_EQ(c.process->user.gid, 2147483647u);
  // exec --process: the same rule, the file's own name
  try {
    parse_process(R"({"args":["sh"],"cwd":"/","user":{"uid":0,"gid":4294967295}})");
    ADD_FAILURE() << "process.json with gid 4294967295 accepted";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "process.json: /user/gid: 4294967295" + kIdRange);
  }
  // device owners
  EXPECT_EQ(
      range_error(
          lin(R"("devices":[{"type":"c","path":"/dev/x","major":1,"minor":3,"uid":4294967295}])")),
      "config.json: /linux/devices/0/uid: 4294967295" + kIdRange);
}

TEST(ConfigRanges, MappingsStayInsideTheIdSpace) {
  auto uidmap = [](const std::string& m) {
    return lin(R"("uidMappings":[)" + m +
               R"(],"gidMappings":[{"containerID":0,"hostID":1,"size":1}])");
  };
  EXPECT_EQ(range_error(uidmap(R"({"containerID":4294967295,"hostID":1000,"size":1})")),
            "config.json: /linux/uidMappings/0/containerID: 4294967295" + kIdRange);
  EXPECT_EQ(range_error(uidmap(R"({"containerID":0,"hostID":2147483648,"size":1})")),
            "config.json: /linux/uidMappings/0/hostID: 2147483648" + kIdRange);
  EXPECT_EQ(range_error(lin(R"("uidMappings":[{"containerID":0,"hostID":1,"size":1}],
      "gidMappings":[{"containerID":0,"hostID":-1,"size":1}])")),
            "config.json: /linux/gidMappings/0/hostID: -1" + kIdRange);
  // first + size must not wrap in 32 bits (the kernel's check; = 2^32 wraps to 0)
  EXPECT_EQ(range_error(uidmap(R"({"containerID":0,"hostID":100000,"size":4294867296})")),
            "config.json: /linux/uidMappings/0/size: 4294867296 is out of range: containerID + "
            "size and hostID + size must be at most 4294967295");
  EXPECT_EQ(range_error(uidmap(R"({"containerID":1,"hostID":0,"size":4294967295})")),
            "config.json: /linux/uidMappings/0/size: 4294967295 is out of range: containerID + "
            "size and hostID + size must be at most 4294967295");
  EXPECT_EQ(range_error(uidmap(R"({"containerID":0,"hostID":100000,"size":4294867295})")), "");
  EXPECT_EQ(
      range_error(uidmap(R"({"containerID":2147483647,"hostID":2147483647,"size":2147483648})")),
      "");
  EXPECT_EQ(range_error(uidmap(R"({"containerID":0,"hostID":1000,"size":10},
      {"containerID":5,"hostID":2000,"size":10})")),
            "config.json: /linux/uidMappings/1: its containerID range overlaps that of "
            "/linux/uidMappings/0");
  EXPECT_EQ(range_error(uidmap(R"({"containerID":0,"hostID":1000,"size":10},
      {"containerID":10,"hostID":1009,"size":1})")),
            "config.json: /linux/uidMappings/1: its hostID range overlaps that of "
            "/linux/uidMappings/0");
  EXPECT_EQ(range_error(uidmap(R"({"containerID":0,"hostID":1000,"size":10},
      {"containerID":10,"hostID":1010,"size":1})")),
            "");
  std::string many;
  for (int i = 0; i < 341; i++)
    many += (i ? "," : "") + std::string(R"({"containerID":)") + std::to_string(i) +
            R"(,"hostID":)" + std::to_string(1000 + i) + R"(,"size":1})";
  EXPECT_EQ(range_error(uidmap(many)),
            "config.json: /linux/uidMappings/340: more than 340 mappings (the kernel's limit)");
}

// A mount's ID mappings: read as linux.uidMappings are (the same ranges and rules), in pairs,
// on bind mounts only; idmap without mappings needs the container's user namespace. Both
// readings give the same answer.
TEST(ConfigRanges, MountMappings) {
  auto mnt = [](const std::string& entry, const std::string& linux = "") {
    return with(R"("mounts":[)" + entry + "]" + (linux.empty() ? "" : "," + linux));
  };
  const std::string bind = R"("destination":"/m","type":"bind","source":"/s","options":["rbind"])";
  const std::string one = R"([{"containerID":1000,"hostID":0,"size":1}])";
  std::string ok = mnt("{" + bind + R"(,"uidMappings":)" + one + R"(,"gidMappings":)" + one + "}");
  expect_same(ok);
  Config c = parse_config(ok);
  ASSERT_EQ(c.mounts.size(), 1u);
  EXPECT_EQ(c.mounts[0].uid_mappings, (std::vector<IdMapping>{{1000, 0, 1}}));
  EXPECT_EQ(c.mounts[0].gid_mappings, (std::vector<IdMapping>{{1000, 0, 1}}));
  // the ranges of linux.uidMappings
  EXPECT_EQ(range_error(mnt("{" + bind +
                            R"(,"uidMappings":[{"containerID":0,"hostID":2147483648,"size":1}],)"
                            R"("gidMappings":)" +
                            one + "}")),
            "config.json: /mounts/0/uidMappings/0/hostID: 2147483648" + kIdRange);
  EXPECT_EQ(range_error(mnt("{" + bind + R"(,"uidMappings":)" + one +
                            R"(,"gidMappings":[{"containerID":0,"hostID":1,"size":0}]})")),
            "config.json: /mounts/0/gidMappings/0/size: a mapping of size 0 maps nothing");
  EXPECT_EQ(range_error(mnt("{" + bind + R"(,"uidMappings":)" + one +
                            R"(,"gidMappings":[{"containerID":1,"hostID":0,"size":4294967295}]})")),
            "config.json: /mounts/0/gidMappings/0/size: 4294967295 is out of range: containerID + "
            "size and hostID + size must be at most 4294967295");
  EXPECT_EQ(range_error(mnt("{" + bind +
                            R"(,"uidMappings":[{"containerID":0,"hostID":0,"size":10},)"
                            R"({"containerID":5,"hostID":100,"size":1}],"gidMappings":)" +
                            one + "}")),
            "config.json: /mounts/0/uidMappings/1: its containerID range overlaps that of "
            "/mounts/0/uidMappings/0");
  // in pairs
  EXPECT_EQ(range_error(mnt("{" + bind + R"(,"uidMappings":)" + one + "}")),
            "config.json: /mounts/0/gidMappings: uidMappings are given without gidMappings");
  EXPECT_EQ(range_error(mnt("{" + bind + R"(,"gidMappings":)" + one + "}")),
            "config.json: /mounts/0/uidMappings: gidMappings are given without uidMappings");
  // bind mounts only
  EXPECT_EQ(range_error(mnt(R"({"destination":"/m","type":"tmpfs","source":"t","uidMappings":)" +
                            one + R"(,"gidMappings":)" + one + "}")),
            "config.json: /mounts/0/uidMappings: ID-mapped mounts are bind mounts only (options "
            "bind or rbind)");
  EXPECT_EQ(range_error(mnt(R"({"destination":"/m","type":"tmpfs","options":["idmap"]})")),
            "config.json: /mounts/0/options: ID-mapped mounts are bind mounts only (options bind "
            "or rbind)");
  // idmap without mappings: the container's user namespace
  std::string idmap = R"({"destination":"/m","type":"bind","source":"/s","options":["ridmap"]})";
  EXPECT_EQ(range_error(mnt(idmap)),
            "config.json: /mounts/0/options: idmap without uidMappings and gidMappings takes the "
            "container's user namespace, but linux.namespaces has none");
  EXPECT_EQ(error_of(mnt(idmap, R"("linux":{"namespaces":[{"type":"user"}]})")), "");
  EXPECT_EQ(
      error_of(mnt(idmap, R"("linux":{"namespaces":[{"type":"user","path":"/proc/1/ns/user"}]})")),
      "");
  // mappings without the option are an ID-mapped mount too, with or without a user namespace
  EXPECT_EQ(error_of(mnt(R"({"destination":"/m","source":"/s","options":["bind"],"uidMappings":)" +
                         one + R"(,"gidMappings":)" + one + "}")),
            "");
  EXPECT_EQ(
      parse_config(
          mnt(R"({"destination":"/m","source":"/s","options":["bind"],"uidMappings":[],"gidMappings":[]})"))
          .mounts[0]
          .uid_mappings.size(),
      0u);
}

// linux.resources.network: classID and priority are uint32 (net_cls.classid, ifpriomap), the
// name an interface name the kernel would take.
TEST(ConfigRanges, NetworkClassIdPrioritiesAndNames) {
  Config c = parse_config(res(
      R"("network":{"classID":4294967295,"priorities":[{"name":"eth0","priority":0},{"name":"a-15-chars-name","priority":4294967295}]})"));
  auto& n = *c.linux.resources->network;
  EXPECT_EQ(*n.class_id, 4294967295u);
  ASSERT_EQ(n.priorities.size(), 2u);
  EXPECT_EQ(n.priorities[0].name, "eth0");
  EXPECT_EQ(n.priorities[1].priority, 4294967295u);
  EXPECT_FALSE(parse_config(res(R"("network":{})")).linux.resources->network);
  EXPECT_EQ(range_error(res(R"("network":{"classID":4294967296})")),
            "config.json: /linux/resources/network/classID: 4294967296 is out of range: must be "
            "between 0 and 4294967295");
  EXPECT_EQ(range_error(res(R"("network":{"classID":-1})")),
            "config.json: /linux/resources/network/classID: -1 is out of range: must be between 0 "
            "and 4294967295");
  EXPECT_EQ(range_error(res(R"("network":{"priorities":[{"name":"eth0","priority":-1}]})")),
            "config.json: /linux/resources/network/priorities/0/priority: -1 is out of range: "
            "must be between 0 and 4294967295");
  EXPECT_EQ(range_error(res(R"("network":{"priorities":[{"name":"eth0"}]})")),
            "config.json: /linux/resources/network/priorities/0/priority: required property is "
            "missing");
  const std::string rule =
      "\" is not an interface name (1 to 15 characters, no '/', ':' or blank, not . or ..)";
  for (auto name : {"", "sixteen-chars-xx", "a/b", "a b", "eth0:1", ".", ".."})
    EXPECT_EQ(
        range_error(res(R"("network":{"priorities":[{"name":")" + std::string(name) +
                        R"(","priority":1}]})")),
        "config.json: /linux/resources/network/priorities/0/name: \"" + std::string(name) + rule)
        << name;
}

TEST(ConfigRanges, BlockIoWeightsDoNotWrap) {
  // 65636 was 100 and 99999 was 34463 (a uint16 cast)
  EXPECT_EQ(range_error(res(R"("blockIO":{"weight":65636})")),
            "config.json: /linux/resources/blockIO/weight: 65636 is out of range: must be 0 "
            "(unset) or between 10 and 1000");
  for (auto w : {"99999", "9", "1001", "-1", "4294967296"})
    EXPECT_NE(range_error(res(R"("blockIO":{"weight":)" + std::string(w) + "}")), "") << w;
  EXPECT_EQ(range_error(res(R"("blockIO":{"leafWeight":99999})")),
            "config.json: /linux/resources/blockIO/leafWeight: 99999 is out of range: must be 0 "
            "(unset) or between 10 and 1000");
  EXPECT_EQ(
      range_error(res(R"("blockIO":{"weightDevice":[{"major":8,"minor":0,"weight":65636}]})")),
      "config.json: /linux/resources/blockIO/weightDevice/0/weight: 65636 is out of range: must "
      "be 0 (unset) or between 10 and 1000");
  EXPECT_EQ(
      range_error(res(R"("blockIO":{"weightDevice":[{"major":8,"minor":0,"leafWeight":5}]})")),
      "config.json: /linux/resources/blockIO/weightDevice/0/leafWeight: 5 is out of range: must "
      "be 0 (unset) or between 10 and 1000");
  EXPECT_EQ(range_error(res(R"("blockIO":{"weightDevice":[{"major":4096,"minor":0}]})")),
            "config.json: /linux/resources/blockIO/weightDevice/0/major: 4096 is out of range: "
            "must be between 0 and 4095");
  EXPECT_EQ(
      range_error(res(R"("blockIO":{"throttleReadBpsDevice":[{"major":8,"minor":-1,"rate":1}]})")),
      "config.json: /linux/resources/blockIO/throttleReadBpsDevice/0/minor: -1 is out of range: "
      "must be between 0 and 1048575");
  Config c = parse_config(res(
      R"("blockIO":{"weight":1000,"leafWeight":10,"weightDevice":[{"major":4095,"minor":1048575,"weight":10}],
      "throttleWriteIOPSDevice":[{"major":8,"minor":0,"rate":18446744073709551615}]})"));
  auto& b = *c.linux.resources->block_io;
  EXPECT_EQ(*b.weight, 1000);
  EXPECT_EQ(*b.leaf_weight, 10);
  EXPECT_EQ(*b.weight_device[0].weight, 10);
  EXPECT_EQ(b.throttle_write_iops[0].rate, UINT64_MAX);
  EXPECT_EQ(range_error(res(R"("blockIO":{"weight":0})")), "");
}

TEST(ConfigRanges, EveryOtherNumber) {
  const std::pair<std::string, std::string> cases[] = {
      // process
      {proc(R"("user":{"umask":512})"),
       "/process/user/umask: 512 is out of range: must be between 0 and 0777 (511)"},
      {proc(R"("consoleSize":{"height":65536,"width":80})"),
       "/process/consoleSize/height: 65536 is out of range: must be between 0 and 65535"},
      {proc(R"("consoleSize":{"height":24,"width":-1})"),
       "/process/consoleSize/width: -1 is out of range: must be between 0 and 65535"},
      {proc(R"("oomScoreAdj":-1001)"),
       "/process/oomScoreAdj: -1001 is out of range: must be between -1000 and 1000"},
      {proc(R"("scheduler":{"policy":"SCHED_OTHER","nice":20})"),
       "/process/scheduler/nice: 20 is out of range: must be between -20 and 19"},
      {proc(R"("scheduler":{"policy":"SCHED_OTHER","nice":-21})"),
       "/process/scheduler/nice: -21 is out of range: must be between -20 and 19"},
      {proc(R"("scheduler":{"policy":"SCHED_FIFO","priority":100})"),
       "/process/scheduler/priority: 100 is out of range: must be between 1 and 99 for "
       "SCHED_FIFO"},
      {proc(R"("scheduler":{"policy":"SCHED_RR"})"),
       "/process/scheduler/priority: required property is missing: SCHED_RR needs 1..99"},
      {proc(R"("scheduler":{"policy":"SCHED_OTHER","priority":5})"),
       "/process/scheduler/priority: 5 is out of range: must be 0 for SCHED_OTHER (only "
       "SCHED_FIFO and SCHED_RR take one)"},
      {proc(R"("scheduler":{"policy":"SCHED_BATCH","runtime":9223372036854775808})"),
       "/process/scheduler/runtime: 9223372036854775808 is out of range: must be between 0 and "
       "9223372036854775807"},
      {proc(R"("scheduler":{"policy":"SCHED_DEADLINE","runtime":100,"deadline":1000})"),
       "/process/scheduler/runtime: SCHED_DEADLINE needs a runtime of at least 1024 ns"},
      {proc(R"("scheduler":{"policy":"SCHED_DEADLINE","runtime":2000,"deadline":1000})"),
       "/process/scheduler/deadline: SCHED_DEADLINE needs runtime <= deadline"},
      {proc(
           R"("scheduler":{"policy":"SCHED_DEADLINE","runtime":2000,"deadline":3000,"period":2500})"),
       "/process/scheduler/period: SCHED_DEADLINE needs deadline <= period (or period 0)"},
      {proc(R"("ioPriority":{"class":"IOPRIO_CLASS_BE","priority":8})"),
       "/process/ioPriority/priority: 8 is out of range: must be between 0 and 7"},
      {proc(R"("ioPriority":{"class":"IOPRIO_CLASS_BE","priority":-1})"),
       "/process/ioPriority/priority: -1 is out of range: must be between 0 and 7"},
      // hooks, seccomp
      {with(R"("hooks":{"poststop":[{"path":"/x","timeout":2147483648}]})"),
       "/hooks/poststop/0/timeout: 2147483648 is out of range: must be between 1 and 2147483647 "
       "(seconds)"},
      {with(R"("linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],
         "action":"SCMP_ACT_ERRNO","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}})"),
       "/linux/seccomp/syscalls/0/args/0/index: 6 is out of range: must be between 0 and 5"},
      {with(
           R"("linux":{"seccomp":{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":4294967296}})"),
       "/linux/seccomp/defaultErrnoRet: 4294967296 is out of range: must be between 0 and "
       "4294967295"},
      // linux
      {lin(R"("devices":[{"type":"c","path":"/dev/x","major":1,"minor":1048576}])"),
       "/linux/devices/0/minor: 1048576 is out of range: must be between 0 and 1048575"},
      {lin(R"("devices":[{"type":"c","path":"/dev/x","major":1,"minor":3,"fileMode":4096}])"),
       "/linux/devices/0/fileMode: 4096 is out of range: must be between 0 and 07777 (4095), "
       "the permission bits"},
      {lin(R"("timeOffsets":{"monotonic":{"secs":4611686019}})"),
       "/linux/timeOffsets/monotonic/secs: 4611686019 is out of range: must be between "
       "-4611686018 and 4611686018"},
      {lin(R"("timeOffsets":{"boottime":{"nanosecs":1000000000}})"),
       "/linux/timeOffsets/boottime/nanosecs: 1000000000 is out of range: must be between 0 and "
       "999999999"},
      // resources
      {res(R"("devices":[{"allow":true,"major":-2}])"),
       "/linux/resources/devices/0/major: -2 is out of range: must be -1 (all) or between 0 and "
       "4095"},
      {res(R"("devices":[{"allow":true,"minor":1048576}])"),
       "/linux/resources/devices/0/minor: 1048576 is out of range: must be -1 (all) or between 0 "
       "and 1048575"},
      {res(R"("memory":{"limit":-2})"),
       "/linux/resources/memory/limit: -2 is out of range: must be -1 (unlimited) or a number of "
       "bytes from 0"},
      {res(R"("memory":{"swap":9223372036854775808})"),
       "/linux/resources/memory/swap: 9223372036854775808 is out of range: must be -1 "
       "(unlimited) or a number of bytes from 0"},
      {res(R"("memory":{"swappiness":101})"),
       "/linux/resources/memory/swappiness: 101 is out of range: must be between 0 and 100"},
      {res(R"("cpu":{"shares":1})"),
       "/linux/resources/cpu/shares: 1 is out of range: must be 0 (unset) or between 2 and "
       "262144"},
      {res(R"("cpu":{"shares":262145})"),
       "/linux/resources/cpu/shares: 262145 is out of range: must be 0 (unset) or between 2 and "
       "262144"},
      {res(R"("cpu":{"period":999})"),
       "/linux/resources/cpu/period: 999 is out of range: must be 0 (unset) or between 1000 and "
       "1000000"},
      {res(R"("cpu":{"period":1000001})"),
       "/linux/resources/cpu/period: 1000001 is out of range: must be 0 (unset) or between 1000 "
       "and 1000000"},
      {res(R"("cpu":{"quota":999})"),
       "/linux/resources/cpu/quota: 999 is out of range: must be -1 (unlimited), 0 (unset) or "
       "between 1000 and 17592186044415 (us)"},
      {res(R"("cpu":{"quota":-2})"),
       "/linux/resources/cpu/quota: -2 is out of range: must be -1 (unlimited), 0 (unset) or "
       "between 1000 and 17592186044415 (us)"},
      {res(R"("cpu":{"burst":-1})"),
       "/linux/resources/cpu/burst: -1 is out of range: must be between 0 and 17592186044415"},
      {res(R"("cpu":{"idle":2})"),
       "/linux/resources/cpu/idle: 2 is out of range: must be between 0 and 1"},
      {res(R"("cpu":{"realtimeRuntime":-2})"),
       "/linux/resources/cpu/realtimeRuntime: -2 is out of range: must be -1 (unlimited) or "
       "between 0 and 17592186044 (us)"},
      {res(R"("cpu":{"realtimePeriod":18446744073709552})"),
       "/linux/resources/cpu/realtimePeriod: 18446744073709552 is out of range: must be 0 "
       "(unset) or between 1 and 18446744073709551"},
      {res(R"("cpu":{"realtimePeriod":1000,"realtimeRuntime":1001})"),
       "/linux/resources/cpu/realtimeRuntime: runtime 1001 is above realtimePeriod 1000"},
      {res(R"("pids":{"limit":4194305})"),
       "/linux/resources/pids/limit: 4194305 is out of range: must be -1 (unlimited) or between 0 "
       "and 4194304"},
      {res(R"("pids":{"limit":-2})"),
       "/linux/resources/pids/limit: -2 is out of range: must be -1 (unlimited) or between 0 and "
       "4194304"},
  };
  for (auto& [text, err] : cases) EXPECT_EQ(range_error(text), "config.json: " + err) << text;

  // The edges are accepted, and read as written.
  Config c = parse_config(
      R"({"ociVersion":"1.0.2-dev","root":{"path":"rootfs"},"process":{"args":["sh"],"cwd":"/",
        "user":{"umask":511},"consoleSize":{"height":65535,"width":0},"oomScoreAdj":-1000,
        "scheduler":{"policy":"SCHED_FIFO","nice":-20,"priority":99},
        "ioPriority":{"class":"IOPRIO_CLASS_RT","priority":7}},
        "linux":{"namespaces":[{"type":"time"}],
          "timeOffsets":{"monotonic":{"secs":-4611686018,"nanosecs":999999999}},
          "devices":[{"type":"b","path":"/dev/b","major":4095,"minor":1048575,"fileMode":4095}],
          "resources":{"devices":[{"allow":false,"major":-1,"minor":-1}],
            "memory":{"limit":-1,"reservation":9223372036854775807,"swap":0,"swappiness":100},
            "cpu":{"shares":262144,"period":1000000,"quota":17592186044415,"burst":0,"idle":1,
                   "realtimePeriod":18446744073709551,"realtimeRuntime":-1},
            "pids":{"limit":4194304}}}})");
  EXPECT_EQ(*c.process->user.umask, 0777u);
  EXPECT_EQ(c.process->console_size->height, 65535u);
  EXPECT_EQ(c.process->scheduler->priority, 99);
  EXPECT_EQ(c.linux.time_offsets_secs["monotonic"], -4611686018);
  EXPECT_EQ(c.linux.devices[0].major, 4095);
  EXPECT_EQ(*c.linux.resources->devices[0].major, -1);
  EXPECT_EQ(*c.linux.resources->memory->reservation, INT64_MAX);
  EXPECT_EQ(*c.linux.resources->cpu->quota, 17592186044415);
  EXPECT_EQ(*c.linux.resources->pids_limit, 4194304);
  EXPECT_EQ(range_error(proc(R"("scheduler":{"policy":"SCHED_DEADLINE","runtime":1024,
      "deadline":1024,"period":0})")),
            "");
  EXPECT_EQ(range_error(res(R"("cpu":{"quota":0,"period":0,"shares":0,"realtimePeriod":0})")), "");
}

// 10a: a device major of -1 printed two lines (a device cgroup warning, then mknod's EINVAL)
// and was 4294967295 by the time it reached mknod.
TEST(ConfigRanges, DeviceMajorMinusOneIsOneClearError) {
  EXPECT_EQ(range_error(lin(R"("devices":[{"type":"c","path":"/dev/x","major":-1,"minor":3}])")),
            "config.json: /linux/devices/0/major: -1 is out of range: must be between 0 and 4095");
  EXPECT_EQ(
      range_error(lin(R"("devices":[{"type":"c","path":"/dev/x","major":4294967295,"minor":3}])")),
      "config.json: /linux/devices/0/major: 4294967295 is out of range: must be between 0 and "
      "4095");
  // a fifo has no numbers: whatever is there is not read
  EXPECT_EQ(range_error(lin(R"("devices":[{"type":"p","path":"/dev/f","major":-1}])")), "");
}

TEST(Names, Signals) {
  EXPECT_EQ(parse_signal("TERM"), 15);
  EXPECT_EQ(parse_signal("SIGKILL"), 9);
  EXPECT_EQ(parse_signal("sigusr1"), 10);
  EXPECT_EQ(parse_signal("9"), 9);
  EXPECT_EQ(parse_signal("RTMIN+2"), SIGRTMIN + 2);
  EXPECT_EQ(parse_signal("SIGFOO"), -1);
  EXPECT_EQ(parse_signal("0"), -1);
  EXPECT_EQ(parse_signal("99999"), -1);
  EXPECT_EQ(parse_signal(""), -1);
}

TEST(State, IdValidation) {
  for (auto id : {"a", "buildah-buildah115496812", "x.y_z+1", "n.u.1.0.4294967294"})
    EXPECT_NO_THROW(validate_id(id)) << id;
  auto msg = [](const std::string& id) {
    try {
      validate_id(id);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(msg(""), "container ID is empty");
  EXPECT_EQ(msg(".."), "container ID \"..\" is not allowed");
  EXPECT_EQ(msg("a/b"),
            "container ID contains \"/\": only letters, digits and _ + - . are allowed");
  EXPECT_EQ(msg(std::string("a\0b", 3)),
            "container ID contains \"\\x00\": only letters, digits and _ + - . are allowed");
  EXPECT_EQ(msg(std::string(10240, 'a')), "container ID is longer than 1024 bytes");
}

TEST(State, RoundTrip) {
  State s;
  s.id = "c1";
  s.pid = 42;
  s.start_time = 123456;
  s.bundle = "/b";
  s.annotations = {{"k", "v"}};
  s.single_id = true;
  s.cgroup.v2 = "/sys/fs/cgroup/nook/c1";
  State t = state_from_json(state_to_json(s), "state.json");
  EXPECT_EQ(t.id, "c1");
  EXPECT_EQ(t.pid, 42);
  EXPECT_EQ(t.start_time, 123456u);
  EXPECT_EQ(t.annotations.at("k"), "v");
  EXPECT_TRUE(t.single_id);
  EXPECT_EQ(t.cgroup.v2, s.cgroup.v2);
  EXPECT_THROW(state_from_json("{\"id\":1}", "state.json"), Error);
  EXPECT_THROW(state_from_json("garbage", "state.json"), Error);
}

}  // namespace
}  // namespace nook
