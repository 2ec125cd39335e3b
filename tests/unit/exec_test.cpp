// exec: how the flags and a --process file become the process to run (runc's rules), and
// --user parsing. The kernel side is covered by tests/integration/exec.bats.
#include "exec.hpp"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/resource.h>

#include <fstream>
#include <sstream>
#include <string>

#include "config.hpp"
#include "error.hpp"

namespace nook {
namespace {

const char* kConfig = R"({
  "ociVersion": "1.0.2",
  "root": {"path": "rootfs"},
  "process": {
    "terminal": true,
    "consoleSize": {"height": 24, "width": 80},
    "user": {"uid": 1000, "gid": 1000, "additionalGids": [2000], "umask": 18},
    "args": ["/bin/sh"],
    "env": ["PATH=/bin:/usr/bin", "TERM=xterm", "FOO=config"],
    "cwd": "/home/tuser",
    "capabilities": {"bounding": ["CAP_CHOWN", "CAP_KILL"], "effective": ["CAP_CHOWN"],
                     "permitted": ["CAP_CHOWN", "CAP_KILL"]},
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 512}],
    "noNewPrivileges": false,
    "apparmorProfile": "container-default"
  },
  "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]}
})";

Config config() {
  return parse_config(kConfig, "config.json");
}

uint64_t bit(int cap) {
  return 1ULL << cap;
}

ExecOptions with_args(std::vector<std::string> args) {
  ExecOptions o;
  o.args = std::move(args);
  return o;
}

// --- Flags over the container's process --------------------------------------------------------

TEST(ExecProcess, DefaultsComeFromTheContainersProcess) {
  Process p = exec_process_for(config(), with_args({"ls", "-l"}), "");
  EXPECT_EQ(p.args, (std::vector<std::string>{"ls", "-l"}));
  EXPECT_EQ(p.env, (std::vector<std::string>{"PATH=/bin:/usr/bin", "TERM=xterm", "FOO=config"}));
  EXPECT_EQ(p.cwd, "/home/tuser");
  EXPECT_EQ(p.user.uid, 1000u);
  EXPECT_EQ(p.user.gid, 1000u);
  EXPECT_EQ(p.user.additional_gids, (std::vector<uint32_t>{2000}));
  EXPECT_EQ(p.user.umask, 18u);
  ASSERT_TRUE(p.capabilities);
  EXPECT_EQ(p.capabilities->bounding, bit(CAP_CHOWN) | bit(CAP_KILL));
  EXPECT_EQ(p.capabilities->effective, bit(CAP_CHOWN));
  ASSERT_EQ(p.rlimits.size(), 1u);
  EXPECT_EQ(p.rlimits[0].resource, RLIMIT_NOFILE);
  EXPECT_EQ(p.rlimits[0].soft, 512u);
  EXPECT_FALSE(p.no_new_privileges);
  EXPECT_EQ(p.apparmor_profile, "container-default");
}

TEST(ExecProcess, TerminalOnlyWithTty) {
  // runc: the config's terminal does not carry over to exec; --tty decides.
  Process p = exec_process_for(config(), with_args({"sh"}), "");
  EXPECT_FALSE(p.terminal);
  EXPECT_FALSE(p.console_size);
  ExecOptions o = with_args({"sh"});
  o.tty = true;
  EXPECT_TRUE(exec_process_for(config(), o, "").terminal);
}

TEST(ExecProcess, EnvIsAppendedAndALaterNameWins) {
  ExecOptions o = with_args({"env"});
  o.env = {"NEW=1", "FOO=flag", "EMPTY=", "NEW=2"};
  Process p = exec_process_for(config(), o, "");
  EXPECT_EQ(p.env, (std::vector<std::string>{"PATH=/bin:/usr/bin", "TERM=xterm", "FOO=flag",
                                             "NEW=2", "EMPTY="}));
}

TEST(ExecProcess, EnvWithoutValueIsAnError) {
  ExecOptions o = with_args({"env"});
  o.env = {"NOVALUE"};
  EXPECT_THROW(exec_process_for(config(), o, ""), Error);
  o.env = {"=x"};
  EXPECT_THROW(exec_process_for(config(), o, ""), Error);
}

TEST(ExecProcess, Cwd) {
  ExecOptions o = with_args({"pwd"});
  o.cwd = "/tmp";
  EXPECT_EQ(exec_process_for(config(), o, "").cwd, "/tmp");
  o.cwd = "tmp";
  try {
    exec_process_for(config(), o, "");
    FAIL() << "relative --cwd accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--cwd tmp: must be an absolute path"), std::string::npos)
        << e.what();
  }
}

