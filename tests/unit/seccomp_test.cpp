// Seccomp: profile validation (every message), compilation of the profiles Buildah and Podman
// send, the root emulation program (checked instruction by instruction against a filter that
// libseccomp builds from the same rules, on every architecture it covers), and the kernel's
// verdicts with both filters stacked, in forked children.
#include "seccomp.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config.hpp"
#include "error.hpp"
#include "sync.hpp"

namespace nook {
namespace {

// --- Helpers --------------------------------------------------------------------------------

// A config.json around a seccomp object, parsed by the real parser.
Config config_with(const std::string& seccomp_json) {
  return parse_config(R"({"ociVersion": "1.2.0", "root": {"path": "rootfs"},
                          "linux": {"seccomp": )" +
                      seccomp_json + "}}");
}

Seccomp profile(const std::string& seccomp_json) {
  return *config_with(seccomp_json).linux.seccomp;
}

// The message seccomp_validate throws, or "" if it accepts the profile.
std::string validate_error(const std::string& seccomp_json) {
  Seccomp p = profile(seccomp_json);
  try {
    seccomp_validate(p, "config.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// --- Validation -----------------------------------------------------------------------------

TEST(SeccompValidate, AcceptsEveryAction) {
  for (const char* a :
       {"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
        "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG"}) {
    std::string j = std::string(R"({"defaultAction": ")") + a +
                    R"(", "syscalls": [{"names": ["mkdir"], "action": ")" + a + R"("}]})";
    EXPECT_EQ(validate_error(j), "") << a;
  }
}

TEST(SeccompValidate, UnknownActionNamesFileAndPointer) {
  EXPECT_EQ(validate_error(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
      {"names": ["write"], "action": "SCMP_ACT_ALLOW"},
      {"names": ["open"], "action": "SCMP_ACT_ALLOW"},
      {"names": ["mkdir"], "action": "SCMP_ACT_FOO"}]})"),
            "config.json: /linux/seccomp/syscalls/3/action: unknown action \"SCMP_ACT_FOO\"");
  EXPECT_EQ(validate_error(R"({"defaultAction": "ALLOW"})"),
            "config.json: /linux/seccomp/defaultAction: unknown action \"ALLOW\"");
}

TEST(SeccompValidate, NotifyNeedsAnAbsoluteListenerPath) {
  EXPECT_EQ(validate_error(R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/a.sock",
      "listenerMetadata": "m", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})"),
            "");
  EXPECT_EQ(validate_error(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["mkdir"], "action": "SCMP_ACT_ALLOW"},
      {"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})"),
            "config.json: /linux/seccomp/syscalls/1/action: SCMP_ACT_NOTIFY needs "
            "linux.seccomp.listenerPath, the unix socket the runtime sends the listener to");
  EXPECT_EQ(validate_error(R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "run/a.sock",
      "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})"),
            "config.json: /linux/seccomp/listenerPath: must be an absolute path, not "
            "\"run/a.sock\"");
  std::string longp = "/" + std::string(120, 'a');
  EXPECT_EQ(
      validate_error(R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": ")" + longp + R"("})"),
      "config.json: /linux/seccomp/listenerPath: is 121 bytes long; a unix socket "
      "address holds at most 107");
  // A listener path without a notify rule is no error: nothing is sent (as runc).
  EXPECT_EQ(validate_error(R"({"defaultAction": "SCMP_ACT_ALLOW",
                               "listenerPath": "/run/seccomp.sock"})"),
            "");
}

TEST(SeccompValidate, NotifyRefusedWhereItWouldWaitForNobody) {
  EXPECT_EQ(validate_error(R"({"defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/a"})"),
            "config.json: /linux/seccomp/defaultAction: SCMP_ACT_NOTIFY cannot be the default "
            "action: the runtime's own system calls between loading the filter and handing its "
            "listener to the agent would wait for an agent that does not have it yet");
  EXPECT_EQ(validate_error(R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/a",
      "syscalls": [{"names": ["mkdir", "sendmsg"], "action": "SCMP_ACT_NOTIFY"}]})"),
            "config.json: /linux/seccomp/syscalls/0/names/1: SCMP_ACT_NOTIFY cannot apply to "
            "sendmsg: the container process hands the listener to the runtime with it, so it "
            "would wait for an agent that does not have the listener yet");
  // sendmsg with another action is fine
  EXPECT_EQ(validate_error(R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/a",
      "syscalls": [{"names": ["sendmsg"], "action": "SCMP_ACT_LOG"},
                   {"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})"),
            "");
}

TEST(SeccompNotify, HasListener) {
  EXPECT_FALSE(seccomp_has_listener(profile(R"({"defaultAction": "SCMP_ACT_ALLOW",
      "listenerPath": "/a", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_LOG"}]})")));
  EXPECT_TRUE(seccomp_has_listener(profile(R"({"defaultAction": "SCMP_ACT_ALLOW",
      "listenerPath": "/a", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})")));
  EXPECT_TRUE(seccomp_has_listener(profile(R"({"defaultAction": "SCMP_ACT_ALLOW",
      "listenerPath": "/a", "flags": ["SECCOMP_FILTER_FLAG_NEW_LISTENER"]})")));
}

TEST(SeccompNotify, CompileSetsTheListenerFlag) {
  SeccompProgram p = seccomp_compile(profile(R"({"defaultAction": "SCMP_ACT_ALLOW",
      "listenerPath": "/a", "flags": ["SECCOMP_FILTER_FLAG_TSYNC"],
      "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})"));
  EXPECT_EQ(p.flags, unsigned{SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_NEW_LISTENER |
                              SECCOMP_FILTER_FLAG_TSYNC_ESRCH});
  SeccompProgram q = seccomp_compile(profile(R"({"defaultAction": "SCMP_ACT_ALLOW",
      "listenerPath": "/a", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_LOG"}]})"));
  EXPECT_EQ(q.flags, 0u);
}

TEST(SeccompNotify, ProcessStateIsTheSpecsShape) {
  Seccomp p = profile(R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/a",
      "listenerMetadata": "say \"hi\"", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})");
  auto j = nlohmann::json::parse(seccomp_process_state(
      p, 4242, R"({"ociVersion": "1.2.0", "id": "c1", "status": "creating", "pid": 4242})"));
  EXPECT_EQ(j["ociVersion"], kOciVersion);
  EXPECT_EQ(j["fds"], nlohmann::json::array({"seccompFd"}));
  EXPECT_EQ(j["pid"], 4242);
  EXPECT_EQ(j["metadata"], "say \"hi\"");
  EXPECT_EQ(j["state"]["id"], "c1");
  EXPECT_EQ(j["state"]["status"], "creating");
  EXPECT_EQ(j.size(), 5u);
}

TEST(SeccompValidate, ErrnoRetOnlyWithErrnoAndTrace) {
  EXPECT_EQ(validate_error(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
      {"names": ["rmdir"], "action": "SCMP_ACT_TRACE", "errnoRet": 7},
      {"names": ["chdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 0}]})"),
            "");
  EXPECT_EQ(validate_error(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["mkdir"], "action": "SCMP_ACT_ALLOW", "errnoRet": 38}]})"),
            "config.json: /linux/seccomp/syscalls/0/errnoRet: errno return code given for "
            "SCMP_ACT_ALLOW, which takes none (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)");
  EXPECT_EQ(validate_error(R"({"defaultAction": "SCMP_ACT_KILL", "defaultErrnoRet": 1})"),
            "config.json: /linux/seccomp/defaultErrnoRet: errno return code given for "
            "SCMP_ACT_KILL, which takes none (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)");
  EXPECT_EQ(validate_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38})"), "");
}

