// Seccomp: validating and compiling the config's profile with libseccomp, and nook's root
// emulation filter (a BPF program assembled at compile time from a table of system call
// numbers, so starting a container costs no filter generation for it).
#include "seccomp.hpp"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>

#include "error.hpp"
#include "fd.hpp"
#include "keys.hpp"
#include "log.hpp"
#include "sync.hpp"

namespace nook {
namespace {

// --- Names in the profile -------------------------------------------------------------------

struct ActionName {
  const char* name;
  uint32_t action;   // libseccomp action without data
  bool takes_errno;  // errnoRet allowed (ERRNO: the errno; TRACE: the value the tracer sees)
};

constexpr ActionName kActions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL, false},  // = KILL_THREAD
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, false},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, false},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false},  // needs listenerPath (seccomp_validate)
};

// The kernel turns SECCOMP_RET_ERRNO data above MAX_ERRNO into MAX_ERRNO; the TRACE data is
// 16 bits wide.
constexpr uint32_t kMaxErrno = 4095;
constexpr uint32_t kMaxTraceData = 0xffff;

struct OpName {
  const char* name;
  scmp_compare op;
};

constexpr OpName kOps[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

struct FlagName {
  const char* name;
  unsigned flag;
};

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)  // Linux 5.19
#endif

// Every flag runtime-spec names is loaded as given. NEW_LISTENER is also implied by a
// SCMP_ACT_NOTIFY rule; the listener goes to listenerPath (seccomp_send_listener).
constexpr FlagName kFlags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_NEW_LISTENER", SECCOMP_FILTER_FLAG_NEW_LISTENER},
    {"SECCOMP_FILTER_FLAG_TSYNC_ESRCH", SECCOMP_FILTER_FLAG_TSYNC_ESRCH},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

// The calls the container process makes between loading a filter with a listener and the
// moment the agent has that listener: a SCMP_ACT_NOTIFY on them would wait for an agent that
// cannot answer yet (runc refuses `write` for its own hand-over the same way).
constexpr const char* kHandOverSyscalls[] = {"sendmsg"};

std::string quoted(const std::string& s) {
  return "\"" + s + "\"";
}

// Where errors point: "config.json: /linux/seccomp/syscalls/3/action".
struct Where {
  const std::string& file;
  std::string at(const std::string& ptr) const { return file + ": /linux/seccomp" + ptr; }
  [[noreturn]] void fail(const std::string& ptr, const std::string& why) const {
    nook::fail(at(ptr) + ": " + why);
  }
};

std::string syscall_ptr(size_t i) {
  return "/syscalls/" + std::to_string(i);
}

// The libseccomp action for (name, errnoRet); `ptr` points at the action, `errno_ptr` at the
// errnoRet property that goes with it.
uint32_t resolve_action(const Where& w, const std::string& name, std::optional<uint32_t> err,
                        const std::string& ptr, const std::string& errno_ptr) {
  for (const auto& a : kActions) {
    if (name != a.name) continue;
    if (!a.takes_errno) {
      if (err)
        w.fail(errno_ptr, "errno return code given for " + name +
                              ", which takes none (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)");
      return a.action;
    }
    uint32_t value = err.value_or(EPERM);  // the spec's default for both
    uint32_t max = a.action == SCMP_ACT_TRACE(0) ? kMaxTraceData : kMaxErrno;
    if (value > max)
      w.fail(errno_ptr, "errno return code " + std::to_string(value) + " is out of range for " +
                            name + " (0.." + std::to_string(max) + ")");
    return a.action | value;
  }
  w.fail(ptr, "unknown action " + quoted(name));
}

