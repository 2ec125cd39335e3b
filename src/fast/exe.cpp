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
//   3. otherwise (root, or a binary the user owns or may write), run from a read-only clone
//      of the binary's mount: open_tree(OPEN_TREE_CLONE) of /proc/self/exe,
//      mount_setattr(MOUNT_ATTR_RDONLY). No copy: the page cache is shared. The clone is
//      detached, so nobody can remount it read-write (mount_setattr and remount both refuse a
//      mount outside the caller's namespace), and a write open through the exe link fails with
//      EROFS. Needs CAP_SYS_ADMIN over the caller's mount namespace (root, or root inside
//      Buildah's/Podman's user namespace). Switching to the clone:
//      a. before the C library starts, with the capability to move the exe link (CAP_SYS_ADMIN
//         or CAP_CHECKPOINT_RESTORE in the caller's user namespace, or CAP_SYS_RESOURCE):
//         no execve at all.
//         The binary's pages are still as the kernel loaded them, so each of its file-backed
//         segments is mapped again, at the same address, from the clone (the same inode and
//         page cache: the bytes do not change under the running code), the tail of the last
//         data page that the kernel zeroed is zeroed again, and PR_SET_MM_EXE_FILE points the
//         exe link at the clone (PR_SET_MM_MAP, which also rewrites the layout fields: they
//         are given back as /proc/self/stat shows them). The kernel refuses the switch (EBUSY)
//         while any mapping of the old file is left, so a segment missed here cannot go unnoticed;
//      b. otherwise execveat() the clone;
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
#include <elf.h>
#include <linux/fcntl.h>
#include <linux/memfd.h>
#include <linux/mman.h>
#include <linux/mount.h>
#include <linux/prctl.h>

#include "raw.hpp"
#include "shared.hpp"

extern "C" const Elf64_Ehdr __ehdr_start __attribute__((visibility("hidden")));

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U  // Linux 6.3; older kernels refuse it with EINVAL
#endif

namespace {

using nook::fast::eq;
using nook::fast::Out;
using nook::fast::parse_u64;
using nook::fast::slurp;
using nook::fast::sys;

template <class T>
long p(T* x) {
  return reinterpret_cast<long>(x);
}

constexpr long kFAccessAt2 = 439, kOpenTree = 428, kMountSetattr = 442, kExecveat = 322;
// The strings read before the segments are mapped again (NOOK_ENTRY_CONST, src/fast/raw.hpp).
NOOK_ENTRY_CONST constexpr char kSelfExe[] = "/proc/self/exe";
NOOK_ENTRY_CONST constexpr char kSelfFd[] = "/proc/self/fd/";
NOOK_ENTRY_CONST constexpr char kEmpty[] = "";
NOOK_ENTRY_CONST constexpr char kVerbs[] = "create\0run\0exec\0";
constexpr unsigned long kPage = 4096;
constexpr long kSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
constexpr long kStRdonly = 1;  // ST_RDONLY in statfs.f_flags

// Steps 1 and 2: true when the container can never write the file behind fd.
// The clone's descriptor after step 3a (nook_exe_release). Written after the segments are
// mapped again: a write before would be lost with the old data pages.
int g_clone_fd = -1;

}  // namespace

// One page of zeros, the last file-backed section of the writable segment (an orphan
// section: the linker puts it after .got.plt, before .bss), page-aligned: the segment's file
// part then ends on a page boundary, so the kernel zeroes no partial page for .bss at execve
// and that page is not present when step 3a replaces the mapping (a page fault less for every
// nook process, and no TLB flush for the data segment's remap).
extern "C" {
__attribute__((section("nook_page_pad"), aligned(4096), used, retain,
               visibility("hidden"))) char nook_data_end[4096] = {1};
}

