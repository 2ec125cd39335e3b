/* nook-sysprobe: system-call checks for the seccomp and root emulation tests, copied into
 * test root filesystems at /sysprobe (static, like nook-probe).
 *
 * Usage: sysprobe CHECK [ARGS] [, CHECK [ARGS]]...
 * Checks run in order in one process (so "setuid 1000 , ids" shows what a program sees after
 * a faked setuid), each printing one line: "ok" or the errno name for calls that may fail,
 * or the value asked for. Exit status: 0 if every call succeeded, 1 if one failed, 2 on a
 * usage error.
 *
 *   chown|lchown|fchown|fchownat PATH UID GID
 *   setuid|setgid|setfsuid|setfsgid ID      (setfs*id print the value returned: the old ID)
 *   setreuid|setregid R E     setresuid|setresgid R E S     setgroups [GID...]
 *   capset-all                capset asking for every capability in every set
 *   caps                      effective and permitted sets, as hex from capget
 *   mknod|mknodat PATH TYPE [MAJOR MINOR]   TYPE: c b p f s
 *   mkdir PATH MODE           (octal; umask 0)
 *   sethostname NAME
 *   ids                       "uid euid suid gid egid sgid groups:G,G"
 *   stat PATH                 "uid gid mode type [major:minor]" (lstat)
 *   exists PATH               "yes" or "no"
 *   seccomp                   "MODE FILTERS" from /proc/self/status (Seccomp, Seccomp_filters)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <unistd.h>

// "ENOENT", ... as the tests expect them (glibc's table, not one of ours).
static const char* errno_name(int e) {
  const char* n = strerrorname_np(e);
  return n ? n : "EUNKNOWN";
}

static int failed;

static void usage(void) {
  fprintf(stderr, "usage: sysprobe CHECK [ARGS] [, CHECK [ARGS]]... (see the source)\n");
  exit(2);
}

static void report(long rc) {
  if (rc == 0) {
    printf("ok\n");
  } else {
    printf("%s\n", errno_name(errno));
    failed = 1;
  }
}

static long num(const char* s) {
  char* end;
  errno = 0;
  long v = strtol(s, &end, 0);
  if (errno || *end || end == s) usage();
  return v;
}

static void print_status(void) {
  FILE* f = fopen("/proc/self/status", "re");
  char line[256], mode[32] = "?", filters[32] = "0";
  if (!f) {
    printf("%s\n", errno_name(errno));
    failed = 1;
    return;
  }
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    if (!strncmp(line, "Seccomp:", 8)) sscanf(line + 8, " %31s", mode);
    if (!strncmp(line, "Seccomp_filters:", 16)) sscanf(line + 16, " %31s", filters);
  }
  fclose(f);
  printf("%s %s\n", mode, filters);
}

/* Runs one check on argv[0..argc-1]. */
static void check(int argc, char** argv) {
  const char* c = argv[0];
#define NEED(n) \
  if (argc != (n)) usage()
  if (!strcmp(c, "chown") || !strcmp(c, "lchown") || !strcmp(c, "fchown") ||
      !strcmp(c, "fchownat")) {
    NEED(4);
    uid_t u = (uid_t)num(argv[2]);
    gid_t g = (gid_t)num(argv[3]);
    if (!strcmp(c, "chown"))
      report(chown(argv[1], u, g));
    else if (!strcmp(c, "lchown"))
      report(lchown(argv[1], u, g));
    else if (!strcmp(c, "fchownat"))
      report(fchownat(AT_FDCWD, argv[1], u, g, 0));
    else {
      int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        report(-1);
        return;
      }
      report(fchown(fd, u, g));
      close(fd);
    }
  } else if (!strcmp(c, "setuid")) {
    NEED(2);
    report(syscall(SYS_setuid, num(argv[1])));
  } else if (!strcmp(c, "setgid")) {
    NEED(2);
    report(syscall(SYS_setgid, num(argv[1])));
  } else if (!strcmp(c, "setfsuid") || !strcmp(c, "setfsgid")) {
    NEED(2);
    long r = syscall(!strcmp(c, "setfsuid") ? SYS_setfsuid : SYS_setfsgid, num(argv[1]));
    printf("%ld\n", r);
  } else if (!strcmp(c, "setreuid") || !strcmp(c, "setregid")) {
    NEED(3);
    report(
        syscall(!strcmp(c, "setreuid") ? SYS_setreuid : SYS_setregid, num(argv[1]), num(argv[2])));
  } else if (!strcmp(c, "setresuid") || !strcmp(c, "setresgid")) {
    NEED(4);
    report(syscall(!strcmp(c, "setresuid") ? SYS_setresuid : SYS_setresgid, num(argv[1]),
                   num(argv[2]), num(argv[3])));
  } else if (!strcmp(c, "setgroups")) {
    gid_t g[64];
    int n = argc - 1;
    if (n > 64) usage();
    for (int i = 0; i < n; i++) g[i] = (gid_t)num(argv[i + 1]);
    report(syscall(SYS_setgroups, n, g));
  } else if (!strcmp(c, "capset-all") || !strcmp(c, "caps")) {
    NEED(1);
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    if (!strcmp(c, "caps")) {
      if (syscall(SYS_capget, &h, d) != 0) {
        report(-1);
        return;
      }
      printf("eff %08x%08x prm %08x%08x\n", d[1].effective, d[0].effective, d[1].permitted,
             d[0].permitted);
      return;
    }
    for (int i = 0; i < 2; i++) d[i].effective = d[i].permitted = d[i].inheritable = ~0u;
    report(syscall(SYS_capset, &h, d));
  } else if (!strcmp(c, "mknod") || !strcmp(c, "mknodat")) {
    if (argc != 3 && argc != 5) usage();
    mode_t type;
    switch (argv[2][0]) {
      case 'c':
        type = S_IFCHR;
        break;
      case 'b':
        type = S_IFBLK;
        break;
      case 'p':
        type = S_IFIFO;
        break;
      case 'f':
        type = S_IFREG;
        break;
      case 's':
        type = S_IFSOCK;
        break;
      default:
        usage();
        return;
    }
    dev_t dev = argc == 5 ? makedev(num(argv[3]), num(argv[4])) : 0;
    if (!strcmp(c, "mknod"))
      report(syscall(SYS_mknod, argv[1], type | 0644, dev));
    else
      report(syscall(SYS_mknodat, AT_FDCWD, argv[1], type | 0644, dev));
  } else if (!strcmp(c, "mkdir")) {
    NEED(3);
    umask(0);
    report(syscall(SYS_mkdir, argv[1], num(argv[2])));
  } else if (!strcmp(c, "sethostname")) {
    NEED(2);
    report(sethostname(argv[1], strlen(argv[1])));
  } else if (!strcmp(c, "ids")) {
    NEED(1);
    uid_t r, e, s;
    gid_t rg, eg, sg, groups[256];
    getresuid(&r, &e, &s);
    getresgid(&rg, &eg, &sg);
    int n = getgroups(256, groups);
    printf("%u %u %u %u %u %u groups:", r, e, s, rg, eg, sg);
    for (int i = 0; i < n; i++) printf(i ? ",%u" : "%u", groups[i]);
    printf("\n");
  } else if (!strcmp(c, "stat")) {
    NEED(2);
    struct stat st;
    if (lstat(argv[1], &st) != 0) {
      report(-1);
      return;
    }
    char kind = S_ISDIR(st.st_mode)    ? 'd'
                : S_ISCHR(st.st_mode)  ? 'c'
                : S_ISBLK(st.st_mode)  ? 'b'
                : S_ISLNK(st.st_mode)  ? 'l'
                : S_ISFIFO(st.st_mode) ? 'p'
                : S_ISSOCK(st.st_mode) ? 's'
                                       : 'f';
    printf("%u %u %04o %c", st.st_uid, st.st_gid, st.st_mode & 07777, kind);
    if (kind == 'c' || kind == 'b') printf(" %u:%u", major(st.st_rdev), minor(st.st_rdev));
    printf("\n");
  } else if (!strcmp(c, "exists")) {
    NEED(2);
    struct stat st;
    printf("%s\n", lstat(argv[1], &st) == 0 ? "yes" : "no");
  } else if (!strcmp(c, "seccomp")) {
    NEED(1);
    print_status();
  } else {
    usage();
  }
#undef NEED
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) usage();
  int start = 1;
  for (int i = 1; i <= argc; i++) {
    if (i == argc || !strcmp(argv[i], ",")) {
      if (i == start) usage();
      check(i - start, argv + start);
      start = i + 1;
    }
  }
  return failed;
}
