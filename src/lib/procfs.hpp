// What nook reads from /proc about a process (parent side, before anything enters a
// container: these are kernel facts, read through nook's own /proc). /proc/PID/stat is read
// by the state code (state.hpp: proc_start_time).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"

namespace nook {

// /proc/PID/uid_map or gid_map text -> mappings (inside, outside, count); lines that do not
// parse are skipped.
std::vector<IdMapping> parse_id_map(std::string_view text);

// /proc/PID/{uid,gid}_map of `pid_dir` ("/proc/self", "/proc/123"); throws on a read error.
std::vector<IdMapping> read_id_map(const std::string& pid_dir, const char* file);

// The caller's /proc/self/uid_map; empty when it cannot be read.
std::vector<IdMapping> own_uid_map();

// The map of the initial user namespace: 0 0 4294967295.
bool is_initial_map(const std::vector<IdMapping>& map);

}  // namespace nook
