"""Benchmark the engine end to end: load, prepare, analyse, re-analyse, cached re-analyse.

Run:  python bench/bench_engine.py [--rows 400000] [--seed 1] [--repeat 3]
                                   [--sections sample force real] [--data DIR] [--keep]
                                   [--ref-tree DIR] [--rounds 2] [--profile]

Sections (each one runs in its own worker process, so peak memory is per section):

* ``sample``: the embedded SYNTHETIC sample study (``geodata.study.sample_spec()``); skipped
  with a message when ``sample_data/study/study.toml`` has not been generated.
* ``force``: a SYNTHETIC force-scale police.uk set (``sample_data.forcescale``: --rows rows
  over 36 months) written to a temporary folder (removed afterwards unless --keep), or an
  existing one given with --data.
* ``real``: the real West Mercia police.uk files in ``../shared/real`` when that folder exists.

Steps timed (wall clock and CPU seconds): ``load`` (read every source and assign areas),
``prepare``, ``analyse`` (default Filters and Params), ``re-analyse 12m`` (a new Filters with
the last 12 months: the cache cannot answer it), ``re-analyse cat`` (a new Filters with one
definition category: the median one by incidents), ``cached`` (the first analyse again: a cache hit). Analyse steps are
repeated --repeat times on a cleared cache and reported as median and minimum; load and
prepare run once per worker. ``peak MB`` is the worker's ``resource.getrusage(RUSAGE_SELF)
.ru_maxrss`` after the step: the resident-set high-water mark of the whole process (NumPy,
Polars and GEOS memory included, which tracemalloc cannot see), so it only ever grows.

``x ref`` divides a time by the time of a fixed NumPy/Polars reference workload run in the same
worker just before the section: on a shared machine both slow down together, so these ratios
move less than raw seconds. To compare two versions of the code, give --ref-tree (another
checkout or a patched copy): each section then runs in both trees, alternating A B A B for
--rounds rounds, and the table shows the other tree's medians and the ratios this/other, of
wall time and of CPU time (``time.process_time``, which other people's load hardly changes).

Targets (2-core machine): full analysis of the force-scale set within 5 s, re-analysis within
0.5 s. Not a test: nothing here asserts; see bench/README.md.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "real"
TARGETS = {"force": {"analyse": 5.0, "re-analyse 12m": 0.5, "re-analyse cat": 0.5}}
STEPS = ("generate", "load", "prepare", "analyse", "re-analyse 12m", "re-analyse cat", "cached")


# ---------------------------------------------------------------------------------------------
# Worker: runs inside a fresh process with the tree under test first on sys.path.


def _reference_seconds() -> float:
    """A fixed NumPy + Polars workload (best of 3): the unit for 'x ref'."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(0)
    x = rng.random(2_000_000)
    keys = rng.integers(0, 50_000, 1_000_000)
    df = pl.DataFrame({"k": keys, "v": x[:1_000_000]})
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        np.sort(x)
        df.group_by("k").agg(pl.col("v").sum(), pl.len()).sort("k")
        best = min(best, time.perf_counter() - t)
    return best


def _spec_for(section: str, data: str | None):
    from geodata.study import load_spec, sample_spec, spec_from_options

    if section == "sample":
        return sample_spec()
    if section == "force":
        return load_spec(Path(data) / "study.toml")
    if section == "real":
        return spec_from_options(
            crimes=[str(REAL / "police-uk" / "west-mercia")],
            areas=str(REAL / "boundaries" / "lsoa21_westmercia_bsc.geojson"),
            lookups=[str(REAL / "lookups" / "lad24_csp24_pfa24_EW.csv")],
        )
    raise ValueError(section)


def _peak_mb() -> float:
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 if sys.platform != "darwin" else rss / 2**20  # KiB on Linux, bytes on macOS


