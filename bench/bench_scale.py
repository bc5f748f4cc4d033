"""How svtui's cost grows: force-years to a national year, and Gi* from 10k to 1M cells.

Run (everything goes to a temporary folder, removed afterwards unless --keep):

    python bench/bench_scale.py                      # force-year table + Gi* table
    python bench/bench_scale.py --national           # + one national year and the force-subset demo
    python bench/bench_scale.py --only gistar --cells 10000 100000 1000000

Tables
------
1. Force-years. SYNTHETIC police.uk data from `sample_data.national` for one force
   (`--force`, default West Mercia, ~100k rows a year) at 1x, 2x, 4x and 8x its volume. Each
   run is a fresh process (so peak RSS is its own): build the workspace cache from the CSVs
   (ingest: parse, check, de-duplicate, assign areas, write Parquet), classify with the
   police-uk-proxy definition and weight harm, and aggregate (serious incidents and harm by
   force x LSOA x month, all rows by force x crime type). Then reopen the cache (a hit).
   `exact` is the uncached path (read_police_uk + assign_areas) for comparison.
2. National year (--national): the same on all 43 forces (~6.1M rows), then hotspots for one
   force from the national workspace (a filter pushed down to the Parquet row groups, then
   prepare/analyse on that force only) against a force-only study of the same files.
3. Gi*: `hotspot.gistar.gi_star_z` (analytic) and `gi_star(..., permutations=R)` on
   clustered synthetic counts over a square grid with `hotspot.weights.grid_weights`
   (queen, radius 1), n = 10k .. 1M cells. Peak is tracemalloc's (NumPy buffers included).

Times are wall-clock seconds: median of --repeat runs (min in brackets), with the CPU
seconds of the median run and the 1-minute load average when it started: this is a shared
2-core server, and wall time grows with other people's load while CPU time does not.
Classification evaluates the definition once per distinct combination of its input columns
(14 crime types for police.uk); the rows then stream from the cached Parquet through a join
and the group-bys (Polars' streaming engine), so the classified rows are never all in memory.
The eager equivalent (`classify_distinct`) is checked equal to classifying every row with
`hotspot.definition.classify` + `add_harm`, and both are timed. Not a test: nothing here
asserts a time.
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
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# --------------------------------------------------------------------------------------------
# Pieces shared by the child jobs


def load_areas(data: Path):
    from geodata.areas import build_areas

    return build_areas(data / "lsoa21_ew_synthetic.geojson",
                       [data / "lad_csp_pfa_synthetic.csv", data / "lsoa11_lsoa21_synthetic.csv"])


def force_areas(areas, force_short: str):
    """The LSOAs of one force area, as an Areas of their own."""
    from geodata.areas import Areas

    codes = areas.hierarchy.filter(pl.col("force_name") == force_short)["lsoa_code"]
    keep = areas.lsoa["lsoa_code"].isin(codes.to_list()).to_numpy()
    return Areas(lsoa=areas.lsoa[keep].reset_index(drop=True),
                 hierarchy=areas.hierarchy.filter(pl.col("lsoa_code").is_in(codes.implode())),
                 lsoa11_to_21=areas.lsoa11_to_21)


def classify_distinct(frame: pl.DataFrame, definition) -> pl.DataFrame:
    """`add_harm(classify(fill_crime_type(frame), definition))`, evaluated once per distinct
    combination of the columns those functions read, then joined back (row order kept).

    police.uk rows have 14 distinct crime types and nothing else the definition reads, so
    6M rows cost 14 evaluations and one join. Exact: each function is row-wise in those
    columns (bench/bench_scale.py checks it against the direct call).
    """
    from geodata.schema import MARKERS
    from hotspot.definition import classify, fill_crime_type
    from hotspot.harm import add_harm

    inputs = [c for c in ("offence_code", "crime_type", "offence_desc", *MARKERS)
              if c in frame.columns]
    key = pl.struct(inputs).hash(seed=7).alias("__key")
    hashed = frame.select(inputs).with_columns(key)
    keys = hashed.unique("__key", maintain_order=True)
    if keys.select(inputs).unique().height != keys.height:  # a hash collision: no shortcut
        return add_harm(classify(fill_crime_type(frame), definition))
    done = add_harm(classify(fill_crime_type(keys.drop("__key")), definition))
    new = [c for c in done.columns if c not in inputs or c == "crime_type"]
    table = done.select(*[pl.col(c).alias(f"__new_{c}") for c in new]).with_columns(
        keys["__key"])
    looked = hashed.select("__key").join(table, on="__key", how="left", maintain_order="left")
    out = frame.with_columns(looked.drop("__key").rename(
        {f"__new_{c}": c for c in new}).get_columns())
    order = [c for c in frame.columns] + [c for c in new if c not in frame.columns]
    return out.select(order)


def classify_table(lf: pl.LazyFrame, definition) -> tuple[list[str], pl.DataFrame]:
    """The definition's verdict (serious, categories, harm, ...) for every distinct
    combination of its input columns in `lf`: (input columns, table keyed by `__key`)."""
    from geodata.schema import MARKERS
    from hotspot.definition import classify, fill_crime_type
    from hotspot.harm import add_harm

    names = lf.collect_schema().names()
    inputs = [c for c in ("offence_code", "crime_type", "offence_desc", *MARKERS) if c in names]
    keys = lf.select(inputs).unique().collect()
    done = add_harm(classify(fill_crime_type(keys), definition))
    new = [c for c in done.columns if c not in inputs or c == "crime_type"]
    table = done.select(*[pl.col(c).alias(f"__new_{c}") for c in new]).with_columns(
        keys.select(pl.struct(inputs).hash(seed=7).alias("__key")))
    if table["__key"].n_unique() != table.height:
        raise RuntimeError("hash collision among classification keys")
    return inputs, table


def classified_lazy(lf: pl.LazyFrame, inputs: list[str], table: pl.DataFrame) -> pl.LazyFrame:
    new = [c[len("__new_"):] for c in table.columns if c.startswith("__new_")]
    return (lf.with_columns(pl.struct(inputs).hash(seed=7).alias("__key"))
            .join(table.lazy(), on="__key", how="left")
            .drop([c for c in new if c in lf.collect_schema().names()] + ["__key"])
            .rename({f"__new_{c}": c for c in new}))


def aggregate(c: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    by_area = (c.filter(pl.col("serious"))
               .group_by("force", "lsoa_code", "month")
               .agg(pl.len().alias("n"), pl.col("harm").sum().alias("harm")))
    by_type = c.group_by("force", "crime_type").agg(pl.len().alias("n"))
    return by_area, by_type


# --------------------------------------------------------------------------------------------
# Child jobs: one per fresh process, each prints one JSON line


def job_pipeline(data: Path, cache_dir: Path, mode: str, direct_classify: bool,
                 lazy: bool = False) -> dict:
    """Ingest (cold cache build, or the exact reader), classify, aggregate. `lazy`: the
    classified rows are streamed into the aggregates instead of materialised."""
    from geodata.cache import cached_police_uk
    from geodata.ledger import Ledger
    from hotspot.definition import load_definition

    out: dict = {"load": os.getloadavg()[0]}
    t0 = time.perf_counter()
    areas = load_areas(data)
    out["areas_s"] = time.perf_counter() - t0
    t = time.perf_counter()
    ledger = Ledger()
    parquet = None
    if mode == "exact":
        from geodata.areas import assign_areas
        from geodata.policeuk import read_police_uk

        frame = read_police_uk([data / "police-uk"], ledger=ledger)
        frame = assign_areas(frame, areas, ledger.sources)
    else:
        rep: dict = {}
        got = cached_police_uk([data / "police-uk"], areas, cache_dir=cache_dir, ledger=ledger,
                               lazy=lazy, report=rep)
        out["status"] = rep["status"]
        out["stages"] = {k: round(v, 2) for k, v in rep["seconds"].items()}
        if "exact" in rep:  # the reader changed under the mirror: this run is not the fast path
            print(f"WARNING: {rep['exact']}", file=sys.stderr)
            out["stages"]["EXACT FALLBACK"] = 1
        if lazy:
            parquet = Path(rep["result_dir"]) / "incidents.parquet"
            frame = pl.DataFrame({"x": [0] * got.select(pl.len()).collect().item()})
        else:
            frame = got
    out["ingest_s"] = time.perf_counter() - t
    out["ingest_peak_mb"] = _peak_mb()
    out["rows_read"] = sum(e.read for e in ledger.sources)
    out["rows"] = frame.height
    definition = load_definition("police-uk-proxy")
    if lazy:
        # Classify the distinct inputs, then stream the rows through a join and group-bys:
        # the 6M classified rows are never held at once.
        t = time.perf_counter()
        lf = pl.scan_parquet(parquet) if parquet else frame.lazy()
        inputs, table = classify_table(lf, definition)
        out["classify_s"] = time.perf_counter() - t
        t = time.perf_counter()
        c = classified_lazy(lf, inputs, table)
        by_area = (c.filter(pl.col("serious")).group_by("force", "lsoa_code", "month")
                   .agg(pl.len().alias("n"), pl.col("harm").sum().alias("harm")))
        by_type = c.group_by("force", "crime_type").agg(pl.len().alias("n"))
        by_area, by_type = pl.collect_all([by_area, by_type], engine="streaming")
        out["aggregate_s"] = time.perf_counter() - t
        out["serious"] = int(by_area["n"].sum())
        c = None
    else:
        t = time.perf_counter()
        c = classify_distinct(frame, definition)
        out["classify_s"] = time.perf_counter() - t
        t = time.perf_counter()
        by_area, by_type = aggregate(c)
        out["aggregate_s"] = time.perf_counter() - t
        out["serious"] = int(c["serious"].sum())
    out["groups"] = by_area.height
    out["total_s"] = out["ingest_s"] + out["classify_s"] + out["aggregate_s"]
    out["cpu_s"] = _cpu_s()
    out["peak_mb"] = _peak_mb()
    if direct_classify and not lazy:
        from hotspot.definition import classify, fill_crime_type
        from hotspot.harm import add_harm

        t = time.perf_counter()
        d = add_harm(classify(fill_crime_type(frame), definition))
        out["classify_direct_s"] = time.perf_counter() - t
        out["classify_same"] = bool(d.equals(c))
        out["peak_mb_with_direct"] = _peak_mb()
    return out


def job_reopen(data: Path, cache_dir: Path) -> dict:
    from geodata.cache import cached_police_uk
    from geodata.ledger import Ledger

    t = time.perf_counter()
    areas = load_areas(data)
    t_areas = time.perf_counter() - t
    t = time.perf_counter()
    rep: dict = {}
    lf = cached_police_uk([data / "police-uk"], areas, cache_dir=cache_dir, ledger=Ledger(),
                          report=rep)
    t_open = time.perf_counter() - t
    t = time.perf_counter()
    n = lf.select(pl.len()).collect().item()
    t_count = time.perf_counter() - t
    t = time.perf_counter()
    frame = lf.collect()
    t_collect = time.perf_counter() - t
    return {"status": rep["status"], "areas_s": t_areas, "open_s": t_open, "count_s": t_count,
            "collect_s": t_collect, "rows": n, "height": frame.height, "peak_mb": _peak_mb(),
            "load": os.getloadavg()[0]}


def _study(name: str, incidents: pl.DataFrame, areas):
    from geodata.ledger import Ledger
    from geodata.policeuk import infer_venues_from_labels
    from geodata.schema import AE_SCHEMA
    from geodata.study import Study, StudySpec

    return Study(spec=StudySpec(name=name, synthetic=True, definition="police-uk-proxy"),
                 incidents=incidents, ae=pl.DataFrame(schema=AE_SCHEMA),
                 venues=infer_venues_from_labels(incidents), areas=areas,
                 indicators=pl.DataFrame(schema={"lsoa_code": pl.Utf8}), interventions=[],
                 ledger=Ledger())


def _hotspots(study, months: list) -> dict:
    from hotspot.analysis import Filters, Params, analyse, prepare

    params = Params()
    out = {}
    t = time.perf_counter()
    prep = prepare(study, params=params)
    out["prepare_s"] = time.perf_counter() - t
    out["cells"] = prep.n_cells
    filters = [("all", Filters()),
               ("last 6 months", Filters(start=months[-6])),
               ("robbery", Filters(categories=("robbery",)))]
    for label, f in filters:
        t = time.perf_counter()
        an = analyse(prep, f, params)
        out[f"analyse {label}_s"] = time.perf_counter() - t
        out[f"analyse {label}_localities"] = an.localities.height
    return out


def job_force(national: Path, force_only: Path, cache_dir: Path, force: str) -> dict:
    """Hotspots for one force: from the national workspace vs a force-only study."""
    from geodata.cache import cached_police_uk
    from geodata.ledger import Ledger
    from sample_data.national import FORCES, FORCE_INDEX, _short

    f = FORCES[FORCE_INDEX[force]]
    out: dict = {"load": os.getloadavg()[0]}
    t = time.perf_counter()
    areas = load_areas(national)
    sub_areas = force_areas(areas, _short(f.name))
    out["national areas_s"] = time.perf_counter() - t
    t = time.perf_counter()
    lf = cached_police_uk([national / "police-uk"], areas, cache_dir=cache_dir, ledger=Ledger())
    codes = sub_areas.hierarchy["lsoa_code"].implode()
    sub = (lf.filter(pl.col("force") == f.name)  # pushed down to the row groups
           .filter(pl.col("lsoa_code").is_in(codes)).collect())
    out["national select_s"] = time.perf_counter() - t
    out["national rows"] = sub.height
    months = sorted(sub["month"].unique().to_list())
    nat = _hotspots(_study(f"{f.name} (national workspace)", sub, sub_areas), months)
    out.update({f"national {k}": v for k, v in nat.items()})
    t = time.perf_counter()
    led = Ledger()
    own = cached_police_uk([force_only / "police-uk"], sub_areas, cache_dir=cache_dir,
                           ledger=led, lazy=False)
    out["force-only open_s"] = time.perf_counter() - t
    out["force-only rows"] = own.height
    solo = _hotspots(_study(f"{f.name} (force-only)", own, sub_areas), months)
    out.update({f"force-only {k}": v for k, v in solo.items()})
    out["same rows"] = bool(own.sort("source_file", "source_row").select(
        "incident_id", "month", "lsoa_code").equals(sub.sort("source_file", "source_row").select(
            "incident_id", "month", "lsoa_code")))
    out["peak_mb"] = _peak_mb()
    return out


def clustered_counts(side: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    r, c = np.mgrid[0:side, 0:side]
    lam = np.full((side, side), 0.8)
    for cr, cc in rng.uniform(0, side, size=(max(2, side // 20), 2)):
        d2 = (r - cr) ** 2 + (c - cc) ** 2
        lam += 5 * np.exp(-d2 / 10)
    return rng.poisson(lam).ravel().astype(float)


def job_gistar(n: int, permutations: list[int], repeat: int) -> dict:
    from hotspot.gistar import gi_star, gi_star_z
    from hotspot.weights import grid_weights

    side = int(round(np.sqrt(n)))
    out: dict = {"n": side * side, "load": os.getloadavg()[0]}
    x = clustered_counts(side)
    t = time.perf_counter()
    W = grid_weights(side, side)
    out["weights_s"] = time.perf_counter() - t
    tracemalloc.start()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        gi_star_z(x, W)
        times.append(time.perf_counter() - t)
    out["z_s"] = times
    out["z_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    for R in permutations:
        tracemalloc.reset_peak()
        times = []
        for _ in range(repeat if n <= 250_000 else 1):
            t = time.perf_counter()
            gi_star(x, W, permutations=R, seed=0)
            times.append(time.perf_counter() - t)
        out[f"perm{R}_s"] = times
        out[f"perm{R}_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    out["rss_mb"] = _peak_mb()
    return out


# --------------------------------------------------------------------------------------------
# Parent: generate data, run children, print tables


def _child(args: list[str]) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", *args]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=str(REPO))
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def _generate(out: Path, **kw) -> dict:
    from sample_data.national import generate

    if (out / "manifest.json").exists():
        return json.loads((out / "manifest.json").read_text())
    t = time.perf_counter()
    man = generate(out, **kw)
    print(f"  generated {out.name}: {man['rows']:,} rows in {time.perf_counter() - t:.1f} s",
          flush=True)
    return man


def _med(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f} ({min(values):5.2f})"


def force_years(work: Path, force: str, sizes: list[int], repeat: int, exact_upto: int) -> None:
    print(f"\n1. Force-years: {force} x {sizes}; ingest = cold cache build; "
          f"median (min) of {repeat} runs, seconds", flush=True)
    rows = []
    for k in sizes:
        data = work / f"{force}-x{k}"
        _generate(data, years=1, end_year=2024, scale=float(k), forces=[force])
        runs = []
        for r in range(repeat):
            cdir = work / f"cache-{force}-x{k}"
            shutil.rmtree(cdir, ignore_errors=True)
            runs.append(_child(["pipeline", str(data), str(cdir), "cached", "0", "lazy"]))
        reopen = _child(["reopen", str(data), str(work / f"cache-{force}-x{k}")])
        exact = (_child(["pipeline", str(data), str(work / "unused"), "exact", "0", "lazy"])
                 if k <= exact_upto else None)
        if k == sizes[0]:
            check = _child(["pipeline", str(data), str(work / f"cache-{force}-x{k}"), "cached",
                            "1"])
        rows.append((k, runs, reopen, exact))
        shutil.rmtree(work / f"cache-{force}-x{k}", ignore_errors=True)
    head = (f"{'size':>5} {'rows':>9} {'ingest':>15} {'classify':>15} {'aggregate':>15} "
            f"{'total':>15} {'cpu':>6} {'peak MB':>8} {'reopen':>7} {'exact ingest':>12} "
            f"{'exact MB':>8} {'load':>5}")
    print(head)
    print("-" * len(head))
    for k, runs, reopen, exact in rows:
        mid = sorted(runs, key=lambda r: r["total_s"])[len(runs) // 2]
        print(f"{k:>4}x {runs[0]['rows_read']:>9,} "
              f"{_med([r['ingest_s'] for r in runs]):>15} "
              f"{_med([r['classify_s'] for r in runs]):>15} "
              f"{_med([r['aggregate_s'] for r in runs]):>15} "
              f"{_med([r['total_s'] for r in runs]):>15} {mid['cpu_s']:6.1f} "
              f"{max(r['peak_mb'] for r in runs):8.0f} {reopen['open_s']:7.2f} "
              + (f"{exact['ingest_s']:12.2f} {exact['ingest_peak_mb']:8.0f}" if exact else
                 f"{'-':>12} {'-':>8}")
              + f" {mid['load']:5.1f}")
    print(f"   classify every row (hotspot.definition.classify + add_harm) at {sizes[0]}x: "
          f"{check['classify_direct_s']:.2f} s; per distinct inputs then joined back "
          f"(classify_distinct): {check['classify_s']:.2f} s; same frame: {check['classify_same']}")
    print("   stages of the last cold build (s):",
          json.dumps(rows[-1][1][-1].get("stages", {})))
    print("   reopen (cache hit) = check fingerprints + read ledger; collecting the frame "
          f"at {sizes[-1]}x adds {rows[-1][2]['collect_s']:.2f} s")


def national_year(work: Path, force: str, repeat: int) -> None:
    print("\n2. National year (43 forces), median (min) of "
          f"{repeat} cold runs, seconds", flush=True)
    data = work / "national"
    man = _generate(data, years=1, end_year=2024, scale=1.0)
    print(f"   {man['rows']:,} rows, {man['files']} files, {man['bytes'] / 1e9:.2f} GB of CSV, "
          f"generated in {man['seconds']['total']:.0f} s; half the located rows at "
          f"{man['concentration']['share_of_all_points_with_50pct']:.1%} of map points")
    cdir = work / "cache-national"
    runs = []
    for _ in range(repeat):
        shutil.rmtree(cdir, ignore_errors=True)
        runs.append(_child(["pipeline", str(data), str(cdir), "cached", "0", "lazy"]))
    for label, key in (("areas (build_areas, 35,672 LSOAs)", "areas_s"),
                       ("ingest (cold cache build)", "ingest_s"),
                       ("classify + harm", "classify_s"), ("aggregate", "aggregate_s"),
                       ("ingest + classify + aggregate", "total_s")):
        print(f"   {label:34s} {_med([r[key] for r in runs])}")
    mid = sorted(runs, key=lambda r: r["total_s"])[len(runs) // 2]
    print(f"   peak RSS {max(r['peak_mb'] for r in runs):,.0f} MB (ingest alone "
          f"{max(r['ingest_peak_mb'] for r in runs):,.0f} MB); CPU {mid['cpu_s']:.0f} s; "
          f"load {mid['load']:.1f}; {mid['rows']:,} rows accepted")
    print("   stages (median run):", json.dumps(mid["stages"]))
    reopen = [_child(["reopen", str(data), str(cdir)]) for _ in range(repeat)]
    print(f"   reopen: areas {_med([r['areas_s'] for r in reopen])}, cache check + ledger "
          f"{_med([r['open_s'] for r in reopen])}, count rows "
          f"{_med([r['count_s'] for r in reopen])}, "
          f"collect all {_med([r['collect_s'] for r in reopen])}; peak "
          f"{max(r['peak_mb'] for r in reopen):,.0f} MB")

    print(f"\n   Hotspots for {force}: national workspace vs force-only study (seconds)")
    only = work / f"{force}-only"
    _generate(only, years=1, end_year=2024, scale=1.0, forces=[force])
    # Build the force-only cache once so both sides are warm.
    _child(["force", str(data), str(only), str(cdir), force])
    res = [_child(["force", str(data), str(only), str(cdir), force]) for _ in range(repeat)]
    for side in ("national", "force-only"):
        first = "select" if side == "national" else "open"
        keys = [f"{side} {first}_s", f"{side} prepare_s", f"{side} analyse all_s",
                f"{side} analyse last 6 months_s", f"{side} analyse robbery_s"]
        cells = ", ".join(f"{k.split(' ', 1)[1][:-2]} {_med([r[k] for r in res])}" for k in keys)
        print(f"   {side:10s} {cells}")
    r0 = res[0]
    print(f"   rows {r0['national rows']:,} vs {r0['force-only rows']:,} (same rows: "
          f"{r0['same rows']}); grid cells {r0['national cells']:,}; national areas "
          f"{_med([r['national areas_s'] for r in res])}; peak {r0['peak_mb']:,.0f} MB")


def gistar_table(cells: list[int], permutations: list[int], repeat: int) -> None:
    print(f"\n3. Gi* on a square grid, queen radius 1: median (min) of {repeat} runs, seconds; "
          "peak = tracemalloc MB", flush=True)
    res = [_child(["gistar", str(n), ",".join(map(str, permutations)), str(repeat)])
           for n in cells]
    head = f"{'cells':>9} {'weights':>8} {'z':>15} {'z MB':>6}" + "".join(
        f" {'R=' + format(R, ','):>15} {'MB':>6}" for R in permutations) + f" {'RSS MB':>7}"
    print(head)
    print("-" * len(head))
    for r in res:
        line = (f"{r['n']:>9,} {r['weights_s']:8.2f} {_med(r['z_s']):>15} "
                f"{r['z_peak_mb']:6.0f}")
        for R in permutations:
            line += f" {_med(r[f'perm{R}_s']):>15} {r[f'perm{R}_peak_mb']:6.0f}"
        print(line + f" {r['rss_mb']:7.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    ap.add_argument("--only", choices=["force", "national", "gistar"], action="append")
    ap.add_argument("--national", action="store_true", help="also one national year (~6M rows)")
    ap.add_argument("--force", default="west-mercia", help="police.uk slug of the force-year")
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 2, 4, 8])
    ap.add_argument("--exact-upto", type=int, default=8,
                    help="time the uncached exact reader up to this size (it is slow)")
    ap.add_argument("--cells", type=int, nargs="+",
                    default=[10_000, 40_000, 100_000, 250_000, 1_000_000])
    ap.add_argument("--permutations", type=int, nargs="+", default=[999, 99_999])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", help="keep generated data here (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true", help="do not delete the temporary folder")
    args = ap.parse_args()

    if args.child:
        kind, *rest = args.child
        if kind == "pipeline":
            out = job_pipeline(Path(rest[0]), Path(rest[1]), rest[2], rest[3] == "1",
                               len(rest) > 4 and rest[4] == "lazy")
        elif kind == "reopen":
            out = job_reopen(Path(rest[0]), Path(rest[1]))
        elif kind == "force":
            out = job_force(Path(rest[0]), Path(rest[1]), Path(rest[2]), rest[3])
        elif kind == "gistar":
            out = job_gistar(int(rest[0]), [int(x) for x in rest[1].split(",")], int(rest[2]))
        else:
            raise SystemExit(f"unknown child job {kind}")
        print(json.dumps(out))
        return

    only = set(args.only or (["force", "gistar"] + (["national"] if args.national else [])))
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="svtui-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"svtui scale benchmark: {os.cpu_count()} CPUs, polars {pl.__version__}, "
          f"workdir {work}")
    try:
        if "force" in only:
            force_years(work, args.force, args.sizes, args.repeat, args.exact_upto)
        if "national" in only:
            national_year(work, args.force, args.repeat)
        if "gistar" in only:
            gistar_table(args.cells, args.permutations, args.repeat)
    finally:
        if not args.workdir and not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
