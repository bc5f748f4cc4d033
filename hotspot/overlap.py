"""Shares of an area's figure held by a hotspot locality, computed on the overlap of the two.

A locality (a cluster of grid cells) does not follow area boundaries: it can straddle two LSOAs,
wards or CSPs. "The locality holds x% of the harm in the LSOA" must then count only the
locality's incidents *inside* that LSOA, over all of the LSOA's incidents; dividing the whole
locality's harm by one LSOA's harm gave 125% on West Mercia 2024 (issue 12). Here both
numerator and denominator come from the same incidents (the analysis's filtered serious
incidents), the numerator a subset of the denominator, so no share can exceed 1.
"""
from __future__ import annotations

import polars as pl

from hotspot.area_profiles import area_table, attach_area

__all__ = ["locality_area_shares", "SHARE_COLUMNS"]

#: Columns of `locality_area_shares` that are shares (0..1 by construction).
SHARE_COLUMNS = ("share_of_area_n", "share_of_area_harm", "share_of_locality_n", "share_of_locality_harm")


def locality_area_shares(prep, analysis, level: str = "lsoa") -> pl.DataFrame:
    """One row per (locality, area of `level`) they share: the overlap's figures and shares.

    Columns: locality_id, level, code, name, n, harm (the locality's incidents inside the area),
    area_n, area_harm (every filtered serious incident of the area in the window),
    share_of_area_n, share_of_area_harm (overlap / area), locality_n, locality_harm,
    share_of_locality_n, share_of_locality_harm (overlap / the locality's whole), main (the area
    holding most of the locality's harm; ties go to the lower code). Shares are null where the
    denominator is 0.
    """
    inc = analysis.incidents
    schema = {"locality_id": pl.Utf8, "level": pl.Utf8, "code": pl.Utf8, "name": pl.Utf8, "n": pl.UInt32,
              "harm": pl.Float64, "area_n": pl.UInt32, "area_harm": pl.Float64}
    if inc.height == 0 or "locality_id" not in inc.columns:
        return pl.DataFrame(schema=schema)
    inc = attach_area(inc.select("lsoa_code", "locality_id", pl.col("harm").cast(pl.Float64).fill_null(0.0)),
                      prep, level)
    area = inc.filter(pl.col("code").is_not_null()).group_by("code").agg(
        pl.len().alias("area_n"), pl.col("harm").sum().alias("area_harm"))
    members = inc.filter(pl.col("locality_id").is_not_null())
    whole = members.group_by("locality_id").agg(pl.len().alias("locality_n"), pl.col("harm").sum().alias("locality_harm"))
    over = (members.filter(pl.col("code").is_not_null())
            .group_by("locality_id", "code").agg(pl.len().alias("n"), pl.col("harm").sum().alias("harm")))
    names = area_table(prep, level).select("code", "name")
    div = lambda a, b: pl.when(pl.col(b) > 0).then(pl.col(a) / pl.col(b))  # noqa: E731
    out = (
        over.join(area, on="code", how="left").join(whole, on="locality_id", how="left")
        .join(names, on="code", how="left")
        .with_columns(
            pl.lit(level).alias("level"),
            div("n", "area_n").alias("share_of_area_n"),
            div("harm", "area_harm").alias("share_of_area_harm"),
            div("n", "locality_n").alias("share_of_locality_n"),
            div("harm", "locality_harm").alias("share_of_locality_harm"),
        )
        .sort(["locality_id", "harm", "code"], descending=[False, True, False])
    )
    out = out.with_columns((pl.int_range(pl.len()).over("locality_id") == 0).alias("main"))
    return out.select("locality_id", "level", "code", "name", "n", "harm", "area_n", "area_harm",
                      *SHARE_COLUMNS, "locality_n", "locality_harm", "main")
