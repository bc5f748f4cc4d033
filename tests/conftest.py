"""Shared fixtures: the real public data folder (skipped when absent) and the sample study."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "real"
SAMPLE = REPO / "sample_data" / "study" / "study.toml"


@pytest.fixture(scope="session")
def real_dir() -> Path:
    if not REAL.is_dir():
        pytest.skip(f"real public data not found at {REAL} (it lives in ../shared/real beside the repo)")
    return REAL


@pytest.fixture(scope="session")
def mixed_months_dir(real_dir, tmp_path_factory):
    """West Mercia 2024-01..04 as published, plus 2024-01..03 renamed to 2019-10..12 (file and
    Month): a folder whose span holds years of missing months."""
    import polars as pl

    src = real_dir / "police-uk" / "west-mercia"
    dst = tmp_path_factory.mktemp("mixed") / "west-mercia"
    dst.mkdir()
    for f in sorted(src.glob("*.csv")):
        (dst / f.name).write_bytes(f.read_bytes())
    for old, new in (("2024-01", "2019-10"), ("2024-02", "2019-11"), ("2024-03", "2019-12")):
        df = pl.read_csv(src / f"{old}-west-mercia-street.csv", infer_schema_length=0)
        df.with_columns(pl.lit(new).alias("Month")).write_csv(dst / f"{new}-west-mercia-street.csv")
    return dst


@pytest.fixture(scope="session")
def west_mercia_study(real_dir):
    from geodata.study import load_study, spec_from_options

    spec = spec_from_options(
        crimes=[str(real_dir / "police-uk" / "west-mercia")],
        areas=str(real_dir / "boundaries" / "lsoa21_westmercia_bsc.geojson"),
        lookups=[str(real_dir / "lookups" / "lad24_csp24_pfa24_EW.csv")],
    )
    return load_study(spec)


@pytest.fixture(scope="session")
def west_mercia_prep(west_mercia_study):
    from hotspot.analysis import prepare

    return prepare(west_mercia_study)


@pytest.fixture(scope="session")
def sample_study():
    if not SAMPLE.exists():
        pytest.skip("sample study not generated yet (python -m sample_data.generate)")
    from geodata.study import load_study, sample_spec

    return load_study(sample_spec())


@pytest.fixture(scope="session")
def sample_prep(sample_study):
    from hotspot.analysis import prepare

    return prepare(sample_study)


@pytest.fixture(scope="session")
def sample_analysis(sample_prep):
    from hotspot.analysis import analyse

    return analyse(sample_prep)


@pytest.fixture(scope="session")
def sample_session(sample_study, sample_prep):
    """One hotspot.session.Session on the sample study for the whole run: CLI and workbench
    tests share its cache, so the sample is loaded, prepared and analysed once, not per test."""
    from hotspot.session import Session

    return Session(sample_study, prep=sample_prep)


@pytest.fixture(scope="session")
def sample_results(sample_session):
    """The sample session's Results for no filters (its analysis computed)."""
    res = sample_session.results()
    res.run()
    return res
