// The state directory: ROOT/ID/{state.json,state.oci,config.json,exec.fifo}, one lock per
// container.
#pragma once
#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cgroup.hpp"
#include "fd.hpp"

namespace nook {

enum class Status { creating, created, running, paused, stopped };
const char* status_name(Status s);

// What nook remembers of a container between invocations (state.json).
struct State {
  std::string id;
  pid_t pid = 0;
  unsigned long long start_time = 0;  // /proc/PID/stat field 22: detects PID reuse
  std::string bundle;
  std::string created;  // RFC 3339
  std::map<std::string, std::string> annotations;
  uid_t owner = 0;
  bool single_id = false;       // nook made a single-ID user namespace
  bool root_emulation = false;  // seccomp root emulation filter loaded
  CgroupPlacement cgroup;
  std::string rootfs;
  bool hooks = false;         // config.json has hooks (start/delete must read it)
  bool own_pidns = false;     // the container has a PID namespace of its own
  bool creating = false;      // written by create before READY; cleared when set-up is done
  bool create_hooks = false;  // create (or run) is running the prestart, createRuntime and
                              // createContainer hooks: status created (docs/design.md)
};

// "creating", "created", ... for a State and its directory; checks the process liveness and
// start time, the exec fifo and the freezer.
Status container_status(const State& s, int dirfd);

// Start time of a process (field 22 of /proc/PID/stat), 0 if there is no such process, and
// sets *zombie when it has exited but not been reaped.
unsigned long long proc_start_time(pid_t pid, bool* zombie = nullptr);

// Checks a container ID before any path is built from it: letters, digits and _ + - ., at most
// 1024 bytes, not starting with "." (no hidden names, no "." or "..").
void validate_id(const std::string& id);

// Default --root: /run/nook for uid 0, $XDG_RUNTIME_DIR/nook, else /tmp/nook-UID.
std::string default_state_root();

// ROOT and ROOT/ID are used only when they are directories (not symlinks) owned by the
// effective uid and not writable by group or others; otherwise the call fails with what is
// wrong ("state root R is owned by uid 1001, not 1000: remove it or use --root"). Both are
// opened O_NOFOLLOW|O_DIRECTORY and checked with fstat, then used through the descriptors.
class ContainerDir {
 public:
  // Creates ROOT/ID exclusively (error if it exists) and locks it; creates ROOT (0700) first
  // when it is missing.
  static ContainerDir create(const std::string& root, const std::string& id);
  // Opens and locks an existing ROOT/ID; throws "container ID does not exist".
  // Returns nullopt instead of throwing when missing_ok. When another process holds the lock
  // and `busy` is given, busy(unlocked directory) runs before waiting for it.
  static std::optional<ContainerDir> open(const std::string& root, const std::string& id,
                                          bool exclusive, bool missing_ok = false,
                                          void (*busy)(const ContainerDir&) = nullptr);
  // For reading only (`state`): locked shared when the lock is free, else left unlocked
  // (locked() false) rather than waiting for the other nook.
  static ContainerDir open_to_read(const std::string& root, const std::string& id);
  bool locked() const { return locked_; }

  int fd() const { return dir_.get(); }
  const std::string& path() const { return path_; }
  const std::string& id() const { return id_; }

  void write_state(const State& s);
  // nullopt when state.json is missing (a create that died before writing it).
  std::optional<State> read_state() const;
  void write_file(const char* name, const std::string& data);
  std::string read_file(const char* name) const;
  // Removes every file and the directory itself.
  void remove();
  void unlock();

 private:
  ContainerDir(Fd root, Fd dir, std::string path, std::string id)
      : root_(std::move(root)), dir_(std::move(dir)), path_(std::move(path)), id_(std::move(id)) {}
  Fd root_;  // the state root, checked when opened (remove() unlinks the directory from it)
  Fd dir_;
  std::string path_, id_;
  bool locked_ = true;
};

// IDs of all containers under ROOT (directory names that pass validate_id); the root is
// checked as ContainerDir does, each directory when it is opened.
std::vector<std::string> list_ids(const std::string& root);

// Serialises / parses a State (exposed for tests and fuzzing).
std::string state_to_json(const State& s);
State state_from_json(const std::string& text, const std::string& name);

// The OCI state document printed by `nook state`.
std::string oci_state_json(const State& s, Status st);

// ROOT/ID/state.oci for `s` and the text of its state.json: the document pre-rendered for the
// pre-libc `state` (its format: src/fast/shared.hpp).
std::string render_state_oci(const State& s, const std::string& state_json);

// Writes `pid` to `file` atomically: a new temporary file of a random name (O_CREAT|O_EXCL|
// O_NOFOLLOW) in its directory, renamed over `file` (a symlink there is replaced, not followed).
void write_pid_file(const std::string& file, pid_t pid);

}  // namespace nook
