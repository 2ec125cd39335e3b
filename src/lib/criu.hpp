// checkpoint / restore through CRIU (criu.cpp): runc's verbs over libcriu, the C library of
// Debian's criu package that speaks the RPC protocol of `criu swrk`.
#pragma once
#include <string>
#include <vector>

namespace nook {

// The options both verbs share (runc 1.1's names).
struct CriuOptions {
  std::string criu = "criu";          // global --criu: the binary libcriu runs
  std::string image_path;             // --image-path (the CLI defaults it to ./checkpoint)
  std::string work_path;              // --work-path: logs and CRIU's work files (default: images)
  std::string manage_cgroups_mode;    // --manage-cgroups-mode: soft|full|strict|ignore or ""
  std::vector<std::string> empty_ns;  // --empty-ns NAME: refused (libcriu 3.17 has no option)
  std::string lsm_profile;            // restore --lsm-profile TYPE:NAME
  std::string lsm_mount_context;      // restore --lsm-mount-context
  bool tcp_established = false, ext_unix_sk = false, shell_job = false, file_locks = false;
  bool lazy_pages = false, auto_dedup = false;
};

struct CheckpointOptions : CriuOptions {
  std::string parent_path;  // --parent-path: images of a previous pre-dump (relative to images)
  std::string page_server;  // --page-server ADDRESS:PORT
  bool leave_running = false, pre_dump = false;
};

// checkpoint: dumps a running or paused container's processes into the image directory. Then,
// as runc, the container is gone (CRIU killed its processes; nook deletes its cgroup and state)
// unless leave_running or pre_dump. Needs root in the initial user namespace.
void container_checkpoint(const std::string& root, const std::string& id,
                          const CheckpointOptions& o);

struct RestoreOptions : CriuOptions {
  std::string bundle = ".";
  std::string pid_file, console_socket;
  bool detach = false, no_subreaper = false, no_pivot = false;
  bool systemd_cgroup = false, no_cgroups = false;
};

// restore: a new container ID from the bundle's config.json whose processes are restored from
// the images; "running" with the restored PID. In the foreground (no detach) nook waits for it,
// forwards signals and deletes it afterwards, as `run` does, and returns its exit status.
int container_restore(const std::string& root, const std::string& id, const RestoreOptions& o);

// The first line of CRIU's log (or of its stderr) that reports an error ("Error (criu/...):
// ..."), without the timestamp; "" when there is none. Exposed for the unit tests.
std::string criu_first_error(const std::string& log_text);

}  // namespace nook
