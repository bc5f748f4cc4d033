"""Hotspot localities: named, bounded places where serious violence concentrates.

Density clustering (weighted DBSCAN, Ester et al. 1996, see hotspot.dbscan) over the distinct incident points,
weighted by how many incidents share each point (police.uk snaps crimes to map points), finds
dense places; a cluster becomes a locality only where the Gi* surface says the concentration is
significant. Each locality gets a polygon, a name from its dominant venue or street and its
ward, its areas, counts and harm, and a stable id from its OS grid reference.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import shapely
from scipy.spatial import cKDTree

from hotspot.dbscan import dbscan
from hotspot.osgrid import os_grid_ref

LOCALITY_COLUMNS = {
    "locality_id": pl.Utf8,
    "name": pl.Utf8,
    "place": pl.Utf8,
    "focus": pl.Utf8,
    "lsoa_code": pl.Utf8,
    "x": pl.Float64,
    "y": pl.Float64,
    "n_incidents": pl.Int64,
    "harm": pl.Float64,
    "area_m2": pl.Float64,
    "gi_max_z": pl.Float64,
    "geometry_wkb": pl.Binary,
}


@dataclass(frozen=True)
class ClusterParams:
    eps_m: float = 250.0  # points closer than this are neighbours (>= police.uk snapping scale)
    min_incidents: int | None = None  # None: chosen from the data (see min_incidents_for)
    buffer_m: float = 100.0  # polygon = union of buffers around member points


def min_incidents_for(n: int) -> int:
    """Minimum incidents for a locality: 0.5% of the incidents in the window, at least 5.

    Scaling with the window keeps localities place-sized: a fixed cap let three years of data
    chain whole town centres into one 15 km² 'locality' (bench/README.md, force-scale set).
    """
    return int(max(5, round(0.005 * n)))


def _street_name(label: pl.Expr) -> pl.Expr:
    return label.str.replace(r"^(?i:on or near)\s+", "").str.strip_chars()


def find_localities(
    incidents: pl.DataFrame,
    hot_mask_fn=None,
    venues: pl.DataFrame | None = None,
    hierarchy: pl.DataFrame | None = None,
    params: ClusterParams = ClusterParams(),
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cluster incidents into localities.

    incidents: easting, northing, harm, location, location_type, lsoa_code (one row per incident).
    hot_mask_fn: f(x, y) -> bool array, True where a point lies in a significant Gi* hot cell;
      None keeps every dense cluster.
    Returns (localities, membership) where membership has one row per incident index
    (`row_nr`) with its `locality_id` (null outside localities).
    """
    inc = incidents.with_row_index("row_nr").filter(
        pl.col("easting").is_not_null() & pl.col("northing").is_not_null()
    )
    empty = pl.DataFrame(schema=LOCALITY_COLUMNS)
    no_members = pl.DataFrame(schema={"row_nr": pl.UInt32, "locality_id": pl.Utf8})
    if inc.height == 0:
        return empty, no_members

    pts = (
        inc.group_by(["easting", "northing"])
        .agg(pl.len().alias("n"), pl.col("harm").sum().alias("harm"))
        .sort(["easting", "northing"])
    )
    X = pts.select("easting", "northing").to_numpy()
    min_n = params.min_incidents or min_incidents_for(inc.height)
    labels = dbscan(X, params.eps_m, min_n, sample_weight=pts["n"].to_numpy())
    pts = pts.with_columns(pl.Series("cluster", labels))

    if hot_mask_fn is not None:
        hot = np.asarray(hot_mask_fn(X[:, 0], X[:, 1]), dtype=bool)
        hot_clusters = np.unique(labels[(labels >= 0) & hot])
        keep = np.isin(labels, hot_clusters)
        pts = pts.with_columns(pl.when(pl.Series(keep)).then(pl.col("cluster")).otherwise(-1).alias("cluster"))

    members = inc.join(pts.select("easting", "northing", "cluster"), on=["easting", "northing"], how="left")
    members = members.filter(pl.col("cluster") >= 0)
    if members.height == 0:
        return empty, no_members

    summary = (
        members.group_by("cluster")
        .agg(
            pl.len().alias("n_incidents"),
            pl.col("harm").sum().alias("harm"),
            ((pl.col("easting") * pl.col("harm")).sum() / pl.col("harm").sum()).alias("x"),
            ((pl.col("northing") * pl.col("harm")).sum() / pl.col("harm").sum()).alias("y"),
        )
        .sort("cluster")
    )
    geoms = _polygons(pts.filter(pl.col("cluster") >= 0), summary["cluster"].to_numpy(), params.buffer_m)
    summary = summary.with_columns(
        pl.Series("geometry_wkb", shapely.to_wkb(geoms), dtype=pl.Binary),
        pl.Series("area_m2", shapely.area(geoms)),
    )
    summary = summary.join(_dominant_lsoa(members), on="cluster", how="left")
    summary = summary.join(_focus(members, venues, params.buffer_m), on="cluster", how="left")
    summary = _place_names(summary, hierarchy)
    summary = _ids(summary)
    gi = (
        pl.Series("gi", np.asarray(hot_mask_fn.z(summary["x"].to_numpy(), summary["y"].to_numpy())))
        if hot_mask_fn is not None and hasattr(hot_mask_fn, "z")
        else pl.lit(None, dtype=pl.Float64)
    )
    summary = summary.with_columns(gi.alias("gi_max_z"))
    membership = members.join(summary.select("cluster", "locality_id"), on="cluster").select(
        "row_nr", "locality_id"
    )
    localities = summary.select(list(LOCALITY_COLUMNS)).sort("harm", descending=True)
    return localities, membership


