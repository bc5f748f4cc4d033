"""Risk factors on real data (issue 12, must 5): every West Mercia CSP names only curated factors."""
from __future__ import annotations

import polars as pl
import pytest

from hotspot.risk import factor_catalogue, indicator_label, risk_factors


@pytest.fixture(scope="module")
def wm(real_dir):
    from geodata.study import load_study, spec_from_options
    from hotspot.analysis import prepare

    ind = real_dir / "indicators"
    spec = spec_from_options(
        crimes=[str(real_dir / "police-uk" / "west-mercia")],
        areas=str(real_dir / "boundaries" / "lsoa21_westmercia_bsc.geojson"),
        lookups=[str(real_dir / "lookups" / "lad24_csp24_pfa24_EW.csv"),
                 str(real_dir / "lookups" / "lsoa11_lsoa21_lad22_westmercia_warwickshire.csv")],
        indicators=[str(ind / "imd2025_lsoa21_westmercia_warwickshire.csv"),
                    str(ind / "imd2025_indicators_lsoa21_westmercia_warwickshire.csv"),
                    str(ind / "population_mid2019_lsoa11_agebands_westmercia_warwickshire.csv"),
                    str(real_dir / "lookups" / "ruc21_lsoa21_westmercia_warwickshire.csv")],
    )
    study = load_study(spec)
    return study, prepare(study)


def test_every_csp_names_only_curated_factors(wm):
    study, prep = wm
    df = risk_factors(prep, study.indicators, "csp", areas=study.areas)
    curated = set(factor_catalogue().filter(pl.col("kind") == "risk")["id"])
    assert set(df.filter(pl.col("flagged"))["factor"]) <= curated
    assert df["code"].n_unique() == 5
    # no crime-domain column, count or column of unknown direction is even listed by default
    assert set(df["kind"].drop_nulls()) <= {"risk", "context"}
    assert not df["factor"].str.contains("violence|stalking|public_order|numerator|broadband|crime").any()
    # without a venue file, venue density is not known (the crime labels are not venues)
    v = df.filter(pl.col("factor") == "licensed_venue_density")
    assert v["value"].null_count() == 5 and set(v["reason"]) == {"no_venue_file"}
    # every default factor the files can give is there, with a value for every CSP
    for f in ("imd_income", "imd_employment", "imd_education", "imd_health", "imd_living_environment",
              "idaci_rate", "youth_share", "rural_share"):
        assert df.filter(pl.col("factor") == f)["value"].null_count() == 0, f
    # IDACI comes from its numerator over residents aged 0-15 of another year: flagged estimated
    assert df.filter(pl.col("factor") == "idaci_rate")["estimated"].all()
    # "highest of 5" is no longer enough: a CSP is flagged only half an LSOA-SD from the force
    flagged = df.filter(pl.col("flagged"))
    assert (flagged["std_diff"] >= 0.5).all()
    per_csp = flagged.group_by("code").len()
    assert per_csp.height < 5  # not every CSP has a risk just by being top of five


def test_the_force_row_compares_with_nothing(wm):
    study, prep = wm
    df = risk_factors(prep, study.indicators, "force", areas=study.areas)
    assert not df["flagged"].any() and df["ratio"].null_count() == df.height
    assert not df["text"].drop_nulls().str.contains("force average").any()


def test_every_indicator_column_has_a_human_label(real_dir):
    for name in ("imd2025_lsoa21_westmercia_warwickshire.csv", "imd2025_indicators_lsoa21_westmercia_warwickshire.csv"):
        cols = pl.read_csv(real_dir / "indicators" / name, n_rows=1).columns[1:]
        for c in cols:
            label = indicator_label(c)
            assert label != c.replace("_", " ").capitalize(), c  # never the column name
    assert indicator_label("household_overcrowding_indicator_rooms") == "Household overcrowding (rooms)"
