"""hotspot.session: parameters refused with one clear error, the one rule for names and months,
one bounded cache, and Results that agree with independent counts."""
from __future__ import annotations

import hashlib
from datetime import date

import polars as pl
import pytest

from hotspot.analysis import Filters, Params
from hotspot.session import NotFound, ParameterError, Session


@pytest.mark.parametrize("params, name", [
    ({"inference": "bogus"}, "inference"),
    ({"eps_m": -10}, "eps_m"),
    ({"alpha": 1.5}, "alpha"),
    ({"permutations": -1}, "permutations"),
    ({"radius_cells": 0}, "radius_cells"),
    ({"cell_size": 0}, "cell_size"),
    ({"area_share": 0}, "area_share"),
    ({"max_localities": 0}, "max_localities"),
    ({"inference": "permutation", "permutations": 0}, "permutations"),
    ({"epsm": 300}, "epsm"),
])
def test_a_wrong_parameter_is_one_clear_error_naming_it(sample_study, sample_prep, params, name):
    with pytest.raises(ParameterError) as e:
        Session(sample_study, params=params, prep=sample_prep)
    assert e.value.name == name
    assert name in str(e.value) and "\n" not in str(e.value)


def test_good_parameters_are_kept(sample_study, sample_prep):
    s = Session(sample_study, params={"area_share": 2.0, "inference": "permutation", "permutations": 99},
                prep=sample_prep)
    assert s.params == Params(area_share=2.0, inference="permutation", permutations=99)


def test_an_unknown_definition_names_the_shipped_ones(sample_study):
    with pytest.raises(ValueError, match="west-mercia"):
        Session(sample_study, definition="no-such-definition")


@pytest.mark.parametrize("kw, name", [
    ({"start": date(2024, 3, 1), "end": date(2023, 1, 1)}, "Filters.start"),
    ({"markers": ("bogus",)}, "Filters.markers"),
    ({"min_harm": -1.0}, "Filters.min_harm"),
])
def test_filters_refuse_a_wrong_value_at_construction(kw, name):
    with pytest.raises(ValueError, match=name.replace(".", r"\.")):
        Filters(**kw)


@pytest.mark.parametrize("filters, name", [
    (Filters(start=date(2031, 1, 1)), "start"),
    (Filters(end=date(1999, 1, 1)), "end"),
])
def test_filters_the_data_cannot_answer_are_refused(sample_session, filters, name):
    with pytest.raises(ParameterError) as e:
        sample_session.results(filters)
    assert e.value.name == name


def test_month_span_is_the_complete_months(sample_session, sample_prep):
    span = sample_session.month_span()
    assert span.months == tuple(sample_prep.months)
    assert (span.first, span.last) == (sample_prep.months[0], sample_prep.months[-1])
    n = (span.last.year - span.first.year) * 12 + span.last.month - span.first.month + 1
    assert span.n_months == n == 36  # the sample holds three years
    assert sample_session.window(Filters(start=date(2023, 4, 1))) == (date(2023, 4, 1), span.last)
    assert sample_session.results(Filters(start=date(2023, 4, 1))).window == (date(2023, 4, 1), span.last)


def test_find_area_by_code_or_name_and_close_matches(sample_session):
    csp = sample_session.areas("csp").row(0, named=True)
    assert sample_session.find_area(csp["code"].lower()).code == csp["code"]
    got = sample_session.find_area(csp["name"].upper())
    assert (got.level, got.code) == ("csp", csp["code"])
    assert sample_session.find_area("study").level == "force"
    with pytest.raises(NotFound) as e:
        sample_session.find_area("Shropshir")
    assert "Shropshire" in e.value.close and "Shropshir" in str(e.value)
    with pytest.raises(NotFound):
        sample_session.find_area("")


def test_a_name_held_by_two_areas_of_one_level_asks_for_the_code(sample_session):
    h = sample_session.prep.hierarchy
    dup = (h.select("ward_code", "ward_name").unique().group_by("ward_name").len().filter(pl.col("len") > 1))
    if dup.height == 0:
        pytest.skip("the sample has no repeated ward name")
    name = dup["ward_name"][0]
    with pytest.raises(NotFound) as e:
        sample_session.find_area(name)
    assert len(e.value.ambiguous) == dup["len"][0]


def test_find_locality_by_id_or_name(sample_session, sample_results):
    loc = sample_results.localities.row(0, named=True)
    assert sample_session.find_locality(loc["locality_id"].lower()).locality_id == loc["locality_id"]
    assert sample_results.find_locality(loc["name"]).locality_id == loc["locality_id"]
    with pytest.raises(NotFound) as e:
        sample_results.find_locality(loc["locality_id"][:-1] + "X")
    assert loc["locality_id"] in e.value.close


def test_results_are_cached_and_the_cache_is_bounded(sample_study, sample_prep):
    s = Session(sample_study, params=Params(permutations=0, emerging=False), prep=sample_prep, cache_entries=6)
    r = s.results(Filters(min_harm=5.0))
    assert s.results(Filters(min_harm=5.0)) is r
    assert r.run() is r.analysis  # analysed once
    for i in range(20):
        s.results(Filters(min_harm=float(i))).monthly("csp")
    assert s.cache_size <= 6


