// A container's resource statistics, read from its cgroup files, in the form of runc's
// `events` data object (the one containerd's go-runc decodes: cpu, memory, pids, blkio,
// hugetlb). Parent side, no privileges beyond reading the container's cgroup.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "cgroup.hpp"

namespace nook {

// The "data" object of a runc "stats" event. A controller the placement has no files for is
// left at runc's zero values (as runc reports a controller it does not use).
nlohmann::json cgroup_stats(const CgroupPlacement& p);

// How many times the kernel's OOM killer has killed in the container's cgroup so far
// (memory.events on cgroup v2, memory.oom_control on v1); 0 without a memory controller.
uint64_t cgroup_oom_kills(const CgroupPlacement& p);

// The pure parts (unit-tested): "key value" lines (cpu.stat, memory.stat, memory.events) to
// the value of `key`, or nullopt; a limit file's text ("max\n" or a number) to its value,
// "max" being UINT64_MAX as in runc.
std::optional<uint64_t> stat_field(std::string_view text, std::string_view key);
uint64_t limit_value(std::string_view text);
// cgroup v2 io.stat ("8:0 rbytes=1 wbytes=2 rios=3 wios=4 ...") to runc's blkio object
// (ioServiceBytesRecursive and ioServicedRecursive, ops "Read" and "Write").
nlohmann::json io_stat_blkio(std::string_view text);

}  // namespace nook
