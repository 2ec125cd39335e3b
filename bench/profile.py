#!/usr/bin/python3
"""profile.py - summarise bench/profile.sh output as markdown.

  profile.py PROFILE_OUTDIR > profile.md

Reads meta.tsv (label, mode, tag) and, per label and mode: LABEL-TAG.trace (strace -f -tt -T),
LABEL-TAG.cwN (strace -c -w summaries) and cg-LABEL-TAG/{run,state,version}.PID (callgrind).
"""
import glob
import os
import re
import statistics as st
import subprocess
import sys
from collections import defaultdict

LINE = re.compile(r"^(\d+)\s+(\d\d):(\d\d):(\d\d\.\d+)\s+(.*)$")
DONE = re.compile(r"^(\w+)\((.*)\)\s+=\s+(.*?)\s+<(\d+\.\d+)>$")
UNF = re.compile(r"^(\w+)\((.*?)\s*<unfinished \.\.\.>$")
RES = re.compile(r"^<\.\.\. (\w+) resumed>(.*?)\)?\s+=\s+(.*?)\s+<(\d+\.\d+)>$")
BLOCKING = {"wait4", "waitid", "recvfrom", "recvmsg", "accept", "accept4", "poll", "ppoll", "epoll_wait", "epoll_pwait", "futex", "nanosleep",
            "clock_nanosleep", "select", "pselect6", "rt_sigsuspend", "pause", "rt_sigtimedwait"}


def parse_trace(path):
    """list of calls: dict(pid, start, dur, name, args, ret); events: exits."""
    calls, pending, exits = [], {}, {}
    for line in open(path, errors="replace"):
        m = LINE.match(line.rstrip("\n"))
        if not m:
            continue
        pid = int(m.group(1))
        ts = int(m.group(2)) * 3600 + int(m.group(3)) * 60 + float(m.group(4))
        rest = m.group(5)
        d = DONE.match(rest)
        if d:
            calls.append(dict(pid=pid, start=ts, dur=float(d.group(4)), name=d.group(1),
                              args=d.group(2), ret=d.group(3)))
            continue
        u = UNF.match(rest)
        if u:
            pending[(pid, u.group(1))] = (ts, u.group(2))
            continue
        r = RES.match(rest)
        if r:
            st0, a = pending.pop((pid, r.group(1)), (ts, ""))
            calls.append(dict(pid=pid, start=st0, dur=float(r.group(4)), name=r.group(1),
                              args=a + r.group(2), ret=r.group(3)))
            continue
        if rest.startswith("+++ exited") or rest.startswith("+++ killed"):
            exits[pid] = ts
        elif rest.startswith("+++") or rest.startswith("---"):
            continue
        elif rest.startswith("exit_group(") or rest.startswith("exit("):
            calls.append(dict(pid=pid, start=ts, dur=0.0, name=rest.split("(")[0], args=rest, ret="?"))
    calls.sort(key=lambda c: c["start"])
    return calls, exits


def short(s, n=70):
    s = s.replace("|", "\\|")
    return s if len(s) <= n else s[:n - 1] + "…"


