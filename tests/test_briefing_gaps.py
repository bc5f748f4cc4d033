"""Briefings over a gap of years (issue 12 "done when"): West Mercia's 2024 months plus three of
them renamed to late 2019. No change or average may span the four missing years; the rate says
its population's source and year and that it is over the covered months; every figure still
re-derives from the engine's tables."""
from __future__ import annotations

import re

import pytest

from svtui.briefing import build_briefing
from test_briefing import Tables, assert_sound


@pytest.fixture(scope="module")
def mixed_res(real_dir, mixed_months_dir):
    from geodata.study import load_study, spec_from_options
    from hotspot.session import Session

    dst = mixed_months_dir
    spec = spec_from_options(
        crimes=[str(dst)],
        areas=str(real_dir / "boundaries" / "lsoa21_westmercia_bsc.geojson"),
        lookups=[str(real_dir / "lookups" / "lad24_csp24_pfa24_EW.csv"),
                 str(real_dir / "lookups" / "lsoa11_lsoa21_lad22_westmercia_warwickshire.csv")],
        indicators=[str(real_dir / "indicators" / "population_mid2019_lsoa11_agebands_westmercia_warwickshire.csv")],
    )
    return Session(load_study(spec)).results()


def test_no_briefing_states_a_change_or_average_across_missing_months(mixed_res):
    t = Tables(mixed_res.prep, mixed_res.analysis, mixed_res.study)
    for code in mixed_res.session.areas("csp")["code"].to_list():
        b = build_briefing(mixed_res, area=code)
        assert_sound(b, t)
        head, when = b.section("headline").text, b.section("when").text
        assert "Change over the year: not known: months missing (2022-05 to 2023-12)" in head
        assert not re.search(r"against 0 the year before|increased by|decreased by", head)
        assert "7 months with data in a span of 55" in head
        # the rate: interval, population source and year, the 2011 -> 2021 conversion, covered months
        assert "95% interval" in head and "mid-2019 estimates" in head
        assert "2011 areas converted to 2021 by equal split" in head
        assert "over the 7 months with data" in head
        assert re.search(r"rate is (higher|lower|similar)", head)
        # the busiest month and its average are over covered months only, and say so
        assert "over the 7 months with data only: 48 months in the period are missing" in when
    force = build_briefing(mixed_res)
    assert_sound(force, t)
    assert "have no location: they are in the force total" in force.section("headline").text


def test_trends_notes_say_population_unplaced_and_covered_months(mixed_res):
    from svtui.cmd_areas import month_runs, profile_rows, profile_table_notes, PROFILE_HEADERS

    df = mixed_res.profiles("csp")
    notes = " ".join(profile_table_notes(mixed_res, df))
    assert "mid-2019 estimates" in notes and "2011 areas converted to 2021 by equal split" in notes
    assert "have no location" in notes and f"{df['unplaced_n'][0]:,} offences" in notes
    assert "over the 7 months with data only; months missing: 2020-01 to 2023-12" in notes
    rows = profile_rows(df)
    vs = PROFILE_HEADERS.index("against the force")
    assert [r[vs] for r in rows] == [v or "not known" for v in df["rate_vs_force"].to_list()]
    assert all(r[PROFILE_HEADERS.index("latest 12 months")].startswith("not known: months missing (2022-05 to 2023-12)")
               for r in rows)
    assert month_runs(["2024-02", "2024-01", "2023-12"]) == "2023-12 to 2024-02"
