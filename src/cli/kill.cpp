// nook kill: send a signal to a container's program (or every process in it with --all).
#include "cli.hpp"
#include "config.hpp"
#include "container.hpp"
#include "error.hpp"
#include "names.hpp"

namespace nook::cli {
namespace {
Verb reg("kill", [](CLI::App& app, Globals& g) -> std::function<void()> {
  auto* sub = add_verb(app, "kill", "send a signal (default SIGTERM) to a container");
  static std::string id, sig = "SIGTERM";
  static bool all = false;
  sub->add_flag("-a,--all", all, "signal every process in the container");
  sub->add_option("id", id, "container ID")->required();
  sub->add_option("signal", sig, "signal name (TERM, SIGTERM) or number");
  return [&g] {
    // Signal 0 checks that the process exists, as kill(2) does (runc and crun accept it).
    int s = sig == "0" ? 0 : parse_signal(sig);
    if (s < 0) fail("unknown signal \"" + sig + "\"");
    container_kill(g.state_root(), id, s, all);
  };
});
}  // namespace
}  // namespace nook::cli