TEST(ExecProcess, UserUidOnlyKeepsTheGid) {
  ExecOptions o = with_args({"id"});
  o.user = "0";
  Process p = exec_process_for(config(), o, "");
  EXPECT_EQ(p.user.uid, 0u);
  EXPECT_EQ(p.user.gid, 1000u);
  o.user = "33:44";
  p = exec_process_for(config(), o, "");
  EXPECT_EQ(p.user.uid, 33u);
  EXPECT_EQ(p.user.gid, 44u);
}

TEST(ExecProcess, AdditionalGidsAreAppended) {
  ExecOptions o = with_args({"id"});
  o.additional_gids = {10, 20};
  EXPECT_EQ(exec_process_for(config(), o, "").user.additional_gids,
            (std::vector<uint32_t>{2000, 10, 20}));
  o.additional_gids = {-1};
  EXPECT_THROW(exec_process_for(config(), o, ""), Error);
}

TEST(ExecProcess, CapAddsToBoundingEffectivePermitted) {
  ExecOptions o = with_args({"sh"});
  o.caps = {"CAP_NET_ADMIN", "sys_ptrace"};
  Process p = exec_process_for(config(), o, "");
  ASSERT_TRUE(p.capabilities);
  uint64_t added = bit(CAP_NET_ADMIN) | bit(CAP_SYS_PTRACE);
  EXPECT_EQ(p.capabilities->bounding, bit(CAP_CHOWN) | bit(CAP_KILL) | added);
  EXPECT_EQ(p.capabilities->effective, bit(CAP_CHOWN) | added);
  EXPECT_EQ(p.capabilities->permitted, bit(CAP_CHOWN) | bit(CAP_KILL) | added);
  // No inheritable set in the config: ambient could not be raised, so it is not touched.
  EXPECT_EQ(p.capabilities->inheritable, 0u);
  EXPECT_EQ(p.capabilities->ambient, 0u);
}

TEST(ExecProcess, CapAlsoAmbientWhenInheritableIsSet) {
  Config cfg = config();
  cfg.process->capabilities->inheritable = bit(CAP_CHOWN);
  ExecOptions o = with_args({"sh"});
  o.caps = {"CAP_NET_RAW"};
  Process p = exec_process_for(cfg, o, "");
  EXPECT_EQ(p.capabilities->ambient, bit(CAP_NET_RAW));
}

TEST(ExecProcess, CapOnAContainerWithoutCapabilities) {
  Config cfg = config();
  cfg.process->capabilities.reset();
  ExecOptions o = with_args({"sh"});
  o.caps = {"CAP_KILL"};
  Process p = exec_process_for(cfg, o, "");
  ASSERT_TRUE(p.capabilities);
  EXPECT_EQ(p.capabilities->bounding, bit(CAP_KILL));
}

TEST(ExecProcess, UnknownCapIsAnError) {
  ExecOptions o = with_args({"sh"});
  o.caps = {"CAP_FLY"};
  try {
    exec_process_for(config(), o, "");
    FAIL() << "unknown capability accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--cap CAP_FLY: unknown capability"), std::string::npos);
  }
}

TEST(ExecProcess, NoNewPrivsApparmorLabel) {
  ExecOptions o = with_args({"sh"});
  o.no_new_privs = true;
  o.apparmor = "unconfined";
  o.process_label = "system_u:system_r:container_t:s0";
  Process p = exec_process_for(config(), o, "");
  EXPECT_TRUE(p.no_new_privileges);
  EXPECT_EQ(p.apparmor_profile, "unconfined");
  EXPECT_EQ(p.selinux_label, "system_u:system_r:container_t:s0");
}

TEST(ExecProcess, ACommandIsRequired) {
  EXPECT_THROW(exec_process_for(config(), ExecOptions{}, ""), Error);
  EXPECT_THROW(exec_process_for(config(), with_args({""}), ""), Error);
}

