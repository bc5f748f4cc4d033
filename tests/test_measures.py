"""The Serious Violence Duty's measures per area: hand-made study, the sample's calibration, real data."""
from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest
from scipy.stats import binomtest, chi2

from hotspot.analysis import Filters
from hotspot.measures import MEASURES, duty_measures
from test_area_profiles import CODES, POPULATION, incident, toy_prep, toy_study


def ae_row(lsoa: str | None, when: datetime, method: str) -> dict:
    return {"source_file": "ae.csv", "source_row": None, "attendance_id": None, "site_code": "RXX01",
            "arrival_dt": when, "assault_dt": when, "month": date(when.year, when.month, 1),
            "assault_method": method, "location_type": None, "location_desc": None, "age": 20,
            "venue_id": None, "easting": None, "northing": None, "lsoa_code": lsoa}


def measure_rows() -> list[dict]:
    rows = [
        # North 2022: two knife GBHs
        incident("E01000001", datetime(2022, 1, 5, 20), knife=True, victim_age=30, suspect_age=30),
        incident("E01000002", datetime(2022, 6, 5, 20), knife=True, victim_age=30, suspect_age=30),
        # North 2023: three knife GBHs (one youth), a knife possession, one with the marker not known
        incident("E01000001", datetime(2023, 2, 5, 20), knife=True, victim_age=16, suspect_age=17),
        incident("E01000001", datetime(2023, 3, 5, 20), knife=True, victim_age=30, suspect_age=30),
        incident("E01000002", datetime(2023, 4, 5, 20), knife=True, victim_age=30, suspect_age=30),
        incident("E01000002", datetime(2023, 5, 5, 20), "10D", knife=True, suspect_age=30,
                 offence_desc="Possession of article with blade or point"),
        incident("E01000002", datetime(2023, 6, 5, 20), knife=None, victim_age=30, suspect_age=30),
        # South: a manslaughter in 2022; a murder and an attempted murder in 2023
        incident("E01000003", datetime(2022, 3, 5, 2), "4/1"),
        incident("E01000003", datetime(2023, 7, 5, 2), "1"),
        incident("E01000004", datetime(2023, 12, 5, 2), "2"),
    ]
    # a shoplifting every month, so no month of 2022-2023 is a gap in the data (missing months
    # are null, never 0: see test_area_profiles.test_missing_months_are_gaps)
    rows += [incident("E01000003", datetime(y, m, 15, 12), "46") for y in (2022, 2023) for m in range(1, 13)]
    return rows


AE = [
    ae_row("E01000001", datetime(2023, 2, 5, 21), "sharp_object"),
    ae_row("E01000002", datetime(2023, 8, 5, 21), "sharp_object"),
    ae_row(None, datetime(2023, 9, 5, 21), "sharp_object"),
    ae_row("E01000003", datetime(2023, 9, 5, 21), "body_part"),
    ae_row("E01000003", datetime(2022, 9, 5, 21), "body_part"),
]


@pytest.fixture(scope="module")
def study():
    return toy_study(measure_rows(), indicators=POPULATION, ae=AE)


@pytest.fixture(scope="module")
def prep(study):
    return toy_prep(study)


def _m(df: pl.DataFrame, code: str, measure: str) -> dict:
    return df.filter((pl.col("code") == code) & (pl.col("measure") == measure)).row(0, named=True)


def test_knife_crime_counts_rates_and_change(prep, study):
    notes: list[str] = []
    df = duty_measures(prep, study.ae, Filters(), "csp", indicators=study.indicators, notes=notes)
    assert df.height == 2 * len(MEASURES)
    k = _m(df, "E22000001", "knife_crime")
    assert k["duty"] and k["available"] and k["reason"] is None
    assert (k["latest_12m"], k["previous_12m"]) == (4, 2)  # possession counts; the unknown marker does not
    assert k["change_12m"] is None and k["change_12m_small_base"]  # no percentage on a base of 2
    assert k["change_12m_p"] == pytest.approx(binomtest(4, 6, 0.5).pvalue)
    lo, hi = (chi2.ppf(0.025, 8) / 2, chi2.ppf(0.975, 10) / 2)  # exact Poisson limits for 4
    assert (k["rate_per_100k_year_lower"], k["rate_per_100k_year_upper"]) == pytest.approx(
        (lo / 2200 * 100_000, hi / 2200 * 100_000))
    assert k["change_12m_text"] == "rose from 2 to 4 in the year to 31 December 2023"  # too few for a percentage
    assert k["change_3y_text"].startswith("not available: needs 36 months")
    assert k["rate_per_100k_year"] == pytest.approx(4 / 2200 * 100_000)
    assert "not known for 1 of" in k["note"]
    assert _m(df, "E22000001", "knife_crime_youth")["latest_12m"] == 1
    assert _m(df, "E22000001", "weapon_possession")["latest_12m"] == 1
    assert _m(df, "E22000002", "knife_crime")["n"] == 0


