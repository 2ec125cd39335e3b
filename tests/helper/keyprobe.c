/* nook-keyprobe: checks for the config-key tests (tests/integration/config_*.bats) that the
 * general probe (probe.c) does not have. Copied into the test rootfs at /keyprobe; static,
 * like the probe, so that it runs on a busybox rootfs as any user.
 *
 * Usage: keyprobe CHECK [ARGS]   one line of output per check; exit 0 if the check ran,
 * 1 if the thing checked failed (the errno name is printed), 2 on a usage error.
 *
 *   personality        "persona 0xN machine M" (personality(0xffffffff), uname -m)
 *   domainname         getdomainname()
 *   sched              "policy P nice N priority R" (sched_getattr)
 *   ioprio             "class C level L" (ioprio_get for this process)
 *   lo                 "up" or "down": the loopback interface's IFF_UP
 *   clocks             "monotonic S boottime S" in whole seconds
 *   propagation DEST   mountinfo optional fields of the mount at DEST ("private" if none)
 *   submounts DEST     "MOUNTPOINT OPTIONS" of every mount strictly below DEST
 *   exec PATH          execve PATH (a copy of this program, run as "PATH ok"): "ok" or the errno
 *   statfs PATH        "blocks B bsize S" of the filesystem at PATH
 *   ns NAME            the inode of /proc/self/ns/NAME
 *   fsync-dir PATH     opens PATH and prints "sync" if its mount has MS_SYNCHRONOUS (statvfs)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

// "ENOENT", ... as the tests expect them (glibc's table, not one of ours).
static const char* errno_name(int e) {
  const char* n = strerrorname_np(e);
  return n ? n : "EUNKNOWN";
}

static int usage(void) {
  fprintf(stderr,
          "usage: keyprobe personality|domainname|sched|ioprio|lo|clocks|propagation DEST|\n"
          "                submounts DEST|exec PATH|statfs PATH|ns NAME|fsync-dir PATH\n");
  return 2;
}

static int fail(const char* what) {
  printf("%s\n", errno_name(errno));
  fprintf(stderr, "keyprobe: %s: %s\n", what, strerror(errno));
  return 1;
}

struct sched_attr_v0 {
  uint32_t size, policy;
  uint64_t flags;
  int32_t nice;
  uint32_t priority;
  uint64_t runtime, deadline, period;
};

static const char* policy_name(unsigned p) {
  switch (p) {
    case 0:
      return "SCHED_OTHER";
    case 1:
      return "SCHED_FIFO";
    case 2:
      return "SCHED_RR";
    case 3:
      return "SCHED_BATCH";
    case 5:
      return "SCHED_IDLE";
    case 6:
      return "SCHED_DEADLINE";
    default:
      return "SCHED_?";
  }
}

/* Walks /proc/self/mountinfo; for DEST prints the optional fields, or for "below" every
 * mount strictly under DEST with its options. */
static int mountinfo(const char* dest, int below) {
  FILE* f = fopen("/proc/self/mountinfo", "re");
  if (!f) return fail("open /proc/self/mountinfo");
  char line[4096];
  int found = 0;
  size_t dl = strlen(dest);
  while (fgets(line, sizeof line, f)) {
    char mp[4096], opts[1024];
    int n = 0;
    if (sscanf(line, "%*d %*d %*s %*s %4095s %1023s %n", mp, opts, &n) != 2) continue;
    char* dash = strstr(line, " - ");
    if (!dash) continue;
    if (below) {
      if (strncmp(mp, dest, dl) == 0 && (mp[dl] == '/' || (dl == 1 && mp[1]))) {
        printf("%s %s\n", mp, opts);
        found = 1;
      }
      continue;
    }
    if (strcmp(mp, dest) != 0) continue;
    char* opt = line + n;
    if (opt > dash) opt = dash; /* no optional fields: n is past the separator */
    *dash = 0;
    while (*opt == ' ') opt++;
    printf("%s\n", *opt ? opt : "private");
    found = 1;
  }
  fclose(f);
  if (!found && !below) {
    printf("not-mounted\n");
    return 1;
  }
  return 0;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) return usage();
  const char* c = argv[1];
  if (!strcmp(c, "personality")) {
    struct utsname u;
    int p = personality(0xffffffff);
    if (p < 0 || uname(&u) < 0) return fail("personality");
    printf("persona 0x%x machine %s\n", (unsigned)p, u.machine);
  } else if (!strcmp(c, "domainname")) {
    char buf[256];
    if (getdomainname(buf, sizeof buf) < 0) return fail("getdomainname");
    printf("%s\n", buf);
  } else if (!strcmp(c, "sched")) {
    struct sched_attr_v0 a;
    memset(&a, 0, sizeof a);
    if (syscall(SYS_sched_getattr, 0, &a, sizeof a, 0) < 0) return fail("sched_getattr");
    printf("policy %s nice %d priority %u\n", policy_name(a.policy), a.nice, a.priority);
  } else if (!strcmp(c, "ioprio")) {
    long p = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);
    if (p < 0) return fail("ioprio_get");
    static const char* const cls[] = {"NONE", "RT", "BE", "IDLE"};
    printf("class %s level %ld\n", (p >> 13) < 4 ? cls[p >> 13] : "?", p & 0x1fff);
  } else if (!strcmp(c, "lo")) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return fail("socket");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) return fail("SIOCGIFFLAGS lo");
    printf("%s\n", (ifr.ifr_flags & IFF_UP) ? "up" : "down");
  } else if (!strcmp(c, "clocks")) {
    struct timespec m, b;
    clock_gettime(CLOCK_MONOTONIC, &m);
    clock_gettime(CLOCK_BOOTTIME, &b);
    printf("monotonic %lld boottime %lld\n", (long long)m.tv_sec, (long long)b.tv_sec);
  } else if (!strcmp(c, "propagation") && argc > 2) {
    return mountinfo(argv[2], 0);
  } else if (!strcmp(c, "submounts") && argc > 2) {
    return mountinfo(argv[2], 1);
  } else if (!strcmp(c, "exec") && argc > 2) {
    char* const args[] = {argv[2], "ok", NULL};
    char* const env[] = {NULL};
    execve(argv[2], args, env);
    printf("%s\n", errno_name(errno));
    return 1;
  } else if (!strcmp(c, "ok")) {
    printf("ok\n");
  } else if (!strcmp(c, "statfs") && argc > 2) {
    struct statfs s;
    if (statfs(argv[2], &s) < 0) return fail("statfs");
    printf("blocks %llu bsize %ld\n", (unsigned long long)s.f_blocks, (long)s.f_bsize);
  } else if (!strcmp(c, "ns") && argc > 2) {
    char p[64];
    struct stat st;
    snprintf(p, sizeof p, "/proc/self/ns/%s", argv[2]);
    if (stat(p, &st) < 0) return fail(p);
    printf("%llu\n", (unsigned long long)st.st_ino);
  } else if (!strcmp(c, "fsync-dir") && argc > 2) {
    struct statvfs v;
    if (statvfs(argv[2], &v) < 0) return fail("statvfs");
    printf("%s\n", (v.f_flag & ST_SYNCHRONOUS) ? "sync" : "async");
  } else {
    return usage();
  }
  return 0;
}
