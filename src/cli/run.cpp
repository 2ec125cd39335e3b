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
  static RunOptions r;
  add_create_options(sub, o, id);
  sub->add_flag("-d,--detach", r.detach, "return once the program runs");
  sub->add_flag("--keep", r.keep,
                "keep the stopped container after it exits (foreground); `delete` removes it");
  sub->add_flag("--no-subreaper", r.no_subreaper,
                "do not reap the container's orphans (without a PID namespace of its own)");
  return [&g] {
    o.systemd_cgroup = g.systemd();
    o.no_cgroups = g.cgroup_manager == "disabled";
    g.exit_code = container_run(g.state_root(), id, o, r);
  };
});
}  // namespace

}  // namespace nook::cli
