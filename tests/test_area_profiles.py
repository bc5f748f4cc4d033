"""Area profiles: counts, rates, change in the needs assessment's terms, shares, categories.

The toy study here (four 1 km LSOAs in two CSPs) is also used by test_measures, test_risk and
test_coverage; every expected number below was worked out by hand from the rows it builds.
"""
from __future__ import annotations

from datetime import date, datetime

import geopandas as gpd
import numpy as np
import polars as pl
import pytest
from scipy.stats import binomtest
import shapely

from geodata.areas import Areas
from geodata.ledger import Ledger
from geodata.schema import AE_SCHEMA, INCIDENT_SCHEMA, VENUE_SCHEMA
from geodata.study import Study, StudySpec
from hotspot.analysis import Filters, Params, prepare
from hotspot.area_profiles import (
    area_categories,
    area_monthly,
    area_profiles,
    area_table,
    study_months,
)

X0, Y0 = 400_000.0, 300_000.0
FORCE = ("E23000001", "Toy Police")
# code, name, column, row, ward code/name, district code/name, CSP code/name
LSOAS = [
    ("E01000001", "Toy 001A", 0, 0, "E05000001", "North Ward", "E06000001", "Northby", "E22000001", "North CSP"),
    ("E01000002", "Toy 001B", 1, 0, "E05000001", "North Ward", "E06000001", "Northby", "E22000001", "North CSP"),
    ("E01000003", "Toy 002A", 0, 1, "E05000002", "South Ward", "E06000002", "Southby", "E22000002", "South CSP"),
    ("E01000004", "Toy 002B", 1, 1, "E05000002", "South Ward", "E06000002", "Southby", "E22000002", "South CSP"),
]
CODES = [r[0] for r in LSOAS]


def centre(code: str) -> tuple[float, float]:
    row = next(r for r in LSOAS if r[0] == code)
    return X0 + row[2] * 1000 + 500, Y0 + row[3] * 1000 + 500


def toy_areas() -> Areas:
    polys = [shapely.box(X0 + r[2] * 1000, Y0 + r[3] * 1000, X0 + (r[2] + 1) * 1000, Y0 + (r[3] + 1) * 1000)
             for r in LSOAS]
    lsoa = gpd.GeoDataFrame({"lsoa_code": CODES}, geometry=polys, crs="EPSG:27700")
    cols = ["lsoa_code", "lsoa_name", "ward_code", "ward_name", "district_code", "district_name", "csp_code", "csp_name"]
    h = pl.DataFrame([[r[0], r[1], *r[4:]] for r in LSOAS], schema=cols, orient="row").with_columns(
        pl.lit(FORCE[0]).alias("force_code"), pl.lit(FORCE[1]).alias("force_name"))
    return Areas(lsoa=lsoa, hierarchy=h)


def incident(lsoa: str, when: datetime, offence: str = "5D", *, dx: float = 0.0, dy: float = 0.0,
             source: str = "records", **fields) -> dict:
    """One canonical incident row at (LSOA centre + dx, dy)."""
    x, y = centre(lsoa)
    row = {c: None for c in INCIDENT_SCHEMA}
    row.update(
        source=source, source_file="toy.csv", incident_id=None, force=FORCE[1],
        month=date(when.year, when.month, 1), from_dt=when if source == "records" else None,
        easting=x + dx, northing=y + dy, lsoa_code=lsoa, lsoa_given=lsoa,
        offence_code=offence if source == "records" else None,
        location_type="street" if source == "records" else None,
        crime_type=None if source == "records" else "Violence and sexual offences",
    )
    if source == "records":
        row.update({m: False for m in ("domestic_abuse", "hate_crime", "knife", "firearm", "corrosive",
                                       "county_lines", "alcohol")})
    row.update(fields)
    return row


def frame(rows: list[dict], schema: dict) -> pl.DataFrame:
    df = pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)
    if "source_row" in df.columns:
        df = df.with_columns(pl.int_range(1, pl.len() + 1).cast(pl.Int64).alias("source_row"))
    if "incident_id" in df.columns:
        df = df.with_columns(pl.format("T{}", pl.col("source_row")).alias("incident_id"))
    return df


def venue(name: str, x: float, y: float, type_: str = "pub", licensed: bool = True) -> dict:
    return {"venue_id": name.lower().replace(" ", "-"), "name": name, "type": type_, "licensed": licensed,
            "easting": x, "northing": y, "hours": None, "origin": "file"}


