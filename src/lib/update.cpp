// nook update (update.hpp): merge, check, write to the cgroup, keep.
#include "update.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdlib>

#include "cgroup.hpp"
#include "config.hpp"
#include "container.hpp"
#include "error.hpp"
#include "log.hpp"

namespace nook {

using json = nlohmann::json;

int64_t parse_ram_size(const std::string& value, const std::string& flag) {
  if (value == "-1") return -1;
  auto bad = [&] {
    fail(flag + " \"" + value + "\": a size in bytes, optionally with k, m, g, t or p (1024s)");
  };
  size_t i = 0;
  while (i < value.size() &&
         (std::isdigit(static_cast<unsigned char>(value[i])) || value[i] == '.'))
    i++;
  if (i == 0 || i > 24) bad();
  char* end = nullptr;
  double n = std::strtod(value.substr(0, i).c_str(), &end);
  if (!end || *end) bad();
  std::string unit = value.substr(i);
  if (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  if (!unit.empty() && (unit.back() == 'b' || unit.back() == 'B')) unit.pop_back();
  double mult = 1;
  if (unit.size() == 1) {
    const char* units = "kmgtp";
    const char* at = std::strchr(units, std::tolower(static_cast<unsigned char>(unit[0])));
    if (!at) bad();
    mult = std::pow(1024.0, static_cast<double>(at - units + 1));
  } else if (!unit.empty()) {
    bad();
  }
  double bytes = std::floor(n * mult);
  if (!(bytes >= 0 && bytes <= 9223372036854775807.0)) bad();
  return static_cast<int64_t>(bytes);
}

void container_update(const std::string& root, const std::string& id, const json& changes) {
  if (!changes.is_object()) fail("update: the resources must be a JSON object");
  // What runc's update changes; the rest (devices, network, hugepageLimits, rdma) are set at
  // create only.
  for (auto& [key, value] : changes.items())
    if (key != "memory" && key != "cpu" && key != "pids" && key != "blockIO" && key != "unified")
      fail("update: linux.resources." + key +
           " cannot be updated (memory, cpu, pids, blockIO and unified can)");
  Loaded c = container_load(root, id, true);
  if (c.status == Status::stopped) fail("container \"" + id + "\" is not running");
  if (c.state.cgroup.empty())
    fail("update needs the container's cgroup; container \"" + id +
         "\" has none (nook could not create one for uid " + std::to_string(geteuid()) + ")");
  const std::string stored = c.dir.path() + "/config.json";
  json doc = json::parse(c.dir.read_file("config.json"), nullptr, false);
  if (!doc.is_object()) fail(stored + ": not a JSON object");
  // The merged document: each resource object the update names is merged, key by key, into
  // the stored one (memory: {limit} keeps the stored swap), then the whole config is checked
  // as at create, with the same ranges.
  json& res = doc["linux"]["resources"];
  if (res.is_null()) res = json::object();
  json applied = json::object();
  for (auto& [key, value] : changes.items()) {
    if (value.is_object() && res.contains(key) && res[key].is_object())
      res[key].merge_patch(value);
    else
      res[key] = value;
  }
  std::string merged = doc.dump(2);
  parse_config(merged, "update of " + stored);
  // Written: the merged objects the update named (a period with its stored quota, a swap with
  // its stored limit), not the others, nor the device rules.
  for (auto& [key, value] : changes.items()) applied[key] = res[key];
  json part = doc;
  part["linux"]["resources"] = applied;
  Config only = parse_config(part.dump(), "update of " + stored);
  only.linux.devices.clear();
  if (only.linux.resources) only.linux.resources->devices.clear();
  CgroupPlacement before = c.state.cgroup;
  cgroup_update(c.state.cgroup, only.linux);
  c.dir.write_file("config.json", merged);
  if (c.state.cgroup.v1 != before.v1) c.dir.write_state(c.state);  // hierarchies joined
  log::debug("container " + id + ": resources updated: " + applied.dump());
}

}  // namespace nook
