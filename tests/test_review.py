"""The review table (three comparisons with exact tests, c-chart, gaps, other crime) and the
review/actions/evaluate commands on the SYNTHETIC sample, which plants three actions."""
from __future__ import annotations

import json
import math
import sqlite3
from datetime import date

import geopandas as gpd
import numpy as np
import polars as pl
import pytest
import shapely
from scipy.stats import binomtest

from hotspot.evaluate import month_add
from hotspot.review import candidates, period_months, review

ZONE = shapely.box(0, 0, 500, 500)
PLACES = gpd.GeoDataFrame({"place_id": ["z"], "name": ["Zone"], "kind": ["place"]}, geometry=[ZONE], crs="EPSG:27700")


def _frame(monthly: dict[date, int], other: dict[tuple[date, str], int] | None = None, outside: int = 1):
    """Serious incidents in the zone per month (+ `outside` elsewhere each month, so a month
    with none in the zone is still a month with data), and other crime by type."""
    rows = []
    for m, n in monthly.items():
        rows += [(250.0, 250.0, m, 100.0, True, "Violence and sexual offences")] * n
        rows += [(9000.0, 9000.0, m, 100.0, True, "Violence and sexual offences")] * outside
    for (m, t), n in (other or {}).items():
        rows += [(100.0, 100.0, m, 0.0, False, t)] * n
    return pl.DataFrame(rows, schema={"easting": pl.Float64, "northing": pl.Float64, "month": pl.Date,
                                      "harm": pl.Float64, "serious": pl.Boolean, "crime_type": pl.Utf8}, orient="row")


MONTHS = [month_add(date(2022, 1, 1), i) for i in range(27)]  # Jan 2022 .. Mar 2024


def test_three_comparisons_with_the_exact_test():
    counts = {m: 6 for m in MONTHS}
    counts[date(2024, 3, 1)] = 19
    counts[date(2024, 2, 1)] = 7
    counts[date(2023, 3, 1)] = 5
    r = review(_frame(counts), PLACES, date(2024, 3, 1)).row(0, named=True)
    assert (r["n_now"], r["harm_now"]) == (19, 1900)
    assert (r["n_prev_before"], r["n_prev_after"]) == (7, 19)
    assert r["p_prev"] == pytest.approx(binomtest(19, 26, 0.5).pvalue)
    assert r["sig_prev"] is True
    assert (r["n_year_before"], r["n_year_after"]) == (5, 19)
    assert r["p_year"] == pytest.approx(binomtest(19, 24, 0.5).pvalue)
    assert (r["n_3m_before"], r["n_3m_after"]) == (18, 6 + 7 + 19)  # Oct-Dec vs Jan-Mar
    assert r["p_3m"] == pytest.approx(binomtest(32, 50, 0.5).pvalue)
    # c-chart from the 12 months before: 11 sixes and a five (Mar 2023) ... plus Feb's 7
    base = [6] * 12
    base[0] = 5  # Mar 2023
    base[-1] = 7  # Feb 2024
    cbar = np.mean(base)
    assert r["c_centre"] == pytest.approx(cbar)
    assert r["c_upper"] == pytest.approx(cbar + 3 * math.sqrt(cbar))
    assert r["c_flag"] == "above" and r["c_periods"] == 12


def test_a_quiet_month_is_not_significant():
    counts = {m: 6 for m in MONTHS}
    counts[date(2024, 3, 1)] = 8
    r = review(_frame(counts), PLACES, date(2024, 3, 1)).row(0, named=True)
    assert r["sig_prev"] is False and r["p_prev"] == pytest.approx(binomtest(8, 14, 0.5).pvalue)
    assert r["c_flag"] == "within"


def test_missing_months_are_gaps_never_zeros():
    counts = {m: 6 for m in MONTHS if m != date(2023, 3, 1)}  # no data at all for Mar 2023
    known = [m for m in MONTHS if m != date(2023, 3, 1)]
    r = review(_frame(counts), PLACES, date(2024, 3, 1), known_months=known).row(0, named=True)
    assert r["n_year_before"] is None and r["p_year"] is None and r["sig_year"] is None
    assert r["n_prev_before"] == 6  # other comparisons stand
    assert r["c_periods"] == 11  # the gap month is left out of the chart, not read as 0
    # a month with data but nothing in the zone is a real zero
    counts[date(2023, 3, 1)] = 0
    r = review(_frame(counts), PLACES, date(2024, 3, 1), known_months=MONTHS).row(0, named=True)
    assert r["n_year_before"] == 0


def test_quarters_and_other_crime():
    counts = {m: 2 for m in MONTHS}
    other = {(date(2024, 2, 1), "Anti-social behaviour"): 3, (date(2024, 1, 1), "Public order"): 1,
             (date(2023, 12, 1), "Anti-social behaviour"): 9}
    r = review(_frame(counts, other), PLACES, date(2024, 2, 1), quarter=True).row(0, named=True)
    assert (r["period_from"], r["period_to"]) == (date(2024, 1, 1), date(2024, 3, 1))
    assert (r["n_now"], r["n_prev_before"]) == (6, 6)
    assert r["other_asb_now"] == 3 and r["other_public_order_now"] == 1
    assert r["other_drugs_now"] is None  # no source records drugs: not known, not zero
    assert period_months(date(2024, 11, 1), True) == (date(2024, 10, 1), date(2024, 12, 1))


