#!/usr/bin/python3
"""summarize.py - turn the raw output of one bench/*.sh script into a small JSON summary.

  summarize.py lat     SAMPLES.csv META.tsv OUT.json   (concurrency.sh: name label mode N)
  summarize.py mounts  SAMPLES.csv META.tsv OUT.json   (mounts.sh: name label mode nmounts)
  summarize.py latency BENCH_OUTDIR OUT.json           (bench.sh -o DIR: samples.csv, runtimes.txt, labels.txt)
  summarize.py strace  META.tsv OUT.json               (syscalls.sh: file label mode rc)
  summarize.py rss     META.tsv OUT.json               (rss.sh: file label mode)
  summarize.py state   META.tsv OUT.json               (state.sh: hyperfine.json label mode statefile)

Every summary has the shape {"modes": {MODE: {LABEL: {...}}}, ...}; times in ms, memory in kB.
"""
import csv
import json
import os
import statistics as st
import sys
from collections import defaultdict


def read_samples(path):
    """name -> {round: (ms, maxrss_kb)} of successful samples; name -> failure count."""
    ok, fails = defaultdict(dict), defaultdict(int)
    if not os.path.exists(path):
        return ok, fails
    for r in csv.DictReader(open(path)):
        if r["rc"] == "0":
            ok[r["name"]][int(r["round"])] = (float(r["wall_ns"]) / 1e6, int(r["maxrss_kb"]),
                                              float(r["cpu_us"]) / 1e3)
        else:
            fails[r["name"]] += 1
    return ok, fails


def stats(v):
    ms = [x[0] for x in v.values()]
    if not ms:
        return {"median_ms": None, "min_ms": None, "n": 0}
    return {"median_ms": round(st.median(ms), 3), "min_ms": round(min(ms), 3), "n": len(ms),
            "maxrss_kb_median": int(st.median(x[1] for x in v.values()))}


def read_meta(path):
    return [l.rstrip("\n").split("\t") for l in open(path) if l.strip()]


def dump(obj, path):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
    print(json.dumps(obj, sort_keys=True)[:2000])


def cmd_lat(samples, meta, out):
    ok, fails = read_samples(samples)
    res = {"modes": defaultdict(dict)}
    for name, label, mode, n in read_meta(meta):
        s = stats(ok.get(name, {}))
        s["fails"] = fails.get(name, 0)
        res["n"] = int(n)
        res["modes"][mode][label] = s
    dump(res, out)


def slope(xs, ys):
    mx, my = st.mean(xs), st.mean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den


def cmd_mounts(samples, meta, out):
    ok, fails = read_samples(samples)
    by = defaultdict(dict)  # (mode,label) -> n -> name
    for name, label, mode, n in read_meta(meta):
        by[(mode, label)][int(n)] = name
    res = {"modes": defaultdict(dict)}
    for (mode, label), names in by.items():
        ns = sorted(names)
        res["counts"] = ns
        med = {n: stats(ok.get(names[n], {}))["median_ms"] for n in ns}
        e = {"median_ms": {str(n): med[n] for n in ns},
             "fails": sum(fails.get(names[n], 0) for n in ns)}
        # paired per-round slope: rounds where every config succeeded
        rounds = set.intersection(*(set(ok.get(names[n], {})) for n in ns)) if ns else set()
        per = [slope(ns, [ok[names[n]][r][0] for n in ns]) for r in sorted(rounds)]
        e["slope_us_per_mount"] = round(st.median(per) * 1000, 2) if per else None
        e["slope_of_medians_us"] = (round(slope(ns, [med[n] for n in ns]) * 1000, 2)
                                    if len(ns) > 1 and all(med[n] is not None for n in ns) else None)
        e["rounds"] = len(per)
        e["round_slopes_us"] = {str(r): round(x * 1000, 1) for r, x in zip(sorted(rounds), per)}
        # the same from CPU time (user+sys of all processes): insensitive to other jobs' load
        cpu = [slope(ns, [ok[names[n]][r][2] for n in ns]) for r in sorted(rounds)]
        e["cpu_slope_us_per_mount"] = round(st.median(cpu) * 1000, 2) if cpu else None
        e["cpu_median_ms"] = {str(n): round(st.median(x[2] for x in ok.get(names[n], {}).values()), 3)
                              if ok.get(names[n]) else None for n in ns}
        res["modes"][mode][label] = e
    dump(res, out)


