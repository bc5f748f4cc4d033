"""Hotspot localities: the grid cells the predictive map score ranks highest, grouped into places.

A locality is exactly what is scored (docs/localities.md):

1. *Area budget.* The cells with the highest map score (hotspot.analysis.map_score, the ranking
   the backtests check) are taken until they cover the chosen share of the study area
   (`area_share`, percent; default 1%, the middle of the 0.5-2% that patrol and problem-solving
   plans work at). Only cells with a positive score are taken, so the share can fall short.
2. *Places.* Chosen cells that touch (side or corner) form one locality; `max_localities` keeps
   the ones with the highest total score.
3. *Polygon.* The union of the locality's cells; its incidents are the incidents in those cells,
   so every figure about it is computed from what lies inside its polygon.
4. *Identity.* The id is the 100 m OS grid reference of its *anchor*, the cell with the most harm
   over the whole study (not the window), so the same place keeps its id when the window moves.
   Its name comes from labels inside that cell: the most frequent police.uk street label (a
   place-type label such as "Parking Area" is a type, never a name) and, where a venues file
   names one, the venue in the locality with most harm.
5. *Adopted sets.* Localities frozen with `svtui localities adopt` come back as the same
   polygons, ids and names; candidate places outside them are marked `new`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import shapely

from hotspot.osgrid import os_grid_ref

DEFAULT_AREA_SHARE = 1.0  # percent of the study area (docs/localities.md: why 1%)
ADOPTED_PREFIX = "L-"


@dataclass(frozen=True)
class AdoptedLocality:
    """One frozen locality (read from the workspace by the faces): polygon in BNG as WKT."""

    id: str
    name: str
    wkt: str
    adopted: str | None = None  # ISO date it was adopted


def budget_cells(area_share_pct: float, study_area_m2: float, cell_area_m2: float) -> int:
    """How many cells make `area_share_pct` percent of the study area (nearest whole cell)."""
    if study_area_m2 <= 0 or cell_area_m2 <= 0:
        return 0
    return int(np.floor(area_share_pct / 100.0 * study_area_m2 / cell_area_m2 + 0.5))


def choose_cells(score: np.ndarray, k: int, exclude: np.ndarray | None = None) -> np.ndarray:
    """Indices of the k highest positive scores, best first (ties: lower index first)."""
    s = np.asarray(score, dtype=float)
    ok = np.isfinite(s) & (s > 0)
    if exclude is not None:
        ok &= ~exclude
    idx = np.flatnonzero(ok)
    if k <= 0 or idx.size == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((idx, -s[idx]))
    return idx[order[:k]]


def group_cells(grid, cell_flat: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Connected-component label (0..c-1) of each chosen study cell; 8-neighbour adjacency."""
    if chosen.size == 0:
        return np.zeros(0, dtype=np.int64)
    return components8(cell_flat[chosen], grid.ncols)


def components8(flat: np.ndarray, ncols: int) -> np.ndarray:
    """8-connected components of raster cells (flat row-major indices, distinct), numbered
    0..c-1 in the raster order of each component's first cell, as scipy.ndimage.label with a
    3x3 structure numbers them (tests/test_localities.py checks the two agree).

    Union-find over the neighbour pairs, all at once: each round hooks every pair's larger
    root under its smaller one, then halves paths until every cell points at its root, so a
    component's root is its smallest (first in raster order) cell. Only the chosen cells are
    touched (a locality budget is ~1% of the grid), never the whole raster.
    """
    flat = np.asarray(flat, dtype=np.int64)
    order = np.argsort(flat, kind="stable")
    keys = flat[order]
    n = keys.size
    col = keys % ncols
    i_parts, j_parts = [], []
    for step, dc in ((1, 1), (ncols - 1, -1), (ncols, 0), (ncols + 1, 1)):  # E, SW, S, SE
        target = keys + step
        pos = np.minimum(np.searchsorted(keys, target), n - 1)
        ok = (keys[pos] == target) & (col + dc >= 0) & (col + dc < ncols)
        i_parts.append(np.flatnonzero(ok))
        j_parts.append(pos[ok])
    i, j = np.concatenate(i_parts), np.concatenate(j_parts)
    root = np.arange(n)
    while i.size:
        ri, rj = root[i], root[j]
        differ = ri != rj
        if not differ.any():
            break
        lo, hi = np.minimum(ri[differ], rj[differ]), np.maximum(ri[differ], rj[differ])
        np.minimum.at(root, hi, lo)  # hi is a root: hook it under the smaller root
        while True:
            up = root[root]
            if np.array_equal(up, root):
                break
            root = up
    _, dense = np.unique(root, return_inverse=True)
    out = np.empty(n, dtype=np.int64)
    out[order] = dense
    return out


