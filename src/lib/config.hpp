// The typed model of an OCI config.json (runtime-spec v1.3), parsed once and validated once.
// Everything after parsing reads only these structs; unknown JSON properties are ignored, as
// the spec requires.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace nook {

struct IdMapping {
  bool operator==(const IdMapping&) const = default;
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;
};

struct Root {
  bool operator==(const Root&) const = default;
  std::string path;  // as written in config.json
  bool readonly = false;
};

struct Mount {
  bool operator==(const Mount&) const = default;
  std::string destination;
  std::string type;  // may be empty (bind mounts are recognised by options)
  std::string source;
  std::vector<std::string> options;
  std::vector<IdMapping> uid_mappings, gid_mappings;
};

struct User {
  bool operator==(const User&) const = default;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;
  std::vector<uint32_t> additional_gids;
  std::string username;  // Windows only; kept for the table
};

struct Rlimit {
  bool operator==(const Rlimit&) const = default;
  int resource = 0;  // RLIMIT_*
  std::string type;  // "RLIMIT_NOFILE"
  uint64_t soft = 0, hard = 0;
};

// Capability sets as bit masks (bit N = capability N). `names_unknown` collects names this
// kernel or nook does not know; they are ignored with a warning, as runc does.
struct Capabilities {
  bool operator==(const Capabilities&) const = default;
  uint64_t bounding = 0, effective = 0, inheritable = 0, permitted = 0, ambient = 0;
  std::vector<std::string> names_unknown;
};

struct ConsoleSize {
  bool operator==(const ConsoleSize&) const = default;
  unsigned height = 0, width = 0;
};

struct Scheduler {
  bool operator==(const Scheduler&) const = default;
  std::string policy;  // SCHED_OTHER ...
  int nice = 0;
  int priority = 0;
  std::vector<std::string> flags;
  uint64_t runtime = 0, deadline = 0, period = 0;
};

struct IoPriority {
  bool operator==(const IoPriority&) const = default;
  std::string io_class;  // IOPRIO_CLASS_RT/BE/IDLE
  int priority = 0;
};

struct Process {
  bool operator==(const Process&) const = default;
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  User user;
  std::vector<std::string> args;
  std::string command_line;  // Windows only
  std::vector<std::string> env;
  std::string cwd = "/";
  std::optional<Capabilities> capabilities;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::string apparmor_profile;
  std::optional<int> oom_score_adj;
  std::string selinux_label;
  std::optional<Scheduler> scheduler;
  std::optional<IoPriority> io_priority;
  std::vector<uint64_t> exec_cpu_affinity_unused;
};

enum class NsType { pid, network, mount, ipc, uts, user, cgroup, time };  // namespaces.hpp

struct Namespace {
  bool operator==(const Namespace&) const = default;
  NsType type;
  std::string path;  // empty: create a new one
};

struct Device {
  bool operator==(const Device&) const = default;
  std::string type;  // c, b, u, p
  std::string path;
  int64_t major = 0, minor = 0;
  std::optional<uint32_t> file_mode, uid, gid;
};

struct Hook {
  bool operator==(const Hook&) const = default;
  std::string path;
  std::vector<std::string> args;
  // Absent: the hook gets the runtime's own environment, as in runc and crun.
  std::optional<std::vector<std::string>> env;
  std::optional<int> timeout;
};

struct Hooks {
  bool operator==(const Hooks&) const = default;
  std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart,
      poststop;
  bool empty() const {
    return prestart.empty() && create_runtime.empty() && create_container.empty() &&
           start_container.empty() && poststart.empty() && poststop.empty();
  }
};

struct SeccompArg {
  bool operator==(const SeccompArg&) const = default;
  unsigned index = 0;
  uint64_t value = 0, value_two = 0;
  std::string op;  // SCMP_CMP_*
};

struct SeccompSyscall {
  bool operator==(const SeccompSyscall&) const = default;
  std::vector<std::string> names;
  std::string action;
  std::optional<uint32_t> errno_ret;
  std::vector<SeccompArg> args;
};

struct Seccomp {
  bool operator==(const Seccomp&) const = default;
  std::string default_action;
  std::optional<uint32_t> default_errno_ret;
  std::vector<std::string> architectures;
  std::vector<std::string> flags;
  std::string listener_path, listener_metadata;
  std::vector<SeccompSyscall> syscalls;
};

struct DeviceRule {
  bool operator==(const DeviceRule&) const = default;
  bool allow = false;
  std::string type;  // a, c, b (empty = all)
  std::optional<int64_t> major, minor;
  std::string access;
};

struct BlockIoDevice {
  bool operator==(const BlockIoDevice&) const = default;
  int64_t major = 0, minor = 0;
  std::optional<uint16_t> weight, leaf_weight;
  uint64_t rate = 0;  // for throttle entries
};

