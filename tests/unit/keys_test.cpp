// The config-key policy (src/lib/keys.cpp) against docs/config-keys.md, both ways, and against
// what the code does with the keys: validation's refusals, create's warnings, the mount option
// parser's tables and `nook features`.
#include "keys.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "config.hpp"
#include "error.hpp"
#include "mounts.hpp"
#include "spec.hpp"

using namespace nook;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct DocRow {
  int line;
  std::string key, root, unprivileged, test, text;
};

// The rows of the two key tables of docs/config-keys.md ("| Key | Root | Unprivileged | Test |").
std::vector<DocRow> doc_rows() {
  std::istringstream in(read_text(NOOK_DOCS "/config-keys.md"));
  std::vector<DocRow> rows;
  std::string line;
  bool in_table = false;
  for (int n = 1; std::getline(in, line); n++) {
    if (line.rfind("| Key | Root | Unprivileged | Test |", 0) == 0) {
      in_table = true;
      continue;
    }
    if (!in_table || line.rfind("|---", 0) == 0) continue;
    if (line.rfind("| ", 0) != 0) {
      in_table = false;
      continue;
    }
    std::vector<std::string> cells;
    size_t i = 2;
    for (size_t j; (j = line.find(" | ", i)) != std::string::npos; i = j + 3)
      cells.push_back(line.substr(i, j - i));
    cells.push_back(line.substr(i, line.size() - i - 2));  // the last, before " |"
    EXPECT_EQ(cells.size(), 4u) << "config-keys.md:" << n << ": " << line;
    if (cells.size() == 4) rows.push_back({n, cells[0], cells[1], cells[2], cells[3], line});
  }
  return rows;
}

std::vector<std::string> words(std::string_view list) {
  std::vector<std::string> out;
  std::istringstream in{std::string(list)};
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Whether `cell` begins with the phrase of `t` as a whole word ("refused" is not "refused
// where", the lsm treatment).
bool begins_with(const std::string& cell, Treatment t) {
  std::string p(treatment_phrase(t));
  if (cell.rfind(p, 0) != 0) return false;
  if (t == Treatment::refused && cell.rfind("refused where", 0) == 0) return false;
  return cell.size() == p.size() || !std::isalpha(static_cast<unsigned char>(cell[p.size()]));
}

const char* kBaseConfig = R"({"ociVersion": "1.2.0", "root": {"path": "rootfs"},
  "process": {"cwd": "/", "args": ["sh"]},
  "linux": {"namespaces": [{"type": "mount"}]}})";

// config.json = kBaseConfig with `patch` merged in (RFC 7386).
Config config_with(const std::string& patch) {
  auto j = nlohmann::json::parse(kBaseConfig);
  j.merge_patch(nlohmann::json::parse(patch));
  return parse_config(j.dump());
}

