// nook checkpoint / restore: runc's verbs and flags, refused in one line. They need CRIU
// (checkpointing a container's processes and restoring them in a new one), which nook does not
// drive: an engine that calls them (podman container checkpoint, containerd, the kubelet's
// checkpoint API) gets that reason, not "unknown command" or a usage error about its flags.
#include "cli.hpp"
#include "error.hpp"

namespace nook::cli {
namespace {

// runc 1.1's flags of both verbs, parsed (so that the message is the one below), unused.
void add_criu_options(CLI::App* sub, bool restore) {
  static std::string s;
  static bool b = false;
  for (const char* o : {"--image-path", "--work-path", "--manage-cgroups-mode", "--page-server",
                        "--status-fd", "--parent-path", "--lsm-profile", "--lsm-mount-context"})
    sub->add_option(o, s, "accepted; checkpoint/restore is not supported");
  for (const char* f : {"--leave-running", "--tcp-established", "--ext-unix-sk", "--shell-job",
                        "--lazy-pages", "--file-locks", "--pre-dump", "--auto-dedup"})
    sub->add_flag(f, b, "accepted; checkpoint/restore is not supported");
  sub->add_option("--empty-ns", s, "accepted; checkpoint/restore is not supported");
  if (restore) {
    sub->add_option("-b,--bundle", s, "accepted; checkpoint/restore is not supported");
    sub->add_option("--console-socket", s, "accepted; checkpoint/restore is not supported");
    sub->add_option("--pid-file", s, "accepted; checkpoint/restore is not supported");
    sub->add_flag("-d,--detach", b, "accepted; checkpoint/restore is not supported");
    sub->add_flag("--no-subreaper", b, "accepted; checkpoint/restore is not supported");
    sub->add_flag("--no-pivot", b, "accepted; checkpoint/restore is not supported");
  }
}

std::function<void()> refusal(const char* verb) {
  return [verb] {
    fail(std::string(verb) +
         " is not supported by nook: checkpoint/restore needs CRIU, which nook does not drive");
  };
}

Verb reg_checkpoint("checkpoint", [](CLI::App& app, Globals&) -> std::function<void()> {
  auto* sub = add_verb(app, "checkpoint", "not supported: checkpoint a container with CRIU");
  static std::string id;
  add_criu_options(sub, false);
  sub->add_option("id", id, "container ID")->required();
  return refusal("checkpoint");
});

Verb reg_restore("restore", [](CLI::App& app, Globals&) -> std::function<void()> {
  auto* sub = add_verb(app, "restore", "not supported: restore a container with CRIU");
  static std::string id;
  add_criu_options(sub, true);
  sub->add_option("id", id, "container ID")->required();
  return refusal("restore");
});

}  // namespace
}  // namespace nook::cli
