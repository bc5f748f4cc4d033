"""Context around the violence: related crime and anti-social behaviour, and what happened next.

For every area and every hotspot locality, in the same place and window as its serious
violence: the counts of anti-social behaviour, public order, drugs and criminal damage (police.uk
crime types; record-level rows get theirs from the offence code), which partnerships read as
signs of the same pressures (the night-time economy, drug markets, disorder); and the police.uk
outcomes of its serious violence summarised as shares with Wilson 95% intervals
(`hotspot.rates.wilson_ci`): charged or summonsed, no suspect identified, still under
investigation, other. Outcomes are those on the street files ("Last outcome category") or joined
from the outcomes files; a row with no outcome is left out of the shares and counted as not known.

Numbers and reason codes only: the faces phrase them. Missing months (see
`hotspot.area_profiles.missing_months`) hold no rows, so counts are over the window's covered
months; `n_covered_only` says when that is not the whole window.
"""
from __future__ import annotations

from datetime import date

import polars as pl

from hotspot.area_profiles import _filters_of, _window, area_table, attach_area, missing_months

__all__ = [
    "CONTEXT_TYPES",
    "OUTCOME_CLASSES",
    "outcome_class",
    "area_context",
    "locality_context",
    "outcome_shares",
    "area_outcomes",
    "locality_outcomes",
]

#: police.uk crime types counted as context -> column stem.
CONTEXT_TYPES = {
    "Anti-social behaviour": "asb",
    "Public order": "public_order",
    "Drugs": "drugs",
    "Criminal damage and arson": "criminal_damage",
}

#: police.uk "Last outcome category" values that follow a charge or summons (a court stage or
#: a court result).
_CHARGED = (
    "Awaiting court outcome", "Court result unavailable", "Court case unable to proceed",
    "Defendant found not guilty", "Defendant sent to Crown Court", "Offender given absolute discharge",
    "Offender given community sentence", "Offender given conditional discharge",
    "Offender given suspended prison sentence", "Offender ordered to pay compensation",
    "Offender otherwise dealt with", "Offender sent to prison", "Offender deprived of property",
    "Offender fined", "Suspect charged as part of another case",
)
#: Outcome classes, in the order the faces show them.
OUTCOME_CLASSES = ("charged_summonsed", "no_suspect", "under_investigation", "other")


def outcome_class(col: str = "outcome") -> pl.Expr:
    """The outcome class of a police.uk outcome category; null where none is recorded."""
    v = pl.col(col).cast(pl.Utf8).str.strip_chars()
    return (
        pl.when(v.is_null() | (v == "")).then(None)
        .when(v.is_in(list(_CHARGED))).then(pl.lit("charged_summonsed"))
        .when(v == "Investigation complete; no suspect identified").then(pl.lit("no_suspect"))
        .when(v == "Under investigation").then(pl.lit("under_investigation"))
        .otherwise(pl.lit("other"))
        .alias("outcome_class")
    )


def _context_rows(prep) -> pl.DataFrame:
    inc = prep.incidents
    if inc.height == 0 or "crime_type" not in inc.columns:
        return pl.DataFrame(schema={"month": pl.Date, "lsoa_code": pl.Utf8, "easting": pl.Float64,
                                    "northing": pl.Float64, "kind": pl.Utf8})
    return inc.filter(pl.col("crime_type").is_in(list(CONTEXT_TYPES))).select(
        "month", "lsoa_code", "easting", "northing",
        pl.col("crime_type").replace_strict(CONTEXT_TYPES, default=None).alias("kind"))


def _wide_counts(rows: pl.DataFrame, by: str, keys: pl.DataFrame) -> pl.DataFrame:
    counts = rows.group_by(by, "kind").len()
    out = keys
    for stem in CONTEXT_TYPES.values():
        part = counts.filter(pl.col("kind") == stem).select(by, pl.col("len").cast(pl.Int64).alias(f"{stem}_n"))
        out = out.join(part, on=by, how="left").with_columns(pl.col(f"{stem}_n").fill_null(0))
    return out


def _window_months(prep, filters) -> tuple[list[date], list[date]]:
    months, ws, we, _ = _window(prep, filters)
    if not months or we < ws:
        return [], []
    win = months[ws:we + 1]
    gaps = set(missing_months(prep))
    return win, [m for m in win if m in gaps]


def area_context(prep, filters=None, level: str = "csp") -> pl.DataFrame:
    """Per area of `level`: asb_n, public_order_n, drugs_n, criminal_damage_n in the window.

    Also period_start, period_end, months_covered, n_covered_only, window_missing_months, and
    `unplaced_context_n` (context rows of the window with no area of the level: no LSOA).
    """
    filters = _filters_of(filters)
    areas = area_table(prep, level).select("code", "name")
    win, gaps = _window_months(prep, filters)
    rows = _context_rows(prep)
    if win:
        rows = rows.filter((pl.col("month") >= win[0]) & (pl.col("month") <= win[-1]))
    else:
        rows = rows.head(0)
    rows = attach_area(rows, prep, level)
    out = _wide_counts(rows.filter(pl.col("code").is_not_null()), "code", areas)
    return out.with_columns(
        pl.lit(win[0] if win else None, dtype=pl.Date).alias("period_start"),
        pl.lit(win[-1] if win else None, dtype=pl.Date).alias("period_end"),
        pl.lit(len(win) - len(gaps), dtype=pl.Int64).alias("months_covered"),
        pl.lit(bool(gaps)).alias("n_covered_only"),
        pl.lit([f"{m:%Y-%m}" for m in gaps], dtype=pl.List(pl.Utf8)).alias("window_missing_months"),
        pl.lit(rows.filter(pl.col("code").is_null()).height, dtype=pl.Int64).alias("unplaced_context_n"),
    ).sort("code")


