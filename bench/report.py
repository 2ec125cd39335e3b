#!/usr/bin/python3
"""report.py - write docs/performance.md and docs/performance.png from one bench/run.sh run.

  report.py OUTDIR [--docs DOCSDIR] [--summary SUMMARY.json]

OUTDIR holds what bench/run.sh produced: machine.txt and the *.json summaries of each part
(latency, concurrency, mounts, syscalls, rss, state) and optionally profile/profile.md.
Without --docs the report goes to OUTDIR/performance.{md,png}. With --summary, the merged
numbers are also saved there (bench/results/summary.json), and the profile section is kept
in bench/results/profile.md so a later run without --profile still shows the last profile.
"""
import json
import os
import shutil
import sys

RTS = ["nook", "crun", "runc"]
COLORS = {"nook": "#d95f02", "crun": "#1f78b4", "runc": "#969696", "floor": "#33a02c"}
MODES = ["rootless", "root"]

# Targets from issue 7. kind: "ratio" = nook / ref <= limit; "abs" = nook value < limit.
TARGETS = [
    # key, title, unit, ref, limit, kind
    ("run-rootless", "`run` /bin/true, rootless", "ms", "crun", 0.5, "ratio"),
    ("cycle-rootless", "create+start+wait+delete, rootless", "ms", "crun", 0.5, "ratio"),
    ("run-root", "`run` /bin/true, root", "ms", "crun", 0.5, "ratio"),
    ("cycle-root", "create+start+wait+delete, root", "ms", "crun", 0.5, "ratio"),
    ("floor-rootless", "`run` rootless vs floor.c -f (default OCI config)", "ms", "floor", 1.6, "ratio"),
    ("rss-rootless", "peak RSS of any runtime process, rootless run", "MB", "crun", 0.6, "ratio"),
    ("rss-root", "peak RSS of any runtime process, root run", "MB", "crun", 0.6, "ratio"),
    ("sc-rootless", "syscalls for one `run` (strace -f -c), rootless", "", "crun", 0.5, "ratio"),
    ("sc-root", "syscalls for one `run` (strace -f -c), root", "", "crun", 0.5, "ratio"),
    ("conc-rootless", "50 containers started at once, wall time, rootless", "ms", "crun", 0.5, "ratio"),
    ("conc-root", "50 containers started at once, wall time, root", "ms", "crun", 0.5, "ratio"),
    ("mnt-rootless", "cost per extra bind mount, rootless", "µs", "crun", 0.5, "ratio"),
    ("mnt-root", "cost per extra bind mount, root", "µs", "crun", 0.5, "ratio"),
    ("state-rootless", "`state` of a created container, rootless (median)", "ms", None, 1.0, "abs"),
    ("state-root", "`state` of a created container, root (median)", "ms", None, 1.0, "abs"),
]


def load(d, name):
    p = os.path.join(d, name + ".json")
    return json.load(open(p)) if os.path.exists(p) else None


def machine(d):
    m = {}
    p = os.path.join(d, "machine.txt")
    if os.path.exists(p):
        for line in open(p):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                m[k] = v
    return m


def g(obj, *keys):
    for k in keys:
        if obj is None:
            return None
        obj = obj.get(k) if isinstance(obj, dict) else None
    return obj


