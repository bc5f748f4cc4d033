"""Repeat locations: where an area's serious violence concentrates, point by snapped point.

police.uk snaps every crime to one of about 750,000 anonymous map points and labels it ("On or
near Nightclub", "On or near High Street"); record-level data carries its own location text. A
market town that never reaches a hotspot locality's threshold still has a handful of points that
hold much of its violence (the law of crime concentration, Weisburd 2015). `repeat_locations`
ranks, per area, the points with the most serious incidents in the window; `repeat_monthly`
gives each listed point's monthly counts, a missing month (see
`hotspot.area_profiles.missing_months`) null, never 0.

A point is its label plus its coordinates (rounded to the metre): one label ("On or near Parking
Area") names many different points, and a label alone would merge them. Numbers only.
"""
from __future__ import annotations

import polars as pl

from hotspot.area_profiles import _filters_of, _window, area_table, attach_area, missing_months

__all__ = ["TOP_N", "MIN_REPEATS", "repeat_locations", "repeat_monthly"]

#: How many points are listed per area.
TOP_N = 10
#: A point is a repeat location from this many incidents in the window (one is not a pattern).
MIN_REPEATS = 2


def _points(prep, filters, level: str):
    from dataclasses import replace

    from hotspot.analysis import select

    months, ws, we, _ = _window(prep, filters)
    if not months or we < ws:
        return None, [], []
    win = months[ws:we + 1]
    inc, _ = select(prep, replace(filters, start=win[0], end=win[-1]))
    inc = attach_area(inc, prep, level).filter(
        pl.col("code").is_not_null() & pl.col("easting").is_not_null() & pl.col("northing").is_not_null())
    loc = pl.col("location").cast(pl.Utf8) if "location" in inc.columns else pl.lit(None, dtype=pl.Utf8)
    inc = inc.with_columns(
        loc.fill_null("").alias("location"),
        pl.col("easting").round(0).alias("x"), pl.col("northing").round(0).alias("y"),
    )
    gaps = set(missing_months(prep))
    return inc, win, [m for m in win if m in gaps]


def repeat_locations(prep, filters=None, level: str = "csp", top: int = TOP_N,
                     min_repeats: int = MIN_REPEATS) -> pl.DataFrame:
    """Per area of `level`, its `top` points by serious incidents in the window.

    Columns: code, name, rank (1 = most), location (the label; "" where the data has none),
    easting, northing (the snapped point), n, harm, area_n (the area's located serious
    incidents), share_of_area_n (n / area_n, a share of the same incidents, so at most 1),
    months_covered, n_covered_only. Only points with at least `min_repeats` incidents.
    """
    filters = _filters_of(filters)
    areas = area_table(prep, level).select("code", "name")
    inc, win, gaps = _points(prep, filters, level)
    schema = {"code": pl.Utf8, "name": pl.Utf8, "rank": pl.Int64, "location": pl.Utf8, "easting": pl.Float64,
              "northing": pl.Float64, "n": pl.Int64, "harm": pl.Float64, "area_n": pl.Int64,
              "share_of_area_n": pl.Float64, "months_covered": pl.Int64, "n_covered_only": pl.Boolean}
    if inc is None or inc.height == 0:
        return pl.DataFrame(schema=schema)
    area_n = inc.group_by("code").agg(pl.len().cast(pl.Int64).alias("area_n"))
    pts = (
        inc.group_by("code", "location", "x", "y")
        .agg(pl.len().cast(pl.Int64).alias("n"), pl.col("harm").cast(pl.Float64).fill_null(0.0).sum().alias("harm"))
        .filter(pl.col("n") >= min_repeats)
        .sort(["code", "n", "harm", "location", "x", "y"], descending=[False, True, True, False, False, False])
        .with_columns(pl.int_range(1, pl.len() + 1).over("code").cast(pl.Int64).alias("rank"))
        .filter(pl.col("rank") <= top)
    )
    out = pts.join(area_n, on="code", how="left").join(areas, on="code", how="left").with_columns(
        (pl.col("n") / pl.col("area_n")).alias("share_of_area_n"),
        pl.lit(len(win) - len(gaps), dtype=pl.Int64).alias("months_covered"),
        pl.lit(bool(gaps)).alias("n_covered_only"),
    ).rename({"x": "easting", "y": "northing"})
    return out.select(list(schema)).sort(["code", "rank"])


def repeat_monthly(prep, filters=None, level: str = "csp", top: int = TOP_N,
                   min_repeats: int = MIN_REPEATS) -> pl.DataFrame:
    """Monthly counts of every point `repeat_locations` lists: code, rank, location, easting,
    northing, month, month_missing, n (null in a missing month, 0 in a covered month without
    incidents)."""
    filters = _filters_of(filters)
    ranked = repeat_locations(prep, filters, level, top, min_repeats)
    inc, win, gaps = _points(prep, filters, level)
    schema = {"code": pl.Utf8, "rank": pl.Int64, "location": pl.Utf8, "easting": pl.Float64, "northing": pl.Float64,
              "month": pl.Date, "month_missing": pl.Boolean, "n": pl.Int64}
    if inc is None or ranked.height == 0:
        return pl.DataFrame(schema=schema)
    counts = inc.group_by("code", "location", "x", "y", "month").agg(pl.len().cast(pl.Int64).alias("n")).rename(
        {"x": "easting", "y": "northing"})
    months = pl.DataFrame({"month": win, "month_missing": [m in set(gaps) for m in win]},
                          schema={"month": pl.Date, "month_missing": pl.Boolean})
    grid = ranked.select("code", "rank", "location", "easting", "northing").join(months, how="cross")
    out = grid.join(counts, on=["code", "location", "easting", "northing", "month"], how="left").with_columns(
        pl.when(pl.col("month_missing")).then(None).otherwise(pl.col("n").fill_null(0)).alias("n"))
    return out.select(list(schema)).sort(["code", "rank", "month"])