struct Resources {
  bool operator==(const Resources&) const = default;
  std::vector<DeviceRule> devices;
  struct Memory {
    bool operator==(const Memory&) const = default;
    std::optional<int64_t> limit, reservation, swap, kernel, kernel_tcp;
    std::optional<uint64_t> swappiness;
    std::optional<bool> disable_oom_killer, use_hierarchy, check_before_update;
  };
  std::optional<Memory> memory;
  struct Cpu {
    bool operator==(const Cpu&) const = default;
    std::optional<uint64_t> shares, period, realtime_period;
    std::optional<int64_t> quota, realtime_runtime, idle, burst;
    std::string cpus, mems;
  };
  std::optional<Cpu> cpu;
  std::optional<int64_t> pids_limit;
  struct BlockIo {
    bool operator==(const BlockIo&) const = default;
    std::optional<uint16_t> weight, leaf_weight;
    std::vector<BlockIoDevice> weight_device, throttle_read_bps, throttle_write_bps,
        throttle_read_iops, throttle_write_iops;
  };
  std::optional<BlockIo> block_io;
  struct HugepageLimit {
    bool operator==(const HugepageLimit&) const = default;
    std::string page_size;
    uint64_t limit = 0;
  };
  std::vector<HugepageLimit> hugepage_limits;
  // linux.resources.network: cgroup v1 net_cls.classid and net_prio.ifpriomap lines.
  struct Network {
    bool operator==(const Network&) const = default;
    std::optional<uint32_t> class_id;
    struct Priority {
      bool operator==(const Priority&) const = default;
      std::string name;  // an interface name (IFNAMSIZ-1 characters at most)
      uint32_t priority = 0;
    };
    std::vector<Priority> priorities;
    bool empty() const { return !class_id && priorities.empty(); }
  };
  std::optional<Network> network;
  bool has_rdma = false;
  std::map<std::string, std::string> unified;
  bool empty() const {
    return !memory && !cpu && !pids_limit && !block_io && hugepage_limits.empty() && !network &&
           !has_rdma && unified.empty();
  }
};

struct Personality {
  bool operator==(const Personality&) const = default;
  std::string domain;  // LINUX, LINUX32
  std::vector<std::string> flags;
};

struct Linux {
  bool operator==(const Linux&) const = default;
  std::vector<Namespace> namespaces;
  std::vector<IdMapping> uid_mappings, gid_mappings;
  std::map<std::string, int64_t> time_offsets_secs, time_offsets_nanosecs;  // monotonic, boottime
  std::vector<Device> devices;
  std::string cgroups_path;
  std::optional<Resources> resources;
  std::optional<Seccomp> seccomp;
  std::string rootfs_propagation;
  std::vector<std::string> masked_paths, readonly_paths;
  std::string mount_label;
  std::map<std::string, std::string> sysctl;
  std::optional<Personality> personality;
  bool has_intel_rdt = false;

  const Namespace* find_ns(NsType t) const {
    for (auto& n : namespaces)
      if (n.type == t) return &n;
    return nullptr;
  }
  // A namespace of this type made for the container (listed, without a path to join).
  bool own_ns(NsType t) const {
    auto* n = find_ns(t);
    return n && n->path.empty();
  }
};

struct Config {
  bool operator==(const Config&) const = default;
  std::string oci_version;
  Root root;
  std::optional<Process> process;
  std::string hostname, domainname;
  std::vector<Mount> mounts;
  Hooks hooks;
  std::map<std::string, std::string> annotations;
  Linux linux;
  bool has_linux = false;
};

// Parses and validates config text. `name` is used in error messages ("config.json").
// Throws nook::Error with "NAME: /json/pointer: reason".
// `read_by_dom`, when given, says whether the mounts went through the DOM reading below
// (an entry of a shape the fast reader leaves to it) rather than the SAX reader.
Config parse_config(std::string_view text, const std::string& name = "config.json",
                    bool* read_by_dom = nullptr);

// The same reading through the whole-document DOM only: the reference parse_config falls back
// to for any mounts entry its SAX reader does not read itself (unit tests compare the two).
Config parse_config_dom(std::string_view text, const std::string& name = "config.json");

// Parses a process JSON (runc exec --process) with the same rules.
Process parse_process(std::string_view text, const std::string& name = "process.json");

// Reads BUNDLE/config.json (or `file`, crun's --config, when not empty), parses it and
// resolves root.path against the bundle. `raw` receives the file's bytes (kept for the state
// directory).
Config load_bundle_config(const std::string& bundle, std::string* raw = nullptr,
                          const std::string& file = {});

// The IDs nook runs as, maps or gives a file: 0..2^31-1, as runc (moby/sys/user). Above, an ID
// is -1 to setresuid/chown ("leave it unchanged": uid 4294967295 would run as root) or negative
// to whoever reads it as a signed number.
inline constexpr uint32_t kMaxId = 2147483647;
inline constexpr const char* kIdRangeRule = "uids and gids must be in range 0-2147483647";

// The runtime-spec versions: nook implements 1.3.0 (its state documents, `nook spec` and
// features' ociVersionMax say so) and accepts every 1.x config.json.
inline constexpr const char* kOciVersionMin = "1.0.0";
inline constexpr const char* kOciVersion = "1.3.0";
inline constexpr unsigned kOciVersionMinor = 3;  // kOciVersion's minor

// True if `v` is a 1.x version: MAJOR.MINOR.PATCH in decimal digits, then nothing or a
// pre-release ("-dev", "-rc.1") or build ("+dev") suffix (semver), e.g. "1.0.2-dev".
bool oci_version_supported(const std::string& v);
// True if `v` (supported) is of a minor version after kOciVersion's: create warns once.
bool oci_version_newer(const std::string& v);

}  // namespace nook
