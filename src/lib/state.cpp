#include "state.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "../fast/shared.hpp"
#include "config.hpp"
#include "error.hpp"
#include "log.hpp"

namespace nook {

using json = nlohmann::json;

namespace {
static_assert(static_cast<int>(fast::Status::stopped) == static_cast<int>(Status::stopped) &&
              static_cast<int>(fast::Status::creating) == static_cast<int>(Status::creating));
}  // namespace

namespace {

fast::CreatePhase create_phase(const State& s) {
  if (s.create_hooks) return fast::CreatePhase::hooks;
  return s.creating ? fast::CreatePhase::setup : fast::CreatePhase::done;
}

}  // namespace

const char* status_name(Status s) {
  return fast::status_name(static_cast<fast::Status>(s));
}

void validate_id(const std::string& id) {
  fast::IdCheck c = fast::check_id(id.data(), id.size());
  switch (c.problem) {
    case fast::IdProblem::none:
      return;
    case fast::IdProblem::empty:
      fail("container ID is empty");
    case fast::IdProblem::too_long:
      fail("container ID is longer than 1024 bytes");
    case fast::IdProblem::dots:
      fail("container ID \"" + id + "\" is not allowed");
    case fast::IdProblem::bad_char: {
      unsigned char x = static_cast<unsigned char>(id[c.at]);
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", x);
      std::string shown = (x >= 0x20 && x < 0x7f) ? std::string(1, static_cast<char>(x)) : buf;
      fail("container ID contains \"" + shown + "\": only letters, digits and _ + - . are allowed");
    }
    case fast::IdProblem::hidden:
      fail("container ID \"" + id + "\" starts with \".\": an ID must not be a hidden name");
  }
}

std::string default_state_root() {
  char buf[4200];
  fast::Out o{buf, 0, sizeof buf};
  if (!fast::default_root(getenv("XDG_RUNTIME_DIR"), o) || !o.c_str())
    fail("$XDG_RUNTIME_DIR is longer than " + std::to_string(sizeof buf - 32) + " bytes");
  return buf;
}

unsigned long long proc_start_time(pid_t pid, bool* zombie) {
  bool z = false;
  unsigned long long t = fast::read_start_time(pid, &z);
  if (zombie) *zombie = z;
  return t;
}

Status container_status(const State& s, int dirfd) {
  auto [kind, file] = cgroup_freezer_file(s.cgroup);
  return static_cast<Status>(fast::decide_status(s.pid, s.start_time, create_phase(s), dirfd,
                                                 static_cast<fast::FreezerKind>(kind),
                                                 file.c_str()));
}

namespace {

// The state root and every container directory are trusted only when the caller made them:
// another user who can create or replace them (a squatted /tmp/nook-UID, a shared --root)
// could plant a container whose hooks `delete` runs and whose pid `kill` signals (issue 14,
// finding 6). Each is opened O_NOFOLLOW|O_DIRECTORY and checked on the open descriptor:
// owned by the effective uid, and not writable by group or others.
void check_owned(const struct stat& st, const std::string& what, const std::string& path,
                 const char* fix) {
  uid_t me = ::geteuid();
  if (st.st_uid != me)
    fail(what + " " + path + " is owned by uid " + std::to_string(st.st_uid) + ", not " +
         std::to_string(me) + ": " + fix);
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    fail(what + " " + path + " is writable by group or others (mode " + mode + "): " + fix);
  }
}

constexpr const char* kRootFix = "remove it or use --root";
constexpr const char* kDirFix = "refusing to use it; remove it";

// After an O_NOFOLLOW|O_DIRECTORY open of `name` failed with ENOTDIR or ELOOP: what is there.
[[noreturn]] void not_a_directory(int dirfd, const char* name, const std::string& what,
                                  const std::string& path, const char* fix) {
  struct stat st;
  if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
    fail(what + " " + path + " is a symlink: " + fix);
  fail(what + " " + path + " is not a directory: " + fix);
}

// ROOT without trailing slashes (a trailing slash would make O_NOFOLLOW follow a symlink).
std::string trim_root(std::string root) {
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  return root;
}

void make_root(const std::string& root) {
  if (::mkdir(root.c_str(), 0700) == 0 || errno == EEXIST) return;
  if (errno == ENOENT) {
    // Create parents (e.g. /run/user/1000 exists but --root points deeper).
    auto slash = root.rfind('/');
    if (slash != std::string::npos && slash > 0) {
      make_root(root.substr(0, slash));
      if (::mkdir(root.c_str(), 0700) == 0 || errno == EEXIST) return;
    }
  }
  throw_sys("mkdir", root);
}

// Root (uid 0) acting on the containers of a state root that another user owns, such as
// Slurm's --root=/run/nook-slurm/%u (the job's user runs the container, root queries, kills
// and deletes it after the step): whatever is in it was written by that user, so root acts
// as that user for the rest of the call (its hooks run as the user, its signals are the
// user's, as are the cgroups it removes), never as root. The group is the directory's (a
// group the owner is in), or nogroup for root's group; no supplementary groups.
void become_owner(const struct stat& st, const std::string& root) {
  gid_t gid = st.st_gid == 0 ? 65534 : st.st_gid;
  if (::setgroups(0, nullptr) != 0) throw_sys("setgroups", "acting as the owner of " + root);
  if (::setresgid(gid, gid, gid) != 0) throw_sys("setresgid", "acting as the owner of " + root);
  if (::setresuid(st.st_uid, st.st_uid, st.st_uid) != 0)
    throw_sys("setresuid", "acting as the owner of " + root);
  log::debug("state root " + root + " is owned by uid " + std::to_string(st.st_uid) +
             ": acting as uid " + std::to_string(st.st_uid) + ", gid " + std::to_string(gid));
}

// Opens the state root, checked (above); creates it (0700, and missing parents) when
// `create`, else returns no descriptor when it does not exist. Without `create`, root takes
// the identity of the owner of a root that is another user's (become_owner).
Fd open_root(const std::string& path, bool create) {
  if (path.empty()) fail("--root: empty path");
  std::string root = trim_root(path);
  if (create) make_root(root);
  Fd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    if (errno == ENOENT && !create) return fd;
    if (errno == ENOTDIR || errno == ELOOP)
      not_a_directory(AT_FDCWD, root.c_str(), "state root", root, kRootFix);
    throw_sys("open", root);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) throw_sys("stat", root);
  if (!create && ::geteuid() == 0 && st.st_uid != 0 && !(st.st_mode & (S_IWGRP | S_IWOTH)))
    become_owner(st, root);
  check_owned(st, "state root", root, kRootFix);
  return fd;
}