TEST(SeccompValidate, ErrnoRetRange) {
  EXPECT_EQ(validate_error(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 4095},
      {"names": ["rmdir"], "action": "SCMP_ACT_TRACE", "errnoRet": 65535}]})"),
            "");
  EXPECT_EQ(validate_error(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 4096}]})"),
            "config.json: /linux/seccomp/syscalls/0/errnoRet: errno return code 4096 is out of "
            "range for SCMP_ACT_ERRNO (0..4095)");
  EXPECT_EQ(validate_error(R"({"defaultAction": "SCMP_ACT_TRACE", "defaultErrnoRet": 65536})"),
            "config.json: /linux/seccomp/defaultErrnoRet: errno return code 65536 is out of "
            "range for SCMP_ACT_TRACE (0..65535)");
}

TEST(SeccompValidate, Architectures) {
  EXPECT_EQ(validate_error(R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": [
      "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
      "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
      "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
      "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC",
      "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64"]})"),
            "");
  EXPECT_EQ(validate_error(R"({"defaultAction": "SCMP_ACT_ALLOW",
                               "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"]})"),
            "config.json: /linux/seccomp/architectures/1: unknown architecture \"SCMP_ARCH_VAX\"");
  EXPECT_EQ(validate_error(R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["x86_64"]})"),
            "config.json: /linux/seccomp/architectures/0: unknown architecture \"x86_64\"");
  EXPECT_EQ(
      validate_error(R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_"]})"),
      "config.json: /linux/seccomp/architectures/0: unknown architecture \"SCMP_ARCH_\"");
}

TEST(SeccompValidate, Operators) {
  std::string ok = R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [)";
  const char* ops[] = {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",       "SCMP_CMP_EQ",
                       "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"};
  for (size_t i = 0; i < std::size(ops); i++) {
    if (i) ok += ",";
    ok +=
        R"({"names": ["personality"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 8, "valueTwo": 8, "op": ")" +
        std::string(ops[i]) + R"("}]})";
  }
  ok += "]}";
  EXPECT_EQ(validate_error(ok), "");
  EXPECT_EQ(validate_error(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"},
      {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "args": [
          {"index": 0, "value": 0, "op": "SCMP_CMP_EQ"},
          {"index": 1, "value": 0, "op": "SCMP_CMP_FOO"}]}]})"),
            "config.json: /linux/seccomp/syscalls/1/args/1/op: unknown operator \"SCMP_CMP_FOO\"");
}

TEST(SeccompValidate, Flags) {
  EXPECT_EQ(validate_error(R"({"defaultAction": "SCMP_ACT_ALLOW", "flags": [
      "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]})"),
            "");
  EXPECT_EQ(validate_error(R"({"defaultAction": "SCMP_ACT_ALLOW",
                               "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_FOO"]})"),
            "config.json: /linux/seccomp/flags/1: unknown flag \"SECCOMP_FILTER_FLAG_FOO\"");
  EXPECT_EQ(validate_error(R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/a",
      "flags": ["SECCOMP_FILTER_FLAG_NEW_LISTENER", "SECCOMP_FILTER_FLAG_TSYNC_ESRCH",
                "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]})"),
            "");
  EXPECT_EQ(validate_error(R"({"defaultAction": "SCMP_ACT_ALLOW",
                               "flags": ["SECCOMP_FILTER_FLAG_NEW_LISTENER"]})"),
            "config.json: /linux/seccomp/flags/0: SECCOMP_FILTER_FLAG_NEW_LISTENER needs "
            "linux.seccomp.listenerPath, the unix socket the runtime sends the listener to");
  EXPECT_EQ(validate_error(R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/a",
                               "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]})"),
            "config.json: /linux/seccomp/flags/0: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV "
            "applies only to a filter with a listener (a SCMP_ACT_NOTIFY rule)");
}

TEST(SeccompValidate, EmptyNames) {
  EXPECT_EQ(validate_error(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": [], "action": "SCMP_ACT_ERRNO"}]})"),
            "config.json: /linux/seccomp/syscalls/0/names: must name at least one system call");
}

