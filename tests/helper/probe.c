/* nook-probe: a tiny static helper copied into test root filesystems at /probe.
 *
 * The first argument names the check; the result goes to stdout in a fixed,
 * easy-to-compare format.  Exit status 0 means the check itself ran; a check
 * that is "does X work" (write, chown, setuid, mknod, sethostname) exits 0 if
 * X worked and otherwise prints the errno name and exits 1.  Usage errors
 * exit 2.  Anything unexpected (a syscall the check needs failing) exits 3
 * with "probe: <what>: <errno name>" on stderr.
 *
 * Plain C, no allocation games: it must run on any rootfs, as any uid, with
 * nothing but the kernel underneath, so it is linked statically.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

// "ENOENT", ... as the tests expect them (glibc's table, not one of ours).
static const char* errno_name(int e) {
  const char* n = strerrorname_np(e);
  return n ? n : "EUNKNOWN";
}

static int die(const char* what) {
  fprintf(stderr, "probe: %s: %s (%s)\n", what, errno_name(errno), strerror(errno));
  exit(3);
}

static void usage(void) {
  fprintf(
      stderr,
      "usage: probe CHECK [ARGS]\n"
      "checks: cwd uid ids groups env NAME environ isatty FD ttyname FD ctty winsize fds fdinfo\n"
      "        fdstat FD hostname pid ppid mounts DEST mountinfo write PATH caps rlimit NAME "
      "umask\n"
      "        nnp seccomp chown PATH UID GID setuid UID mknod PATH sethostname NAME\n"
      "        stat PATH exit N sleep SECONDS kill-self SIG ignore-term-sleep SECONDS\n"
      "        sigwait FILE SECONDS cat PATH ls PATH readlink PATH cwd-escape\n"
      "        echo ARGS... read-line\n");
  exit(2);
}

static int need(int argc, int n) {
  if (argc < n) usage();
  return 0;
}

/* Signal numbers by name, accepting "TERM", "SIGTERM" or "15". */
static int signum(const char* s) {
  static const struct {
    const char* n;
    int v;
  } t[] = {
      {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT},   {"ABRT", SIGABRT},
      {"KILL", SIGKILL}, {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},   {"USR2", SIGUSR2},
      {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM},   {"CHLD", SIGCHLD},
      {"CONT", SIGCONT}, {"STOP", SIGSTOP}, {"WINCH", SIGWINCH},
  };
  if (isdigit((unsigned char)s[0])) return atoi(s);
  if (strncmp(s, "SIG", 3) == 0) s += 3;
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    if (strcmp(t[i].n, s) == 0) return t[i].v;
  fprintf(stderr, "probe: unknown signal %s\n", s);
  exit(2);
}

static const char* signame(int sig) {
  switch (sig) {
    case SIGHUP:
      return "SIGHUP";
    case SIGINT:
      return "SIGINT";
    case SIGQUIT:
      return "SIGQUIT";
    case SIGUSR1:
      return "SIGUSR1";
    case SIGUSR2:
      return "SIGUSR2";
    case SIGTERM:
      return "SIGTERM";
    case SIGALRM:
      return "SIGALRM";
    case SIGWINCH:
      return "SIGWINCH";
    case SIGPIPE:
      return "SIGPIPE";
    case SIGCONT:
      return "SIGCONT";
    default:
      return "SIG?";
  }
}

static int resource(const char* s) {
  static const struct {
    const char* n;
    int v;
  } t[] = {
      {"CPU", RLIMIT_CPU},           {"FSIZE", RLIMIT_FSIZE},
      {"DATA", RLIMIT_DATA},         {"STACK", RLIMIT_STACK},
      {"CORE", RLIMIT_CORE},         {"RSS", RLIMIT_RSS},
      {"NPROC", RLIMIT_NPROC},       {"NOFILE", RLIMIT_NOFILE},
      {"MEMLOCK", RLIMIT_MEMLOCK},   {"AS", RLIMIT_AS},
      {"LOCKS", RLIMIT_LOCKS},       {"SIGPENDING", RLIMIT_SIGPENDING},
      {"MSGQUEUE", RLIMIT_MSGQUEUE}, {"NICE", RLIMIT_NICE},
      {"RTPRIO", RLIMIT_RTPRIO},     {"RTTIME", RLIMIT_RTTIME},
  };
  if (strncmp(s, "RLIMIT_", 7) == 0) s += 7;
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    if (strcmp(t[i].n, s) == 0) return t[i].v;
  fprintf(stderr, "probe: unknown rlimit %s\n", s);
  exit(2);
}

