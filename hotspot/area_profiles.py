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
from hotspot.analysis import Filters, Prepared, select
from hotspot.trend import mann_kendall

__all__ = [
    "LEVELS",
    "SHARE_FLAGS",
    "SMALL_BASE",
    "NOT_KNOWN",
    "area_profiles",
    "area_monthly",
    "area_categories",
    "area_table",
    "attach_area",
    "study_months",
    "population_column",
    "area_population",
    "period_stats",
    "month_end_text",
]

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
                 reason: pl.Expr) -> pl.Expr:
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


def period_stats(M: np.ndarray, months: list[date], ws: int, we: int) -> pl.DataFrame:
    """Counts, 12-month blocks, changes, sentences and trend per row of the (areas x months) M.

    `months` are the trend months (first study month to the window's end), ws..we the window.
    Latest 12 months end at we; the comparison year is the 12 before; the three-year change
    compares the latest year with the 12 months ending 24 months earlier (the first year of a
    three-year span, so 36 months of data suffice).
    """
    A = M.shape[0]
    T = len(months)
    n_window = max(0, we - ws + 1)
    window = M[:, ws:we + 1] if n_window else np.zeros((A, 0))

    def block(k: int) -> np.ndarray | None:
        lo, hi = we - 12 * (k + 1) + 1, we - 12 * k
        if lo < 0 or hi < 0 or T == 0:
            return None
        return M[:, lo:hi + 1].sum(axis=1)

    latest, prev, base3 = block(0), block(1), block(2)
    none = np.full(A, np.nan)
    if n_window >= 3:
        mk = mann_kendall(window)
        tau, p = mk.tau, mk.p
        direction = np.array(["falling", "no clear trend", "rising"])[mk.direction(0.05) + 1]
    else:
        tau, p, direction = none, none, np.full(A, "too few months", dtype=object)
    end = months[we] if T and we >= 0 else None
    df = pl.DataFrame(
        {
            "n": window.sum(axis=1),
            "per_month": window.sum(axis=1) / n_window if n_window else none,
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
    )
    if end is None:
        return df.with_columns(
            pl.lit(None, dtype=pl.Float64).alias("change_12m"), pl.lit("not available: no months with data").alias("change_12m_text"),
            pl.lit(None, dtype=pl.Float64).alias("change_3y"), pl.lit("not available: no months with data").alias("change_3y_text"),
        )
    end_text = month_end_text(end)
    have = len(months)
    reason12 = pl.lit(f"not available: needs 24 months of data up to {end:%B %Y}; the study has {have}")
    reason3 = pl.lit(f"not available: needs 36 months of data up to {end:%B %Y}; the study has {have}")
    base_end = _mdate(_mindex(end) - 24)
    df = df.with_columns(
        pl.when(pl.col("previous_12m") > 0).then(pl.col("latest_12m") / pl.col("previous_12m") - 1).alias("change_12m"),
        pl.when(pl.col("base_3y_12m") > 0).then(pl.col("latest_12m") / pl.col("base_3y_12m") - 1).alias("change_3y"),
    )
    return df.with_columns(
        _change_text("latest_12m", "previous_12m", "change_12m", f"in the year to {end_text}", "",
                     "the year before", reason12).alias("change_12m_text"),
        _change_text("latest_12m", "base_3y_12m", "change_3y", f"over the three years to {end_text}",
                     f" in the year to {month_end_text(base_end)}", f"in the year to {month_end_text(base_end)}",
                     reason3).alias("change_3y_text"),
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
    return profiles.flag_shares(inc, "code")


def area_profiles(prep: Prepared, analysis_or_filters=None, level: str = "csp", *,
                  indicators: pl.DataFrame | None = None, notes: list[str] | None = None) -> pl.DataFrame:
    """One row per area of `level` with the profile of its serious violence.

    analysis_or_filters: an Analysis (its filters are used) or Filters. The window is the
    filters' start..end within the study's months; change and trend look back from its end.
    indicators: the study's indicator frame, for the population (rates per 1,000).
    notes: a list that receives notes about the data (months left out, filters).
    """
    filters = _filters_of(analysis_or_filters)
    out_notes = notes if notes is not None else []
    areas = area_table(prep, level)
    months, ws, we, wnotes = _window(prep, filters)
    out_notes.extend(wnotes)
    inc, snotes = _trend_incidents(prep, filters, months)
    out_notes.extend(snotes)
    inc = attach_area(inc, prep, level)
    unplaced = inc.filter(pl.col("code").is_null()).height
    if unplaced:
        out_notes.append(f"{unplaced:,} serious incidents have no {LEVEL_NAMES[level]} (no LSOA) and are not in these profiles.")
    inc = inc.filter(pl.col("code").is_not_null())
    codes = areas["code"]
    M = _dense(inc, codes, months)
    H = _dense(inc, codes, months, weight="harm")
    stats = period_stats(M, months, ws, we)
    win = inc.filter(pl.col("month") >= months[ws]) if months and we >= ws else inc.head(0)
    harm = H[:, ws:we + 1].sum(axis=1) if months and we >= ws else np.zeros(codes.len())

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

    # rates per 1,000 residents
    pop, _col = area_population(prep, indicators, level)
    out = out.join(pop, on="code", how="left").with_columns(
        pl.when((pl.col("population") > 0) & (pl.col("months") > 0)).then(pl.col("n") / pl.col("population") * 1000)
        .alias("rate_per_1000"),
        pl.when(pl.col("population") > 0).then(pl.col("latest_12m") / pl.col("population") * 1000).alias("rate_per_1000_year"),
    )

    # shares
    shares = _share_frame(win)
    keep = ["code"] + [c for f in SHARE_FLAGS for c in (f"{f}_share", f"{f}_known", f"{f}_n")]
    out = out.join(shares.select(keep), on="code", how="left")
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


def area_monthly(prep: Prepared, filters=None, level: str = "csp") -> pl.DataFrame:
    """Dense monthly series per area: level, code, name, month, n, harm (window months only)."""
    filters = _filters_of(filters)
    areas = area_table(prep, level).select("level", "code", "name")
    months, ws, we, _ = _window(prep, filters)
    if not months or we < ws:
        return pl.DataFrame(schema={"level": pl.Utf8, "code": pl.Utf8, "name": pl.Utf8, "month": pl.Date,
                                    "n": pl.UInt32, "harm": pl.Float64})
    inc, _ = _trend_incidents(prep, filters, months)
    inc = attach_area(inc, prep, level).filter(pl.col("code").is_not_null() & (pl.col("month") >= months[ws]))
    win_months = months[ws:we + 1]
    series = profiles.monthly(inc, "code", win_months)
    grid = areas.join(pl.DataFrame({"month": win_months}, schema={"month": pl.Date}), how="cross")
    return (
        grid.join(series, on=["code", "month"], how="left")
        .with_columns(pl.col("n").fill_null(0).cast(pl.UInt32), pl.col("harm").fill_null(0.0))
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