TEST(SeccompValidate, UnknownSyscallIsSkippedWithAWarning) {
  Seccomp p = profile(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["mkdir", "no_such_syscall_42", "chown32"], "action": "SCMP_ACT_ERRNO"}]})");
  testing::internal::CaptureStderr();
  EXPECT_NO_THROW(seccomp_validate(p, "config.json"));
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("config.json: /linux/seccomp/syscalls/0/names/1: unknown system call "
                     "\"no_such_syscall_42\" skipped (not known to libseccomp "),
            std::string::npos)
      << err;
  // chown32 exists on i386 only: known to libseccomp, so no warning.
  EXPECT_EQ(err.find("chown32"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  // ... and the profile still compiles, without the unknown name.
  EXPECT_FALSE(seccomp_compile(p).insns.empty());
}

// --- Compilation ----------------------------------------------------------------------------

TEST(SeccompCompile, FlagsReachTheProgram) {
  Seccomp p = profile(R"({"defaultAction": "SCMP_ACT_ALLOW", "flags": [
      "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]})");
  EXPECT_EQ(seccomp_compile(p).flags, unsigned(SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG |
                                               SECCOMP_FILTER_FLAG_SPEC_ALLOW));
}

TEST(SeccompCompile, RuleRepeatingTheDefaultActionIsDropped) {
  // libseccomp refuses such rules (EACCES); they change nothing, so nook leaves them out.
  Seccomp p = profile(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "syscalls": [
      {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
      {"names": ["rmdir"], "action": "SCMP_ACT_ALLOW"}]})");
  EXPECT_NO_THROW(seccomp_compile(p));
}

std::string shared_configs_dir() {
  const char* d = getenv("NOOK_SHARED_CONFIGS");
  return d ? d : NOOK_TEST_CONFIGS;
}

std::vector<std::string> client_configs() {
  std::vector<std::string> out;
  std::string dir = shared_configs_dir();
  std::unique_ptr<DIR, int (*)(DIR*)> d(opendir(dir.c_str()), closedir);
  if (!d) return out;
  while (dirent* e = readdir(d.get())) {
    std::string n = e->d_name;
    if (n.ends_with(".config.json") && (n.starts_with("buildah") || n.starts_with("podman")))
      out.push_back(dir + "/" + n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST(SeccompCompile, BuildahAndPodmanProfiles) {
  auto files = client_configs();
  if (files.empty()) GTEST_SKIP() << "no Buildah/Podman configs in " << shared_configs_dir();
  for (const auto& f : files) {
    Config c = parse_config(read_file(f), f);
    ASSERT_TRUE(c.linux.seccomp) << f;
    testing::internal::CaptureStderr();
    EXPECT_NO_THROW(seccomp_validate(*c.linux.seccomp, f)) << f;
    // Every name in these profiles is known to libseccomp 2.5: no warnings.
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "") << f;
    SeccompProgram prog = seccomp_compile(*c.linux.seccomp);
    EXPECT_GT(prog.insns.size(), 100u) << f;
    EXPECT_LE(prog.insns.size(), size_t(BPF_MAXINSNS)) << f;
    EXPECT_EQ(prog.flags, 0u) << f;
  }
}

// --- A classic BPF interpreter, enough for seccomp programs --------------------------------

struct Data {
  uint32_t arch = AUDIT_ARCH_X86_64;
  uint32_t nr = 0;
  uint64_t args[6] = {};
  seccomp_data get() const {
    seccomp_data d{};
    d.nr = static_cast<int>(nr);
    d.arch = arch;
    for (int i = 0; i < 6; i++) d.args[i] = args[i];
    return d;
  }
};

// Runs a program; returns its verdict, or 0xdeadbeef on an instruction it does not know
// (reported as a test failure).
uint32_t run_bpf(std::span<const sock_filter> prog, const Data& in) {
  seccomp_data d = in.get();
  uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {};
  for (size_t pc = 0; pc < prog.size(); pc++) {
    const sock_filter& f = prog[pc];
    auto load = [&](uint32_t off) {
      uint32_t v;
      EXPECT_LE(off + 4, sizeof d);
      std::memcpy(&v, reinterpret_cast<const char*>(&d) + off, 4);
      return v;
    };
    uint32_t src = BPF_SRC(f.code) == BPF_X ? x : f.k;
    switch (BPF_CLASS(f.code)) {
      case BPF_LD:
        if (BPF_MODE(f.code) == BPF_ABS)
          a = load(f.k);
        else if (BPF_MODE(f.code) == BPF_IMM)
          a = f.k;
        else if (BPF_MODE(f.code) == BPF_MEM)
          a = mem[f.k];
        else
          goto bad;
        break;
      case BPF_LDX:
        if (BPF_MODE(f.code) == BPF_IMM)
          x = f.k;
        else if (BPF_MODE(f.code) == BPF_MEM)
          x = mem[f.k];
        else
          goto bad;
        break;
      case BPF_ST:
        mem[f.k] = a;
        break;
      case BPF_STX:
        mem[f.k] = x;
        break;
      case BPF_ALU:
        switch (BPF_OP(f.code)) {
          case BPF_ADD:
            a += src;
            break;
          case BPF_SUB:
            a -= src;
            break;
          case BPF_AND:
            a &= src;
            break;
          case BPF_OR:
            a |= src;
            break;
          case BPF_LSH:
            a <<= src;
            break;
          case BPF_RSH:
            a >>= src;
            break;
          default:
            goto bad;
        }
        break;
      case BPF_JMP:
        switch (BPF_OP(f.code)) {
          case BPF_JA:
            pc += f.k;
            break;
          case BPF_JEQ:
            pc += a == src ? f.jt : f.jf;
            break;
          case BPF_JGT:
            pc += a > src ? f.jt : f.jf;
            break;
          case BPF_JGE:
            pc += a >= src ? f.jt : f.jf;
            break;
          case BPF_JSET:
            pc += (a & src) ? f.jt : f.jf;
            break;
          default:
            goto bad;
        }
        break;
      case BPF_RET:
        return BPF_RVAL(f.code) == BPF_A ? a : f.k;
      case BPF_MISC:
        if (BPF_MISCOP(f.code) == BPF_TAX)
          x = a;
        else
          a = x;
        break;
      default:
        goto bad;
    }
    continue;
  bad:
    ADD_FAILURE() << "unknown BPF instruction " << f.code << " at " << pc;
    return 0xdeadbeef;
  }
  ADD_FAILURE() << "BPF program fell off its end";
  return 0xdeadbeef;
}

constexpr uint32_t kFake = SECCOMP_RET_ERRNO | 0;
constexpr uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr uint32_t kX32 = 0x40000000;

// --- Root emulation: the table and the program ----------------------------------------------

struct AbiArch {
  uint32_t scmp;   // SCMP_ARCH_*
  uint32_t audit;  // what seccomp_data.arch says
  int EmulatedSyscall::*column;
  bool native;
  bool x32;
};

std::vector<AbiArch> abi_arches(EmulationAbi abi) {
  if (abi == EmulationAbi::x86)
    return {{SCMP_ARCH_X86_64, AUDIT_ARCH_X86_64, &EmulatedSyscall::x86_64, true, false},
            {SCMP_ARCH_X32, AUDIT_ARCH_X86_64, &EmulatedSyscall::x86_64, false, true},
            {SCMP_ARCH_X86, AUDIT_ARCH_I386, &EmulatedSyscall::i386, false, false}};
  return {{SCMP_ARCH_AARCH64, AUDIT_ARCH_AARCH64, &EmulatedSyscall::aarch64, true, false},
          {SCMP_ARCH_ARM, AUDIT_ARCH_ARM, &EmulatedSyscall::arm, false, false}};
}

TEST(RootEmulationTable, NumbersMatchLibseccomp) {
  for (EmulationAbi abi : {EmulationAbi::x86, EmulationAbi::arm}) {
    for (const AbiArch& arch : abi_arches(abi)) {
      for (const auto& s : root_emulation_table()) {
        int nr = seccomp_syscall_resolve_name_arch(arch.scmp, s.name);
        int mine = s.*(arch.column);
        if (mine < 0) {
          // Not on this architecture: libseccomp agrees (no number, or a pseudo-number).
          EXPECT_TRUE(nr < 0) << s.name << " on arch " << std::hex << arch.scmp << ": " << nr;
        } else {
          EXPECT_EQ(nr, mine | int(arch.x32 ? kX32 : 0))
              << s.name << " on arch " << std::hex << arch.scmp;
        }
      }
    }
  }
}

TEST(RootEmulationTable, CoversTheIssueList) {
  std::set<std::string> names;
  for (const auto& s : root_emulation_table()) names.insert(s.name);
  for (const char* n :
       {"chown",       "fchown",     "lchown",      "fchownat",    "chown32",    "fchown32",
        "lchown32",    "setuid",     "setgid",      "setreuid",    "setregid",   "setresuid",
        "setresgid",   "setfsuid",   "setfsgid",    "setgroups",   "setuid32",   "setgid32",
        "setreuid32",  "setregid32", "setresuid32", "setresgid32", "setfsuid32", "setfsgid32",
        "setgroups32", "capset",     "mknod",       "mknodat"})
    EXPECT_TRUE(names.count(n)) << n;
  EXPECT_EQ(names.size(), 28u);
}

// The same rules built by libseccomp: fake success for every table entry on every
// architecture of the family, device nodes only for mknod/mknodat, and on the native
// architecture only when args[5] is not kRootEmulationPassthrough.
std::vector<sock_filter> reference_program(EmulationAbi abi) {
  std::vector<void*> ctxs;
  for (const AbiArch& arch : abi_arches(abi)) {
    scmp_filter_ctx c = seccomp_init(SCMP_ACT_ALLOW);
    EXPECT_EQ(seccomp_attr_set(c, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW), 0);
    EXPECT_EQ(seccomp_arch_remove(c, SCMP_ARCH_NATIVE), 0);
    EXPECT_EQ(seccomp_arch_add(c, arch.scmp), 0);
    for (const auto& s : root_emulation_table()) {
      if (seccomp_syscall_resolve_name_arch(arch.scmp, s.name) < 0) continue;
      // The generic number: libseccomp translates it for the context's one architecture.
      int nr = seccomp_syscall_resolve_name(s.name);
      std::vector<scmp_arg_cmp> conds;
      if (arch.native) conds.push_back(SCMP_A5_64(SCMP_CMP_NE, kRootEmulationPassthrough));
      if (s.match == EmulationMatch::always) {
        EXPECT_EQ(seccomp_rule_add_array(c, SCMP_ACT_ERRNO(0), nr, conds.size(), conds.data()), 0)
            << s.name;
        continue;
      }
      for (uint64_t type : {S_IFCHR, S_IFBLK}) {
        auto cs = conds;
        cs.push_back(scmp_arg_cmp{s.mode_arg, SCMP_CMP_MASKED_EQ, S_IFMT, type});
        EXPECT_EQ(seccomp_rule_add_array(c, SCMP_ACT_ERRNO(0), nr, cs.size(), cs.data()), 0)
            << s.name;
      }
    }
    ctxs.push_back(c);
  }
  for (size_t i = 1; i < ctxs.size(); i++) EXPECT_EQ(seccomp_merge(ctxs[0], ctxs[i]), 0);
  FILE* f = tmpfile();
  EXPECT_EQ(seccomp_export_bpf(ctxs[0], fileno(f)), 0);
  seccomp_release(ctxs[0]);
  std::vector<sock_filter> out(static_cast<size_t>(lseek(fileno(f), 0, SEEK_END)) /
                               sizeof(sock_filter));
  EXPECT_EQ(pread(fileno(f), out.data(), out.size() * sizeof(sock_filter), 0),
            ssize_t(out.size() * sizeof(sock_filter)));
  fclose(f);
  return out;
}

TEST(RootEmulationProgram, AgreesWithLibseccompEverywhere) {
  const uint64_t modes[] = {0,
                            S_IFREG | 0644,
                            S_IFCHR | 0666,
                            S_IFBLK | 0600,
                            S_IFIFO | 0600,
                            S_IFSOCK | 0755,
                            S_IFDIR | 0755,
                            S_IFLNK,
                            0xffffffff,
                            S_IFCHR | (1ULL << 40),
                            S_IFIFO | (1ULL << 40)};
  const uint64_t a5s[] = {0, kRootEmulationPassthrough, kRootEmulationPassthrough & 0xffffffff,
                          kRootEmulationPassthrough & ~0xffffffffULL, ~0ULL};
  for (EmulationAbi abi : {EmulationAbi::x86, EmulationAbi::arm}) {
    auto mine = root_emulation_program(abi);
    auto ref = reference_program(abi);
    ASSERT_FALSE(ref.empty());
    std::set<uint32_t> audits = {AUDIT_ARCH_X86_64, AUDIT_ARCH_I386,    AUDIT_ARCH_AARCH64,
                                 AUDIT_ARCH_ARM,    AUDIT_ARCH_PPC64LE, AUDIT_ARCH_S390X};
    size_t fakes = 0, checked = 0;
    for (uint32_t audit : audits) {
      for (uint32_t base : {0u, kX32}) {
        for (uint32_t nr = base; nr < base + 600; nr++) {
          for (uint64_t mode : modes) {
            for (uint64_t a5 : a5s) {
              Data d;
              d.arch = audit;
              d.nr = nr;
              d.args[1] = d.args[2] = mode;
              d.args[5] = a5;
              uint32_t got = run_bpf(mine, d), want = run_bpf(ref, d);
              checked++;
              fakes += got == kFake;
              if (got != want) {
                ADD_FAILURE() << "abi " << int(abi) << " arch " << std::hex << audit << " nr " << nr
                              << " mode " << mode << " a5 " << a5 << ": got " << got << " want "
                              << want;
                return;
              }
            }
          }
        }
      }
    }
    EXPECT_GT(fakes, 1000u);
    EXPECT_GT(checked, 100000u);
  }
}

TEST(RootEmulationProgram, SpotChecks) {
  auto p = root_emulation_program(EmulationAbi::x86);
  auto verdict = [&](uint32_t arch, uint32_t nr, uint64_t a1 = 0, uint64_t a2 = 0,
                     uint64_t a5 = 0) {
    Data d;
    d.arch = arch;
    d.nr = nr;
    d.args[1] = a1;
    d.args[2] = a2;
    d.args[5] = a5;
    return run_bpf(p, d);
  };
  EXPECT_EQ(verdict(AUDIT_ARCH_X86_64, SYS_chown), kFake);
  EXPECT_EQ(verdict(AUDIT_ARCH_X86_64, SYS_chown, 0, 0, kRootEmulationPassthrough), kAllow);
  EXPECT_EQ(verdict(AUDIT_ARCH_X86_64, kX32 | SYS_chown), kFake);
  EXPECT_EQ(verdict(AUDIT_ARCH_X86_64, kX32 | SYS_chown, 0, 0, kRootEmulationPassthrough), kFake);
  EXPECT_EQ(verdict(AUDIT_ARCH_I386, 212 /* chown32 */), kFake);
  EXPECT_EQ(verdict(AUDIT_ARCH_I386, 92 /* truncate on i386 */), kAllow);
  EXPECT_EQ(verdict(AUDIT_ARCH_X86_64, SYS_setresuid), kFake);
  EXPECT_EQ(verdict(AUDIT_ARCH_X86_64, SYS_capset), kFake);
  EXPECT_EQ(verdict(AUDIT_ARCH_X86_64, SYS_getuid), kAllow);
  EXPECT_EQ(verdict(AUDIT_ARCH_X86_64, SYS_mknod, S_IFCHR | 0600), kFake);
  EXPECT_EQ(verdict(AUDIT_ARCH_X86_64, SYS_mknod, S_IFIFO | 0600), kAllow);
  EXPECT_EQ(verdict(AUDIT_ARCH_X86_64, SYS_mknodat, S_IFCHR | 0600, S_IFREG), kAllow);
  EXPECT_EQ(verdict(AUDIT_ARCH_X86_64, SYS_mknodat, S_IFREG, S_IFBLK | 0600), kFake);
  EXPECT_EQ(verdict(AUDIT_ARCH_PPC64LE, SYS_chown), kAllow);
}

TEST(RootEmulationProgram, NativeProgramIsTheMachines) {
#if defined(__x86_64__)
  auto want = root_emulation_program(EmulationAbi::x86);
#elif defined(__aarch64__)
  auto want = root_emulation_program(EmulationAbi::arm);
#else
  std::span<const sock_filter> want;
#endif
  auto got = root_emulation_program();
  EXPECT_EQ(got.data(), want.data());
  EXPECT_EQ(got.size(), want.size());
  EXPECT_LT(got.size(), 200u);
}

// --- In the kernel: forked children with no_new_privs ---------------------------------------

// Runs `body` in a forked child with no_new_privs set; the child reports the first failed
// check as text. Returns "" if every check held, else what failed (or how the child died).
std::string in_child(const std::function<std::string()>& body) {
  int pfd[2];
  if (pipe2(pfd, O_CLOEXEC) != 0) return "pipe failed";
  pid_t pid = fork();
  if (pid == 0) {
    close(pfd[0]);
    std::string r;
    try {
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        r = "PR_SET_NO_NEW_PRIVS failed";
      else
        r = body();
    } catch (const std::exception& e) {
      r = std::string("exception: ") + e.what();
    }
    (void)!write(pfd[1], r.data(), r.size());
    _exit(0);
  }
  close(pfd[1]);
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = read(pfd[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(pfd[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  if (WIFSIGNALED(st)) out += "child killed by signal " + std::to_string(WTERMSIG(st));
  return out;
}

// Same, but returns how the child ended (for filters that kill).
int child_status(const std::function<void()>& body) {
  pid_t pid = fork();
  if (pid == 0) {
    try {
      prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
      body();
    } catch (...) {
      _exit(99);
    }
    _exit(0);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  return st;
}

#define CHECK_CHILD(cond)                                                             \
  do {                                                                                \
    if (!(cond))                                                                      \
      return std::string(#cond) + " (line " + std::to_string(__LINE__) + ", errno " + \
             std::strerror(errno) + ")";                                              \
  } while (0)

// A scratch directory the test process owns.
class SeccompKernelTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/nook-seccomp-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    file_ = dir_ + "/file";
    int fd = open(file_.c_str(), O_CREAT | O_WRONLY, 0644);
    ASSERT_GE(fd, 0);
    close(fd);
    ASSERT_EQ(stat(file_.c_str(), &st_), 0);
  }
  void TearDown() override {
    std::string cmd = "rm -rf '" + dir_ + "'";
    (void)!system(cmd.c_str());
  }
  bool owner_unchanged() const {
    struct stat now;
    return stat(file_.c_str(), &now) == 0 && now.st_uid == st_.st_uid && now.st_gid == st_.st_gid;
  }
  std::string dir_, file_;
  struct stat st_;
};

TEST_F(SeccompKernelTest, EmulationFakesTheChownFamily) {
  EXPECT_EQ(in_child([&] {
              seccomp_load(nullptr, true);
              CHECK_CHILD(chown(file_.c_str(), 12345, 12345) == 0);
              CHECK_CHILD(lchown(file_.c_str(), 12345, 12345) == 0);
              int fd = open(file_.c_str(), O_RDONLY);
              CHECK_CHILD(fd >= 0);
              CHECK_CHILD(fchown(fd, 12345, 12345) == 0);
              CHECK_CHILD(fchownat(AT_FDCWD, file_.c_str(), 12345, 12345, 0) == 0);
              CHECK_CHILD(owner_unchanged());
              return std::string();
            }),
            "");
  EXPECT_TRUE(owner_unchanged());
}

TEST_F(SeccompKernelTest, EmulationFakesSetidAndCapset) {
  EXPECT_EQ(in_child([&] {
              uid_t uid = getuid();
              gid_t gid = getgid();
              seccomp_load(nullptr, true);
              CHECK_CHILD(setuid(1000) == 0);
              CHECK_CHILD(setgid(1000) == 0);
              CHECK_CHILD(setreuid(1000, 1000) == 0);
              CHECK_CHILD(setregid(1000, 1000) == 0);
              CHECK_CHILD(syscall(SYS_setresuid, 1000, 1000, 1000) == 0);
              CHECK_CHILD(syscall(SYS_setresgid, 1000, 1000, 1000) == 0);
              gid_t groups[] = {1000, 2000};
              CHECK_CHILD(syscall(SYS_setgroups, 2, groups) == 0);
              CHECK_CHILD(syscall(SYS_setfsuid, 1000) == 0);  // "the previous fsuid was 0"
              CHECK_CHILD(syscall(SYS_setfsgid, 1000) == 0);
              // Nothing changed.
              CHECK_CHILD(getuid() == uid && geteuid() == uid);
              CHECK_CHILD(getgid() == gid && getegid() == gid);
              // capset asking for every capability "succeeds"; capget shows the old sets.
              __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
              __user_cap_data_struct before[2] = {}, all[2], after[2] = {};
              CHECK_CHILD(syscall(SYS_capget, &hdr, before) == 0);
              for (auto& d : all) d.effective = d.permitted = d.inheritable = ~0u;
              CHECK_CHILD(syscall(SYS_capset, &hdr, all) == 0);
              CHECK_CHILD(syscall(SYS_capget, &hdr, after) == 0);
              CHECK_CHILD(std::memcmp(before, after, sizeof before) == 0);
              return std::string();
            }),
            "");
}

TEST_F(SeccompKernelTest, EmulationFakesDeviceNodesOnly) {
  std::string chr = dir_ + "/null", blk = dir_ + "/blk", fifo = dir_ + "/fifo",
              fifo2 = dir_ + "/fifo2", reg = dir_ + "/reg";
  EXPECT_EQ(in_child([&] {
              seccomp_load(nullptr, true);
              CHECK_CHILD(mknod(chr.c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);
              CHECK_CHILD(mknodat(AT_FDCWD, blk.c_str(), S_IFBLK | 0600, makedev(7, 0)) == 0);
              CHECK_CHILD(access(chr.c_str(), F_OK) != 0 && errno == ENOENT);
              CHECK_CHILD(access(blk.c_str(), F_OK) != 0 && errno == ENOENT);
              // FIFOs and regular files are really made.
              CHECK_CHILD(mknod(fifo.c_str(), S_IFIFO | 0600, 0) == 0);
              CHECK_CHILD(mknodat(AT_FDCWD, fifo2.c_str(), S_IFIFO | 0600, 0) == 0);
              CHECK_CHILD(mknod(reg.c_str(), S_IFREG | 0600, 0) == 0);
              struct stat s;
              CHECK_CHILD(stat(fifo.c_str(), &s) == 0 && S_ISFIFO(s.st_mode));
              CHECK_CHILD(stat(fifo2.c_str(), &s) == 0 && S_ISFIFO(s.st_mode));
              CHECK_CHILD(stat(reg.c_str(), &s) == 0 && S_ISREG(s.st_mode));
              // A FIFO over an existing name still fails for real.
              CHECK_CHILD(mknod(fifo.c_str(), S_IFIFO | 0600, 0) != 0 && errno == EEXIST);
              return std::string();
            }),
            "");
}

TEST_F(SeccompKernelTest, EmulationLeavesOtherCallsAlone) {
  EXPECT_EQ(in_child([&] {
              seccomp_load(nullptr, true);
              CHECK_CHILD(setns(-1, 0) != 0 && errno == EBADF);
              CHECK_CHILD(chown((dir_ + "/missing").c_str(), 1, 1) == 0);  // faked, even so
              CHECK_CHILD(rmdir((dir_ + "/missing").c_str()) != 0 && errno == ENOENT);
              CHECK_CHILD(getpid() > 0);
              return std::string();
            }),
            "");
}

TEST_F(SeccompKernelTest, PassthroughReachesTheKernel) {
  bool root = geteuid() == 0;
  EXPECT_EQ(in_child([&] {
              seccomp_load(nullptr, true);
              long rc = syscall_unemulated(SYS_chown, reinterpret_cast<long>(file_.c_str()), 12345,
                                           12345);
              if (root) {
                struct stat s;
                CHECK_CHILD(rc == 0);
                CHECK_CHILD(stat(file_.c_str(), &s) == 0 && s.st_uid == 12345);
              } else {
                CHECK_CHILD(rc == -1 && errno == EPERM);
              }
              // setresuid to a uid we are not: EPERM unless root.
              rc = syscall_unemulated(SYS_setresuid, 4242, 4242, 4242);
              if (root)
                CHECK_CHILD(rc == 0 && getuid() == 4242);
              else
                CHECK_CHILD(rc == -1 && errno == EPERM);
              return std::string();
            }),
            "");
}

// Emulation + profile: the verdict for chown under each profile action.
TEST_F(SeccompKernelTest, StackingPrecedence) {
  auto chown_under = [&](const std::string& action_json, bool emulate) {
    Seccomp p = profile(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["chown"], )" +
                        action_json + "}]}");
    seccomp_validate(p, "config.json");
    return in_child([&] {
      seccomp_load(&p, emulate);
      errno = 0;
      int rc = chown(file_.c_str(), 12345, 12345);
      return "rc=" + std::to_string(rc) + " errno=" + std::to_string(rc ? errno : 0);
    });
  };
  std::string fake = "rc=0 errno=0";
  // ALLOW in the profile: the emulation's fake success wins.
  EXPECT_EQ(chown_under(R"("action": "SCMP_ACT_ALLOW")", true), fake);
  // LOG and TRACE rank below ERRNO: faked too (a tracer does not see the call).
  EXPECT_EQ(chown_under(R"("action": "SCMP_ACT_LOG")", true), fake);
  EXPECT_EQ(chown_under(R"("action": "SCMP_ACT_TRACE")", true), fake);
  // Without emulation, TRACE with no tracer is ENOSYS.
  EXPECT_EQ(chown_under(R"("action": "SCMP_ACT_TRACE")", false), "rc=-1 errno=38");
  // An explicit ERRNO in the profile wins: same rank, and the profile is the newer filter.
  EXPECT_EQ(chown_under(R"("action": "SCMP_ACT_ERRNO", "errnoRet": 13)", true), "rc=-1 errno=13");
  EXPECT_EQ(chown_under(R"("action": "SCMP_ACT_ERRNO")", true), "rc=-1 errno=1");
  EXPECT_TRUE(owner_unchanged());
  // TRAP and KILL outrank ERRNO.
  for (const char* a : {"SCMP_ACT_TRAP", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS"}) {
    Seccomp p = profile(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["chown"], "action": ")" +
                        std::string(a) + R"("}]})");
    int st = child_status([&] {
      seccomp_load(&p, true);
      (void)!chown(file_.c_str(), 12345, 12345);
    });
    EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS) << a << " status " << st;
  }
}

TEST_F(SeccompKernelTest, ProfileDefaultErrnoWinsOverEmulationToo) {
  // A profile whose default action denies what it does not list denies chown too. Only what
  // the child needs after loading it is allowed: write the report and exit, and the memory
  // and signal calls a sanitizer runtime makes (it spins when mmap fails).
  Seccomp p = profile(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
      "syscalls": [{"names": ["write", "exit", "exit_group", "mmap", "munmap", "mprotect",
                              "madvise", "mremap", "brk", "futex", "rt_sigprocmask",
                              "rt_sigaction", "sigaltstack", "getpid", "gettid", "close",
                              "sched_yield", "prctl", "readlink", "open", "openat", "read"],
                    "action": "SCMP_ACT_ALLOW"}]})");
  EXPECT_EQ(in_child([&] {
              seccomp_load(&p, true);
              errno = 0;
              int rc = chown(file_.c_str(), 12345, 12345);
              CHECK_CHILD(rc == -1 && errno == ENOSYS);
              rc = setuid(1000);
              CHECK_CHILD(rc == -1 && errno == ENOSYS);
              return std::string();
            }),
            "");
}

TEST_F(SeccompKernelTest, ProfileErrnoRetAndDefaultErrno) {
  std::string d1 = dir_ + "/d1", d2 = dir_ + "/d2";
  Seccomp enosys = profile(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]})");
  EXPECT_EQ(in_child([&] {
              seccomp_load(&enosys, false);
              CHECK_CHILD(mkdir(d1.c_str(), 0755) != 0 && errno == ENOSYS);
              return std::string();
            }),
            "");
  Seccomp eperm = profile(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]})");
  EXPECT_EQ(in_child([&] {
              seccomp_load(&eperm, false);
              CHECK_CHILD(mkdir(d1.c_str(), 0755) != 0 && errno == EPERM);
              return std::string();
            }),
            "");
  EXPECT_NE(access(d1.c_str(), F_OK), 0);
}

