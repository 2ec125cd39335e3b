#include "tty.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

#include "error.hpp"
#include "sync.hpp"

namespace nook {
namespace {

// Terminal proxy: the caller's terminal in raw mode while the program owns the pty.
struct RawTty {
  bool active = false;
  struct termios saved;
  void enter() {
    if (::isatty(0) && ::tcgetattr(0, &saved) == 0) {
      struct termios raw = saved;
      ::cfmakeraw(&raw);
      active = ::tcsetattr(0, TCSANOW, &raw) == 0;
    }
  }
  ~RawTty() {
    if (active) ::tcsetattr(0, TCSANOW, &saved);
  }
};

void copy_winsize(int from, int to) {
  struct winsize ws;
  if (::ioctl(from, TIOCGWINSZ, &ws) == 0) ::ioctl(to, TIOCSWINSZ, &ws);
}

bool pump(int from, int to) {
  char buf[16384];
  ssize_t n = ::read(from, buf, sizeof buf);
  if (n <= 0) return false;
  ssize_t off = 0;
  while (off < n) {
    ssize_t w = ::write(to, buf + off, static_cast<size_t>(n - off));
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += w;
  }
  return true;
}

}  // namespace

Fd connect_console(const std::string& path) {
  Fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) throw_sys("socket", "console socket");
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) fail("console socket path is too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw_sys("connect console socket", path);
  return s;
}

Fd console_channel(const std::string& socket, int min_fd, Fd* peer) {
  if (!socket.empty()) return raise_fd(connect_console(socket), min_fd);
  int sp[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0)
    throw_sys("socketpair", "console");
  *peer = Fd(sp[0]);
  return raise_fd(Fd(sp[1]), min_fd);
}

void setup_terminal(int console_fd, const Process& proc) {
  // The container's devpts (after exec's setns, the container may have changed /dev): the
  // master must be a real ptmx (char 5:2), and the slave is opened from the master itself
  // (TIOCGPTPEER), not by a /dev/pts/N path a racing process could swap (CVE-2025-52565).
  Fd master(::open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW));
  if (!master) master.reset(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW));
  if (!master) throw_sys("open", "/dev/pts/ptmx (is devpts mounted at /dev/pts?)");
  struct stat mst;
  if (::fstat(master.get(), &mst) != 0 || !S_ISCHR(mst.st_mode) || mst.st_rdev != makedev(5, 2))
    fail("/dev/pts/ptmx in the container is not the pseudo-terminal multiplexer (char 5:2)");
  int unlock = 0;
  if (::ioctl(master.get(), TIOCSPTLCK, &unlock) != 0) throw_sys("ioctl TIOCSPTLCK", "ptmx");
  int n = 0;
  if (::ioctl(master.get(), TIOCGPTN, &n) != 0) throw_sys("ioctl TIOCGPTN", "ptmx");
  std::string name = "/dev/pts/" + std::to_string(n);
  Fd slave(::ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!slave) throw_sys("ioctl TIOCGPTPEER", name);
  if (proc.console_size) {
    struct winsize ws = {};
    ws.ws_row = static_cast<unsigned short>(proc.console_size->height);
    ws.ws_col = static_cast<unsigned short>(proc.console_size->width);
    if (::ioctl(slave.get(), TIOCSWINSZ, &ws) != 0) throw_sys("ioctl TIOCSWINSZ", name);
  }
  (void)!::fchown(slave.get(), proc.user.uid, static_cast<gid_t>(-1));
  sync::send_fd(console_fd, master.get(), name);
  master.reset();
  if (::setsid() < 0) throw_sys("setsid");
  if (::ioctl(slave.get(), TIOCSCTTY, 0) != 0) throw_sys("ioctl TIOCSCTTY", name);
  for (int fd = 0; fd < 3; fd++)
    if (::dup2(slave.get(), fd) < 0) throw_sys("dup2", name);
}

sigset_t forwarded_signals() {
  sigset_t set;
  sigfillset(&set);
  for (int s : {SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS})
    sigdelset(&set, s);
  return set;
}

int foreground_wait(pid_t pid, Fd console, const sigset_t& fwd) {
  Fd sfd(::signalfd(-1, &fwd, SFD_CLOEXEC));
  if (!sfd) throw_sys("signalfd");
  Fd master;
  RawTty raw;
  if (console) {
    master = Fd(sync::recv_fd(console.get()));
    console.reset();
    copy_winsize(0, master.get());
    raw.enter();
  }
  // A SIGCHLD that arrived before the signalfd existed is still pending (blocked): the
  // signalfd reports it. Reap once anyway in case it was consumed elsewhere.
  int status = 0;
  bool done = false;
  if (pid_t r = ::waitpid(pid, &status, WNOHANG); r == pid) done = true;
  bool stdin_open = static_cast<bool>(master);
  while (!done) {
    struct pollfd pf[3] = {{sfd.get(), POLLIN, 0}, {-1, POLLIN, 0}, {-1, POLLIN, 0}};
    if (master) {
      pf[1].fd = master.get();
      if (stdin_open) pf[2].fd = 0;
    }
    if (::poll(pf, 3, -1) < 0) {
      if (errno == EINTR) continue;
      throw_sys("poll");
    }
    if (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (!pump(master.get(), 1)) master.reset();  // EIO: the last slave holder is gone
    }
    if (master && (pf[2].revents & (POLLIN | POLLHUP))) {
      if (!pump(0, master.get())) stdin_open = false;
    }
    if (pf[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (::read(sfd.get(), &si, sizeof si) != sizeof si) continue;
      int sig = static_cast<int>(si.ssi_signo);
      if (sig == SIGCHLD) {
        int s;
        pid_t r;
        while ((r = ::waitpid(-1, &s, WNOHANG)) > 0)
          if (r == pid) status = s, done = true;
      } else if (sig == SIGWINCH && master) {
        copy_winsize(0, master.get());
      } else if (sig != SIGWINCH && sig != SIGURG) {
        ::kill(pid, sig);
      }
    }
  }
  // Drain what the program wrote last.
  if (master) {
    struct pollfd pf = {master.get(), POLLIN, 0};
    while (::poll(&pf, 1, 0) > 0 && (pf.revents & POLLIN) && pump(master.get(), 1)) {
    }
  }
  return status;
}

}  // namespace nook
