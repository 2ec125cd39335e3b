/* nook-recvtty: the receiving end of --console-socket, for the terminal tests.
 *
 *   nook-recvtty SOCKET [-i INPUT] [-t SECONDS] [-w WINSIZE_FILE]
 *
 * Listens on the UNIX socket SOCKET (created under a temporary name and renamed
 * into place once listening, so "the path exists" means "ready to connect"),
 * accepts one connection, and receives one descriptor with SCM_RIGHTS, as runc's
 * recvtty does.  It checks the descriptor is a pty master, optionally writes the
 * master's window size ("ROWS COLS") to WINSIZE_FILE, writes INPUT to it, then
 * copies everything read from the master to stdout until the slave side is
 * closed by everyone (read gives EIO) or SECONDS (default 20) pass.
 *
 * Exit status: 0 if a pty master arrived and the slave side was closed before
 * the timeout, 1 on timeout, 2 on usage error, 3 on any other failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static void fail(const char* what) {
  fprintf(stderr, "recvtty: %s: %s\n", what, strerror(errno));
  exit(3);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  const char *input = NULL, *wsfile = NULL;
  double timeout = 20;
  int opt;
  while ((opt = getopt(argc, argv, "i:t:w:")) != -1) {
    switch (opt) {
      case 'i':
        input = optarg;
        break;
      case 't':
        timeout = atof(optarg);
        break;
      case 'w':
        wsfile = optarg;
        break;
      default:
        fprintf(stderr, "usage: recvtty SOCKET [-i INPUT] [-t SECONDS] [-w FILE]\n");
        return 2;
    }
  }
  if (optind != argc - 1) {
    fprintf(stderr, "usage: recvtty SOCKET [-i INPUT] [-t SECONDS] [-w FILE]\n");
    return 2;
  }
  const char* path = argv[optind];
  char tmp[sizeof(((struct sockaddr_un*)0)->sun_path)];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
    fprintf(stderr, "recvtty: socket path too long: %s\n", path);
    return 2;
  }

  int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (ls < 0) fail("socket");
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  strcpy(sa.sun_path, tmp);
  unlink(tmp);
  if (bind(ls, (struct sockaddr*)&sa, sizeof sa) < 0) fail("bind");
  if (listen(ls, 1) < 0) fail("listen");
  if (rename(tmp, path) < 0) fail("rename socket into place");

  double deadline = now() + timeout;
  struct pollfd p = {.fd = ls, .events = POLLIN};
  if (poll(&p, 1, (int)(timeout * 1000)) <= 0) {
    fprintf(stderr, "recvtty: nobody connected within %.0f s\n", timeout);
    unlink(path);
    return 1;
  }
  int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0) fail("accept");
  close(ls);
  unlink(path);

  char name[4096];
  struct iovec iov = {.iov_base = name, .iov_len = sizeof name - 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = u.buf;
  mh.msg_controllen = sizeof u.buf;
  ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
  if (n < 0) fail("recvmsg");
  struct cmsghdr* cm = CMSG_FIRSTHDR(&mh);
  if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
    fprintf(stderr, "recvtty: message carried no SCM_RIGHTS descriptor\n");
    return 3;
  }
  int master;
  memcpy(&master, CMSG_DATA(cm), sizeof master);
  close(c);

  /* A pty master answers TIOCGPTN; anything else (the slave, a pipe) does not. */
  unsigned ptn;
  if (ioctl(master, TIOCGPTN, &ptn) < 0) {
    fprintf(stderr, "recvtty: received descriptor is not a pty master: %s\n", strerror(errno));
    return 3;
  }
  fprintf(stderr, "recvtty: got pty master (pts %u)\n", ptn);
  if (wsfile) {
    struct winsize ws;
    if (ioctl(master, TIOCGWINSZ, &ws) < 0) fail("TIOCGWINSZ");
    FILE* f = fopen(wsfile, "we");
    if (!f) fail("open winsize file");
    fprintf(f, "%u %u\n", ws.ws_row, ws.ws_col);
    fclose(f);
  }
  if (input) {
    size_t len = strlen(input);
    if (write(master, input, len) != (ssize_t)len) fail("write to pty master");
  }

  char buf[4096];
  for (;;) {
    double left = deadline - now();
    if (left <= 0) {
      fprintf(stderr, "recvtty: timeout waiting for the pty slave to close\n");
      return 1;
    }
    struct pollfd mp = {.fd = master, .events = POLLIN};
    int r = poll(&mp, 1, (int)(left * 1000) + 1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail("poll");
    if (r == 0) continue;
    n = read(master, buf, sizeof buf);
    if (n > 0) {
      if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) fail("write stdout");
      fflush(stdout);
      continue;
    }
    if (n == 0 || errno == EIO) break; /* every slave descriptor is closed */
    if (errno == EINTR || errno == EAGAIN) continue;
    fail("read from pty master");
  }
  return 0;
}
