// cgroups, the systemd driver (--systemd-cgroup, --cgroup-manager systemd): the container's
// cgroup is a transient unit that systemd makes and owns, asked for over D-Bus, as runc and
// crun do on systemd hosts. As root through the system bus, unprivileged (or root in a user
// namespace: rootless Podman's runtime) through the caller's user bus. A scope holds the
// container's process (a slice, when the name ends in ".slice", gets it from nook); the unit has
// Delegate=yes and the resource properties systemd has (MemoryMax, TasksMax, CPUWeight, ...);
// then every planned resource is written into the unit's cgroup as the cgroupfs driver would
// (the ones systemd has no property for, and the same values again for the others). Deleting
// the container stops the unit.
//
// D-Bus is sd-bus from libsystemd.so.0, loaded with dlopen() the first time the driver is used:
// Debian ships no static libsystemd, the static libdbus-1 cannot authenticate from inside a user
// namespace (it sends its euid, 0 there, which the bus refuses), and the cgroupfs driver must not
// pay for any of it. A static binary may only load a shared glibc of its own version (the
// loader's private structures are shared), so the host's libc.so.6 is checked first. When no
// systemd is reachable (no libsystemd, another glibc, no bus, no systemd on it), one warning
// says why and the cgroupfs driver places the container (docs/cgroups.md, "Drivers").
#include <dlfcn.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdint>

#include "cgroup.hpp"
#include "cgroup_internal.hpp"
#include "error.hpp"
#include "fd.hpp"
#include "hostlib.hpp"
#include "log.hpp"

namespace nook {
using namespace cgroup_internal;
namespace {

// ---------------------------------------------------------------------------------------------
// sd-bus, as much of its API (sd-bus.h, stable since systemd 221) as the driver calls.

struct sd_bus;
struct sd_bus_message;
struct sd_bus_slot;
struct sd_bus_error {
  const char* name = nullptr;
  const char* message = nullptr;
  int need_free = 0;
};
using sd_bus_message_handler_t = int (*)(sd_bus_message*, void*, sd_bus_error*);

struct SdBus {
  int (*open_system)(sd_bus**);
  int (*open_user)(sd_bus**);
  sd_bus* (*flush_close_unref)(sd_bus*);
  int (*new_method_call)(sd_bus*, sd_bus_message**, const char*, const char*, const char*,
                         const char*);
  int (*append)(sd_bus_message*, const char*, ...);
  int (*append_array)(sd_bus_message*, char, const void*, size_t);
  int (*open_container)(sd_bus_message*, char, const char*);
  int (*close_container)(sd_bus_message*);
  int (*read)(sd_bus_message*, const char*, ...);
  sd_bus_message* (*message_unref)(sd_bus_message*);
  int (*call)(sd_bus*, sd_bus_message*, uint64_t, sd_bus_error*, sd_bus_message**);
  int (*match_signal)(sd_bus*, sd_bus_slot**, const char*, const char*, const char*, const char*,
                      sd_bus_message_handler_t, void*);
  int (*process)(sd_bus*, sd_bus_message**);
  int (*wait)(sd_bus*, uint64_t);
  void (*error_free)(sd_bus_error*);
};

// Loads sd-bus once; nullptr and the reason when it cannot be used.
const SdBus* load_sd_bus(std::string* why) {
  static std::string reason;
  static const SdBus* bus = [&]() -> const SdBus* {
    void* lib = open_host_library("libsystemd.so.0", &reason);
    if (!lib) return nullptr;
    static SdBus b;
    bool ok = true;
    auto sym = [&](auto& fn, const char* name) {
      ok = host_symbol(lib, fn, "libsystemd.so.0", name, &reason) && ok;
    };
    sym(b.open_system, "sd_bus_open_system");
    sym(b.open_user, "sd_bus_open_user");
    sym(b.flush_close_unref, "sd_bus_flush_close_unref");
    sym(b.new_method_call, "sd_bus_message_new_method_call");
    sym(b.append, "sd_bus_message_append");
    sym(b.append_array, "sd_bus_message_append_array");
    sym(b.open_container, "sd_bus_message_open_container");
    sym(b.close_container, "sd_bus_message_close_container");
    sym(b.read, "sd_bus_message_read");
    sym(b.message_unref, "sd_bus_message_unref");
    sym(b.call, "sd_bus_call");
    sym(b.match_signal, "sd_bus_match_signal");
    sym(b.process, "sd_bus_process");
    sym(b.wait, "sd_bus_wait");
    sym(b.error_free, "sd_bus_error_free");
    return ok ? &b : nullptr;
  }();
  if (!bus && why) *why = reason;
  return bus;
}

// Whether this process talks to the system instance of systemd: uid 0 in the initial user
// namespace. Root in another user namespace (rootless Podman's runtime) is the user it maps to,
// and asks that user's systemd, as crun does.
bool system_instance() {
  if (geteuid() != 0) return false;
  auto m = read_file("/proc/self/uid_map");
  if (!m) return true;
  auto f = split(trim(*m), ' ');
  std::vector<std::string> words;
  for (auto& w : f)
    if (!w.empty()) words.push_back(w);
  return words.size() == 3 && words[0] == "0" && words[1] == "0" && words[2] == "4294967295";
}

constexpr const char* kDest = "org.freedesktop.systemd1";
constexpr const char* kPath = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";
constexpr uint64_t kJobTimeoutUs = 30'000'000;

// One connection to systemd, with the JobRemoved signals of the jobs it starts.
class Systemd {
 public:
  Systemd(const SdBus& sd, bool system) : sd_(sd), system_(system) {}
  ~Systemd() {
    if (bus_) sd_.flush_close_unref(bus_);
  }
  Systemd(const Systemd&) = delete;
  Systemd& operator=(const Systemd&) = delete;

