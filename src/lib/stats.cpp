// Statistics for `nook events` (stats.hpp). cgroup v2 first, then the v1 hierarchies the
// container is in (a hybrid host has both: nook's v2 directory tracks the processes, the v1
// ones hold the controllers the resources needed).
#include "stats.hpp"

#include <dirent.h>
#include <unistd.h>

#include <charconv>
#include <limits>
#include <optional>

#include "fileio.hpp"

namespace nook {

using json = nlohmann::json;

namespace {

// Calls f(line) for each line of `text` (without its newline); f returns false to stop.
template <class F>
void each_line(std::string_view text, F f) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    if (!f(text.substr(pos, end - pos))) return;
    pos = end + 1;
  }
}

}  // namespace

std::optional<uint64_t> stat_field(std::string_view text, std::string_view key) {
  std::optional<uint64_t> out;
  each_line(text, [&](std::string_view line) {
    if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == ' ') {
      std::string_view v = line.substr(key.size() + 1);
      uint64_t n = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec == std::errc()) out = n;
    }
    return !out;
  });
  return out;
}

uint64_t limit_value(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  if (text == "max") return std::numeric_limits<uint64_t>::max();
  uint64_t n = 0;
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

json io_stat_blkio(std::string_view text) {
  json bytes = json::array(), ios = json::array();
  each_line(text, [&](std::string_view line) {
    unsigned long long major = 0, minor = 0;
    auto colon = line.find(':'), space = line.find(' ');
    if (colon == std::string_view::npos || space == std::string_view::npos || colon > space)
      return true;
    std::from_chars(line.data(), line.data() + colon, major);
    std::from_chars(line.data() + colon + 1, line.data() + space, minor);
    auto field = [&](std::string_view name) -> uint64_t {
      std::string key = " " + std::string(name) + "=";
      auto at = line.find(key);
      uint64_t v = 0;
      if (at != std::string_view::npos) {
        const char* b = line.data() + at + key.size();
        std::from_chars(b, line.data() + line.size(), v);
      }
      return v;
    };
    auto entry = [&](const char* op, uint64_t v) {
      return json{{"major", major}, {"minor", minor}, {"op", op}, {"value", v}};
    };
    bytes.push_back(entry("Read", field("rbytes")));
    bytes.push_back(entry("Write", field("wbytes")));
    ios.push_back(entry("Read", field("rios")));
    ios.push_back(entry("Write", field("wios")));
    return true;
  });
  json b = json::object();
  if (!bytes.empty()) {
    b["ioServiceBytesRecursive"] = bytes;
    b["ioServicedRecursive"] = ios;
  }
  return b;
}

namespace {

// A cgroup file of the container: from its v2 directory (`v2` names), else from the first
// of its v1 directories that has it (`v1` names; empty: the same name).
struct Files {
  const CgroupPlacement& p;
  std::optional<std::string> v2(const char* name) const {
    if (p.v2.empty()) return std::nullopt;
    return read_file(p.v2 + "/" + name);
  }
  std::optional<std::string> v1(const char* name) const {
    for (auto& d : p.v1)
      if (auto s = read_file(d + "/" + name)) return s;
    return std::nullopt;
  }
  std::optional<std::string> any(const char* name) const {
    if (auto s = v2(name)) return s;
    return v1(name);
  }
  uint64_t number(const std::optional<std::string>& s) const { return s ? limit_value(*s) : 0; }
};

json memory_entry(uint64_t limit, uint64_t usage, uint64_t max, uint64_t failcnt) {
  return json{{"limit", limit}, {"usage", usage}, {"max", max}, {"failcnt", failcnt}};
}

json raw_map(const std::string& text) {
  json raw = json::object();
  each_line(text, [&](std::string_view line) {
    auto sp = line.find(' ');
    uint64_t v = 0;
    if (sp != std::string_view::npos &&
        std::from_chars(line.data() + sp + 1, line.data() + line.size(), v).ec == std::errc())
      raw[std::string(line.substr(0, sp))] = v;
    return true;
  });
  return raw;
}

json cpu_stats(const Files& f) {
  json usage = {{"total", 0}, {"kernel", 0}, {"user", 0}};
  json thr = {{"periods", 0}, {"throttledPeriods", 0}, {"throttledTime", 0}};
  if (auto s = f.v2("cpu.stat")) {  // microseconds
    usage["total"] = stat_field(*s, "usage_usec").value_or(0) * 1000;
    usage["user"] = stat_field(*s, "user_usec").value_or(0) * 1000;
    usage["kernel"] = stat_field(*s, "system_usec").value_or(0) * 1000;
    thr["periods"] = stat_field(*s, "nr_periods").value_or(0);
    thr["throttledPeriods"] = stat_field(*s, "nr_throttled").value_or(0);
    thr["throttledTime"] = stat_field(*s, "throttled_usec").value_or(0) * 1000;
  } else if (auto t = f.v1("cpuacct.usage")) {  // nanoseconds; cpuacct.stat in USER_HZ
    usage["total"] = limit_value(*t);
    if (auto pc = f.v1("cpuacct.usage_percpu")) {
      json per = json::array();
      const char* b = pc->data();
      const char* e = b + pc->size();
      while (b < e) {
        uint64_t v = 0;
        auto r = std::from_chars(b, e, v);
        if (r.ec != std::errc()) break;
        per.push_back(v);
        b = r.ptr;
        while (b < e && (*b == ' ' || *b == '\n')) b++;
      }
      usage["percpu"] = per;
    }
    if (auto st = f.v1("cpuacct.stat")) {
      uint64_t hz = static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
      uint64_t per_tick = hz ? 1000000000ull / hz : 0;
      usage["user"] = stat_field(*st, "user").value_or(0) * per_tick;
      usage["kernel"] = stat_field(*st, "system").value_or(0) * per_tick;
    }
    if (auto cs = f.v1("cpu.stat")) {
      thr["periods"] = stat_field(*cs, "nr_periods").value_or(0);
      thr["throttledPeriods"] = stat_field(*cs, "nr_throttled").value_or(0);
      thr["throttledTime"] = stat_field(*cs, "throttled_time").value_or(0);
    }
  }
  return json{{"usage", usage}, {"throttling", thr}};
}

json memory_stats(const Files& f) {
  json m = {{"usage", memory_entry(0, 0, 0, 0)},
            {"swap", memory_entry(0, 0, 0, 0)},
            {"kernel", memory_entry(0, 0, 0, 0)},
            {"kernelTCP", memory_entry(0, 0, 0, 0)}};
  if (auto cur = f.v2("memory.current")) {
    auto events = f.v2("memory.events");
    m["usage"] =
        memory_entry(f.number(f.v2("memory.max")), limit_value(*cur), f.number(f.v2("memory.peak")),
                     events ? stat_field(*events, "max").value_or(0) : 0);
    m["swap"] = memory_entry(f.number(f.v2("memory.swap.max")),
                             f.number(f.v2("memory.swap.current")), 0, 0);
    if (auto st = f.v2("memory.stat")) {
      m["raw"] = raw_map(*st);
      m["cache"] = stat_field(*st, "file").value_or(0);
    }
  } else if (auto use = f.v1("memory.usage_in_bytes")) {
    m["usage"] =
        memory_entry(f.number(f.v1("memory.limit_in_bytes")), limit_value(*use),
                     f.number(f.v1("memory.max_usage_in_bytes")), f.number(f.v1("memory.failcnt")));
    if (auto sw = f.v1("memory.memsw.usage_in_bytes"))
      m["swap"] = memory_entry(f.number(f.v1("memory.memsw.limit_in_bytes")), limit_value(*sw),
                               f.number(f.v1("memory.memsw.max_usage_in_bytes")),
                               f.number(f.v1("memory.memsw.failcnt")));
    if (auto k = f.v1("memory.kmem.usage_in_bytes"))
      m["kernel"] = memory_entry(f.number(f.v1("memory.kmem.limit_in_bytes")), limit_value(*k),
                                 f.number(f.v1("memory.kmem.max_usage_in_bytes")),
                                 f.number(f.v1("memory.kmem.failcnt")));
    if (auto k = f.v1("memory.kmem.tcp.usage_in_bytes"))
      m["kernelTCP"] =
          memory_entry(f.number(f.v1("memory.kmem.tcp.limit_in_bytes")), limit_value(*k),
                       f.number(f.v1("memory.kmem.tcp.max_usage_in_bytes")),
                       f.number(f.v1("memory.kmem.tcp.failcnt")));
    if (auto st = f.v1("memory.stat")) {
      m["raw"] = raw_map(*st);
      m["cache"] = stat_field(*st, "cache").value_or(0);
    }
  }
  return m;
}

json blkio_stats(const Files& f) {
  if (auto s = f.v2("io.stat")) return io_stat_blkio(*s);
  json b = json::object();
  // v1: "8:0 Read 4096" lines; the "Total" line of each file is left out, as runc does not
  // report a device-less total either.
  auto entries = [](const std::string& text) {
    json out = json::array();
    each_line(text, [&](std::string_view line) {
      unsigned long long major = 0, minor = 0, value = 0;
      char op[16];
      if (std::sscanf(std::string(line).c_str(), "%llu:%llu %15s %llu", &major, &minor, op,
                      &value) == 4)
        out.push_back({{"major", major}, {"minor", minor}, {"op", op}, {"value", value}});
      return true;
    });
    return out;
  };
  if (auto s = f.v1("blkio.throttle.io_service_bytes_recursive"))
    b["ioServiceBytesRecursive"] = entries(*s);
  if (auto s = f.v1("blkio.throttle.io_serviced_recursive")) b["ioServicedRecursive"] = entries(*s);
  return b;
}

// hugetlb.<size>.current (v2) or hugetlb.<size>.usage_in_bytes (v1), one entry per page size.
json hugetlb_stats(const CgroupPlacement& p, const Files& f) {
  json h = json::object();
  auto scan = [&](const std::string& dir, bool v2) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return;
    const std::string suffix = v2 ? ".current" : ".usage_in_bytes";
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (!n.starts_with("hugetlb.") || !n.ends_with(suffix) || n.find(".rsvd.") != n.npos)
        continue;
      std::string size = n.substr(8, n.size() - 8 - suffix.size());
      std::string base = dir + "/hugetlb." + size;
      json e2 = {{"usage", f.number(read_file(base + suffix))}, {"failcnt", 0}};
      if (v2) {
        auto ev = read_file(base + ".events");
        e2["failcnt"] = ev ? stat_field(*ev, "max").value_or(0) : 0;
      } else {
        e2["max"] = f.number(read_file(base + ".max_usage_in_bytes"));
        e2["failcnt"] = f.number(read_file(base + ".failcnt"));
      }
      h[size] = e2;
    }
    ::closedir(d);
  };
  if (!p.v2.empty()) scan(p.v2, true);
  if (h.empty())
    for (auto& d : p.v1) scan(d, false);
  return h;
}

}  // namespace

json cgroup_stats(const CgroupPlacement& p) {
  Files f{p};
  auto cur = f.any("pids.current");
  json pids = {{"current", f.number(cur)}, {"limit", cur ? f.number(f.any("pids.max")) : 0}};
  if (pids["limit"] == std::numeric_limits<uint64_t>::max()) pids["limit"] = 0;  // "max"
  return json{{"cpu", cpu_stats(f)},
              {"memory", memory_stats(f)},
              {"pids", pids},
              {"blkio", blkio_stats(f)},
              {"hugetlb", hugetlb_stats(p, f)}};
}

uint64_t cgroup_oom_kills(const CgroupPlacement& p) {
  Files f{p};
  if (auto s = f.v2("memory.events")) return stat_field(*s, "oom_kill").value_or(0);
  if (auto s = f.v1("memory.oom_control")) return stat_field(*s, "oom_kill").value_or(0);
  return 0;
}

}  // namespace nook