uint32_t resolve_arch(const Where& w, const std::string& name, const std::string& ptr) {
  static constexpr std::string_view prefix = "SCMP_ARCH_";
  uint32_t arch = 0;
  if (name.starts_with(prefix) && name.size() > prefix.size()) {
    // libseccomp's own names are the lower-case suffixes: x86_64, aarch64, mipsel64n32, ...
    std::string lower = name.substr(prefix.size());
    for (auto& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    arch = seccomp_arch_resolve_name(lower.c_str());
  }
  if (arch == 0) w.fail(ptr, "unknown architecture " + quoted(name));
  return arch;
}

scmp_compare resolve_op(const Where& w, const std::string& name, const std::string& ptr) {
  for (const auto& o : kOps)
    if (name == o.name) return o.op;
  w.fail(ptr, "unknown operator " + quoted(name));
}

unsigned resolve_flags(const Where& w, const std::vector<std::string>& flags) {
  unsigned out = 0;
  for (size_t i = 0; i < flags.size(); i++) {
    std::string ptr = "/flags/" + std::to_string(i);
    const FlagName* f = nullptr;
    for (const auto& k : kFlags)
      if (flags[i] == k.name) f = &k;
    if (!f) w.fail(ptr, "unknown flag " + quoted(flags[i]));
    out |= f->flag;
  }
  return out;
}

int resolve_syscall(const std::string& name) {
  // Returns __NR_SCMP_ERROR for a name libseccomp does not know on any architecture; names
  // that exist only on other architectures (chown32 on x86_64) resolve to negative
  // pseudo-numbers that libseccomp maps per architecture.
  return name.empty() ? __NR_SCMP_ERROR : seccomp_syscall_resolve_name(name.c_str());
}

struct CtxDeleter {
  void operator()(void* c) const { seccomp_release(c); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

// --- The root emulation program -------------------------------------------------------------

constexpr int kNo = -1;
constexpr uint32_t kX32Bit = 0x40000000;  // __X32_SYSCALL_BIT

// Numbers from the kernel's syscall tables (arch/x86/entry/syscalls/syscall_{64,32}.tbl,
// include/uapi/asm-generic/unistd.h, arch/arm/tools/syscall.tbl); the unit tests check every
// one against libseccomp's tables.
constexpr EmulatedSyscall kEmulated[] = {
    // name          x86_64 i386  aarch64 arm
    {"chown", 92, 182, kNo, 182},
    {"fchown", 93, 95, 55, 95},
    {"lchown", 94, 16, kNo, 16},
    {"fchownat", 260, 298, 54, 325},
    {"chown32", kNo, 212, kNo, 212},
    {"fchown32", kNo, 207, kNo, 207},
    {"lchown32", kNo, 198, kNo, 198},
    {"setuid", 105, 23, 146, 23},
    {"setgid", 106, 46, 144, 46},
    {"setreuid", 113, 70, 145, 70},
    {"setregid", 114, 71, 143, 71},
    {"setresuid", 117, 164, 147, 164},
    {"setresgid", 119, 170, 149, 170},
    {"setfsuid", 122, 138, 151, 138},
    {"setfsgid", 123, 139, 152, 139},
    {"setgroups", 116, 81, 159, 81},
    {"setuid32", kNo, 213, kNo, 213},
    {"setgid32", kNo, 214, kNo, 214},
    {"setreuid32", kNo, 203, kNo, 203},
    {"setregid32", kNo, 204, kNo, 204},
    {"setresuid32", kNo, 208, kNo, 208},
    {"setresgid32", kNo, 210, kNo, 210},
    {"setfsuid32", kNo, 215, kNo, 215},
    {"setfsgid32", kNo, 216, kNo, 216},
    {"setgroups32", kNo, 206, kNo, 206},
    {"capset", 126, 185, 91, 185},
    {"mknod", 133, 14, kNo, 14, EmulationMatch::mknod_mode, 1},
    {"mknodat", 259, 297, 33, 324, EmulationMatch::mknod_mode, 2},
};

struct ArchBlock {
  uint32_t audit_arch;
  int EmulatedSyscall::*column;
  bool native;  // calls nook itself may make: honour kRootEmulationPassthrough
  bool x32;     // also match the x32 numbers (same audit arch, __X32_SYSCALL_BIT set)
};

constexpr ArchBlock kX86Blocks[] = {
    {AUDIT_ARCH_X86_64, &EmulatedSyscall::x86_64, true, true},
    {AUDIT_ARCH_I386, &EmulatedSyscall::i386, false, false},
};
constexpr ArchBlock kArmBlocks[] = {
    {AUDIT_ARCH_AARCH64, &EmulatedSyscall::aarch64, true, false},
    {AUDIT_ARCH_ARM, &EmulatedSyscall::arm, false, false},
};

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the emulation program reads the low half of 64-bit arguments first");

constexpr uint32_t kOffNr = offsetof(struct seccomp_data, nr);
constexpr uint32_t kOffArch = offsetof(struct seccomp_data, arch);
constexpr uint32_t arg_lo(unsigned i) {
  return offsetof(struct seccomp_data, args) + 8 * i;
}
constexpr uint32_t arg_hi(unsigned i) {
  return arg_lo(i) + 4;
}

// Jump targets of the shared tail. Jumps in classic BPF only go forward, so the tail is laid
// out in this order: each block only jumps to blocks after it.
enum Label : int {
  kModeArg1Native,  // mknod: device node? then the passthrough check, else allow
  kModeArg2Native,  // mknodat
  kModeArg1,        // compat architectures: device node? then fake, else allow
  kModeArg2,
  kPassthrough,  // fake unless args[5] == kRootEmulationPassthrough
  kFake,         // return 0
  kAllow,
  kFirstArchLabel,  // kFirstArchLabel + i: the arch test of block i + 1 (or "unknown arch")
  kNumLabels = kFirstArchLabel + 8,
};

constexpr size_t kMaxInsns = 256;

struct Program {
  std::array<sock_filter, kMaxInsns> insns{};
  size_t len = 0;
};

// A tiny two-pass assembler: instructions name labels; resolve() turns them into offsets.
class Assembler {
 public:
  constexpr void stmt(uint16_t code, uint32_t k) { emit(code, k, kNone, kNone, false); }
  constexpr void jeq(uint32_t k, int jt, int jf) {
    emit(BPF_JMP | BPF_JEQ | BPF_K, k, jt, jf, false);
  }
  constexpr void ja(int label) { emit(BPF_JMP | BPF_JA, 0, label, kNone, true); }
  constexpr void ret(uint32_t v) { stmt(BPF_RET | BPF_K, v); }
  constexpr void ld(uint32_t off) { stmt(BPF_LD | BPF_W | BPF_ABS, off); }
  constexpr void bind(int label) { pos_[label] = static_cast<int>(p_.len); }

  constexpr Program resolve() {
    for (size_t i = 0; i < p_.len; i++) {
      if (always_[i]) {
        p_.insns[i].k = static_cast<uint32_t>(offset(i, jt_[i], 1 << 30));
        continue;
      }
      if (jt_[i] != kNone) p_.insns[i].jt = static_cast<uint8_t>(offset(i, jt_[i], 255));
      if (jf_[i] != kNone) p_.insns[i].jf = static_cast<uint8_t>(offset(i, jf_[i], 255));
    }
    return p_;
  }

 private:
  static constexpr int kNone = -1;

  constexpr void emit(uint16_t code, uint32_t k, int jt, int jf, bool always) {
    if (p_.len >= kMaxInsns) throw "root emulation program: too many instructions";
    p_.insns[p_.len] = sock_filter{code, 0, 0, k};
    jt_[p_.len] = jt;
    jf_[p_.len] = jf;
    always_[p_.len] = always;
    p_.len++;
  }
  constexpr int offset(size_t from, int label, int max) const {
    int off = pos_[label] - static_cast<int>(from) - 1;
    if (pos_[label] < 0 || off < 0 || off > max) throw "root emulation program: bad jump";
    return off;
  }

  Program p_;
  std::array<int, kMaxInsns> jt_{}, jf_{};
  std::array<bool, kMaxInsns> always_{};
  std::array<int, kNumLabels> pos_ = [] {
    std::array<int, kNumLabels> a{};
    for (auto& x : a) x = -1;
    return a;
  }();
};

// Device node test on the mode argument; `fake` is where a device node goes.
constexpr void mode_block(Assembler& a, unsigned arg, int fake) {
  a.ld(arg_lo(arg));  // mode_t is 32 bits; the upper half of the register does not matter
  a.stmt(BPF_ALU | BPF_AND | BPF_K, S_IFMT);
  a.jeq(S_IFCHR, fake, -1);
  a.jeq(S_IFBLK, fake, -1);
  a.ret(SECCOMP_RET_ALLOW);
}

constexpr int mode_label(const EmulatedSyscall& s, bool native) {
  if (s.mode_arg == 1) return native ? kModeArg1Native : kModeArg1;
  if (s.mode_arg == 2) return native ? kModeArg2Native : kModeArg2;
  throw "root emulation program: mode argument must be 1 or 2";
}

template <size_t N>
constexpr Program build_program(const ArchBlock (&blocks)[N]) {
  static_assert(N + 1 <= kNumLabels - kFirstArchLabel);
  Assembler a;
  a.ld(kOffArch);
  for (size_t b = 0; b < N; b++) {
    const ArchBlock& blk = blocks[b];
    const int next_arch = kFirstArchLabel + static_cast<int>(b);
    if (b > 0) a.bind(next_arch - 1);
    a.jeq(blk.audit_arch, -1, next_arch);
    a.ld(kOffNr);
    for (int pass = 0; pass < (blk.x32 ? 2 : 1); pass++) {
      const bool x32 = pass == 1;
      const bool native = blk.native && !x32;  // nook never makes x32 calls
      for (const auto& s : kEmulated) {
        int nr = s.*(blk.column);
        if (nr == kNo) continue;
        uint32_t n = static_cast<uint32_t>(nr) | (x32 ? kX32Bit : 0);
        int target = s.match == EmulationMatch::mknod_mode ? mode_label(s, native)
                     : native                              ? kPassthrough
                                                           : kFake;
        a.jeq(n, target, -1);
      }
    }
    a.ret(SECCOMP_RET_ALLOW);
  }
  a.bind(kFirstArchLabel + static_cast<int>(N) - 1);
  a.ret(SECCOMP_RET_ALLOW);  // an architecture without a table: nothing is emulated

  a.bind(kModeArg1Native);
  mode_block(a, 1, kPassthrough);
  a.bind(kModeArg2Native);
  mode_block(a, 2, kPassthrough);
  a.bind(kModeArg1);
  mode_block(a, 1, kFake);
  a.bind(kModeArg2);
  mode_block(a, 2, kFake);
  a.bind(kPassthrough);
  a.ld(arg_lo(5));
  a.jeq(static_cast<uint32_t>(kRootEmulationPassthrough), -1, kFake);
  a.ld(arg_hi(5));
  a.jeq(static_cast<uint32_t>(kRootEmulationPassthrough >> 32), kAllow, kFake);
  a.bind(kFake);
  a.ret(SECCOMP_RET_ERRNO | 0);  // errno 0: the call "succeeds" with return value 0
  a.bind(kAllow);
  a.ret(SECCOMP_RET_ALLOW);
  return a.resolve();
}

constexpr Program kX86Program = build_program(kX86Blocks);
constexpr Program kArmProgram = build_program(kArmBlocks);

// --- Loading --------------------------------------------------------------------------------

// Returns the listener's descriptor with SECCOMP_FILTER_FLAG_NEW_LISTENER (close-on-exec: the
// kernel makes it so), else -1.
int install_program(const sock_filter* insns, size_t len, unsigned flags, const char* what) {
  struct sock_fprog prog = {static_cast<unsigned short>(len), const_cast<sock_filter*>(insns)};
  long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
    if (rc >= 0) return static_cast<int>(rc);
  } else if (rc == 0) {
    return -1;
  }
  if (rc > 0)  // TSYNC: the thread that could not be synchronised
    fail(std::string("load ") + what + ": thread " + std::to_string(rc) +
         " could not be synchronised (SECCOMP_FILTER_FLAG_TSYNC)");
  int err = errno;
  std::string call = std::string("load ") + what;
  if (err == EACCES)
    fail(sys_message(call, {}, err) +
         " (the process has neither no_new_privs nor CAP_SYS_ADMIN in its user namespace)");
  if (err == EINVAL && flags != 0)
    fail(sys_message(call, "with flags " + std::to_string(flags), err) +
         " (does the kernel support these SECCOMP_FILTER_FLAG_* flags?)");
  throw_sys(call, {}, err);
}

}  // namespace

// --- Public API -----------------------------------------------------------------------------

bool seccomp_has_listener(const Seccomp& p) {
  if (std::find(p.flags.begin(), p.flags.end(), "SECCOMP_FILTER_FLAG_NEW_LISTENER") !=
      p.flags.end())
    return true;
  return std::any_of(p.syscalls.begin(), p.syscalls.end(),
                     [](const SeccompSyscall& sc) { return sc.action == "SCMP_ACT_NOTIFY"; });
}

void seccomp_validate(const Seccomp& p, const std::string& file) {
  Where w{file};
  if (!p.listener_path.empty()) {
    if (p.listener_path[0] != '/')
      w.fail("/listenerPath", "must be an absolute path, not " + quoted(p.listener_path));
    if (p.listener_path.size() >= sizeof(sockaddr_un::sun_path))
      w.fail("/listenerPath", "is " + std::to_string(p.listener_path.size()) +
                                  " bytes long; a unix socket address holds at most " +
                                  std::to_string(sizeof(sockaddr_un::sun_path) - 1));
  }
  // Every call nook makes after loading the filter would go to an agent that does not have
  // the listener yet (runc refuses it too).
  if (p.default_action == "SCMP_ACT_NOTIFY")
    w.fail("/defaultAction",
           "SCMP_ACT_NOTIFY cannot be the default action: the runtime's own system calls "
           "between loading the filter and handing its listener to the agent would wait for "
           "an agent that does not have it yet");
  resolve_action(w, p.default_action, p.default_errno_ret, "/defaultAction", "/defaultErrnoRet");
  for (size_t i = 0; i < p.architectures.size(); i++)
    resolve_arch(w, p.architectures[i], "/architectures/" + std::to_string(i));
  resolve_flags(w, p.flags);
  for (size_t i = 0; i < p.flags.size(); i++) {
    if (p.flags[i] == "SECCOMP_FILTER_FLAG_NEW_LISTENER" && p.listener_path.empty())
      w.fail("/flags/" + std::to_string(i),
             "SECCOMP_FILTER_FLAG_NEW_LISTENER needs linux.seccomp.listenerPath, the unix "
             "socket the runtime sends the listener to");
    // The kernel refuses it (EINVAL) on a filter without a listener.
    if (p.flags[i] == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" && !seccomp_has_listener(p))
      w.fail("/flags/" + std::to_string(i),
             "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV applies only to a filter with a listener "
             "(a SCMP_ACT_NOTIFY rule)");
  }
  for (size_t i = 0; i < p.syscalls.size(); i++) {
    const SeccompSyscall& sc = p.syscalls[i];
    std::string ptr = syscall_ptr(i);
    if (sc.names.empty()) w.fail(ptr + "/names", "must name at least one system call");
    resolve_action(w, sc.action, sc.errno_ret, ptr + "/action", ptr + "/errnoRet");
    if (sc.action == "SCMP_ACT_NOTIFY") {
      if (p.listener_path.empty())
        w.fail(ptr + "/action",
               "SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath, the unix socket the runtime "
               "sends the listener to");
      for (size_t k = 0; k < sc.names.size(); k++)
        for (const char* h : kHandOverSyscalls)
          if (sc.names[k] == h)
            w.fail(ptr + "/names/" + std::to_string(k),
                   "SCMP_ACT_NOTIFY cannot apply to " + sc.names[k] +
                       ": the container process hands the listener to the runtime with it, "
                       "so it would wait for an agent that does not have the listener yet");
    }
    for (size_t k = 0; k < sc.args.size(); k++) {
      std::string ap = ptr + "/args/" + std::to_string(k);
      if (sc.args[k].index > 5) w.fail(ap + "/index", "argument index must be 0..5");
      resolve_op(w, sc.args[k].op, ap + "/op");
    }
    for (size_t k = 0; k < sc.names.size(); k++)
      if (resolve_syscall(sc.names[k]) == __NR_SCMP_ERROR)
        log::warn(w.at(ptr + "/names/" + std::to_string(k)) + ": unknown system call " +
                  quoted(sc.names[k]) + " skipped (not known to libseccomp " +
                  std::to_string(seccomp_version()->major) + "." +
                  std::to_string(seccomp_version()->minor) + "." +
                  std::to_string(seccomp_version()->micro) + ")");
  }
  if ((!p.listener_path.empty() || !p.listener_metadata.empty()) && !seccomp_has_listener(p))
    log::debug(w.at("/listenerPath") +
               ": no rule is SCMP_ACT_NOTIFY, so there is no listener to send (as runc)");
}

SeccompProgram seccomp_compile(const Seccomp& p) {
  const std::string file = "seccomp profile";
  Where w{file};
  uint32_t def = resolve_action(w, p.default_action, p.default_errno_ret, "/defaultAction",
                                "/defaultErrnoRet");
  Ctx ctx(seccomp_init(def));
  if (!ctx) fail("seccomp_init: cannot create a libseccomp filter");
  // nook decides about no_new_privs itself (process.noNewPrivileges); the export below does
  // not load anything, but keep libseccomp from ever setting it on its own.
  int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
  if (rc < 0) throw_sys("seccomp_attr_set", "SCMP_FLTATR_CTL_NNP", -rc);
  for (size_t i = 0; i < p.architectures.size(); i++) {
    std::string ptr = "/architectures/" + std::to_string(i);
    rc = seccomp_arch_add(ctx.get(), resolve_arch(w, p.architectures[i], ptr));
    if (rc < 0 && rc != -EEXIST)
      w.fail(ptr, sys_message("seccomp_arch_add", p.architectures[i], -rc));
  }
  std::vector<scmp_arg_cmp> conds;
  for (size_t i = 0; i < p.syscalls.size(); i++) {
    const SeccompSyscall& sc = p.syscalls[i];
    std::string ptr = syscall_ptr(i);
    uint32_t act = resolve_action(w, sc.action, sc.errno_ret, ptr + "/action", ptr + "/errnoRet");
    // libseccomp refuses rules that repeat the default action; they change nothing.
    if (act == def) continue;
    conds.clear();
    unsigned seen = 0;
    bool repeated_index = false;
    for (size_t k = 0; k < sc.args.size(); k++) {
      const SeccompArg& a = sc.args[k];
      scmp_compare op = resolve_op(w, a.op, ptr + "/args/" + std::to_string(k) + "/op");
      if (seen & (1u << a.index)) repeated_index = true;
      seen |= 1u << a.index;
      conds.push_back(scmp_arg_cmp{a.index, op, a.value, a.value_two});
    }
    for (size_t k = 0; k < sc.names.size(); k++) {
      int nr = resolve_syscall(sc.names[k]);
      if (nr == __NR_SCMP_ERROR) continue;  // warned about by seccomp_validate
      auto add = [&](unsigned n, const scmp_arg_cmp* c) {
        int r = seccomp_rule_add_array(ctx.get(), act, nr, n, c);
        if (r < 0)
          w.fail(ptr + "/names/" + std::to_string(k), "libseccomp cannot add the rule for " +
                                                          quoted(sc.names[k]) + ": " +
                                                          std::strerror(-r));
      };
      // libseccomp cannot AND two conditions on the same argument; as runc and crun do, each
      // condition then becomes a rule of its own (they match if any one holds).
      if (repeated_index)
        for (const auto& c : conds) add(1, &c);
      else
        add(static_cast<unsigned>(conds.size()), conds.data());
    }
  }

  Fd fd(::memfd_create("nook-seccomp", MFD_CLOEXEC));
  if (!fd) throw_sys("memfd_create", "nook-seccomp");
  rc = seccomp_export_bpf(ctx.get(), fd.get());
  if (rc < 0) throw_sys("seccomp_export_bpf", {}, -rc);
  off_t size = ::lseek(fd.get(), 0, SEEK_CUR);
  if (size < 0) throw_sys("lseek", "seccomp program");
  if (size % sizeof(sock_filter) != 0) fail("seccomp_export_bpf: program size is not whole");
  SeccompProgram out;
  out.insns.resize(static_cast<size_t>(size) / sizeof(sock_filter));
  if (out.insns.size() > BPF_MAXINSNS)
    fail("seccomp profile compiles to " + std::to_string(out.insns.size()) +
         " BPF instructions, more than the kernel's limit of " + std::to_string(BPF_MAXINSNS));
  if (::pread(fd.get(), out.insns.data(), static_cast<size_t>(size), 0) != size)
    throw_sys("read", "seccomp program");
  out.flags = resolve_flags(w, p.flags);
  if (seccomp_has_listener(p)) {
    out.flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    // The kernel refuses TSYNC with a listener unless a thread that cannot be synchronised is
    // reported as ESRCH instead of by its TID; the container process has one thread, so the
    // flag changes nothing but the kernel's consent.
    if (out.flags & SECCOMP_FILTER_FLAG_TSYNC) out.flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  }
  return out;
}

int seccomp_install(const SeccompProgram* profile, bool emulate_root) {
  if (emulate_root) {
    auto prog = root_emulation_program();
    if (prog.empty()) fail("root emulation is not available on this architecture");
    install_program(prog.data(), prog.size(), 0, "root emulation seccomp filter");
  }
  if (!profile) return -1;
  return install_program(profile->insns.data(), profile->insns.size(), profile->flags,
                         "seccomp filter (linux.seccomp)");
}

int seccomp_load(const Seccomp* profile, bool emulate_root) {
  if (!profile) return seccomp_install(nullptr, emulate_root);
  SeccompProgram prog = seccomp_compile(*profile);
  return seccomp_install(&prog, emulate_root);
}

// --- The listener's way to the agent -----------------------------------------------------------

std::string seccomp_process_state(const Seccomp& p, pid_t pid, const std::string& state_json) {
  nlohmann::ordered_json j = {{"ociVersion", kOciVersion},
                              {"fds", {kSeccompFdName}},
                              {"pid", pid},
                              {"metadata", p.listener_metadata},
                              {"state", nlohmann::ordered_json::parse(state_json)}};
  return j.dump();
}

void seccomp_send_listener(const Seccomp& p, int listener, const std::string& process_state) {
  const std::string& path = p.listener_path;
  const std::string what = "seccomp agent " + path + " (linux.seccomp.listenerPath)";
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) fail(what + ": path too long for a unix socket");
  std::memcpy(addr.sun_path, path.data(), path.size());
  // runc and crun connect a stream socket; an agent may listen on a seqpacket one.
  Fd sock;
  int err = 0;
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    sock = Fd(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
    if (!sock) throw_sys("socket", what);
    if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      err = 0;
      break;
    }
    err = errno;
    if (err != EPROTOTYPE) break;
  }
  if (err) throw_sys("connect", what, err);
  // One message: the containerProcessState and, attached to it, the listener (the agent reads
  // both with one recvmsg, as runc's and crun's agents do).
  ssize_t n =
      sync::sendmsg_fds(sock.get(), process_state.data(), process_state.size(), &listener, 1);
  if (n < 0) throw_sys("sendmsg", what + ": the seccomp listener");
  // A stream socket may take less than all: the rest follows without the descriptor.
  size_t off = static_cast<size_t>(n);
  while (off < process_state.size()) {
    n = ::send(sock.get(), process_state.data() + off, process_state.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_sys("send", what + ": the container process state");
    off += static_cast<size_t>(n);
  }
}

long syscall_unemulated(long nr, long a0, long a1, long a2) {
  return ::syscall(nr, a0, a1, a2, 0L, 0L, static_cast<long>(kRootEmulationPassthrough));
}

std::span<const EmulatedSyscall> root_emulation_table() {
  return kEmulated;
}

std::span<const sock_filter> root_emulation_program(EmulationAbi abi) {
  const Program& p = abi == EmulationAbi::x86 ? kX86Program : kArmProgram;
  return {p.insns.data(), p.len};
}

std::span<const sock_filter> root_emulation_program() {
#if defined(__x86_64__)
  return root_emulation_program(EmulationAbi::x86);
#elif defined(__aarch64__)
  return root_emulation_program(EmulationAbi::arm);
#else
  return {};
#endif
}

std::string seccomp_library_version() {
  const scmp_version* v = seccomp_version();
  if (!v) return "unknown";
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro);
}

}  // namespace nook
