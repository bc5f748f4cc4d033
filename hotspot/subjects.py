"""Figures about one subject (an area or a hotspot locality) that the briefing used to work out
itself: a locality's change over the year, and the rules that decide which prevention themes
a briefing suggests. Numbers, booleans and reason codes only; svtui phrases them.

Both take a ``hotspot.session.Results`` and keep their answers in the session's one cache.
"""
from __future__ import annotations

import math
from datetime import date

import numpy as np
import polars as pl

__all__ = [
    "YEAR",
    "NTE_SHARE_HIGH",
    "MIN_COUNT",
    "YOUNG_ADULT_SHARE",
    "RISE_HIGH",
    "FOCUS_FLAGS",
    "year_change",
    "locality_changes",
    "focus_flags",
]

YEAR = 12  # months in a year-on-year comparison
#: Share of offences in the night-time economy above which an area's NTE scheme is worth keeping
#: on the peak nights (a quarter: the West Mercia needs assessment's "significant minority").
NTE_SHARE_HIGH = 0.25
#: Fewest offences behind a share before a theme is suggested on it (a share of a handful is noise;
#: the same floor as partner disclosure's threshold of 5).
MIN_COUNT = 5
#: Share of offences involving someone aged 18-24 above which a youth offer that stops at 17 is
#: flagged as leaving young adults out (one in ten).
YOUNG_ADULT_SHARE = 0.10
#: A yearly rise of at least this much (and significant, when the test is known) makes an area a
#: priority for the strategic group.
RISE_HIGH = 0.10
ALPHA = 0.05

#: Reason codes and booleans focus_flags returns (the face words each).
FOCUS_FLAGS = ("nte_high", "youth_high", "knife_high", "young_adults", "rising", "locality_rising")


def year_change(monthly: pl.DataFrame, key: str, missing: list[date] | tuple[date, ...] = ()) -> pl.DataFrame:
    """Latest 12 months against the 12 before, per `key`, from a dense monthly frame (key, month, n).

    Columns: key, months (months in the series), period_end (last month), latest_12m,
    previous_12m (null when the series is shorter than 24 months or either year touches a
    `missing` month), change_12m (relative), change_12m_p (exact conditional test of two
    Poisson counts with equal exposure, hotspot.rates.change_test), change_12m_reason (null, or
    "too_few_months", "months_missing", "small_base": below rates.SMALL_BASE give counts).
    """
    from hotspot.rates import SMALL_BASE, change_test

    schema = {key: pl.Utf8, "months": pl.UInt32, "period_end": pl.Date, "latest_12m": pl.Int64,
              "previous_12m": pl.Int64, "change_12m": pl.Float64, "change_12m_p": pl.Float64,
              "change_12m_reason": pl.Utf8}
    if monthly.height == 0:
        return pl.DataFrame(schema=schema)
    miss = pl.Series("m", list(missing), dtype=pl.Date)
    m = monthly.sort([key, "month"]).with_columns(
        (pl.len().over(key) - pl.int_range(pl.len()).over(key) - 1).alias("_back"),  # 0 = last month
        pl.col("month").is_in(miss.implode()).alias("_miss") if len(miss) else pl.lit(False).alias("_miss"))
    g = m.group_by(key, maintain_order=True).agg(
        pl.len().cast(pl.UInt32).alias("months"),
        pl.col("month").max().alias("period_end"),
        pl.col("n").filter(pl.col("_back") < YEAR).sum().cast(pl.Int64).alias("_now"),
        pl.col("n").filter((pl.col("_back") >= YEAR) & (pl.col("_back") < 2 * YEAR)).sum().cast(pl.Int64).alias("_before"),
        pl.col("_miss").filter(pl.col("_back") < 2 * YEAR).any().alias("_gap"),
    )
    enough = pl.col("months") >= 2 * YEAR
    ok = enough & ~pl.col("_gap")
    g = g.with_columns(
        pl.when(ok).then(pl.col("_now")).otherwise(None).alias("latest_12m"),
        pl.when(ok).then(pl.col("_before")).otherwise(None).alias("previous_12m"),
        pl.when(~enough).then(pl.lit("too_few_months"))
        .when(pl.col("_gap")).then(pl.lit("months_missing"))
        .when(pl.col("_before") < SMALL_BASE).then(pl.lit("small_base"))
        .otherwise(None).alias("change_12m_reason"),
    )
    now = g["latest_12m"].cast(pl.Float64).fill_null(float("nan")).to_numpy()
    before = g["previous_12m"].cast(pl.Float64).fill_null(float("nan")).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(before > 0, (now - before) / before, np.nan)
    p = change_test(before, now)
    return g.with_columns(
        pl.Series("change_12m", rel).fill_nan(None),
        pl.Series("change_12m_p", np.asarray(p, dtype=float)).fill_nan(None),
    ).select(list(schema))


def locality_changes(results) -> pl.DataFrame:
    """year_change for every hotspot locality of `results` (cached in its session)."""
    missing = _missing_months(results)
    return results.session.cached(("subjects", "locality_changes", results.filters),
                                  lambda: year_change(results.analysis.locality_monthly, "locality_id", missing))


def _missing_months(results) -> tuple[date, ...]:
    try:
        from hotspot.area_profiles import missing_months
    except ImportError:  # an engine without the missing-months rule: every month counts
        return ()
    return tuple(missing_months(results.prep))


def _num(v) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def focus_flags(row: dict, force_row: dict | None, ages: dict | None = None, *, is_locality: bool = False,
                youth_offer_max_age: int | None = None) -> dict[str, bool]:
    """Which prevention themes a briefing should raise for a subject, by documented thresholds.

    row / force_row: the subject's and the force's profile rows (hotspot.area_profiles or a
    locality row); ages: Results.ages for the subject; youth_offer_max_age: the oldest age any
    youth intervention reaching the subject takes (None when there is none). A share is "high"
    against the force only when it is at least the force's and rests on MIN_COUNT offences; the
    force is never compared with itself (force_row is the row itself).
    """
    def share(r, k):
        return _num(r.get(k)) if r else None

    same = force_row is not None and force_row.get("code") is not None and force_row.get("code") == row.get("code")
    fr = None if same else force_row
    nte = share(row, "nte_share")
    youth, fyouth = share(row, "youth_share"), share(fr, "youth_share")
    knife, fknife = share(row, "knife_share"), share(fr, "knife_share")
    knife_n = _num(row.get("knife_n")) or 0
    youth_n = _num(row.get("youth_n"))
    ages = ages or {}
    a1824, known = ages.get("either_18_to_24", 0) or 0, ages.get("either_known", 0) or 0
    ch, p = _num(row.get("change_12m")), _num(row.get("change_12m_p"))
    significant = row.get("change_12m_significant")
    rise_ok = p is None or p < ALPHA
    if significant is False:
        rise_ok = False
    return {
        "nte_high": nte is not None and nte >= NTE_SHARE_HIGH,
        "youth_high": (youth is not None and fyouth is not None and youth >= fyouth
                       and (youth_n is None or youth_n >= MIN_COUNT)),
        "knife_high": knife is not None and fknife is not None and knife >= fknife and knife_n >= MIN_COUNT,
        "young_adults": (youth_offer_max_age is not None and youth_offer_max_age < 18 and known > 0
                         and a1824 >= MIN_COUNT and a1824 / known >= YOUNG_ADULT_SHARE),
        "rising": (not is_locality) and ch is not None and ch >= RISE_HIGH and rise_ok,
        "locality_rising": is_locality and row.get("trend") == "rising",
    }