TEST_F(SeccompKernelTest, ArgumentConditions) {
  std::string a = dir_ + "/a", b = dir_ + "/b", c = dir_ + "/c", d = dir_ + "/d";
  // Deny mkdir with mode 0700 exactly, and any mode with the world-writable bit.
  Seccomp p = profile(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
       "args": [{"index": 1, "value": 448, "op": "SCMP_CMP_EQ"}]},
      {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 30,
       "args": [{"index": 1, "value": 2, "valueTwo": 2, "op": "SCMP_CMP_MASKED_EQ"}]},
      {"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 30,
       "args": [{"index": 2, "value": 2, "valueTwo": 2, "op": "SCMP_CMP_MASKED_EQ"}]}]})");
  EXPECT_EQ(in_child([&] {
              seccomp_load(&p, false);
              umask(0);
              CHECK_CHILD(mkdir(a.c_str(), 0700) != 0 && errno == EACCES);
              CHECK_CHILD(mkdir(b.c_str(), 0777) != 0 && errno == EROFS);
              CHECK_CHILD(mkdir(c.c_str(), 0755) == 0);
              CHECK_CHILD(mkdir(d.c_str(), 0750) == 0);
              return std::string();
            }),
            "");
}

TEST_F(SeccompKernelTest, ConditionsOnOneArgumentAreAlternatives) {
  // As in runc: two conditions on the same argument become two rules (either one matches).
  Seccomp p = profile(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13, "args": [
          {"index": 1, "value": 448, "op": "SCMP_CMP_EQ"},
          {"index": 1, "value": 456, "op": "SCMP_CMP_EQ"}]}]})");
  std::string a = dir_ + "/a", b = dir_ + "/b", c = dir_ + "/c";
  EXPECT_EQ(in_child([&] {
              seccomp_load(&p, false);
              umask(0);
              CHECK_CHILD(mkdir(a.c_str(), 0700) != 0 && errno == EACCES);
              CHECK_CHILD(mkdir(b.c_str(), 0710) != 0 && errno == EACCES);
              CHECK_CHILD(mkdir(c.c_str(), 0755) == 0);
              return std::string();
            }),
            "");
}