def toy_study(rows: list[dict], *, venues: list[dict] | None = None, indicators: pl.DataFrame | None = None,
              ae: list[dict] | None = None, interventions: list | None = None, definition: str | None = None) -> Study:
    spec = StudySpec(name="Toy study", definition=definition)
    return Study(
        spec=spec,
        incidents=frame(rows, INCIDENT_SCHEMA),
        ae=frame(ae or [], AE_SCHEMA),
        venues=frame(venues or [], VENUE_SCHEMA),
        areas=toy_areas(),
        indicators=indicators if indicators is not None else pl.DataFrame(schema={"lsoa_code": pl.Utf8}),
        interventions=interventions or [],
        ledger=Ledger(),
    )


def toy_prep(study: Study):
    return prepare(study, params=Params(cell_size=100.0))


POPULATION = pl.DataFrame({"lsoa_code": CODES, "total_population": [1000, 1200, 800, 1000]})


# --------------------------------------------------------------------------------------------
# The trend study: North has 20, 10 and 11 serious incidents in 2021, 2022 and 2023; South 5 each.
# --------------------------------------------------------------------------------------------


def trend_rows() -> list[dict]:
    rows = []
    for i in range(20):  # North 2021, months Jan..Dec then Jan..Aug
        rows.append(incident("E01000002", datetime(2021, i % 12 + 1, 10, 14)))
    for i in range(10):  # North 2022, Jan..Oct
        rows.append(incident("E01000002", datetime(2022, i + 1, 10, 14)))
    # North 2023: 11 incidents. 3 at the Anchor at 23:00 (night-time economy), 8 by day in E01000002.
    for i in range(3):
        rows.append(incident("E01000001", datetime(2023, i + 1, 6, 23), domestic_abuse=None if i == 0 else False,
                             victim_age=16, suspect_age=17, location_type="street"))
    shapes = [  # (domestic abuse, knife, victim age, location type, offence)
        (True, True, 16, "dwelling", "5D"), (True, True, 40, "dwelling", "5D"), (True, False, 40, "street", "5D"),
        (False, False, 19, "street", "5D"), (False, False, 40, "street", "5D"), (False, False, 40, "street", "19C"),
        (False, False, 40, "street", "5D"), (None, False, 40, "street", "5D"),
    ]
    for i, (da, knife, age, lt, off) in enumerate(shapes):
        rows.append(incident("E01000002", datetime(2023, i + 4, 10, 14), off, domestic_abuse=da, knife=knife,
                             victim_age=age, suspect_age=40 if age == 40 else age, location_type=lt))
    for year in (2021, 2022, 2023):  # South: 5 a year, Aug..Dec
        for m in range(8, 13):
            rows.append(incident("E01000004", datetime(year, m, 20, 14)))
    rows.append(incident("E01000004", datetime(2031, 9, 1, 2)))  # a mistyped year: left out of trends
    return rows


@pytest.fixture(scope="module")
def trend_study():
    anchor = centre("E01000001")
    return toy_study(trend_rows(), venues=[venue("The Anchor", *anchor)], indicators=POPULATION)


@pytest.fixture(scope="module")
def trend_prep(trend_study):
    return toy_prep(trend_study)


def _row(df: pl.DataFrame, code: str) -> dict:
    return df.filter(pl.col("code") == code).row(0, named=True)


def test_study_months_leave_out_stray_dates(trend_prep):
    months, notes = study_months(trend_prep)
    assert months[0] == date(2021, 1, 1) and months[-1] == date(2023, 12, 1) and len(months) == 36
    assert any("2031-09" in n for n in notes)


def test_change_of_exactly_ten_percent(trend_prep, trend_study):
    notes: list[str] = []
    df = area_profiles(trend_prep, Filters(), "csp", indicators=trend_study.indicators, notes=notes)
    north = _row(df, "E22000001")
    assert (north["n"], north["latest_12m"], north["previous_12m"], north["base_3y_12m"]) == (41, 11, 10, 20)
    assert north["change_12m"] == pytest.approx(0.10)
    # 11 against 10 is no evidence of change: exact conditional test = binomial(11 of 21, 1/2)
    assert north["change_12m_p"] == pytest.approx(binomtest(11, 21, 0.5).pvalue)
    assert north["change_12m_significant"] is False
    assert north["change_12m_text"] == ("showed no significant change in the year to 31 December 2023 "
                                        "(11, against 10 the year before)")
    assert north["change_3y"] == pytest.approx(-0.45)
    assert north["change_3y_p"] == pytest.approx(binomtest(11, 31, 0.5).pvalue)
    assert north["change_3y_text"] == ("showed no significant change over the three years to 31 December 2023 "
                                       "(11, against 20 in the year to 31 December 2021)")
    assert north["per_month"] == pytest.approx(41 / 36)
    assert north["population"] == 2200
    assert north["rate_per_1000_year"] == pytest.approx(11 / 2200 * 1000)
    south = _row(df, "E22000002")
    assert south["change_12m_text"] == "was unchanged at 5 in the year to 31 December 2023"  # small counts in words
    assert south["change_3y_text"] == "was unchanged at 5 over the three years to 31 December 2023"
    assert north["name"] == "North CSP" and north["force_code"] == FORCE[0] and north["level"] == "csp"
    assert any("outside the study's span" in n for n in notes)


