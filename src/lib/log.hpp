// Logging: to the --log file (text or runc-style JSON lines) and errors to stderr.
#pragma once
#include <string>
#include <string_view>

namespace nook::log {

enum class Level { debug, info, warn, error };

struct Options {
  std::string file;    // --log; empty: warnings and errors go to stderr only
  bool json = false;   // --log-format json
  bool debug = false;  // --debug
};

void init(const Options& o);
void write(Level lvl, std::string_view msg);
inline void debug(std::string_view m) {
  write(Level::debug, m);
}
inline void info(std::string_view m) {
  write(Level::info, m);
}
inline void warn(std::string_view m) {
  write(Level::warn, m);
}
inline void error(std::string_view m) {
  write(Level::error, m);
}
bool debug_enabled();

// Opens the log file now (before clone) and returns its fd, or -1 without --log.
int open_now();
// Forgets the log file descriptor (the caller closed it); later lines go to stderr.
void detach();

// The current time in RFC 3339 with nanoseconds, UTC ("2026-11-28T20:10:56.225852783Z"):
// log lines and a container's "created".
std::string now_rfc3339();

// Escapes s as a JSON string body (no surrounding quotes).
std::string json_escape(std::string_view s);

}  // namespace nook::log
