// floor.c - the minimal work a container start must do.
// Vendored from shared/tools/bench/floor.c; keep in sync. Added here: -b (mounts.sh floor row).
//
//   floor [-R] [-f] [-b N:SRC] ROOTFS CMD [ARGS...]
//
// default (minimal): unshare(USER|NS|PID), setgroups=deny, uid_map/gid_map
//   "0 <uid> 1", fork (child = pid 1 of new pidns), make / rprivate,
//   bind ROOTFS, mount ROOTFS/proc, pivot_root, detach old root, exec CMD, parent waits.
// -R : as real root, skip the user namespace (root floor).
// -f : "OCI default config" floor: additionally what `runc spec` / `runc spec
//   --rootless` asks for: uts+ipc (+net when root) namespaces, tmpfs /dev with
//   6 device nodes (mknod as root, bind from host when rootless) + /dev symlinks,
//   devpts, /dev/shm, mqueue, /sys (sysfs as root, rbind ro when rootless),
//   tmpfs /sys/fs/cgroup with ro binds of the v1 hierarchies, 10 masked paths,
//   5 readonly paths, read-only root remount, hostname, RLIMIT_NOFILE,
//   capability bounding set + capset, no_new_privs.
// -b N:SRC : N more bind mounts of SRC on ROOTFS/mnt/b0..N-1 (options "bind"), each by its
//   plain path: the kernel's minimum per mount (mounts.sh's floor row). A runtime also has to
//   resolve each destination inside the rootfs so that a symlink cannot lead it out; this
//   floor does not.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *m) { perror(m); _exit(125); }

