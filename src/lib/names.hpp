// Name tables (names.cpp): signals, capabilities and rlimits by name, as runc and the
// runtime-spec spell them.
#pragma once
#include <string>

namespace nook {

// Signal by name (TERM, SIGTERM, sigterm) or number; -1 if unknown.
int parse_signal(const std::string& s);

// Capability number by name ("CAP_SYS_ADMIN"); -1 if unknown.
int cap_from_name(const std::string& name);
const char* cap_name(int cap);  // nullptr if unknown
int cap_last_known();

// RLIMIT_* by name; -1 if unknown.
int rlimit_from_name(const std::string& name);

}  // namespace nook
