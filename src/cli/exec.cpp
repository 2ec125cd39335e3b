// nook exec: run a new process in a running container.
#include "exec.hpp"

#include "cli.hpp"

namespace nook::cli {
namespace {
Verb reg("exec", [](CLI::App& app, Globals& g) -> std::function<void()> {
  auto* sub = add_verb(app, "exec", "run a new process in a running container");
  static ExecOptions o;
  static std::string id;
  sub->footer("Everything after ID is the command: nook exec [OPTIONS] ID COMMAND [ARG...]");
  sub->add_option("-p,--process", o.process_file,
                  "JSON file with the whole process (runtime-spec process object)");
  sub->add_flag("-t,--tty", o.tty, "allocate a pseudo-terminal");
  sub->add_option("--console-socket", o.console_socket,
                  "AF_UNIX socket that receives the pty master");
  sub->add_option("--cwd", o.cwd, "working directory in the container (absolute)");
  sub->add_option("-e,--env", o.env, "set an environment variable NAME=VALUE (repeatable)")
      ->allow_extra_args(false);
  sub->add_option("-u,--user", o.user, "UID[:GID] to run as");
  sub->add_option("-g,--additional-gids", o.additional_gids,
                  "additional group IDs (repeatable, or comma-separated)")
      ->allow_extra_args(false)
      ->delimiter(',');
  sub->add_flag("-d,--detach", o.detach, "return once the program runs");
  sub->add_option("--pid-file", o.pid_file, "file to write the process's PID to");
  sub->add_option("--preserve-fds", o.preserve_fds,
                  "pass N more descriptors (3..3+N-1) to the program")
      ->check(CLI::Range(0, 1 << 20));
  sub->add_flag("--no-new-privs", o.no_new_privs, "set no_new_privileges for the process");
  sub->add_option("-c,--cap", o.caps, "add a capability, e.g. CAP_NET_ADMIN (repeatable)")
      ->allow_extra_args(false);
  sub->add_option("--apparmor", o.apparmor, "AppArmor profile for the process");
  sub->add_option("--process-label", o.process_label, "SELinux label for the process");
  sub->add_flag("--ignore-paused", o.ignore_paused, "exec even if the container is paused");
  // runc's form: repeatable, no comma splitting ("cpu,cpuacct:sub" is one argument).
  sub->add_option("--cgroup", o.cgroup,
                  "run in a sub-cgroup of the container: PATH, or CONTROLLER[,...]:PATH "
                  "(repeatable; the sub-cgroup must exist)")
      ->allow_extra_args(false);
  sub->add_option("id", id, "container ID")->required();
  // Everything after the ID is the command, options included (`exec ID sh -c "..."`): the
  // first word after the ID falls through to the main app, which then keeps the rest as is.
  sub->preparse_callback([&app](size_t) { app.prefix_command(); });
  return [&g, &app] {
    o.args = app.remaining();
    if (!o.args.empty() && o.args[0] == "--") o.args.erase(o.args.begin());
    g.exit_code = container_exec(g.state_root(), id, o);
  };
});
}  // namespace
}  // namespace nook::cli