static void print_limit(rlim_t v) {
  if (v == RLIM_INFINITY)
    printf("unlimited");
  else
    printf("%llu", (unsigned long long)v);
}

/* Print the lines of a /proc/self/status-like file that start with one of the prefixes. */
static void grep_status(const char* const* keys) {
  FILE* f = fopen("/proc/self/status", "re");
  if (!f) die("open /proc/self/status");
  char line[512];
  while (fgets(line, sizeof line, f))
    for (const char* const* k = keys; *k; k++)
      if (strncmp(line, *k, strlen(*k)) == 0 && line[strlen(*k)] == ':') {
        char* v = line + strlen(*k) + 1;
        while (*v == ' ' || *v == '\t') v++;
        printf("%s %s", *k, v);
      }
  fclose(f);
}

static int report(int rc, int err) {
  if (rc == 0) {
    printf("ok\n");
    return 0;
  }
  printf("%s\n", errno_name(err));
  return 1;
}

static int cat_file(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    printf("%s\n", errno_name(errno));
    return 1;
  }
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)n, stdout);
  close(fd);
  return 0;
}

static volatile sig_atomic_t got_signal;
static void on_signal(int sig) {
  got_signal = sig;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) usage();
  const char* c = argv[1];

  if (!strcmp(c, "cwd")) {
    char buf[PATH_MAX];
    if (!getcwd(buf, sizeof buf)) die("getcwd");
    printf("%s\n", buf);
  } else if (!strcmp(c, "uid")) {
    printf("%u %u\n", (unsigned)getuid(), (unsigned)getgid());
  } else if (!strcmp(c, "ids")) {
    uid_t r, e, s;
    gid_t gr, ge, gs;
    getresuid(&r, &e, &s);
    getresgid(&gr, &ge, &gs);
    printf("uid %u %u %u gid %u %u %u\n", r, e, s, gr, ge, gs);
  } else if (!strcmp(c, "groups")) {
    gid_t g[256];
    int n = getgroups(256, g);
    if (n < 0) die("getgroups");
    for (int i = 0; i < n; i++) printf("%s%u", i ? " " : "", (unsigned)g[i]);
    printf("\n");
  } else if (!strcmp(c, "env")) {
    need(argc, 3);
    const char* v = getenv(argv[2]);
    if (!v) {
      printf("unset\n");
      return 1;
    }
    printf("%s\n", v);
  } else if (!strcmp(c, "environ")) {
    extern char** environ;
    for (char** e = environ; *e; e++) printf("%s\n", *e);
  } else if (!strcmp(c, "isatty")) {
    need(argc, 3);
    printf("%d\n", isatty(atoi(argv[2])) ? 1 : 0);
  } else if (!strcmp(c, "ttyname")) {
    need(argc, 3);
    char* n = ttyname(atoi(argv[2]));
    printf("%s\n", n ? n : errno_name(errno));
    return n ? 0 : 1;
  } else if (!strcmp(c, "ctty")) {
    /* Is there a controlling terminal, and is it our stdin? */
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
      printf("%s\n", errno_name(errno));
      return 1;
    }
    pid_t fg = tcgetpgrp(0);
    printf("ok sid=%d pgrp=%d fg=%d\n", (int)getsid(0), (int)getpgrp(), (int)fg);
    close(fd);
  } else if (!strcmp(c, "winsize")) {
    struct winsize ws;
    if (ioctl(0, TIOCGWINSZ, &ws) < 0) die("TIOCGWINSZ on stdin");
    printf("%u %u\n", ws.ws_row, ws.ws_col);
  } else if (!strcmp(c, "fds")) {
    DIR* d = opendir("/proc/self/fd");
    if (!d) die("opendir /proc/self/fd");
    int self = dirfd(d), first = 1;
    int fds[1024], n = 0;
    struct dirent* e;
    while ((e = readdir(d)) && n < 1024) {
      if (e->d_name[0] == '.') continue;
      int fd = atoi(e->d_name);
      if (fd != self) fds[n++] = fd;
    }
    closedir(d);
    /* sort, tiny n */
    for (int i = 0; i < n; i++)
      for (int j = i + 1; j < n; j++)
        if (fds[j] < fds[i]) {
          int t = fds[i];
          fds[i] = fds[j];
          fds[j] = t;
        }
    for (int i = 0; i < n; i++) {
      printf("%s%d", first ? "" : " ", fds[i]);
      first = 0;
    }
    printf("\n");
  } else if (!strcmp(c, "fdinfo")) {
    /* every open fd with what it points at, for debugging leaks */
    DIR* d = opendir("/proc/self/fd");
    if (!d) die("opendir /proc/self/fd");
    struct dirent* e;
    while ((e = readdir(d))) {
      if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d)) continue;
      char p[300], t[PATH_MAX];
      snprintf(p, sizeof p, "/proc/self/fd/%s", e->d_name);
      ssize_t n = readlink(p, t, sizeof t - 1);
      t[n < 0 ? 0 : n] = 0;
      printf("%s %s\n", e->d_name, t);
    }
    closedir(d);
  } else if (!strcmp(c, "fdstat")) {
    need(argc, 3);
    struct stat st;
    if (fstat(atoi(argv[2]), &st) < 0) {
      printf("%s\n", errno_name(errno));
      return 1;
    }
    printf("%llu %llu\n", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
  } else if (!strcmp(c, "hostname")) {
    char buf[256];
    if (gethostname(buf, sizeof buf) < 0) die("gethostname");
    printf("%s\n", buf);
  } else if (!strcmp(c, "pid")) {
    printf("%d\n", (int)getpid());
  } else if (!strcmp(c, "ppid")) {
    printf("%d\n", (int)getppid());
  } else if (!strcmp(c, "mounts")) {
    /* mountinfo lines whose mount point is DEST: "<mount options> <fstype> <super options>" */
    need(argc, 3);
    FILE* f = fopen("/proc/self/mountinfo", "re");
    if (!f) die("open /proc/self/mountinfo");
    char line[4096];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
      char mp[4096], opts[1024], fstype[256], src[1024], sopts[2048];
      /* id parent maj:min root mountpoint options [optional...] - fstype source superopts */
      if (sscanf(line, "%*d %*d %*s %*s %4095s %1023s", mp, opts) != 2) continue;
      char* dash = strstr(line, " - ");
      if (!dash || sscanf(dash + 3, "%255s %1023s %2047s", fstype, src, sopts) != 3) continue;
      if (strcmp(mp, argv[2]) == 0) {
        printf("%s %s %s\n", opts, fstype, sopts);
        found = 1;
      }
    }
    fclose(f);
    if (!found) {
      printf("not-mounted\n");
      return 1;
    }
  } else if (!strcmp(c, "mountinfo")) {
    return cat_file("/proc/self/mountinfo");
  } else if (!strcmp(c, "write")) {
    need(argc, 3);
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return report(-1, errno);
    if (write(fd, "probe\n", 6) != 6) return report(-1, errno);
    if (close(fd) < 0) return report(-1, errno);
    return report(0, 0);
  } else if (!strcmp(c, "caps")) {
    static const char* const k[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", NULL};
    grep_status(k);
  } else if (!strcmp(c, "rlimit")) {
    need(argc, 3);
    struct rlimit rl;
    if (getrlimit(resource(argv[2]), &rl) < 0) die("getrlimit");
    print_limit(rl.rlim_cur);
    printf(" ");
    print_limit(rl.rlim_max);
    printf("\n");
  } else if (!strcmp(c, "umask")) {
    mode_t m = umask(0);
    printf("%04o\n", (unsigned)m);
  } else if (!strcmp(c, "nnp")) {
    static const char* const k[] = {"NoNewPrivs", NULL};
    grep_status(k);
  } else if (!strcmp(c, "seccomp")) {
    static const char* const k[] = {"Seccomp", NULL};
    grep_status(k);
  } else if (!strcmp(c, "chown")) {
    need(argc, 5);
    return report(chown(argv[2], (uid_t)atol(argv[3]), (gid_t)atol(argv[4])), errno);
  } else if (!strcmp(c, "setuid")) {
    need(argc, 3);
    return report(setuid((uid_t)atol(argv[2])), errno);
  } else if (!strcmp(c, "mknod")) {
    need(argc, 3);
    return report(mknod(argv[2], S_IFCHR | 0666, makedev(1, 3)), errno);
  } else if (!strcmp(c, "sethostname")) {
    need(argc, 3);
    return report(sethostname(argv[2], strlen(argv[2])), errno);
  } else if (!strcmp(c, "stat")) {
    need(argc, 3);
    struct stat st;
    if (lstat(argv[2], &st) < 0) {
      printf("%s\n", errno_name(errno));
      return 1;
    }
    char kind = S_ISDIR(st.st_mode)    ? 'd'
                : S_ISCHR(st.st_mode)  ? 'c'
                : S_ISBLK(st.st_mode)  ? 'b'
                : S_ISLNK(st.st_mode)  ? 'l'
                : S_ISFIFO(st.st_mode) ? 'p'
                : S_ISSOCK(st.st_mode) ? 's'
                                       : 'f';
    printf("%u %u %04o %c", (unsigned)st.st_uid, (unsigned)st.st_gid,
           (unsigned)(st.st_mode & 07777), kind);
    if (kind == 'c' || kind == 'b') printf(" %u:%u", major(st.st_rdev), minor(st.st_rdev));
    printf("\n");
  } else if (!strcmp(c, "exit")) {
    need(argc, 3);
    return atoi(argv[2]);
  } else if (!strcmp(c, "sleep")) {
    need(argc, 3);
    double s = atof(argv[2]);
    struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
  } else if (!strcmp(c, "kill-self")) {
    need(argc, 3);
    int sig = signum(argv[2]);
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    kill(getpid(), sig);
    /* As PID 1 of a PID namespace, a signal with the default action from inside is
       discarded; say so instead of pretending. */
    printf("still alive after signal %d (pid %d)\n", sig, (int)getpid());
    return 4;
  } else if (!strcmp(c, "ignore-term-sleep")) {
    need(argc, 3);
    signal(SIGTERM, SIG_IGN);
    printf("ready\n");
    sleep((unsigned)atoi(argv[2]));
  } else if (!strcmp(c, "sigwait")) {
    /* Handle common signals; on the first one, write its name to FILE (and stdout), exit 0.
       Exits 1 if SECONDS pass without a signal.  Writes "ready" to FILE.ready first. */
    need(argc, 4);
    int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM, SIGWINCH, SIGALRM};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
    char ready[PATH_MAX];
    snprintf(ready, sizeof ready, "%s.ready", argv[2]);
    int rfd = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (rfd >= 0) close(rfd);
    time_t end = time(NULL) + atoi(argv[3]);
    while (!got_signal && time(NULL) < end) usleep(10000);
    if (!got_signal) {
      printf("timeout\n");
      return 1;
    }
    FILE* f = fopen(argv[2], "we");
    if (f) {
      fprintf(f, "%s\n", signame(got_signal));
      fclose(f);
    }
    printf("%s\n", signame(got_signal));
  } else if (!strcmp(c, "cat")) {
    need(argc, 3);
    return cat_file(argv[2]);
  } else if (!strcmp(c, "ls")) {
    need(argc, 3);
    DIR* d = opendir(argv[2]);
    if (!d) {
      printf("%s\n", errno_name(errno));
      return 1;
    }
    struct dirent* e;
    char* names[4096];
    int n = 0;
    while ((e = readdir(d)) && n < 4096)
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names[n++] = strdup(e->d_name);
    closedir(d);
    for (int i = 0; i < n; i++)
      for (int j = i + 1; j < n; j++)
        if (strcmp(names[j], names[i]) < 0) {
          char* t = names[i];
          names[i] = names[j];
          names[j] = t;
        }
    for (int i = 0; i < n; i++) printf("%s\n", names[i]);
  } else if (!strcmp(c, "readlink")) {
    need(argc, 3);
    char buf[PATH_MAX];
    ssize_t n = readlink(argv[2], buf, sizeof buf - 1);
    if (n < 0) {
      printf("%s\n", errno_name(errno));
      return 1;
    }
    buf[n] = 0;
    printf("%s\n", buf);
  } else if (!strcmp(c, "cwd-escape")) {
    /* Try to climb above / with chdir(".."), then print where we are and what is there. */
    for (int i = 0; i < 64; i++)
      if (chdir("..") < 0) die("chdir ..");
    char buf[PATH_MAX];
    if (!getcwd(buf, sizeof buf)) die("getcwd");
    struct stat root, here;
    if (stat("/", &root) < 0 || stat(".", &here) < 0) die("stat");
    printf("%s %s\n", buf,
           root.st_dev == here.st_dev && root.st_ino == here.st_ino ? "at-root" : "escaped");
  } else if (!strcmp(c, "echo")) {
    for (int i = 2; i < argc; i++) printf("%s%s", i > 2 ? " " : "", argv[i]);
    printf("\n");
  } else if (!strcmp(c, "read-line")) {
    char buf[4096];
    if (!fgets(buf, sizeof buf, stdin)) {
      printf("eof\n");
      return 1;
    }
    buf[strcspn(buf, "\r\n")] = 0;
    printf("got:%s\n", buf);
  } else {
    usage();
  }
  return 0;
}
