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
#include "seccomp.hpp"
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

bool is_verb(const std::string& name) {
  for (auto& v : verbs())
    if (name == v.first) return true;
  return false;
}

std::string find_verb(int argc, char** argv) {
  int i = fast::verb_index(argc, argv);
  return i > 0 ? argv[i] : std::string();
}

namespace {

// The values src/fast/shared.hpp's kGlobalFlags allows for global option `name` (the one list
// the pre-libc `state` also checks): CLI11 refuses the others.
CLI::IsMember global_values(std::string_view name) {
  std::vector<std::string> out;
  nook::fast::each_global([&](const char* n, unsigned long len, const char* values) {
    if (std::string_view(n, len) != name || !values) return;
    for (const char* v = values; *v;) {
      const char* e = v;
      while (*e && *e != '|') e++;
      out.emplace_back(v, e);
      v = *e ? e + 1 : e;
    }
  });
  return CLI::IsMember(out);
}

// Whether CLI11 reads a value after the option (an option, not a flag): its own test.
bool takes_value(const CLI::Option& o) {
  return o.get_items_expected_max() != 0;
}

// The long and short names of the options registered in `app` and in its subcommands (those
// build_app added), and of those among them that take a value. Views of CLI11's own strings.
struct OptionNames {
  using Names = std::set<std::string_view, std::less<>>;
  Names long_names, long_values, short_values;

  explicit OptionNames(const CLI::App& app) {
    add(app);
    for (const CLI::App* sub : app.get_subcommands({})) add(*sub);
  }
  void add(const CLI::App& app) {
    for (const CLI::Option* o : app.get_options()) {
      bool value = takes_value(*o);
      for (const std::string& n : o->get_lnames()) {
        long_names.insert(n);
        if (value) long_values.insert(n);
      }
      if (value) short_values.insert(o->get_snames().begin(), o->get_snames().end());
    }
  }
  // Whether the word `a` (an option, one dash left only on short names) takes the next word
  // as its value.
  bool value_next(std::string_view a) const {
    if (a.starts_with("--")) return a.find('=') == a.npos && long_values.count(a.substr(2)) > 0;
    return a.size() == 2 && short_values.count(a.substr(1)) > 0;
  }
};

}  // namespace

// runc's CLI library also accepts long flags with one dash (-root, -bundle): those registered
// in `app` are rewritten to the two-dash form before parsing.
std::vector<std::string> normalise(const CLI::App& app, int argc, char** argv) {
  const OptionNames known(app);
  std::vector<std::string> out;
  bool passthrough = false, value_next = false, exec = false;
  int words = 0;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (!passthrough && a.size() > 2 && a[0] == '-' && a[1] != '-') {
      std::string_view name = std::string_view(a).substr(1, a.find('=') - 1);
      if (known.long_names.count(name)) a = "-" + a;
    }
    if (a == "--") passthrough = true;
    if (!passthrough) {
      if (value_next) {
        value_next = false;
      } else if (a.size() > 1 && a[0] == '-') {
        value_next = known.value_next(a);
      } else if (++words == 1) {
        exec = a == "exec" || a == "ps";
      } else if (exec && words == 2) {
        // exec: the words after the container ID are the command (`ls -all`); ps: ps(1)'s
        // options (`-ef`)
        passthrough = true;
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
#ifndef NOOK_COMMIT
#define NOOK_COMMIT "unknown"
#endif
  // runc's layout: version, commit, spec, then the libraries that matter (no Go here).
  app.set_version_flag("-v,--version", [] {
    return std::string("nook version ") + NOOK_VERSION + "\ncommit: " + NOOK_COMMIT +
           "\nspec: " + kOciVersion + "\nlibseccomp: " + seccomp_library_version();
  });
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
      ->check(global_values("log-format"));
  app.add_flag("--debug", g.log.debug, "log debug messages");
  app.add_flag("--systemd-cgroup", g.systemd_cgroup,
               "the systemd cgroup driver: a transient unit per container, asked for over "
               "D-Bus (linux.cgroupsPath \"slice:prefix:name\"); cgroupfs when no systemd is "
               "reachable");
  // runc parses it with Go's ParseBool (or "auto"); any other value is refused, as there.
  app.add_option("--rootless", g.rootless,
                 "accepted for runc compatibility (true|false|auto): nook decides from the "
                 "caller's privileges")
      ->check(global_values("rootless"));
  app.add_option("--criu", g.criu,
                 "the CRIU binary checkpoint and restore run (default: criu, found in PATH)");
  app.add_option("--cgroup-manager", g.cgroup_manager,
                 "crun's cgroup driver choice: cgroupfs, systemd (= --systemd-cgroup) or "
                 "disabled (no cgroup)")
      ->check(global_values("cgroup-manager"));
  std::map<std::string, std::function<void()>> actions;
  // Registering every verb's options is most of the work of a short call like `state` (CLI11
  // builds each option): when the verb is known (find_verb), only it is registered.
  bool known = false;
  for (auto& v : verbs()) known = known || only == v.first;
  for (auto& [name, setup] : verbs())
    if (!known || only == name) actions[name] = setup(app, g);
  return actions;
}

}  // namespace nook::cli