def cmd_latency(d, out):
    ok, fails = read_samples(os.path.join(d, "samples.csv"))
    rts = [l.strip().split("=", 1) for l in open(os.path.join(d, "runtimes.txt")) if l.strip()]
    labels = [x for x in open(os.path.join(d, "labels.txt")).read().strip().split(",") if x] \
        if os.path.exists(os.path.join(d, "labels.txt")) else []
    res = {"modes": defaultdict(dict), "paths": {}}
    for i, (tag, path) in enumerate(rts):
        label = "floor" if tag == "floor" else (labels[i] if i < len(labels) else path.split("/")[-1])
        res["paths"][label] = path
        for mode, mt in (("root", "root"), ("rootless", "rl")):
            e = {}
            for op in ("run", "cycle"):
                name = f"{tag}-{op}-{mt}"
                if name in ok or name in fails:
                    s = stats(ok.get(name, {}))
                    s["fails"] = fails.get(name, 0)
                    # paired per-round ratio against the first runtime
                    ref = ok.get(f"rt1-{op}-{mt}", {})
                    pr = [ok[name][r][0] / ref[r][0] for r in ok.get(name, {}) if r in ref]
                    s["paired_ratio_vs_first"] = round(st.median(pr), 3) if pr else None
                    e[op] = s
            if e:
                res["modes"][mode][label] = e
    dump(res, out)


def parse_strace(path):
    calls, errs, total = {}, 0, None
    for line in open(path):
        f = line.split()
        if len(f) < 2 or f[0].startswith("-") or f[0] == "syscall" or not f[1].isdigit():
            continue  # header, rule, or a "<detached ...>" line strace adds when a thread vanishes
        if f[0] == "total":
            total = int(f[1]); errs = int(f[2]) if len(f) > 2 and f[2].isdigit() else 0
        else:
            calls[f[0]] = int(f[1])
    return total, errs, calls


def cmd_strace(meta, out):
    acc = defaultdict(list)
    for path, label, mode, rc in read_meta(meta):
        if rc != "0" or not os.path.exists(path):
            acc[(mode, label)].append(None)
            continue
        acc[(mode, label)].append(parse_strace(path))
    res = {"modes": defaultdict(dict)}
    for (mode, label), runs in acc.items():
        good = [r for r in runs if r and r[0] is not None]
        if not good:
            res["modes"][mode][label] = {"total": None, "fails": len(runs)}
            continue
        names = set().union(*(r[2] for r in good))
        mean = {n: st.mean(r[2].get(n, 0) for r in good) for n in names}
        top = sorted(mean.items(), key=lambda kv: -kv[1])
        procs = sum(mean.get(n, 0) for n in ("clone", "clone3", "fork", "vfork"))
        res["modes"][mode][label] = {
            "total": int(st.median(r[0] for r in good)), "runs": [r[0] for r in good],
            "errors": int(st.median(r[1] for r in good)), "fails": len(runs) - len(good),
            "forks": round(procs, 1), "execve": round(mean.get("execve", 0), 1),
            "top": [[n, round(c, 1)] for n, c in top[:15]]}
    dump(res, out)


def cmd_rss(meta, out):
    acc = defaultdict(list)
    for path, label, mode in read_meta(meta):
        procs, peak, rc = [], None, None
        if os.path.exists(path):
            for line in open(path):
                f = line.split()
                if f and f[0] == "proc":
                    procs.append((f[2], int(f[3])))
                elif f and f[0] == "peak":
                    peak, rc = int(f[1]), int(f[3])
        acc[(mode, label)].append((peak, rc, procs))
    res = {"modes": defaultdict(dict)}
    for (mode, label), runs in acc.items():
        good = [r for r in runs if r[0] is not None and r[1] == 0]
        if not good:
            res["modes"][mode][label] = {"peak_kb": None, "fails": len(runs)}
            continue
        # per-process breakdown of the run whose peak is the median
        good.sort(key=lambda r: r[0])
        mid = good[len(good) // 2]
        res["modes"][mode][label] = {
            "peak_kb": int(st.median(r[0] for r in good)), "runs": [r[0] for r in good],
            "fails": len(runs) - len(good), "procs": mid[2], "nprocs": len(mid[2])}
    dump(res, out)


def cmd_state(meta, out):
    res = {"modes": defaultdict(dict)}
    for path, label, mode, sfile in read_meta(meta):
        e = {"median_ms": None}
        try:
            r = json.load(open(path))["results"][0]
            e = {"median_ms": round(r["median"] * 1e3, 3), "mean_ms": round(r["mean"] * 1e3, 3),
                 "min_ms": round(r["min"] * 1e3, 3), "stddev_ms": round((r["stddev"] or 0) * 1e3, 3),
                 "runs": len(r["times"]), "fails": sum(1 for c in r.get("exit_codes", []) if c)}
        except (OSError, ValueError, KeyError, IndexError):
            pass
        try:
            e["status"] = json.load(open(sfile)).get("status")
        except (OSError, ValueError):
            e["status"] = None
        res["modes"][mode][label] = e
    dump(res, out)


if __name__ == "__main__":
    cmds = {"lat": cmd_lat, "mounts": cmd_mounts, "latency": cmd_latency, "strace": cmd_strace,
            "rss": cmd_rss, "state": cmd_state}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        print(__doc__)
        sys.exit(2)
    cmds[sys.argv[1]](*sys.argv[2:])