std::string config_error(const std::string& patch) {
  try {
    config_with(patch);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(KeyPolicy, EveryTableRowIsInTheDocAndEveryDocRowInTheTable) {
  auto rows = doc_rows();
  std::vector<std::string> doc, table;
  for (auto& r : rows) doc.push_back(r.key);
  for (auto& k : key_policies()) table.push_back(std::string(k.label));
  std::set<std::string> d(doc.begin(), doc.end()), t(table.begin(), table.end());
  for (auto& k : table) EXPECT_TRUE(d.count(k)) << "table row missing in config-keys.md: " << k;
  for (auto& r : rows)
    EXPECT_TRUE(t.count(r.key)) << "config-keys.md:" << r.line << ": not in keys.cpp: " << r.key;
  EXPECT_EQ(d.size(), doc.size()) << "a key row repeats in config-keys.md";
  EXPECT_EQ(t.size(), table.size()) << "a label repeats in keys.cpp";
  EXPECT_EQ(doc, table) << "the rows are in another order";
  EXPECT_GT(rows.size(), 90u);
}

TEST(KeyPolicy, EachDocCellBeginsWithTheTablesTreatment) {
  std::map<std::string, DocRow> by_key;
  for (auto& r : doc_rows()) by_key[r.key] = r;
  for (auto& k : key_policies()) {
    auto it = by_key.find(std::string(k.label));
    if (it == by_key.end()) continue;  // reported above
    const DocRow& r = it->second;
    EXPECT_TRUE(begins_with(r.root, k.root))
        << "config-keys.md:" << r.line << ": Root of " << r.key << " should begin with \""
        << treatment_phrase(k.root) << "\": " << r.root;
    if (r.unprivileged == "same") {
      EXPECT_EQ(k.unprivileged, k.root)
          << "config-keys.md:" << r.line << ": \"same\" for " << r.key << ", the table differs";
    } else {
      EXPECT_TRUE(begins_with(r.unprivileged, k.unprivileged))
          << "config-keys.md:" << r.line << ": Unprivileged of " << r.key << " should begin with \""
          << treatment_phrase(k.unprivileged) << "\": " << r.unprivileged;
    }
    if (!k.reason.empty()) {
      EXPECT_NE(r.text.find(k.reason), std::string::npos)
          << "config-keys.md:" << r.line << ": the reason \"" << k.reason << "\" is not in the row";
    }
  }
}

// The Test column names bats tests that exist ("abbr: "name", "name"; abbr: ...").
TEST(KeyPolicy, TheDocsTestColumnNamesRealTests) {
  const std::map<std::string, std::string> files = {{"mounts", "config_mounts"},
                                                    {"ns", "config_namespaces"},
                                                    {"proc", "config_process"},
                                                    {"gen", "config_general"},
                                                    {"run", "run"},
                                                    {"seccomp", "seccomp"},
                                                    {"cgroup", "cgroup"},
                                                    {"bad", "badinput"},
                                                    {"term", "terminal"}};
  std::map<std::string, std::string> text;
  for (auto& [abbr, file] : files)
    text[abbr] = read_text(NOOK_TESTS "/integration/" + file + ".bats");
  std::regex token(R"re((\b[a-z]+): |"([^"]+)")re");
  int named = 0;
  for (auto& r : doc_rows()) {
    std::string file;
    for (std::sregex_iterator it(r.test.begin(), r.test.end(), token), end; it != end; ++it) {
      if ((*it)[1].matched) {
        file = (*it)[1];
        continue;
      }
      ASSERT_TRUE(text.count(file)) << "config-keys.md:" << r.line << ": no abbreviation " << file;
      std::string name = (*it)[2];
      EXPECT_NE(text[file].find("@test \"" + name + "\""), std::string::npos)
          << "config-keys.md:" << r.line << ": no test \"" << name << "\" in " << files.at(file);
      named++;
    }
  }
  EXPECT_GT(named, 100);
}

TEST(KeyPolicy, PointersAreJsonPointersAndLookUpTheirRow) {
  std::set<std::pair<std::string, std::string>> seen;
  for (auto& k : key_policies()) {
    for (auto& p : words(k.pointers)) {
      EXPECT_EQ(p[0], '/') << k.label;
      auto vs = words(k.values);
      if (vs.empty()) vs.push_back("");
      for (auto& v : vs) {
        EXPECT_TRUE(seen.insert({p, v}).second) << "two rows for " << p << " " << v;
        EXPECT_EQ(&key_policy(p, v), &k) << p << " " << v;
      }
    }
    // Only keys nook ignores (as root, unprivileged or both) are warned about; those it
    // ignores for everyone say why.
    if (k.set_in) {
      EXPECT_TRUE(k.root == Treatment::ignored || k.unprivileged == Treatment::ignored) << k.label;
    }
    if (k.root == Treatment::ignored || k.root == Treatment::lsm) {
      EXPECT_FALSE(k.reason.empty()) << k.label;
    }
  }
  EXPECT_THROW(key_policy("/no/such/key"), Error);
  EXPECT_EQ(dotted("/process/user/username"), "process.user.username");
}

// The mount option rows and the parser's tables are the same options, treated the same.
TEST(KeyPolicy, MountOptionRowsAreTheParsersTables) {
  std::vector<std::string> honoured;
  for (auto& k : key_policies()) {
    if (k.pointers != "/mounts/*/options") continue;
    for (auto& opt : words(k.values)) {
      switch (k.root) {
        case Treatment::honoured: {
          honoured.push_back(opt);
          MountOptions o = parse_mount_options({opt}, "/m");
          EXPECT_EQ(o.data, "") << opt << " goes to the filesystem, not applied by nook";
          EXPECT_TRUE(o.ignored.empty()) << opt;
          break;
        }
        case Treatment::refused:
          try {
            parse_mount_options({opt}, "/m");
            ADD_FAILURE() << opt << ": not refused";
          } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(k.reason), std::string::npos) << e.what();
          }
          break;
        case Treatment::ignored:
          EXPECT_EQ(parse_mount_options({opt}, "/m").ignored, std::vector<std::string>{opt});
          break;
        default:
          ADD_FAILURE() << opt << ": no mount option is " << treatment_phrase(k.root);
      }
    }
  }
  std::sort(honoured.begin(), honoured.end());
  EXPECT_EQ(honoured, mount_option_names());
  // anything else is data for the filesystem
  EXPECT_EQ(parse_mount_options({"size=1m"}, "/m").data, "size=1m");
}

TEST(KeyPolicy, FeaturesReportsTheTable) {
  auto f = nlohmann::json::parse(features_json());
  EXPECT_EQ(f["mountOptions"].get<std::vector<std::string>>(), mount_option_names());
  EXPECT_EQ(f["linux"]["apparmor"]["enabled"], key_supported("/process/apparmorProfile"));
  EXPECT_EQ(f["linux"]["selinux"]["enabled"], key_supported("/process/selinuxLabel"));
  EXPECT_EQ(f["linux"]["intelRdt"]["enabled"], key_supported("/linux/intelRdt"));
  EXPECT_EQ(f["linux"]["mountExtensions"]["idmap"]["enabled"],
            key_supported("/mounts/*/options", "idmap"));
  for (auto* p : {"/process/apparmorProfile", "/linux/intelRdt"}) EXPECT_FALSE(key_supported(p));
  EXPECT_TRUE(key_supported("/hostname"));
}

// Validation refuses the refused keys, with the table's reason and the key's pointer.
TEST(KeyPolicy, ValidationRefusesWithTheTablesReason) {
  const std::pair<const char*, const char*> cases[] = {
      {"/linux/intelRdt", R"({"linux": {"intelRdt": {"closID": "g"}}})"},
      {"/solaris", R"({"solaris": {}})"},
      {"/windows", R"({"windows": {"layerFolders": []}})"},
      {"/vm", R"({"vm": {}})"},
      {"/zos", R"({"zos": {}})"},
      {"/linux/personality/flags",
       R"({"linux": {"personality": {"domain": "LINUX", "flags": ["x"]}}})"},
  };
  for (auto& [pointer, patch] : cases) {
    ASSERT_EQ(key_policy(pointer).root, Treatment::refused) << pointer;
    std::string e = config_error(patch);
    EXPECT_NE(e.find(std::string(pointer) + ":"), std::string::npos) << pointer << ": " << e;
    EXPECT_NE(e.find(key_reason(pointer)), std::string::npos) << pointer << ": " << e;
  }
  // ID-mapped mounts are the root's (honoured) and refused unprivileged, at create
  // (container.cpp), for the kernel's reason; both rows give that reason.
  for (auto* p : {"/mounts/*/uidMappings", "/mounts/*/gidMappings"}) {
    EXPECT_EQ(key_policy(p).root, Treatment::honoured) << p;
    EXPECT_EQ(key_policy(p).unprivileged, Treatment::refused) << p;
  }
  EXPECT_EQ(key_reason("/mounts/*/uidMappings"), key_reason("/mounts/*/options", "idmap"));
  EXPECT_NE(key_reason("/mounts/*/options", "ridmap").find("CAP_SYS_ADMIN"), std::string::npos);
}

// Create warns once per key the config sets that is ignored in the caller's mode, with the
// table's reason, and about no other key (network: honoured as root, ignored unprivileged).
TEST(KeyPolicy, IgnoredKeysAreWarnedAboutWithTheirReason) {
  Config c = config_with(R"({"process": {"commandLine": "cmd.exe", "user": {"username": "Admin"}},
      "linux": {"resources": {"network": {"classID": 1}, "rdma": {"mlx5_1": {"hcaHandles": 3}}}}})");
  for (bool root : {true, false}) {
    testing::internal::CaptureStderr();
    warn_ignored_keys(c, root);
    std::string err = testing::internal::GetCapturedStderr();
    int warned = 0;
    for (auto& k : key_policies()) {
      if (!k.set_in) continue;
      EXPECT_TRUE(k.set_in(c)) << k.label;
      std::string want = dotted(words(k.pointers)[0]) + " ignored: " + std::string(k.reason);
      if ((root ? k.root : k.unprivileged) != Treatment::ignored) {
        EXPECT_EQ(err.find(want), std::string::npos) << want << " in: " << err;
        continue;
      }
      EXPECT_NE(err.find(want), std::string::npos) << want << " not in: " << err;
      warned++;
    }
    EXPECT_EQ(warned, root ? 3 : 4);
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), warned) << err;

    testing::internal::CaptureStderr();
    warn_ignored_keys(config_with("{}"), root);
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  }
}