  // 0 or a negative errno.
  int connect() {
    int r = system_ ? sd_.open_system(&bus_) : sd_.open_user(&bus_);
    if (r < 0) {
      bus_ = nullptr;
      return r;
    }
    return sd_.match_signal(bus_, nullptr, kDest, kPath, kManager, "JobRemoved", on_job_removed,
                            this);
  }
  const char* bus_name() const { return system_ ? "system bus" : "user bus"; }

  // Calls a Manager method; fills `m` with the arguments. The reply's job object path, or an
  // error (the D-Bus error name in *err_name).
  struct Call {
    sd_bus_message* m = nullptr;
    const SdBus& sd;
    explicit Call(const SdBus& s) : sd(s) {}
    ~Call() {
      if (m) sd.message_unref(m);
    }
  };

  std::string job(Call& c, std::string* err_name, std::string* err_msg) {
    sd_bus_error e;
    sd_bus_message* reply = nullptr;
    int r = sd_.call(bus_, c.m, 0, &e, &reply);
    std::string path;
    if (r < 0) {
      *err_name = e.name ? e.name : "";
      *err_msg = e.message ? e.message : std::strerror(-r);
    } else {
      const char* o = nullptr;
      if (sd_.read(reply, "o", &o) >= 0 && o) path = o;
    }
    sd_.error_free(&e);
    if (reply) sd_.message_unref(reply);
    return path;
  }

  void new_call(Call& c, const char* method) {
    int r = sd_.new_method_call(bus_, &c.m, kDest, kPath, kManager, method);
    if (r < 0) throw Error(sys_message("sd-bus: new call", method, -r), -r);
  }

