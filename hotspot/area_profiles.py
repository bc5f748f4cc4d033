"""Area profiles: serious violence per area at every level, in the needs assessment's own terms.

`area_profiles(prep, analysis_or_filters, level)` gives one row per area (force, CSP, district,
ward or LSOA): count and harm, the rate per 1,000 residents where the study knows the
population, the average per month, the change over the latest 12 months against the 12 before
and over three years ("decreased by 13% in the year to 31 August 2023"), a Mann-Kendall trend
on the monthly series, the shares linked to domestic abuse, youth, sexual offending, knife or
sharp instrument, public place and night-time economy (null with a reason where the data
cannot say, never zero), and the category breakdown. `area_monthly` gives the dense monthly
series, `area_categories` the long category mix. Rules and thresholds: docs/needs.md.

The period machinery (study months, 12-month blocks, change sentences) is shared with
`hotspot.measures`.
"""
from __future__ import annotations

import calendar
from dataclasses import replace
from datetime import date

import numpy as np
import polars as pl

from hotspot import profiles
from hotspot.analysis import Filters, Prepared, classified_incidents, select, study_fields
from hotspot.trend import mann_kendall

__all__ = [
    "LEVELS",
    "SHARE_FLAGS",
    "SMALL_BASE",
    "NOT_KNOWN",
    "area_profiles",
    "area_prep",
    "area_monthly",
    "area_categories",
    "area_table",
    "attach_area",
    "study_months",
    "population_column",
    "area_population",
    "period_stats",
    "month_end_text",
    "missing_months",
    "unplaced_incidents",
    "attach_unplaced",
    "population_provenance",
    "REASONS",
]

#: Reason codes a figure carries when it is null (the faces phrase them; docs/needs.md).
REASONS = {
    "months_missing": "a month the figure needs has no data (or under COVERED_MONTH of the median)",
    "too_few_months": "the study is too short for the figure",
    "no_months": "no month with data in the window",
    "small_base": "the comparison count is below SMALL_BASE: give counts, not a percentage",
    "is_force": "the force is never compared with itself",
    "no_population": "no population for the area",
}

#: Area levels, lowest first (the order of geodata.areas.LEVELS).
LEVELS = ("lsoa", "ward", "district", "csp", "force")
LEVEL_NAMES = {"lsoa": "LSOA", "ward": "ward", "district": "district", "csp": "CSP", "force": "force"}

#: The shares every area profile reports (profiles.FLAGS order is kept for the rest).
SHARE_FLAGS = ("domestic_abuse", "youth", "sexual", "knife", "public_place", "nte", "night", "alcohol")

#: Why a share is null when nothing about it is known (police.uk data can see none of them).
NOT_KNOWN = {
    "domestic_abuse": "not known: the data has no domestic-abuse marker",
    "youth": "not known: the data has no victim or suspect ages",
    "sexual": "not known: the data has no offence codes to tell sexual offences from other violence",
    "knife": "not known: the data has no knife or sharp-instrument marker",
    "public_place": "not known: the data has no location type (police.uk gives a snapped map point only)",
    "nte": "not known: the data has no time of day (police.uk gives the month only)",
    "night": "not known: the data has no time of day (police.uk gives the month only)",
    "alcohol": "not known: the data has no alcohol marker",
}

#: A share resting on fewer known incidents than this fraction is flagged as partly known.
PARTLY_KNOWN = 0.5
#: A month is "covered" when it holds at least this fraction of the median month's incidents.
COVERED_MONTH = 0.10
EARLIEST_MONTH = date(1990, 1, 1)

# --------------------------------------------------------------------------------------------
# The incidents without the grid
# --------------------------------------------------------------------------------------------


def area_prep(study, definition) -> Prepared:
    """What area profiles, monthly series and the study's months need, without the grid: the
    incidents classified, harm-weighted and flagged exactly as `hotspot.analysis.prepare` does,
    the complete months, the hierarchy and its index.

    A face can show area figures (the overview's CSP table) while the grid, its weights and the
    hotspot analysis are still being made; every figure is the same as from `prepare`'s own
    Prepared (tests/test_area_profiles.py holds the two to it). definition: a loaded
    Definition. Only for this module and `hotspot.measures`: there is no grid (grid, cell_flat
    and neighbours are None), so it never goes to `analyse`.
    """
    inc = classified_incidents(study, definition)
    common = study_fields(study, definition, inc)
    month_notes = common.pop("month_notes")
    return Prepared(
        **common,
        other=inc.head(0).select("month", "harm"),
        grid=None,
        cell_flat=None,
        neighbours=None,
        study_area_m2=0.0,
        notes=month_notes,  # the months' notes only: the study's own notes come from `prepare`
    )


# --------------------------------------------------------------------------------------------
# Months
# --------------------------------------------------------------------------------------------


def _mindex(d: date) -> int:
    return d.year * 12 + d.month - 1