static void wfile(const char *p, const char *s) {
  int fd = open(p, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die(p);
  if (write(fd, s, strlen(s)) != (ssize_t)strlen(s)) die(p);
  close(fd);
}

static int full, asroot, nbinds;
static const char *bindsrc;

static void mnt(const char *src, const char *dst, const char *type, unsigned long fl, const char *data) {
  if (mount(src, dst, type, fl, data)) { fprintf(stderr, "mount %s: ", dst); die("mount"); }
}


static void oci_mounts_before_pivot(const char *r) {
  char p[4096];
  const unsigned long nsd = MS_NOSUID | MS_NOEXEC | MS_NODEV;
#define P(x) (snprintf(p, sizeof p, "%s%s", r, x), p)
  mnt("proc", P("/proc"), "proc", 0, NULL);
  mnt("tmpfs", P("/dev"), "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
  mkdir(P("/dev/pts"), 0755);
  mnt("devpts", P("/dev/pts"), "devpts", MS_NOSUID | MS_NOEXEC,
      asroot ? "newinstance,ptmxmode=0666,mode=0620,gid=5" : "newinstance,ptmxmode=0666,mode=0620");
  mkdir(P("/dev/shm"), 0755);
  mnt("shm", P("/dev/shm"), "tmpfs", nsd, "mode=1777,size=65536k");
  mkdir(P("/dev/mqueue"), 0755);
  mnt("mqueue", P("/dev/mqueue"), "mqueue", nsd, NULL);
  if (asroot) {
    mnt("sysfs", P("/sys"), "sysfs", nsd | MS_RDONLY, NULL);
  } else {
    mnt("/sys", P("/sys"), NULL, MS_BIND | MS_REC, NULL);
    mnt(NULL, P("/sys"), NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | nsd, NULL);
  }
  // cgroup v1: tmpfs + ro bind of each hierarchy (what runtimes do for "cgroup" mounts on v1)
  if (mount("tmpfs", P("/sys/fs/cgroup"), "tmpfs", nsd, "mode=755") == 0) {
    DIR *d = opendir("/sys/fs/cgroup");
    struct dirent *e;
    while (d && (e = readdir(d))) {
      if (e->d_name[0] == '.' || e->d_type != DT_DIR) continue;
      char src[512], dst[4096];
      snprintf(src, sizeof src, "/sys/fs/cgroup/%s", e->d_name);
      snprintf(dst, sizeof dst, "%s/sys/fs/cgroup/%s", r, e->d_name);
      mkdir(dst, 0755);
      if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) == 0)
        mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | nsd, NULL);
    }
    if (d) closedir(d);
    mount(NULL, P("/sys/fs/cgroup"), NULL, MS_REMOUNT | MS_RDONLY | nsd, "mode=755");
  }
  // device nodes
  static const struct { const char *n; int maj, min; } devs[] = {
      {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
  for (unsigned i = 0; i < sizeof devs / sizeof devs[0]; i++) {
    char dst[4096], src[64];
    snprintf(dst, sizeof dst, "%s/dev/%s", r, devs[i].n);
    if (asroot) {
      if (mknod(dst, S_IFCHR | 0666, makedev(devs[i].maj, devs[i].min))) die("mknod");
    } else {
      int fd = open(dst, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
      if (fd < 0) die("devfile");
      close(fd);
      snprintf(src, sizeof src, "/dev/%s", devs[i].n);
      mnt(src, dst, NULL, MS_BIND, NULL);
    }
  }
  symlink("/proc/self/fd", P("/dev/fd"));
  symlink("/proc/self/fd/0", P("/dev/stdin"));
  symlink("/proc/self/fd/1", P("/dev/stdout"));
  symlink("/proc/self/fd/2", P("/dev/stderr"));
  symlink("pts/ptmx", P("/dev/ptmx"));
#undef P
}

static void oci_after_pivot(void) {
  static const char *masked[] = {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                                 "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                                 "/proc/sched_debug", "/sys/firmware", "/proc/scsi"};
  static const char *ro[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
  for (unsigned i = 0; i < sizeof masked / sizeof *masked; i++) {
    struct stat sb;
    if (stat(masked[i], &sb)) continue;
    if (S_ISDIR(sb.st_mode))
      mount("tmpfs", masked[i], "tmpfs", MS_RDONLY, NULL);
    else
      mount("/dev/null", masked[i], NULL, MS_BIND, NULL);
  }
  for (unsigned i = 0; i < sizeof ro / sizeof *ro; i++) {
    if (access(ro[i], F_OK)) continue;
    if (mount(ro[i], ro[i], NULL, MS_BIND | MS_REC, NULL) == 0)
      mount(NULL, ro[i], NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL);
  }
  // read-only root
  if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL)) {
    // in a userns we must keep locked flags

    mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL);
  }
  sethostname("runc", 4);
  struct rlimit rl = {1024, 1024};
  setrlimit(RLIMIT_NOFILE, &rl);
  // capabilities: keep AUDIT_WRITE, KILL, NET_BIND_SERVICE
  unsigned long keep = (1UL << CAP_AUDIT_WRITE) | (1UL << CAP_KILL) | (1UL << CAP_NET_BIND_SERVICE);
  for (int c = 0; c <= CAP_LAST_CAP; c++)
    if (!(keep & (1UL << c))) prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2] = {{(unsigned)keep, (unsigned)keep, (unsigned)keep}, {0, 0, 0}};
  syscall(SYS_capset, &h, d);
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

int main(int argc, char **argv) {
  int opt;
  while ((opt = getopt(argc, argv, "+Rfb:")) != -1) {
    if (opt == 'R') asroot = 1;
    else if (opt == 'f') full = 1;
    else if (opt == 'b') {
      char *colon = strchr(optarg, ':');
      if (!colon) return 2;
      nbinds = atoi(optarg);
      bindsrc = colon + 1;
    } else return 2;
  }
  if (argc - optind < 2) { fprintf(stderr, "usage: floor [-R] [-f] [-b N:SRC] ROOTFS CMD...\n"); return 2; }
  const char *rootfs = argv[optind];
  char **cmd = argv + optind + 1;
  uid_t uid = getuid(); gid_t gid = getgid();
  int fl = CLONE_NEWNS | CLONE_NEWPID;
  if (!asroot) fl |= CLONE_NEWUSER;
  if (full) { fl |= CLONE_NEWUTS | CLONE_NEWIPC; if (asroot) fl |= CLONE_NEWNET; }
  if (unshare(fl)) die("unshare");
  if (!asroot) {
    char m[64];
    wfile("/proc/self/setgroups", "deny");
    snprintf(m, sizeof m, "0 %u 1\n", uid); wfile("/proc/self/uid_map", m);
    snprintf(m, sizeof m, "0 %u 1\n", gid); wfile("/proc/self/gid_map", m);
  }
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    mnt(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    mnt(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL);
    if (full) oci_mounts_before_pivot(rootfs);
    for (int i = 0; i < nbinds; i++) {
      char dst[4096];
      snprintf(dst, sizeof dst, "%s/mnt/b%d", rootfs, i);
      mnt(bindsrc, dst, NULL, MS_BIND, NULL);
    }
    if (!full) {  // /proc must be mounted while the host /proc is still visible (userns rule)
      char pp[4096]; snprintf(pp, sizeof pp, "%s/proc", rootfs);
      mnt("proc", pp, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    }
    if (chdir(rootfs)) die("chdir");
    if (syscall(SYS_pivot_root, ".", ".")) die("pivot_root");
    if (umount2(".", MNT_DETACH)) die("umount old root");
    if (chdir("/")) die("chdir /");
    if (full) oci_after_pivot();
    execv(cmd[0], cmd);
    die("exec");
  }
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) die("waitpid");
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
