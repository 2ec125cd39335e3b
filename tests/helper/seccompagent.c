/* nook-seccompagent: a small seccomp agent for the seccomp notify tests (seccomp.bats): it
 * listens on a unix socket (linux.seccomp.listenerPath), receives the runtime's
 * containerProcessState with the seccomp listener attached (SCM_RIGHTS), and answers the
 * notifications on every listener it got.
 *
 * Usage: seccompagent SOCKET DIR
 *   For the Nth connection (N = 1, 2, ...) it writes
 *     DIR/state.N.json  the message as received (the containerProcessState)
 *     DIR/fds.N         how many descriptors came with it, and what each is
 *                       ("anon_inode:seccomp notify" for a seccomp listener)
 *   and appends to DIR/log one line per notification answered:
 *     "N pid=PID nr=NR path=PATH answer=ANSWER"
 *   (PATH: the first argument read as a string from the caller's memory, for mkdir;
 *   mkdirat's second). The answer comes from the state's "metadata" (listenerMetadata):
 *     "answer=fake"      return 0 without doing the call (the default)
 *     "answer=errno:E"   fail the call with errno E (a number)
 *     "answer=continue"  let the kernel run the call (SECCOMP_USER_NOTIF_FLAG_CONTINUE)
 *   DIR/ready appears once the socket listens. Runs until killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_LISTENERS 32

struct listener {
  int fd;
  int conn;        /* the connection it came with */
  char answer[64]; /* from the metadata */
};

static struct listener listeners[MAX_LISTENERS];
static int nlisteners;
static const char* dir;

static void die(const char* what) {
  fprintf(stderr, "seccompagent: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void write_file(const char* name, const char* data, size_t len) {
  char path[4096], tmp[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE* f = fopen(tmp, "w");
  if (!f) die(tmp);
  if (fwrite(data, 1, len, f) != len || fclose(f) != 0) die(tmp);
  if (rename(tmp, path) != 0) die(path);
}

static void log_line(const char* line) {
  char path[4096];
  snprintf(path, sizeof path, "%s/log", dir);
  FILE* f = fopen(path, "a");
  if (!f) die(path);
  fputs(line, f);
  fclose(f);
}

/* The "metadata" string of the compact JSON nook sends: crude, enough for a test. */
static void metadata_answer(const char* json, char* out, size_t size) {
  snprintf(out, size, "fake");
  const char* m = strstr(json, "\"metadata\":\"");
  if (!m) return;
  m += strlen("\"metadata\":\"");
  const char* end = strchr(m, '"');
  if (!end || strncmp(m, "answer=", 7) != 0) return;
  m += 7;
  size_t n = (size_t)(end - m);
  if (n >= size) n = size - 1;
  memcpy(out, m, n);
  out[n] = 0;
}

static void accept_one(int sock, int conn) {
  int c = accept4(sock, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0) die("accept");
  static char buf[1 << 20];
  size_t len = 0;
  char ctl[CMSG_SPACE(sizeof(int) * 8)];
  struct iovec iov = {buf, sizeof buf - 1};
  struct msghdr msg = {0};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl;
  msg.msg_controllen = sizeof ctl;
  ssize_t n = recvmsg(c, &msg, MSG_CMSG_CLOEXEC);
  if (n < 0) die("recvmsg");
  len = (size_t)n;
  int fds[8], nfds = 0;
  for (struct cmsghdr* h = CMSG_FIRSTHDR(&msg); h; h = CMSG_NXTHDR(&msg, h))
    if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) {
      size_t k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < k && nfds < 8; i++)
        memcpy(&fds[nfds++], CMSG_DATA(h) + i * sizeof(int), sizeof(int));
    }
  /* The rest of the message, if the stream split it, up to EOF. */
  while (len < sizeof buf - 1 && (n = read(c, buf + len, sizeof buf - 1 - len)) > 0)
    len += (size_t)n;
  close(c);
  buf[len] = 0;

  char name[64], info[8192];
  size_t il = 0;
  il += (size_t)snprintf(info + il, sizeof info - il, "%d\n", nfds);
  for (int i = 0; i < nfds; i++) {
    char link[64], target[256] = "?";
    snprintf(link, sizeof link, "/proc/self/fd/%d", fds[i]);
    ssize_t t = readlink(link, target, sizeof target - 1);
    if (t >= 0) target[t] = 0;
    il += (size_t)snprintf(info + il, sizeof info - il, "%s\n", target);
  }
  snprintf(name, sizeof name, "fds.%d", conn);
  write_file(name, info, il);
  snprintf(name, sizeof name, "state.%d.json", conn);
  write_file(name, buf, len);

  for (int i = 0; i < nfds; i++) {
    if (i > 0 || nlisteners == MAX_LISTENERS) {
      close(fds[i]);
      continue;
    }
    struct listener* l = &listeners[nlisteners++];
    l->fd = fds[i];
    l->conn = conn;
    metadata_answer(buf, l->answer, sizeof l->answer);
  }
}

