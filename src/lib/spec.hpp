// Documents nook prints: the default config.json (`spec`) and the features document.
#pragma once
#include <string>

namespace nook {

// A default config.json as runc writes it; `rootless` adds a user namespace mapping the
// caller's uid/gid and uses mounts an unprivileged user may make.
std::string default_spec(bool rootless);

// The OCI features document (runtime-spec features.md). Lists only what nook implements.
std::string features_json();

}  // namespace nook