// Opens ROOT/ID below the checked root descriptor; no descriptor when it does not exist.
Fd open_container_dir(int rootfd, const std::string& id, const std::string& path) {
  Fd fd(::openat(rootfd, id.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    if (errno == ENOENT) return fd;
    if (errno == ENOTDIR || errno == ELOOP)
      not_a_directory(rootfd, id.c_str(), "container directory", path, kDirFix);
    throw_sys("open", path);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) throw_sys("stat", path);
  check_owned(st, "container directory", path, kDirFix);
  return fd;
}

void lock(int fd, bool exclusive, const std::string& path) {
  while (::flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0)
    if (errno != EINTR) throw_sys("flock", path);
}

// Creates a new file in `dirfd` under a random name, ".PREFIX.XXXXXXXXXXXXXXXX.nook-tmp":
// O_CREAT|O_EXCL|O_NOFOLLOW, so that nothing planted under that name (a symlink to a file of
// someone else's, a file to truncate) is ever opened (issue 14, finding 5). `where`: the
// directory, for messages.
// 16 random hex digits, for names nobody can guess or race for.
std::string random_hex() {
  unsigned char r[8];
  for (size_t got = 0; got < sizeof r;) {
    ssize_t n = ::getrandom(r + got, sizeof r - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_sys("getrandom", "temporary file name");
    }
    got += static_cast<size_t>(n);
  }
  char hex[sizeof r * 2 + 1];
  for (size_t i = 0; i < sizeof r; i++) std::snprintf(hex + 2 * i, 3, "%02x", r[i]);
  return hex;
}

Fd create_temp(int dirfd, const std::string& prefix, mode_t mode, const std::string& where,
               std::string* name) {
  // The prefix is cut so that the name stays within NAME_MAX (255).
  *name = "." + prefix.substr(0, 200) + "." + random_hex() + ".nook-tmp";
  Fd fd(::openat(dirfd, name->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (!fd) {
    if (errno == EEXIST)
      fail(where + "/" + *name +
           ": a temporary file name nook chose at random is taken: something else writes "
           "in this directory");
    throw_sys("open", where + "/" + *name);
  }
  return fd;
}

void write_all(int fd, const std::string& data, const std::string& path) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_sys("write", path);
    }
    off += static_cast<size_t>(n);
  }
}

