// Name tables: signals, capabilities, rlimits (namespaces: namespaces.cpp).
#include "names.hpp"

#include <linux/capability.h>
#include <signal.h>
#include <strings.h>
#include <sys/resource.h>

#include <cstdlib>
#include <string>

namespace nook {
namespace {

struct NameNum {
  const char* name;
  int num;
};

constexpr NameNum kSignals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},     {"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT},   {"IOT", SIGIOT},   {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL},   {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE},   {"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CLD", SIGCHLD},  {"CONT", SIGCONT},
    {"STOP", SIGSTOP},     {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
    {"URG", SIGURG},       {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},     {"WINCH", SIGWINCH}, {"IO", SIGIO},     {"POLL", SIGPOLL},
    {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

constexpr const char* kCaps[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

constexpr NameNum kRlimits[] = {
    {"RLIMIT_CPU", RLIMIT_CPU},           {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_DATA", RLIMIT_DATA},         {"RLIMIT_STACK", RLIMIT_STACK},
    {"RLIMIT_CORE", RLIMIT_CORE},         {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_NPROC", RLIMIT_NPROC},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},   {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},       {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},     {"RLIMIT_RTTIME", RLIMIT_RTTIME},
};

}  // namespace

int parse_signal(const std::string& s) {
  if (s.empty()) return -1;
  if (s.find_first_not_of("0123456789") == std::string::npos) {
    if (s.size() > 3) return -1;
    int n = std::atoi(s.c_str());
    return (n >= 1 && n <= SIGRTMAX) ? n : -1;
  }
  std::string n = s;
  if (n.size() > 3 && strncasecmp(n.c_str(), "SIG", 3) == 0) n = n.substr(3);
  for (auto& e : kSignals)
    if (strcasecmp(e.name, n.c_str()) == 0) return e.num;
  // RTMIN, RTMIN+3, RTMAX-2
  if (strncasecmp(n.c_str(), "RTMIN", 5) == 0 || strncasecmp(n.c_str(), "RTMAX", 5) == 0) {
    bool min = strncasecmp(n.c_str(), "RTMIN", 5) == 0;
    std::string rest = n.substr(5);
    int off = 0;
    if (!rest.empty()) {
      if ((rest[0] != '+' && rest[0] != '-') || rest.size() < 2 || rest.size() > 3 ||
          rest.find_first_not_of("0123456789", 1) != std::string::npos)
        return -1;
      off = std::atoi(rest.c_str());
    }
    int sig = (min ? SIGRTMIN : SIGRTMAX) + off;
    return (sig >= SIGRTMIN && sig <= SIGRTMAX) ? sig : -1;
  }
  return -1;
}

int cap_from_name(const std::string& name) {
  for (int i = 0; i < static_cast<int>(std::size(kCaps)); i++)
    if (strcasecmp(kCaps[i], name.c_str()) == 0) return i;
  return -1;
}

const char* cap_name(int cap) {
  if (cap < 0 || cap >= static_cast<int>(std::size(kCaps))) return nullptr;
  return kCaps[cap];
}

int cap_last_known() {
  return static_cast<int>(std::size(kCaps)) - 1;
}

int rlimit_from_name(const std::string& name) {
  for (auto& e : kRlimits)
    if (name == e.name) return e.num;
  return -1;
}

}  // namespace nook
