"""hotspot.subjects: a subject's year-on-year change (against a hand count and scipy's exact
binomial test) and the focus rules' thresholds."""
from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from scipy.stats import binomtest

from hotspot import subjects


def _months(n: int, start: date = date(2021, 1, 1)) -> list[date]:
    return [date(start.year + (start.month - 1 + i) // 12, (start.month - 1 + i) % 12 + 1, 1) for i in range(n)]


def _series(key: str, counts: list[int]) -> pl.DataFrame:
    return pl.DataFrame({"locality_id": [key] * len(counts), "month": _months(len(counts)), "n": counts},
                        schema_overrides={"n": pl.UInt32})


def test_year_change_against_a_hand_count_and_scipy():
    a = [3] * 6 + [5] * 12 + [9] * 12  # 30 months: previous year 60, latest 108
    b = [1] * 30
    out = subjects.year_change(pl.concat([_series("A", a), _series("B", b)]), "locality_id").sort("locality_id")
    ra, rb = out.row(0, named=True), out.row(1, named=True)
    assert (ra["latest_12m"], ra["previous_12m"], ra["months"]) == (sum(a[-12:]), sum(a[-24:-12]), 30)
    assert ra["period_end"] == _months(30)[-1]
    assert ra["change_12m"] == pytest.approx((108 - 60) / 60)
    assert ra["change_12m_p"] == pytest.approx(binomtest(108, 168, 0.5).pvalue)
    assert ra["change_12m_reason"] is None
    assert rb["change_12m_p"] == pytest.approx(1.0) and rb["change_12m_reason"] is None  # 12 and 12: base >= 10
    assert rb["previous_12m"] == 12


def test_year_change_reason_codes():
    short = subjects.year_change(_series("S", [4] * 20), "locality_id").row(0, named=True)
    assert short["latest_12m"] is None and short["change_12m_reason"] == "too_few_months"
    gap = subjects.year_change(_series("G", [4] * 30), "locality_id", [_months(30)[10]]).row(0, named=True)
    assert gap["latest_12m"] is None and gap["change_12m_reason"] == "months_missing"
    old_gap = subjects.year_change(_series("G", [4] * 30), "locality_id", [_months(30)[2]]).row(0, named=True)
    assert old_gap["latest_12m"] == 48, "a gap before the two years compared does not matter"
    small = subjects.year_change(_series("T", [0] * 12 + [1] * 12), "locality_id").row(0, named=True)
    assert small["previous_12m"] == 0 and small["change_12m"] is None and small["change_12m_reason"] == "small_base"
    assert subjects.year_change(pl.DataFrame(schema={"locality_id": pl.Utf8, "month": pl.Date, "n": pl.UInt32}),
                                "locality_id").height == 0


def test_locality_changes_come_from_the_results_and_its_cache(sample_study):
    from hotspot.session import Session

    res = Session(sample_study).results()
    t = subjects.locality_changes(res)
    loc = res.localities
    # a budget cell kept for its smoothed map score may hold no offence: it has no months to compare
    with_offences = loc.filter(pl.col("n_incidents") > 0)
    assert with_offences.height > 0
    assert set(t["locality_id"]) == set(with_offences["locality_id"])
    assert subjects.locality_changes(res) is t  # kept in the session's one cache


FORCE = {"code": "E23000001", "youth_share": 0.30, "knife_share": 0.10}


def test_focus_flags_thresholds():
    row = {"code": "E22000001", "nte_share": 0.25, "youth_share": 0.31, "youth_n": 40, "knife_share": 0.12,
           "knife_n": 5, "change_12m": 0.10, "change_12m_p": 0.01}
    f = subjects.focus_flags(row, FORCE, {"either_18_to_24": 5, "either_known": 50}, youth_offer_max_age=17)
    assert f == {"nte_high": True, "youth_high": True, "knife_high": True, "young_adults": True, "rising": True,
                 "locality_rising": False}
    low = dict(row, nte_share=0.249, knife_n=4, change_12m_p=0.2, youth_share=0.29)
    f = subjects.focus_flags(low, FORCE, {"either_18_to_24": 4, "either_known": 50}, youth_offer_max_age=17)
    assert not any(f.values()), f
    assert not subjects.focus_flags(dict(row, change_12m_significant=False, change_12m_p=None), FORCE)["rising"]
    assert not subjects.focus_flags(row, FORCE, {"either_18_to_24": 30, "either_known": 50},
                                    youth_offer_max_age=24)["young_adults"], "the youth offer already reaches 24"


def test_the_force_is_never_compared_with_itself():
    f = subjects.focus_flags(dict(FORCE, knife_n=50, youth_n=50), FORCE)
    assert not f["youth_high"] and not f["knife_high"]


def test_a_locality_is_a_priority_only_on_a_rising_trend():
    f = subjects.focus_flags({"trend": "rising", "change_12m": 0.5}, FORCE, is_locality=True)
    assert f["locality_rising"] and not f["rising"]
