// The state directory's trust rules (issue 14, findings 5, 6 and 9): what ContainerDir,
// list_ids and write_pid_file accept and the messages they give. The same cases through the
// command line, as root and unprivileged, are in tests/integration/statedir.bats.
#include "state.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "error.hpp"

namespace nook {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (auto* e = ::readdir(d))
    if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") out.push_back(e->d_name);
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

class StateDir : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/nook-state-test-XXXXXX";
    ASSERT_NE(::mkdtemp(t), nullptr);
    tmp_ = t;
    root_ = tmp_ + "/root";
  }
  void TearDown() override { (void)!std::system(("rm -rf '" + tmp_ + "'").c_str()); }
  std::string me() const { return std::to_string(::geteuid()); }
  std::string tmp_, root_;
};

TEST(StateId, HiddenNamesAreRefused) {
  for (auto id : {"a.b", "a.", "x..y", "a-.b"}) EXPECT_NO_THROW(validate_id(id)) << id;
  EXPECT_EQ(error_of([] { validate_id(".hidden"); }),
            "container ID \".hidden\" starts with \".\": an ID must not be a hidden name");
  EXPECT_EQ(error_of([] { validate_id("..x"); }),
            "container ID \"..x\" starts with \".\": an ID must not be a hidden name");
  EXPECT_EQ(error_of([] { validate_id("."); }), "container ID \".\" is not allowed");
  EXPECT_EQ(error_of([] { validate_id(".."); }), "container ID \"..\" is not allowed");
  // a bad character is named before the dot rule (one line, no control character shown raw)
  EXPECT_EQ(error_of([] { validate_id(".\n"); }),
            "container ID contains \"\\x0a\": only letters, digits and _ + - . are allowed");
}

