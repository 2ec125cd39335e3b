// nook update: change a container's resource limits (runc's flags; -r FILE or -r - for a
// runtime-spec linux.resources object). The flags become that object; src/lib/update.cpp
// merges, checks and applies it.
#include "update.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "error.hpp"
#include "fileio.hpp"
#include "log.hpp"

namespace nook::cli {
namespace {

using json = nlohmann::json;

struct UpdateFlags {
  std::string resources, memory, memory_reservation, memory_swap, kernel_memory, kernel_memory_tcp,
      cpuset_cpus, cpuset_mems, l3_cache_schema, mem_bw_schema;
  std::optional<uint64_t> cpu_shares, cpu_period, cpu_rt_period, blkio_weight;
  std::optional<int64_t> cpu_quota, cpu_rt_runtime, pids_limit;
};

std::string read_stdin() {
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(0, buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_sys("read", "standard input");
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

json changes_of(const UpdateFlags& f) {
  if (!f.l3_cache_schema.empty() || !f.mem_bw_schema.empty())
    fail("--l3-cache-schema and --mem-bw-schema need Intel RDT, which nook does not support");
  json r = json::object();
  if (!f.resources.empty()) {
    std::string text = f.resources == "-" ? read_stdin() : read_file_or_throw(f.resources);
    r = json::parse(text, nullptr, false);
    if (!r.is_object())
      fail("-r " + f.resources + ": not a JSON object (runtime-spec linux.resources)");
  }
  // The flags override the file, as in runc.
  auto mem = [&](const std::string& v, const char* flag, const char* key) {
    if (!v.empty()) r["memory"][key] = parse_ram_size(v, flag);
  };
  mem(f.memory, "--memory", "limit");
  mem(f.memory_reservation, "--memory-reservation", "reservation");
  mem(f.memory_swap, "--memory-swap", "swap");
  if (!f.kernel_memory.empty() || !f.kernel_memory_tcp.empty())
    log::warn(
        "--kernel-memory and --kernel-memory-tcp ignored: deprecated by the kernel (as runc)");
  if (f.cpu_shares) r["cpu"]["shares"] = *f.cpu_shares;
  if (f.cpu_quota) r["cpu"]["quota"] = *f.cpu_quota;
  if (f.cpu_period) r["cpu"]["period"] = *f.cpu_period;
  if (f.cpu_rt_runtime) r["cpu"]["realtimeRuntime"] = *f.cpu_rt_runtime;
  if (f.cpu_rt_period) r["cpu"]["realtimePeriod"] = *f.cpu_rt_period;
  if (!f.cpuset_cpus.empty()) r["cpu"]["cpus"] = f.cpuset_cpus;
  if (!f.cpuset_mems.empty()) r["cpu"]["mems"] = f.cpuset_mems;
  if (f.pids_limit) r["pids"]["limit"] = *f.pids_limit;
  if (f.blkio_weight) r["blockIO"]["weight"] = *f.blkio_weight;
  if (r.empty()) fail("update: nothing to change (give -r FILE or a resource flag)");
  return r;
}

Verb reg("update", [](CLI::App& app, Globals& g) -> std::function<void()> {
  auto* sub = add_verb(app, "update", "change the resource limits of a container");
  static UpdateFlags f;
  static std::string id;
  sub->add_option("-r,--resources", f.resources,
                  "JSON file (or - for stdin) with runtime-spec linux.resources");
  sub->add_option("--memory", f.memory, "memory limit (bytes, or 64m, 1g; -1 unlimited)");
  sub->add_option("--memory-reservation", f.memory_reservation, "memory soft limit");
  sub->add_option("--memory-swap", f.memory_swap, "memory plus swap limit");
  sub->add_option("--kernel-memory", f.kernel_memory, "accepted and ignored, as runc does");
  sub->add_option("--kernel-memory-tcp", f.kernel_memory_tcp, "accepted and ignored, as runc does");
  sub->add_option("--cpu-shares", f.cpu_shares, "CPU shares (relative weight)");
  sub->add_option("--cpu-quota", f.cpu_quota, "CPU CFS quota in microseconds (-1 unlimited)");
  sub->add_option("--cpu-period", f.cpu_period, "CPU CFS period in microseconds");
  sub->add_option("--cpu-rt-runtime", f.cpu_rt_runtime, "real-time runtime in microseconds");
  sub->add_option("--cpu-rt-period", f.cpu_rt_period, "real-time period in microseconds");
  sub->add_option("--cpuset-cpus", f.cpuset_cpus, "CPUs to use (0-3, 0,1)");
  sub->add_option("--cpuset-mems", f.cpuset_mems, "memory nodes to use (0-3, 0,1)");
  sub->add_option("--pids-limit", f.pids_limit, "maximum number of processes (-1 unlimited)");
  sub->add_option("--blkio-weight", f.blkio_weight, "block IO weight (10 to 1000)");
  sub->add_option("--l3-cache-schema", f.l3_cache_schema, "refused: no Intel RDT");
  sub->add_option("--mem-bw-schema", f.mem_bw_schema, "refused: no Intel RDT");
  sub->add_option("id", id, "container ID")->required();
  return [&g] { container_update(g.state_root(), id, changes_of(f)); };
});
}  // namespace
}  // namespace nook::cli