def locality_context(prep, analysis) -> pl.DataFrame:
    """Per hotspot locality: the context counts inside its polygon, in the analysis's window.

    Columns: locality_id, name, asb_n, public_order_n, drugs_n, criminal_damage_n,
    period_start, period_end. Localities without a polygon get null counts.
    """
    import shapely

    loc = analysis.localities
    keys = loc.select("locality_id", "name") if loc.height else pl.DataFrame(
        schema={"locality_id": pl.Utf8, "name": pl.Utf8})
    window = getattr(analysis, "window", None)
    rows = _context_rows(prep).filter(pl.col("easting").is_not_null() & pl.col("northing").is_not_null())
    if window:
        rows = rows.filter((pl.col("month") >= window[0]) & (pl.col("month") <= window[1]))
    if loc.height == 0 or "geometry_wkb" not in loc.columns or rows.height == 0:
        out = _wide_counts(rows.head(0).with_columns(pl.lit(None, dtype=pl.Utf8).alias("locality_id")),
                           "locality_id", keys)
    else:
        geoms = shapely.from_wkb(loc["geometry_wkb"].to_numpy())
        pts = shapely.points(rows["easting"].to_numpy(), rows["northing"].to_numpy())
        poly_i, pt_i = shapely.STRtree(pts).query(geoms, predicate="contains")
        inside = pl.DataFrame({"locality_id": loc["locality_id"].gather(poly_i),
                               "kind": rows["kind"].gather(pt_i)})
        out = _wide_counts(inside, "locality_id", keys)
    return out.with_columns(
        pl.lit(window[0] if window else None, dtype=pl.Date).alias("period_start"),
        pl.lit(window[1] if window else None, dtype=pl.Date).alias("period_end"),
    )


def outcome_shares(incidents: pl.DataFrame, by: str) -> pl.DataFrame:
    """Outcome shares of `incidents` per `by`, with Wilson 95% intervals.

    Columns: by, n (incidents), outcomes_known (with an outcome), and per class in
    OUTCOME_CLASSES `<class>_n`, `<class>_share`, `<class>_lower`, `<class>_upper` (shares of
    the incidents with a known outcome; null with `outcomes_reason` "no_outcomes" when none is
    known).
    """
    from hotspot.rates import wilson_ci

    if "outcome" not in incidents.columns:
        incidents = incidents.with_columns(pl.lit(None, dtype=pl.Utf8).alias("outcome"))
    cls = incidents.select(by, outcome_class().alias("_cls"))
    agg = cls.group_by(by).agg(
        pl.len().cast(pl.Int64).alias("n"),
        pl.col("_cls").is_not_null().sum().cast(pl.Int64).alias("outcomes_known"),
        *[(pl.col("_cls") == c).sum().cast(pl.Int64).alias(f"{c}_n") for c in OUTCOME_CLASSES],
    )
    known = agg["outcomes_known"].to_numpy().astype(float)
    cols = []
    for c in OUTCOME_CLASSES:
        p, lo, hi = wilson_ci(agg[f"{c}_n"].to_numpy().astype(float), known)
        cols += [pl.Series(f"{c}_share", p), pl.Series(f"{c}_lower", lo), pl.Series(f"{c}_upper", hi)]
    out = agg.with_columns(cols).with_columns(
        [pl.col(f"{c}_{s}").fill_nan(None) for c in OUTCOME_CLASSES for s in ("share", "lower", "upper")])
    return out.with_columns(
        pl.when(pl.col("outcomes_known") == 0).then(pl.lit("no_outcomes")).alias("outcomes_reason"))


def _serious_in_window(prep, filters) -> pl.DataFrame:
    from dataclasses import replace

    from hotspot.analysis import select

    win, _ = _window_months(prep, filters)
    if not win:
        return prep.serious.head(0)
    inc, _ = select(prep, replace(filters, start=win[0], end=win[-1]))
    return inc


def area_outcomes(prep, filters=None, level: str = "csp") -> pl.DataFrame:
    """Outcome shares of each area's serious violence in the window (see `outcome_shares`);
    every area of the level has a row (zero counts, null shares, reason "no_outcomes")."""
    filters = _filters_of(filters)
    areas = area_table(prep, level).select("code", "name")
    inc = attach_area(_serious_in_window(prep, filters), prep, level).filter(pl.col("code").is_not_null())
    shares = outcome_shares(inc, "code")
    out = areas.join(shares, on="code", how="left").with_columns(
        *[pl.col(c).fill_null(0) for c in ("n", "outcomes_known", *[f"{k}_n" for k in OUTCOME_CLASSES])])
    return out.with_columns(pl.when(pl.col("outcomes_known") == 0).then(pl.lit("no_outcomes"))
                            .alias("outcomes_reason")).sort("code")


def locality_outcomes(analysis) -> pl.DataFrame:
    """Outcome shares of each hotspot locality's serious violence (its member incidents)."""
    inc = analysis.incidents.filter(pl.col("locality_id").is_not_null())
    keys = analysis.localities.select("locality_id", "name") if analysis.localities.height else pl.DataFrame(
        schema={"locality_id": pl.Utf8, "name": pl.Utf8})
    shares = outcome_shares(inc, "locality_id")
    out = keys.join(shares, on="locality_id", how="left").with_columns(
        *[pl.col(c).fill_null(0) for c in ("n", "outcomes_known", *[f"{k}_n" for k in OUTCOME_CLASSES])])
    return out.with_columns(pl.when(pl.col("outcomes_known") == 0).then(pl.lit("no_outcomes"))
                            .alias("outcomes_reason"))