TEST_F(StateDir, CreateMakesPrivateRootAndDirectory) {
  auto d = ContainerDir::create(root_, "c1");
  struct stat st;
  ASSERT_EQ(::stat(root_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  ASSERT_EQ(::stat((root_ + "/c1").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  d.write_file("config.json", "{}");
  d.write_file("config.json", "{\"a\": 1}");
  // the temporary files were renamed: nothing else is left
  EXPECT_EQ(entries(root_ + "/c1"), std::vector<std::string>{"config.json"});
  EXPECT_EQ(slurp(root_ + "/c1/config.json"), "{\"a\": 1}");
  ASSERT_EQ(::stat((root_ + "/c1/config.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  d.remove();
  EXPECT_EQ(entries(root_), std::vector<std::string>{});
  // a missing root: nothing listed, nothing to open
  EXPECT_TRUE(list_ids(tmp_ + "/none").empty());
  EXPECT_FALSE(ContainerDir::open(tmp_ + "/none", "c1", false, true));
  EXPECT_EQ(error_of([&] { ContainerDir::open(tmp_ + "/none", "c1", false); }),
            "container \"c1\" does not exist");
  EXPECT_EQ(error_of([&] { ContainerDir::open("", "c1", false); }), "--root: empty path");
}

TEST_F(StateDir, RootWritableByOthersIsRefused) {
  ASSERT_EQ(::mkdir(root_.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(root_.c_str(), 0777), 0);
  std::string want = "state root " + root_ +
                     " is writable by group or others (mode 0777): remove it or use --root";
  EXPECT_EQ(error_of([&] { ContainerDir::create(root_, "c1"); }), want);
  EXPECT_EQ(error_of([&] { ContainerDir::open(root_, "c1", false, true); }), want);
  EXPECT_EQ(error_of([&] { list_ids(root_); }), want);
  // with a trailing slash too
  EXPECT_EQ(error_of([&] { list_ids(root_ + "//"); }), want);
  EXPECT_EQ(entries(root_), std::vector<std::string>{});  // create made nothing in it
  ASSERT_EQ(::chmod(root_.c_str(), 0720), 0);
  EXPECT_NE(error_of([&] { list_ids(root_); }).find("(mode 0720)"), std::string::npos);
  ASSERT_EQ(::chmod(root_.c_str(), 0755), 0);  // readable by others is fine
  EXPECT_NO_THROW(list_ids(root_));
}

TEST_F(StateDir, SymlinkRootIsRefused) {
  ASSERT_EQ(::mkdir((tmp_ + "/real").c_str(), 0700), 0);
  ASSERT_EQ(::symlink((tmp_ + "/real").c_str(), root_.c_str()), 0);
  std::string want = "state root " + root_ + " is a symlink: remove it or use --root";
  EXPECT_EQ(error_of([&] { ContainerDir::create(root_, "c1"); }), want);
  EXPECT_EQ(error_of([&] { list_ids(root_ + "/"); }), want);
  EXPECT_EQ(entries(tmp_ + "/real"), std::vector<std::string>{});
}

TEST_F(StateDir, ContainerDirectoryChecks) {
  ContainerDir::create(root_, "c1").unlock();
  // a symlink where a container directory should be, and a file
  ASSERT_EQ(::symlink((tmp_).c_str(), (root_ + "/c2").c_str()), 0);
  EXPECT_EQ(error_of([&] { ContainerDir::open(root_, "c2", true, true); }),
            "container directory " + root_ + "/c2 is a symlink: refusing to use it; remove it");
  { std::ofstream(root_ + "/c3") << "x"; }
  EXPECT_EQ(
      error_of([&] { ContainerDir::open(root_, "c3", true, true); }),
      "container directory " + root_ + "/c3 is not a directory: refusing to use it; remove it");
  ASSERT_EQ(::chmod((root_ + "/c1").c_str(), 0757), 0);
  EXPECT_EQ(error_of([&] { ContainerDir::open(root_, "c1", false); }),
            "container directory " + root_ +
                "/c1 is writable by group or others (mode 0757): refusing to use it; remove it");
  ASSERT_EQ(::chmod((root_ + "/c1").c_str(), 0700), 0);
  EXPECT_NO_THROW(ContainerDir::open(root_, "c1", false));
}

// Runs `f` in a child process (it may change the credentials); its result string.
std::string in_child(const std::function<std::string()>& f) {
  int p[2];
  if (::pipe(p) != 0) return "pipe failed";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(p[0]);
    std::string r = f();
    (void)!::write(p[1], r.data(), r.size());
    ::_exit(0);
  }
  ::close(p[1]);
  std::string out;
  char buf[512];
  for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return out;
}

TEST_F(StateDir, OtherUsersDirectoriesAreRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to make files of another uid";
  ContainerDir::create(root_, "c1").unlock();
  ASSERT_EQ(::chown((root_ + "/c1").c_str(), 4242, 4242), 0);
  EXPECT_EQ(error_of([&] { ContainerDir::open(root_, "c1", true, true); }),
            "container directory " + root_ +
                "/c1 is owned by uid 4242, not 0: refusing to use it; remove it");
  // still listed by name (list warns about it when it opens it)
  EXPECT_EQ(list_ids(root_), std::vector<std::string>{"c1"});
  // a state root of another user: root does not create containers in it
  ASSERT_EQ(::chmod(tmp_.c_str(), 0755), 0);
  ASSERT_EQ(::chown(root_.c_str(), 4242, 4243), 0);
  EXPECT_EQ(error_of([&] { ContainerDir::create(root_, "c9"); }),
            "state root " + root_ + " is owned by uid 4242, not 0: remove it or use --root");
  EXPECT_EQ(entries(root_), std::vector<std::string>{"c1"});
  // and acts on the containers in it as its owner: uid 4242, the directory's group
  EXPECT_EQ(in_child([&] {
              auto d = ContainerDir::open(root_, "c1", true);
              return std::to_string(::geteuid()) + " " + std::to_string(::getegid()) + " " +
                     std::to_string(::getuid()) + " " + std::to_string(::getgroups(0, nullptr));
            }),
            "4242 4243 4242 0");
  // whose containers must be its own: one of root's in it is refused
  ASSERT_EQ(::chown((root_ + "/c1").c_str(), 0, 0), 0);
  ASSERT_EQ(::chmod((root_ + "/c1").c_str(), 0755), 0);  // (0700: "Permission denied")
  EXPECT_EQ(in_child([&] { return error_of([&] { ContainerDir::open(root_, "c1", true); }); }),
            "container directory " + root_ +
                "/c1 is owned by uid 0, not 4242: refusing to use it; remove it");
  // root's group is not kept: nogroup instead
  ASSERT_EQ(::chown(root_.c_str(), 4242, 0), 0);
  EXPECT_EQ(in_child([&] {
              list_ids(root_);
              return std::to_string(::getegid());
            }),
            "65534");
  // a root writable by others is refused, not adopted
  ASSERT_EQ(::chmod(root_.c_str(), 0777), 0);
  EXPECT_EQ(in_child([&] {
              return error_of([&] { list_ids(root_); }) + " " + std::to_string(::geteuid());
            }),
            "state root " + root_ + " is owned by uid 4242, not 0: remove it or use --root 0");
}

TEST_F(StateDir, PidFileNeverOpensWhatIsThere) {
  std::string dir = tmp_ + "/run", victim = tmp_ + "/victim";
  ASSERT_EQ(::mkdir(dir.c_str(), 0777), 0);
  { std::ofstream(victim) << "precious"; }
  // the temporary name of nook before (".NAME.nook-tmp") planted as a symlink, and the pid
  // file itself a symlink: neither is followed
  ASSERT_EQ(::symlink(victim.c_str(), (dir + "/.pid.nook-tmp").c_str()), 0);
  ASSERT_EQ(::symlink(victim.c_str(), (dir + "/pid").c_str()), 0);
  write_pid_file(dir + "/pid", 1234);
  EXPECT_EQ(slurp(victim), "precious");
  struct stat st;
  ASSERT_EQ(::lstat((dir + "/pid").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(slurp(dir + "/pid"), "1234");
  EXPECT_EQ(entries(dir), (std::vector<std::string>{".pid.nook-tmp", "pid"}));
  // a relative name, and one too long for a temporary name with a prefix
  std::string cwd(4096, 0);
  ASSERT_NE(::getcwd(cwd.data(), cwd.size()), nullptr);
  ASSERT_EQ(::chdir(dir.c_str()), 0);
  write_pid_file("rel", 7);
  std::string longname(250, 'p');
  write_pid_file(longname, 8);
  ASSERT_EQ(::chdir(cwd.c_str()), 0);
  EXPECT_EQ(slurp(dir + "/rel"), "7");
  EXPECT_EQ(slurp(dir + "/" + longname), "8");
  EXPECT_NE(error_of([&] { write_pid_file(tmp_ + "/nodir/pid", 1); }), "");
  EXPECT_NE(error_of([&] { write_pid_file(dir + "/", 1); }), "");
}

}  // namespace
}  // namespace nook