// Writes DIR/NAME through a new temporary file and rename(2), which replaces whatever NAME
// is (a symlink included) without opening it.
void write_atomic(int dirfd, const char* name, const std::string& data, mode_t mode,
                  const std::string& where) {
  std::string tmp;
  Fd fd = create_temp(dirfd, name, mode, where, &tmp);
  try {
    write_all(fd.get(), data, where + "/" + tmp);
    if (::renameat(dirfd, tmp.c_str(), dirfd, name) != 0) throw_sys("rename", where + "/" + name);
  } catch (const Error&) {
    ::unlinkat(dirfd, tmp.c_str(), 0);
    throw;
  }
}

}  // namespace

ContainerDir ContainerDir::create(const std::string& root, const std::string& id) {
  validate_id(id);
  Fd r = open_root(root, true);
  std::string path = trim_root(root) + "/" + id;
  // Made under a hidden temporary name, locked, then renamed to ID (never over an existing
  // one): no other nook ever finds ROOT/ID without its lock held, so a delete --force cannot
  // take a create that has not locked yet for the debris of a dead one.
  std::string tmp = ".create." + random_hex() + ".nook-tmp";
  if (::mkdirat(r.get(), tmp.c_str(), 0700) != 0) throw_sys("mkdir", trim_root(root) + "/" + tmp);
  Fd fd = open_container_dir(r.get(), tmp, path);
  if (!fd) throw_sys("open", path, ENOENT);
  lock(fd.get(), true, path);
  if (::renameat2(r.get(), tmp.c_str(), r.get(), id.c_str(), RENAME_NOREPLACE) != 0) {
    int e = errno;
    ::unlinkat(r.get(), tmp.c_str(), AT_REMOVEDIR);
    if (e == EEXIST) fail("container \"" + id + "\" already exists");
    throw_sys("rename", trim_root(root) + "/" + tmp + " to " + path, e);
  }
  return ContainerDir(std::move(r), std::move(fd), std::move(path), id);
}

ContainerDir ContainerDir::open_to_read(const std::string& root, const std::string& id) {
  validate_id(id);
  std::string path = trim_root(root) + "/" + id;
  Fd r = open_root(root, false);
  Fd fd;
  if (r) fd = open_container_dir(r.get(), id, path);
  if (!fd) fail("container \"" + id + "\" does not exist");
  bool locked = true;
  if (::flock(fd.get(), LOCK_SH | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) throw_sys("flock", path);
    locked = false;
  }
  struct stat st;
  if (::fstat(fd.get(), &st) == 0 && st.st_nlink == 0)
    fail("container \"" + id + "\" does not exist");
  ContainerDir d(std::move(r), std::move(fd), std::move(path), id);
  d.locked_ = locked;
  return d;
}

std::optional<ContainerDir> ContainerDir::open(const std::string& root, const std::string& id,
                                               bool exclusive, bool missing_ok,
                                               void (*busy)(const ContainerDir&)) {
  validate_id(id);
  std::string path = trim_root(root) + "/" + id;
  Fd r = open_root(root, false);
  Fd fd;
  if (r) fd = open_container_dir(r.get(), id, path);
  if (!fd) {
    if (missing_ok) return std::nullopt;
    fail("container \"" + id + "\" does not exist");
  }
  if (busy && ::flock(fd.get(), (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) throw_sys("flock", path);
    busy(ContainerDir(Fd(::fcntl(r.get(), F_DUPFD_CLOEXEC, 3)),
                      Fd(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3)), path, id));
    lock(fd.get(), exclusive, path);
  } else if (!busy) {
    lock(fd.get(), exclusive, path);
  }
  // A concurrent delete may have removed the directory while we waited for the lock.
  struct stat st;
  if (::fstat(fd.get(), &st) == 0 && st.st_nlink == 0) {
    if (missing_ok) return std::nullopt;
    fail("container \"" + id + "\" does not exist");
  }
  return ContainerDir(std::move(r), std::move(fd), std::move(path), id);
}

