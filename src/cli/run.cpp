// nook run: create + start; in the foreground, wait and exit with the program's status.
#include "cli.hpp"
#include "container.hpp"

namespace nook::cli {

void add_create_options(CLI::App* sub, CreateOptions& o, std::string& id);

namespace {
Verb reg("run", [](CLI::App& app, Globals& g) -> std::function<void()> {
  auto* sub = add_verb(app, "run", "create and start a container, by default in the foreground");
  static CreateOptions o;
  static std::string id;
  static bool detach = false, keep = false, no_subreaper = false;
  add_create_options(sub, o, id);
  sub->add_flag("-d,--detach", detach, "return once the program runs");
  sub->add_flag(
      "--keep", keep,
      "accepted for runc compatibility: nook always deletes a foreground container when it exits");
  sub->add_flag("--no-subreaper", no_subreaper,
                "accepted for runc compatibility: nook is never a subreaper");
  return [&g] {
    o.systemd_cgroup = g.systemd();
    o.no_cgroups = g.cgroup_manager == "disabled";
    g.exit_code = container_run(g.state_root(), id, o, detach);
  };
});
}  // namespace

}  // namespace nook::cli
