// What the files of the config reader share (config.cpp: the document, the top level and
// mounts; config_process.cpp: process; config_linux.cpp: linux): the JSON type, the limits and
// the Reader that turns a JSON value into a typed one or an error naming file and pointer.
// Not an interface for other modules (config.hpp is).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config.hpp"
#include "error.hpp"

namespace nook::config_detail {

// ordered_json: an object is one vector of members, not a tree of nodes: the parsed config
// takes about half the heap pages (each page first touched is a fault; docs/performance.md).
using json = nlohmann::ordered_json;

// The largest config.json nook reads, and the deepest nesting it accepts. Real configs are
// tens of kilobytes and nest about six levels; the limits keep hostile input from costing
// gigabytes or the stack.
constexpr size_t kMaxConfigBytes = 16u << 20;
constexpr int kMaxDepth = 64;

// What the kernel takes, for the numbers below that have a fixed range.
constexpr int64_t kMaxMajor = 4095;                 // dev_t: 12 bits of major
constexpr int64_t kMaxMinor = 1048575;              // and 20 of minor (new_decode_dev)
constexpr int64_t kMaxCfsQuota = (1ll << 44) - 1;   // us; the scheduler's MAX_BW
constexpr int64_t kMaxPids = 4194304;               // PID_MAX_LIMIT: pids.max takes 0..this
constexpr int64_t kMaxTimensSecs = 9223372036 / 2;  // KTIME_SEC_MAX / 2 (timens_offsets)
constexpr size_t kMaxIdExtents = 340;               // lines of a uid_map/gid_map
constexpr size_t kMaxGroups = 65536;                // NGROUPS_MAX, for setgroups()

class Reader {
 public:
  explicit Reader(const std::string& file) : file_(file) {}

  [[noreturn]] void bad(const std::string& ptr, const std::string& reason) const {
    throw Error(file_ + ": " + (ptr.empty() ? "/" : ptr) + ": " + reason);
  }

  // `j` as JSON, cut to 40 characters, for messages.
  static std::string show(const json& j);

  [[noreturn]] void expected(const std::string& ptr, const char* what, const json& j) const {
    bad(ptr, std::string("expected ") + what + ", got " + show(j));
  }

  const json& object(const json& j, const std::string& ptr) const {
    if (!j.is_object()) expected(ptr, "an object", j);
    return j;
  }
  const json& array(const json& j, const std::string& ptr) const {
    if (!j.is_array()) expected(ptr, "an array", j);
    return j;
  }
  std::string str(const json& j, const std::string& ptr) const {
    if (!j.is_string()) expected(ptr, "a string", j);
    return j.get<std::string>();
  }
  bool boolean(const json& j, const std::string& ptr) const {
    if (!j.is_boolean()) expected(ptr, "a boolean", j);
    return j.get<bool>();
  }
  uint64_t u64(const json& j, const std::string& ptr) const {
    if (j.is_number_unsigned()) return j.get<uint64_t>();
    if (j.is_number_integer()) {
      if (j.get<int64_t>() >= 0) return static_cast<uint64_t>(j.get<int64_t>());
      expected(ptr, "a non-negative integer", j);
    }
    expected(ptr, "a non-negative integer", j);
  }
  // An integer within [lo, hi], or "V is out of range: RULE" (RULE by default "must be between
  // LO and HI"). Every number nook passes to the kernel goes through here (or in_range_or_zero)
  // with the range the kernel interface accepts, so that nothing is truncated or wraps on the
  // way (a blkio weight of 65636 was 100 as a uint16).
  int64_t in_range(const json& j, const std::string& ptr, int64_t lo, int64_t hi,
                   const std::string& rule = {}) const {
    if (!j.is_number_integer()) expected(ptr, lo >= 0 ? "a non-negative integer" : "an integer", j);
    bool ok;
    int64_t v = 0;
    if (j.is_number_unsigned()) {
      uint64_t u = j.get<uint64_t>();
      ok = hi >= 0 && u <= static_cast<uint64_t>(hi) && static_cast<int64_t>(u) >= lo;
      v = static_cast<int64_t>(u);
    } else {
      v = j.get<int64_t>();
      ok = v >= lo && v <= hi;
    }
    if (!ok) out_of_range(ptr, j, rule.empty() ? between(lo, hi) : rule);
    return v;
  }
  // 0 ("unset", as runc reads these) or an integer within [lo, hi].
  int64_t in_range_or_zero(const json& j, const std::string& ptr, int64_t lo, int64_t hi) const {
    std::string rule =
        "must be 0 (unset) or between " + std::to_string(lo) + " and " + std::to_string(hi);
    int64_t v = in_range(j, ptr, 0, hi, rule);
    if (v != 0 && v < lo) out_of_range(ptr, j, rule);
    return v;
  }
  uint32_t u32(const json& j, const std::string& ptr) const {
    return static_cast<uint32_t>(in_range(j, ptr, 0, UINT32_MAX));
  }
  // A uid or gid (process.user, additionalGids, mappings, device owners).
  uint32_t id(const json& j, const std::string& ptr) const {
    return static_cast<uint32_t>(in_range(j, ptr, 0, kMaxId, kIdRangeRule));
  }
  [[noreturn]] void out_of_range(const std::string& ptr, const json& j,
                                 const std::string& rule) const {
    bad(ptr, show(j) + " is out of range: " + rule);
  }
  static std::string between(int64_t lo, int64_t hi) {
    return "must be between " + std::to_string(lo) + " and " + std::to_string(hi);
  }
  std::vector<std::string> strings(const json& j, const std::string& ptr) const {
    array(j, ptr);
    std::vector<std::string> out;
    out.reserve(j.size());
    for (size_t i = 0; i < j.size(); i++) out.push_back(str(j[i], ptr + "/" + std::to_string(i)));
    return out;
  }
  std::map<std::string, std::string> string_map(const json& j, const std::string& ptr) const {
    object(j, ptr);
    std::map<std::string, std::string> out;
    for (auto& [k, v] : j.items()) out[k] = str(v, ptr + "/" + escape(k));
    return out;
  }
  // JSON pointer escaping of one key.
  static std::string escape(const std::string& k) {
    std::string out;
    for (char c : k) {
      if (c == '~')
        out += "~0";
      else if (c == '/')
        out += "~1";
      else
        out += c;
    }
    return out;
  }
  // Looks up an optional member; returns nullptr when absent or null.
  static const json* get(const json& obj, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
  }
  // Looks up a required member of `obj` (at `ptr`): absent or null is an error.
  const json& required(const json& obj, const char* key, const std::string& ptr) const {
    const json* v = get(obj, key);
    if (!v) bad(ptr + "/" + key, "required property is missing");
    return *v;
  }

 private:
  const std::string& file_;
};

inline std::string join(const std::string& a, const char* b) {
  return a + "/" + b;
}
inline std::string idx(const std::string& a, size_t i) {
  return a + "/" + std::to_string(i);
}

inline void require_absolute(const Reader& r, const std::string& p, const std::string& ptr) {
  if (p.empty() || p[0] != '/') r.bad(ptr, "path \"" + p + "\" must be absolute");
}

// linux.uidMappings / gidMappings and a mount's: extents, each in range, none overlapping.
std::vector<IdMapping> parse_mappings(const Reader& r, const json& j, const std::string& ptr);

// process (config.json) or the whole of process.json (exec --process) (config_process.cpp).
Process parse_process_json(const Reader& r, const json& j, const std::string& ptr);

// linux, validated for this host's kernel limits (config_linux.cpp).
Linux parse_linux(const Reader& r, const json& j, const std::string& ptr);

}  // namespace nook::config_detail
