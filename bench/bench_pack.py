"""Benchmark the meeting pack: `svtui pack` end to end, and the pack alone.

Run:  python bench/bench_pack.py [--repeat 3] [--top 10] [--sections sample real]

For each section (``sample``: the SYNTHETIC sample study, 5 CSPs; ``real``: West Mercia
police.uk 2024 in ../shared/real when present) it loads the study, prepares and analyses it once,
then builds the pack --repeat times into a fresh temporary folder and reports the median and
minimum wall and CPU seconds of:

* ``load``: load + prepare (once; what `svtui pack` does before the pack);
* ``analyse``: hotspot.analysis.analyse once on the prepared study: the reference, measured in
  the same run, so ``pack/analyse`` compares like with like under whatever load the machine has;
* ``pack``: svtui.pack.build_pack on a fresh Session (its own analysis, text, maps, charts,
  tables, three writers), with its own split (analysis, text, areas, localities, tables, write)
  from the median run;
* ``total``: load + median pack: the time `svtui pack --out DIR` takes.

Target (issue 16): the sample pack (5 CSPs, top 10 localities) within 20 s on the 2-core
machine. CPU seconds are shown beside wall seconds because the machine is shared: CPU time
hardly moves with other people's load. Not a test: nothing here asserts.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REAL = ROOT.parent / "shared" / "real"


def _spec(section: str):
    from geodata.study import sample_spec, spec_from_options

    if section == "sample":
        return sample_spec()
    if not REAL.exists():
        return None
    return spec_from_options(crimes=[str(REAL / "police-uk" / "west-mercia")],
                             areas=str(REAL / "boundaries" / "lsoa21_westmercia_bsc.geojson"),
                             lookups=[str(REAL / "lookups" / "lad24_csp24_pfa24_EW.csv")])


def run(section: str, repeat: int, top: int) -> dict | None:
    from geodata.study import load_study
    from hotspot.analysis import analyse, prepare
    from hotspot.session import Session

    from svtui.pack import build_pack

    spec = _spec(section)
    if spec is None:
        print(f"{section}: skipped (no data at {REAL})")
        return None
    w0, c0 = time.perf_counter(), time.process_time()
    study = load_study(spec)
    prep = prepare(study)
    engine = (time.perf_counter() - w0, time.process_time() - c0)
    # the reference, measured in this run: the engine's own analysis of the same prepared study
    w1 = time.perf_counter()
    analyse(prep)
    ref = time.perf_counter() - w1
    runs = []
    for _ in range(repeat):
        # a fresh Session each time: the pack pays for its own analysis and tables, as `svtui pack` does
        session = Session(study, prep=prep)
        with tempfile.TemporaryDirectory() as tmp:
            w, c = time.perf_counter(), time.process_time()
            res = build_pack(session, tmp, top=top)
            runs.append((time.perf_counter() - w, time.process_time() - c, res.timings, res.document))
    walls = sorted(r[0] for r in runs)
    med = statistics.median(walls)
    mid = min(runs, key=lambda r: abs(r[0] - med))
    doc = mid[3]
    n_area = sum(1 for s in doc.sections if s.kind in ("csp", "area"))
    n_loc = sum(1 for s in doc.sections if s.kind == "locality")
    return {"section": section, "areas": n_area, "localities": n_loc,
            "engine_wall": engine[0], "engine_cpu": engine[1], "analyse_wall": ref,
            "pack_wall_median": med, "pack_wall_min": walls[0],
            "pack_cpu_median": statistics.median(r[1] for r in runs),
            "total_wall": engine[0] + med, "split": mid[2]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--sections", nargs="+", default=["sample", "real"], choices=["sample", "real"])
    a = ap.parse_args(argv)
    print(f"{'section':<8} {'areas':>5} {'locs':>5} {'load s':>7} {'analyse s':>10} {'pack med s':>11} "
          f"{'pack min s':>11} {'pack cpu s':>11} {'total s':>8} {'pack/analyse':>13}  split (median run)")
    for s in a.sections:
        r = run(s, a.repeat, a.top)
        if r is None:
            continue
        split = ", ".join(f"{k} {v:.1f}" for k, v in r["split"].items())
        print(f"{r['section']:<8} {r['areas']:>5} {r['localities']:>5} {r['engine_wall']:>7.1f} "
              f"{r['analyse_wall']:>10.2f} {r['pack_wall_median']:>11.1f} {r['pack_wall_min']:>11.1f} "
              f"{r['pack_cpu_median']:>11.1f} {r['total_wall']:>8.1f} "
              f"{r['pack_wall_median'] / max(r['analyse_wall'], 1e-9):>13.1f}  {split}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
