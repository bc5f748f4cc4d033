"""Gaps are gaps and totals are whole, on real police.uk data (issue 12, musts 1, 2 and 4).

A folder mixing West Mercia's 2024 months with three of them renamed to late 2019 has a gap of
four years: no change, average or trend may span it. The West Mercia force total must match the
raw files' proxy rows, those with no location included.
"""
from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest
from scipy.stats import chi2

PROXY = ["Violence and sexual offences", "Robbery", "Possession of weapons"]


def _load(real_dir, crimes):
    from geodata.study import load_study, spec_from_options

    ind = real_dir / "indicators"
    spec = spec_from_options(
        crimes=[str(crimes)],
        areas=str(real_dir / "boundaries" / "lsoa21_westmercia_bsc.geojson"),
        lookups=[str(real_dir / "lookups" / "lad24_csp24_pfa24_EW.csv"),
                 str(real_dir / "lookups" / "lsoa11_lsoa21_lad22_westmercia_warwickshire.csv")],
        indicators=[str(ind / "population_mid2019_lsoa11_agebands_westmercia_warwickshire.csv")],
    )
    return load_study(spec)


@pytest.fixture(scope="module")
def mixed_dir(mixed_months_dir):
    """2024-01..04 as published, plus 2024-01..03 renamed to 2019-10..12 (file and Month)."""
    return mixed_months_dir


@pytest.fixture(scope="module")
def mixed(real_dir, mixed_dir):
    from hotspot.analysis import prepare
    from hotspot.area_profiles import attach_unplaced

    study = _load(real_dir, mixed_dir)
    prep = prepare(study)
    attach_unplaced(prep, study.ledger)
    return study, prep


GAP = [f"{y}-{m:02d}" for y in range(2020, 2024) for m in range(1, 13)]


def test_ledger_lists_missing_months(mixed):
    study, _ = mixed
    study.ledger.record_months(study.incidents)
    crimes = study.ledger.find("crimes")[0]
    assert crimes.missing_months == GAP
    assert crimes.low_months == []
    d = crimes.to_dict()
    assert d["missing_months"] == GAP and d["months"] == {"first": "2019-10", "last": "2024-04", "with_rows": 7}


def test_no_change_average_or_trend_spans_the_gap(mixed):
    from hotspot.area_profiles import area_monthly, area_profiles, missing_months
    from hotspot.measures import duty_measures

    study, prep = mixed
    assert [f"{m:%Y-%m}" for m in missing_months(prep)] == GAP
    for level in ("force", "csp", "lsoa"):
        df = area_profiles(prep, None, level, indicators=study.indicators)
        # the year to April 2024 needs May 2023 .. April 2024: eight of them are missing
        assert df["latest_12m"].null_count() == df.height
        assert df["change_12m"].null_count() == df.height and df["change_3y"].null_count() == df.height
        assert set(df["change_12m_reason"]) == {"months_missing"}
        assert df["change_12m_missing"][0].to_list() == GAP[-20:]
        assert all(t.startswith("not known: months missing") for t in df["change_12m_text"])
        assert set(df["trend_reason"]) == {"months_missing"} and df["trend_p"].null_count() == df.height
        # the monthly average is over the 7 covered months, never the 55 of the span
        assert (df["months"][0], df["months_covered"][0]) == (55, 7)
        assert np.allclose(df["per_month"].to_numpy(), df["n"].to_numpy() / 7)
        assert df["n_covered_only"].all()
    force = area_profiles(prep, None, "force", indicators=study.indicators).row(0, named=True)
    # 2019-10..12 are copies of 2024-01..03, so the window holds 2024 twice less April
    raw = sum(pl.read_csv(f, infer_schema_length=0).filter(pl.col("Crime type").is_in(PROXY)).height
              for f in sorted(mixed[0].spec.crimes[0].glob("*.csv")))
    assert force["n"] == raw
    monthly = area_monthly(prep, None, "csp")
    gap = monthly.filter(pl.col("month") == date(2021, 6, 1))
    assert gap["month_missing"].all() and gap["n"].null_count() == gap.height  # a gap, not a 0
    assert monthly.filter(~pl.col("month_missing"))["n"].null_count() == 0
    m = duty_measures(prep, study.ae, None, "csp", indicators=study.indicators)
    assert m["change_12m"].null_count() == m.height


