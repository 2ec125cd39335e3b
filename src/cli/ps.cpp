// nook ps: the processes of a container. As runc: `--format json` prints the PIDs; the table is
// ps(1)'s, run with the options after the container ID (default -ef) and filtered to the lines
// whose PID column (found in the header) is one of the container's.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli.hpp"
#include "container.hpp"
#include "error.hpp"
#include "fd.hpp"

extern char** environ;

namespace nook::cli {
namespace {

// Runs `ps ARGS...` (found in PATH, as runc's exec.Command) and returns what it wrote to stdout
// and stderr together (runc: CombinedOutput). Throws when it cannot be run or fails.
std::string run_ps(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  std::string name = "ps";
  argv.push_back(name.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_sys("pipe2", "ps output");
  Fd rd(fds[0]), wr(fds[1]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, wr.get(), 1);
  posix_spawn_file_actions_adddup2(&fa, wr.get(), 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  int e = posix_spawnp(&pid, "ps", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (e != 0)
    throw Error(sys_message("run", "ps(1)", e) +
                    (e == ENOENT ? " (not in PATH; `nook ps --format json ID` does not need it)"
                                 : std::string()),
                e);
  wr.reset();
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(rd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::string cmd = "ps";
  for (auto& a : args) cmd += " " + a;
  if (WIFSIGNALED(status))
    fail(cmd + ": killed by signal " + std::to_string(WTERMSIG(status)) + ": " + out);
  if (WEXITSTATUS(status) != 0)
    fail(cmd + ": exit status " + std::to_string(WEXITSTATUS(status)) + ": " + out);
  return out;
}

std::vector<std::string> fields(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// ps(1)'s output, the header and the lines of `pids` only (runc's filter).
std::string filter_ps(const std::string& text, const std::vector<pid_t>& pids) {
  std::istringstream in(text);
  std::string header;
  std::getline(in, header);
  auto titles = fields(header);
  auto at = std::find(titles.begin(), titles.end(), "PID");
  if (at == titles.end()) fail("couldn't find PID field in ps output");
  size_t index = static_cast<size_t>(at - titles.begin());
  std::string out = header + "\n";
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    auto f = fields(line);
    pid_t p = 0;
    const std::string& w = index < f.size() ? f[index] : std::string();
    auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), p);
    if (ec != std::errc() || end != w.data() + w.size() || w.empty())
      fail("unable to parse pid \"" + w + "\" in ps output line: " + line);
    if (std::find(pids.begin(), pids.end(), p) != pids.end()) out += line + "\n";
  }
  return out;
}

Verb reg("ps", [](CLI::App& app, Globals& g) -> std::function<void()> {
  auto* sub = add_verb(app, "ps", "list the processes of a container");
  static std::string format = "table", id;
  sub->add_option("-f,--format", format, "table (ps(1)'s output) or json (the PIDs)")
      ->check(CLI::IsMember({"table", "json"}));
  sub->add_option("id", id, "container ID")->required();
  sub->footer(
      "Everything after ID goes to ps(1) for the table: nook ps [OPTIONS] ID [PS OPTIONS] "
      "(default -ef)");
  // The words after the ID are ps(1)'s options (`ps ID -o pid,comm`), kept as they are.
  sub->preparse_callback([&app](size_t) { app.prefix_command(); });
  return [&g, &app] {
    std::vector<std::string> ps_args = app.remaining();
    if (!ps_args.empty() && ps_args[0] == "--") ps_args.erase(ps_args.begin());
    if (format == "json" && !ps_args.empty())
      fail("ps --format json takes no ps(1) options (got \"" + ps_args[0] + "\")");
    auto pids = container_pids(g.state_root(), id);
    std::string out;
    if (format == "json") {
      out = nlohmann::json(pids).dump() + "\n";
    } else {
      if (ps_args.empty()) ps_args = {"-ef"};
      out = filter_ps(run_ps(ps_args), pids);
    }
    (void)!::write(1, out.data(), out.size());
  };
});
}  // namespace
}  // namespace nook::cli