TEST_F(SeccompKernelTest, FlagsLoad) {
  Seccomp p = profile(R"({"defaultAction": "SCMP_ACT_ALLOW", "flags": [
      "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
      "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]})");
  std::string a = dir_ + "/a";
  EXPECT_EQ(in_child([&] {
              seccomp_load(&p, true);
              CHECK_CHILD(mkdir(a.c_str(), 0755) != 0 && errno == ENOSYS);
              return std::string();
            }),
            "");
}

TEST_F(SeccompKernelTest, BuildahAndPodmanProfilesWithEmulation) {
  auto files = client_configs();
  if (files.empty()) GTEST_SKIP() << "no Buildah/Podman configs in " << shared_configs_dir();
  Config c = parse_config(read_file(files[0]), files[0]);
  std::string sub = dir_ + "/sub";
  EXPECT_EQ(in_child([&] {
              seccomp_load(&*c.linux.seccomp, true);
              // The profile allows chown: the emulation fakes it.
              CHECK_CHILD(chown(file_.c_str(), 12345, 12345) == 0);
              CHECK_CHILD(owner_unchanged());
              CHECK_CHILD(setuid(1000) == 0);
              CHECK_CHILD(mknod((dir_ + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);
              // The profile denies sethostname with EPERM; mkdir works.
              CHECK_CHILD(sethostname("x", 1) != 0 && errno == EPERM);
              CHECK_CHILD(mkdir(sub.c_str(), 0755) == 0);
              return std::string();
            }),
            "");
  EXPECT_EQ(access((dir_ + "/null").c_str(), F_OK), -1);
}

TEST(SeccompInstall, WithoutNoNewPrivsOrCapSysAdminSaysWhy) {
  pid_t pid = fork();
  if (pid == 0) {
    // Drop CAP_SYS_ADMIN from the effective set (a no-op when not root).
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct d[2] = {};
    syscall(SYS_capget, &hdr, d);
    d[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
    syscall(SYS_capset, &hdr, d);
    try {
      seccomp_load(nullptr, true);
    } catch (const Error& e) {
      std::string m = e.what();
      _exit(m == "load root emulation seccomp filter: Permission denied (the process has "
                 "neither no_new_privs nor CAP_SYS_ADMIN in its user namespace)"
                ? 0
                : 2);
    }
    _exit(1);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
}

// The whole way of a listener: loaded in a child, handed to the "runtime" over a seqpacket
// channel (sync::send_one_fd), sent by seccomp_send_listener to an "agent" on a unix socket
// with the process state, and used by the agent to answer the child's mkdir with EXDEV. The
// child no longer holds the listener once the runtime has it.
TEST_F(SeccompKernelTest, NotifyListenerReachesTheAgentWhichAnswers) {
  std::string sock_path = dir_ + "/agent.sock", d = dir_ + "/d";
  Seccomp p = profile(R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": ")" + sock_path +
                      R"(", "listenerMetadata": "meta", "syscalls": [
      {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]})");
  SeccompProgram prog = seccomp_compile(p);
  int agent = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(agent, 0);
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, sock_path.c_str());
  ASSERT_EQ(bind(agent, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(agent, 1), 0);
  int sp[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);

  pid_t pid = fork();
  if (pid == 0) {
    close(sp[0]);
    int code = 10;
    try {
      prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
      int lfd = seccomp_install(&prog, false);
      if (lfd < 0) _exit(11);
      if (!sync::send_one_fd(sp[1], sync::kSeccomp, lfd)) _exit(12);
      close(lfd);
      sync::Msg m;
      if (!sync::recv(sp[1], &m, nullptr) || m != sync::kSeccompDone) _exit(13);
      if (fcntl(lfd, F_GETFD) != -1) _exit(14);  // closed: nothing of it is left here
      code = mkdir(d.c_str(), 0755) == -1 && errno == EXDEV ? 0 : 15;
    } catch (...) {
      code = 16;
    }
    _exit(code);
  }
  close(sp[1]);
  // The runtime: the listener from the child, to the agent, our copy closed, then DONE.
  sync::Msg m;
  std::vector<int> fds;
  ASSERT_TRUE(sync::recv(sp[0], &m, nullptr, &fds));
  ASSERT_EQ(m, sync::kSeccomp);
  ASSERT_EQ(fds.size(), 1u);
  EXPECT_EQ(fcntl(fds[0], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  std::string state = seccomp_process_state(p, pid, R"({"id": "c", "status": "creating"})");
  ASSERT_NO_THROW(seccomp_send_listener(p, fds[0], state));
  close(fds[0]);
  ASSERT_TRUE(sync::send(sp[0], sync::kSeccompDone));

  // The agent: state and listener in one message.
  int conn = accept4(agent, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(conn, 0);
  char buf[4096];
  alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int))];
  iovec iov = {buf, sizeof buf};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl;
  msg.msg_controllen = sizeof ctl;
  ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), state);
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(c->cmsg_type, SCM_RIGHTS);
  int listener;
  std::memcpy(&listener, CMSG_DATA(c), sizeof listener);
  close(conn);
  auto j = nlohmann::json::parse(state);
  EXPECT_EQ(j["metadata"], "meta");
  EXPECT_EQ(j["pid"], pid);

  seccomp_notif req;
  std::memset(&req, 0, sizeof req);
  ASSERT_EQ(ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req), 0) << std::strerror(errno);
  EXPECT_EQ(static_cast<pid_t>(req.pid), pid);
  EXPECT_TRUE(req.data.nr == SYS_mkdir || req.data.nr == SYS_mkdirat) << req.data.nr;
  seccomp_notif_resp resp;
  std::memset(&resp, 0, sizeof resp);
  resp.id = req.id;
  resp.error = -EXDEV;
  ASSERT_EQ(ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp), 0) << std::strerror(errno);
  int st = 0;
  waitpid(pid, &st, 0);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "child status " << st;
  EXPECT_NE(access(d.c_str(), F_OK), 0);
  close(listener);
  close(agent);
  close(sp[0]);
}

