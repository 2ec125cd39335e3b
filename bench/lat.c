// lat.c - interleaved latency harness for container runtimes.
// Vendored unchanged (apart from this line) from shared/tools/bench/lat.c; keep in sync.
//
// Usage: lat [-r ROUNDS] [-w WARMUP] [-o OUT.csv] [-e K=V]... [-l LOGDIR] [-S SEED] SPECFILE
//
// SPECFILE lines:  name|user|mode|par|template
//   user : root | <username>   (children drop to that uid/gid, groups cleared)
//   mode : cmd    -> template is one command; par instances are forked at once
//                    and the sample is the time from first fork to last exit.
//          cycle  -> template is "CREATE ;; START ;; DELETE"; the harness is a
//                    child subreaper (like conmon): it runs CREATE, reads the
//                    pid from the --pid-file argument, runs START, waitpid()s
//                    the container process, then runs DELETE. Each is a
//                    separate process invocation. par must be 1.
//   template words are split on spaces; {ID} -> unique id per sample/instance.
// Every round runs every test once, in a freshly shuffled order (interleaved).
// Output CSV: name,round,inst,wall_ns,ph1_ns,ph2_ns,ph3_ns,ph4_ns,cpu_us,maxrss_kb,rc
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXT 256
#define MAXW 128

struct test {
  char name[128];
  uid_t uid; gid_t gid; char user[64]; char home[256];
  int cycle, par;
  char *tmpl[3];  // cmd: tmpl[0]; cycle: create,start,delete
  int logfd;
};

static struct test T[MAXT];
static int NT;
static char *extra_env[64];
static int n_extra_env;
static long g_maxrss;   // max ru_maxrss seen in current sample
static int g_fallback;  // # of times container pid was not our child

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *m) { perror(m); exit(2); }

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  char *e = s + strlen(s);
  while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r')) *--e = 0;
  return s;
}

// expand template into argv (malloc'd strings); {ID} substituted
static int build_argv(const char *tmpl, const char *id, char **argv) {
  char *copy = strdup(tmpl);
  int n = 0;
  for (char *tok = strtok(copy, " "); tok && n < MAXW - 1; tok = strtok(NULL, " ")) {
    char buf[4096]; buf[0] = 0;
    const char *p = tok;
    while (*p) {
      const char *q = strstr(p, "{ID}");
      if (!q) { strncat(buf, p, sizeof buf - strlen(buf) - 1); break; }
      strncat(buf, p, (size_t)(q - p));
      strncat(buf, id, sizeof buf - strlen(buf) - 1);
      p = q + 4;
    }
    argv[n++] = strdup(buf);
  }
  argv[n] = NULL;
  free(copy);
  return n;
}

static void free_argv(char **argv) { for (int i = 0; argv[i]; i++) free(argv[i]); }

static pid_t spawn(struct test *t, char **argv) {
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    int nul = open("/dev/null", O_RDWR);
    dup2(nul, 0); dup2(nul, 1);
    dup2(t->logfd >= 0 ? t->logfd : nul, 2);
    if (t->uid != geteuid()) {
      if (setgroups(0, NULL) || setresgid(t->gid, t->gid, t->gid) || setresuid(t->uid, t->uid, t->uid))
        _exit(126);
    }
    char *envp[80]; int ne = 0;
    static char e_home[300], e_user[100], e_logname[100];
    snprintf(e_home, sizeof e_home, "HOME=%s", t->home);
    snprintf(e_user, sizeof e_user, "USER=%s", t->user);
    snprintf(e_logname, sizeof e_logname, "LOGNAME=%s", t->user);
    envp[ne++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    envp[ne++] = e_home; envp[ne++] = e_user; envp[ne++] = e_logname;
    for (int i = 0; i < n_extra_env; i++) envp[ne++] = extra_env[i];
    envp[ne] = NULL;
    execvpe(argv[0], argv, envp);
    _exit(127);
  }
  return pid;
}

// wait for a specific child, track rusage
static int wait_child(pid_t pid) {
  int st; struct rusage ru;
  for (;;) {
    pid_t r = wait4(pid, &st, 0, &ru);
    if (r == pid) break;
    if (r < 0 && errno == EINTR) continue;
    return -1000;  // ECHILD
  }
  if (ru.ru_maxrss > g_maxrss) g_maxrss = ru.ru_maxrss;
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -1;
}