def _mdate(i: int) -> date:
    return date(i // 12, i % 12 + 1, 1)


def _mindex_expr(col: str = "month") -> pl.Expr:
    return pl.col(col).dt.year().cast(pl.Int64) * 12 + pl.col(col).dt.month().cast(pl.Int64) - 1


def month_end_text(m: date) -> str:
    """'31 August 2023' for the month starting m."""
    return f"{calendar.monthrange(m.year, m.month)[1]} {calendar.month_name[m.month]} {m.year}"


def study_months(prep: Prepared) -> tuple[list[date], list[str]]:
    """The study's monthly span for trends, and notes on what was left out.

    A month is covered when it holds at least COVERED_MONTH of the median month's incidents (all
    incidents, serious or not). The span runs from the first to the last covered month, and
    never before 1990 or after the current month: a stray mistyped date (year 0022 or 2031) or
    one incident in a month the extract barely reaches does not stretch the series or make the
    latest year look empty.
    """
    key = "area_profiles:months"
    if key in prep.cache:
        return prep.cache[key]
    today = date.today()
    counts = (
        prep.incidents.filter(pl.col("month").is_not_null())
        .group_by("month")
        .agg(pl.len().alias("n"))
        .sort("month")
    )
    notes: list[str] = []
    if counts.height == 0:
        out: tuple[list[date], list[str]] = ([], ["The study has no dated incidents."])
        prep.cache[key] = out
        return out
    plausible = counts.filter((pl.col("month") >= EARLIEST_MONTH) & (pl.col("month") <= date(today.year, today.month, 1)))
    median = float(plausible["n"].median()) if plausible.height else 0.0
    covered = plausible.filter(pl.col("n") >= max(1.0, COVERED_MONTH * median))
    if covered.height == 0:
        covered = plausible if plausible.height else counts
    first, last = covered["month"].min(), covered["month"].max()
    outside = counts.filter((pl.col("month") < first) | (pl.col("month") > last))
    if outside.height:
        shown = ", ".join(f"{m:%Y-%m} ({n})" for m, n in outside.head(5).iter_rows())
        more = "" if outside.height <= 5 else f" and {outside.height - 5} more"
        notes.append(
            f"{int(outside['n'].sum()):,} incidents dated outside the study's span "
            f"{first:%Y-%m} to {last:%Y-%m} are left out of trends: {shown}{more}."
        )
    months = [_mdate(i) for i in range(_mindex(first), _mindex(last) + 1)]
    have = set(counts["month"].to_list())
    empty = [m for m in months if m not in have]
    if empty:
        notes.append("No incidents at all in " + ", ".join(f"{m:%Y-%m}" for m in empty[:6])
                     + (" ..." if len(empty) > 6 else "") + ": is a month missing from the data?")
    out = (months, notes)
    prep.cache[key] = out
    return out


def missing_months(prep: Prepared) -> list[date]:
    """Months inside the study's span that are not covered: no incident at all, or fewer than
    COVERED_MONTH of the median month (a partial extract). Such a month is a gap, never a 0:
    every series shows it as null and every figure needing it is null with reason
    "months_missing" (docs/needs.md).
    """
    key = "area_profiles:missing"
    if key in prep.cache:
        return prep.cache[key]
    months, _ = study_months(prep)
    if not months:
        prep.cache[key] = []
        return []
    counts = (prep.incidents.filter(pl.col("month").is_not_null()).group_by("month").agg(pl.len().alias("n")))
    have = dict(zip(counts["month"].to_list(), counts["n"].to_list()))
    inside = [have.get(m, 0) for m in months]
    plausible = [n for m, n in have.items() if EARLIEST_MONTH <= m]
    median = float(np.median(plausible)) if plausible else 0.0
    floor = max(1.0, COVERED_MONTH * median)
    out = [m for m, n in zip(months, inside) if n < floor]
    prep.cache[key] = out
    return out


def _window(prep: Prepared, filters: Filters) -> tuple[list[date], int, int, list[str]]:
    """(trend months, window start index, window end index, notes); indices into trend months.

    The trend series runs from the study's first month to the window's end, so a filter that
    starts late still compares its latest year with the year before.
    """
    months, notes = study_months(prep)
    notes = list(notes)
    if not months:
        return [], 0, -1, notes
    first, last = months[0], months[-1]
    f_end = date(filters.end.year, filters.end.month, 1) if filters.end else None
    f_start = date(filters.start.year, filters.start.month, 1) if filters.start else None
    end = min(f_end, last) if f_end else last
    start = max(f_start, first) if f_start else first
    if f_end and f_end > last:
        notes.append(f"The data ends in {last:%B %Y}; the period ends there, not in {filters.end:%B %Y}.")
    if end < first or start > end:
        return months[:0], 0, -1, notes + ["The filters leave no months with data."]
    trend = [m for m in months if m <= end]
    return trend, trend.index(max(start, first)), len(trend) - 1, notes


# --------------------------------------------------------------------------------------------
# Areas
# --------------------------------------------------------------------------------------------


def _hierarchy(prep: Prepared) -> pl.DataFrame:
    """The hierarchy with every level's columns, and the study as the force when none is named."""
    h = prep.hierarchy
    for lv in LEVELS:
        for k in ("code", "name"):
            if f"{lv}_{k}" not in h.columns:
                h = h.with_columns(pl.lit(None, dtype=pl.Utf8).alias(f"{lv}_{k}"))
    if h["force_code"].null_count() == h.height:
        h = h.with_columns(pl.lit("study").alias("force_code"), pl.lit(prep.study_name).alias("force_name"))
    return h.select([f"{lv}_{k}" for lv in LEVELS for k in ("code", "name")])


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; choose one of {', '.join(LEVELS)}")


def area_table(prep: Prepared, level: str) -> pl.DataFrame:
    """One row per area of `level`: level, code, name and the codes and names above it."""
    _check_level(level)
    h = _hierarchy(prep)
    code, name = f"{level}_code", f"{level}_name"
    parents = LEVELS[LEVELS.index(level) + 1:]
    if h.height == 0:
        if level != "force":
            raise ValueError(f"the study has no boundaries, so there are no {LEVEL_NAMES[level]}s; use level 'force'")
        return pl.DataFrame(
            {"level": ["force"], "code": ["study"], "name": [prep.study_name]},
            schema={"level": pl.Utf8, "code": pl.Utf8, "name": pl.Utf8},
        )
    if h[code].null_count() == h.height:
        raise ValueError(f"the study's areas have no {LEVEL_NAMES[level]} codes; add a lookup that gives them")
    cols = [pl.col(name).drop_nulls().first().alias("name")]
    for p in parents:
        cols += [pl.col(f"{p}_code").drop_nulls().mode().sort().first().alias(f"{p}_code")]
    out = h.filter(pl.col(code).is_not_null()).group_by(pl.col(code).alias("code")).agg(cols)
    for p in parents:
        lookup = h.select(pl.col(f"{p}_code"), pl.col(f"{p}_name")).drop_nulls(f"{p}_code").unique(f"{p}_code", keep="first")
        out = out.join(lookup, on=f"{p}_code", how="left")
    order = ["code", "name"] + [c for p in parents for c in (f"{p}_code", f"{p}_name")]
    return out.select(pl.lit(level).alias("level"), *order).sort("code")


def attach_area(frame: pl.DataFrame, prep: Prepared, level: str, col: str = "code") -> pl.DataFrame:
    """Add the `level` area code of each row (by its lsoa_code) as `col`; null where unknown.

    At force level a study with a single force takes every row, located or not.
    """
    _check_level(level)
    h = _hierarchy(prep)
    forces = h["force_code"].drop_nulls().unique()
    if level == "force" and (h.height == 0 or forces.len() == 1):
        only = forces[0] if forces.len() else "study"
        return frame.with_columns(pl.lit(only).alias(col))
    lookup = h.select("lsoa_code", pl.col(f"{level}_code").alias(col)).drop_nulls("lsoa_code").unique("lsoa_code", keep="first")
    if col in frame.columns:
        frame = frame.drop(col)
    return frame.join(lookup, on="lsoa_code", how="left", maintain_order="left")


#: Population column names tried in order, then any column naming population.
_POPULATION_NAMES = ("total_population", "population", "all_ages", "usual_residents", "pop_total", "total_pop", "persons")


def population_column(indicators: pl.DataFrame | None) -> str | None:
    """The indicator column holding each LSOA's total population, or None."""
    if indicators is None or indicators.height == 0:
        return None
    numeric = [c for c, t in indicators.schema.items() if t.is_numeric()]
    low = {c.lower(): c for c in numeric}
    for n in _POPULATION_NAMES:
        if n in low:
            return low[n]
    for c in numeric:
        n = c.lower()
        if "population" in n and not any(w in n for w in ("density", "rate", "per_", "share", "percent", "ratio")):
            return c
    return None


def area_population(prep: Prepared, indicators: pl.DataFrame | None, level: str,
                    column: str | None = None) -> tuple[pl.DataFrame, str | None]:
    """(code, population, population_note) per area, and the column used (None: not known).

    An area's population is the sum over its LSOAs, and only when every one of them has a value.
    """
    col = column or population_column(indicators)
    areas = area_table(prep, level).select("code")
    if col is None:
        return areas.with_columns(
            pl.lit(None, dtype=pl.Float64).alias("population"),
            pl.lit("not known: the study has no population indicator (e.g. total_population)").alias("population_note"),
        ), None
    h = _hierarchy(prep).select("lsoa_code")
    pop = h.join(indicators.select("lsoa_code", pl.col(col).cast(pl.Float64).alias("_pop")), on="lsoa_code", how="left")
    pop = attach_area(pop, prep, level).filter(pl.col("code").is_not_null())
    agg = pop.group_by("code").agg(
        pl.col("_pop").sum().alias("_sum"), pl.col("_pop").null_count().alias("_missing"), pl.len().alias("_n"))
    out = areas.join(agg, on="code", how="left").select(
        "code",
        pl.when(pl.col("_missing") == 0).then(pl.col("_sum")).alias("population"),
        pl.when(pl.col("_missing") > 0)
        .then(pl.format("not known: no {} for {} of its {} LSOAs", pl.lit(col), pl.col("_missing"), pl.col("_n")))
        .alias("population_note"),
    )
    return out, col


# --------------------------------------------------------------------------------------------
# Periods and sentences
# --------------------------------------------------------------------------------------------


def _thousands(e: pl.Expr) -> pl.Expr:
    """Whole number as text with thousands separators (up to 999,999,999,999)."""
    v = e.round(0).cast(pl.Int64)
    a = v.abs()
    sign = pl.when(v < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    g = [(a // 10 ** (3 * k)) % 1000 for k in range(4)]
    pad = lambda x: x.cast(pl.Utf8).str.pad_start(3, "0")  # noqa: E731
    body = (
        pl.when(a >= 10 ** 9).then(pl.concat_str([g[3].cast(pl.Utf8), pad(g[2]), pad(g[1]), pad(g[0])], separator=","))
        .when(a >= 10 ** 6).then(pl.concat_str([g[2].cast(pl.Utf8), pad(g[1]), pad(g[0])], separator=","))
        .when(a >= 1000).then(pl.concat_str([g[1].cast(pl.Utf8), pad(g[0])], separator=","))
        .otherwise(g[0].cast(pl.Utf8))
    )
    return pl.concat_str([sign, body])


def _pct_int(e: pl.Expr) -> pl.Expr:
    """|e| as a whole percentage, halves rounded up (0.125 -> 13)."""
    return ((e.abs() * 100 + 0.5 + 1e-9).floor()).cast(pl.Int64)


#: Below this many in the comparison year a change is told in counts, not percentages
#: ("fell from 6 to 4", not "decreased by 33%").
SMALL_BASE = 10


def _change_text(latest: str, base: str, change: str, when: str, from_when: str, against: str,
                 reason: pl.Expr, significant: str | None = None) -> pl.Expr:
    """The change sentence (without a subject) in the needs assessment's terms.

    when: "in the year to 31 August 2023" or "over the three years to ..."; from_when: where a
    small count starts ("" or " in the year to 31 August 2021"); against: what the base is ("the
    year before"). Bases under SMALL_BASE are told in counts.
    """
    lt, bs, ch = pl.col(latest), pl.col(base), pl.col(change)
    nums = pl.concat_str([pl.lit(" ("), _thousands(lt), pl.lit(", against "), _thousands(bs), pl.lit(f" {against})")])
    to_when = " to " if not from_when else f"{from_when} to "
    end_when = f" {when}" if not from_when else f" {when.replace('over the three years to', 'in the year to')}"
    small = pl.concat_str([_thousands(bs), pl.lit(to_when), _thousands(lt), pl.lit(end_when)])
    return (
        pl.when(lt.is_null() | bs.is_null()).then(reason)
        .when((bs == 0) & (lt == 0)).then(pl.lit(f"had none{end_when}, nor{from_when or ' the year before'}"))
        .when(bs < SMALL_BASE).then(
            pl.when(lt == bs).then(pl.concat_str([pl.lit("was unchanged at "), _thousands(lt), pl.lit(f" {when}")]))
            .when(lt > bs).then(pl.concat_str([pl.lit("rose from "), small]))
            .otherwise(pl.concat_str([pl.lit("fell from "), small])))
        .when(_pct_int(ch) == 0).then(pl.concat_str([pl.lit(f"was unchanged {when}"), nums]))
        .when(pl.col(significant).not_() if significant else pl.lit(False)).then(
            pl.concat_str([pl.lit(f"showed no significant change {when}"), nums]))
        .when(ch > 0).then(pl.concat_str([pl.lit("increased by "), _pct_int(ch).cast(pl.Utf8), pl.lit(f"% {when}"), nums]))
        .otherwise(pl.concat_str([pl.lit("decreased by "), _pct_int(ch).cast(pl.Utf8), pl.lit(f"% {when}"), nums]))
    )


def _dense(events: pl.DataFrame, codes: pl.Series, months: list[date], weight: str | None = None) -> np.ndarray:
    """(areas x months) array of event counts (or summed `weight`) from `code`, `month` columns."""
    A, T = codes.len(), len(months)
    if A == 0 or T == 0 or events.height == 0:
        return np.zeros((A, T))
    m0 = _mindex(months[0])
    idx = (
        events.select(
            pl.col("code").replace_strict(codes, pl.Series(np.arange(A)), default=-1, return_dtype=pl.Int64).alias("a"),
            (_mindex_expr() - m0).alias("t"),
            (pl.col(weight).cast(pl.Float64).fill_null(0.0) if weight else pl.lit(1.0)).alias("w"),
        )
        .filter((pl.col("a") >= 0) & (pl.col("t") >= 0) & (pl.col("t") < T))
    )
    flat = idx["a"].to_numpy() * T + idx["t"].to_numpy()
    return np.bincount(flat, weights=idx["w"].to_numpy(), minlength=A * T).reshape(A, T)


def _months_text(ms: list[date]) -> str:
    shown = ", ".join(f"{m:%Y-%m}" for m in ms[:6])
    return shown + (f" and {len(ms) - 6} more" if len(ms) > 6 else "")


def period_stats(M: np.ndarray, months: list[date], ws: int, we: int,
                 missing: list[date] | None = None) -> pl.DataFrame:
    """Counts, 12-month blocks, changes, sentences and trend per row of the (areas x months) M.

    `months` are the trend months (first study month to the window's end), ws..we the window.
    Latest 12 months end at we; the comparison year is the 12 before; the three-year change
    compares the latest year with the 12 months ending 24 months earlier (the first year of a
    three-year span, so 36 months of data suffice).

    `missing` months (see `missing_months`) are gaps, not zeros: a 12-month block touching one
    is null with reason "months_missing" and the list of months; the window's count and
    average per month are over its covered months only, flagged `n_covered_only`; the trend
    test is null (a Mann-Kendall across a gap would compare months years apart as neighbours).
    Changes are tested with `rates.change_test` (exact conditional test of two Poisson counts,
    equal exposure) and given as a percentage only from a base of SMALL_BASE
    (`rates.percent_change`).
    """
    from hotspot.rates import change_test, percent_change

    A = M.shape[0]
    T = len(months)
    miss_set = set(missing or [])
    miss = np.array([m in miss_set for m in months], dtype=bool)
    if miss.any():
        M = M.astype(float).copy()
        M[:, miss] = np.nan
    n_window = max(0, we - ws + 1)
    window = M[:, ws:we + 1] if n_window else np.zeros((A, 0))
    win_miss = [m for m, x in zip(months[ws:we + 1], miss[ws:we + 1]) if x] if n_window else []
    n_covered = n_window - len(win_miss)

    def block(k: int) -> tuple[np.ndarray | None, list[date]]:
        lo, hi = we - 12 * (k + 1) + 1, we - 12 * k
        if lo < 0 or hi < 0 or T == 0:
            return None, []
        gaps = [m for m, x in zip(months[lo:hi + 1], miss[lo:hi + 1]) if x]
        if gaps:
            return np.full(A, np.nan), gaps
        return M[:, lo:hi + 1].sum(axis=1), []

    (latest, g0), (prev, g1), (base3, g2) = block(0), block(1), block(2)
    none = np.full(A, np.nan)
    if n_window >= 3 and not win_miss:
        mk = mann_kendall(window)
        tau, p = mk.tau, mk.p
        direction = np.array(["falling", "no clear trend", "rising"])[mk.direction(0.05) + 1]
        trend_reason = None
    elif win_miss:
        tau, p, direction, trend_reason = none, none, np.full(A, "not known: months missing", dtype=object), "months_missing"
    else:
        tau, p, direction, trend_reason = none, none, np.full(A, "too few months", dtype=object), "too_few_months"
    with np.errstate(invalid="ignore"):
        n_sum = np.nansum(window, axis=1) if n_window else np.zeros(A)
    df = pl.DataFrame(
        {
            "n": n_sum,
            "per_month": n_sum / n_covered if n_covered else none,
            "latest_12m": latest if latest is not None else none,
            "previous_12m": prev if prev is not None else none,
            "base_3y_12m": base3 if base3 is not None else none,
            "trend": direction.astype(str),
            "trend_tau": tau,
            "trend_p": p,
        },
        nan_to_null=True,
    )
    # Counts are whole numbers (harm-weighted callers cast back); a flat series has no tau.
    df = df.with_columns(
        pl.col("n").round(0).cast(pl.Int64),
        *[pl.col(c).round(0).cast(pl.Int64) for c in ("latest_12m", "previous_12m", "base_3y_12m")],
        pl.col("trend_tau").fill_nan(None),
        pl.col("trend_p").fill_nan(None),
        pl.lit(trend_reason, dtype=pl.Utf8).alias("trend_reason"),
        pl.lit(bool(win_miss)).alias("n_covered_only"),
        pl.lit(n_covered, dtype=pl.Int64).alias("months_covered"),
        pl.lit([f"{m:%Y-%m}" for m in win_miss], dtype=pl.List(pl.Utf8)).alias("window_missing_months"),
    )
    end = months[we] if T and we >= 0 else None
    gaps = {"12m": sorted(set(g0) | set(g1)), "3y": sorted(set(g0) | set(g2))}
    short = {"12m": prev is None, "3y": base3 is None}

    def reason_cols(key: str) -> list[pl.Expr]:
        r = ("no_months" if end is None else "months_missing" if gaps[key] else
             "too_few_months" if short[key] else None)
        return [pl.lit(r, dtype=pl.Utf8).alias(f"change_{key}_reason"),
                pl.lit([f"{m:%Y-%m}" for m in gaps[key]], dtype=pl.List(pl.Utf8)).alias(f"change_{key}_missing")]

    df = df.with_columns(*reason_cols("12m"), *reason_cols("3y"))
    lt = df["latest_12m"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    for key, col in (("12m", "previous_12m"), ("3y", "base_3y_12m")):
        b = df[col].cast(pl.Float64).fill_null(np.nan).to_numpy()
        pval = change_test(b, lt)
        df = df.with_columns(
            pl.Series(f"change_{key}", percent_change(b, lt), dtype=pl.Float64).fill_nan(None),
            pl.Series(f"change_{key}_p", pval, dtype=pl.Float64).fill_nan(None),
        ).with_columns(
            (pl.col(f"change_{key}_p") < 0.05).alias(f"change_{key}_significant"),
            (pl.col(col) < SMALL_BASE).alias(f"change_{key}_small_base"),
        )
    if end is None:
        return df.with_columns(
            pl.lit("not available: no months with data").alias("change_12m_text"),
            pl.lit("not available: no months with data").alias("change_3y_text"),
        )
    end_text = month_end_text(end)
    have = len(months)

    def reason(key: str, need: int) -> pl.Expr:
        if gaps[key]:
            return pl.lit(f"not known: months missing ({_months_text(gaps[key])})")
        return pl.lit(f"not available: needs {need} months of data up to {end:%B %Y}; the study has {have}")

    base_end = _mdate(_mindex(end) - 24)
    return df.with_columns(
        _change_text("latest_12m", "previous_12m", "change_12m", f"in the year to {end_text}", "",
                     "the year before", reason("12m", 24), "change_12m_significant").alias("change_12m_text"),
        _change_text("latest_12m", "base_3y_12m", "change_3y", f"over the three years to {end_text}",
                     f" in the year to {month_end_text(base_end)}", f"in the year to {month_end_text(base_end)}",
                     reason("3y", 36), "change_3y_significant").alias("change_3y_text"),
    )


# --------------------------------------------------------------------------------------------
# Profiles
# --------------------------------------------------------------------------------------------


def _filters_of(analysis_or_filters) -> Filters:
    if analysis_or_filters is None:
        return Filters()
    if isinstance(analysis_or_filters, Filters):
        return analysis_or_filters
    f = getattr(analysis_or_filters, "filters", None)
    if isinstance(f, Filters):
        return f
    raise TypeError("give an Analysis or a Filters")


def _trend_incidents(prep: Prepared, filters: Filters, months: list[date]) -> tuple[pl.DataFrame, list[str]]:
    """Serious incidents the filters keep (ignoring their start), within the trend months."""
    if not months:
        return prep.incidents.head(0), []
    inc, notes = select(prep, replace(filters, start=None, end=months[-1]))
    return inc.filter(pl.col("month") >= months[0]), notes


def _share_frame(inc: pl.DataFrame) -> pl.DataFrame:
    """profiles.flag_shares by area, with the night-time economy known only where the time is.

    profiles.add_flags marks an incident away from every licensed venue as 'not NTE' even when
    its time is unknown; a share over those rows alone would read 0% for police.uk data.
    """
    inc = inc.with_columns(pl.when(pl.col("night").is_not_null()).then(pl.col("nte")).alias("nte"))
    known = inc.group_by("code").agg([pl.col(f).is_not_null().sum().cast(pl.Int64).alias(f"{f}_known_n")
                                      for f in SHARE_FLAGS])
    return profiles.flag_shares(inc, "code").join(known, on="code", how="left")


_UNPLACED_REASONS = ("no coordinates", "outside the study area")
_UNPLACED_KEY = "area_profiles:unplaced"


def unplaced_incidents(ledger, definition) -> pl.DataFrame:
    """Rows the readers could not place (quarantined for "no coordinates" or "outside the study
    area"), classified by the definition and harm-weighted: month, crime_type, categories,
    serious, harm, reason.

    They are recorded crimes of the force all the same, so force totals include them
    (docs/needs.md: the force level takes every incident, located or not); lower levels cannot
    place them and say how many (`unplaced_n`, `unplaced_share`).
    """
    from hotspot.definition import classify, fill_crime_type
    from hotspot.harm import add_harm

    empty = pl.DataFrame(schema={"month": pl.Date, "crime_type": pl.Utf8, "categories": pl.List(pl.Utf8),
                                 "serious": pl.Boolean, "harm": pl.Float64, "reason": pl.Utf8})
    if ledger is None:
        return empty
    q = ledger.quarantine_frame()
    if q.height == 0 or "reason" not in q.columns:
        return empty
    if "source_kind" in q.columns:
        q = q.filter(pl.col("source_kind") == "crimes")
    q = q.filter(pl.col("reason").is_in(list(_UNPLACED_REASONS)))
    if q.height == 0:
        return empty

    def txt(*names: str) -> pl.Expr:
        cols = [pl.col(n).cast(pl.Utf8) for n in names if n in q.columns]
        return pl.coalesce(cols) if cols else pl.lit(None, dtype=pl.Utf8)

    bool_of = lambda e: (pl.when(e.str.to_lowercase().is_in(["true", "1", "yes", "y"])).then(True)  # noqa: E731
                         .when(e.str.to_lowercase().is_in(["false", "0", "no", "n"])).then(False))
    frame = q.select(
        txt("month", "Month").str.slice(0, 7).str.strptime(pl.Date, "%Y-%m", strict=False).alias("month"),
        txt("crime_type", "Crime type").alias("crime_type"),
        txt("offence_code").alias("offence_code"),
        txt("offence_desc").alias("offence_desc"),
        *[bool_of(txt(m)).alias(m) for m in ("domestic_abuse", "hate_crime", "knife", "firearm", "corrosive",
                                               "county_lines", "alcohol")],
        txt("victim_age").cast(pl.Int32, strict=False).alias("victim_age"),
        txt("suspect_age").cast(pl.Int32, strict=False).alias("suspect_age"),
        pl.col("reason"),
    )
    out = add_harm(classify(fill_crime_type(frame), definition)).with_columns(pl.col("harm").fill_null(0.0))
    return out.select("month", "crime_type", "categories", "serious", "harm", "reason")


def attach_unplaced(prep: Prepared, ledger) -> pl.DataFrame:
    """Classify the ledger's unplaced rows once and keep them on `prep` for every profile."""
    out = unplaced_incidents(ledger, prep.definition)
    prep.cache[_UNPLACED_KEY] = out
    return out


def _unplaced_serious(prep: Prepared, filters: Filters, months: list[date], unplaced) -> pl.DataFrame:
    """Serious unplaced rows the filters keep, within the trend months (month, harm)."""
    un = unplaced if unplaced is not None else prep.cache.get(_UNPLACED_KEY)
    if un is None or un.height == 0 or not months:
        return pl.DataFrame(schema={"month": pl.Date, "harm": pl.Float64})
    if filters.areas or filters.markers or filters.night_time:
        # an area, marker or time filter cannot see a row with no place, markers or time
        return pl.DataFrame(schema={"month": pl.Date, "harm": pl.Float64})
    un = un.filter(pl.col("serious") & (pl.col("month") >= months[0]) & (pl.col("month") <= months[-1]))
    if filters.categories:
        un = un.filter(pl.col("categories").list.eval(pl.element().is_in(list(filters.categories))).list.any())
    return un.select("month", "harm")


_YEAR = __import__("re").compile(r"(?:mid[-_ ]?|_)((?:19|20)\d\d)(?!\d)")


def population_provenance(study_or_ledger, column: str | None = None) -> dict:
    """Where the population comes from, for the faces to state beside every rate.

    Returns {column, source (file name), year (int, from the file name, e.g. "mid2019" -> 2019),
    vintage ("lsoa11" when the file was keyed by 2011 LSOAs), converted (bool), conversion
    (method code "lsoa11_to_lsoa21_equal_split" when 2011 areas were split equally over their
    2021 parts), estimated (bool: split populations are estimates, not counts)}; values are None
    where not known.
    """
    ledger = getattr(study_or_ledger, "ledger", study_or_ledger)
    out = {"column": column, "source": None, "year": None, "vintage": None, "converted": False,
           "conversion": None, "estimated": False}
    sources = ledger.find("indicators") if ledger is not None else []
    named = [s for s in sources if "pop" in str(s.path).rsplit("/", 1)[-1].lower()]
    pick = named[0] if named else (sources[0] if len(sources) == 1 else None)
    if pick is None:
        return out
    name = str(pick.path).rsplit("/", 1)[-1]
    out["source"] = name
    m = _YEAR.search(name.lower())
    out["year"] = int(m.group(1)) if m else None
    if "lsoa11" in name.lower() or any("2011" in n for n in pick.notes):
        out["vintage"] = "lsoa11"
    if any("2011 LSOAs:" in n or "became" in n for n in pick.notes):
        out["converted"] = True
        out["conversion"] = "lsoa11_to_lsoa21_equal_split"
        out["estimated"] = True
    return out


def area_profiles(prep: Prepared, analysis_or_filters=None, level: str = "csp", *,
                  indicators: pl.DataFrame | None = None, notes: list[str] | None = None,
                  unplaced: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per area of `level` with the profile of its serious violence.

    analysis_or_filters: an Analysis (its filters are used) or Filters. The window is the
    filters' start..end within the study's months; change and trend look back from its end.
    indicators: the study's indicator frame, for the population (rates per 1,000).
    notes: a list that receives notes about the data (months left out, filters).
    unplaced: `unplaced_incidents(study.ledger, prep.definition)` (or set once with
    `attach_unplaced`): rows without a place, counted in the force total.

    Beyond the profile: `unplaced_n`, `unplaced_share` (serious offences of the window this
    level cannot place: the force's own rows without an LSOA at force level, else every one
    with no area of the level; the share is of all serious offences of the window);
    `rate_per_1000_lower/_upper` and `rate_per_1000_year_lower/_upper` (95%, rates.rate_ci);
    `rate_vs_force` "higher"/"lower"/"similar" (the area's interval against the force's rate,
    as Fingertips compares with England; null at force level with `rate_vs_force_reason`
    "is_force"); `population_estimated` (an LSOA's population is fractional: a 2011 area split
    over 2021 parts); the missing-month columns of `period_stats`.
    """
    from hotspot.rates import rate_ci

    filters = _filters_of(analysis_or_filters)
    out_notes = notes if notes is not None else []
    areas = area_table(prep, level)
    months, ws, we, wnotes = _window(prep, filters)
    missing = missing_months(prep)
    out_notes.extend(wnotes)
    inc, snotes = _trend_incidents(prep, filters, months)
    out_notes.extend(snotes)
    inc = attach_area(inc, prep, level)
    un = _unplaced_serious(prep, filters, months, unplaced)
    win_lo = months[ws] if months and we >= ws else None
    un_win = un.filter(pl.col("month") >= win_lo).height if win_lo else 0
    no_lsoa_win = inc.filter(pl.col("lsoa_code").is_null() & (pl.col("month") >= win_lo)).height if win_lo else 0
    unplaced_level = inc.filter(pl.col("code").is_null() & (pl.col("month") >= win_lo)).height if win_lo else 0
    unplaced = inc.filter(pl.col("code").is_null()).height
    if unplaced:
        out_notes.append(f"{unplaced:,} serious incidents have no {LEVEL_NAMES[level]} (no LSOA) and are not in these profiles.")
    inc = inc.filter(pl.col("code").is_not_null())
    codes = areas["code"]
    one_force = level == "force" and codes.len() == 1
    if one_force and un.height:
        # the force's own rows without a place count in its total (docs/needs.md)
        inc_all = pl.concat([inc.select("code", "month", "harm"),
                             un.with_columns(pl.lit(codes[0]).alias("code")).select("code", "month", "harm")])
    else:
        inc_all = inc
    M = _dense(inc_all, codes, months)
    H = _dense(inc_all, codes, months, weight="harm")
    stats = period_stats(M, months, ws, we, missing)
    win = inc.filter(pl.col("month") >= months[ws]) if months and we >= ws else inc.head(0)
    if months and we >= ws:
        Hw = H[:, ws:we + 1].copy()
        Hw[:, [m in set(missing) for m in months[ws:we + 1]]] = 0.0  # a gap holds nothing to add
        harm = Hw.sum(axis=1)
    else:
        harm = np.zeros(codes.len())

    out = pl.concat([areas, stats], how="horizontal").with_columns(pl.Series("harm", harm))
    if months and we >= ws:
        out = out.with_columns(pl.lit(months[ws]).alias("period_start"), pl.lit(months[we]).alias("period_end"),
                               pl.lit(we - ws + 1).alias("months"))
    else:
        out = out.with_columns(pl.lit(None, dtype=pl.Date).alias("period_start"), pl.lit(None, dtype=pl.Date).alias("period_end"),
                               pl.lit(0).alias("months"))
    total_n, total_h = float(out["n"].sum()), float(out["harm"].sum())
    out = out.with_columns(
        (pl.col("n") / total_n if total_n else pl.lit(None, dtype=pl.Float64)).alias("share_of_total"),
        (pl.col("harm") / total_h if total_h else pl.lit(None, dtype=pl.Float64)).alias("harm_share_of_total"),
    )
    # what this level cannot place: at force level (one force) its rows without an LSOA, which
    # are in its total; below, every serious row of the window with no area of the level
    if one_force:
        un_n = un_win + no_lsoa_win
        un_total = float(out["n"].sum())
    else:
        un_n = un_win + unplaced_level
        un_total = total_n + un_n
    out = out.with_columns(pl.lit(un_n, dtype=pl.Int64).alias("unplaced_n"),
                           pl.lit(un_n / un_total if un_total else None, dtype=pl.Float64).alias("unplaced_share"))

    # rates per 1,000 residents, with 95% intervals (Byar / exact Poisson)
    pop, _col = area_population(prep, indicators, level)
    if indicators is not None and _col is not None:
        frac = indicators.select("lsoa_code", (pl.col(_col).cast(pl.Float64) % 1 != 0).alias("_frac"))
        est = attach_area(_hierarchy(prep).select("lsoa_code").join(frac, on="lsoa_code", how="left"), prep, level)
        est = est.group_by("code").agg(pl.col("_frac").fill_null(False).any().alias("population_estimated"))
        pop = pop.join(est, on="code", how="left")
    else:
        pop = pop.with_columns(pl.lit(None, dtype=pl.Boolean).alias("population_estimated"))
    out = out.join(pop, on="code", how="left").with_columns(
        pl.when((pl.col("population") > 0) & (pl.col("months") > 0)).then(pl.col("n") / pl.col("population") * 1000)
        .alias("rate_per_1000"),
        pl.when(pl.col("population") > 0).then(pl.col("latest_12m") / pl.col("population") * 1000).alias("rate_per_1000_year"),
    )
    popn = out["population"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    nn = out["n"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    ly = out["latest_12m"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    _, lo, hi = rate_ci(nn, popn)
    _, ylo, yhi = rate_ci(ly, popn)
    out = out.with_columns(
        pl.Series("rate_per_1000_lower", lo).fill_nan(None), pl.Series("rate_per_1000_upper", hi).fill_nan(None),
        pl.Series("rate_per_1000_year_lower", ylo).fill_nan(None), pl.Series("rate_per_1000_year_upper", yhi).fill_nan(None),
    ).with_columns(
        pl.when(pl.col("rate_per_1000").is_null()).then(None).otherwise(pl.col("rate_per_1000_lower"))
        .alias("rate_per_1000_lower"),
        pl.when(pl.col("rate_per_1000").is_null()).then(None).otherwise(pl.col("rate_per_1000_upper"))
        .alias("rate_per_1000_upper"),
    )
    out = _versus_force(out, prep, filters, level, indicators)

    # shares
    shares = _share_frame(win)
    keep = ["code"] + [c for f in SHARE_FLAGS for c in (f"{f}_share", f"{f}_known", f"{f}_n", f"{f}_known_n")]
    out = out.join(shares.select(keep), on="code", how="left")
    # Wilson 95% intervals of each share, over the incidents where the flag is known
    from hotspot.rates import wilson_ci

    wil = []
    for f in SHARE_FLAGS:
        _, lo, hi = wilson_ci(out[f"{f}_n"].cast(pl.Float64).fill_null(np.nan).to_numpy(),
                              out[f"{f}_known_n"].cast(pl.Float64).fill_null(np.nan).to_numpy())
        wil += [pl.Series(f"{f}_lower", lo).fill_nan(None), pl.Series(f"{f}_upper", hi).fill_nan(None)]
    out = out.with_columns(wil)
    police_uk_only = prep.incidents.height > 0 and not (prep.incidents["source"] == "records").any()
    note_cols = []
    for f in SHARE_FLAGS:
        known = pl.col(f"{f}_known")
        reason = NOT_KNOWN[f] + (" (police.uk data)" if police_uk_only else "")
        note_cols.append(
            pl.when(pl.col("n") == 0).then(pl.lit("no serious violence in the period"))
            .when(known.is_null() | (known == 0)).then(pl.lit(reason))
            .when(known < PARTLY_KNOWN).then(pl.format("known for only {}% of incidents", _pct_int(known).cast(pl.Utf8)))
            .alias(f"{f}_note")
        )
    out = out.with_columns(note_cols)

    # categories
    cats = area_categories_from(win, prep)
    wide = _category_wide(cats, prep, codes)
    out = out.join(wide, on="code", how="left")
    return out.sort("code")


def _versus_force(out: pl.DataFrame, prep: Prepared, filters: Filters, level: str,
                  indicators: pl.DataFrame | None) -> pl.DataFrame:
    """rate_vs_force: "higher"/"lower" when the area's 95% interval excludes the force's rate,
    else "similar" (OHID Fingertips' comparison with a benchmark value); null at force level
    (reason "is_force") and where either rate is unknown (reason "no_population")."""
    if level == "force":
        return out.with_columns(pl.lit(None, dtype=pl.Utf8).alias("rate_vs_force"),
                                pl.lit("is_force").alias("rate_vs_force_reason"),
                                pl.lit(None, dtype=pl.Float64).alias("force_rate_per_1000"))
    try:
        force = area_profiles(prep, filters, "force", indicators=indicators)
    except ValueError:
        force = None
    fr = float(force["rate_per_1000"][0]) if force is not None and force.height == 1 and force["rate_per_1000"][0] is not None else None
    if fr is None:
        return out.with_columns(pl.lit(None, dtype=pl.Utf8).alias("rate_vs_force"),
                                pl.lit("no_population").alias("rate_vs_force_reason"),
                                pl.lit(None, dtype=pl.Float64).alias("force_rate_per_1000"))
    lo, hi = pl.col("rate_per_1000_lower"), pl.col("rate_per_1000_upper")
    return out.with_columns(
        pl.when(lo.is_null() | hi.is_null()).then(None).when(lo > fr).then(pl.lit("higher"))
        .when(hi < fr).then(pl.lit("lower")).otherwise(pl.lit("similar")).alias("rate_vs_force"),
        pl.when(lo.is_null() | hi.is_null()).then(pl.lit("no_population")).otherwise(None).alias("rate_vs_force_reason"),
        pl.lit(fr, dtype=pl.Float64).alias("force_rate_per_1000"),
    )


def area_categories_from(win: pl.DataFrame, prep: Prepared) -> pl.DataFrame:
    """Long category mix (code, category, label, n, harm, share) of incidents carrying `code`."""
    if win.height == 0:
        return pl.DataFrame(schema={"code": pl.Utf8, "category": pl.Utf8, "label": pl.Utf8, "n": pl.UInt32,
                                    "harm": pl.Float64, "share": pl.Float64})
    labels = pl.DataFrame({"category": [c.id for c in prep.definition.categories],
                           "label": [c.label for c in prep.definition.categories]})
    mix = profiles.category_mix(win, "code")
    return mix.join(labels, on="category", how="left").select("code", "category", "label", "n", "harm", "share")


def _category_wide(cats: pl.DataFrame, prep: Prepared, codes: pl.Series) -> pl.DataFrame:
    ids = [c.id for c in prep.definition.categories]
    base = pl.DataFrame({"code": codes})
    if cats.height:
        wide = cats.pivot(on="category", index="code", values="n")
        top = (
            cats.sort(["code", "n", "category"], descending=[False, True, False])
            .group_by("code", maintain_order=True).head(3)
            .group_by("code", maintain_order=True)
            .agg(pl.concat_str([pl.col("label"), pl.lit(" "), _pct_int(pl.col("share")).cast(pl.Utf8), pl.lit("%")])
                 .str.join("; ").alias("top_categories"))
        )
        base = base.join(wide, on="code", how="left").join(top, on="code", how="left")
    for i in ids:
        if i not in base.columns:
            base = base.with_columns(pl.lit(0, dtype=pl.UInt32).alias(i))
    if "top_categories" not in base.columns:
        base = base.with_columns(pl.lit(None, dtype=pl.Utf8).alias("top_categories"))
    return base.select("code", *[pl.col(i).fill_null(0).alias(f"cat_{i}_n") for i in ids], "top_categories")


def area_monthly(prep: Prepared, filters=None, level: str = "csp", *, unplaced: pl.DataFrame | None = None) -> pl.DataFrame:
    """Monthly series per area: level, code, name, month, month_missing, n, harm, unplaced_n,
    unplaced_share (window months only).

    A missing month (see `missing_months`) has null n and harm: a gap, never a 0. unplaced_n is
    level-wide (the same on every area's row of a month): serious offences of that month the
    level cannot place; its share is of every serious offence of the month.
    """
    filters = _filters_of(filters)
    areas = area_table(prep, level).select("level", "code", "name")
    months, ws, we, _ = _window(prep, filters)
    if not months or we < ws:
        return pl.DataFrame(schema={"level": pl.Utf8, "code": pl.Utf8, "name": pl.Utf8, "month": pl.Date,
                                    "month_missing": pl.Boolean, "n": pl.UInt32, "harm": pl.Float64,
                                    "unplaced_n": pl.Int64, "unplaced_share": pl.Float64})
    inc, _ = _trend_incidents(prep, filters, months)
    inc = attach_area(inc, prep, level).filter(pl.col("code").is_not_null() & (pl.col("month") >= months[ws]))
    win_months = months[ws:we + 1]
    gaps = set(missing_months(prep))
    series = profiles.monthly(inc, "code", win_months)
    grid = areas.join(pl.DataFrame({"month": win_months, "month_missing": [m in gaps for m in win_months]},
                                   schema={"month": pl.Date, "month_missing": pl.Boolean}), how="cross")
    # unplaced per month, level-wide: the ledger's rows without a place plus rows with no area
    un = _unplaced_serious(prep, filters, months, unplaced).filter(pl.col("month") >= months[ws])
    allinc, _ = _trend_incidents(prep, filters, months)
    noarea = attach_area(allinc, prep, level).filter(pl.col("code").is_null() & (pl.col("month") >= months[ws]))
    placed = inc.group_by("month").agg(pl.len().alias("_placed"))
    per_m = (pl.concat([un.select("month"), noarea.select("month")]).group_by("month").agg(pl.len().alias("unplaced_n")))
    level_m = (pl.DataFrame({"month": win_months}, schema={"month": pl.Date})
               .join(per_m, on="month", how="left").join(placed, on="month", how="left")
               .with_columns(pl.col("unplaced_n").fill_null(0).cast(pl.Int64), pl.col("_placed").fill_null(0)))
    level_m = level_m.with_columns(
        pl.when(pl.col("month").is_in(sorted(gaps))).then(None)
        .when(pl.col("unplaced_n") + pl.col("_placed") > 0)
        .then(pl.col("unplaced_n") / (pl.col("unplaced_n") + pl.col("_placed"))).alias("unplaced_share"),
        pl.when(pl.col("month").is_in(sorted(gaps))).then(None).otherwise(pl.col("unplaced_n")).alias("unplaced_n"),
    ).drop("_placed")
    if level == "force" and areas.height == 1:
        # the force's own rows without a place are in its monthly count (docs/needs.md)
        extra = un.group_by("month").agg(pl.len().alias("_un"), pl.col("harm").sum().alias("_unh"))
        series = (series.join(extra, on="month", how="full", coalesce=True)
                  .with_columns(pl.col("code").fill_null(areas["code"][0]),
                                (pl.col("n").fill_null(0) + pl.col("_un").fill_null(0)).alias("n"),
                                (pl.col("harm").fill_null(0.0) + pl.col("_unh").fill_null(0.0)).alias("harm"))
                  .drop("_un", "_unh"))
    return (
        grid.join(series, on=["code", "month"], how="left")
        .with_columns(pl.col("n").fill_null(0).cast(pl.UInt32), pl.col("harm").fill_null(0.0))
        .with_columns(pl.when(pl.col("month_missing")).then(None).otherwise(pl.col("n")).alias("n"),
                      pl.when(pl.col("month_missing")).then(None).otherwise(pl.col("harm")).alias("harm"))
        .join(level_m, on="month", how="left")
        .sort(["code", "month"])
    )


def area_categories(prep: Prepared, filters=None, level: str = "csp") -> pl.DataFrame:
    """Long category mix per area in the window: level, code, name, category, label, n, harm, share."""
    filters = _filters_of(filters)
    areas = area_table(prep, level).select("level", "code", "name")
    months, ws, we, _ = _window(prep, filters)
    if not months or we < ws:
        return areas.head(0).join(area_categories_from(prep.incidents.head(0), prep), on="code", how="inner")
    inc, _ = _trend_incidents(prep, filters, months)
    inc = attach_area(inc, prep, level).filter(pl.col("code").is_not_null() & (pl.col("month") >= months[ws]))
    return areas.join(area_categories_from(inc, prep), on="code", how="inner").sort(["code", "n"], descending=[False, True])
