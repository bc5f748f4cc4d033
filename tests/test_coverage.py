"""Intervention coverage: reach in place, time and age; needs, gaps and their words.

The hand-made study (all offences s18 GBH, so every incident carries the same harm):

* Anchor Street (locality A, LSOA E01000001, North CSP): 6 incidents at The Anchor on Friday
  nights at 23:00 and 4 by day 300 m away. Night-time economy share 60%.
* Elm Estate (locality B, E01000004, South CSP): 5 domestic-abuse incidents between adults and
  5 knife incidents with a 15-year-old victim and a 16-year-old suspect, by day.
* E01000002 (North): 5 knife incidents between adults. E01000003 (South): 10 other incidents.

35 incidents. Force shares: knife 10/35, under-25 5/35, domestic abuse 5/35. Interventions: Haven (domestic
abuse, South CSP), Steer Clear (knife and youth, ages 10-17, both CSPs), Street Pastors (night-
time economy, 500 m round The Anchor, Saturday nights only).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import polars as pl
import pytest

from geodata.interventions import Intervention, InterventionPoint
from geodata.venues import parse_hours
from hotspot.analysis import Filters, Params, analyse, select
from hotspot.coverage import coverage, needs
from test_area_profiles import CODES, incident, toy_prep, toy_study, venue, centre

FRIDAY = datetime(2023, 6, 2, 23)  # a Friday
MONDAY = datetime(2023, 6, 5, 14)


def rows() -> list[dict]:
    out = []
    for i in range(6):
        out.append(incident("E01000001", FRIDAY + timedelta(weeks=i), victim_age=30, suspect_age=31))
    for i in range(4):
        out.append(incident("E01000001", MONDAY + timedelta(weeks=i), dx=300, victim_age=30, suspect_age=31))
    for i in range(5):
        out.append(incident("E01000004", MONDAY + timedelta(weeks=i), domestic_abuse=True, victim_age=35,
                            suspect_age=38, location_type="dwelling"))
    for i in range(5):
        out.append(incident("E01000004", MONDAY + timedelta(weeks=i, days=1), knife=True, victim_age=15,
                            suspect_age=16))
    for i in range(5):
        out.append(incident("E01000002", MONDAY + timedelta(weeks=i), knife=True, victim_age=30, suspect_age=32))
    for i in range(10):
        out.append(incident("E01000003", MONDAY + timedelta(weeks=i), victim_age=40, suspect_age=40))
    return out


def interventions(pastor_times=("Sat 22:00-04:00",)) -> list[Intervention]:
    ax, ay = centre("E01000001")
    return [
        Intervention(name="Haven", areas=["South CSP"], themes=["domestic_abuse"]),
        Intervention(name="Steer Clear", areas=["E22000001", "E22000002"], ages=(10, 17), themes=["knife", "youth"]),
        Intervention(name="Street Pastors", points=[InterventionPoint(ax, ay, 200.0, "The Anchor")],
                     themes=["night_time_economy", "alcohol"], times=parse_hours("; ".join(pastor_times)),
                     times_text=list(pastor_times)),
    ]


@pytest.fixture(scope="module")
def prep():
    return toy_prep(toy_study(rows(), venues=[venue("The Anchor", *centre("E01000001"))]))


@pytest.fixture(scope="module")
def analysis(prep):
    """The serious incidents, with localities A and B by hand (no Gi* needed to test coverage)."""
    inc, _ = select(prep, Filters())
    inc = inc.with_columns(
        pl.when(pl.col("lsoa_code") == "E01000001").then(pl.lit("L-A"))
        .when(pl.col("lsoa_code") == "E01000004").then(pl.lit("L-B")).alias("locality_id"))
    loc = pl.DataFrame({"locality_id": ["L-A", "L-B"], "name": ["Anchor Street", "Elm Estate"]})
    return SimpleNamespace(incidents=inc, localities=loc)


def _gap(gaps: pl.DataFrame, code: str, need: str) -> dict | None:
    hit = gaps.filter((pl.col("code") == code) & (pl.col("need") == need))
    return hit.row(0, named=True) if hit.height else None


def test_night_time_gap_is_found_with_its_words(prep, analysis):
    reach, gaps = coverage(prep, analysis, interventions(), "csp")
    g = _gap(gaps, "L-A", "night_time_economy")
    assert g is not None and g["status"] == "gap"
    assert g["share"] == pytest.approx(0.6) and g["unmet_share"] == pytest.approx(1.0)
    assert g["gap_score"] == pytest.approx(g["need_harm"]) and g["need_harm"] == pytest.approx(6 * 1965)
    assert g["text"] == ("Anchor Street: 60% of serious violence is in the night-time economy, and no night-time "
                         "intervention reaches it (Street Pastors works here, but only Sat 22:00-04:00)")
    # Street Pastors stand at The Anchor, but on Saturdays: the place is reached, the time is not.
    sp = reach.filter((pl.col("code") == "L-A") & (pl.col("intervention") == "Street Pastors")).row(0, named=True)
    assert sp["place_share"] == pytest.approx(0.6) and sp["reaches"] == "yes"
    assert sp["time_share"] == pytest.approx(0.0) and sp["night_share"] == pytest.approx(0.6)
    assert sp["needs_met"] == ""
    north = _gap(gaps, "E22000001", "night_time_economy")
    assert north is not None and north["share"] == pytest.approx(6 / 15)
    assert gaps["gap_score"].is_sorted(descending=True)


def test_night_time_need_met_when_the_hours_fit(prep, analysis):
    _, gaps = coverage(prep, analysis, interventions(("Fri 22:00-04:00", "Sat 22:00-04:00")), "csp")
    assert _gap(gaps, "L-A", "night_time_economy") is None
    _, every = coverage(prep, analysis, interventions(("Fri 22:00-04:00",)), "csp", all_needs=True)
    assert _gap(every, "L-A", "night_time_economy")["status"] == "met"


def test_domestic_abuse_and_youth_knife_needs_met_on_the_estate(prep, analysis):
    reach, gaps = coverage(prep, analysis, interventions(), "csp")
    assert gaps.filter(pl.col("code") == "L-B").height == 0  # gaps that must not be found
    _, every = coverage(prep, analysis, interventions(), "csp", all_needs=True)
    b = every.filter(pl.col("code") == "L-B")
    status = dict(zip(b["need"], b["status"]))
    assert status["domestic_abuse"] == "met" and status["knife"] == "met" and status["youth"] == "met"
    assert status["night_time_economy"] == "no need"
    sc = reach.filter((pl.col("code") == "L-B") & (pl.col("intervention") == "Steer Clear")).row(0, named=True)
    assert sc["age_share"] == pytest.approx(0.5)  # the 5 teenagers of the 10 with an age
    assert sc["youth_share"] == pytest.approx(0.5) and sc["needs_met"] == "knife, youth"


def test_adult_knife_crime_is_not_met_by_a_youth_scheme(prep, analysis):
    _, gaps = coverage(prep, analysis, interventions(), "csp")
    g = _gap(gaps, "E22000001", "knife")
    assert g is not None  # North: 5 knife of 15 (33%) >= force 10/35, all adults
    assert g["covered_share"] == pytest.approx(0.0)
    assert g["text"] == ("North CSP: 33% of serious violence involves a knife or sharp instrument, and no knife "
                         "intervention reaches it (Steer Clear works here, but only ages 10-17)")
    assert _gap(gaps, "E22000002", "knife") is None  # South: 5 of 20 (25%) is under the force's 29%


def test_domestic_abuse_gap_where_no_provision_reaches():
    ivs = [iv for iv in interventions() if iv.name != "Haven"]
    prep = toy_prep(toy_study(rows(), venues=[venue("The Anchor", *centre("E01000001"))]))
    inc, _ = select(prep, Filters())
    inc = inc.with_columns(pl.when(pl.col("lsoa_code") == "E01000004").then(pl.lit("L-B")).alias("locality_id"))
    fake = SimpleNamespace(incidents=inc, localities=pl.DataFrame({"locality_id": ["L-B"], "name": ["Elm Estate"]}))
    _, gaps = coverage(prep, fake, ivs, "csp")
    g = _gap(gaps, "L-B", "domestic_abuse")
    assert g["text"] == "Elm Estate: 50% of serious violence is domestic abuse, and no domestic-abuse intervention reaches it"


def test_partial_reach_names_the_provision(prep, analysis):
    ivs = interventions()
    ivs[1] = Intervention(name="Steer Clear", areas=["E22000001", "E22000002"], ages=(10, 15), themes=["knife", "youth"])
    _, every = coverage(prep, analysis, ivs, "csp", all_needs=True)
    y = _gap(every, "L-B", "youth")  # victims 15 are in range; the 16-year-old suspects do not matter
    assert y["status"] == "met"
    ivs[1] = Intervention(name="Steer Clear", areas=["E22000002"], ages=(10, 17), themes=["knife"],
                          points=[])
    _, every = coverage(prep, analysis, ivs, "force", all_needs=True)
    k = _gap(every, "E23000001", "knife")  # force: 10 knife incidents, Steer Clear reaches the 5 in the South
    assert k["covered_share"] == pytest.approx(0.5)
    assert "knife provision (Steer Clear (ages 10-17)) reaches only 50% of it" in k["text"]


def test_police_uk_needs_not_known():
    data = [incident(c, datetime(2024, 1, 1), source="police.uk") for c in CODES for _ in range(3)]
    prep = toy_prep(toy_study(data))
    inc, _ = select(prep, Filters())
    fake = SimpleNamespace(incidents=inc.with_columns(pl.lit(None, dtype=pl.Utf8).alias("locality_id")),
                           localities=pl.DataFrame(schema={"locality_id": pl.Utf8, "name": pl.Utf8}))
    notes: list[str] = []
    reach, gaps = coverage(prep, fake, interventions(), "csp", notes=notes)
    assert gaps.height == 0
    assert any("Needs cannot be judged" in n for n in notes)
    _, every = coverage(prep, fake, interventions(), "csp", all_needs=True)
    assert set(every["status"]) == {"not known"}


def test_unknown_intervention_areas_are_noted(prep, analysis):
    notes: list[str] = []
    ivs = [Intervention(name="Elsewhere", areas=["Atlantis"], themes=["knife"])]
    coverage(prep, analysis, ivs, "csp", notes=notes)
    assert any("Atlantis" in n for n in notes)


def test_with_the_real_engine(prep):
    study = toy_study(rows(), venues=[venue("The Anchor", *centre("E01000001"))], interventions=interventions())
    analysis = analyse(prep, Filters(), Params(cell_size=100.0, permutations=99, emerging=False))
    result = needs(prep, analysis, study, "csp")
    assert result.profiles.height == 2 and result.measures.height > 0
    assert set(result.reach["unit"]) <= {"locality", "csp"}
    assert result.gaps.filter(pl.col("unit") == "csp").height >= 1


# --------------------------------------------------------------------------------------------
# Sample and real data
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_window_analysis(sample_prep):
    from hotspot.area_profiles import study_months

    months, _ = study_months(sample_prep)
    return analyse(sample_prep, Filters(start=months[0], end=months[-1]))


def test_sample_gaps_are_the_planted_ones(sample_prep, sample_study, sample_window_analysis):
    reach, gaps = coverage(sample_prep, sample_window_analysis, sample_study.interventions, "csp")
    da = gaps.filter((pl.col("unit") == "csp") & (pl.col("need") == "domestic_abuse"))
    assert set(da["name"]) == {"Telford and Wrekin", "North Worcestershire"}
    nte = gaps.filter((pl.col("unit") == "locality") & (pl.col("need") == "night_time_economy"))
    telford = nte.filter(pl.col("name").str.contains("Telford"))
    assert telford.height >= 1
    assert telford["text"].str.contains("is in the night-time economy, and no night-time intervention reaches it").all()
    # Worcester's centre has Street Pastors: its night-time need is not an unmet gap
    worcester = gaps.filter((pl.col("unit") == "locality") & pl.col("name").str.starts_with("Worcester")
                            & (pl.col("need") == "night_time_economy") & (pl.col("unmet_share") == 1.0))
    assert worcester.height == 0
    assert reach.filter(pl.col("intervention") == "PACE")["reaches"].unique().to_list() == ["yes"]


def test_real_west_mercia_has_no_judgeable_needs(west_mercia_prep):
    inc, _ = select(west_mercia_prep, Filters())
    fake = SimpleNamespace(incidents=inc.with_columns(pl.lit(None, dtype=pl.Utf8).alias("locality_id")),
                           localities=pl.DataFrame(schema={"locality_id": pl.Utf8, "name": pl.Utf8}))
    notes: list[str] = []
    reach, gaps = coverage(west_mercia_prep, fake, interventions(), "csp", notes=notes)
    assert gaps.height == 0 and any("police.uk" in n for n in notes)
    assert reach.filter(pl.col("intervention") == "Steer Clear")["reaches"].to_list() == ["no"] * 5


def test_cli_gaps(sample_study, tmp_path, capsys):
    from svtui.cli import main

    out = tmp_path / "gaps.csv"
    assert main(["gaps", "--out", str(out)]) == 0
    df = pl.read_csv(out)
    assert (df["status"] == "gap").all() and df["gap_score"].is_sorted(descending=True)
    assert df.filter(pl.col("need") == "domestic_abuse")["name"].str.contains("Telford").any()
    reach = tmp_path / "reach.parquet"
    assert main(["gaps", "--reach", "--out", str(reach)]) == 0
    assert set(pl.read_parquet(reach)["reaches"]) <= {"yes", "partly", "no"}
    capsys.readouterr()
    assert main(["gaps", "--level", "district"]) == 0
    printed = capsys.readouterr().out
    assert "night-time economy" in printed and "SYNTHETIC" in printed
