"""Profiles: what, who, when and where for any grouping of incidents (locality or area).

Shares are computed over the incidents whose flag is known: a marker that the data cannot see
is null ("not known"), never counted as false, and a share with nothing known is null.
"""
from __future__ import annotations

import numpy as np
import polars as pl

# Night-time hours: 21:00 to 03:59 (the late-evening peak of licensed-premises violence).
NIGHT_START, NIGHT_END = 21, 4
NEAR_VENUE_M = 100.0
YOUTH_UNDER = 25  # the Serious Violence Duty's focus on under-25s

FLAGS = ("domestic_abuse", "knife", "youth", "sexual", "alcohol", "public_place", "night", "nte")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def add_flags(inc: pl.DataFrame, venues: pl.DataFrame | None, sexual_categories: set[str]) -> pl.DataFrame:
    """Derive the nullable flags profiles are built from (Kleene logic keeps 'not known')."""
    youth = (pl.col("victim_age") < YOUTH_UNDER) | (pl.col("suspect_age") < YOUTH_UNDER)
    sexual = (
        pl.when(pl.col("offence_code").is_null())
        .then(pl.lit(None, dtype=pl.Boolean))
        .otherwise(pl.col("categories").list.eval(pl.element().is_in(list(sexual_categories))).list.any())
    )
    public = (
        pl.when((pl.col("source") == "records") & pl.col("location_type").is_not_null())
        .then(pl.col("location_type") != "dwelling")
        .otherwise(pl.lit(None, dtype=pl.Boolean))
    )
    hour = pl.col("from_dt").dt.hour()
    night = (hour >= NIGHT_START) | (hour < NIGHT_END)
    out = inc.with_columns(
        youth.alias("youth"),
        sexual.alias("sexual"),
        public.alias("public_place"),
        night.alias("night"),
        hour.cast(pl.Int8).alias("hour"),
        # A night-time incident belongs to the evening it started: 02:00 Saturday is Friday night.
        (pl.col("from_dt") - pl.duration(hours=NIGHT_END)).dt.weekday().cast(pl.Int8).alias("night_of"),
        pl.col("from_dt").dt.weekday().cast(pl.Int8).alias("weekday"),
    )
    out = out.with_columns(near_licensed(out, venues))
    # Night-time economy needs a known time: with none (police.uk), it is not known, not false.
    nte = pl.when(pl.col("night").is_null()).then(pl.lit(None, dtype=pl.Boolean)).otherwise(
        pl.col("night") & pl.col("near_venue").is_not_null()
    )
    return out.with_columns(nte.alias("nte"))


def near_licensed(inc: pl.DataFrame, venues: pl.DataFrame | None) -> pl.Series:
    """Name of the nearest licensed venue less than NEAR_VENUE_M away, or null; of two venues
    equally near, the one listed first.

    A join on square buckets NEAR_VENUE_M wide: every venue that near lies in the incident's
    bucket or one of its 8 neighbours, so each incident is measured only against those (the
    same answer as a k-d tree query with that upper bound, without loading scipy.spatial).
    """
    name = pl.Series("near_venue", [None] * inc.height, dtype=pl.Utf8)
    if venues is None or venues.height == 0 or inc.height == 0:
        return name
    lic = venues.filter(pl.col("licensed").fill_null(False) & pl.col("easting").is_not_null()
                        & pl.col("northing").is_not_null())
    if lic.height == 0:
        return name
    r = NEAR_VENUE_M
    bucket = [(pl.col("_x") / r).floor().cast(pl.Int64).alias("_bx"),
              (pl.col("_y") / r).floor().cast(pl.Int64).alias("_by")]
    spots = (lic.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("_v"),
                        pl.col("easting").cast(pl.Float64).alias("_vx"),
                        pl.col("northing").cast(pl.Float64).alias("_vy"))
             .with_columns(pl.col("_vx").alias("_x"), pl.col("_vy").alias("_y")).with_columns(bucket))
    spots = pl.concat([spots.with_columns(pl.col("_bx") + dx, pl.col("_by") + dy)
                       for dx in (-1, 0, 1) for dy in (-1, 0, 1)])
    pts = (inc.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("_i"),
                      pl.col("easting").cast(pl.Float64).alias("_x"),
                      pl.col("northing").cast(pl.Float64).alias("_y"))
           .filter(pl.col("_x").is_finite() & pl.col("_y").is_finite()).with_columns(bucket))
    d2 = (pl.col("_x") - pl.col("_vx")) ** 2 + (pl.col("_y") - pl.col("_vy")) ** 2
    best = (pts.join(spots.drop("_x", "_y"), on=["_bx", "_by"])
            .filter(d2 < r * r)
            .group_by("_i")
            .agg(pl.col("_v").sort_by(d2, "_v").first()))
    idx = np.full(inc.height, lic.height, dtype=np.int64)
    idx[best["_i"].to_numpy()] = best["_v"].to_numpy()
    names = lic["name"].append(pl.Series([None], dtype=pl.Utf8))
    return names.gather(idx).alias("near_venue")