def collect(d):
    """values[key][runtime] = number, from the part summaries."""
    lat, conc, mnt = load(d, "latency"), load(d, "concurrency"), load(d, "mounts")
    sc, rss, state = load(d, "syscalls"), load(d, "rss"), load(d, "state")
    v = {}
    for mode in MODES:
        for op in ("run", "cycle"):
            v[f"{op}-{mode}"] = {r: g(lat, "modes", mode, r, op, "median_ms") for r in RTS + ["floor"]}
        v[f"floor-{mode}"] = dict(v[f"run-{mode}"])
        v[f"rss-{mode}"] = {r: (lambda x: x / 1024 if x else None)(g(rss, "modes", mode, r, "peak_kb"))
                            for r in RTS + ["floor"]}
        v[f"sc-{mode}"] = {r: g(sc, "modes", mode, r, "total") for r in RTS + ["floor"]}
        v[f"conc-{mode}"] = {r: g(conc, "modes", mode, r, "median_ms") for r in RTS + ["floor"]}
        v[f"mnt-{mode}"] = {r: g(mnt, "modes", mode, r, "slope_us_per_mount") for r in RTS + ["floor"]}
        v[f"state-{mode}"] = {r: g(state, "modes", mode, r, "median_ms") for r in RTS + ["floor"]}
    return v, dict(latency=lat, concurrency=conc, mounts=mnt, syscalls=sc, rss=rss, state=state)


def ratio_ci(a, b, n=2000):
    """95% bootstrap interval of median(a)/median(b) over rounds (dicts round -> value, paired)."""
    import random
    import statistics as st
    keys = sorted(set(a) & set(b))
    if len(keys) < 5:
        return None
    rnd = random.Random(7)
    out = []
    for _ in range(n):
        ks = [rnd.choice(keys) for _ in keys]
        mb = st.median(b[k] for k in ks)
        if mb > 0:
            out.append(st.median(a[k] for k in ks) / mb)
    if len(out) < n * 0.9:
        return None
    out.sort()
    return out[int(0.025 * len(out))], out[int(0.975 * len(out))]


def fmt(x, unit=""):
    if x is None:
        return "—"
    if unit == "MB":
        return f"{x:.1f} MB"
    if unit == "" or isinstance(x, int):
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.0f} {unit}".strip()
    if abs(x) >= 10:
        return f"{x:.1f} {unit}".strip()
    return f"{x:.2f} {unit}".strip()


def verdict(vals, ref, limit, kind):
    n = vals.get("nook")
    if n is None:
        return None, ("FAIL (nook failed)" if vals.get(ref or "crun") is not None else "no data")
    if kind == "abs":
        return None, ("PASS" if n < limit else "FAIL")
    r = vals.get(ref)
    if r is None:
        return None, "no data"
    if r <= 0:
        return None, f"inconclusive ({ref} ≤ 0: noise)"
    ratio = n / r
    return ratio, ("PASS" if ratio <= limit else "FAIL")


def summary_table(v, m):
    out = ["| Metric | nook | crun | runc | floor | nook ratio | target | result |",
           "|---|---|---|---|---|---|---|---|"]
    results = {}
    for key, title, unit, ref, limit, kind in TARGETS:
        vals = v.get(key, {})
        ratio, res = verdict(vals, ref, limit, kind)
        if key.startswith("mnt-") and ratio is not None:
            mnt = load(m["_dir"], "mounts")
            mode = key.split("-", 1)[1]
            ci = ratio_ci(g(mnt, "modes", mode, "nook", "round_slopes_us") or {},
                          g(mnt, "modes", mode, ref, "round_slopes_us") or {})
            if ci:
                res += f" (95% CI of the ratio {ci[0]:.2f}–{ci[1]:.2f}x)"
        results[key] = {"values": vals, "ratio": ratio, "result": res, "target": limit, "ref": ref}
        cells = [fmt(vals.get(r), unit) for r in RTS]
        fl = fmt(vals.get("floor"), unit) if "floor" in vals and not key.startswith("cycle-") else ""
        if kind == "abs":
            tgt, rt = f"< {limit:g} ms", ""
        else:
            tgt = f"≤ {limit:g}x {ref}"
            rt = f"{ratio:.2f}x {ref}" if ratio is not None else "—"
        mark = "**PASS**" if res == "PASS" else res
        if m.get("standin") == "1" and res.startswith(("PASS", "FAIL")):
            mark += " (stand-in)"
        out.append(f"| {title} | {cells[0]} | {cells[1]} | {cells[2]} | {fl} | {rt} | {tgt} | {mark} |")
    return out, results


