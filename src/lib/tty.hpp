// Terminals and the runtime in the foreground, shared by run and exec: the console socket, the
// pty the container process allocates, and the loop that waits for the program, forwards
// signals to it and proxies its pty when nook holds the master.
#pragma once
#include <signal.h>
#include <sys/types.h>

#include <string>

#include "config.hpp"
#include "fd.hpp"

namespace nook {

// Connects to the AF_UNIX stream socket of --console-socket (close-on-exec).
Fd connect_console(const std::string& path);

// The channel a process with a terminal sends its pty master over, at fd >= min_fd: connected
// to `socket` (--console-socket), or, with none, one end of a socketpair whose other end goes
// to `*peer` (run/exec in the foreground proxy the pty themselves).
Fd console_channel(const std::string& socket, int min_fd, Fd* peer);

// In the container process (inside its mount namespace): allocates a pty in the container's
// devpts, sends the master with its name to `console_fd` (SCM_RIGHTS), makes the slave the
// controlling terminal of a new session and dup2s it over stdio. The slave is chowned to
// process.user.uid and sized from process.consoleSize when given.
void setup_terminal(int console_fd, const Process& proc);

// The signals the foreground runtime forwards: all but those that cannot be caught and those
// that report a fault of nook itself. Block them before clone() so that none is lost, and hand
// the old mask to the child.
sigset_t forwarded_signals();

// Waits for the direct child `pid` (already running the program) and returns its wait status.
// Signals in `fwd` (blocked by the caller) are read from a signalfd and sent to `pid`; any
// other child that exits meanwhile is reaped. When `console` is a connected socket, the pty
// master is received from it and proxied to stdin/stdout (stdin in raw mode while a terminal,
// SIGWINCH resizes the pty). Returns as soon as `pid` has exited: a process the program left
// behind, even one holding the pty, does not keep the runtime waiting.
int foreground_wait(pid_t pid, Fd console, const sigset_t& fwd);

}  // namespace nook