def worker(section: str, data: str | None, repeat: int, profile: bool) -> dict:
    from datetime import date

    import polars as pl

    import hotspot.analysis as A

    out: dict = {"section": section, "tree": str(Path(A.__file__).resolve().parents[1]), "steps": {}}
    out["ref_seconds"] = _reference_seconds()

    def record(step, times, cpu, **extra):
        out["steps"][step] = {"times": times, "cpu": cpu, "peak_mb": _peak_mb(), **extra}

    t, c = time.perf_counter(), time.process_time()
    from geodata.study import load_study

    study = load_study(_spec_for(section, data))
    record("load", [time.perf_counter() - t], [time.process_time() - c], rows=study.incidents.height)

    t, c = time.perf_counter(), time.process_time()
    prep = A.prepare(study)
    record("prepare", [time.perf_counter() - t], [time.process_time() - c], rows=int(prep.incidents.height),
           cells=int(prep.n_cells))

    months = prep.months
    last12 = A.Filters(start=months[-12] if len(months) >= 12 else months[0]) if months else A.Filters()
    # The category filter: the definition's median category by incidents (not the near-total one).
    serious = prep.incidents.filter(pl.col("serious"))
    counts = (serious.select(pl.col("categories").explode().alias("c")).drop_nulls()
              .group_by("c").len().sort(["len", "c"], descending=[True, False]))
    cat = counts["c"][counts.height // 2] if counts.height else None
    by_cat = A.Filters(categories=(cat,)) if cat else A.Filters(start=date(1900, 1, 1))
    runs = {"analyse": A.Filters(), "re-analyse 12m": last12, "re-analyse cat": by_cat}
    result = None
    profiles = {}
    for step, filters in runs.items():
        times, cpu, all_parts = [], [], []
        for _ in range(repeat):
            prep.cache.clear()  # a new Filters is a new cache key; clearing also bypasses repeats
            t, c = time.perf_counter(), time.process_time()
            res = A.analyse(prep, filters)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
            all_parts.append({k: round(v, 4) for k, v in getattr(res, "seconds", {}).items()})
        if step == "analyse":
            result = res
        parts = all_parts[sorted(range(repeat), key=times.__getitem__)[repeat // 2]]  # the median run
        record(step, times, cpu, rows=int(res.n_incidents), localities=int(res.localities.height),
               parts=parts, filters=repr(filters))
        if profile:
            import cProfile
            import io
            import pstats

            prep.cache.clear()
            pr = cProfile.Profile()
            pr.enable()
            A.analyse(prep, filters)
            pr.disable()
            buf = io.StringIO()
            pstats.Stats(pr, stream=buf).sort_stats("cumulative").print_stats(30)
            profiles[step] = buf.getvalue()
    # Cached: the default analysis again, answered from prep.cache.
    prep.cache.clear()
    A.analyse(prep, A.Filters())
    times, cpu = [], []
    for _ in range(max(repeat, 3)):
        t, c = time.perf_counter(), time.process_time()
        A.analyse(prep, A.Filters())
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    record("cached", times, cpu, rows=int(result.n_incidents) if result is not None else 0)
    if profiles:
        out["profiles"] = profiles
    return out


# ---------------------------------------------------------------------------------------------
# Parent: generate data, run workers, print the table.


def run_worker(tree: Path, section: str, data: str | None, repeat: int, profile: bool) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", section, "--tree", str(tree),
           "--repeat", str(repeat)]
    if data:
        cmd += ["--data", data]
    if profile:
        cmd.append("--profile")
    with tempfile.TemporaryDirectory(prefix="svtui-bench-cache-") as cache:
        # A fresh, empty workspace cache per worker: `load` always times a cold read.
        env = dict(os.environ, SVTUI_CACHE=cache,
                   PYTHONPATH=str(tree) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        proc = subprocess.run(cmd, cwd=str(tree), env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"section": section, "error": (proc.stderr.strip().splitlines() or ["failed"])[-1],
                "stderr": proc.stderr}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _merge(runs: list[dict]) -> dict:
    """Pool the per-step times of several worker runs of one section and tree."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return runs[0]
    out = {"section": ok[0]["section"], "ref_seconds": min(r["ref_seconds"] for r in ok),
           "steps": {}, "profiles": ok[-1].get("profiles", {})}
    for step in ok[0]["steps"]:
        first = ok[0]["steps"][step]
        out["steps"][step] = dict(first, times=[t for r in ok for t in r["steps"][step]["times"]],
                                  cpu=[t for r in ok for t in r["steps"][step].get("cpu", [])],
                                  peak_mb=max(r["steps"][step]["peak_mb"] for r in ok))
    return out


def _fmt_s(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.4f}" if x < 0.01 else f"{x:.3f}" if x < 10 else f"{x:.1f}"


def print_table(results: list[tuple[str, dict, dict | None]], out=sys.stdout) -> None:
    head = (f"{'section':<8} {'step':<15} {'rows':>9} {'median s':>9} {'min s':>8} {'cpu s':>8} "
            f"{'x ref':>6} {'peak MB':>8} {'target':>7} {'ok':>4}")
    has_ref = any(r[2] is not None for r in results)
    if has_ref:
        head += f" {'other s':>8} {'other cpu':>9} {'wall ratio':>10} {'cpu ratio':>9}"
    print(head, file=out)
    print("-" * len(head), file=out)
    med = lambda xs: statistics.median(xs) if xs else None  # noqa: E731
    ratio = lambda a, b: f"{a / b:.2f}" if a is not None and b else "-"  # noqa: E731
    for section, res, other in results:
        if "skipped" in res:
            print(f"{section:<8} skipped: {res['skipped']}", file=out)
            continue
        if "error" in res:
            print(f"{section:<8} FAILED: {res['error']}", file=out)
            continue
        ref = res.get("ref_seconds") or float("nan")
        for step in STEPS:
            st = res["steps"].get(step)
            if st is None:
                continue
            wall, lo, cpu = med(st["times"]), min(st["times"]), med(st.get("cpu", []))
            target = TARGETS.get(section, {}).get(step)
            ok = "" if target is None else ("yes" if wall <= target else "NO")
            peak = f"{st['peak_mb']:.0f}" if st.get("peak_mb") is not None else "-"
            line = (f"{section:<8} {step:<15} {st.get('rows', 0):>9,} {_fmt_s(wall):>9} {_fmt_s(lo):>8} "
                    f"{_fmt_s(cpu):>8} {wall / ref:>6.1f} {peak:>8} {_fmt_s(target) if target else '':>7} "
                    f"{ok:>4}")
            if has_ref:
                o = (other or {}).get("steps", {}).get(step)
                if o:
                    ow, oc = med(o["times"]), med(o.get("cpu", []))
                    line += f" {_fmt_s(ow):>8} {_fmt_s(oc):>9} {ratio(wall, ow):>10} {ratio(cpu, oc):>9}"
            print(line, file=out)
        for step in ("analyse", "re-analyse 12m"):
            parts = res["steps"].get(step, {}).get("parts")
            if not parts:
                continue
            cum = sorted((v, k) for k, v in parts.items() if k != "total")
            prev, split = 0.0, []
            for v, k in cum:
                split.append(f"{k} {v - prev:.2f}")
                prev = v
            print(f"{'':<8} {step} parts (s, one median run): {', '.join(split)}", file=out)
        print(f"{'':<8} reference workload {ref:.3f} s; peak MB = ru_maxrss of the worker process",
              file=out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sections", nargs="+", default=["sample", "force", "real"],
                    choices=["sample", "force", "real"])
    ap.add_argument("--rows", type=int, default=400_000, help="force-scale rows to generate")
    ap.add_argument("--seed", type=int, default=1, help="force-scale generator seed")
    ap.add_argument("--data", help="use this force-scale folder (made by sample_data.forcescale)")
    ap.add_argument("--keep", action="store_true", help="keep the generated force-scale folder")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each analyse step per worker")
    ap.add_argument("--rounds", type=int, default=None,
                    help="worker runs per section and tree (default 1; 2 with --ref-tree)")
    ap.add_argument("--ref-tree", help="another checkout to compare with, run side by side")
    ap.add_argument("--profile", action="store_true", help="print cProfile of each analyse step")
    ap.add_argument("--json", help="also write the raw results here")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--tree", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        sys.path.insert(0, args.tree or str(REPO))
        print(json.dumps(worker(args.worker, args.data, args.repeat, args.profile)))
        return 0

    shown = list(argv if argv is not None else sys.argv[1:])
    print("command: python " + " ".join([str(Path(sys.argv[0]))] + shown))
    print(f"python {sys.version.split()[0]} on {os.cpu_count()} cores; load average "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    tree = REPO
    ref_tree = Path(args.ref_tree).resolve() if args.ref_tree else None
    rounds = args.rounds or (2 if ref_tree else 1)
    tmp = None
    results = []
    gen = None
    try:
        for section in args.sections:
            data = None
            if section == "sample":
                sample = REPO / "sample_data" / "study" / "study.toml"
                if not sample.exists():
                    results.append((section, {"skipped": f"{sample.relative_to(REPO)} not generated yet "
                                              "(python -m sample_data.generate)"}, None))
                    continue
            if section == "real" and not (REAL / "police-uk" / "west-mercia").is_dir():
                results.append((section, {"skipped": f"real data not found at {REAL}"}, None))
                continue
            if section == "force":
                if args.data:
                    data = str(Path(args.data).resolve())
                else:
                    sys.path.insert(0, str(REPO))
                    from sample_data import forcescale

                    tmp = tempfile.mkdtemp(prefix="svtui-forcescale-")
                    gen = forcescale.generate(tmp, rows=args.rows, seed=args.seed)
                    data = tmp
                    print(f"generated {gen['rows']:,} rows ({gen['map_points']:,} map points, "
                          f"{gen['lsoas']:,} LSOAs; half the crime at "
                          f"{gen['half_crime_at_share_of_all_points']:.1%} of map points) in "
                          f"{gen['seconds']:.1f} s -> {tmp}")
            mine, theirs = [], []
            for _ in range(rounds):
                mine.append(run_worker(tree, section, data, args.repeat, args.profile))
                if ref_tree:
                    theirs.append(run_worker(ref_tree, section, data, args.repeat, False))
            res = _merge(mine)
            if section == "force" and gen is not None and "steps" in res:
                res["steps"] = {"generate": {"times": [gen["seconds"]], "cpu": [], "peak_mb": None,
                                             "rows": gen["rows"]}, **res["steps"]}
            results.append((section, res, _merge(theirs) if theirs else None))
    finally:
        if tmp and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp:
            print(f"kept {tmp}")
    print()
    print_table(results)
    for section, res, _ in results:
        for step, text in (res.get("profiles") or {}).items():
            print(f"\n===== cProfile: {section} / {step}\n{text}")
        if "stderr" in res:
            print(f"\n===== {section} worker stderr\n{res['stderr'][-3000:]}")
    if args.json:
        Path(args.json).write_text(json.dumps([{"section": s, "this": r, "other": o} for s, r, o in results],
                                              indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
