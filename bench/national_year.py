"""Make a national-size police.uk year by resampling the real files: 12 monthly street CSVs.

    python bench/national_year.py --out /tmp/natyear [--rows 500000] [--months 12] [--seed 1]

Rows are drawn with replacement from every street CSV under ../shared/real/police-uk (read as
text, so each value is written back exactly as police.uk wrote it); each month's file gets that
month in `Month` and fresh 64-character hex Crime IDs, except anti-social behaviour rows, which
keep an empty Crime ID as in real files. The output goes to the folder named (under /tmp), never
into the repository. Exits with a message when the real files are absent.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "real" / "police-uk"


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_HEX = np.stack([_HEX[np.arange(256) >> 4], _HEX[np.arange(256) & 15]], axis=1)


def pool() -> pl.DataFrame:
    files = sorted(REAL.rglob("*-street.csv"))
    if not files:
        sys.exit(f"no real police.uk files under {REAL}")
    return pl.concat([pl.read_csv(f, infer_schema=False) for f in files], how="vertical")


def make(out: Path, rows: int, months: int, seed: int, year: int = 2024) -> list[Path]:
    src = pool()
    rng = np.random.default_rng(seed)
    written = []
    for i in range(months):
        month = f"{year + i // 12}-{i % 12 + 1:02d}"
        idx = rng.integers(0, src.height, rows)
        ids = np.frombuffer(rng.bytes(32 * rows), dtype=np.uint8).reshape(rows, 32)
        df = src[idx]
        hx = pl.Series(_HEX[ids].reshape(rows, 64).view("S64").ravel()).cast(pl.Utf8)
        asb = df["Crime type"] == "Anti-social behaviour"
        df = df.with_columns(
            pl.when(asb).then(pl.lit(None, dtype=pl.Utf8)).otherwise(hx).alias("Crime ID"),
            pl.lit(month).alias("Month"),
        )
        path = out / month / f"{month}-national-street.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        df.write_csv(path, null_value="")
        written.append(path)
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--rows", type=int, default=500_000)
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    for p in make(a.out, a.rows, a.months, a.seed):
        print(p)


if __name__ == "__main__":
    main()