def test_a_short_window_after_the_gap_is_whole(mixed):
    """Filtering to 2024 leaves the gap behind: the window's figures are all known."""
    from hotspot.analysis import Filters
    from hotspot.area_profiles import area_profiles

    study, prep = mixed
    df = area_profiles(prep, Filters(start=date(2024, 1, 1)), "csp", indicators=study.indicators)
    assert not df["n_covered_only"].any() and (df["months_covered"] == 4).all()
    assert df["trend_reason"].null_count() == df.height  # the trend test runs on 4 whole months


@pytest.fixture(scope="module")
def west_mercia(real_dir):
    from hotspot.analysis import prepare
    from hotspot.area_profiles import attach_unplaced

    study = _load(real_dir, real_dir / "police-uk" / "west-mercia")
    prep = prepare(study)
    attach_unplaced(prep, study.ledger)
    return study, prep


def test_force_total_includes_rows_without_a_location(real_dir, west_mercia):
    from hotspot.area_profiles import area_monthly, area_profiles

    study, prep = west_mercia
    files = sorted((real_dir / "police-uk" / "west-mercia").glob("*.csv"))
    raw = pl.concat([pl.read_csv(f, infer_schema_length=0) for f in files]).filter(pl.col("Crime type").is_in(PROXY))
    no_loc = raw.filter(pl.col("Longitude").is_null()).height
    assert raw.height == 13_136 and no_loc == 466  # the figures
    force = area_profiles(prep, None, "force", indicators=study.indicators).row(0, named=True)
    assert force["n"] == raw.height
    # what the force cannot place: rows with no location, and rows located outside its LSOAs
    assert force["unplaced_n"] >= no_loc
    csp = area_profiles(prep, None, "csp", indicators=study.indicators)
    assert int(csp["n"].sum()) + csp["unplaced_n"][0] == raw.height  # CSPs + unplaced = the whole
    assert csp["unplaced_share"][0] == pytest.approx(csp["unplaced_n"][0] / raw.height)
    from hotspot.measures import duty_measures

    m = duty_measures(prep, study.ae, None, "force", indicators=study.indicators)
    assert m.filter(pl.col("measure") == "serious_violence")["n"][0] == raw.height
    weapons = raw.filter(pl.col("Crime type") == "Possession of weapons").height
    assert m.filter(pl.col("measure") == "weapon_possession")["n"][0] == weapons
    monthly = area_monthly(prep, None, "force")
    by_month = raw.group_by("Month").len().sort("Month")
    assert monthly.sort("month")["n"].to_list() == by_month["len"].to_list()
    assert int(monthly["unplaced_n"].sum()) == force["unplaced_n"]


def test_rates_carry_intervals_and_compare_with_the_force(west_mercia):
    from hotspot.area_profiles import area_profiles, population_provenance

    study, prep = west_mercia
    csp = area_profiles(prep, None, "csp", indicators=study.indicators)
    r = csp.row(0, named=True)
    o, pop = r["n"], r["population"]
    # Byar's approximation (o >= 10), by hand
    lo = o * (1 - 1 / (9 * o) - 1.959963984540054 / (3 * np.sqrt(o))) ** 3 / pop * 1000
    hi = (o + 1) * (1 - 1 / (9 * (o + 1)) + 1.959963984540054 / (3 * np.sqrt(o + 1))) ** 3 / pop * 1000
    assert (r["rate_per_1000_lower"], r["rate_per_1000_upper"]) == pytest.approx((lo, hi))
    assert set(csp["rate_vs_force"]) <= {"higher", "lower", "similar"}
    fr = csp["force_rate_per_1000"][0]
    for row in csp.iter_rows(named=True):
        want = ("higher" if row["rate_per_1000_lower"] > fr else "lower" if row["rate_per_1000_upper"] < fr
                else "similar")
        assert row["rate_vs_force"] == want
    force = area_profiles(prep, None, "force", indicators=study.indicators).row(0, named=True)
    assert force["rate_vs_force"] is None and force["rate_vs_force_reason"] == "is_force"
    lsoa = area_profiles(prep, None, "lsoa", indicators=study.indicators)
    # small counts use exact Poisson limits
    small = lsoa.filter((pl.col("n") == 3) & pl.col("population").is_not_null()).row(0, named=True)
    assert small["rate_per_1000_upper"] == pytest.approx(chi2.ppf(0.975, 8) / 2 / small["population"] * 1000)
    prov = population_provenance(study, "total_population")
    assert prov["year"] == 2019 and prov["converted"] and prov["estimated"]
    # 2011 areas split equally over their 2021 parts give fractional people: flagged as estimated
    assert csp.filter(pl.col("population") % 1 != 0).height == 0 or csp["population_estimated"].any()
    assert lsoa.filter(pl.col("population") % 1 != 0)["population_estimated"].all()