def test_candidates_are_localities_outside_every_reviewed_place():
    loc = pl.DataFrame({"locality_id": ["L-A", "L-B"], "name": ["A", "B"], "n_incidents": [30, 20],
                        "harm": [900.0, 500.0],
                        "geometry_wkb": [shapely.to_wkb(shapely.box(100, 100, 300, 300)),
                                         shapely.to_wkb(shapely.box(5000, 5000, 5200, 5200))]})
    assert candidates(loc, PLACES)["locality_id"].to_list() == ["L-B"]


# -- on the sample study ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return tmp_path_factory.mktemp("review_ws")


def _run(capsys, *argv) -> tuple[int, str, str]:
    from svtui.cli import main

    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_sample_actions_add_list_and_the_sqlite_file(ws, capsys):
    code, out, err = _run(capsys, "actions", "add", "--place", "Worcester city centre night-time zone",
                          "--action", "Licensing visits", "--owner", "Licensing", "--start", "2023-06-01",
                          "--review", "2023-12-01", "--workspace", str(ws), "--json")
    assert code == 0, err
    added = json.loads(out)
    assert added["action_id"] == 4  # after the sample's three recorded actions
    code, out, _ = _run(capsys, "actions", "list", "--json", "--workspace", str(ws))
    listed = json.loads(out)["actions"]
    assert [a["what"] for a in listed][-1] == "Licensing visits"
    assert listed[-1]["owner"] == "Licensing" and listed[-1]["review_by"] == "2023-12-01"
    con = sqlite3.connect(ws / "actions.sqlite")
    assert con.execute("SELECT count(*) FROM action_versions WHERE what = 'Licensing visits'").fetchone()[0] == 1
    con.close()
    code, out, err = _run(capsys, "actions", "update", "4", "--start", "2023-13-01", "--workspace", str(ws))
    assert code == 2 and "is not a date" in err
    code, out, err = _run(capsys, "actions", "add", "--place", "Nowhere", "--action", "x", "--workspace", str(ws))
    assert code == 2 and "no such place" in err


@pytest.mark.parametrize("aid,verdict,ring", [(1, "worked", "no_sign"), (2, "displaced", "ring_rose"),
                                              (3, "too_small", "ring_too_small")])
def test_sample_planted_actions_are_judged_as_planted(ws, capsys, aid, verdict, ring):
    code, out, err = _run(capsys, "evaluate", "--action", str(aid), "--json", "--workspace", str(ws))
    assert code == 0, err
    ev = json.loads(out)
    assert ev["verdict"] == verdict and ev["ring_code"] == ring
    for k in ("T0", "T1", "D0", "D1", "Ct0", "Ct1", "Cd0", "Cd1", "wdd", "z", "p", "wdq"):
        assert k in ev
    assert ev["months"] >= 6 and ev["ring_m"] == 200
    if verdict == "worked":
        assert ev["p"] < 0.05 and ev["wdd"] < 0 and "no sign of displacement" in ev["words"]
    if verdict == "displaced":
        assert ev["p_t"] < 0.05 and ev["p_d"] < 0.05 and ev["wdq"] < 0
        assert "displacement" in ev["words"]
    if verdict == "too_small":
        assert ev["T0"] < 10 and ev["words"].startswith("Too few offences to judge")


def test_sample_review_json_and_minutes(ws, capsys, tmp_path):
    minutes = tmp_path / "minutes.md"
    code, out, err = _run(capsys, "review", "--period", "2024-03", "--json", "--workspace", str(ws),
                          "--minutes", str(minutes))
    assert code == 0, err
    r = json.loads(out)
    names = [p["name"] for p in r["places"]]
    assert "Worcester city centre night-time zone" in names
    kid = next(p for p in r["places"] if p["name"] == "Kidderminster town centre")
    for c in ("prev", "year", "3m"):
        assert {f"n_{c}_before", f"n_{c}_after", f"p_{c}", f"sig_{c}"} <= kid.keys()
    assert kid["n_year_after"] < kid["n_year_before"]  # the planted displacement emptied the centre
    assert {e["action_id"]: e["verdict"] for e in r["evaluations"]} == {1: "worked", 2: "displaced", 3: "too_small"}
    text = minutes.read_text()
    assert "# Hotspot review: March 2024" in text and "SYNTHETIC" in text
    assert "## Evaluations of completed actions" in text and "Verdict: it worked" in text
    assert "Licensing visits" in text  # the open action added above


def test_review_prints_place_names_inert_and_writes_the_table(tmp_path, capsys):
    evil = "=HYPERLINK(\"x\") \x1b[31mRed\x1b[0m [bold]Zone[/bold]"
    g = gpd.GeoDataFrame({"name": [evil]}, geometry=[shapely.box(384800, 254450, 385250, 255400)], crs="EPSG:27700")
    g.to_file(tmp_path / "evil.gpkg", driver="GPKG")
    out_csv = tmp_path / "places.csv"
    code, out, err = _run(capsys, "review", "--period", "2024-03", "--places", str(tmp_path / "evil.gpkg"),
                          "--workspace", str(tmp_path / "ws"), "--out", str(out_csv))
    assert code == 0, err
    assert "\x1b" not in out and "[bold]Zone[/bold]" in out
    table = pl.read_csv(out_csv)
    assert table.height == 1 and table["name"][0].startswith("'")  # a spreadsheet shows it as text
    assert table["n_now"][0] == table["n_prev_after"][0]
    code, out, err = _run(capsys, "review", "--period", "2024-03", "--places", str(tmp_path / "evil.gpkg"),
                          "--workspace", str(tmp_path / "ws"), "--out", str(out_csv))
    assert code == 2 and "already exists" in err  # never overwritten without --force