namespace {

bool already_safe(long fd) {
  if ((sys(__NR_fcntl, fd, F_GET_SEALS) & kSeals) == kSeals) return true;
  struct statfs sf;
  if (sys(__NR_fstatfs, fd, p(&sf)) == 0 && (sf.f_flags & kStRdonly)) return true;
  struct stat st;
  if (sys(__NR_fstat, fd, p(&st)) != 0) return false;
  if (st.st_uid == static_cast<unsigned>(sys(__NR_geteuid))) return false;
  long w = sys(kFAccessAt2, AT_FDCWD, p(kSelfExe), 2 /* W_OK */, AT_EACCESS);
  return w == -13 /* EACCES */ || w == -30 /* EROFS */ || w == -1 /* EPERM: immutable */;
}

// The kernel's view of this process's memory layout (/proc/self/stat fields 26-28, 45-51 and
// the current break), which PR_SET_MM_MAP replaces as a whole.
bool read_mm(struct prctl_mm_map* m) {
  char buf[1024];
  long n = slurp(AT_FDCWD, "/proc/self/stat", buf, sizeof buf);
  const char* c = nullptr;
  for (long i = 0; i < n; i++)  // the last ')': the command name may hold one
    if (buf[i] == ')') c = buf + i;
  if (!c) return false;
  const char* end = buf + n;
  c += 2;  // field 3, the state
  int field = 3;
  for (; field <= 51 && c < end; field++) {
    __u64* want = nullptr;
    switch (field) {  // (no table: an array initialiser may become a memset call)
      case 26:
        want = &m->start_code;
        break;
      case 27:
        want = &m->end_code;
        break;
      case 28:
        want = &m->start_stack;
        break;
      case 45:
        want = &m->start_data;
        break;
      case 46:
        want = &m->end_data;
        break;
      case 47:
        want = &m->start_brk;
        break;
      case 48:
        want = &m->arg_start;
        break;
      case 49:
        want = &m->arg_end;
        break;
      case 50:
        want = &m->env_start;
        break;
      case 51:
        want = &m->env_end;
        break;
    }
    unsigned long long v = 0;
    if (want && !parse_u64(&c, end, ~0ull, &v)) return false;
    if (want) *want = v;
    while (c < end && *c != ' ') c++;
    c++;
  }
  if (field <= 51) return false;
  m->brk = static_cast<__u64>(sys(__NR_brk, 0));
  return true;
}

// The exe link moved to fd: PR_SET_MM_MAP (CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE in the
// caller's own user namespace: root, and root in Buildah's or Podman's namespace) with the
// layout the kernel has now, else PR_SET_MM_EXE_FILE (CAP_SYS_RESOURCE).
bool set_exe(long fd) {
  struct prctl_mm_map m = {};
  if (read_mm(&m)) {
    m.exe_fd = static_cast<__u32>(fd);
    if (sys(__NR_prctl, PR_SET_MM, PR_SET_MM_MAP, p(&m), sizeof m) == 0) return true;
  }
  return sys(__NR_prctl, PR_SET_MM, PR_SET_MM_EXE_FILE, fd) == 0;
}

// Step 3a: the segments of the running binary mapped again from `tree` (an O_PATH descriptor
// of the clone) and the exe link moved to it. Only before the C library has written to the
// binary's data; false (nothing changed that matters: the same bytes) when any step fails.
bool remap_to(long exe, long tree) {
  // The ELF header is the start of the segment at file offset 0 (the linker's __ehdr_start:
  // an address relative to the code, no relocation needed). It and the program headers are
  // read from the file, not through that address: the segment is then replaced untouched.
  auto* base = reinterpret_cast<const char*>(&__ehdr_start);
  union {
    Elf64_Ehdr eh;
    char raw[2048];
  } head;
  long got = sys(__NR_pread64, exe, p(&head), sizeof head, 0);
  if (got < static_cast<long>(sizeof head.eh) || head.eh.e_phentsize != sizeof(Elf64_Phdr) ||
      head.eh.e_phoff + head.eh.e_phnum * sizeof(Elf64_Phdr) > static_cast<unsigned long>(got))
    return false;
  auto* ph = reinterpret_cast<const Elf64_Phdr*>(head.raw + head.eh.e_phoff);
  const int phnum = head.eh.e_phnum;
  long bias = -1;
  bool dynamic = false;
  for (int i = 0; i < phnum; i++) {
    if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0) bias = p(base) - ph[i].p_vaddr;
    // A dynamically linked build (the sanitizer's) was relocated by ld.so before its entry
    // point: its data no longer matches the file, so mapping it again would undo that.
    dynamic = dynamic || ph[i].p_type == PT_INTERP;
  }
  if (bias == -1 || dynamic) return false;
  char path[32];  // mmap and prctl need a file opened for reading
  Out o{path, 0, sizeof path};
  o.put(kSelfFd);
  o.num(static_cast<unsigned long long>(tree));
  long fd = o.c_str() ? sys(__NR_openat, AT_FDCWD, p(path), O_RDONLY | O_CLOEXEC) : -1;
  if (fd < 0) return false;
  bool ok = true;
  for (int i = 0; ok && i < phnum; i++) {
    const Elf64_Phdr& s = ph[i];
    if (s.p_type != PT_LOAD || s.p_filesz == 0) continue;
    unsigned long head = s.p_vaddr & (kPage - 1);
    unsigned long len = (head + s.p_filesz + kPage - 1) & ~(kPage - 1);
    long prot = (s.p_flags & PF_R ? PROT_READ : 0) | (s.p_flags & PF_W ? PROT_WRITE : 0) |
                (s.p_flags & PF_X ? PROT_EXEC : 0);
    long at = bias + static_cast<long>(s.p_vaddr - head);
    ok = sys(__NR_mmap, at, len, prot, MAP_PRIVATE | MAP_FIXED, fd, s.p_offset - head) == at;
    if (ok && s.p_memsz > s.p_filesz && (s.p_flags & PF_W))
      for (char* z = reinterpret_cast<char*>(at + head + s.p_filesz);
           z < reinterpret_cast<char*>(at + len); z++)
        *static_cast<volatile char*>(z) = 0;  // not a call to memset: there is no libc yet
  }
  ok = ok && set_exe(fd);
  sys(__NR_close, fd);
  return ok;
}

}  // namespace