// Root emulation and a profile with a listener stack (docs/root-emulation.md, "Why not seccomp
// notify"): both load, and a faked call never reaches the agent (ERRNO ranks above
// USER_NOTIF), while another notified call does. Nobody answers here: a call that went to
// the listener would hang, so the child gives up after 5 s (SIGALRM).
TEST_F(SeccompKernelTest, EmulationWinsOverANotifyRule) {
  std::string d = dir_ + "/d";
  Seccomp p = profile(R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/a", "syscalls": [
      {"names": ["chown", "fchownat", "mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]})");
  SeccompProgram prog = seccomp_compile(p);
  int sp[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(sp[0]);
    alarm(5);
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    int lfd = -1;
    try {
      lfd = seccomp_install(&prog, true);
    } catch (...) {
      _exit(11);
    }
    if (lfd < 0 || !sync::send_one_fd(sp[1], sync::kSeccomp, lfd)) _exit(12);
    close(lfd);
    if (chown(file_.c_str(), 12345, 12345) != 0) _exit(13);
    (void)!write(sp[1], "c", 1);  // the faked call is done: now one that goes to the agent
    _exit(mkdir(d.c_str(), 0755) == -1 && errno == EACCES ? 0 : 14);
  }
  close(sp[1]);
  sync::Msg m;
  std::vector<int> fds;
  ASSERT_TRUE(sync::recv(sp[0], &m, nullptr, &fds));
  ASSERT_EQ(fds.size(), 1u);
  int listener = fds[0];
  std::string payload;
  ASSERT_TRUE(sync::recv(sp[0], &m, &payload)) << "the child did not get past chown";
  EXPECT_EQ(m, 'c');
  seccomp_notif req;
  std::memset(&req, 0, sizeof req);
  ASSERT_EQ(ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req), 0) << std::strerror(errno);
  EXPECT_TRUE(req.data.nr == SYS_mkdir || req.data.nr == SYS_mkdirat) << req.data.nr;
  seccomp_notif_resp resp;
  std::memset(&resp, 0, sizeof resp);
  resp.id = req.id;
  resp.error = -EACCES;
  ASSERT_EQ(ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp), 0) << std::strerror(errno);
  int st = 0;
  waitpid(pid, &st, 0);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "child status " << st;
  EXPECT_TRUE(owner_unchanged());
  close(listener);
  close(sp[0]);
}