def detail_sections(parts, m):
    L = []
    lat = parts["latency"]
    if lat:
        L += ["### Start latency (bench.sh: interleaved, median (min) in ms; ratio = median of per-round ratios vs nook)", "",
              "| runtime | run rootless | cycle rootless | run root | cycle root |", "|---|---|---|---|---|"]
        for r in RTS + ["floor"]:
            cells = []
            for mode in MODES:
                for op in ("run", "cycle"):
                    e = g(lat, "modes", mode, r, op)
                    if not e or e.get("median_ms") is None:
                        cells.append("" if r == "floor" and op == "cycle" else "—")
                        continue
                    s = f"{e['median_ms']:.2f} ({e['min_ms']:.2f})"
                    if r != "nook" and e.get("paired_ratio_vs_first"):
                        s += f" · nook {1 / e['paired_ratio_vs_first']:.2f}x"
                    if e.get("fails"):
                        s += f" · {e['fails']} failed"
                    cells.append(s)
            L.append(f"| {r} | " + " | ".join(cells) + " |")
        L += ["", "`floor` is `floor.c -f` (rootless) / `floor.c -R -f` (root): the fewest system calls that "
              "set up everything the default config asks for, no runtime (it is dynamically linked: ld.so and libc relocation "
              "cost it a little on every start, so a lean static runtime can come close to it). Samples per cell: "
              f"{g(lat, 'modes', 'rootless', 'crun', 'run', 'n') or '?'}.", ""]
    conc = parts["concurrency"]
    if conc:
        L += [f"### {conc.get('n', 50)} containers started at once (wall time from first fork to last exit, ms)", "",
              "| runtime | rootless median (min) | root median (min) |", "|---|---|---|"]
        for r in RTS + ["floor"]:
            cells = []
            for mode in MODES:
                e = g(conc, "modes", mode, r)
                cells.append(f"{e['median_ms']:.0f} ({e['min_ms']:.0f})" + (f" · {e['fails']} failed" if e.get("fails") else "")
                             if e and e.get("median_ms") is not None else "—")
            L.append(f"| {r} | " + " | ".join(cells) + " |")
        L.append("")
    mnt = parts["mounts"]
    if mnt:
        counts = mnt.get("counts", [0, 64, 256])
        L += ["### Bind mounts: `run` time (median ms) with extra bind mounts, and cost per mount", "",
              "| runtime | mode | " + " | ".join(f"{c} mounts" for c in counts) +
              " | µs per mount (median of per-round slopes) | slope of medians | CPU µs per mount |",
              "|---|---|" + "---|" * len(counts) + "---|---|---|"]
        for mode in MODES:
            for r in RTS + ["floor"]:
                e = g(mnt, "modes", mode, r)
                if not e:
                    continue
                cells = [fmt(e["median_ms"].get(str(c))) for c in counts]
                L.append(f"| {r} | {mode} | " + " | ".join(cells) +
                         f" | {fmt(e.get('slope_us_per_mount'))} | {fmt(e.get('slope_of_medians_us'))}"
                         f" | {fmt(e.get('cpu_slope_us_per_mount'))} |")
        L += ["", "Each extra mount is `{type: bind, source: <host dir>, destination: /mnt/bN, options: [bind]}`. "
              "The target uses the wall-clock slope (median over rounds of each round's least-squares slope, "
              "all configs interleaved); the CPU slope (user+sys time of all processes of the run) is a "
              "cross-check that other jobs on the machine cannot inflate. `floor` is floor.c -f with the same "
              "binds made by their plain path (`-b N`): the kernel's minimum, without the resolution inside "
              "the rootfs that keeps a symlink in the image from leading a mount out of it.", ""]
    sc = parts["syscalls"]
    if sc:
        L += ["### System calls for one `run` (strace -f -c, all processes, incl. the container's /bin/true)", "",
              "| runtime | mode | total | failed | forks/clones | execve | top system calls (mean count) |",
              "|---|---|---|---|---|---|---|"]
        for mode in MODES:
            for r in RTS + ["floor"]:
                e = g(sc, "modes", mode, r)
                if not e or e.get("total") is None:
                    continue
                top = ", ".join(f"{n} {c:g}" for n, c in e["top"][:8])
                L.append(f"| {r} | {mode} | {e['total']:,} | {e['errors']} | {e['forks']:g} | {e['execve']:g} | {top} |")
        L.append("")
    rss = parts["rss"]
    if rss:
        L += ["### Peak RSS (max ru_maxrss over every process of one `run`, median)", "",
              "| runtime | rootless | root | processes reaped by the harness (rootless) |", "|---|---|---|---|"]
        for r in RTS + ["floor"]:
            cells = [fmt((g(rss, "modes", mode, r, "peak_kb") or 0) / 1024 or None, "MB") for mode in MODES]
            procs = g(rss, "modes", "rootless", r, "procs") or []
            L.append(f"| {r} | {cells[0]} | {cells[1]} | " + ", ".join(f"{c} {k / 1024:.1f} MB" for c, k in procs) + " |")
        L += ["", "ru_maxrss of a reaped process includes its pre-exec memory and its own reaped children, so "
              "the maximum covers every runtime process, however many there are.", ""]
    state = parts["state"]
    if state:
        L += ["### `state` of a created container (hyperfine -N, ms)", "",
              "| runtime | rootless median | rootless mean ± sd | root median | root mean ± sd |", "|---|---|---|---|---|"]
        for r in RTS + ["floor", "exec"]:
            cells = []
            for mode in MODES:
                e = g(state, "modes", mode, r)
                if e and e.get("median_ms") is not None:
                    cells += [f"{e['median_ms']:.2f}", f"{e['mean_ms']:.2f} ± {e['stddev_ms']:.2f}"]
                else:
                    cells += ["—", "—"]
            L.append(f"| {r} | " + " | ".join(cells) + " |")
        L += ["", "`floor` here is fork+exec of a static `busybox true` measured the same way, the start-up "
              "of a program linked with glibc; `exec` is fork+exec of `bench/exit0.c`, a static binary "
              "with no C library that only exits: no command can answer faster on this machine. nook "
              "answers `state` from its ELF entry point before glibc starts (src/fast/state.cpp), so it "
              "can be below `floor`.", ""]
    return L