void ContainerDir::write_state(const State& s) {
  // state.oci after state.json: it names the bytes of the state.json it goes with, and the
  // pre-libc `state` uses it only with those (a write that dies between the two, or a hand
  // edit of state.json, leaves it to the full path).
  std::string text = state_to_json(s);
  write_atomic(fd(), "state.json", text, 0600, path_);
  write_atomic(fd(), "state.oci", render_state_oci(s, text), 0600, path_);
}

void ContainerDir::write_file(const char* name, const std::string& data) {
  write_atomic(fd(), name, data, 0600, path_);
}

std::string ContainerDir::read_file(const char* name) const {
  Fd f(::openat(fd(), name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!f) throw_sys("open", path_ + "/" + name);
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(f.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_sys("read", path_ + "/" + name);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::optional<State> ContainerDir::read_state() const {
  Fd f(::openat(fd(), "state.json", O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!f) {
    if (errno == ENOENT) return std::nullopt;
    throw_sys("open", path_ + "/state.json");
  }
  f.reset();
  State s = state_from_json(read_file("state.json"), path_ + "/state.json");
  if (s.id != id_) fail(path_ + "/state.json: belongs to container \"" + s.id + "\"");
  return s;
}

void ContainerDir::remove() {
  // Unlink every entry (the directory is flat), then the directory itself.
  Fd d(::openat(fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!d) throw_sys("open", path_);
  DIR* dir = ::fdopendir(d.release());
  if (!dir) throw_sys("fdopendir", path_);
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(dir)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    names.emplace_back(e->d_name);
  }
  ::closedir(dir);
  for (auto& n : names)
    if (::unlinkat(fd(), n.c_str(), 0) != 0 && errno != ENOENT)
      throw_sys("unlink", path_ + "/" + n);
  if (::unlinkat(root_.get(), id_.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
    throw_sys("rmdir", path_);
}

void ContainerDir::unlock() {
  ::flock(fd(), LOCK_UN);
}

std::vector<std::string> list_ids(const std::string& root) {
  std::vector<std::string> out;
  Fd r = open_root(root, false);
  if (!r) return out;
  DIR* d = ::fdopendir(r.get());
  if (!d) throw_sys("opendir", root);
  r.release();
  while (struct dirent* e = ::readdir(d)) {
    try {
      validate_id(e->d_name);  // also skips ".", ".." and other hidden names
    } catch (const Error&) {
      continue;
    }
    out.emplace_back(e->d_name);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::string state_to_json(const State& s) {
  json j = {{"id", s.id},
            {"pid", s.pid},
            {"startTime", s.start_time},
            {"bundle", s.bundle},
            {"rootfs", s.rootfs},
            {"created", s.created},
            {"owner", s.owner},
            {"singleId", s.single_id},
            {"rootEmulation", s.root_emulation},
            {"hooks", s.hooks},
            {"ownPidns", s.own_pidns},
            {"creating", s.creating},
            {"createHooks", s.create_hooks},
            {"annotations", s.annotations}};
  if (!s.cgroup.v2.empty()) j["cgroupV2"] = s.cgroup.v2;
  if (!s.cgroup.v1.empty()) j["cgroupV1"] = s.cgroup.v1;
  if (s.cgroup.systemd) j["cgroupSystemd"] = true;
  // Paths are bytes, JSON is UTF-8: a bundle path that is not UTF-8 is stored with U+FFFD in
  // place of the bad bytes (as runc's encoding/json does); bundle and rootfs are only shown.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

// An integer member in [lo, hi]. nlohmann's get<int>() of 1e300 or -1 would convert with
// undefined behaviour or wrap; a state file is ours, but damage must read as damage.
uint64_t state_int(const json& j, const char* key, uint64_t hi, const std::string& name,
                   uint64_t dflt, bool required) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (required) fail(name + ": corrupt state file: \"" + key + "\" is missing");
    return dflt;
  }
  if (!it->is_number_unsigned() || it->get<uint64_t>() > hi)
    fail(name + ": corrupt state file: \"" + key + "\" is not an integer in 0.." +
         std::to_string(hi));
  return it->get<uint64_t>();
}

}  // namespace

State state_from_json(const std::string& text, const std::string& name) {
  State s;
  try {
    json j = json::parse(text);
    if (!j.is_object()) fail(name + ": not a JSON object");
    s.id = j.at("id").get<std::string>();
    s.pid = static_cast<pid_t>(state_int(j, "pid", INT32_MAX, name, 0, true));
    s.start_time = state_int(j, "startTime", UINT64_MAX, name, 0, true);
    s.bundle = j.at("bundle").get<std::string>();
    s.rootfs = j.value("rootfs", "");
    s.created = j.value("created", "");
    s.owner = static_cast<uid_t>(state_int(j, "owner", UINT32_MAX, name, 0, false));
    s.single_id = j.value("singleId", false);
    s.root_emulation = j.value("rootEmulation", false);
    s.hooks = j.value("hooks", false);
    s.own_pidns = j.value("ownPidns", false);
    s.creating = j.value("creating", false);
    s.create_hooks = j.value("createHooks", false);
    if (j.contains("annotations"))
      s.annotations = j.at("annotations").get<std::map<std::string, std::string>>();
    s.cgroup.v2 = j.value("cgroupV2", "");
    if (j.contains("cgroupV1")) s.cgroup.v1 = j.at("cgroupV1").get<std::vector<std::string>>();
    s.cgroup.systemd = j.value("cgroupSystemd", false);
  } catch (const json::exception& e) {
    std::string m = e.what();
    if (auto p = m.find("] "); p != std::string::npos) m = m.substr(p + 2);
    fail(name + ": corrupt state file: " + m);
  }
  return s;
}

namespace {

// The OCI state document of `s` cut in three where the pid and the status go (shared.hpp).
struct StateDoc {
  std::string head, mid, tail;
};

StateDoc render_state(const State& s) {
  json j = {{"ociVersion", kOciVersion},
            {"id", s.id},
            {"status", ""},
            {"pid", 0},
            {"bundle", s.bundle},
            {"rootfs", s.rootfs},
            {"created", s.created},
            {"owner", s.owner == 0 ? std::string("root") : std::to_string(s.owner)},
            {"annotations", s.annotations}};
  j["nook"] = {{"singleIdMapping", s.single_id}, {"rootEmulation", s.root_emulation}};
  std::string t = j.dump(2, ' ', false, json::error_handler_t::replace);
  // A raw newline and two spaces start a top-level member only (a newline in a string is
  // written \n, and nested members are indented further): each place is found once.
  const std::string pid = "\n  \"pid\": ", status = "\n  \"status\": \"";
  size_t p = t.find(pid + "0,"), q = t.find(status + "\"\n}");
  if (p == std::string::npos || q == std::string::npos || q < p)
    fail("internal error: cannot place pid and status in the state document");
  p += pid.size();
  q += status.size();
  return {t.substr(0, p), t.substr(p + 1, q - p - 1), t.substr(q)};
}

std::string fill(const StateDoc& d, Status st, pid_t pid) {
  std::string out(d.head.size() + d.mid.size() + d.tail.size() + 32, '\0');
  fast::Out o{out.data(), 0, out.size()};
  fast::fill_state(o, d.head.c_str(), d.mid.c_str(), d.tail.c_str(), static_cast<fast::Status>(st),
                   pid);
  out.resize(o.n);
  return out;
}

}  // namespace

std::string oci_state_json(const State& s, Status st) {
  return fill(render_state(s), st, s.pid);
}

std::string render_state_oci(const State& s, const std::string& state_json) {
  StateDoc d = render_state(s);
  auto [kind, file] = cgroup_freezer_file(s.cgroup);
  char hex[17];
  fast::Out h{hex, 0, sizeof hex};
  fast::put_hex(h, fast::fnv1a(state_json.data(), state_json.size()));
  std::string out;
  for (const std::string& f :
       {std::string(fast::kOciMagic), s.id, std::string(h.c_str()), std::to_string(s.pid),
        std::to_string(s.start_time), std::to_string(static_cast<int>(create_phase(s))),
        std::to_string(kind), file, d.head, d.mid, d.tail}) {
    out += f;
    out += '\0';
  }
  return out;
}

void write_pid_file(const std::string& file, pid_t pid) {
  // The pid file's directory is often not nook's (a client's run directory, /tmp): a new
  // file of a random name, renamed over FILE (issue 14, finding 5).
  std::string dir = ".", base = file;
  if (auto p = file.rfind('/'); p != std::string::npos) {
    dir = p == 0 ? "/" : file.substr(0, p);
    base = file.substr(p + 1);
  }
  if (base.empty() || base == "." || base == "..") fail("pid file " + file + ": not a file name");
  Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!d) throw_sys("open pid file directory", dir);
  write_atomic(d.get(), base.c_str(), std::to_string(pid), 0644, dir);
}

}  // namespace nook