/* A NUL-terminated string at `addr` in process `pid`'s memory. */
static void read_string(pid_t pid, unsigned long long addr, char* out, size_t size) {
  snprintf(out, size, "?");
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/mem", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t n = pread(fd, out, size - 1, (off_t)addr);
  close(fd);
  if (n <= 0) {
    snprintf(out, size, "?");
    return;
  }
  out[n] = 0;
}

static void answer(struct listener* l) {
  struct seccomp_notif req;
  struct seccomp_notif_resp resp;
  memset(&req, 0, sizeof req);
  if (ioctl(l->fd, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) {
    if (errno == EINTR || errno == ENOENT) return; /* the caller went away */
    die("SECCOMP_IOCTL_NOTIF_RECV");
  }
  char path[256] = "";
  if (req.data.nr == SYS_mkdir) read_string((pid_t)req.pid, req.data.args[0], path, sizeof path);
  if (req.data.nr == SYS_mkdirat) read_string((pid_t)req.pid, req.data.args[1], path, sizeof path);
  /* The path was read from a process that may since have been replaced: only trust it if
   * the notification is still pending (the kernel's advice for agents). */
  if (ioctl(l->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req.id) != 0) return;

  memset(&resp, 0, sizeof resp);
  resp.id = req.id;
  if (strcmp(l->answer, "continue") == 0) {
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  } else if (strncmp(l->answer, "errno:", 6) == 0) {
    resp.error = -atoi(l->answer + 6);
  }
  char line[512];
  snprintf(line, sizeof line, "%d pid=%u nr=%d path=%s answer=%s\n", l->conn, req.pid, req.data.nr,
           path, l->answer);
  log_line(line);
  if (ioctl(l->fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) != 0 && errno != ENOENT)
    die("SECCOMP_IOCTL_NOTIF_SEND");
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: seccompagent SOCKET DIR\n");
    return 2;
  }
  const char* path = argv[1];
  dir = argv[2];
  signal(SIGPIPE, SIG_IGN);
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) die("socket");
  struct sockaddr_un addr = {0};
  addr.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof addr.sun_path) {
    fprintf(stderr, "seccompagent: %s: path too long\n", path);
    return 2;
  }
  strcpy(addr.sun_path, path);
  unlink(path);
  if (bind(sock, (struct sockaddr*)&addr, sizeof addr) != 0) die(path);
  /* The runtime may run as another user (the unprivileged tests). */
  if (chmod(path, 0666) != 0) die(path);
  if (listen(sock, 16) != 0) die("listen");
  write_file("ready", "", 0);

  int conns = 0;
  for (;;) {
    struct pollfd pf[MAX_LISTENERS + 1];
    pf[0].fd = sock;
    pf[0].events = POLLIN;
    for (int i = 0; i < nlisteners; i++) {
      pf[i + 1].fd = listeners[i].fd;
      pf[i + 1].events = POLLIN;
    }
    if (poll(pf, (nfds_t)nlisteners + 1, -1) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    for (int i = nlisteners - 1; i >= 0; i--) {
      short re = pf[i + 1].revents;
      if (re & POLLIN)
        answer(&listeners[i]);
      else if (re & (POLLHUP | POLLERR | POLLNVAL)) {
        /* Every process of the filter is gone. */
        char line[64];
        snprintf(line, sizeof line, "%d closed\n", listeners[i].conn);
        log_line(line);
        close(listeners[i].fd);
        listeners[i] = listeners[--nlisteners];
      }
    }
    if (pf[0].revents & POLLIN) accept_one(sock, ++conns);
  }
}
