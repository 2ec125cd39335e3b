// nook state: print the OCI state of a container.
#include <unistd.h>

#include "cli.hpp"
#include "container.hpp"

namespace nook::cli {
namespace {
Verb reg("state", [](CLI::App& app, Globals& g) -> std::function<void()> {
  auto* sub = add_verb(app, "state", "print the state of a container as JSON");
  static std::string id;
  sub->add_option("id", id, "container ID")->required();
  return [&g] {
    std::string s = container_state(g.state_root(), id) + "\n";
    (void)!::write(1, s.data(), s.size());
  };
});
}  // namespace
}  // namespace nook::cli