def trace_section(path, label, mode):
    calls, exits = parse_trace(path)
    if not calls:
        return [f"(no trace for {label} {mode})", ""]
    t0 = calls[0]["start"]
    t_end = max([c["start"] + c["dur"] for c in calls] + list(exits.values()))
    ms = lambda t: (t - t0) * 1000
    pids = []
    for c in calls:
        if c["pid"] not in pids:
            pids.append(c["pid"])
    L = [f"**{label}, {mode}** — one `run` under `strace -f -tt -T` "
         f"({ms(t_end):.1f} ms traced, {len(calls)} system calls, {len(pids)} processes; "
         "strace slows every system call, so read the shares, not the absolute times):", ""]
    # milestones
    ms_rows = []
    def first(pred, what):
        for c in calls:
            if pred(c):
                ms_rows.append((c["start"], what, c))
                return c
        return None
    first(lambda c: c["name"] in ("clone", "clone3", "fork", "vfork"), "first clone/fork")
    first(lambda c: c["name"] == "unshare", "first unshare")
    first(lambda c: c["name"] == "setns", "first setns")
    first(lambda c: "uid_map" in c["args"], "uid_map opened")
    first(lambda c: c["name"] == "mount", "first mount")
    first(lambda c: c["name"] in ("pivot_root", "chroot"), "pivot_root")
    ex = [c for c in calls if c["name"] == "execve" and c["ret"].startswith("0")]
    if len(ex) > 1:
        ms_rows.append((ex[-1]["start"], "execve of the container process", ex[-1]))
    ms_rows.sort(key=lambda r: r[0])
    L += ["| ms | pid | milestone | call |", "|---|---|---|---|"]
    L.append(f"| 0.0 | {calls[0]['pid']} | runtime starts | {short(calls[0]['name'] + '(' + calls[0]['args'])} |")
    for t, what, c in ms_rows:
        L.append(f"| {ms(t):.1f} | {c['pid']} | {what} | {short(c['name'] + '(' + c['args'])} |")
    L.append(f"| {ms(t_end):.1f} | | last event (runtime exits) | |")
    L.append("")
    # per process
    L += ["| pid | first..last ms | syscalls | in syscalls (not waiting) ms | waiting ms | between syscalls ms |",
          "|---|---|---|---|---|---|"]
    gaps = []
    for p in pids:
        pc = [c for c in calls if c["pid"] == p]
        busy = sum(c["dur"] for c in pc if c["name"] not in BLOCKING)
        wait = sum(c["dur"] for c in pc if c["name"] in BLOCKING)
        between = 0.0
        for a, b in zip(pc, pc[1:]):
            gap = b["start"] - (a["start"] + a["dur"])
            if gap > 0:
                between += gap
                gaps.append((gap, p, a, b))
        last = exits.get(p, pc[-1]["start"] + pc[-1]["dur"])
        L.append(f"| {p} | {ms(pc[0]['start']):.1f}..{ms(last):.1f} | {len(pc)} | {busy * 1000:.2f} | "
                 f"{wait * 1000:.2f} | {between * 1000:.2f} |")
    L.append("")
    slow = sorted((c for c in calls if c["name"] not in BLOCKING), key=lambda c: -c["dur"])[:12]
    L += ["Slowest system calls (not counting waits):", "", "| µs | pid | at ms | call | result |", "|---|---|---|---|---|"]
    for c in slow:
        L.append(f"| {c['dur'] * 1e6:.0f} | {c['pid']} | {ms(c['start']):.1f} | {short(c['name'] + '(' + c['args'], 80)} | {short(c['ret'], 30)} |")
    L.append("")
    gaps.sort(key=lambda g: -g[0])
    L += ["Longest stretches between two system calls of one process (user-space work, or the scheduler):", "",
          "| µs | pid | at ms | after | before |", "|---|---|---|---|---|"]
    for gap, p, a, b in gaps[:10]:
        L.append(f"| {gap * 1e6:.0f} | {p} | {ms(a['start'] + a['dur']):.1f} | {short(a['name'] + '(' + a['args'], 50)} | "
                 f"{short(b['name'] + '(' + b['args'], 50)} |")
    L.append("")
    return L


def cw_section(files, label, mode):
    acc = defaultdict(list)
    n = 0
    for f in files:
        n += 1
        for line in open(f):
            x = line.split()
            if len(x) >= 4 and not x[0].startswith("-") and x[0] not in ("syscall", "total"):
                try:
                    calls = int(x[1])
                    tot = float(x[-2])
                except ValueError:
                    continue
                acc[x[0]].append((calls, tot))
    if not n:
        return []
    rows = [(name, sum(c for c, _ in v) / n, sum(t for _, t in v) / n) for name, v in acc.items()]
    rows.sort(key=lambda r: -r[2])
    total = sum(r[2] for r in rows)
    L = [f"`strace -f -c -w` ({label}, {mode}, mean of {n} runs): wall time inside each system call, "
         "blocking waits included:", "", "| system call | calls | ms | share |", "|---|---|---|---|"]
    for name, c, t in rows[:14]:
        L.append(f"| {name} | {c:.0f} | {t * 1000:.2f} | {100 * t / total:.0f}% |")
    L.append("")
    return L