long nook_exe_protect(char** argv, char** envp, const char** step, bool prelibc) {
  *step = "open /proc/self/exe";
  long fd = sys(__NR_openat, AT_FDCWD, p(kSelfExe), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fd;
  bool safe = already_safe(fd);
  if (safe) {
    sys(__NR_close, fd);
    return 0;
  }

  // Step 3: a read-only, detached clone of the mount that holds the binary.
  long tree = sys(kOpenTree, AT_FDCWD, p(kSelfExe), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree >= 0) {
    struct mount_attr attr = {};
    attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    if (sys(kMountSetattr, tree, p(kEmpty), AT_EMPTY_PATH, p(&attr), sizeof attr) == 0) {
      if (prelibc && remap_to(fd, tree)) {
        g_clone_fd = static_cast<int>(tree);
        sys(__NR_close, fd);
        return 0;
      }
      sys(kExecveat, tree, p(""), p(argv), p(envp), AT_EMPTY_PATH);
    }
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

void nook_exe_release() {
  if (g_clone_fd < 0) return;
  sys(__NR_close, g_clone_fd);
  g_clone_fd = -1;
}

bool nook_verb_enters_container(const char* verb) {
  for (const char* v = kVerbs; *v; v += nook::fast::len(v) + 1)
    if (eq(verb, v)) return true;
  return false;
}

bool nook_argv_enters_container(int argc, char** argv) {
  int verb = nook::fast::verb_index(argc, argv);  // as the command line finds it
  return verb > 0 && nook_verb_enters_container(argv[verb]);
}
