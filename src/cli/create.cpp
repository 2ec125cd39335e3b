// nook create: set the container up and leave its process waiting for `start`.
#include "cli.hpp"
#include "container.hpp"

namespace nook::cli {

// Options shared by create and run.
void add_create_options(CLI::App* sub, CreateOptions& o, std::string& id) {
  sub->add_option("-b,--bundle", o.bundle,
                  "path to the bundle directory (default: current directory)");
  sub->add_option("-f,--config", o.config,
                  "crun's: the config file to use instead of BUNDLE/config.json (relative to "
                  "the current directory; root.path stays relative to the bundle)");
  sub->add_option("--pid-file", o.pid_file, "file to write the container process's PID to");
  sub->add_option("--console-socket", o.console_socket,
                  "AF_UNIX socket that receives the pty master (process.terminal)");
  sub->add_flag("--no-pivot", o.no_pivot, "enter the rootfs with MS_MOVE + chroot, not pivot_root");
  sub->add_flag("--no-new-keyring", o.no_new_keyring, "keep the caller's session keyring");
  sub->add_option("--preserve-fds", o.preserve_fds,
                  "pass N more descriptors (3..3+N-1) to the program")
      ->check(CLI::Range(0, 1 << 20));
  sub->add_option("id", id, "container ID")->required();
}

namespace {
Verb reg("create", [](CLI::App& app, Globals& g) -> std::function<void()> {
  auto* sub = add_verb(app, "create", "create a container (its program waits for `start`)");
  static CreateOptions o;
  static std::string id;
  add_create_options(sub, o, id);
  return [&g] {
    o.systemd_cgroup = g.systemd();
    o.no_cgroups = g.cgroup_manager == "disabled";
    container_create(g.state_root(), id, o);
  };
});
}  // namespace

}  // namespace nook::cli