// --- --process ----------------------------------------------------------------------------------

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(ExecProcess, ProcessFileReplacesTheProcess) {
  ExecOptions o;
  o.process_file = "p.json";
  o.args = {"ignored"};
  o.env = {"IGNORED=1"};
  o.tty = true;
  const char* text = R"({"args": ["/bin/echo", "hi"], "cwd": "/tmp", "env": ["A=1"],
                         "user": {"uid": 5, "gid": 6}, "terminal": false})";
  Process p = exec_process_for(config(), o, text);
  EXPECT_EQ(p.args, (std::vector<std::string>{"/bin/echo", "hi"}));
  EXPECT_EQ(p.env, (std::vector<std::string>{"A=1"}));
  EXPECT_EQ(p.cwd, "/tmp");
  EXPECT_EQ(p.user.uid, 5u);
  EXPECT_EQ(p.user.gid, 6u);
  EXPECT_TRUE(p.user.additional_gids.empty());
  EXPECT_FALSE(p.terminal);
  EXPECT_FALSE(p.no_new_privileges);
  EXPECT_TRUE(p.apparmor_profile.empty());
  // Left out: capabilities and rlimits come from the container (runc).
  ASSERT_TRUE(p.capabilities);
  EXPECT_EQ(p.capabilities->bounding, bit(CAP_CHOWN) | bit(CAP_KILL));
  ASSERT_EQ(p.rlimits.size(), 1u);
  EXPECT_EQ(p.rlimits[0].soft, 512u);
}

TEST(ExecProcess, ProcessFileErrorsNameTheFileAndPointer) {
  ExecOptions o;
  o.process_file = "/tmp/p.json";
  try {
    exec_process_for(config(), o, R"({"cwd": "/"})");
    FAIL() << "process without args accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/tmp/p.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("args"), std::string::npos) << e.what();
  }
  EXPECT_THROW(exec_process_for(config(), o, R"({"args": ["x"], "cwd": "rel"})"), Error);
  EXPECT_THROW(exec_process_for(config(), o, "not json"), Error);
}

// The process files Podman and containerd send (tests/configs).
TEST(ExecProcess, ClientProcessFiles) {
  const char* dir = NOOK_TEST_CONFIGS "/";
  int seen = 0;
  for (const char* name :
       {"podman-exec-root.process.json", "podman-exec-rootless.process.json",
        "podman-exec-it-root.process.json", "podman-exec-root-u1000-w-e.process.json",
        "containerd-exec.process.json"}) {
    std::string text = slurp(std::string(dir) + name);
    if (text.empty()) continue;
    seen++;
    ExecOptions o;
    o.process_file = name;
    Process p = exec_process_for(config(), o, text);
    EXPECT_FALSE(p.args.empty()) << name;
    ASSERT_TRUE(p.capabilities) << name;
    EXPECT_TRUE(p.capabilities->bounding & bit(CAP_CHOWN)) << name;
    EXPECT_FALSE(p.rlimits.empty()) << name;
  }
  if (!seen) GTEST_SKIP() << "no client process files in " << dir;
}

// --- --user -------------------------------------------------------------------------------------

TEST(ExecUser, Parse) {
  uint32_t uid = 99;
  std::optional<uint32_t> gid;
  parse_exec_user("1000", &uid, &gid);
  EXPECT_EQ(uid, 1000u);
  EXPECT_FALSE(gid);
  parse_exec_user("0:0", &uid, &gid);
  EXPECT_EQ(uid, 0u);
  EXPECT_EQ(gid, 0u);
  parse_exec_user("2147483647:65534", &uid, &gid);
  EXPECT_EQ(uid, 2147483647u);
  EXPECT_EQ(gid, 65534u);
}

// IDs above 2^31-1 as config.json's (issue 14, finding 3): 4294967295 would run as root.
TEST(ExecUser, IdsAboveTwoToThe31AreRefused) {
  uint32_t uid;
  std::optional<uint32_t> gid;
  for (auto [spec, bad] : {std::pair{"4294967295", "4294967295"},
                           {"2147483648", "2147483648"},
                           {"0:4294967294", "4294967294"},
                           {"0:99999999999", "99999999999"}}) {
    try {
      parse_exec_user(spec, &uid, &gid);
      ADD_FAILURE() << spec << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), std::string("--user: ") + bad +
                                           " is out of range: uids and gids must be in range "
                                           "0-2147483647");
    }
  }
}

TEST(ExecUser, Rejects) {
  uint32_t uid;
  std::optional<uint32_t> gid;
  for (const char* bad : {"", ":", "root", "1000:", ":1000", "-1", "1 2", "1000:users",
                          "4294967295", "99999999999", "0x10", "1:2:3"}) {
    EXPECT_THROW(parse_exec_user(bad, &uid, &gid), Error) << "\"" << bad << "\"";
  }
}

}  // namespace
}  // namespace nook
