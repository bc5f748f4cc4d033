"""police.uk reading at national size: `svtui check` direct and with the workspace cache, against
Polars reading the same files, and how time and memory grow with the rows.

    python bench/bench_reader.py                         # national year (12 x 500,000 rows)
    python bench/bench_reader.py --data /tmp/natyear     # reuse files made by bench/national_year.py
    python bench/bench_reader.py --growth                # + growth table, 1x..8x of 12 x 62,500 rows
    python bench/bench_reader.py --repeat 3 --only check-direct reference

The national-size files are made by `bench/national_year.py` (real West Mercia and Warwickshire
rows resampled into 12 monthly files with fresh 64-character Crime IDs; anti-social behaviour
rows keep an empty Crime ID) into a temporary folder, removed afterwards unless --keep.

Every figure is one fresh process (so its peak memory is its own), repeated --repeat times:
the median wall-clock seconds, CPU seconds (user + system, all threads) of the median run, and
peak resident memory (ru_maxrss). `x ref` divides the median wall time by that of the
reference, Polars' `pl.read_csv(file, infer_schema=False)` on the same files one after the
other, measured in the same run: on a shared machine both slow down together, so the ratio is
steadier than the seconds. The 1-minute load average is printed with each row. Not a test:
nothing here asserts a time.

Rows:
* reference: `pl.read_csv` over the files (the floor for reading the text at all);
* check-direct: `svtui check --crimes DIR --json` (no --cache): read, check, account;
* cache-build: the same with `--cache FOLDER` into an empty folder;
* cache-reopen: the same again (a cache hit);
* sample-prepared / sample-csv: `load_study` on the embedded sample study from its prepared
  Parquet copy, and from its CSVs (`prepared=False`).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGETS = {"check-direct": (30, 2500), "cache-build": (20, None), "cache-reopen": (2, 1500)}


def _child(task: str, data: str, cache: str) -> dict:
    """Run one task in this (fresh) process; return its wall, CPU and peak memory."""
    import io
    from contextlib import redirect_stdout

    t0, c0 = time.perf_counter(), time.process_time()
    if task == "reference":
        import polars as pl

        rows = sum(pl.read_csv(f, infer_schema=False).height
                   for f in sorted(Path(data).rglob("*-street.csv")))
    elif task.startswith("sample"):
        from geodata.study import load_spec, load_study

        st = load_study(load_spec(REPO / "sample_data" / "study" / "study.toml"),
                        prepared=task == "sample-prepared")
        rows = st.incidents.height
    else:
        from svtui.cli import main

        argv = ["check", "--crimes", data, "--json"]
        if task.startswith("cache"):
            argv += ["--cache", cache]
        buf = io.StringIO()
        with redirect_stdout(buf):
            rc = main(argv)
        if rc != 0:
            raise SystemExit(f"svtui check failed ({rc})")
        rows = json.loads(buf.getvalue())["totals"]["accepted"]
    return {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "rows": rows}


def run(task: str, data: Path, cache: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", task, str(data), str(cache)],
                         cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(task: str, data: Path, repeat: int, workdir: Path) -> dict:
    runs = []
    for i in range(repeat):
        cache = workdir / f"cache-{task}-{i}"
        if task == "cache-reopen":
            cache = workdir / "cache-reopen"
            if not cache.exists():
                run("cache-build", data, cache)
        elif cache.exists():
            shutil.rmtree(cache)
        load = os.getloadavg()[0]
        r = run(task, data, cache)
        r["load"] = load
        runs.append(r)
        if task == "cache-build":
            shutil.rmtree(cache, ignore_errors=True)
    runs.sort(key=lambda r: r["wall"])
    med = runs[len(runs) // 2]
    return {"task": task, "wall": med["wall"], "cpu": med["cpu"],
            "peak_mb": statistics.median(r["peak_mb"] for r in runs),
            "rows": med["rows"], "load": statistics.median(r["load"] for r in runs),
            "walls": [round(r["wall"], 2) for r in runs]}


def table(results: list[dict], ref: dict | None, title: str) -> None:
    print(f"\n{title}")
    print(f"{'what':<15} {'rows':>10} {'median s':>9} {'cpu s':>7} {'peak MB':>8} {'x ref':>6} "
          f"{'load':>5} {'target':>12}  runs")
    for r in results:
        ratio = f"{r['wall'] / ref['wall']:.1f}" if ref else "-"
        t = TARGETS.get(r["task"])
        target = (f"<={t[0]}s" + (f",{t[1]}MB" if t[1] else "")) if t else ""
        print(f"{r['task']:<15} {r['rows']:>10,} {r['wall']:>9.2f} {r['cpu']:>7.2f} "
              f"{r['peak_mb']:>8.0f} {ratio:>6} {r['load']:>5.1f} {target:>12}  {r['walls']}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(_child(*sys.argv[2:5])))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, help="a folder made by bench/national_year.py")
    ap.add_argument("--rows", type=int, default=500_000, help="rows per monthly file")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", nargs="+", default=None,
                    choices=["reference", "check-direct", "cache-build", "cache-reopen",
                             "sample-prepared", "sample-csv"])
    ap.add_argument("--growth", action="store_true", help="add the 1x..8x growth table")
    ap.add_argument("--growth-base", type=int, default=62_500, help="rows per file at 1x")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    from bench.national_year import make

    work = Path(tempfile.mkdtemp(prefix="svtui-bench-reader-"))
    try:
        data = a.data
        if data is None:
            data = work / "national"
            make(data, a.rows, 12, 1)
        print(f"data: {data}  (load average at start {os.getloadavg()[0]:.1f}, "
              f"{os.cpu_count()} cores)")
        tasks = a.only or ["reference", "check-direct", "cache-build", "cache-reopen",
                           "sample-prepared", "sample-csv"]
        results = [measure(t, data, a.repeat, work) for t in tasks]
        ref = next((r for r in results if r["task"] == "reference"), None)
        table(results, ref, "National-size year (median of --repeat fresh processes)")
        if a.growth:
            rows = []
            for k in (1, 2, 4, 8):
                d = work / f"growth-{k}"
                make(d, a.growth_base * k, 12, k)
                g_ref = measure("reference", d, a.repeat, work)
                g = measure("check-direct", d, a.repeat, work)
                rows.append((k, g_ref, g))
                shutil.rmtree(d)
            print("\nGrowth: svtui check (direct) as the rows grow (median of --repeat)")
            print(f"{'x':>3} {'rows':>10} {'median s':>9} {'cpu s':>7} {'peak MB':>8} "
                  f"{'ref s':>7} {'x ref':>6} {'s/M rows':>9} {'MB/M rows':>9}")
            for k, g_ref, g in rows:
                m = g["rows"] / 1e6
                print(f"{k:>3} {g['rows']:>10,} {g['wall']:>9.2f} {g['cpu']:>7.2f} "
                      f"{g['peak_mb']:>8.0f} {g_ref['wall']:>7.2f} {g['wall'] / g_ref['wall']:>6.1f} "
                      f"{g['wall'] / m:>9.2f} {g['peak_mb'] / m:>9.0f}")
    finally:
        if a.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
