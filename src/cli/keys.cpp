// nook config-keys (hidden): the config-key policy table (src/lib/keys.cpp), one line per JSON
// pointer: pointer, values, treatment as root, unprivileged, reason, tab-separated. For tests
// (config_general.bats runs configs against it) and for reading; not a runc verb.
#include "keys.hpp"

#include <unistd.h>

#include "cli.hpp"

namespace nook::cli {
namespace {
Verb reg("config-keys", [](CLI::App& app, Globals&) -> std::function<void()> {
  add_verb(app, "config-keys", "print the config-key policy table")->group("");
  return [] {
    std::string out;
    for (auto& k : key_policies()) {
      std::string_view ps = k.pointers;
      while (!ps.empty()) {
        size_t sp = ps.find(' ');
        out += std::string(ps.substr(0, sp)) + '\t' + std::string(k.values) + '\t' +
               std::string(treatment_name(k.root)) + '\t' +
               std::string(treatment_name(k.unprivileged)) + '\t' + std::string(k.reason) + '\n';
        ps = sp == std::string_view::npos ? std::string_view{} : ps.substr(sp + 1);
      }
    }
    (void)!::write(1, out.data(), out.size());
  };
});
}  // namespace
}  // namespace nook::cli
