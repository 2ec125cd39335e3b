// The command line's word handling (src/cli/app.cpp): which verb find_verb() sees, and which
// one-dash long flags normalise() rewrites, from the options build_app() registered (no
// hand-kept list). The same command lines through the binary are in tests/integration/cli.bats
// and exec.bats.
#include "cli.hpp"

#include <fcntl.h>  // shared.hpp's includer provides the O_* and AT_* constants
#include <gtest/gtest.h>
#include <sys/stat.h>  // and struct stat

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "../../src/fast/shared.hpp"

namespace {

using Words = std::vector<std::string>;

struct Argv {
  explicit Argv(Words w) : words(std::move(w)) {
    ptrs.push_back(const_cast<char*>("nook"));
    for (auto& s : words) ptrs.push_back(s.data());
    ptrs.push_back(nullptr);
  }
  int argc() const { return static_cast<int>(ptrs.size() - 1); }
  char** argv() { return ptrs.data(); }
  Words words;
  std::vector<char*> ptrs;
};

std::string verb_of(Words w) {
  Argv a(std::move(w));
  return nook::cli::find_verb(a.argc(), a.argv());
}

// normalise() as main() calls it, back in command-line order.
Words normalised(Words w) {
  Argv a(std::move(w));
  nook::cli::Globals g;
  CLI::App app{"nook", "nook"};
  nook::cli::build_app(app, g, nook::cli::find_verb(a.argc(), a.argv()));
  Words out = nook::cli::normalise(app, a.argc(), a.argv());
  std::reverse(out.begin(), out.end());
  return out;
}

TEST(CliVerb, FirstWordAfterTheGlobalOptionsAndTheirValues) {
  EXPECT_EQ(verb_of({"state", "x"}), "state");
  EXPECT_EQ(verb_of({"--root", "/r", "--debug", "state", "x"}), "state");
  EXPECT_EQ(verb_of({"-root", "/r", "-log-format", "json", "exec", "x"}), "exec");
  EXPECT_EQ(verb_of({"--root=/r", "--rootless", "true", "run", "x"}), "run");
  EXPECT_EQ(verb_of({"--cgroup-manager", "systemd", "--systemd-cgroup", "kill", "x"}), "kill");
  EXPECT_EQ(verb_of({"--log", "state", "list"}), "list");  // "state" is --log's value
  EXPECT_EQ(verb_of({"--", "run", "x"}), "");
  EXPECT_EQ(verb_of({"--debug"}), "");
}

TEST(CliNormalise, OneDashLongFlagsOfTheVerbAndTheGlobals) {
  EXPECT_EQ(normalised({"-root", "/r", "-debug", "create", "-bundle", "b", "-pid-file=p", "id"}),
            (Words{"--root", "/r", "--debug", "create", "--bundle", "b", "--pid-file=p", "id"}));
  EXPECT_EQ(normalised({"-root=/r", "run", "-detach", "-keep", "-no-subreaper", "id"}),
            (Words{"--root=/r", "run", "--detach", "--keep", "--no-subreaper", "id"}));
  EXPECT_EQ(normalised({"list", "-quiet", "-format", "json"}),
            (Words{"list", "--quiet", "--format", "json"}));
  EXPECT_EQ(normalised({"kill", "-all", "id", "KILL"}), (Words{"kill", "--all", "id", "KILL"}));
  EXPECT_EQ(normalised({"delete", "-force", "id"}), (Words{"delete", "--force", "id"}));
  // A verb's new options get their one-dash spelling with no other edit (events came later).
  EXPECT_EQ(normalised({"events", "-interval", "1s", "-stats", "id"}),
            (Words{"events", "--interval", "1s", "--stats", "id"}));
  EXPECT_EQ(normalised({"-help"}), (Words{"--help"}));
  EXPECT_EQ(normalised({"state", "-version"}), (Words{"state", "--version"}));
  // Not an option of nook's: left for CLI11 to refuse.
  EXPECT_EQ(normalised({"state", "-bogus", "id"}), (Words{"state", "-bogus", "id"}));
  // An empty --root= is passed on as an empty value.
  EXPECT_EQ(normalised({"--root=", "list"}), (Words{"--root", "", "list"}));
}

TEST(CliNormalise, ExecCommandIsPassedAsItIs) {
  // -u, --user, -e, -p, -c take a value: the word after each is not the container ID, so the
  // options after it are still exec's (-cwd, -tty rewritten); after the ID nothing is.
  EXPECT_EQ(normalised({"exec", "-u", "0", "-cwd", "/tmp", "id", "ls", "-all", "-root"}),
            (Words{"exec", "-u", "0", "--cwd", "/tmp", "id", "ls", "-all", "-root"}));
  EXPECT_EQ(normalised({"exec", "--user", "0", "-e", "A=1", "-tty", "id", "sh", "-cwd"}),
            (Words{"exec", "--user", "0", "-e", "A=1", "--tty", "id", "sh", "-cwd"}));
  EXPECT_EQ(normalised({"exec", "-p", "/p.json", "-c", "CAP_KILL", "-detach", "id", "x"}),
            (Words{"exec", "-p", "/p.json", "-c", "CAP_KILL", "--detach", "id", "x"}));
  EXPECT_EQ(normalised({"exec", "-process-label", "l", "-ignore-paused", "id", "-x"}),
            (Words{"exec", "--process-label", "l", "--ignore-paused", "id", "-x"}));
  EXPECT_EQ(normalised({"-root", "/r", "exec", "id", "--", "-root"}),
            (Words{"--root", "/r", "exec", "id", "--", "-root"}));
  // A global flag takes no value: "exec" after it is the verb.
  EXPECT_EQ(normalised({"-debug", "exec", "-cwd", "/", "id", "ls", "-root"}),
            (Words{"--debug", "exec", "--cwd", "/", "id", "ls", "-root"}));
  EXPECT_EQ(normalised({"--systemd-cgroup", "exec", "-t", "id", "ls", "-cwd"}),
            (Words{"--systemd-cgroup", "exec", "-t", "id", "ls", "-cwd"}));
  // ps: the words after the ID are ps(1)'s options, left alone
  EXPECT_EQ(normalised({"ps", "--format", "table", "id", "-root", "-o", "pid"}),
            (Words{"ps", "--format", "table", "id", "-root", "-o", "pid"}));
}

// build_app's global options are the ones src/fast/shared.hpp lists, with the same kind
// (value or flag): find_verb() and the pre-libc `state` read that list before any app exists.
TEST(CliGlobals, BuildAppRegistersExactlyTheSharedList) {
  nook::cli::Globals g;
  CLI::App app{"nook", "nook"};
  nook::cli::build_app(app, g, "state");
  std::set<std::pair<std::string, bool>> registered, listed;
  for (const CLI::Option* o : app.get_options())
    for (const std::string& n : o->get_lnames())
      if (n != "help" && n != "version") registered.emplace(n, o->get_items_expected_max() != 0);
  nook::fast::each_global([&](const char* name, unsigned long n, const char* values) {
    listed.emplace(std::string(name, n), values != nullptr);
  });
  EXPECT_EQ(registered, listed);
}

// The values a global option accepts come from the same list: each listed one parses, and
// anything else is refused.
TEST(CliGlobals, ValuesAreTheSharedLists) {
  int checked = 0;
  nook::fast::each_global([&](const char* name, unsigned long n, const char* values) {
    if (!values || !*values) return;
    std::string opt = "--" + std::string(name, n) + "=";
    auto parses = [&](const std::string& v) {
      nook::cli::Globals g;
      CLI::App app{"nook", "nook"};
      nook::cli::build_app(app, g, "state");
      try {
        app.parse(std::vector<std::string>{"id", "state", opt + v});
        return true;
      } catch (const CLI::ParseError&) {
        return false;
      }
    };
    for (const char* v = values; *v;) {
      const char* e = v;
      while (*e && *e != '|') e++;
      EXPECT_TRUE(parses(std::string(v, e))) << opt << std::string(v, e);
      v = *e ? e + 1 : e;
    }
    EXPECT_FALSE(parses("not-a-value")) << opt;
    checked++;
  });
  EXPECT_EQ(checked, 3);  // log-format, rootless, cgroup-manager
}

}  // namespace
