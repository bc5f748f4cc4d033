"""The SYNTHETIC force-scale generator: deterministic, police.uk format, every row accounted for."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from geodata.ledger import Ledger
from geodata.policeuk import STREET_COLUMNS, read_police_uk
from sample_data import forcescale

ROWS, POINTS, SEED = 4_000, 5_000, 7


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("forcescale")
    summary = forcescale.generate(out, rows=ROWS, seed=SEED, points=POINTS)
    return out, summary


def test_same_seed_same_bytes_other_seed_differs(generated, tmp_path):
    out, _ = generated
    forcescale.generate(tmp_path / "again", rows=ROWS, seed=SEED, points=POINTS)
    forcescale.generate(tmp_path / "other", rows=ROWS, seed=SEED + 1, points=POINTS)
    first, again, other = _files(out), _files(tmp_path / "again"), _files(tmp_path / "other")
    assert first == again
    assert set(first) == set(other)
    street = [k for k in first if k.endswith("-street.csv")]
    assert any(first[k] != other[k] for k in street)


def test_archive_layout_and_header(generated):
    out, summary = generated
    files = sorted((out / forcescale.CRIMES_DIR).rglob("*.csv"))
    assert len(files) == forcescale.N_MONTHS == summary["files"]
    for f in files:
        month = f.parent.name
        assert f.name == f"{month}-{forcescale.FORCE_SLUG}-street.csv"
        assert f.read_text(encoding="utf-8").split("\n", 1)[0] == ",".join(STREET_COLUMNS)
    assert (out / "README.txt").read_text().startswith("SYNTHETIC")


def test_read_police_uk_accounts_for_every_row(generated):
    out, summary = generated
    ledger = Ledger()
    df = read_police_uk([out / forcescale.CRIMES_DIR], ledger)
    (entry,) = ledger.sources
    assert entry.read == ROWS == summary["rows"]
    assert entry.balanced
    assert entry.to_dict()["quarantined"] == {"no coordinates": summary["no_location"]}
    assert df.height == entry.accepted == ROWS - summary["no_location"]
    assert set(df["crime_type"].unique()) == set(forcescale.TYPE_NAMES)
    assert df["month"].n_unique() == forcescale.N_MONTHS
    asb = df["crime_type"] == "Anti-social behaviour"
    assert df.filter(asb)["incident_id"].null_count() == int(asb.sum())
    assert df.filter(~asb)["incident_id"].null_count() == 0
    assert df["lsoa_given"].null_count() == 0


def test_study_loads_and_assigns_areas(generated):
    from geodata.areas import point_in_lsoa
    from geodata.study import load_spec, load_study

    out, summary = generated
    study = load_study(load_spec(out / "study.toml"))
    assert study.synthetic
    (entry,) = [e for e in study.ledger.sources if e.kind == "crimes"]
    assert entry.read == ROWS and entry.balanced
    assert entry.to_dict()["quarantined"] == {
        "no coordinates": summary["no_location"],
        "outside the study area": summary["outside"],
    }
    inc = study.incidents
    assert inc.height == ROWS - summary["no_location"] - summary["outside"]
    assert inc["lsoa_code"].is_in(study.areas.codes.implode()).all()
    assert (inc["lsoa_code"] == inc["lsoa_given"]).all()
    # The Voronoi polygons agree with the codes written in the files.
    hit = point_in_lsoa(study.areas, inc["easting"].to_numpy(), inc["northing"].to_numpy())
    codes = np.asarray(study.areas.codes.to_list())[hit]
    assert (hit >= 0).all() and np.mean(codes == inc["lsoa_code"].to_numpy()) > 0.995
    h = study.areas.hierarchy
    for level in ("ward", "district", "csp", "force"):
        assert h[f"{level}_code"].null_count() == 0, level
    assert h["csp_code"].n_unique() == len(forcescale.CSPS)
    assert h["district_code"].n_unique() == len(forcescale.DISTRICTS)


def test_crime_concentrates_on_few_map_points(generated):
    out, _ = generated
    frame = pl.concat([pl.read_csv(p, infer_schema=False)
                       for p in sorted((out / forcescale.CRIMES_DIR).rglob("*.csv"))])
    used, share = forcescale.concentration(frame)
    assert used > 0 and share < 0.5  # half the located crime sits on well under half the points used