def test_area_incidents_and_ages_match_a_hand_count(sample_session, sample_results):
    h = sample_session.prep.hierarchy
    code = sample_session.areas("csp")["code"][0]
    lsoas = set(h.filter(pl.col("csp_code") == code)["lsoa_code"].to_list())
    rows = sample_results.incidents.select("lsoa_code", "victim_age", "suspect_age").to_dicts()
    mine = [r for r in rows if r["lsoa_code"] in lsoas]
    assert sample_results.area_incidents("csp", code).height == len(mine) > 0
    ages = sample_results.ages("csp", code)
    assert ages["victim_known"] == sum(r["victim_age"] is not None for r in mine)
    assert ages["either_under_18"] == sum(
        (r["victim_age"] is not None and r["victim_age"] < 18) or (r["suspect_age"] is not None and r["suspect_age"] < 18)
        for r in mine)
    assert ages["victim_18_to_24"] == sum(r["victim_age"] is not None and 18 <= r["victim_age"] <= 24 for r in mine)


def test_profiles_and_series_agree_with_the_incidents(sample_session, sample_results):
    force = sample_results.profiles("force").row(0, named=True)
    placed = sample_results.incidents.filter(pl.col("lsoa_code").is_not_null()).height
    assert force["n"] == placed
    series = sample_results.series("csp")
    prof = sample_results.profiles("csp")
    assert {c: sum(v) for c, v in series.items()} == dict(zip(prof["code"], prof["n"]))


def test_export_tables_and_provenance(sample_session, sample_results):
    trends = sample_results.table("trends")
    months = sample_session.month_span().n_months
    assert trends.filter(pl.col("unit") == "csp").height == sample_session.areas("csp").height * months
    assert trends.filter(pl.col("unit") == "locality").height == sample_results.analysis.locality_monthly.height
    assert sample_results.table("areas")["geometry_wkb"].null_count() == 0
    prov = sample_results.provenance("trends", rows=trends.height)
    assert prov["window"] == [d.isoformat() for d in sample_results.window]
    assert prov["definition"]["name"] == sample_session.definition.name
    assert prov["parameters"]["area_share"] == sample_session.params.area_share
    assert prov["parameters"]["cell_size"] == sample_results.analysis.grid.cell_size  # metres actually used
    one = prov["inputs"]["files"][0]
    with open(one["path"], "rb") as fh:
        assert one["sha256"] == hashlib.sha256(fh.read()).hexdigest()
    with pytest.raises(ParameterError):
        sample_results.table("everything")
    with pytest.raises(ParameterError):
        sample_results.profiles("county")


# --------------------------------------------------------------------------------------------
# Area figures before the grid (the workbench shows the CSP table while the hotspots are found)


def _filter_sets(prep):
    cat = prep.definition.categories[0].id
    ms = prep.months
    return [Filters(), Filters(start=ms[len(ms) // 3], end=ms[-2]), Filters(categories=(cat,)),
            Filters(night_time=True), Filters(markers=("knife",))]


@pytest.mark.parametrize("which", ["sample", "west_mercia"])
def test_area_figures_before_the_grid_are_the_figures_after_it(request, which):
    """Session.area_prep (no grid) gives every area figure exactly as the prepared study does."""
    from polars.testing import assert_frame_equal

    study = request.getfixturevalue(f"{which}_study")
    prep = request.getfixturevalue(f"{which}_prep")
    early, later = Session(study), Session(study, prep=prep)
    assert early.area_prep.incidents.equals(prep.incidents.drop("cell"))
    assert early.area_prep.months == prep.months and early.area_prep.area_index == prep.area_index
    assert early.month_span() == later.month_span() and early.levels() == later.levels()
    for f in _filter_sets(prep):
        a, b = early.results(f), later.results(f)
        for level in early.levels():
            assert_frame_equal(a.profiles(level), b.profiles(level))
            assert a.profile_notes(level) == b.profile_notes(level)
            assert_frame_equal(a.monthly(level), b.monthly(level))
    assert not early.prepared  # none of that laid the grid


def test_area_prep_gives_way_to_the_prepared_study(sample_study):
    s = Session(sample_study)
    quick = s.area_prep
    assert quick.grid is None and s.hierarchy.equals(sample_study.areas.hierarchy)
    s.prep  # noqa: B018
    assert s._area_prep is None  # let go when the grid is laid: the incidents are held once
    assert s.area_prep is s.prep and s.hierarchy is s.prep.hierarchy


def test_rows_without_a_place_count_whatever_the_analysis_cache_evicts(west_mercia_study):
    """The analysis cache's bound evicts the oldest prep.cache entries, the attached rows without
    a place among them: profiles and measures asked after an analysis still count them."""
    from hotspot.area_profiles import _UNPLACED_KEY

    before = Session(west_mercia_study).results().profiles("csp")["unplaced_n"].to_list()
    assert before[0] > 0  # West Mercia has rows with no coordinates
    s = Session(west_mercia_study)
    res = s.results()
    res.run()
    assert _UNPLACED_KEY in s.prep.cache  # put back after analyse
    s.prep.cache.pop(_UNPLACED_KEY)  # as a later analysis may do
    assert res.profiles("csp")["unplaced_n"].to_list() == before
    force = res.measures("force")
    assert _UNPLACED_KEY in s.prep.cache and force.height