  // Waits until systemd reports job `path` finished; its result ("done", "failed", ...).
  std::string wait_job(const std::string& path) {
    waiting_ = path;
    result_.clear();
    auto deadline = Clock::now() + std::chrono::microseconds(kJobTimeoutUs);
    while (result_.empty()) {
      int r = sd_.process(bus_, nullptr);
      if (r < 0) throw Error(sys_message("sd-bus: process", bus_name(), -r), -r);
      if (r > 0) continue;
      if (Clock::now() > deadline) return "timeout";
      r = sd_.wait(bus_, 100'000);
      if (r < 0 && r != -EINTR) throw Error(sys_message("sd-bus: wait", bus_name(), -r), -r);
    }
    return result_;
  }

  const SdBus& sd() const { return sd_; }

 private:
  static int on_job_removed(sd_bus_message* m, void* self_, sd_bus_error*) {
    auto* self = static_cast<Systemd*>(self_);
    uint32_t id = 0;
    const char *path = nullptr, *unit = nullptr, *result = nullptr;
    if (self->sd_.read(m, "uoss", &id, &path, &unit, &result) < 0) return 0;
    if (path && result && self->waiting_ == path) self->result_ = result;
    return 0;
  }

  const SdBus& sd_;
  bool system_;
  sd_bus* bus_ = nullptr;
  std::string waiting_, result_;
};

void check(int r, const char* what) {
  if (r < 0) throw Error(sys_message("sd-bus: append", what, -r), -r);
}

// The unit properties for the resources systemd has, with runc's conversions (the same values
// the cgroupfs plan writes, so both agree).
void append_resources(const SdBus& sd, sd_bus_message* m, const Resources& r) {
  auto u64 = [&](const char* name, uint64_t v) { check(sd.append(m, "(sv)", name, "t", v), name); };
  auto yes = [&](const char* name) { check(sd.append(m, "(sv)", name, "b", 1), name); };
  constexpr uint64_t kInfinity = UINT64_MAX;
  if (r.memory) {
    auto& mem = *r.memory;
    if (mem.limit || mem.reservation || mem.swap) yes("MemoryAccounting");
    if (mem.limit) u64("MemoryMax", *mem.limit < 0 ? kInfinity : static_cast<uint64_t>(*mem.limit));
    if (mem.reservation)
      u64("MemoryLow", *mem.reservation < 0 ? kInfinity : static_cast<uint64_t>(*mem.reservation));
    if (mem.swap && *mem.swap != 0 && mem.limit && *mem.limit > 0) {
      if (*mem.swap < 0)
        u64("MemorySwapMax", kInfinity);
      else if (*mem.swap >= *mem.limit)
        u64("MemorySwapMax", static_cast<uint64_t>(*mem.swap - *mem.limit));
    }
  }
  if (r.pids_limit) {
    yes("TasksAccounting");
    u64("TasksMax", *r.pids_limit > 0 ? static_cast<uint64_t>(*r.pids_limit) : kInfinity);
  }
  if (r.cpu) {
    auto& c = *r.cpu;
    if ((c.shares && *c.shares) || (c.quota && *c.quota > 0)) yes("CPUAccounting");
    if (c.shares && *c.shares >= 2) u64("CPUWeight", 1 + ((*c.shares - 2) * 9999) / 262142);
    if (c.quota && *c.quota > 0 && c.period && *c.period) {
      // runc: quota per second of CPU time, rounded up to 10 ms (systemd's granularity).
      uint64_t q = static_cast<uint64_t>(*c.quota) * 1000000 / *c.period;
      if (q % 10000) q = (q / 10000 + 1) * 10000;
      u64("CPUQuotaPerSecUSec", q);
      u64("CPUQuotaPeriodUSec", *c.period);
    }
    auto bytes = [&](const char* name, const std::vector<uint8_t>& v) {
      check(sd.open_container(m, 'r', "sv"), name);
      check(sd.append(m, "s", name), name);
      check(sd.open_container(m, 'v', "ay"), name);
      check(sd.append_array(m, 'y', v.data(), v.size()), name);
      check(sd.close_container(m), name);
      check(sd.close_container(m), name);
    };
    if (!c.cpus.empty()) bytes("AllowedCPUs", cgroup_cpu_mask(c.cpus, "cpus"));
    if (!c.mems.empty()) bytes("AllowedMemoryNodes", cgroup_cpu_mask(c.mems, "mems"));
  }
  if (r.block_io && r.block_io->weight && *r.block_io->weight) {
    yes("IOAccounting");
    u64("IOWeight", 1 + (*r.block_io->weight - 10) * 9999 / 990);
  }
}

// Starts the unit; "" when done, else the error text. `resources` false: only the basic
// properties (for a systemd too old for one of the resource properties).
std::string start_unit(Systemd& sd, const CgroupSystemdUnit& u, const std::string& id, pid_t pid,
                       const Resources& res, bool resources) {
  const SdBus& b = sd.sd();
  for (int attempt = 0; attempt < 2; attempt++) {
    Systemd::Call c(b);
    sd.new_call(c, "StartTransientUnit");
    check(b.append(c.m, "ss", u.name.c_str(), "fail"), "name");
    check(b.open_container(c.m, 'a', "(sv)"), "properties");
    std::string desc = "nook container " + id;
    check(b.append(c.m, "(sv)", "Description", "s", desc.c_str()), "Description");
    if (!u.slice.empty()) check(b.append(c.m, "(sv)", "Slice", "s", u.slice.c_str()), "Slice");
    check(b.append(c.m, "(sv)", "Delegate", "b", 1), "Delegate");
    check(b.append(c.m, "(sv)", "DefaultDependencies", "b", 0), "DefaultDependencies");
    if (!u.is_slice)
      check(b.append(c.m, "(sv)", "PIDs", "au", 1, static_cast<uint32_t>(pid)), "PIDs");
    if (resources) append_resources(b, c.m, res);
    check(b.close_container(c.m), "properties");
    check(b.append(c.m, "a(sa(sv))", 0), "aux");
    std::string err_name, err_msg;
    std::string job = sd.job(c, &err_name, &err_msg);
    if (job.empty()) {
      // A failed unit of the same name is still loaded: reset it and try once more (crun).
      if (attempt == 0 && err_name == "org.freedesktop.systemd1.UnitExists") {
        Systemd::Call r(b);
        sd.new_call(r, "ResetFailedUnit");
        check(b.append(r.m, "s", u.name.c_str()), "name");
        std::string n, msg;
        sd.job(r, &n, &msg);
        continue;
      }
      return "StartTransientUnit " + u.name + " on the " + sd.bus_name() + ": " + err_msg;
    }
    std::string result = sd.wait_job(job);
    if (result != "done")
      return "systemd job starting " + u.name + " on the " + sd.bus_name() + ": " + result;
    return "";
  }
  return "StartTransientUnit " + u.name + ": unit exists";
}

// The cgroup v2 directory of `pid` (the unit's, once systemd moved it).
std::string v2_dir_of(pid_t pid) {
  const Host& h = host();
  if (!h.v2) return "";
  std::string f = "/proc/" + std::to_string(pid) + "/cgroup";
  for (auto& [k, path] : cgroup_parse_proc(read_file_or_throw(f)))
    if (k.empty()) return cgroup_dir(*h.v2, path);
  return "";
}

void warn_fallback(const std::string& why) {
  log::warn("systemd cgroup driver unavailable: " + why + "; using the cgroupfs driver");
}

}  // namespace

std::optional<CgroupPlacement> cgroup_systemd_enter(const std::string& id, const Linux& linux,
                                                    pid_t pid) {
  bool system = system_instance();
  CgroupSystemdUnit u = cgroup_systemd_unit(id, linux.cgroups_path, system);
  std::string why;
  const SdBus* b = load_sd_bus(&why);
  if (!b) {
    warn_fallback(why);
    return std::nullopt;
  }
  Systemd sd(*b, system);
  if (int r = sd.connect(); r < 0) {
    warn_fallback(sys_message("cannot connect to the", sd.bus_name(), -r));
    return std::nullopt;
  }
  static const Resources kNone;
  const Resources& res = linux.resources ? *linux.resources : kNone;
  auto t0 = Clock::now();
  std::string err = start_unit(sd, u, id, pid, res, true);
  if (!err.empty() && err.find("Cannot set property") != std::string::npos) {
    // An older systemd without one of the resource properties: the unit without them; the
    // resources are written into its cgroup below anyway.
    log::debug(err + "; starting it without resource properties");
    err = start_unit(sd, u, id, pid, res, false);
  }
  if (!err.empty()) {
    // A bus without systemd behind it (a container's own dbus-daemon, say).
    if (err.find("org.freedesktop.systemd1 was not provided") != std::string::npos ||
        err.find("ServiceUnknown") != std::string::npos) {
      warn_fallback(err);
      return std::nullopt;
    }
    fail(err);
  }
  CgroupPlacement p;
  p.systemd = true;
  if (u.is_slice) {
    // A slice holds no process of its own making: nook puts it there.
    const Host& h = host();
    if (h.v2) p.v2 = cgroup_dir(*h.v2, cgroup_systemd_path(linux.cgroups_path, id));
  } else {
    p.v2 = v2_dir_of(pid);
    // cgroup v1 (hybrid and v1 hosts): the hierarchies systemd placed the unit in.
    const Host& h = host();
    std::string f = "/proc/" + std::to_string(pid) + "/cgroup";
    for (auto& [key, path] : cgroup_parse_proc(read_file_or_throw(f))) {
      if (key.empty() || !ends_with(path, "/" + u.name)) continue;
      for (auto& m : h.v1) {
        std::string k;
        for (auto& c : m.controllers) k += (k.empty() ? "" : ",") + c;
        if (k == key) p.v1.push_back(cgroup_dir(m, path));
      }
    }
  }
  if (p.empty()) fail("systemd unit " + u.name + ": no cgroup directory for it");
  if (!p.v2.empty() && !ends_with(p.v2, "/" + u.name)) {
    std::string where = p.v2;
    p.v2.clear();
    if (p.v1.empty())
      fail("systemd unit " + u.name + ": process " + std::to_string(pid) + " is in " + where +
           ", not in the unit's cgroup");
  }
  try {
    if (u.is_slice) cgroup_join(p, pid);
    cgroup_apply(p, linux, /*strict=*/system);
  } catch (...) {
    try {
      cgroup_systemd_stop(p);
    } catch (const Error& e) {
      log::warn(e.what());
    }
    throw;
  }
  if (log::debug_enabled())
    log::debug(
        "cgroup: pid " + std::to_string(pid) + " in systemd unit " + u.name + " (" + p.v2 + ", " +
        std::to_string(
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count()) +
        " us)");
  return p;
}

void cgroup_systemd_stop(const CgroupPlacement& p) {
  const std::string& dir = !p.v2.empty() ? p.v2 : (p.v1.empty() ? std::string() : p.v1.front());
  auto slash = dir.rfind('/');
  if (slash == std::string::npos) return;
  std::string unit = dir.substr(slash + 1);
  std::string why;
  const SdBus* b = load_sd_bus(&why);
  if (!b) fail("cannot stop systemd unit " + unit + ": " + why);
  Systemd sd(*b, system_instance());
  if (int r = sd.connect(); r < 0)
    throw Error(
        sys_message("cannot stop systemd unit " + unit + ": connect to the", sd.bus_name(), -r),
        -r);
  Systemd::Call c(*b);
  sd.new_call(c, "StopUnit");
  check(b->append(c.m, "ss", unit.c_str(), "replace"), "StopUnit");
  std::string err_name, err_msg;
  std::string job = sd.job(c, &err_name, &err_msg);
  if (job.empty()) {
    // Gone already: a scope whose processes all exited is collected by systemd.
    if (err_name == "org.freedesktop.systemd1.NoSuchUnit") return;
    fail("StopUnit " + unit + " on the " + sd.bus_name() + ": " + err_msg);
  }
  std::string result = sd.wait_job(job);
  // A unit that failed stays loaded until reset.
  Systemd::Call r(*b);
  sd.new_call(r, "ResetFailedUnit");
  check(b->append(r.m, "s", unit.c_str()), "ResetFailedUnit");
  std::string n, m;
  sd.job(r, &n, &m);
  if (result != "done")
    fail("systemd job stopping " + unit + " on the " + sd.bus_name() + ": " + result);
}

}  // namespace nook
