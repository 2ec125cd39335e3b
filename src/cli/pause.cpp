// nook pause: freeze every process of a container.
#include "cli.hpp"
#include "container.hpp"

namespace nook::cli {
namespace {
Verb reg("pause", [](CLI::App& app, Globals& g) -> std::function<void()> {
  auto* sub = add_verb(app, "pause", "freeze a running container (needs a cgroup)");
  static std::string id;
  sub->add_option("id", id, "container ID")->required();
  return [&g] { container_pause(g.state_root(), id, true); };
});
}  // namespace
}  // namespace nook::cli
