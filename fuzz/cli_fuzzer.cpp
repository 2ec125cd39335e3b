// Fuzz target: the command line. The input is argv[1..], NUL-separated (argv cannot hold a
// NUL itself). It goes through find_verb(), build_app() and normalise() as in nook's main();
// the verb actions are never run. Then the values actions check first (container IDs, signal
// names) go through their checks.
// Contract: a parse either succeeds or throws CLI::Error (main prints one line for it); the
// checks either accept or throw nook::Error; nothing else escapes, nothing crashes.
#include <cstdint>
#include <string>
#include <vector>

#include "cli.hpp"
#include "config.hpp"
#include "error.hpp"
#include "names.hpp"
#include "state.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> words;
  std::string cur;
  for (size_t i = 0; i < size; i++) {
    if (data[i] == 0) {
      words.push_back(cur);
      cur.clear();
    } else {
      cur += static_cast<char>(data[i]);
    }
  }
  words.push_back(cur);
  if (words.size() > 64) return 0;  // a command line, not a list

  std::vector<char*> argv;
  argv.push_back(const_cast<char*>("nook"));
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);

  nook::cli::Globals g;
  CLI::App app{"nook", "nook"};
  int argc = static_cast<int>(argv.size() - 1);
  auto actions = nook::cli::build_app(app, g, nook::cli::find_verb(argc, argv.data()));
  try {
    std::vector<std::string> args = nook::cli::normalise(app, argc, argv.data());
    app.parse(args);
    for (auto* sub : app.get_subcommands())
      if (!actions.count(sub->get_name())) __builtin_trap();  // a verb without an action
  } catch (const CLI::Error&) {
  }
  for (auto& w : words) {
    try {
      nook::validate_id(w);
    } catch (const nook::Error&) {
    }
    (void)nook::parse_signal(w);
  }
  return 0;
}
