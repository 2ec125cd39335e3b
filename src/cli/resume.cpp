// nook resume: thaw a paused container.
#include "cli.hpp"
#include "container.hpp"

namespace nook::cli {
namespace {
Verb reg("resume", [](CLI::App& app, Globals& g) -> std::function<void()> {
  auto* sub = add_verb(app, "resume", "resume a paused container");
  static std::string id;
  sub->add_option("id", id, "container ID")->required();
  return [&g] { container_pause(g.state_root(), id, false); };
});
}  // namespace
}  // namespace nook::cli
