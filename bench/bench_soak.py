"""Soak: many filter changes in one process, watching memory (issue 7).

Run:  python bench/bench_soak.py [--n 1000] [--every 10] [--seed 7] [--no-tracemalloc]
                                 [--permutations N] [--workbench]

Loads the embedded SYNTHETIC sample study, prepares it once, then calls
`hotspot.analysis.analyse(prep, filters)` --n times with filters that change every time: date
windows, definition categories, markers, night-time, areas, minimum harm. About a third of the
calls repeat a recent filter set (cache hits); the rest are new, so the engine's per-Prepared
cache (bounded: at most 33 analyses) keeps filling and evicting.

Every --every calls it records the process's resident set size (VmRSS from /proc, which sees
NumPy, Polars/Rust and GEOS memory) and, unless --no-tracemalloc, the Python heap traced by
tracemalloc (NumPy buffers included, Polars' Rust heap not). Every 100 calls it runs gc.collect()
first, so those rows are comparable. It prints a table, then:

* the mean of the first 100 calls against the last 100 (RSS and traced heap);
* the least-squares slope of RSS and traced heap over the calls after the first 100 (warm-up:
  the cache fills to its bound there), in MB per 1,000 calls;
* the cache's size, which must stay at its bound.

With --workbench each call also asks for the CSP profiles the workbench overview shows
(`svtui.screens.adapt.profiles`), stored the way the app stores them (svtui.app's per-study
cache), to show whether the workbench's own cache is bounded.

Not a test: nothing here asserts; it prints a verdict line (after warm-up, growth under 2 MB of
traced heap and under 20 MB of RSS per 1,000 calls counts as flat: RSS moves by tens of MB as the
allocator keeps or returns pages).
"""
from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def rss_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def filter_stream(prep, seed: int):
    """An endless stream of Filters: ~1/3 repeats of a recent set, the rest new."""
    from hotspot.analysis import MARKER_FILTERS, Filters

    rng = random.Random(seed)
    months = prep.months
    cats = [c.id for c in prep.definition.categories]
    h = prep.hierarchy
    areas = []
    for col in ("csp_code", "district_code", "ward_code"):
        if col in h.columns:
            areas += [c for c in h[col].drop_nulls().unique().sort().to_list()]
    recent: list = []
    while True:
        if recent and rng.random() < 0.33:
            f = rng.choice(recent[-20:])
        else:
            i = rng.randrange(len(months))
            j = rng.randrange(i, len(months))
            f = Filters(
                start=months[i] if rng.random() < 0.8 else None,
                end=months[j] if rng.random() < 0.5 else None,
                categories=tuple(sorted(rng.sample(cats, rng.choice([0, 0, 1, 2])))),
                markers=tuple(rng.sample([m for m in MARKER_FILTERS if m not in ("youth", "sexual")], rng.choice([0, 0, 0, 1]))),
                night_time=rng.random() < 0.25,
                areas=(rng.choice(areas),) if areas and rng.random() < 0.3 else (),
                min_harm=rng.choice([0.0, 0.0, 100.0, 1000.0]),
            )
            recent.append(f)
        yield f


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--every", type=int, default=10)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--permutations", type=int, default=None,
                    help="Params.permutations (default: the engine's default)")
    ap.add_argument("--no-tracemalloc", action="store_true")
    ap.add_argument("--workbench", action="store_true",
                    help="also compute and cache the workbench's CSP profiles per filter set")
    args = ap.parse_args(argv)

    from geodata.study import load_study, sample_spec
    from hotspot.analysis import Params, analyse, prepare

    params = Params() if args.permutations is None else Params(permutations=args.permutations)
    t0 = time.perf_counter()
    study = load_study(sample_spec())
    prep = prepare(study, params=params)
    print(f"# {study.name}: {study.incidents.height:,} incidents, {prep.n_cells:,} study cells, "
          f"{len(prep.months)} months; load+prepare {time.perf_counter() - t0:.1f} s")
    print(f"# {args.n} filter changes, Params(permutations={params.permutations}), "
          f"tracemalloc {'off' if args.no_tracemalloc else 'on'}, workbench cache {'on' if args.workbench else 'off'}")

    fake_app = None
    if args.workbench:
        from types import SimpleNamespace

        from svtui.app import _cache_for

        fake_app = SimpleNamespace(prep=prep, study=study, analysis=None, cache=_cache_for(prep))

    if not args.no_tracemalloc:
        tracemalloc.start()
    gc.collect()
    rows = []  # (call, seconds, rss, traced, cache, app cache)
    stream = filter_stream(prep, args.seed)
    hits = 0
    t_start = time.perf_counter()
    for k in range(1, args.n + 1):
        f = next(stream)
        before = len(prep.cache)
        key = (f, params)
        hit = key in prep.cache
        try:
            a = analyse(prep, f, params)
        except ValueError:  # an area with no LSOAs left after other filters, etc.
            a = None
        hits += hit
        if fake_app is not None and a is not None:
            from svtui.screens import adapt

            fake_app.analysis = a
            try:
                adapt.profiles(fake_app, "csp", a)
            except Exception:  # noqa: BLE001 (the soak is about memory, not this call)
                pass
        del a
        if k % args.every == 0 or k == 1:
            if k % 100 == 0:
                gc.collect()
            traced = tracemalloc.get_traced_memory()[0] / 2**20 if tracemalloc.is_tracing() else float("nan")
            rows.append((k, time.perf_counter() - t_start, rss_mb(), traced, len(prep.cache),
                         len(fake_app.cache) if fake_app is not None else 0))
        _ = before

    print()
    print(f"{'call':>6} {'elapsed s':>10} {'RSS MB':>9} {'traced MB':>10} {'engine cache':>13} {'app cache':>10}")
    for r in rows:
        if r[0] == 1 or r[0] % 100 == 0:
            print(f"{r[0]:>6} {r[1]:>10.1f} {r[2]:>9.1f} {r[3]:>10.1f} {r[4]:>13} {r[5]:>10}")

    arr = np.array([(r[0], r[2], r[3]) for r in rows], dtype=float)
    first = arr[arr[:, 0] <= 100]
    last = arr[arr[:, 0] > args.n - 100]
    warm = arr[arr[:, 0] > 100]
    print()
    second = arr[(arr[:, 0] > 100) & (arr[:, 0] <= 200)]
    print(f"first 100 calls: RSS {first[:, 1].mean():.1f} MB, traced {first[:, 2].mean():.1f} MB"
          "  (includes the warm-up: the cache fills to its bound)")
    if len(second) and args.n > 200:
        print(f"calls 101-200:   RSS {second[:, 1].mean():.1f} MB, traced {second[:, 2].mean():.1f} MB")
    print(f"last 100 calls:  RSS {last[:, 1].mean():.1f} MB, traced {last[:, 2].mean():.1f} MB")
    slope_rss = slope_traced = float("nan")
    if len(warm) >= 3:
        slope_rss = np.polyfit(warm[:, 0], warm[:, 1], 1)[0] * 1000
        if np.isfinite(warm[:, 2]).all():
            slope_traced = np.polyfit(warm[:, 0], warm[:, 2], 1)[0] * 1000
    print(f"slope after call 100: RSS {slope_rss:+.2f} MB per 1,000 calls, traced {slope_traced:+.2f} MB per 1,000 calls")
    print(f"engine cache: max {max(r[4] for r in rows)} entries; cache hits {hits} of {args.n}; "
          f"{(time.perf_counter() - t_start) / args.n * 1000:.0f} ms per call")
    if fake_app is not None:
        print(f"workbench cache: {len(fake_app.cache)} entries after {args.n} calls")
    # The traced heap is exact; RSS moves by tens of MB as the allocator keeps or returns pages.
    flat = (not np.isfinite(slope_rss) or slope_rss < 20.0) and (not np.isfinite(slope_traced) or slope_traced < 2.0)
    print(f"verdict: {'flat (no growth after warm-up)' if flat else 'GROWING'} "
          "(flat = traced heap < +2 MB and RSS < +20 MB per 1,000 calls)")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("POLARS_MAX_THREADS", "2")
    sys.exit(main())
