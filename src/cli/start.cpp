// nook start: release a created container's program.
#include "cli.hpp"
#include "container.hpp"

namespace nook::cli {
namespace {
Verb reg("start", [](CLI::App& app, Globals& g) -> std::function<void()> {
  auto* sub = add_verb(app, "start", "start the program of a created container");
  static std::string id;
  sub->add_option("id", id, "container ID")->required();
  return [&g] { container_start(g.state_root(), id); };
});
}  // namespace
}  // namespace nook::cli