def test_homicide_leaves_out_attempted_murder(prep, study):
    df = duty_measures(prep, study.ae, Filters(), "csp")
    h = _m(df, "E22000002", "homicide")
    assert (h["latest_12m"], h["previous_12m"]) == (1, 1)
    assert h["change_12m_text"] == "was unchanged at 1 in the year to 31 December 2023"
    assert _m(df, "E22000002", "serious_violence")["latest_12m"] == 2  # the murder and the attempt


def test_ae_sharp_object_attendances(prep, study):
    csp = duty_measures(prep, study.ae, Filters(), "csp")
    a = _m(csp, "E22000001", "ae_knife_assault")
    assert a["latest_12m"] == 2 and "1 of 3 attendances have no location" in a["note"]
    assert _m(csp, "E22000002", "ae_knife_assault")["latest_12m"] == 0
    assert _m(csp, "E22000002", "ae_assault")["n"] == 2
    force = duty_measures(prep, study.ae, Filters(), "force")
    f = force.filter(pl.col("measure") == "ae_knife_assault").row(0, named=True)
    assert f["latest_12m"] == 3 and f["note"] is None  # the unlocated one counts in the force total


def test_missing_source_says_not_available(prep):
    df = duty_measures(prep, None, Filters(), "csp")
    a = _m(df, "E22000001", "ae_knife_assault")
    assert a["available"] is False and a["n"] is None
    assert a["reason"] == "not available: no A&E source"
    assert a["change_12m_text"] == "not available: no A&E source"


def test_filters_window_and_areas(prep, study):
    df = duty_measures(prep, study.ae, Filters(start=date(2023, 1, 1), areas=("E01000001",)), "csp")
    k = _m(df, "E22000001", "knife_crime")
    assert k["n"] == 2 and k["previous_12m"] == 1 and k["months"] == 12


def test_police_uk_only():
    rows = [incident(c, datetime(2024, 1, 1), source="police.uk") for c in CODES]
    rows.append(incident("E01000001", datetime(2024, 2, 1), source="police.uk", crime_type="Possession of weapons"))
    prep = toy_prep(toy_study(rows))
    df = duty_measures(prep, None, Filters(), "csp")
    h = _m(df, "E22000001", "homicide")
    assert not h["available"] and "police.uk data has no offence codes" in h["reason"]
    k = _m(df, "E22000001", "knife_crime")
    assert not k["available"] and "knife or sharp-instrument marker" in k["reason"]
    w = _m(df, "E22000001", "weapon_possession")
    assert w["available"] and w["n"] == 1


def test_real_west_mercia_measures(west_mercia_prep, west_mercia_study):
    df = duty_measures(west_mercia_prep, west_mercia_study.ae, Filters(), "csp")
    assert df.filter(pl.col("measure").is_in(["homicide", "knife_crime", "ae_knife_assault"]))["available"].sum() == 0
    w = df.filter(pl.col("measure") == "weapon_possession")
    assert w["available"].all() and w["n"].sum() > 100


# --------------------------------------------------------------------------------------------
# The sample study against its calibration (sample_data/README.md)
# --------------------------------------------------------------------------------------------

KNIFE_YEARS = (580, 590, 597)  # 2021/22, 2022/23, 2023/24
KNIFE_SPLIT = {"North Worcestershire": 0.25, "South Worcestershire": 0.23, "Telford and Wrekin": 0.22,
               "Shropshire": 0.19, "Herefordshire": 0.11}


def test_sample_knife_crime_matches_calibration(sample_prep, sample_study):
    df = duty_measures(sample_prep, sample_study.ae, Filters(end=date(2024, 3, 1)), "csp",
                       indicators=sample_study.indicators)
    k = df.filter(pl.col("measure") == "knife_crime")
    totals = (k["base_3y_12m"].sum(), k["previous_12m"].sum(), k["latest_12m"].sum())
    for got, want in zip(totals, KNIFE_YEARS):
        assert got == pytest.approx(want, rel=0.02)
    two_years = k.with_columns((pl.col("base_3y_12m") + pl.col("previous_12m")).alias("y12"))
    shares = dict(zip(two_years["name"], two_years["y12"] / two_years["y12"].sum()))
    for name, want in KNIFE_SPLIT.items():
        assert shares[name] == pytest.approx(want, abs=0.015), name
    force = duty_measures(sample_prep, sample_study.ae, Filters(end=date(2024, 3, 1)), "force")
    h = force.filter(pl.col("measure") == "homicide").row(0, named=True)
    assert (h["base_3y_12m"], h["previous_12m"], h["latest_12m"]) == (5, 6, 4)
    a = force.filter(pl.col("measure") == "ae_knife_assault").row(0, named=True)
    assert a["available"] and 0.08 < a["n"] / sample_study.ae.height < 0.16