// An agent listening on a seqpacket socket gets the same single message (runc and crun
// connect stream sockets; nook falls back on EPROTOTYPE).
TEST(SeccompNotify, SeqpacketAgentGetsOneMessage) {
  char tmpl[] = "/tmp/nook-seccomp-sp.XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string path = std::string(tmpl) + "/agent.sock";
  Seccomp p = profile(R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": ")" + path +
                      R"(", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})");
  int agent = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  ASSERT_GE(agent, 0);
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  ASSERT_EQ(bind(agent, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(agent, 1), 0);
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_NO_THROW(seccomp_send_listener(p, fd, R"({"x": 1})"));
  int conn = accept4(agent, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(conn, 0);
  char buf[256];
  alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int))];
  iovec iov = {buf, sizeof buf};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl;
  msg.msg_controllen = sizeof ctl;
  ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), R"({"x": 1})");
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  ASSERT_NE(c, nullptr);
  int got;
  std::memcpy(&got, CMSG_DATA(c), sizeof got);
  struct stat a, b;
  ASSERT_EQ(fstat(fd, &a), 0);
  ASSERT_EQ(fstat(got, &b), 0);
  EXPECT_EQ(a.st_rdev, b.st_rdev);
  close(got);
  close(conn);
  close(fd);
  close(agent);
  unlink(path.c_str());
  rmdir(tmpl);
}

TEST(SeccompNotify, UnreachableAgentNamesThePathAndErrno) {
  Seccomp p = profile(R"({"defaultAction": "SCMP_ACT_ALLOW",
      "listenerPath": "/nonexistent/nook-agent.sock",
      "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})");
  try {
    seccomp_send_listener(p, 0, "{}");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "connect seccomp agent /nonexistent/nook-agent.sock (linux.seccomp.listenerPath): "
              "No such file or directory");
  }
}

}  // namespace
}  // namespace nook
