// nook's command line as a library: the verb registry, runc's one-dash long flags, and the
// CLI11 app with the global options (used by main.cpp and by fuzz/cli_fuzzer.cpp).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <set>

#include "../fast/shared.hpp"
#include "cli.hpp"
#include "config.hpp"
#include "error.hpp"
#include "state.hpp"

namespace nook::cli {

std::vector<std::pair<const char*, VerbSetup>>& verbs() {
  static std::vector<std::pair<const char*, VerbSetup>> v;
  return v;
}

Verb::Verb(const char* name, VerbSetup setup) {
  verbs().emplace_back(name, setup);
}

std::string Globals::state_root() const {
  return root.empty() ? default_state_root() : root;
}

CLI::App* add_verb(CLI::App& app, const char* name, const char* description) {
  CLI::App* sub = app.add_subcommand(name, description);
  sub->fallthrough();
  return sub;
}

// runc's CLI library also accepts long flags with one dash (-root, -bundle); rewrite those we
// know to the two-dash form before parsing.
std::vector<std::string> normalise(int argc, char** argv, std::string* verb) {
  // runc's global options (one list with the pre-libc `state`: src/fast/shared.hpp), then
  // the verbs' options. (Views of string literals: no allocation at each start.)
  using Names = std::set<std::string_view, std::less<>>;
  static const auto [long_names, takes_value] = [] {
    Names names, value;
    fast::each_global([&](const char* name, unsigned long n, const char* values) {
      names.emplace(name, n);
      if (values) value.emplace(name, n);  // without its "--"
    });
    for (const char* n : {"bundle",
                          "pid-file",
                          "console-socket",
                          "no-pivot",
                          "no-new-keyring",
                          "preserve-fds",
                          "detach",
                          "force",
                          "all",
                          "format",
                          "process",
                          "tty",
                          "cwd",
                          "env",
                          "user",
                          "additional-gids",
                          "no-new-privs",
                          "cap",
                          "apparmor",
                          "process-label",
                          "ignore-paused",
                          "keep",
                          "quiet",
                          "no-subreaper",
                          "version",
                          "help"})
      names.emplace(n);
    // exec: the words after the container ID are the command, passed as they are (`ls -all`).
    for (const char* n : {"-p", "-e", "-u", "-g", "-c", "--process", "--console-socket", "--cwd",
                          "--env", "--user", "--additional-gids", "--pid-file", "--preserve-fds",
                          "--cap", "--apparmor", "--process-label"})
      value.emplace(n);
    return std::pair{names, value};
  }();
  std::vector<std::string> out;
  bool passthrough = false, value_next = false, exec = false;
  int words = 0;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (!passthrough && a.size() > 2 && a[0] == '-' && a[1] != '-') {
      std::string name =
          a.substr(1, a.find('=') == std::string::npos ? std::string::npos : a.find('=') - 1);
      if (long_names.count(name)) a = "-" + a;
    }
    if (a == "--") passthrough = true;
    if (!passthrough) {
      if (value_next) {
        value_next = false;
      } else if (a.size() > 1 && a[0] == '-') {
        value_next =
            takes_value.count(a) > 0 || (a.starts_with("--") && a.find('=') == a.npos &&
                                         takes_value.count(std::string_view(a).substr(2)) > 0);
      } else if (++words == 1) {
        exec = a == "exec";
        if (verb) *verb = a;
      } else if (exec && words == 2) {
        passthrough = true;  // the container ID
      }
    }
    if (!passthrough && a == "--root=") {
      // CLI11 takes "--root=" for "--root" with the next word as its value: pass the empty
      // value on, for build_app's "--root: empty path".
      out.push_back("--root");
      out.push_back("");
      continue;
    }
    out.push_back(std::move(a));
  }
  std::reverse(out.begin(), out.end());  // CLI11 parses a reversed vector
  return out;
}

std::map<std::string, std::function<void()>> build_app(CLI::App& app, Globals& g,
                                                       const std::string& only) {
  app.set_version_flag("-v,--version",
                       std::string("nook version ") + NOOK_VERSION + "\nspec: " + kOciVersion);
  app.require_subcommand(1);
  // An empty --root is an error, not the default (issue 14, finding 10): "" is what an unset
  // variable gives (--root "$ROOT"), and it must not quietly select another state directory.
  // The pre-libc `state` (src/fast/state.cpp) leaves it to this message.
  app.add_option_function<std::string>(
      "--root",
      [&g](const std::string& v) {
        if (v.empty()) throw CLI::ValidationError("--root", "empty path");
        g.root = v;
      },
      "state directory (default /run/nook for root, $XDG_RUNTIME_DIR/nook, else /tmp/nook-UID)");
  app.add_option("--log", g.log.file, "log file (default: errors and warnings to stderr)");
  app.add_option("--log-format", g.log_format, "log format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--debug", g.log.debug, "log debug messages");
  app.add_flag("--systemd-cgroup", g.systemd_cgroup,
               "the systemd cgroup driver: a transient unit per container, asked for over "
               "D-Bus (linux.cgroupsPath \"slice:prefix:name\"); cgroupfs when no systemd is "
               "reachable");
  app.add_option("--rootless", g.rootless,
                 "accepted for runc compatibility (true|false|auto): nook decides from the "
                 "caller's privileges");
  app.add_option("--cgroup-manager", g.cgroup_manager,
                 "crun's cgroup driver choice: cgroupfs, systemd (= --systemd-cgroup) or "
                 "disabled (no cgroup)")
      ->check(CLI::IsMember({"cgroupfs", "systemd", "disabled"}));
  std::map<std::string, std::function<void()>> actions;
  // Registering every verb's options is most of the work of a short call like `state` (CLI11
  // builds each option): when the verb is known, only it is registered.
  bool known = false;
  for (auto& v : verbs()) known = known || only == v.first;
  for (auto& [name, setup] : verbs())
    if (!known || only == name) actions[name] = setup(app, g);
  return actions;
}

}  // namespace nook::cli
