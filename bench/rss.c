// rss.c - peak RSS of every process a command starts.
//
//   rss CMD [ARGS...]
//
// Runs CMD as a child, is a child subreaper (so processes that double-fork away from CMD, like a
// container process after `create`, come back to it), and reaps every process of the tree until
// none is left. For each reaped process it prints
//   proc PID COMM MAXRSS_KB
// where COMM is read from the zombie before reaping and MAXRSS_KB is wait4()'s ru_maxrss: the
// high-water RSS of that process, including the memory it had before an execve, and of its
// descendants it reaped itself. A last line "peak KB rc RC" gives the maximum over all of them
// (the figure compared in docs/performance.md) and CMD's exit status.
// The environment and uid are inherited: drop privileges before (setpriv) for rootless runs.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: rss CMD [ARGS...]\n"); return 2; }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1)) { perror("prctl"); return 2; }
  pid_t top = fork();
  if (top < 0) { perror("fork"); return 2; }
  if (top == 0) {
    int nul = open("/dev/null", O_RDWR);
    if (nul >= 0) { dup2(nul, 0); dup2(nul, 1); }
    execvp(argv[1], argv + 1);
    perror(argv[1]);
    _exit(127);
  }
  long peak = 0; int rc = -1;
  for (;;) {
    siginfo_t si; memset(&si, 0, sizeof si);
    if (waitid(P_ALL, 0, &si, WEXITED | WNOWAIT) < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: tree is gone
    }
    pid_t pid = si.si_pid;
    char comm[64] = "?", path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    FILE *f = fopen(path, "re");
    if (f) {
      if (fgets(comm, sizeof comm, f)) comm[strcspn(comm, "\n")] = 0;
      for (char *c = comm; *c; c++) if (*c == ' ') *c = '_';
      fclose(f);
    }
    int st; struct rusage ru;
    if (wait4(pid, &st, 0, &ru) != pid) continue;
    printf("proc %d %s %ld\n", (int)pid, comm, ru.ru_maxrss);
    if (ru.ru_maxrss > peak) peak = ru.ru_maxrss;
    if (pid == top) rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  printf("peak %ld rc %d\n", peak, rc);
  return rc == 0 ? 0 : 1;
}