def cells_in_polygon(grid, cell_flat: np.ndarray, wkt: str) -> np.ndarray:
    """Study-cell indices whose centre lies inside a polygon (an adopted locality)."""
    geom = shapely.from_wkt(wkt)
    x0, y0, x1, y1 = geom.bounds
    r0, c0 = grid.cell_index(np.array([x0]), np.array([y0]))
    r1, c1 = grid.cell_index(np.array([x1]), np.array([y1]))
    rows, cols = grid.from_flat(cell_flat)
    rlo, rhi = (r0[0] if r0[0] >= 0 else 0), (r1[0] if r1[0] >= 0 else grid.nrows - 1)
    clo, chi = (c0[0] if c0[0] >= 0 else 0), (c1[0] if c1[0] >= 0 else grid.ncols - 1)
    near = np.flatnonzero((rows >= rlo) & (rows <= rhi) & (cols >= clo) & (cols <= chi))
    if near.size == 0:
        return near
    cx, cy = grid.centres()
    f = cell_flat[near]
    return near[shapely.contains_xy(geom, cx[f], cy[f])]


def cell_polygons(grid, flat_ids: np.ndarray, labels: np.ndarray, n_groups: int) -> np.ndarray:
    """Union of each group's cells (exact: cell edges are multiples of the cell size)."""
    out = np.empty(n_groups, dtype=object)
    if n_groups == 0:
        return out
    b = grid.bounds(flat_ids)
    boxes = shapely.box(b[:, 0], b[:, 1], b[:, 2], b[:, 3])
    order = np.argsort(labels, kind="stable")
    lab = labels[order]
    starts = np.searchsorted(lab, np.arange(n_groups), side="left")
    ends = np.searchsorted(lab, np.arange(n_groups), side="right")
    size = ends - starts
    single = size == 1
    out[single] = boxes[order[starts[single]]]  # most places are one cell: no union needed
    for g in np.flatnonzero(~single):
        s, e = starts[g], ends[g]
        out[g] = shapely.coverage_union_all(boxes[order[s:e]]) if e > s else shapely.Polygon()
    return out


def assign(
    grid,
    cell_flat: np.ndarray,
    score: np.ndarray,
    area_share_pct: float,
    study_area_m2: float,
    max_localities: int | None = None,
    adopted: tuple[AdoptedLocality, ...] = (),
) -> tuple[np.ndarray, pl.DataFrame]:
    """Which study cells form which locality.

    Returns (labels, groups): labels is the locality index per study cell (-1 outside);
    groups has one row per locality index with `adopted_id`, `adopted_name` (null for
    candidates), `adopted` (bool) and `score` (total map score of its cells).
    """
    n = len(cell_flat)
    labels = np.full(n, -1, dtype=np.int64)
    ids, names, flags = [], [], []
    taken = np.zeros(n, dtype=bool)
    for a in adopted:
        cells = cells_in_polygon(grid, cell_flat, a.wkt)
        cells = cells[~taken[cells]]
        if cells.size == 0:  # outside this grid (another study): reported as empty, not dropped
            pass
        labels[cells] = len(ids)
        taken[cells] = True
        ids.append(a.id)
        names.append(a.name)
        flags.append(True)
    k = budget_cells(area_share_pct, study_area_m2, grid.cell_area) - int(taken.sum())
    chosen = choose_cells(score, k, exclude=taken)
    comp = group_cells(grid, cell_flat, chosen)
    n_comp = int(comp.max()) + 1 if comp.size else 0
    if n_comp:
        comp_score = np.bincount(comp, weights=score[chosen], minlength=n_comp)
        rank = np.lexsort((np.arange(n_comp), -comp_score))  # best first
        keep = n_comp if max_localities is None else max(0, max_localities - len(ids))
        new_index = np.full(n_comp, -1, dtype=np.int64)
        new_index[rank[:keep]] = len(ids) + np.arange(min(keep, n_comp))
        lab = new_index[comp]
        labels[chosen[lab >= 0]] = lab[lab >= 0]
        m = min(keep, n_comp)
        ids += [None] * m
        names += [None] * m
        flags += [False] * m
    totals = np.bincount(labels[labels >= 0], weights=score[labels >= 0], minlength=len(ids)) if ids else np.zeros(0)
    groups = pl.DataFrame(
        {"index": np.arange(len(ids), dtype=np.int64), "adopted_id": ids, "adopted_name": names,
         "adopted": flags, "score": totals},
        schema={"index": pl.Int64, "adopted_id": pl.Utf8, "adopted_name": pl.Utf8, "adopted": pl.Boolean,
                "score": pl.Float64},
    )
    return labels, groups


