// config.json parsing and validation: the typed model and every error path's message.
#include "config.hpp"

#include <dirent.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "error.hpp"
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
          R"({"ociVersion":"1.0.0","root":{"path":"r"},"process":{"args":["a"],"cwd":"/","user":{"uid":-1}}})"),
      "config.json: /process/user/uid: expected a non-negative integer, got -1");
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
  for (auto v : {"1.0.0", "1.0.2-dev", "1.1.0-rc.1-dev", "1.1.0", "1.2.0", "1.2.1", "1.2.9+build"})
    EXPECT_TRUE(oci_version_supported(v)) << v;
  for (auto v : {"0.9.0", "2.0.0", "1.3.0", "1", "1.0", "x.y.z", "1.0.0garbage", ""})
    EXPECT_FALSE(oci_version_supported(v)) << v;
  EXPECT_EQ(error_of(R"({"ociVersion":"2.0.0","root":{"path":"r"}})"),
            "config.json: /ociVersion: version \"2.0.0\" is not supported (nook supports 1.0.0 "
            "through 1.2.x)");
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
      "config.json: /process/oomScoreAdj: must be between -1000 and 1000");
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
            "config.json: /hooks/prestart/0/timeout: timeout must be greater than zero");
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
      R"("mounts":[{}])",
      R"("mounts":[{"destination":""}])",
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
