// Linux namespaces: the table of kinds (config.json name, /proc/PID/ns name, clone flag), the
// namespaces a config joins by path (opened and checked in the parent, before clone), and
// comparing a namespace with nook's own. Joining happens in the children: init.cpp (create)
// and exec.cpp (exec) call setns on what is prepared here.
#pragma once
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "config.hpp"
#include "fd.hpp"

namespace nook {

const char* ns_name(NsType t);       // "pid", "network", ...
int ns_clone_flag(NsType t);         // CLONE_NEWPID, ...
const char* ns_proc_name(NsType t);  // name under /proc/PID/ns: "pid", "net", "mnt", ...
std::optional<NsType> ns_from_name(const std::string& name);  // inverse of ns_name

// Every kind, in the order to join them one at a time: user first (it gives the capabilities
// setns checks for the others), mount last (the others are still opened through nook's /proc).
const std::array<NsType, 8>& ns_join_order();

struct NsJoin {
  NsType type;
  Fd fd;
};

// linux.namespaces[].path, opened and checked to be a namespace of the kind it is listed as
// (NS_GET_NSTYPE), the user namespace first. Throws nook::Error naming `file`, the JSON
// pointer and the path. Parent side.
std::vector<NsJoin> open_join_namespaces(const Config& cfg, const std::string& file);

// True if the namespace of kind `t` of the process whose /proc/PID/ns is `nsdir` is not
// nook's own (false when this kernel has no such kind).
bool ns_differs(int nsdir, NsType t);

// True if the namespace file `path` (linux.namespaces[].path) is not nook's own of kind `t`.
bool ns_path_differs(const std::string& path, NsType t);

}  // namespace nook