def _street_name(label: pl.Expr) -> pl.Expr:
    return label.str.replace(r"^(?i:on or near)\s+", "").str.strip_chars()


def cell_labels(incidents: pl.DataFrame) -> pl.DataFrame:
    """Per study cell, over the whole study: harm, count, top street label, top place type, top LSOA.

    incidents: every located incident (any crime type) with `cell`, `serious`, `harm`,
    `location`, `location_type`, `lsoa_code`. Harm and counts are of serious incidents (the
    anchor rule); labels use every incident, a denser witness of what the place is called.
    """
    inc = incidents.filter(pl.col("cell") >= 0)
    stats = (
        inc.filter(pl.col("serious"))
        .group_by("cell")
        .agg(pl.col("harm").sum().alias("study_harm"), pl.len().alias("study_n"))
    )

    def top(frame: pl.DataFrame, col: str, name: str) -> pl.DataFrame:
        return (
            frame.group_by("cell", col)
            .agg(pl.len().alias("k"))
            .sort(["cell", "k", col], descending=[False, True, False])
            .group_by("cell", maintain_order=True)
            .first()
            .select("cell", pl.col(col).alias(name))
        )

    streets = inc.filter((pl.col("location_type") == "street") & pl.col("location").is_not_null()).with_columns(
        _street_name(pl.col("location")).alias("_street")
    ).filter(pl.col("_street") != "")
    types = inc.filter(pl.col("location_type").is_not_null() & ~pl.col("location_type").is_in(["street", "other", "dwelling"]))
    lsoa = inc.filter(pl.col("lsoa_code").is_not_null())
    out = (
        stats.join(top(streets, "_street", "street"), on="cell", how="full", coalesce=True)
        .join(top(types, "location_type", "place_type"), on="cell", how="full", coalesce=True)
        .join(top(lsoa, "lsoa_code", "lsoa_code"), on="cell", how="full", coalesce=True)
        .with_columns(pl.col("study_harm").fill_null(0.0), pl.col("study_n").fill_null(0))
    )
    return out.sort("cell")


def street_counts(incidents: pl.DataFrame) -> pl.DataFrame:
    """Long frame (cell, street, k): how often each street label occurs in each cell, whole study."""
    return (
        incidents.filter((pl.col("cell") >= 0) & (pl.col("location_type") == "street") & pl.col("location").is_not_null())
        .with_columns(_street_name(pl.col("location")).alias("street"))
        .filter(pl.col("street") != "")
        .group_by("cell", "street")
        .agg(pl.len().alias("k"))
    )


def locality_streets(labels: np.ndarray, streets: pl.DataFrame) -> pl.DataFrame:
    """Per locality index, its most frequent street label over all its cells (whole study)."""
    cells = np.flatnonzero(labels >= 0)
    member = pl.DataFrame({"cell": cells, "index": labels[cells]}, schema={"cell": pl.Int64, "index": pl.Int64})
    return (
        streets.with_columns(pl.col("cell").cast(pl.Int64)).join(member, on="cell")
        .group_by("index", "street")
        .agg(pl.col("k").sum())
        .sort(["index", "k", "street"], descending=[False, True, False])
        .group_by("index", maintain_order=True)
        .first()
        .select("index", pl.col("street").alias("street_any"))
    )


