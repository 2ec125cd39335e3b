// nook delete: remove a stopped container (--force: kill it first).
#include "cli.hpp"
#include "container.hpp"

namespace nook::cli {
namespace {
Verb reg("delete", [](CLI::App& app, Globals& g) -> std::function<void()> {
  auto* sub = add_verb(app, "delete", "delete a container and every trace of it");
  static std::string id;
  static bool force = false;
  sub->add_flag("-f,--force", force,
                "kill the container first if it runs; no error if it does not exist");
  sub->add_option("id", id, "container ID")->required();
  return [&g] { container_delete(g.state_root(), id, force, g.systemd()); };
});
}  // namespace
}  // namespace nook::cli
