"""Briefings people finish (issue 16 must 4) and the needs engine's results in words (issue 12):
word budgets, no boilerplate paragraph repeated in every briefing, human labels for indicators,
no Gi* z in audience-facing text, and localities said plainly significant or not, with "too few
months for a trend (has N, needs 10)".
"""
from __future__ import annotations

import dataclasses
import re

import polars as pl
import pytest

from svtui.briefing import build_briefing, render

CSP_WORDS = 550  # issue 16: a CSP briefing of at most about 550 words before the data notes
LOCALITY_WORDS = 400  # and a locality briefing of at most about 400
WORD = re.compile(r"[A-Za-z0-9][\w'’.,%²-]*")


def words_before_notes(b) -> int:
    """Words a reader reads before the data notes (title, subtitle and headings left out)."""
    return sum(len(WORD.findall(s.text)) for s in b.sections if s.id != "notes")


def body_paragraphs(b) -> set[str]:
    return {p for s in b.sections if s.id != "notes" for p in s.paragraphs}


def _csps(res) -> list[str]:
    return res.session.areas("csp")["code"].to_list()


@pytest.fixture(scope="module")
def res(sample_session):
    return sample_session.results()


@pytest.fixture(scope="module")
def csp_briefings(res):
    return [build_briefing(res, area=c) for c in _csps(res)]


@pytest.fixture(scope="module")
def locality_briefings(res):
    return [build_briefing(res, hotspot=lid) for lid in res.localities["locality_id"].to_list()]


def test_every_csp_briefing_of_the_sample_is_within_its_word_budget(csp_briefings):
    counts = {b.subject_name: words_before_notes(b) for b in csp_briefings}
    assert len(counts) == 5
    assert all(n <= CSP_WORDS for n in counts.values()), counts


def test_every_locality_briefing_of_the_sample_is_within_its_word_budget(locality_briefings):
    counts = {b.subject_code: words_before_notes(b) for b in locality_briefings}
    assert counts
    assert all(n <= LOCALITY_WORDS for n in counts.values()), counts


def _identical_everywhere(briefings) -> set[str]:
    sets = [body_paragraphs(b) for b in briefings]
    return set.intersection(*sets) if len(sets) > 1 else set()


def test_no_paragraph_is_identical_across_every_briefing_of_a_kind(csp_briefings, locality_briefings):
    assert _identical_everywhere(csp_briefings) == set()
    assert _identical_everywhere(locality_briefings) == set()


def test_the_prevention_preamble_and_the_5cs_are_said_once_in_the_data_notes(csp_briefings):
    b = csp_briefings[0]
    body = " ".join(p for p in body_paragraphs(b))
    notes = b.section("notes").text
    assert "5Cs" not in body and "public health approach" not in body
    assert notes.count("5Cs") == 1 and "public health approach" in notes


def _no_gi_star(b) -> list[str]:
    text = render(b, "txt")
    return [m.group(0) for m in re.finditer(r"Gi\*|Getis|\bz\s*=|\bz up to\b", text)]


def test_no_gi_star_z_in_any_briefing(res, csp_briefings, locality_briefings):
    force = build_briefing(res)
    for b in [force, *csp_briefings, *locality_briefings]:
        assert _no_gi_star(b) == [], b.subject_code


def _raw_columns(b, columns: list[str]) -> list[str]:
    text = render(b, "txt")
    return [c for c in columns if "_" in c and re.search(rf"(?<![\w]){re.escape(c)}(?![\w])", text, re.I)]


def test_no_raw_indicator_column_name_in_the_sample_briefings(res, csp_briefings, locality_briefings):
    cols = [c for c in res.study.indicators.columns if c != "lsoa_code"]
    assert cols, "the sample study has indicators"
    for b in [*csp_briefings, *locality_briefings]:
        assert _raw_columns(b, cols) == [], b.subject_code


def test_rates_carry_their_interval_and_the_comparison_follows_the_engine(res, csp_briefings):
    prof = res.profiles("csp")
    for b in csp_briefings:
        row = prof.filter(pl.col("code") == b.subject_code).row(0, named=True)
        head = b.section("headline").text
        assert "95% interval" in head and "population: " in head
        vs = row["rate_vs_force"]
        said = {k for k in ("higher", "lower", "similar") if f"rate is {k}" in head}
        assert said == ({vs} if vs else set()), (b.subject_name, vs, head)


def _with_localities(res, frame: pl.DataFrame):
    """A Results whose analysis holds `frame` as its localities (the engine's later columns)."""
    an = dataclasses.replace(res.analysis, localities=frame)

    class _R(type(res)):
        @property
        def analysis(self):
            return an

    return _R(res.session, res.filters)