def cg_totals(f):
    tot, cmd = None, ""
    for line in open(f, errors="replace"):
        if line.startswith("cmd:"):
            cmd = line[4:].strip()
        elif line.startswith("summary:") or line.startswith("totals:"):
            tot = int(line.split()[1])
    return tot, cmd


def cg_top(f, n=12, inclusive=False):
    try:
        out = subprocess.run(["callgrind_annotate", f"--inclusive={'yes' if inclusive else 'no'}", f],
                             capture_output=True, text=True, timeout=120).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    rows = []
    for line in out.splitlines():
        m = re.match(r"^\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(.*)$", line)
        if m and "PROGRAM TOTALS" not in line:
            rows.append((int(m.group(1).replace(",", "")), float(m.group(2)), m.group(3).strip()))
    return rows[:n]


def cg_section(d, label, mode):
    L = []
    files = sorted(glob.glob(os.path.join(d, "*.[0-9]*")))
    if not files:
        log = os.path.join(d, "run.log")
        if os.path.exists(log):
            errs = [l.strip() for l in open(log, errors="replace") if "rror" in l or "nsupported" in l][:3]
            if errs:
                L += [f"callgrind ({label}, {mode}) produced no profile: " + "; ".join(short(e, 120) for e in errs), ""]
        return L
    L += [f"`valgrind --tool=callgrind` instruction counts ({label}, {mode}; per process, the runtime's "
          "own code plus libraries, no kernel time):", "", "| command | process | instructions |", "|---|---|---|"]
    biggest = None
    for f in files:
        tot, cmd = cg_totals(f)
        kind = os.path.basename(f).split(".")[0]
        if tot is None:
            continue
        rcf, note = os.path.join(d, kind + ".rc"), ""
        rc = open(rcf).read().strip() if os.path.exists(rcf) else "0"
        if rc != "0":
            logf = os.path.join(d, kind + ".log")
            msg = [l.strip() for l in open(logf, errors="replace") if l.strip() and not l.startswith("==")] \
                if os.path.exists(logf) else []
            note = f" (exit {rc}: {short(msg[0], 60) if msg else '?'})"
        L.append(f"| {kind}{note} | {short(cmd, 70)} | {tot:,} |")
        if kind == "run" and (biggest is None or tot > biggest[0]):
            biggest = (tot, f)
    L.append("")
    logf = os.path.join(d, "run.log")
    unhandled = sorted({l.strip().split("syscall:")[-1].strip() for l in open(logf, errors="replace")
                        if "unhandled" in l and "syscall" in l}) if os.path.exists(logf) else []
    if unhandled:
        L += [f"Note: valgrind 3.19 does not know system call(s) {', '.join(unhandled)} (437 = openat2), so `run` "
              "stops at the first one under valgrind: its counts cover start-up to that point, and an "
              "error path (a C++ exception: the unwinder's FDE sort) that only happens under valgrind.", ""]
    if biggest:
        inc = [r for r in cg_top(biggest[1], 200, inclusive=True)
               if re.search(r"nook::|CLI::App::parse|nlohmann.*parse|main \[", r[2])
               and not re.search(r"_Unwind|__cxa|uw_|search_object|frame_", r[2])][:12]
        if inc:
            L += ["Largest nook functions, inclusive (what they and their callees execute):", "",
                  "| instructions | share | function |", "|---|---|---|"]
            for ir, pct, fn in inc:
                L.append(f"| {ir:,} | {pct:.1f}% | {short(fn, 110)} |")
            L.append("")
        top = cg_top(biggest[1])
        if top:
            L += [f"Top functions (self instructions) in the largest `run` process ({biggest[0]:,} instructions):", "",
                  "| instructions | share | function |", "|---|---|---|"]
            for ir, pct, fn in top:
                L.append(f"| {ir:,} | {pct:.1f}% | {short(fn, 90)} |")
            L.append("")
    return L


