// nook ps: the processes of a container.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "container.hpp"

namespace nook::cli {
namespace {

std::string cmdline(pid_t pid) {
  char path[64], buf[4096];
  std::snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return "";
  for (ssize_t i = 0; i < n; i++)
    if (buf[i] == 0) buf[i] = ' ';
  while (n > 0 && buf[n - 1] == ' ') n--;
  return std::string(buf, static_cast<size_t>(n));
}

Verb reg("ps", [](CLI::App& app, Globals& g) -> std::function<void()> {
  auto* sub = add_verb(app, "ps", "list the processes of a container");
  static std::string format = "table", id;
  sub->add_option("-f,--format", format, "table or json")->check(CLI::IsMember({"table", "json"}));
  sub->add_option("id", id, "container ID")->required();
  return [&g] {
    auto pids = container_pids(g.state_root(), id);
    std::string out;
    if (format == "json") {
      out = nlohmann::json(pids).dump() + "\n";
    } else {
      out = "PID     CMD\n";
      for (pid_t p : pids) {
        char line[64];
        std::snprintf(line, sizeof line, "%-7d ", p);
        out += line + cmdline(p) + "\n";
      }
    }
    (void)!::write(1, out.data(), out.size());
  };
});
}  // namespace
}  // namespace nook::cli