def test_a_locality_says_plainly_whether_it_is_significant_and_when_months_are_too_few(res):
    loc = res.localities
    lids = loc["locality_id"].to_list()[:2]
    frame = loc.with_columns(
        pl.col("locality_id").is_in(lids[:1]).alias("significant"),
        pl.lit(0.001).alias("p_value"), pl.lit(0.004).alias("q_value"),
        pl.lit(None, dtype=pl.Utf8).alias("pattern"),
        pl.lit("too_few_steps").alias("pattern_reason"), pl.lit("too_few_steps").alias("trend_reason"),
        pl.lit(4, dtype=pl.Int64).alias("n_steps"), pl.lit(10, dtype=pl.Int64).alias("steps_needed"),
    )
    r = _with_localities(res, frame)
    yes = build_briefing(r, hotspot=lids[0]).section("headline").text
    no = build_briefing(r, hotspot=lids[1]).section("headline").text
    assert "It is a significant concentration" in yes
    assert "It is not a significant concentration" in no
    for text in (yes, no):
        assert "too few months for a trend (has 4, needs 10)" in text
        assert "persistent" not in text.lower() and "no clear trend" not in text
    where = build_briefing(r, area=loc["csp_code"][0]).section("where").text
    assert "significant concentration" in where and "too few months for a trend" in where


def test_a_short_window_never_says_persistent(sample_session, res):
    """With fewer than 10 months (an engine without the too_few_steps rule), no pattern is given."""
    from hotspot.analysis import Filters

    months = res.prep.months
    short = sample_session.results(Filters(start=months[-4], end=months[-1]))
    if short.localities.height == 0:
        pytest.skip("no localities in the last four months of the sample")
    lid = short.localities["locality_id"][0]
    text = build_briefing(short, hotspot=lid).section("headline").text
    assert "too few months for a trend (has 4, needs 10)" in text
    assert "persistent" not in text.lower()


# --------------------------------------------------------------------------- real police.uk data


@pytest.fixture(scope="module")
def wm_res(real_dir):
    from geodata.study import load_study, spec_from_options
    from hotspot.session import Session

    spec = spec_from_options(
        crimes=[str(real_dir / "police-uk" / "west-mercia")],
        areas=str(real_dir / "boundaries" / "lsoa21_westmercia_bsc.geojson"),
        lookups=[str(real_dir / "lookups" / "lad24_csp24_pfa24_EW.csv")],
        indicators=[str(p) for p in sorted((real_dir / "indicators").glob("imd2025_lsoa21_west*.csv"))],
    )
    return Session(load_study(spec)).results()


def test_real_briefings_are_within_budget_specific_and_use_human_labels(wm_res):
    csps = [build_briefing(wm_res, area=c) for c in _csps(wm_res)]
    top = wm_res.localities.sort("harm", descending=True)["locality_id"].head(10).to_list()
    locs = [build_briefing(wm_res, hotspot=lid) for lid in top]
    assert all(words_before_notes(b) <= CSP_WORDS for b in csps), [words_before_notes(b) for b in csps]
    assert all(words_before_notes(b) <= LOCALITY_WORDS for b in locs), [words_before_notes(b) for b in locs]
    assert _identical_everywhere(csps) == set()
    assert _identical_everywhere(locs) == set()
    cols = [c for c in wm_res.study.indicators.columns if c != "lsoa_code"]
    for b in [*csps, *locs]:
        assert _raw_columns(b, cols) == [], b.subject_code
        assert _no_gi_star(b) == []
        assert re.search(r"Venue density (in .+: )?not known \(no venue file\)", b.section("risk").text) or \
            b.subject_kind == "hotspot", b.section("risk").text


def test_real_force_total_includes_offences_with_no_location(wm_res):
    """Issue 12: the force total matches the raw rows including those with no location, and a CSP
    briefing says how many offences cannot be placed (above 1%)."""
    force = wm_res.profiles("force").row(0, named=True)
    csp = wm_res.profiles("csp")
    assert force["n"] == int(csp["n"].sum()) + force["unplaced_n"]
    assert force["unplaced_n"] > 0
    b = build_briefing(wm_res, area="Shropshire")
    head = b.section("headline").text
    assert f"{force['unplaced_n']:,} offences in the force" in head and "have no location" in head


def test_real_briefing_gives_context_outcomes_and_repeat_locations(wm_res):
    b = build_briefing(wm_res, area="Shropshire")
    what, where = b.section("what").text, b.section("where").text
    assert "anti-social behaviour" in what and "criminal damage" in what
    assert "led to a charge or summons" in what and "no suspect identified" in what
    assert re.search(r"On or near [^()]+ \(\d+ offences\)", where), where
    ctx = wm_res.context("csp").filter(pl.col("name") == "Shropshire").row(0, named=True)
    assert f"{ctx['asb_n']:,} anti-social behaviour incidents" in what