def anchors(labels: np.ndarray, n_groups: int, info: pl.DataFrame) -> np.ndarray:
    """Per locality, the study cell with most whole-study harm (then count, then lowest index)."""
    cells = np.flatnonzero(labels >= 0)
    if n_groups == 0 or cells.size == 0:
        return np.full(n_groups, -1, dtype=np.int64)
    harm = np.zeros(len(labels))
    cnt = np.zeros(len(labels))
    if info.height:
        c = info["cell"].to_numpy()
        harm[c] = info["study_harm"].to_numpy()
        cnt[c] = info["study_n"].to_numpy()
    g = labels[cells]
    order = np.lexsort((cells, -cnt[cells], -harm[cells], g))
    first = np.ones(order.size, dtype=bool)
    first[1:] = g[order][1:] != g[order][:-1]
    out = np.full(n_groups, -1, dtype=np.int64)
    out[g[order][first]] = cells[order][first]
    return out


def locality_ids(x: np.ndarray, y: np.ndarray) -> list[str]:
    """'L-' + the 100 m OS grid reference of each anchor cell's centre (suffix -2, -3 on clashes)."""
    refs = os_grid_ref(x, y, digits=3)
    seen: dict[str, int] = {}
    out = []
    for r in refs:
        k = seen.get(r, 0) + 1
        seen[r] = k
        out.append(f"{ADOPTED_PREFIX}{r}" if k == 1 else f"{ADOPTED_PREFIX}{r}-{k}")
    return out


def top_venue(members: pl.DataFrame, venues: pl.DataFrame | None, labels: np.ndarray, grid, lookup: np.ndarray) -> pl.DataFrame:
    """Per locality index, the named venue (from a venues file) inside it with most harm in its cell."""
    empty = pl.DataFrame(schema={"index": pl.Int64, "venue": pl.Utf8})
    if venues is None or venues.height == 0 or "origin" not in venues.columns:
        return empty
    named = venues.filter((pl.col("origin") == "file") & pl.col("easting").is_not_null() & pl.col("name").is_not_null())
    if named.height == 0:
        return empty
    flat = grid.flat_index(named["easting"].to_numpy(), named["northing"].to_numpy())
    cell = lookup[np.where(flat >= 0, flat, grid.n_cells)]
    idx = np.where(cell >= 0, labels[np.maximum(cell, 0)], -1)
    v = pl.DataFrame({"index": idx, "cell": cell, "venue": named["name"]}).filter(pl.col("index") >= 0)
    if v.height == 0:
        return empty
    cell_harm = members.group_by("cell").agg(pl.col("harm").sum().alias("h"))
    return (
        v.join(cell_harm, on="cell", how="left")
        .with_columns(pl.col("h").fill_null(0.0))
        .sort(["index", "h", "venue"], descending=[False, True, False])
        .group_by("index", maintain_order=True)
        .first()
        .select("index", "venue")
    )


def place_names(frame: pl.DataFrame, hierarchy: pl.DataFrame | None) -> pl.DataFrame:
    """`place` (ward, district of the anchor's LSOA) and `name` (focus, then place) for each row."""
    if hierarchy is not None and hierarchy.height and "lsoa_code" in frame.columns:
        h = hierarchy.select("lsoa_code", *[c for c in ("ward_name", "district_name", "lsoa_name") if c in hierarchy.columns]).unique("lsoa_code")
        frame = frame.join(h, on="lsoa_code", how="left")
    for c in ("ward_name", "district_name", "lsoa_name"):
        if c not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias(c))
    town = pl.col("lsoa_name").str.replace(r"\s+\d{3}[A-Z]$", "")
    district = pl.col("district_name").str.replace(r", County of$", "")
    place = (
        pl.when(pl.col("ward_name").is_not_null() & pl.col("district_name").is_not_null())
        .then(pl.col("ward_name") + pl.lit(", ") + district)
        .otherwise(pl.coalesce(pl.col("ward_name"), town, district))
    )
    name = (
        pl.when(pl.col("focus").is_not_null() & pl.col("place").is_not_null()).then(pl.col("focus") + pl.lit(", ") + pl.col("place"))
        .otherwise(pl.coalesce(pl.col("focus"), pl.col("place"), pl.col("locality_id")))
    )
    return frame.with_columns(place.alias("place")).with_columns(name.alias("name")).drop(
        "ward_name", "district_name", "lsoa_name")
