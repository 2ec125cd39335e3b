// The config.json key policy: one table of what nook does with every key of the OCI runtime
// spec v1.3, as root and unprivileged, and why. Validation takes its refusal reasons from it,
// create warns about the ignored keys a config sets from it, create and exec check the LSM keys
// through it, `nook features` reports from it, and docs/config-keys.md has one row per entry
// (tests/unit/keys_test.cpp compares the two both ways). Pure except `check_lsm`, which reads
// the host's LSM state; parent side.
#pragma once
#include <span>
#include <string>
#include <string_view>

namespace nook {

struct Config;
struct Process;

// What nook does with a key. The doc's Root and Unprivileged cells begin with the phrase
// treatment_phrase() gives (the Unprivileged cell may say "same" instead).
enum class Treatment {
  honoured,  // applied as the spec says (values the row names as refused are errors)
  fallback,  // applied through a named fallback, logged at info level
  ignored,   // not applied, with a logged reason (a warning unless the row says otherwise)
  refused,   // create/run fails, naming the file, the JSON pointer and the reason
  lsm,       // refused where the host's LSM is on, else ignored with a warning
  none,      // does not arise in this mode
};

struct KeyPolicy {
  // The key's JSON pointers, space separated; "*" stands for any array index.
  std::string_view pointers;
  // The values of the key this row is about (mount types, options, namespace types), space
  // separated; empty: any value, or the row is about something else its label says.
  std::string_view values;
  std::string_view label;  // the Key cell of the row in docs/config-keys.md
  Treatment root, unprivileged;
  // Why, when nook's own message says so (refusal, warning); the doc's row contains it.
  std::string_view reason;
  // For ignored keys: whether the config sets it (create then warns with the reason).
  bool (*set_in)(const Config&) = nullptr;
};

// Every row, in the order of docs/config-keys.md.
std::span<const KeyPolicy> key_policies();

// The row for `pointer` (and `value`, when the row is one value of a key); throws nook::Error
// when there is none.
const KeyPolicy& key_policy(std::string_view pointer, std::string_view value = {});
// Its reason, as a string for messages.
std::string key_reason(std::string_view pointer, std::string_view value = {});

// The phrase a doc cell begins with: "honoured", "fallback", "ignored", "refused",
// "refused where", "—".
std::string_view treatment_phrase(Treatment t);

// Its name: "honoured", "fallback", "ignored", "refused", "lsm", "none".
std::string_view treatment_name(Treatment t);

// "/process/commandLine" -> "process.commandLine" (the spelling of warnings).
std::string dotted(std::string_view pointer);

// Create: one warning per key the config sets that nook ignores as root (`root`) or
// unprivileged ("KEY ignored: REASON").
void warn_ignored_keys(const Config& cfg, bool root);

// Create and exec: process.apparmorProfile, process.selinuxLabel and linux.mountLabel (empty
// for exec: the container's was checked at create). nook applies no LSM label: refused where
// the LSM is on (error "WHERE: POINTER: ..."), else ignored with a warning.
void check_lsm(const Process& proc, const std::string& mount_label, const std::string& where);

// Whether a key nook may refuse is supported at all (its root treatment is not refused or
// lsm): what `features` reports for apparmor, selinux, intelRdt and idmap.
bool key_supported(std::string_view pointer, std::string_view value = {});

}  // namespace nook