def test_change_looks_back_past_the_filter_start(trend_prep):
    df = area_profiles(trend_prep, Filters(start=date(2023, 1, 1)), "csp")
    north = _row(df, "E22000001")
    assert north["n"] == 11 and north["months"] == 12
    assert north["change_12m"] == pytest.approx(0.10)


def test_change_not_available_without_enough_months(trend_prep):
    df = area_profiles(trend_prep, Filters(end=date(2022, 12, 1)), "csp")
    north = _row(df, "E22000001")
    assert north["change_12m"] == pytest.approx(-0.5) and north["change_12m_significant"] is False
    assert north["change_12m_text"] == ("showed no significant change in the year to 31 December 2022 "
                                        "(10, against 20 the year before)")
    assert north["change_3y_reason"] == "too_few_months"
    assert north["change_3y"] is None
    assert north["change_3y_text"] == ("not available: needs 36 months of data up to December 2022; "
                                       "the study has 24")


def test_shares_over_known_incidents(trend_prep):
    df = area_profiles(trend_prep, Filters(start=date(2023, 1, 1)), "csp")
    north = _row(df, "E22000001")
    # domestic abuse: 3 true of 9 known (2 not known) among 11
    assert north["domestic_abuse_share"] == pytest.approx(3 / 9)
    assert north["domestic_abuse_known"] == pytest.approx(9 / 11)
    ci = binomtest(3, 9).proportion_ci(method="wilson")  # Wilson over the 9 known
    assert (north["domestic_abuse_lower"], north["domestic_abuse_upper"]) == pytest.approx((ci.low, ci.high))
    assert north["knife_share"] == pytest.approx(2 / 11)
    # youth: the 3 Anchor incidents (16/17), the 16-year-old and the 19-year-old
    assert north["youth_share"] == pytest.approx(5 / 11)
    assert north["nte_share"] == pytest.approx(3 / 11)
    assert north["public_place_share"] == pytest.approx(9 / 11)
    assert north["sexual_share"] == pytest.approx(1 / 11)
    assert north["domestic_abuse_note"] is None and north["nte_note"] is None
    assert north["cat_rape_serious_sexual_assault_n"] == 1
    assert north["cat_violence_with_injury_gbh_n"] == 10 and north["cat_domestic_abuse_violence_n"] == 3
    assert north["top_categories"].startswith("Violence with injury at or above s20 GBH 91%; ")


def test_every_level_with_parents(trend_prep):
    for level, n in (("lsoa", 4), ("ward", 2), ("district", 2), ("csp", 2), ("force", 1)):
        df = area_profiles(trend_prep, Filters(), level)
        assert df.height == n and set(df["level"]) == {level}
    ward = _row(area_profiles(trend_prep, Filters(), "ward"), "E05000001")
    assert (ward["district_code"], ward["csp_code"], ward["force_code"]) == ("E06000001", "E22000001", FORCE[0])
    lsoa = area_profiles(trend_prep, Filters(), "lsoa")
    assert _row(lsoa, "E01000003")["n"] == 0  # an area with no serious violence still has a row
    assert _row(lsoa, "E01000003")["domestic_abuse_note"] == "no serious violence in the period"
    force = area_profiles(trend_prep, Filters(), "force").row(0, named=True)
    assert force["n"] == 56 and force["latest_12m"] == 16 and force["previous_12m"] == 15
    assert force["change_12m_text"].startswith("showed no significant change in the year to 31 December 2023")
    assert area_table(trend_prep, "csp").columns == ["level", "code", "name", "force_code", "force_name"]


def test_population_not_known_for_part_of_an_area(trend_study):
    study = toy_study(trend_rows(), indicators=POPULATION.filter(pl.col("lsoa_code") != "E01000004"))
    df = area_profiles(toy_prep(study), Filters(), "csp", indicators=study.indicators)
    south = _row(df, "E22000002")
    assert south["population"] is None and south["rate_per_1000"] is None
    assert south["population_note"] == "not known: no total_population for 1 of its 2 LSOAs"
    assert _row(df, "E22000001")["population"] == 2200


