// nook features: print the OCI features document.
#include <unistd.h>

#include "cli.hpp"
#include "spec.hpp"

namespace nook::cli {
namespace {
Verb reg("features", [](CLI::App& app, Globals&) -> std::function<void()> {
  add_verb(app, "features", "print what this runtime implements (OCI features document)");
  return [] {
    std::string s = features_json();
    (void)!::write(1, s.data(), s.size());
  };
});
}  // namespace
}  // namespace nook::cli
