// nook list: the containers under --root.
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "config.hpp"
#include "container.hpp"

namespace nook::cli {
namespace {
Verb reg("list", [](CLI::App& app, Globals& g) -> std::function<void()> {
  auto* sub = add_verb(app, "list", "list containers");
  static std::string format = "table";
  static bool quiet = false;
  sub->add_option("-f,--format", format, "table or json")->check(CLI::IsMember({"table", "json"}));
  sub->add_flag("-q,--quiet", quiet, "print only the IDs");
  return [&g] {
    auto entries = container_list(g.state_root());
    std::string out;
    if (quiet) {
      for (auto& e : entries) out += e.state.id + "\n";
    } else if (format == "json") {
      nlohmann::json arr = nlohmann::json::array();
      for (auto& e : entries)
        arr.push_back(
            {{"ociVersion", kOciVersion},
             {"id", e.state.id},
             {"pid", e.status == Status::stopped ? 0 : e.state.pid},
             {"status", status_name(e.status)},
             {"bundle", e.state.bundle},
             {"rootfs", e.state.rootfs},
             {"created", e.state.created},
             {"annotations", e.state.annotations},
             {"owner", e.state.owner == 0 ? std::string("root") : std::to_string(e.state.owner)}});
      out = arr.dump() + "\n";
    } else {
      char line[4096];
      std::snprintf(line, sizeof line, "%-20s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS",
                    "BUNDLE", "CREATED", "OWNER");
      out = line;
      for (auto& e : entries) {
        std::snprintf(line, sizeof line, "%-20s %-8d %-10s %-40s %-30s %s\n", e.state.id.c_str(),
                      e.status == Status::stopped ? 0 : e.state.pid, status_name(e.status),
                      e.state.bundle.c_str(), e.state.created.c_str(),
                      e.state.owner == 0 ? "root" : std::to_string(e.state.owner).c_str());
        out += line;
      }
    }
    (void)!::write(1, out.data(), out.size());
  };
});
}  // namespace
}  // namespace nook::cli