def _polygons(cluster_pts: pl.DataFrame, clusters: np.ndarray, buffer_m: float) -> np.ndarray:
    """Union of point buffers per cluster (a loop over clusters, not over incidents)."""
    cp = cluster_pts.sort("cluster")
    lab = cp["cluster"].to_numpy()
    circles = shapely.buffer(shapely.points(cp["easting"].to_numpy(), cp["northing"].to_numpy()), buffer_m, quad_segs=4)
    starts = np.searchsorted(lab, clusters, side="left")
    ends = np.searchsorted(lab, clusters, side="right")
    out = [shapely.simplify(shapely.union_all(circles[s:e]), 10.0) for s, e in zip(starts, ends)]
    return np.array(out, dtype=object)


def _dominant_lsoa(members: pl.DataFrame) -> pl.DataFrame:
    if "lsoa_code" not in members.columns:
        return pl.DataFrame(schema={"cluster": pl.Int64, "lsoa_code": pl.Utf8})
    return (
        members.filter(pl.col("lsoa_code").is_not_null())
        .group_by("cluster", "lsoa_code")
        .agg(pl.col("harm").sum().alias("h"))
        .sort(["cluster", "h", "lsoa_code"], descending=[False, True, False])
        .group_by("cluster", maintain_order=True)
        .first()
        .select("cluster", "lsoa_code")
    )


def _top_label(members: pl.DataFrame, where: pl.Expr, name: str) -> pl.DataFrame:
    """Per cluster, the location label (without 'On or near') carrying most harm."""
    return (
        members.filter(pl.col("location").is_not_null() & where)
        .with_columns(_street_name(pl.col("location")).alias(name))
        .filter(pl.col(name) != "")
        .group_by("cluster", name)
        .agg(pl.col("harm").sum().alias("h"))
        .sort(["cluster", "h", name], descending=[False, True, False])
        .group_by("cluster", maintain_order=True)
        .first()
        .select("cluster", name)
    )


