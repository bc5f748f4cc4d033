"""Backtest table on the real police.uk data in ../shared/real (not a test: prints a table).

    python bench/bench_backtest.py [--cell-size 100] [--markdown]

For West Mercia and Warwickshire 2024, every forward split the four months allow (train on 1-3
consecutive months, test on the months that follow), the localities `svtui hotspots` would export
at 0.5%, 1% and 2% of the study area are scored from their own polygons on the test months, beside
the independent baselines at the same area share on 100 m cells (hotspot.backtest.baseline_surfaces,
the same recipe as /work/shared/tools/pai_check.py): prior counts on 100 m and 200 m cells,
3x3-smoothed counts and Gaussian KDE at 150, 250 and 400 m.
"""
from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REAL = ROOT.parent / "shared" / "real"

from geodata.study import load_study, spec_from_options  # noqa: E402
from hotspot.analysis import Params, prepare  # noqa: E402
from hotspot.backtest import locality_backtest  # noqa: E402

FORCES = {"west-mercia": "lsoa21_westmercia_bsc.geojson", "warwickshire": "lsoa21_warwickshire_bsc.geojson"}
M = [date(2024, m, 1) for m in range(1, 5)]
BASELINES = ("counts 100 m", "counts 200 m", "counts 3x3", "KDE 150 m", "KDE 250 m", "KDE 400 m")


def forward_splits(months: list[date]) -> list[tuple[tuple[date, date], tuple[date, date]]]:
    """Train on 1-3 consecutive months ending at e; test on every run of months starting at e+1."""
    out = []
    for e in range(len(months) - 1):
        for s in range(max(0, e - 2), e + 1):
            for t in range(e + 1, len(months)):
                out.append(((months[s], months[e]), (months[e + 1], months[t])))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cell-size", type=float, default=None, help="engine cell size (default: the engine's)")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table (docs/backtest.md)")
    args = ap.parse_args()
    if not REAL.is_dir():
        print(f"real data not found at {REAL}")
        return 0
    wins = total = 0
    worst = float("inf")
    fmt = lambda w: f"{w[0]:%Y-%m}:{w[1]:%Y-%m}"  # noqa: E731
    short = ("100m", "200m", "3x3", "KDE150", "KDE250", "KDE400")
    if args.markdown:
        print("| force | train | test | area | localities | PAI | " + " | ".join(short) + " | margin |")
        print("|---|---|---|---|---|---|" + "---|" * len(short) + "---|")
    else:
        print(f"{'force':<13} {'train':<15} {'test':<15} {'area':>5} {'n':>5} {'PAI':>6} "
              + " ".join(f"{s:>6}" for s in short) + "  margin")
    cell = None
    for force, boundary in FORCES.items():
        study = load_study(spec_from_options(crimes=[str(REAL / "police-uk" / force)],
                                             areas=str(REAL / "boundaries" / boundary)))
        prep = prepare(study, params=Params(cell_size=args.cell_size))
        cell = prep.grid.cell_size
        for train, test in forward_splits(M):
            t = locality_backtest(prep, train, test, params=Params(cell_size=cell))
            for r in t.iter_rows(named=True):
                margin = r["pai"] / r["best_pai"] - 1
                worst = min(worst, margin)
                wins += r["win"]
                total += 1
                vals = [r[b] for b in BASELINES]
                if args.markdown:
                    print(f"| {force} | {fmt(train)} | {fmt(test)} | {r['area_share']:.1f}% | {r['localities']} | "
                          f"**{r['pai']:.1f}** | " + " | ".join(f"{v:.1f}" for v in vals) + f" | {margin:+.1%} |")
                else:
                    print(f"{force:<13} {fmt(train):<15} {fmt(test):<15} {r['area_share']:>4.1f}% {r['localities']:>5} "
                          f"{r['pai']:>6.1f} " + " ".join(f"{v:>6.1f}" for v in vals) + f"  {margin:+.1%}", flush=True)
    print(f"\nExported localities matched or beat the best baseline in {wins} of {total} comparisons "
          f"({cell:.0f} m cells; smallest margin {worst:+.1%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
