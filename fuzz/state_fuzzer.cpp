// Fuzz target: the state file reader (ROOT/ID/state.json) and the container ID check.
// Contract: state_from_json either throws nook::Error or returns a State that serialises and
// reads back to the same document; validate_id accepts only names that cannot leave the state
// directory.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "error.hpp"
#include "state.hpp"

namespace {

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "state_fuzzer: invariant broken: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    nook::State s = nook::state_from_json(text, "state.json");
    std::string again = nook::state_to_json(s);
    nook::State t = nook::state_from_json(again, "state.json (rewritten)");
    if (nook::state_to_json(t) != again) broken("state.json does not survive a round trip");
    (void)nook::oci_state_json(s, nook::Status::running);
    (void)nook::oci_state_json(s, nook::Status::stopped);
  } catch (const nook::Error& e) {
    std::string m = e.what();
    if (m.empty() || m.find('\n') != std::string::npos) broken("error is not one line");
  }
  try {
    nook::validate_id(text);
    if (text.empty() || text.size() > 1024 || text == "." || text == ".." ||
        text.find('/') != std::string::npos || text.find('\0') != std::string::npos)
      broken("validate_id accepted an ID that can leave the state directory");
  } catch (const nook::Error&) {
  }
  return 0;
}