static void reap_strays(void) {
  int st; struct rusage ru; pid_t r;
  while ((r = wait4(-1, &st, WNOHANG, &ru)) > 0)
    if (ru.ru_maxrss > g_maxrss) g_maxrss = ru.ru_maxrss;
}

static int run_argv(struct test *t, char **argv) { return wait_child(spawn(t, argv)); }

static double cpu_children_us(void) {
  struct rusage ru; getrusage(RUSAGE_CHILDREN, &ru);
  return ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec;
}

static const char *find_pidfile(char **argv) {
  for (int i = 0; argv[i]; i++) {
    if (!strcmp(argv[i], "--pid-file") && argv[i + 1]) return argv[i + 1];
    if (!strncmp(argv[i], "--pid-file=", 11)) return argv[i] + 11;
  }
  return NULL;
}

static void wait_foreign(pid_t pid) {
  // not our child: poll until gone or zombie
  g_fallback++;
  char path[64]; snprintf(path, sizeof path, "/proc/%d/stat", pid);
  for (;;) {
    FILE *f = fopen(path, "r");
    if (!f) return;
    char buf[512]; size_t n = fread(buf, 1, sizeof buf - 1, f); fclose(f); buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p || p[2] == 'Z' || p[2] == 'X') return;
    usleep(50);
  }
}

static int run_sample(struct test *t, int ti, int round, FILE *out) {
  char id[128];
  int64_t ph[4] = {0, 0, 0, 0};
  int rc = 0;
  g_maxrss = 0;
  double c0 = cpu_children_us();
  int64_t t0 = now_ns();
  if (!t->cycle) {
    pid_t pids[1024];
    char *argv[MAXW];
    for (int i = 0; i < t->par; i++) {
      snprintf(id, sizeof id, "L%d-%d-%d-%d", (int)getpid(), ti, round, i);
      build_argv(t->tmpl[0], id, argv);
      pids[i] = spawn(t, argv);
      free_argv(argv);
    }
    for (int i = 0; i < t->par; i++) {
      int r = wait_child(pids[i]);
      if (r && !rc) rc = r;
    }
    ph[0] = now_ns() - t0;
  } else {
    snprintf(id, sizeof id, "L%d-%d-%d", (int)getpid(), ti, round);
    char *a[MAXW];
    build_argv(t->tmpl[0], id, a);
    const char *pf = find_pidfile(a);
    char pidfile[1024] = "";
    if (pf) snprintf(pidfile, sizeof pidfile, "%s", pf);
    rc = run_argv(t, a);
    free_argv(a);
    int64_t t1 = now_ns(); ph[0] = t1 - t0;
    pid_t cpid = 0;
    if (!rc && pidfile[0]) {
      FILE *f = fopen(pidfile, "r");
      if (f) { if (fscanf(f, "%d", &cpid) != 1) cpid = 0; fclose(f); }
    }
    if (!rc) {
      build_argv(t->tmpl[1], id, a);
      rc = run_argv(t, a);
      free_argv(a);
    }
    int64_t t2 = now_ns(); ph[1] = t2 - t1;
    if (cpid > 0) {
      if (rc) kill(cpid, SIGKILL);  // failed start: don't wait forever
      if (wait_child(cpid) == -1000) wait_foreign(cpid);
    }
    int64_t t3 = now_ns(); ph[2] = t3 - t2;
    build_argv(t->tmpl[2], id, a);
    int r = run_argv(t, a);
    free_argv(a);
    if (r && !rc) rc = 1000 + r;
    ph[3] = now_ns() - t3;
    if (pidfile[0]) unlink(pidfile);
  }
  int64_t wall = now_ns() - t0;
  reap_strays();
  double cpu = cpu_children_us() - c0;
  if (out)
    fprintf(out, "%s,%d,%d,%lld,%lld,%lld,%lld,%lld,%.0f,%ld,%d\n", t->name, round, t->par,
            (long long)wall, (long long)ph[0], (long long)ph[1], (long long)ph[2], (long long)ph[3],
            cpu, g_maxrss, rc);
  return rc;
}

