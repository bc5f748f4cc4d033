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
