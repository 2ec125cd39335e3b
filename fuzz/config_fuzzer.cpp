// Fuzz target: config.json and process.json parsing and validation.
// The contract checked: any input either parses into a Config/Process that satisfies the
// validator's promises, or throws nook::Error (one line, naming the file); never another
// exception, a crash, a leak or undefined behaviour. And parse_config (one SAX pass, mounts
// read without a DOM) gives exactly what parse_config_dom (the whole-DOM reading) gives: the
// same Config, or the same error message.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "config.hpp"
#include "error.hpp"

namespace {

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "config_fuzzer: invariant broken: %s\n", what);
  std::abort();
}

void check_process(const nook::Process& p) {
  if (p.args.empty()) broken("process.args accepted empty");
  if (p.cwd.empty() || p.cwd[0] != '/') broken("process.cwd accepted relative");
}

void check_message(const nook::Error& e) {
  std::string_view m = e.what();
  if (m.empty() || m.find('\n') != std::string_view::npos) broken("error is not one line");
}

// The reading of `text` by one of the two config readers: a Config or an error message.
template <class F>
std::pair<std::optional<nook::Config>, std::string> reading(F parse) {
  try {
    return {parse(), ""};
  } catch (const nook::Error& e) {
    check_message(e);
    return {std::nullopt, e.what()};
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto fast = reading([&] { return nook::parse_config(text, "config.json"); });
  auto dom = reading([&] { return nook::parse_config_dom(text, "config.json"); });
  if (fast.second != dom.second) broken("parse_config and parse_config_dom give other errors");
  if (fast.first.has_value() != dom.first.has_value() ||
      (fast.first && !(*fast.first == *dom.first)))
    broken("parse_config and parse_config_dom give other Configs");
  if (fast.first) {
    const nook::Config& c = *fast.first;
    if (c.root.path.empty()) broken("root.path accepted empty");
    if (c.process) check_process(*c.process);
    for (auto& m : c.mounts)
      if (m.destination.empty() || m.destination[0] != '/')
        broken("mount destination not absolute");
  }
  try {
    check_process(nook::parse_process(text, "process.json"));
  } catch (const nook::Error& e) {
    check_message(e);
  }
  return 0;
}