def _focus(members: pl.DataFrame, venues: pl.DataFrame | None, radius: float) -> pl.DataFrame:
    """The locality's focus: its venue with most harm, else its main street with its place type.

    police.uk labels are either streets ("On or near Foregate Street") or place types ("On or
    near Nightclub"); a name like "Foregate Street (nightclub)" uses both.
    """
    is_street = pl.col("location_type").is_null() | pl.col("location_type").is_in(["street", "dwelling", "other"])
    streets = _top_label(members, is_street, "street")
    places = _top_label(members, ~is_street, "place_label")
    focus = streets.join(places, on="cluster", how="full", coalesce=True).select(
        "cluster",
        pl.when(pl.col("street").is_not_null() & pl.col("place_label").is_not_null())
        .then(pl.col("street") + pl.lit(" (") + pl.col("place_label").str.to_lowercase() + pl.lit(")"))
        .otherwise(pl.coalesce("street", "place_label"))
        .alias("focus"),
    )
    if venues is None or venues.height == 0 or "origin" not in venues.columns:
        return focus
    named = venues.filter((pl.col("origin") == "file") & pl.col("easting").is_not_null())
    if named.height == 0:
        return focus
    tree = cKDTree(named.select("easting", "northing").to_numpy())
    _, idx = tree.query(members.select("easting", "northing").to_numpy(), k=1, distance_upper_bound=radius)
    near = idx < named.height
    if not near.any():
        return focus
    hits = pl.DataFrame(
        {
            "cluster": members["cluster"].to_numpy()[near],
            "venue": named["name"].to_numpy()[idx[near]],
            "h": members["harm"].to_numpy()[near],
        }
    )
    top = (
        hits.group_by("cluster", "venue")
        .agg(pl.col("h").sum())
        .sort(["cluster", "h", "venue"], descending=[False, True, False])
        .group_by("cluster", maintain_order=True)
        .first()
        .select("cluster", "venue")
    )
    return focus.join(top, on="cluster", how="full", coalesce=True).select(
        "cluster", pl.coalesce("venue", "focus").alias("focus")
    )


def _place_names(summary: pl.DataFrame, hierarchy: pl.DataFrame | None) -> pl.DataFrame:
    """Place = the ward of the dominant LSOA (or the LSOA name's town part) in its district."""
    if hierarchy is not None and hierarchy.height and "lsoa_code" in summary.columns:
        h = hierarchy.select(
            "lsoa_code",
            *[c for c in ("ward_name", "district_name", "lsoa_name") if c in hierarchy.columns],
        )
        summary = summary.join(h, on="lsoa_code", how="left")
    for c in ("ward_name", "district_name", "lsoa_name"):
        if c not in summary.columns:
            summary = summary.with_columns(pl.lit(None, dtype=pl.Utf8).alias(c))
    town = pl.col("lsoa_name").str.replace(r"\s+\d{3}[A-Z]$", "")
    place = (
        pl.when(pl.col("ward_name").is_not_null() & pl.col("district_name").is_not_null())
        .then(pl.col("ward_name") + pl.lit(", ") + pl.col("district_name").str.replace(r", County of$", ""))
        .otherwise(pl.coalesce(pl.col("ward_name"), town, pl.col("district_name"), pl.lit("Unnamed area")))
    )
    summary = summary.with_columns(place.alias("place"))
    name = (
        pl.when(pl.col("focus").is_not_null())
        .then(pl.col("place") + pl.lit(" - ") + pl.col("focus"))
        .otherwise(pl.col("place"))
    )
    return summary.with_columns(name.alias("name"))


def _ids(summary: pl.DataFrame) -> pl.DataFrame:
    """Stable ids: 'L-' + the 100 m OS grid reference of the harm-weighted centre."""
    refs = os_grid_ref(summary["x"].to_numpy(), summary["y"].to_numpy(), digits=3)
    s = summary.with_columns(pl.Series("ref", refs, dtype=pl.Utf8)).sort(["ref", "x", "y"])
    dup = pl.int_range(pl.len()).over("ref")
    return s.with_columns(
        pl.when(dup == 0)
        .then(pl.lit("L-") + pl.col("ref"))
        .otherwise(pl.lit("L-") + pl.col("ref") + pl.lit("-") + (dup + 1).cast(pl.Utf8))
        .alias("locality_id")
    )