PERF_SKIP = {"sh", "setpriv", "env", "perf", "perf-exec", "seq"}
ENTRY = re.compile(r"^(__x64_sys_\w+|__do_sys_\w+|__ia32_sys_\w+|exc_page_fault|do_exit|ret_from_fork\w*)$")


def perf_report(data, *args):
    try:
        return subprocess.run(["perf", "report", "-i", data, "--stdio", "-g", "none"] + list(args),
                              capture_output=True, text=True, timeout=300).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""


def perf_rows(out):
    """[(pct, pct2 or None, rest)] from perf report lines."""
    rows = []
    for line in out.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        m = re.match(r"^\s*([\d.]+)%\s+(?:([\d.]+)%\s+)?(.*)$", line)
        if m:
            rows.append((float(m.group(1)), float(m.group(2)) if m.group(2) else None, m.group(3).strip()))
    return rows


def perf_section(data, label, mode, runs):
    if not os.path.exists(data):
        return []
    out = perf_report(data, "--no-children", "--sort", "comm")
    m = re.search(r"# Event count \(approx\.\): (\d+)", out)
    total = int(m.group(1)) if m else 0  # cpu-clock: nanoseconds
    comms = [(p, c) for p, _, c in perf_rows(out)]
    keep = [c for p, c in comms if c not in PERF_SKIP]
    if not keep or not total:
        return []
    kept_pct = sum(p for p, c in comms if c not in PERF_SKIP)
    cpu_ms = total * kept_pct / 100 / 1e6 / runs
    flt = ["--comms", ",".join(keep), "--percentage", "relative"]
    L = [f"`perf record -e cpu-clock -g` of {runs} `run`s ({label}, {mode}): {cpu_ms:.1f} ms of CPU per run "
         f"(inflated by the sampling itself) in the runtime's and the container's processes "
         f"({', '.join(keep)}); shares of that:", ""]
    rows = perf_rows(perf_report(data, "--no-children", "--sort", "comm,dso", *flt))
    L += ["| share | process | binary |", "|---|---|---|"]
    for p, _, rest in rows[:10]:
        parts = rest.split(None, 1)
        L.append(f"| {p:.1f}% | {parts[0]} | {parts[1] if len(parts) > 1 else ''} |")
    L.append("")
    rows = [r for r in perf_rows(perf_report(data, "--children", "--sort", "sym", *flt))
            if ENTRY.match(r[2].replace("[k] ", "").strip())]
    if rows:
        L += ["Kernel time by entry point (inclusive: the system call and all it calls; "
              "`exc_page_fault` = page faults, `do_exit` = process teardown):", "",
              "| share | ms per run | entry point |", "|---|---|---|"]
        for p, _, sym in rows[:16]:
            L.append(f"| {p:.1f}% | {cpu_ms * p / 100:.2f} | {sym.replace('[k] ', '')} |")
        L.append("")
    rows = perf_rows(perf_report(data, "--no-children", "--sort", "dso,sym", *flt))
    L += ["Hottest symbols (self time):", "", "| share | binary | symbol |", "|---|---|---|"]
    for p, _, rest in rows[:14]:
        parts = rest.split(None, 1)
        L.append(f"| {p:.1f}% | {parts[0]} | {short(parts[1] if len(parts) > 1 else '', 70)} |")
    L.append("")
    return L


def main():
    d = sys.argv[1]
    rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(d, "meta.tsv")) if l.strip()]
    L = []
    for label, mode, tag in rows:
        L += [f"#### {label}, {mode}", ""]
        tr = os.path.join(d, f"{label}-{tag}.trace")
        if os.path.exists(tr):
            L += trace_section(tr, label, mode)
        L += cw_section(sorted(glob.glob(os.path.join(d, f"{label}-{tag}.cw*"))), label, mode)
        L += cg_section(os.path.join(d, f"cg-{label}-{tag}"), label, mode)
        L += perf_section(os.path.join(d, f"perf-{label}-{tag}.data"), label, mode,
                          int(os.environ.get("PERF_RUNS", "40")))
    print("\n".join(L))


if __name__ == "__main__":
    main()