def flag_shares(inc: pl.DataFrame, by: str) -> pl.DataFrame:
    """Per group: n, harm, and for each flag its share among known rows and how much is known."""
    aggs = [pl.len().alias("n"), pl.col("harm").sum().alias("harm")]
    for f in FLAGS:
        col = pl.col(f)
        known = col.is_not_null().sum()
        aggs.append(pl.when(known > 0).then(col.cast(pl.Float64).sum() / known).alias(f"{f}_share"))
        aggs.append((known / pl.len()).alias(f"{f}_known"))
        aggs.append(col.cast(pl.Int64).sum().alias(f"{f}_n"))
    return inc.group_by(by).agg(aggs)


def category_mix(inc: pl.DataFrame, by: str) -> pl.DataFrame:
    """Long frame: group, category, incidents, harm, share of the group's incidents."""
    totals = inc.group_by(by).agg(pl.len().alias("group_n"))
    return (
        inc.select(by, "categories", "harm")
        .explode("categories")
        .filter(pl.col("categories").is_not_null())
        .rename({"categories": "category"})
        .group_by(by, "category")
        .agg(pl.len().alias("n"), pl.col("harm").sum().alias("harm"))
        .join(totals, on=by)
        .with_columns((pl.col("n") / pl.col("group_n")).alias("share"))
        .drop("group_n")
        .sort([by, "n", "category"], descending=[False, True, False])
    )


def time_of_week(inc: pl.DataFrame, by: str) -> pl.DataFrame:
    """Long frame of incidents by weekday (1=Mon) and hour, where times are known."""
    return (
        inc.filter(pl.col("hour").is_not_null())
        .group_by(by, "weekday", "hour")
        .agg(pl.len().alias("n"))
        .sort([by, "weekday", "hour"])
    )


def peak_times(inc: pl.DataFrame, by: str) -> pl.DataFrame:
    """Per group: the busiest day and the busiest 3-hour band, where times are known."""
    timed = inc.filter(pl.col("hour").is_not_null())
    day = (
        timed.group_by(by, "weekday")
        .agg(pl.len().alias("d"))
        .sort([by, "d", "weekday"], descending=[False, True, False])
        .group_by(by, maintain_order=True)
        .first()
        .select(by, pl.col("weekday").alias("peak_weekday"), pl.col("d").alias("peak_weekday_n"))
    )
    band = (
        timed.with_columns((pl.col("hour") // 3 * 3).alias("band"))
        .group_by(by, "band")
        .agg(pl.len().alias("b"))
        .sort([by, "b", "band"], descending=[False, True, False])
        .group_by(by, maintain_order=True)
        .first()
        .select(by, pl.col("band").alias("peak_hour_from"), pl.col("b").alias("peak_hour_n"))
    )
    timed_n = timed.group_by(by).agg(pl.len().alias("timed_n"))
    return timed_n.join(day, on=by, how="left").join(band, on=by, how="left")


def top_venues(inc: pl.DataFrame, by: str, k: int = 3) -> pl.DataFrame:
    """Per group: the k licensed venues with most harm within 100 m, as 'name (n)' strings."""
    return (
        inc.filter(pl.col("near_venue").is_not_null())
        .group_by(by, "near_venue")
        .agg(pl.len().alias("n"), pl.col("harm").sum().alias("h"))
        .sort([by, "h", "near_venue"], descending=[False, True, False])
        .group_by(by, maintain_order=True)
        .head(k)
        .group_by(by, maintain_order=True)
        .agg(pl.col("near_venue").alias("top_venues"), pl.col("n").alias("top_venue_n"))
    )


def monthly(inc: pl.DataFrame, by: str, months: list) -> pl.DataFrame:
    """Dense monthly series per group (months with no incidents are zero rows)."""
    groups = inc.select(by).unique()
    grid = groups.join(pl.DataFrame({"month": months}, schema={"month": pl.Date}), how="cross")
    counts = inc.group_by(by, "month").agg(pl.len().alias("n"), pl.col("harm").sum().alias("harm"))
    return (
        grid.join(counts, on=[by, "month"], how="left")
        .with_columns(pl.col("n").fill_null(0), pl.col("harm").fill_null(0.0))
        .sort([by, "month"])
    )
