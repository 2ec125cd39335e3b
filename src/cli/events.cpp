// nook events: a container's resource statistics and OOM kills as runc prints them, one JSON
// event per line: {"type":"stats","id":ID,"data":{...}} every --interval (or once with
// --stats) and {"type":"oom","id":ID} when the kernel's OOM killer has killed in the
// container. The stream ends when the container's process does. The container lock is held
// only to read the state, never while waiting.
#include <time.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "container.hpp"
#include "error.hpp"
#include "stats.hpp"

namespace nook::cli {
namespace {

// runc's Go durations as --interval takes them: "5s", "500ms", "1m", "1.5s", "1h".
long long interval_ms(const std::string& s) {
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) i++;
  std::string num = s.substr(0, i), unit = s.substr(i);
  double v = 0;
  try {
    size_t used = 0;
    v = std::stod(num, &used);
    if (used != num.size()) v = -1;
  } catch (const std::exception&) {
    v = -1;
  }
  double scale = unit == "ms"  ? 1
                 : unit == "s" ? 1e3
                 : unit == "m" ? 6e4
                 : unit == "h" ? 3.6e6
                               : -1;
  double ms = v * scale;
  if (num.empty() || v < 0 || scale < 0 || ms < 1 || ms > 86400e3)
    fail("--interval \"" + s + "\": a duration from 1ms to 24h such as 5s, 500ms or 1m");
  return static_cast<long long>(ms);
}

bool alive(const State& st) {
  bool zombie = false;
  unsigned long long t = proc_start_time(st.pid, &zombie);
  return t != 0 && t == st.start_time && !zombie;
}

void print(const nlohmann::json& event) {
  std::string line = event.dump() + "\n";
  (void)!::write(1, line.data(), line.size());
}

Verb reg("events", [](CLI::App& app, Globals& g) -> std::function<void()> {
  auto* sub = add_verb(app, "events", "print a container's resource statistics and OOM events");
  static std::string id, interval = "5s";
  static bool stats_once = false;
  sub->add_flag("--stats", stats_once, "print the statistics once and exit");
  sub->add_option("--interval", interval, "time between statistics (default 5s)");
  sub->add_option("id", id, "container ID")->required();
  return [&g] {
    long long ms = interval_ms(interval);
    State st;
    {
      Loaded c = container_load(g.state_root(), id, false);
      if (c.status == Status::stopped) fail("container \"" + id + "\" is not running");
      st = c.state;
    }  // the lock is released here
    if (st.cgroup.empty())
      fail("events needs the container's cgroup; container \"" + id +
           "\" has none (nook could not create one for uid " + std::to_string(geteuid()) + ")");
    auto stats = [&] {
      return nlohmann::json{{"type", "stats"}, {"id", id}, {"data", cgroup_stats(st.cgroup)}};
    };
    if (stats_once) {
      print(stats());
      return;
    }
    uint64_t ooms = cgroup_oom_kills(st.cgroup);
    long long since = 0;
    for (;;) {
      uint64_t now = cgroup_oom_kills(st.cgroup);
      for (; ooms < now; ooms++) print({{"type", "oom"}, {"id", id}});
      if (since <= 0) {
        if (!alive(st)) return;
        print(stats());
        since = ms;
      }
      // OOM kills are looked for every 100 ms at most, statistics every --interval.
      long long step = std::min<long long>(since, 100);
      struct timespec ts = {static_cast<time_t>(step / 1000), (step % 1000) * 1000000};
      nanosleep(&ts, nullptr);
      since -= step;
      if (!alive(st)) {
        now = cgroup_oom_kills(st.cgroup);
        for (; ooms < now; ooms++) print({{"type", "oom"}, {"id", id}});
        return;
      }
    }
  };
});
}  // namespace
}  // namespace nook::cli