def test_monthly_and_categories(trend_prep):
    m = area_monthly(trend_prep, Filters(), "csp")
    assert m.height == 2 * 36
    north = m.filter(pl.col("code") == "E22000001")
    assert north.filter(pl.col("month") == date(2021, 1, 1))["n"].item() == 2
    assert north.filter(pl.col("month") == date(2022, 12, 1))["n"].item() == 0  # dense: zero months kept
    assert north["n"].sum() == 41
    cats = area_categories(trend_prep, Filters(), "csp")
    assert set(cats.columns) >= {"level", "code", "name", "category", "label", "n", "share"}
    assert cats.filter((pl.col("code") == "E22000002") & (pl.col("category") == "violence_with_injury_gbh"))["n"].item() == 15


def test_police_uk_shares_say_not_known():
    rows = [incident(c, datetime(2024, m, 1), source="police.uk") for c in CODES for m in (1, 2, 3)]
    study = toy_study(rows)
    df = area_profiles(toy_prep(study), Filters(), "csp")
    north = _row(df, "E22000001")
    assert north["n"] == 6
    for f in ("domestic_abuse", "youth", "sexual", "knife", "public_place", "nte"):
        assert north[f"{f}_share"] is None, f
        assert north[f"{f}_note"].startswith("not known"), f
    assert "police.uk" in north["nte_note"]
    assert north["change_12m_text"].startswith("not available: needs 24 months")


def test_unknown_level_is_refused(trend_prep):
    with pytest.raises(ValueError, match="unknown level"):
        area_profiles(trend_prep, Filters(), "county")


# --------------------------------------------------------------------------------------------
# Real and sample data
# --------------------------------------------------------------------------------------------


def test_real_west_mercia_profiles(west_mercia_prep):
    notes: list[str] = []
    df = area_profiles(west_mercia_prep, Filters(), "csp", notes=notes)
    assert df.height == 5
    assert set(df["name"]) >= {"Telford and Wrekin", "Shropshire", "North Worcestershire"}
    assert df["n"].sum() > 10_000
    for f in ("domestic_abuse", "youth", "sexual", "knife", "public_place", "nte"):
        assert df[f"{f}_share"].null_count() == 5, f
        assert df[f"{f}_note"].str.starts_with("not known").all(), f
    # four months of police.uk data: no year-on-year change, and it says why
    assert df["change_12m_text"].str.starts_with("not available").all()
    lsoa = area_profiles(west_mercia_prep, Filters(), "lsoa")
    assert lsoa.height > 700 and lsoa["n"].sum() == df["n"].sum()


def test_sample_profiles(sample_prep, sample_study):
    df = area_profiles(sample_prep, Filters(), "csp", indicators=sample_study.indicators)
    assert df.height == 5
    assert df["population"].sum() == pytest.approx(1_299_900, rel=0.01)
    assert df["domestic_abuse_share"].null_count() == 0 and df["nte_share"].null_count() == 0
    assert df["change_12m_text"].str.contains(r"in the year to 31 March 2024").all()
    shrops = df.filter(pl.col("name") == "Shropshire").row(0, named=True)
    assert shrops["change_12m"] < 0  # the sample's Shropshire falls in the last year
    telford = df.filter(pl.col("name") == "Telford and Wrekin").row(0, named=True)
    assert telford["change_3y"] > 0 and telford["rate_per_1000_year"] == max(df["rate_per_1000_year"])
    assert np.isclose(df["share_of_total"].sum(), 1.0)


# --------------------------------------------------------------------------------------------
# The command line (on the sample study, which svtui opens when given no data)
# --------------------------------------------------------------------------------------------


def test_cli_trends_writes_and_refuses_to_overwrite(sample_study, tmp_path, capsys):
    from svtui.cli import main

    out = tmp_path / "csp.csv"
    assert main(["trends", "--out", str(out)]) == 0
    df = pl.read_csv(out)
    assert df.height == 5 and "change_12m_text" in df.columns
    assert main(["trends", "--out", str(out)]) == 2  # exists: refused
    assert "already exists" in capsys.readouterr().err
    assert main(["trends", "--out", str(out), "--force", "--level", "district"]) == 0
    assert pl.read_csv(out).height == 9
    js = tmp_path / "m.json"
    assert main(["trends", "--table", "measures", "--out", str(js)]) == 0
    assert pl.read_json(js).filter(pl.col("measure") == "knife_crime").height == 5
    pq = tmp_path / "risk.parquet"
    assert main(["trends", "--table", "risk", "--level", "lsoa", "--out", str(pq)]) == 0
    assert pl.read_parquet(pq)["code"].n_unique() == 812
    assert main(["trends", "--out", str(tmp_path / "x.txt")]) == 2
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave nothing behind


def test_cli_trends_prints_a_table(sample_study, capsys):
    from svtui.cli import main

    assert main(["trends", "--end", "2024-03"]) == 0
    out = capsys.readouterr().out
    assert "Shropshire" in out and "decreased by" in out and "SYNTHETIC" in out
    assert "\x1b]" not in out
