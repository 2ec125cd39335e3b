// The launch policy: which foreground `run` shares nook's memory with its container process
// until that process's execve (shares_nook_memory, container.hpp; Spawn::shared_vm).
#include <gtest/gtest.h>

#include <string>

#include "container.hpp"

namespace nook {
namespace {

// `runc spec`'s namespaces, a program, no hooks: what `nook run` gets from most callers.
std::string config(const std::string& extra = "", const std::string& pidns = R"({"type":"pid"},)") {
  return R"({"ociVersion":"1.0.2-dev","root":{"path":"rootfs"},
    "process":{"args":["true"],"cwd":"/"},
    "linux":{"namespaces":[)" +
         pidns + R"({"type":"network"},{"type":"ipc"},{"type":"uts"},{"type":"mount"}]})" + extra +
         "}";
}

bool shares(const std::string& text, bool new_userns = false, bool systemd = false) {
  return shares_nook_memory(parse_config(text, "config.json"), new_userns, systemd);
}

TEST(Launch, PlainRootRunSharesMemory) {
  EXPECT_TRUE(shares(config()));
}

TEST(Launch, NothingToDoForTheChildIsRequired) {
  EXPECT_FALSE(shares(config(), true)) << "ID maps are written by nook after the clone";
  EXPECT_FALSE(shares(config(), false, true)) << "the systemd unit is joined after the clone";
  EXPECT_FALSE(shares(config(R"(,"hooks":{"createContainer":[{"path":"/bin/true"}]})")))
      << "hooks are served over the channel";
  EXPECT_FALSE(shares(config(R"(,"mounts":[{"destination":"/m","source":"/s","type":"bind",
                                  "options":["bind","idmap"],
                                  "uidMappings":[{"containerID":0,"hostID":1000,"size":1}],
                                  "gidMappings":[{"containerID":0,"hostID":1000,"size":1}]}])")))
      << "ID-mapped mounts are made by nook";
}

TEST(Launch, TerminalOrSeccompAgentKeepsTheCopy) {
  std::string tty = config();
  tty.replace(tty.find(R"("cwd":"/")"), 9, R"("cwd":"/","terminal":true)");
  EXPECT_FALSE(shares(tty));
  std::string agent = config();
  agent.replace(agent.rfind("]}"), 2,
                R"(],"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/agent.sock",
                   "syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]}})");
  EXPECT_FALSE(shares(agent));
}

TEST(Launch, OnlyAloneInAPidNamespaceOfItsOwn) {
  EXPECT_FALSE(shares(config("", ""))) << "no PID namespace: host processes share it";
  EXPECT_FALSE(shares(config("", R"({"type":"pid","path":"/proc/1/ns/pid"},)")))
      << "a joined PID namespace has processes that could reach the child";
}

}  // namespace
}  // namespace nook