int main(int argc, char **argv) {
  int rounds = 30, warm = 3, opt;
  unsigned seed = (unsigned)time(NULL);
  const char *outp = NULL, *logdir = NULL;
  while ((opt = getopt(argc, argv, "r:w:o:e:l:S:")) != -1) {
    switch (opt) {
      case 'r': rounds = atoi(optarg); break;
      case 'w': warm = atoi(optarg); break;
      case 'o': outp = optarg; break;
      case 'e': extra_env[n_extra_env++] = optarg; break;
      case 'l': logdir = optarg; break;
      case 'S': seed = (unsigned)atoi(optarg); break;
      default: fprintf(stderr, "bad usage\n"); return 2;
    }
  }
  if (optind >= argc) { fprintf(stderr, "need SPECFILE\n"); return 2; }
  FILE *sf = fopen(argv[optind], "re");
  if (!sf) die("spec");
  char line[8192];
  while (fgets(line, sizeof line, sf)) {
    char *l = trim(line);
    if (!*l || *l == '#') continue;
    struct test *t = &T[NT];
    char *f[5]; int nf = 0;
    for (char *p = l; nf < 5;) {
      f[nf++] = p;
      if (nf == 5) break;
      char *q = strchr(p, '|');
      if (!q) break;
      *q = 0; p = q + 1;
    }
    if (nf != 5) { fprintf(stderr, "bad spec line: %s\n", l); return 2; }
    snprintf(t->name, sizeof t->name, "%s", trim(f[0]));
    snprintf(t->user, sizeof t->user, "%s", trim(f[1]));
    struct passwd *pw = getpwnam(t->user);
    if (!pw) { fprintf(stderr, "no user %s\n", t->user); return 2; }
    t->uid = pw->pw_uid; t->gid = pw->pw_gid;
    snprintf(t->home, sizeof t->home, "%s", pw->pw_dir);
    t->cycle = !strcmp(trim(f[2]), "cycle");
    t->par = atoi(f[3]); if (t->par < 1) t->par = 1;
    char *tm = trim(f[4]);
    if (t->cycle) {
      char *s1 = strstr(tm, ";;"); if (!s1) { fprintf(stderr, "cycle needs 3 parts\n"); return 2; }
      *s1 = 0; char *s2 = strstr(s1 + 2, ";;"); if (!s2) { fprintf(stderr, "cycle needs 3 parts\n"); return 2; }
      *s2 = 0;
      t->tmpl[0] = strdup(trim(tm)); t->tmpl[1] = strdup(trim(s1 + 2)); t->tmpl[2] = strdup(trim(s2 + 2));
    } else {
      t->tmpl[0] = strdup(tm);
    }
    t->logfd = -1;
    if (logdir) {
      char p[1024]; snprintf(p, sizeof p, "%s/%s.err", logdir, t->name);
      t->logfd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    }
    NT++;
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1)) die("subreaper");
  signal(SIGPIPE, SIG_IGN);
  FILE *out = outp ? fopen(outp, "we") : stdout;
  if (!out) die("out");
  fprintf(out, "name,round,inst,wall_ns,ph1_ns,ph2_ns,ph3_ns,ph4_ns,cpu_us,maxrss_kb,rc\n");
  srand(seed);
  int order[MAXT];
  for (int i = 0; i < NT; i++) order[i] = i;
  int fails = 0;
  for (int r = -warm; r < rounds; r++) {
    for (int i = NT - 1; i > 0; i--) { int j = rand() % (i + 1); int x = order[i]; order[i] = order[j]; order[j] = x; }
    for (int k = 0; k < NT; k++) {
      int ti = order[k];
      int rc = run_sample(&T[ti], ti, r, r >= 0 ? out : NULL);
      if (rc) { fails++; if (fails < 20) fprintf(stderr, "lat: %s round %d rc=%d\n", T[ti].name, r, rc); }
    }
    fflush(out);
  }
  if (g_fallback) fprintf(stderr, "lat: container pid not our child %d times (polled)\n", g_fallback);
  return 0;
}
