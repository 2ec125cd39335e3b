// Protecting nook's own binary from the containers it starts (the CVE-2019-5736 class).
//
// Every process that enters a container is a clone() of the nook invocation that made it, so
// until its execve it runs nook's binary, and /proc/PID/exe of that process names the file.
// A container that reaches that link (a program `/proc/self/exe`, or a script whose
// interpreter it is, run by `exec`; ptrace access granted by CAP_SYS_PTRACE) can open the file
// and, once no process executes it any more, write it: the next nook run by anyone is the
// container's code. The rule: no process that enters a container may have a writable file
// behind its exe link. nook_exe_protect() makes it true before any container is touched:
//
//   1. the binary already runs from a sealed memfd (F_SEAL_WRITE|SHRINK|GROW|SEAL), or from a
//      read-only mount (ST_RDONLY: a package on a read-only /usr, or step 3's clone): done;
//   2. the caller cannot write the file (access(W_OK) as the effective IDs fails and the
//      caller does not own it): done, without a copy. Every identity a container of this
//      caller can have is a subset of the caller's own: its user namespace maps only IDs the
//      caller holds, its capabilities there apply only to inodes whose owner it maps, and its
//      supplementary groups are the caller's. A root-owned /usr/bin/nook used by an
//      unprivileged user is this case;
//   3. otherwise (root, or a binary the user owns or may write), re-execute from a read-only
//      clone of the binary's mount: open_tree(OPEN_TREE_CLONE) of /proc/self/exe,
//      mount_setattr(MOUNT_ATTR_RDONLY), execveat(). No copy: the page cache is shared. The
//      clone is detached, so nobody can remount it read-write (mount_setattr and remount both
//      refuse a mount outside the caller's namespace), and a write open through the exe link
//      fails with EROFS. Needs CAP_SYS_ADMIN over the caller's mount namespace (root, or root
//      inside Buildah's/Podman's user namespace);
//   4. otherwise (an unprivileged user's own build), re-execute from a sealed memfd copy, as
//      runc and crun do: writes, truncation and growth are refused by the seals.
//
// It runs twice per invocation at most: from the ELF entry point before the C library starts
// (src/fast/state.cpp), where the re-execution costs one execve and no second libc start-up,
// and from main() for the verbs that start container processes (create, run, exec), which
// re-checks in four system calls and does the work if the early scan did not. Code here
// follows the pre-libc rules of src/fast/state.cpp: raw system calls, no library calls, no
// data holding pointers.
#include "exe.hpp"

#include <asm/stat.h>
#include <asm/statfs.h>
#include <asm/unistd.h>
#include <linux/fcntl.h>
#include <linux/memfd.h>
#include <linux/mount.h>

#include "raw.hpp"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U  // Linux 6.3; older kernels refuse it with EINVAL
#endif

namespace {

using nook::fast::eq;
using nook::fast::sys;

template <class T>
long p(T* x) {
  return reinterpret_cast<long>(x);
}

constexpr long kFAccessAt2 = 439, kOpenTree = 428, kMountSetattr = 442, kExecveat = 322;
constexpr long kSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
constexpr long kStRdonly = 1;  // ST_RDONLY in statfs.f_flags

// Steps 1 and 2: true when the container can never write the file behind fd.
bool already_safe(long fd) {
  if ((sys(__NR_fcntl, fd, F_GET_SEALS) & kSeals) == kSeals) return true;
  struct statfs sf;
  if (sys(__NR_fstatfs, fd, p(&sf)) == 0 && (sf.f_flags & kStRdonly)) return true;
  struct stat st;
  if (sys(__NR_fstat, fd, p(&st)) != 0) return false;
  if (st.st_uid == static_cast<unsigned>(sys(__NR_geteuid))) return false;
  long w = sys(kFAccessAt2, AT_FDCWD, p("/proc/self/exe"), 2 /* W_OK */, AT_EACCESS);
  return w == -13 /* EACCES */ || w == -30 /* EROFS */ || w == -1 /* EPERM: immutable */;
}

}  // namespace

long nook_exe_protect(char** argv, char** envp, const char** step) {
  *step = "open /proc/self/exe";
  long fd = sys(__NR_openat, AT_FDCWD, p("/proc/self/exe"), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fd;
  bool safe = already_safe(fd);
  if (safe) {
    sys(__NR_close, fd);
    return 0;
  }

  // Step 3: a read-only, detached clone of the mount that holds the binary.
  long tree = sys(kOpenTree, AT_FDCWD, p("/proc/self/exe"), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree >= 0) {
    struct mount_attr attr = {};
    attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    if (sys(kMountSetattr, tree, p(""), AT_EMPTY_PATH, p(&attr), sizeof attr) == 0)
      sys(kExecveat, tree, p(""), p(argv), p(envp), AT_EMPTY_PATH);
    sys(__NR_close, tree);  // not permitted here, or an old kernel: the copy below
  }

  // Step 4: a sealed copy in memory.
  *step = "memfd_create";
  long mfd = sys(__NR_memfd_create, p("nook"), MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (mfd == -22 /* EINVAL: a kernel before 6.3 has no MFD_EXEC */)
    mfd = sys(__NR_memfd_create, p("nook"), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  long r = mfd;
  if (mfd >= 0) {
    *step = "copy /proc/self/exe to a memfd";
    struct stat st;
    r = sys(__NR_fstat, fd, p(&st));
    long off = 0;
    while (r == 0 && off < st.st_size) {
      long n = sys(__NR_sendfile, mfd, fd, 0, st.st_size - off);
      if (n == -4 /* EINTR */) continue;
      if (n <= 0) r = n < 0 ? n : -5 /* EIO: the file shrank */;
      off += n > 0 ? n : 0;
    }
    if (r == 0) {
      *step = "seal the memfd";
      r = sys(__NR_fcntl, mfd, F_ADD_SEALS, kSeals);
    }
    if (r == 0) {
      *step = "execveat the sealed memfd";
      r = sys(kExecveat, mfd, p(""), p(argv), p(envp), AT_EMPTY_PATH);
    }
    sys(__NR_close, mfd);
  }
  sys(__NR_close, fd);
  return r < 0 ? r : -5;
}

bool nook_verb_enters_container(const char* verb) {
  return eq(verb, "create") || eq(verb, "run") || eq(verb, "exec");
}

bool nook_argv_enters_container(int argc, char** argv) {
  // The first word that is not a global option or its value (the global options that take
  // a value, with one dash or two, as normalise() in src/cli/app.cpp reads them).
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    if (a[0] != '-') return nook_verb_enters_container(a);
    const char* n = a + (a[1] == '-' ? 2 : 1);
    if (eq(n, "root") || eq(n, "log") || eq(n, "log-format") || eq(n, "rootless") ||
        eq(n, "cgroup-manager") || eq(n, "criu"))
      i++;
  }
  return false;
}
