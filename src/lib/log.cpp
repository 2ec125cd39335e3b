#include "log.hpp"

#include <fcntl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace nook::log {
namespace {
Options opts;
int log_fd = -1;
bool log_opened = false;

int file_fd() {
  if (!log_opened) {
    log_opened = true;
    if (!opts.file.empty())
      log_fd = ::open(opts.file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  }
  return log_fd;
}

const char* name(Level l) {
  switch (l) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warning";
    case Level::error:
      return "error";
  }
  return "info";
}

}  // namespace

std::string now_rfc3339() {
  // Calendar arithmetic, not gmtime_r(3): glibc sets up the time zone on the first conversion
  // of any kind and reads /etc/localtime for it (5 system calls on every `create`).
  using namespace std::chrono;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  sys_seconds t{seconds{ts.tv_sec}};
  sys_days day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss hms{t - day};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%09ldZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                ts.tv_nsec);
  return buf;
}

void init(const Options& o) {
  opts = o;
  log_opened = false;
  if (log_fd >= 0) ::close(log_fd);
  log_fd = -1;
}

bool debug_enabled() {
  return opts.debug;
}

int open_now() {
  return file_fd();
}

void detach() {
  log_fd = -1;
  log_opened = true;
}

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04x", c);
          out += b;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

void write(Level lvl, std::string_view msg) {
  if (lvl == Level::debug && !opts.debug) return;
  int fd = file_fd();
  if (fd >= 0) {
    std::string line;
    if (opts.json) {
      line = "{\"level\":\"";
      line += name(lvl);
      line += "\",\"msg\":\"";
      line += json_escape(msg);
      line += "\",\"time\":\"";
      line += now_rfc3339();
      line += "\"}\n";
    } else {
      line = now_rfc3339() + " " + name(lvl) + ": " + std::string(msg) + "\n";
    }
    (void)!::write(fd, line.data(), line.size());
  }
  // Errors always reach stderr; warnings too when there is no log file to hold them.
  bool to_stderr = lvl == Level::error || (fd < 0 && (lvl == Level::warn || opts.debug));
  if (to_stderr) {
    std::string line = "nook: ";
    if (lvl == Level::warn) line += "warning: ";
    line += msg;
    line += '\n';
    (void)!::write(2, line.data(), line.size());
  }
}

}  // namespace nook::log
