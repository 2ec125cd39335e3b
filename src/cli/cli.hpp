// The CLI front end: global options and the registry of verbs (one source file each).
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "log.hpp"

namespace nook::cli {

struct Globals {
  std::string root;  // --root
  log::Options log;  // --log, --log-format, --debug
  std::string log_format = "text";
  bool systemd_cgroup = false;  // --systemd-cgroup
  std::string rootless = "auto";
  std::string criu = "criu";   // --criu: the binary checkpoint/restore run (via libcriu)
  std::string cgroup_manager;  // crun's --cgroup-manager
  int exit_code = 0;

  // The systemd cgroup driver: --systemd-cgroup, or --cgroup-manager systemd (which, like
  // cgroupfs and disabled, overrides --systemd-cgroup, as in crun).
  bool systemd() const {
    return cgroup_manager.empty() ? systemd_cgroup : cgroup_manager == "systemd";
  }

  // The state root after defaults are applied.
  std::string state_root() const;
};

// Adds the verb's subcommand and options; returns the action run when it was chosen.
using VerbSetup = std::function<void()> (*)(CLI::App& app, Globals& g);

// Each verb's file registers itself with a static Verb object.
struct Verb {
  Verb(const char* name, VerbSetup setup);
};
std::vector<std::pair<const char*, VerbSetup>>& verbs();
// Whether `name` is a registered verb.
bool is_verb(const std::string& name);

// Adds a subcommand with nook's conventions: global flags accepted after it too.
CLI::App* add_verb(CLI::App& app, const char* name, const char* description);

// The verb of a command line: the first word of argv[1..] that is not a global option or its
// value (src/fast/shared.hpp, verb_index), or "" when there is none.
std::string find_verb(int argc, char** argv);

// Adds the global options and the registered verbs to `app`: only the verb `only` when it is
// one (the word find_verb() found), else all of them (help, unknown verbs). Returns each added
// verb's action by name (run after a successful parse: app.get_subcommands() names it).
std::map<std::string, std::function<void()>> build_app(CLI::App& app, Globals& g,
                                                       const std::string& only = {});

// argv[1..] with runc's one-dash long flags (-root, -bundle) rewritten to two dashes, reversed
// as CLI11's App::parse(std::vector<std::string>&) expects. The flags are those build_app
// registered in `app` (the globals and the verbs added), with which of them take a value.
std::vector<std::string> normalise(const CLI::App& app, int argc, char** argv);

}  // namespace nook::cli
