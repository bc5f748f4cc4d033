"""Backtest table on the real police.uk data in ../shared/real (not a test: prints a table).

    python bench/bench_backtest.py [--cell-size 200]

For West Mercia and Warwickshire 2024, every forward split of the four months, PAI at 0.5%, 1%
and 2% of the study area for svtui's default map score and the baselines.
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
from hotspot.backtest import backtest  # noqa: E402

FORCES = {"west-mercia": "lsoa21_westmercia_bsc.geojson", "warwickshire": "lsoa21_warwickshire_bsc.geojson"}
M = [date(2024, m, 1) for m in range(1, 5)]
SPLITS = [((M[0], M[1]), (M[2], M[3])), ((M[0], M[0]), (M[1], M[1])), ((M[1], M[1]), (M[2], M[2])),
          ((M[2], M[2]), (M[3], M[3])), ((M[1], M[2]), (M[3], M[3])), ((M[0], M[2]), (M[3], M[3]))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cell-size", type=float, default=None)
    args = ap.parse_args()
    if not REAL.is_dir():
        print(f"real data not found at {REAL}")
        return 0
    wins = total = 0
    print(f"{'force':<13} {'train':<15} {'test':<15} {'area':>5}  {'svtui':>6} {'counts':>6} {'KDE':>6} {'Gi*':>6}  win")
    for force, boundary in FORCES.items():
        study = load_study(spec_from_options(crimes=[str(REAL / "police-uk" / force)],
                                             areas=str(REAL / "boundaries" / boundary)))
        prep = prepare(study, params=Params(cell_size=args.cell_size))
        for train, test in SPLITS:
            t = backtest(prep, train, test)
            for share in (0.005, 0.01, 0.02):
                pai = {r["method"]: r["pai"] for r in t.to_dicts() if r["area_share"] == share}
                ours = pai.pop("svtui default")
                win = ours > max(pai.values())
                wins += win
                total += 1
                fmt = lambda w: f"{w[0]:%Y-%m}:{w[1]:%Y-%m}"  # noqa: E731
                print(f"{force:<13} {fmt(train):<15} {fmt(test):<15} {share:>5.1%}  {ours:>6.1f} "
                      f"{pai['prior counts']:>6.1f} {pai['KDE']:>6.1f} {pai['grid Gi*']:>6.1f}  {'yes' if win else 'NO'}")
    print(f"\nsvtui default beat every baseline in {wins} of {total} comparisons "
          f"({prep.grid.cell_size:.0f} m cells)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
