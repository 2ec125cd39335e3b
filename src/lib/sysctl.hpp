// linux.sysctl (sysctl.cpp).
#pragma once
#include <string>

#include "config.hpp"

namespace nook {

// Checks that every sysctl in cfg.linux.sysctl is namespaced and its namespace is the
// container's own: created for it, or joined by path and not nook's own. Throws nook::Error
// otherwise. Runs in the parent, in nook's namespaces.
void validate_sysctls(const Config& cfg, const std::string& file);

// Writes cfg.linux.sysctl through a procfs the container has not touched (a new detached
// instance, else nook's /proc), in the container's namespaces before pivot_root.
void write_sysctls(const Config& cfg);

}  // namespace nook
