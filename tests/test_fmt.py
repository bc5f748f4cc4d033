"""One way to print a number (svtui.fmt): the rules, and the same values through every face
(workbench cells, the CLI's tables, the briefing and its exported text) print the same."""
from __future__ import annotations

import math
from datetime import date

import numpy as np
import polars as pl
import pytest
from scipy.stats import binomtest

from hotspot.rates import change_test, rate_ci
from svtui import disclosure as dc
from svtui import fmt


@pytest.mark.parametrize("v,text", [
    (0.125, "13%"), (0.135, "14%"), (0.145, "15%"), (0.005, "<1%"), (0.0049, "<1%"), (0.0, "0%"), (1.0, "100%"),
    (0.998, ">99%"), (0.5, "50%"), (None, "not known"), (float("nan"), "not known"),
])
def test_percentages(v, text):
    assert fmt.pct(v) == text


def test_one_decimal_and_counts():
    assert fmt.pct(0.1234, 1) == "12.3%" and fmt.pct(0.0004, 1) == "<0.1%"
    assert fmt.count(12345) == "12,345" and fmt.count(2.5) == "3" and fmt.count(None) == "not known"
    assert fmt.count(0) == "0", "zero is a count, not a missing value"
    assert fmt.num(-0.04, 1) == "0.0" and fmt.num(1190.5) == "1,191"
    assert fmt.round_half_up(0.145, 2) == 0.15 and fmt.round_half_up(-2.5) == -3


def test_rate_with_its_interval_from_the_engine():
    r, lo, hi = (float(x[0]) for x in rate_ci(np.array([420.0]), np.array([100_000.0])))
    assert fmt.rate(r, lo, hi) == "4.2 per 1,000 (3.8-4.6)"
    assert fmt.rate(r, None, None) == "4.2 per 1,000"
    assert fmt.rate(None) == "not known"


def test_changes_follow_the_public_health_conventions():
    assert fmt.change(7, 4) == "from 4 to 7", "below a base of 10: counts, never a percentage"
    assert fmt.change(0, 4) == "from 4 to 0"
    p = change_test(52, 47)
    assert p == pytest.approx(binomtest(47, 99, 0.5).pvalue)  # the exact conditional test (scipy oracle)
    assert fmt.change(47, 52, p) == "no significant change (from 52 to 47)"
    p = change_test(100, 160)
    assert p < 0.05
    assert fmt.change(160, 100, p) == "increased by 60% (from 100 to 160)"
    assert fmt.change(100, 160) == "decreased by 38% (from 160 to 100)"
    assert fmt.change(1000, 1000) == "unchanged (from 1,000 to 1,000)"
    assert fmt.change(1000, 1001) == "decreased by <1% (from 1,001 to 1,000)"
    assert fmt.change(None, 100) == "not known" and fmt.change(100, None) == "not known"


def test_sparkline_shows_a_missing_month_as_a_gap():
    s = fmt.sparkline([1, 2, None, 4])
    assert s[2] == " " and s[0] != " " and len(s) == 4
    assert fmt.sparkline([0, None]) == fmt.sparkline([0]) + " "


# ------------------------------------------------------------------ the same value through every face


def _workbench(v) -> list[str]:
    from svtui.screens.hotspots import _pct_cell
    from svtui.widgets import fmt as wfmt

    return [wfmt.pct(v), _pct_cell(v).plain]


def _cli(v) -> list[str]:
    from svtui.cmd_areas import PROFILE_HEADERS, profile_rows

    row = {"name": "X", "n": 40, "per_month": 1.0, "rate_per_1000_year": None, "rate_per_1000": None, "months": 12,
           "latest_12m": None, "previous_12m": None, "base_3y_12m": None, "trend": "rising",
           "domestic_abuse_share": v, "youth_share": v, "knife_share": v, "nte_share": v}
    printed = profile_rows(pl.DataFrame([row], schema_overrides={k: pl.Float64 for k in row if k.endswith("share")}))[0]
    i = PROFILE_HEADERS.index("domestic abuse")
    return [printed[i], printed[i + 1]]  # the hotspots table prints harm, not a share, since h-loc


def _briefing(v) -> list[str]:
    from svtui.briefing import Briefing, Ref, _W, render

    w = _W("where", "Where", dc.rule_for("none"))
    text = w.share_of(v, None, None, Ref("localities", "share_of_area_harm", ()))
    w.p(f"It holds {text} of the harm.")
    b = Briefing("T", "S", "area", "csp", "X", "X", "study", False, "none", None, "d", [w.s])
    exported = render(b, "txt").split("It holds ")[1].split(" of the harm")[0]
    return [text, exported, dc.pct_text(v) if v is not None else dc.share(None, 8).text]


@pytest.mark.parametrize("v,expect", [(0.125, "13%"), (0.005, "<1%"), (0.998, ">99%"), (0.5, "50%"),
                                      (None, "not known")])
def test_the_same_value_prints_the_same_in_every_face(v, expect):
    shown = {"workbench": _workbench(v), "cli": _cli(v), "briefing": _briefing(v)}
    for face, texts in shown.items():
        for t in texts:
            assert t == expect, f"{face} prints {v!r} as {t!r}, not {expect!r}: {shown}"


def test_the_disclosure_share_and_fmt_agree_on_counts():
    assert dc.share(1, 8, "none").text == fmt.pct(1 / 8) == "13%"
    assert dc.share(1, 200, "none").text == fmt.pct(1 / 200) == "<1%"
    assert dc.share(1, 8, "partner").text == "withheld"  # a count of 1 is never worked out
    assert math.isclose(dc.round_half_up(0.125 * 100), 13)
    assert fmt.month(date(2024, 3, 1)) == "Mar 2024"


def test_trends_says_higher_or_lower_only_when_the_engine_does():
    from svtui.cmd_areas import versus_force

    assert versus_force({"rate_vs_force": "higher"}) == "higher"
    assert versus_force({"rate_vs_force": None, "rate_vs_force_reason": "no_population"}) == "not known: no population"
    assert versus_force({"rate_vs_force": None, "rate_vs_force_reason": "is_force"}) == "(the force)"
    assert versus_force({}) == "not known"


def test_the_cli_says_why_a_change_is_not_known():
    from svtui.cmd_areas import change_text

    gap = {"latest_12m": None, "previous_12m": None, "change_12m_reason": "months_missing",
           "change_12m_missing": ["2019-03", "2019-04"]}
    assert change_text(gap) == "not known: months missing (2019-03 to 2019-04)"  # a run, however long
    gap["change_12m_missing"] = ["2019-01", "2019-03", "2019-04", "2019-05"]
    assert change_text(gap) == "not known: months missing (2019-01, 2019-03 to 2019-05)"
    assert change_text({"latest_12m": 7, "previous_12m": 4}) == "from 4 to 7"
    assert change_text({"latest_12m": 70, "previous_12m": 40, "change_12m_significant": False}) == \
        "no significant change (from 40 to 70)"
    assert change_text({"latest_12m": 70, "previous_12m": 40, "change_12m_p": 0.001}) == \
        "increased by 75% (from 40 to 70)"
