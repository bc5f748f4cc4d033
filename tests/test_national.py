"""The SYNTHETIC national police.uk generator (sample_data.national), at a tiny scale."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pytest

from geodata.areas import assign_areas, build_areas
from geodata.ledger import Ledger
from geodata.policeuk import STREET_COLUMNS, read_police_uk
from sample_data import national

KW = dict(years=2, end_year=2022, scale=0.003, seed=11, n_lsoas=700)


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "manifest.json"}


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("nat")
    assert national.main(["--out", str(d), "--years", "2", "--end-year", "2022", "--scale",
                          "0.003", "--seed", "11", "--lsoas", "700"]) == 0
    return d


def test_layout_and_format(out):
    files = sorted((out / "police-uk").rglob("*.csv"))
    assert len(files) == 43 * 24
    months = {f.parent.name for f in files}
    assert months == {f"{y}-{m:02d}" for y in (2021, 2022) for m in range(1, 13)}
    for f in files:
        assert f.name.startswith(f.parent.name + "-") and f.name.endswith("-street.csv")
        head = f.read_bytes().split(b"\r\n", 1)[0].decode()
        assert head == ",".join(STREET_COLUMNS)
    man = json.loads((out / "manifest.json").read_text())
    assert man["synthetic"] is True and len(man["rows_per_force"]) == 43
    assert man["lsoa_vintage_by_year"] == {"2021": "2011", "2022": "2021"}
    assert (out / "study.toml").read_text().count("synthetic = true") == 1
    met, city = man["rows_per_force"]["metropolitan"], man["rows_per_force"]["city-of-london"]
    assert met > 20 * man["rows_per_force"]["cumbria"] and city < met / 50


def test_reads_cleanly_with_both_vintages(out):
    ledger = Ledger()
    df = read_police_uk([out / "police-uk"], ledger)
    (entry,) = ledger.sources
    assert entry.balanced and "malformed row" not in entry.quarantined
    assert set(entry.quarantined) <= {"no coordinates", "duplicate id"}
    assert entry.quarantined["no coordinates"] < 0.05 * entry.read
    assert df["force"].n_unique() == 43
    asb = df.filter(pl.col("crime_type") == "Anti-social behaviour")
    assert asb.height and asb["incident_id"].null_count() == asb.height

    lookup = pl.read_csv(out / "lsoa11_lsoa21_synthetic.csv")
    assert set(lookup["change_code"].unique()) == {"U", "S", "M"}
    codes11, codes21 = set(lookup["lsoa11_code"]), set(lookup["lsoa21_code"])
    given = df.select(pl.col("month").dt.year().alias("y"), "lsoa_given")
    old = set(given.filter(pl.col("y") == 2021)["lsoa_given"].drop_nulls())
    new = set(given.filter(pl.col("y") == 2022)["lsoa_given"].drop_nulls())
    assert old <= codes11 and old - codes21  # 2011 codes, some of them gone by 2021
    assert new <= codes21 and new - codes11  # 2021 codes, some of them new in 2021

    areas = build_areas(out / "lsoa21_ew_synthetic.geojson",
                        [out / "lad_csp_pfa_synthetic.csv", out / "lsoa11_lsoa21_synthetic.csv"])
    assert len(areas.lsoa) == 700 and set(areas.codes) == codes21
    assert areas.hierarchy["force_code"].n_unique() == 43
    assert areas.hierarchy.null_count().sum_horizontal().item() == 0
    placed = assign_areas(df, areas, ledger.sources)
    assert placed.height >= 0.99 * df.height and entry.balanced
    # Rows carry the LSOA their point lies in (2011 codes through the lookup).
    by_code = placed.filter(pl.col("lsoa_given") == pl.col("lsoa_code")).height
    assert by_code > 0.9 * placed.height


def test_deterministic_and_force_subset(out, tmp_path):
    again = tmp_path / "again"
    national.generate(again, **KW)
    assert _digest(again) == _digest(out)
    one = tmp_path / "one"
    national.generate(one, forces=["west-mercia"], **KW)
    mine = {k: v for k, v in _digest(out).items() if "-street.csv" not in k
            or k.endswith("-west-mercia-street.csv")}
    assert _digest(one) == mine


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="unknown force"):
        national.generate(tmp_path, forces=["atlantis"], n_lsoas=600)
    with pytest.raises(SystemExit):
        national.main(["--out", str(tmp_path), "--lsoas", "10"])
    with pytest.raises(SystemExit):  # never into the repository
        national.main(["--out", str(national.HERE / "national-out")])
    assert not (national.HERE / "national-out").exists()
