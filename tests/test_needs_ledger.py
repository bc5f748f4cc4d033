"""The ledger lists missing and low-volume months per source, and `svtui check` shows them."""
from __future__ import annotations

import json
import subprocess
import sys

import polars as pl

from geodata.ledger import Ledger, SourceLedger
from conftest import REPO


def _ledger(months: dict[str, int], quarantined: dict[str, int] | None = None) -> Ledger:
    entry = SourceLedger("crimes", "/data/force")
    rows = [{"source_file": "/data/force/x.csv", "month": pl.Series([f"{m}-01"]).str.to_date()[0]}
            for m, n in months.items() for _ in range(n)]
    inc = pl.DataFrame(rows, schema={"source_file": pl.Utf8, "month": pl.Date})
    entry.read = entry.accepted = inc.height
    if quarantined:
        q = pl.DataFrame({"Month": [m for m, n in quarantined.items() for _ in range(n)]})
        entry.read += q.height
        entry.quarantine(q, "no coordinates")
    ledger = Ledger()
    ledger.add(entry)
    ledger.record_months(inc)
    return ledger


def test_missing_and_low_months():
    led = _ledger({"2023-01": 100, "2023-02": 120, "2023-04": 5, "2023-05": 110, "2023-07": 90},
                  quarantined={"2023-06": 3})
    s = led.sources[0]
    # June holds only rows without a location: recorded crime all the same, so not missing
    assert s.missing_months == ["2023-03"]
    assert s.low_months == ["2023-04", "2023-06"]  # under 10% of the median month (100)
    d = led.to_dict()["sources"][0]
    assert d["missing_months"] == ["2023-03"] and d["low_months"] == ["2023-04", "2023-06"]
    assert d["months"] == {"first": "2023-01", "last": "2023-07", "with_rows": 6}


def test_a_source_without_months_says_so():
    entry = SourceLedger("indicators", "/data/imd.csv")
    assert entry.to_dict()["missing_months"] is None and entry.missing_months == []


def test_check_lists_missing_months(real_dir, tmp_path):
    src = real_dir / "police-uk" / "west-mercia"
    for f in src.glob("*.csv"):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    df = pl.read_csv(src / "2024-01-west-mercia-street.csv", infer_schema_length=0)
    df.with_columns(pl.lit("2023-09").alias("Month")).write_csv(tmp_path / "2023-09-west-mercia-street.csv")
    gap = ["2023-10", "2023-11", "2023-12"]
    r = subprocess.run([sys.executable, "-m", "svtui", "check", "--crimes", str(tmp_path), "--json"],
                       capture_output=True, text=True, cwd=REPO, timeout=300)
    assert r.returncode == 0, r.stderr
    src_d = json.loads(r.stdout)["sources"][0]
    assert src_d["missing_months"] == gap and src_d["low_months"] == []
    r = subprocess.run([sys.executable, "-m", "svtui", "check", "--crimes", str(tmp_path)],
                       capture_output=True, text=True, cwd=REPO, timeout=300)
    assert "missing months (no rows): " + ", ".join(gap) in r.stdout