// The LSM keys: ignored with a warning where the LSM is off, refused where it is on; which of
// the two this host gives is read from the same files the check reads.
TEST(KeyPolicy, LsmKeysFollowTheHost) {
  auto on = [](const char* file) {
    std::ifstream in(file);
    char c = 0;
    return in.get(c) && (c == 'Y' || c == '1');
  };
  Process p;
  p.apparmor_profile = "nook-test";
  testing::internal::CaptureStderr();
  std::string err;
  try {
    check_lsm(p, {}, "config.json");
  } catch (const Error& e) {
    err = e.what();
  }
  std::string warned = testing::internal::GetCapturedStderr();
  if (on("/sys/module/apparmor/parameters/enabled")) {
    EXPECT_NE(err.find("config.json: /process/apparmorProfile: AppArmor is enabled"),
              std::string::npos)
        << err;
    EXPECT_NE(err.find(key_reason("/process/apparmorProfile")), std::string::npos) << err;
  } else {
    EXPECT_EQ(err, "");
    EXPECT_NE(warned.find("process.apparmorProfile ignored: AppArmor is not enabled"),
              std::string::npos)
        << warned;
  }
  Process q;
  q.selinux_label = "system_u:system_r:container_t:s0";
  testing::internal::CaptureStderr();
  err.clear();
  try {
    check_lsm(q, "system_u:object_r:container_file_t:s0", "exec");
  } catch (const Error& e) {
    err = e.what();
  }
  warned = testing::internal::GetCapturedStderr();
  if (on("/sys/fs/selinux/enforce")) {
    EXPECT_NE(err.find("exec: /process/selinuxLabel: SELinux is enforcing"), std::string::npos)
        << err;
  } else {
    EXPECT_EQ(err, "");
    EXPECT_NE(warned.find("process.selinuxLabel ignored"), std::string::npos) << warned;
    EXPECT_NE(warned.find("linux.mountLabel ignored"), std::string::npos) << warned;
  }
  testing::internal::CaptureStderr();
  check_lsm(Process{}, {}, "exec");  // nothing set: nothing to say
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}
