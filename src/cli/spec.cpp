// nook spec: write a default config.json.
#include "spec.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "cli.hpp"
#include "error.hpp"

namespace nook::cli {
namespace {
Verb reg("spec", [](CLI::App& app, Globals&) -> std::function<void()> {
  auto* sub = add_verb(app, "spec", "write a default config.json into the bundle");
  static bool rootless = false;
  static std::string bundle = ".";
  sub->add_flag("--rootless", rootless,
                "a config for an unprivileged user (user namespace, no cgroups)");
  sub->add_option("-b,--bundle", bundle, "bundle directory (default: current directory)");
  return [] {
    std::string path = bundle + "/config.json";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
      if (errno == EEXIST) fail("file " + path + " exists; remove it first");
      throw_sys("open", path);
    }
    std::string s = default_spec(rootless);
    ssize_t n = ::write(fd, s.data(), s.size());
    ::close(fd);
    if (n != static_cast<ssize_t>(s.size())) throw_sys("write", path);
  };
});
}  // namespace
}  // namespace nook::cli
