// `nook update`: new resource limits for a running (or created, or paused) container, as runc's
// update: written into its cgroup and into the config.json kept in its state directory, so that
// a second update composes with the first.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace nook {

// Applies `changes`, a runtime-spec linux.resources object (what `update -r FILE` reads and
// what the flags are turned into), to container `id`: the resource objects it names (memory,
// cpu, pids, blockIO, ...) are merged into the stored config's, the merged config is checked
// as create checks it, and the merged objects are written to the cgroup. Throws nook::Error
// (stopped container, no cgroup, a value out of range, a write the kernel refuses).
void container_update(const std::string& root, const std::string& id,
                      const nlohmann::json& changes);

// runc's sizes for --memory and friends (docker's RAMInBytes): "1048576", "64m", "1.5G",
// "512kb"; binary multiples, case-insensitive; "-1" is unlimited. Throws nook::Error naming
// `flag` otherwise.
int64_t parse_ram_size(const std::string& value, const std::string& flag);

}  // namespace nook