def outside_load(m):
    """The highest 1-minute load average recorded before the concurrency step: the values after
    it are mostly that step's own 50 containers, decaying over the next minutes, not other jobs."""
    own = ("load_after_concurrency", "load_after_mounts", "load_after_syscalls", "load_after_rss",
           "load_after_state", "load_end")
    return max([float(v.split()[0]) for k, v in m.items()
                if k.startswith("load_") and k not in own and v.strip()] or [0.0])


def chart(v, parts, m, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axs = plt.subplots(2, 3, figsize=(16, 9.5))
    series = RTS + ["floor"]

    def bars(ax, groups, getter, ylabel, title, unit_fmt="{:.1f}", target=None):
        n = len(series)
        w = 0.8 / n
        drawn = [False]
        for i, r in enumerate(series):
            xs, ys = [], []
            for j, gname in enumerate(groups):
                y = getter(gname, r)
                if y is not None:
                    xs.append(j + (i - (n - 1) / 2) * w)
                    ys.append(y)
            if ys:
                ax.bar(xs, ys, w, label=r, color=COLORS[r])
                for x, y, gname in zip(xs, ys, [gg for gg in groups if getter(gg, r) is not None]):
                    t = unit_fmt.format(y)
                    ref = getter(gname, "crun")
                    if r == "nook" and ref:
                        t += f" ({y / ref:.2f}x crun)"
                    ax.text(x, y, t, ha="center", va="bottom", fontsize=7, rotation=90)
                drawn[0] = True
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels(groups)
        if not drawn[0]:
            ax.text(0.5, 0.5, "not measured in this run", transform=ax.transAxes, ha="center", color="gray")
            ax.set_yticks([])
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=11)
        ax.margins(y=0.35)
        if target is not None:
            ax.axhline(target, color="red", ls="--", lw=1)
            ax.text(len(groups) - 0.5, target, " target", color="red", va="bottom", ha="right", fontsize=8)

    groups = ["run rootless", "cycle rootless", "run root", "cycle root"]
    bars(axs[0][0], groups,
         lambda gname, r: v.get(gname.split()[0] + "-" + gname.split()[1], {}).get(r),
         "ms (median)", "Start latency (bench.sh, interleaved)")
    axs[0][0].legend(fontsize=8)
    bars(axs[0][1], ["rootless", "root"], lambda gname, r: v[f"conc-{gname}"].get(r),
         "ms (median wall)", "50 containers started at once", "{:.0f}")
    # mounts: lines
    ax = axs[0][2]
    mnt = parts["mounts"]
    if mnt:
        counts = mnt.get("counts", [0, 64, 256])
        for r in RTS + ["floor"]:
            for mode, ls in (("rootless", "-"), ("root", "--")):
                e = g(mnt, "modes", mode, r)
                if not e:
                    continue
                ys = [e["median_ms"].get(str(c)) for c in counts]
                if None in ys:
                    continue
                sl = e.get("slope_us_per_mount")
                ax.plot(counts, ys, ls, marker="o", color=COLORS[r],
                        label=f"{r} {mode}: {sl:.0f} µs/mount" if sl is not None else f"{r} {mode}")
        ax.set_xticks(counts)
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, "not measured in this run", transform=ax.transAxes, ha="center", color="gray")
    ax.set_xlabel("extra bind mounts in config.json")
    ax.set_ylabel("`run` ms (median)")
    ax.set_title("Cost of extra bind mounts", fontsize=11)
    bars(axs[1][0], ["rootless", "root"], lambda gname, r: v[f"sc-{gname}"].get(r),
         "system calls (strace -f -c)", "System calls for one run", "{:.0f}")
    bars(axs[1][1], ["rootless", "root"], lambda gname, r: v[f"rss-{gname}"].get(r),
         "MB", "Peak RSS of any process of one run")
    bars(axs[1][2], ["rootless", "root"], lambda gname, r: v[f"state-{gname}"].get(r),
         "ms (median)", "`state` call latency (hyperfine)", "{:.2f}", target=1.0)
    title = "nook vs crun vs runc vs floor"
    if m.get("standin") == "1":
        title += "   [NO NOOK BINARY: crun stands in for nook]"
    sub = (f"{m.get('date', '?')} · {m.get('cpu', '?')}, {m.get('cores', '?')} cores, {m.get('mem', '?')} · "
           f"{m.get('os', '?')}, Linux {m.get('kernel', '?')} · {m.get('nook_version', '?')} · "
           f"{m.get('crun_version', '')} · {m.get('runc_version', '')}")
    try:
        busy = outside_load(m)
        if busy > 2 * int(m.get("cores", "2")):
            sub += f"\nbusy machine (load average up to {busy:.0f}): absolute times inflated, read the ratios"
    except ValueError:
        pass
    fig.suptitle(title + "\n" + sub, fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        print(__doc__)
        sys.exit(2)
    d = args[0]
    docs = args[args.index("--docs") + 1] if "--docs" in args else d
    summ = args[args.index("--summary") + 1] if "--summary" in args else None
    m = machine(d)
    m["_dir"] = d
    v, parts = collect(d)
    os.makedirs(docs, exist_ok=True)
    md_path, png_path = os.path.join(docs, "performance.md"), os.path.join(docs, "performance.png")
    chart(v, parts, m, png_path)
    table, results = summary_table(v, m)

    # profile: this run's, else the last one kept beside the summary
    prof_md, prof_src = None, None
    p = os.path.join(d, "profile", "profile.md")
    kept = os.path.join(os.path.dirname(summ), "profile.md") if summ else None
    if os.path.exists(p):
        prof_md, prof_src = open(p).read(), "this run"
        if kept:
            os.makedirs(os.path.dirname(kept), exist_ok=True)
            shutil.copy(p, kept)
    elif kept and os.path.exists(kept):
        prof_md, prof_src = open(kept).read(), "an earlier run (bench/results/profile.md)"
    here = os.path.dirname(os.path.abspath(__file__))
    notes = os.path.join(here, "profile-notes.md")

    L = ["# Performance", "",
         "<!-- generated by bench/run.sh (bench/report.py); edit bench/report.py or bench/profile-notes.md, "
         "not this file -->", ""]
    if m.get("standin") == "1":
        L += ["> **No nook binary was found for this run: crun stood in for nook, so the nook column "
              "shows crun's numbers and every PASS/FAIL below is meaningless.** Build nook and rerun "
              "`bench/run.sh`.", ""]
    try:
        loads = [outside_load(m)]
        cores = int(m.get("cores", "2"))
    except ValueError:
        loads, cores = [0.0], 2
    if max(loads) > 2 * cores:
        L += [f"> The machine was busy with other jobs during this run (load average up to {max(loads):.0f} on "
              f"{cores} cores). Every process start waits for a CPU, so absolute times are several times "
              "what an idle machine gives (crun `run` ~13 ms, floor.c -f ~3 ms there), and runtimes that use "
              "more processes and wake-ups (crun re-executes itself and runs newuidmap/newgidmap; runc is a Go "
              "program with several threads) lose more to the contention: expect ratios against crun and "
              "runc to be closer to 1 on an idle machine. Rerun `bench/run.sh` on a quiet machine for "
              "numbers to quote.", ""]
    if m.get("quick") == "1":
        L += ["> Quick run (`--quick`): few rounds, the numbers are rough.", ""]
    L += [f"Measured {m.get('date', '?')} on {m.get('cpu', '?')}, {m.get('cores', '?')} cores, "
          f"{m.get('mem', '?')} RAM, {m.get('os', '?')}, Linux {m.get('kernel', '?')}; cgroups: "
          f"{m.get('cgroups', '?')}. Load average {m.get('load_start', '?')} at the start and "
          f"{m.get('load_end', '?')} at the end (after the benchmark's own 50-container step; other jobs "
          "may share this 2-core machine too: absolute "
          "times vary from run to run, the ratios from one interleaved run are what to read).", "",
          f"- nook: `{m.get('nook', '?')}` ({m.get('nook_version', '?')}; binary sha256 {m.get('nook_sha256', '?')}…, "
          f"built from the work tree at commit {m.get('repo_commit', '?')})",
          f"- crun: {m.get('crun_version', '?')}; runc: {m.get('runc_version', '?')}",
          f"- rounds: {m.get('rounds', '?')}; rootless = as user `{m.get('user', 'nobody')}`, one uid/gid mapped", ""]
    passed = sum(1 for r in results.values() if r["result"].startswith("PASS"))
    judged = sum(1 for r in results.values() if r["result"].startswith(("PASS", "FAIL")))
    L += ["## Against the targets of issue 7", "",
          f"{passed} of {judged} targets met. Times are medians; ratios are nook's value over the "
          "reference's, both from the same interleaved run.", ""]
    L += table
    L += ["", "![nook vs crun vs runc vs floor](performance.png)", "", "## Details", ""]
    L += detail_sections(parts, m)
    for mode in ("root", "rootless"):
        sd = os.path.join(d, f"spec-diff-{mode}.txt")
        if os.path.exists(sd):
            t = open(sd).read().strip()
            if t != "same":
                L += [f"For information: `nook spec{' --rootless' if mode == 'rootless' else ''}` differs from "
                      "`runc spec` as below (`<` nook, `>` runc; every runtime here gets runc's):", "",
                      "```", t[:3000], "```", ""]
    L += ["## Profile of nook", ""]
    if os.path.exists(notes):
        L += [open(notes).read().strip(), ""]
    if prof_md:
        # nook's sections only; the comparison runtimes' are in bench/results/profile.md
        secs = prof_md.split("\n#### ")
        keep = [x if i == 0 else "#### " + x for i, x in enumerate(secs)
                if x.lstrip("# ").startswith("nook")]
        L += [f"Raw profile data of nook (bench/profile.sh, from {prof_src}; crun's, profiled the same way, "
              "is in bench/results/profile.md):", "", "\n".join(k.strip() for k in keep), ""]
    else:
        L += ["No profile yet: run `bench/run.sh --profile` (or `bench/profile.sh`) with a nook binary.", ""]
    L += ["## How to run", "",
          "```sh",
          "sudo bench/run.sh            # full run: ~12 min on an idle 2-core machine, 30+ when busy; rewrites this file and the chart",
          "sudo bench/run.sh --quick    # a few rounds, to check the scripts",
          "sudo bench/run.sh --profile  # also strace/callgrind profile of nook (bench/profile.sh)",
          "sudo bench/run.sh --only latency,state --no-docs   # some parts, report into the results dir",
          "bench/run.sh --report /tmp/nook-bench/results/run-...  # regenerate the report from results",
          "```", "",
          "Parts (each runnable alone, `-h` for options; `LABEL=RUNTIME` arguments, nook first):",
          "",
          "- `bench/bench.sh` — the shared start-latency tool (shared/tools/bench), plus floor.c rows (`-F`); "
          "run and create/start/wait/delete cycles, root and rootless, interleaved.",
          "- `bench/concurrency.sh` — 50 `run`s forked at once, wall time.",
          "- `bench/mounts.sh` — 0/64/256 extra bind mounts (and floor.c with the same binds), cost per mount from paired per-round slopes.",
          "- `bench/syscalls.sh` — `strace -f -c` of one `run`.",
          "- `bench/rss.sh` + `bench/rss.c` — peak RSS over every process of one `run` (wait4 rusage, subreaper).",
          "- `bench/state.sh` — `hyperfine -N` of `state` on a created container.",
          "- `bench/profile.sh` — where nook's time goes: `strace -f -T/-c`, `valgrind --tool=callgrind`.",
          "",
          "Everything uses the same busybox rootfs and config (`runc spec` / `runc spec --rootless` with a "
          "read-only busybox rootfs and `/bin/true`; the default config floor.c -f models). On hybrid-cgroup hosts all runtimes run in one private mount "
          "namespace without the cgroup2 mount at /sys/fs/cgroup/unified, because crun 1.8 refuses to "
          "run otherwise. This is not part of the test suite (no wall-clock thresholds in tests): run it "
          "by hand on an otherwise idle machine when performance work lands, and commit the regenerated "
          "docs.", ""]
    open(md_path, "w").write("\n".join(L))
    if summ:
        os.makedirs(os.path.dirname(summ), exist_ok=True)
        mm = {k: x for k, x in m.items() if not k.startswith("_")}
        json.dump({"machine": mm, "targets": results, "parts": parts}, open(summ, "w"), indent=1, sort_keys=True)
    print(f"wrote {md_path} and {png_path}; {passed}/{judged} targets met")
    for key, title, unit, ref, limit, kind in TARGETS:
        r = results[key]
        print(f"  {r['result']:7s} {title}: nook {fmt(r['values'].get('nook'), unit)}"
              + (f" = {r['ratio']:.2f}x {ref} (target {limit:g}x)" if r["ratio"] is not None else ""))


if __name__ == "__main__":
    main()
