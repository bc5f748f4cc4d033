"""Calibration of "significant" on random points, and power on a planted cluster (not a test).

    python bench/bench_calibration.py [--runs 40] [--force west-mercia]

Each run writes three months of police.uk-format offences placed uniformly at random over the real
force boundary (about 3,000 'Violence and sexual offences' and 500 'Burglary' a month, as
/work/shared/tools/csr.py does), reads them with svtui's own reader and runs the full hotspot
analysis (1% area budget). Null runs: how often is ANY locality significant (should be <= 5%).
Planted runs: 60 extra offences (20 a month) within 150 m of a point in Worcester city centre
(BNG 385000, 254800); how often is a significant locality found covering that point (should be
>= 95%). Prints the rates and their exact 95% (Clopper-Pearson) intervals.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REAL = ROOT.parent / "shared" / "real"
PLANT = (385_000.0, 254_800.0)
BOUNDARIES = {"west-mercia": "lsoa21_westmercia_bsc.geojson", "warwickshire": "lsoa21_warwickshire_bsc.geojson"}
HEADER = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
          "Crime type,Last outcome category,Context\n")


def write_csr(union, out: Path, seed: int, plant: bool) -> None:
    """Three months of uniformly random offences over `union` (BNG), police.uk street CSVs."""
    import shapely
    from pyproj import Transformer

    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = union.bounds
    t = Transformer.from_crs(27700, 4326, always_xy=True)

    def sample(n):
        xs, ys, have = [], [], 0
        while have < n:
            x = rng.uniform(x0, x1, n * 3)
            y = rng.uniform(y0, y1, n * 3)
            k = shapely.contains_xy(union, x, y)
            xs.append(x[k])
            ys.append(y[k])
            have += int(k.sum())
        return np.concatenate(xs)[:n], np.concatenate(ys)[:n]

    k = 0
    for m in ("2024-01", "2024-02", "2024-03"):
        lines = [HEADER]
        for ctype, n in (("Violence and sexual offences", 3000), ("Burglary", 500)):
            x, y = sample(n)
            if plant and ctype.startswith("Violence"):
                r = 150 * np.sqrt(rng.uniform(0, 1, 20))
                a = rng.uniform(0, 2 * np.pi, 20)
                x = np.r_[x, PLANT[0] + r * np.cos(a)]
                y = np.r_[y, PLANT[1] + r * np.sin(a)]
            lon, lat = t.transform(x, y)
            for lo, la in zip(lon, lat):
                k += 1
                lines.append(f"{k:064x},{m},Test,Test,{lo:.6f},{la:.6f},On or near Street {k % 997},,,{ctype},"
                             "Under investigation,\n")
        (out / m).mkdir(parents=True, exist_ok=True)
        (out / m / f"{m}-null-street.csv").write_text("".join(lines))


def one_run(boundary: Path, union, seed: int, plant: bool) -> tuple[int, bool, float]:
    """(significant localities, planted point covered by a significant locality, seconds)."""
    import polars as pl
    import shapely

    from geodata.study import load_study, spec_from_options
    from hotspot.analysis import analyse, prepare

    with tempfile.TemporaryDirectory() as tmp:
        write_csr(union, Path(tmp), seed, plant)
        t0 = time.perf_counter()
        study = load_study(spec_from_options(crimes=[tmp], areas=str(boundary)))
        a = analyse(prepare(study))
        secs = time.perf_counter() - t0
    sig = a.localities.filter(pl.col("significant"))
    found = False
    if sig.height:
        polys = shapely.from_wkb(sig["geometry_wkb"].to_numpy())
        found = bool(shapely.contains_xy(polys, *PLANT).any())
    return sig.height, found, secs


def clopper_pearson(k: int, n: int) -> tuple[float, float]:
    from scipy.stats import beta

    lo = 0.0 if k == 0 else float(beta.ppf(0.025, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(0.975, k + 1, n - k))
    return lo, hi


def main() -> int:
    import geopandas as gpd
    import shapely

    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--force", default="west-mercia", choices=sorted(BOUNDARIES))
    args = ap.parse_args()
    boundary = REAL / "boundaries" / BOUNDARIES[args.force]
    if not boundary.is_file():
        print(f"real boundaries not found at {boundary}")
        return 0
    union = shapely.union_all(gpd.read_file(boundary).to_crs(27700).geometry.values)
    any_sig, found, secs = 0, 0, []
    for seed in range(args.runs):
        n_sig, _, s = one_run(boundary, union, 1000 + seed, plant=False)
        any_sig += n_sig > 0
        secs.append(s)
        _, hit, s = one_run(boundary, union, 5000 + seed, plant=True)
        found += hit
        secs.append(s)
        print(f"run {seed + 1:>3}: null significant localities {n_sig}; planted cluster found {hit}", flush=True)
    n = args.runs
    lo, hi = clopper_pearson(n - any_sig, n)
    plo, phi = clopper_pearson(found, n)
    print(f"\n{args.force} boundary, {n} null and {n} planted runs (3 months, ~3,000 violence a month, 1% area budget)")
    print(f"null: no locality significant in {n - any_sig}/{n} runs ({(n - any_sig) / n:.0%}; 95% CI {lo:.0%}-{hi:.0%})")
    print(f"planted: cluster found significant in {found}/{n} runs ({found / n:.0%}; 95% CI {plo:.0%}-{phi:.0%})")
    print(f"load + prepare + analyse per run: median {np.median(secs):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
