// nook checkpoint / restore: runc's verbs and flags over CRIU (src/lib/criu.cpp).
#include "cli.hpp"
#include "criu.hpp"
#include "error.hpp"

namespace nook::cli {
namespace {

// The flags both verbs take (runc 1.1's).
void add_common(CLI::App* sub, CriuOptions& o) {
  sub->add_option("--image-path", o.image_path, "directory of the CRIU images")
      ->default_str("./checkpoint");
  sub->add_option("--work-path", o.work_path,
                  "directory of CRIU's logs and work files (default: the image path)");
  sub->add_option("--manage-cgroups-mode", o.manage_cgroups_mode,
                  "CRIU's cgroups mode: soft (default), full, strict or ignore");
  sub->add_flag("--tcp-established", o.tcp_established, "allow open TCP connections");
  sub->add_flag("--ext-unix-sk", o.ext_unix_sk, "allow external unix sockets");
  sub->add_flag("--shell-job", o.shell_job, "allow shell jobs (a controlling terminal)");
  sub->add_flag("--file-locks", o.file_locks, "handle file locks");
  sub->add_flag("--auto-dedup", o.auto_dedup, "deduplicate the memory images on the fly");
  sub->add_flag("--lazy-pages", o.lazy_pages,
                "refused: libcriu 3.17 has no lazy-pages option (nook runs no page server)");
  sub->add_option("--empty-ns", o.empty_ns, "refused: libcriu 3.17 has no empty-ns option");
}

Verb reg_checkpoint("checkpoint", [](CLI::App& app, Globals& g) -> std::function<void()> {
  auto* sub = add_verb(app, "checkpoint", "checkpoint a running container with CRIU");
  static CheckpointOptions o;
  static std::string id;
  add_common(sub, o);
  sub->add_flag("--leave-running", o.leave_running, "leave the processes running afterwards");
  sub->add_flag("--pre-dump", o.pre_dump,
                "dump the memory only, tracking it for a later checkpoint with --parent-path");
  sub->add_option("--parent-path", o.parent_path,
                  "images of a previous --pre-dump, relative to --image-path");
  sub->add_option("--page-server", o.page_server, "ADDRESS:PORT of a CRIU page server");
  static int status_fd = -1;
  sub->add_option("--status-fd", status_fd, "refused: only --lazy-pages uses it");
  sub->add_option("id", id, "container ID")->required();
  return [&g] {
    if (status_fd != -1) fail("checkpoint --status-fd is not supported: only --lazy-pages uses it");
    o.criu = g.criu;
    if (o.image_path.empty()) o.image_path = "checkpoint";
    container_checkpoint(g.state_root(), id, o);
  };
});

Verb reg_restore("restore", [](CLI::App& app, Globals& g) -> std::function<void()> {
  auto* sub = add_verb(app, "restore", "restore a container from a CRIU checkpoint");
  static RestoreOptions o;
  static std::string id;
  add_common(sub, o);
  sub->add_option("-b,--bundle", o.bundle, "the bundle of the new container")->default_str(".");
  sub->add_option("--console-socket", o.console_socket,
                  "AF_UNIX socket that receives the restored terminal's pty master");
  sub->add_option("--pid-file", o.pid_file, "file to write the restored process's PID to");
  sub->add_flag("-d,--detach", o.detach, "return once the container is restored");
  sub->add_flag("--no-subreaper", o.no_subreaper,
                "do not reap the container's orphans (in the foreground)");
  sub->add_flag("--no-pivot", o.no_pivot, "accepted: CRIU restores the mounts, not nook");
  sub->add_option("--lsm-profile", o.lsm_profile, "LSM profile TYPE:NAME of the restored process");
  sub->add_option("--lsm-mount-context", o.lsm_mount_context,
                  "SELinux mount context of the restored mounts");
  sub->add_option("id", id, "container ID")->required();
  return [&g] {
    o.criu = g.criu;
    if (o.image_path.empty()) o.image_path = "checkpoint";
    o.systemd_cgroup = g.systemd();
    o.no_cgroups = g.cgroup_manager == "disabled";
    g.exit_code = container_restore(g.state_root(), id, o);
  };
});

}  // namespace
}  // namespace nook::cli
