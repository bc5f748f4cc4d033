"""The places a hotspot review group looks at every month.

Two sources, reviewed the same way:
- the partnership's own places (`--places FILE` or study.toml `[sources] places`): night-time
  economy zones, PSPO areas, beats, problem-solving locations, as GeoJSON, GeoPackage or
  Shapefile in any CRS, with a name column found whatever its spelling;
- the adopted localities, `<workspace>/adopted_localities.geojson` (EPSG:4326; properties `id`,
  `name`, `adopted`, `window_from`, `window_to`, `cell_size_m`), written by `svtui localities adopt`.

Both come back as one GeoDataFrame in British National Grid metres with columns `place_id`,
`name`, `kind` ("adopted" | "place"), `adopted`, `window_from`, `window_to`, `geometry`.
Invalid polygons are repaired with shapely's make_valid (GEOS "structure" method); a feature
that cannot be repaired into a polygon is refused with a SourceError naming it.
`attrs["notes"]` holds reason codes (dicts: code, feature), never sentences for the screen.
"""
from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.crs import bounds_kind
from geodata.errors import SourceError
from geodata.schema import BNG, WGS84

# Column spellings taken as the place's name, best first (compared lower-cased, without
# spaces, dashes or underscores).
NAME_COLUMNS = ("name", "placename", "place", "zonename", "zone", "areaname", "locationname",
                "location", "title", "label", "beatname", "beat", "pspo", "psponame", "site",
                "sitename", "description", "desc")
ID_COLUMNS = ("id", "placeid", "code", "ref", "reference", "zoneid", "fid")
COLUMNS = ["place_id", "name", "kind", "adopted", "window_from", "window_to", "geometry"]


def _norm(col: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(col).lower())


def find_column(columns, wanted=NAME_COLUMNS) -> str | None:
    """The first column whose normalised spelling is in `wanted` (by `wanted`'s order), then
    any column whose spelling contains "name"."""
    normed = {_norm(c): c for c in columns}
    for w in wanted:
        if w in normed:
            return normed[w]
    if wanted is NAME_COLUMNS:
        for n, c in normed.items():
            if "name" in n:
                return c
    return None


def slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    return s[:60] or "place"


def _feature_label(name, row: int) -> str:
    return f"feature {row + 1}" + (f" ({name!r})" if name not in (None, "") else "")


def repair(gdf: gpd.GeoDataFrame, path, names) -> tuple[gpd.GeoDataFrame, list[dict]]:
    """Repair invalid polygons with make_valid, keeping only polygonal parts; refuse the rest.

    Raises SourceError naming the first feature that is empty, not a polygon, or does not
    repair into one.
    """
    notes: list[dict] = []
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    missing = np.array([g is None for g in geoms])
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise SourceError(path, f"{_feature_label(names[i], i)} has no geometry",
                          "draw the place's boundary or delete the feature")
    kinds = shapely.get_type_id(geoms)
    polygonal = np.isin(kinds, [3, 6])  # Polygon, MultiPolygon
    if not polygonal.all():
        i = int(np.flatnonzero(~polygonal)[0])
        raise SourceError(path, f"{_feature_label(names[i], i)} is a {geoms[i].geom_type}, not a polygon",
                          "give each place as a polygon (a boundary, not a point or a line)")
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        try:
            fixed = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
        except TypeError:  # shapely < 2.1
            fixed = shapely.make_valid(geoms[bad])
        polys = shapely.get_parts(fixed, return_index=True)
        parts, owner = polys
        keep = np.isin(shapely.get_type_id(parts), [3, 6])
        rebuilt = np.array([shapely.Polygon()] * int(bad.sum()), dtype=object)
        for j in np.unique(owner[keep]):  # one union per repaired feature (a handful)
            rebuilt[j] = shapely.union_all(parts[keep & (owner == j)])
        idx = np.flatnonzero(bad)
        empty = shapely.is_empty(rebuilt) | (shapely.area(rebuilt) <= 0)
        if empty.any():
            i = int(idx[np.flatnonzero(empty)[0]])
            raise SourceError(path, f"{_feature_label(names[i], i)} is not a valid polygon and "
                              "cannot be repaired (it has no area once its self-intersections are removed)",
                              "redraw that place's boundary")
        geoms[idx] = rebuilt
        notes.extend({"code": "geometry_repaired", "feature": str(names[i])} for i in idx)
        gdf = gdf.set_geometry(gpd.GeoSeries(geoms, crs=gdf.crs, index=gdf.index))
    empty = shapely.is_empty(geoms)
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise SourceError(path, f"{_feature_label(names[i], i)} has an empty geometry",
                          "draw the place's boundary or delete the feature")
    return gdf, notes


def _to_bng(gdf: gpd.GeoDataFrame, path) -> tuple[gpd.GeoDataFrame, list[dict]]:
    notes: list[dict] = []
    kind = bounds_kind(*gdf.total_bounds)
    if gdf.crs is None:
        if kind == "bng":
            gdf = gdf.set_crs(BNG)
            notes.append({"code": "crs_assumed_bng", "feature": ""})
        elif kind == "lonlat":
            gdf = gdf.set_crs(WGS84)
            notes.append({"code": "crs_assumed_wgs84", "feature": ""})
        else:
            raise SourceError(path, "has no CRS and its coordinates are neither BNG metres nor "
                              "longitude/latitude", "save the file with its CRS (a .prj file for a shapefile)")
    elif gdf.crs.is_geographic and kind == "bng":
        gdf = gdf.set_crs(BNG, allow_override=True)
        notes.append({"code": "crs_says_lonlat_but_bng", "feature": ""})
    try:
        gdf = gdf.to_crs(BNG)
    except Exception as exc:  # pyproj raises several types
        raise SourceError(path, f"cannot be converted to British National Grid ({exc})",
                          "save the file in EPSG:27700 or EPSG:4326") from None
    if bounds_kind(*gdf.total_bounds) != "bng":
        raise SourceError(path, "does not lie in Great Britain once converted to British National Grid",
                          "check the file's CRS")
    return gdf, notes


def _read_any(path: Path, what: str) -> gpd.GeoDataFrame:
    if not path.exists():
        raise SourceError(path, "does not exist", f"check the path of the {what}")
    if path.is_file() and path.stat().st_size == 0:
        raise SourceError(path, "is empty", f"export the {what} again")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio/GDAL raise many types; the user needs one message
        raise SourceError(path, f"cannot be read as a map file ({type(exc).__name__})",
                          "give a GeoJSON, GeoPackage or Shapefile of polygons") from None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise SourceError(path, "holds no geometries", "give a GeoJSON, GeoPackage or Shapefile of polygons")
    if len(gdf) == 0:
        raise SourceError(path, "holds no features", "give a file with at least one place")
    return gdf


def read_places(path) -> gpd.GeoDataFrame:
    """The partnership's own places, in BNG, one row per feature (see the module docstring)."""
    path = Path(path)
    gdf = _read_any(path, "places file")
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    name_col = find_column(cols)
    if name_col is None:
        raise SourceError(path, f"has no name column (columns: {', '.join(map(str, cols)) or 'none'})",
                          "add a column called name with each place's name")
    names = gdf[name_col].astype("string").str.strip().fillna("").to_numpy(dtype=object)
    blank = names == ""
    if blank.any():
        i = int(np.flatnonzero(blank)[0])
        raise SourceError(path, f"feature {i + 1} has no name in column {name_col!r}",
                          "give every place a name")
    gdf, notes = repair(gdf, path, names)
    gdf, crs_notes = _to_bng(gdf, path)
    id_col = find_column(cols, ID_COLUMNS)
    if id_col is not None and gdf[id_col].notna().all() and gdf[id_col].astype(str).is_unique:
        ids = gdf[id_col].astype(str).to_numpy(dtype=object)
    else:
        ids = pd.Series([slug(n) for n in names])
        dup = ids.groupby(ids).cumcount()
        ids = np.where(dup > 0, ids + "-" + (dup + 1).astype(str), ids).astype(object)
    dup_names = pd.Series(names).str.lower().duplicated()
    if dup_names.any():
        notes.append({"code": "name_repeated", "feature": str(names[int(np.flatnonzero(dup_names)[0])])})
    out = gpd.GeoDataFrame({
        "place_id": ids, "name": names, "kind": "place", "adopted": None,
        "window_from": None, "window_to": None,
    }, geometry=gdf.geometry.values, crs=BNG)
    out.attrs["notes"] = crs_notes + notes
    return out


def read_adopted(path) -> gpd.GeoDataFrame:
    """The adopted localities file (contract: OWNERS.md), in BNG. A missing file = none adopted."""
    path = Path(path)
    if not path.exists():
        return empty_places()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        feats = data["features"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SourceError(path, f"is not an adopted-localities GeoJSON file ({type(exc).__name__})",
                          "adopt the localities again with `svtui localities adopt`") from None
    if not feats:
        return empty_places()
    props = pd.DataFrame([f.get("properties") or {} for f in feats])
    for c in ("id", "name", "adopted", "window_from", "window_to"):
        if c not in props.columns:
            props[c] = None
    if props["id"].isna().any():
        i = int(np.flatnonzero(props["id"].isna().to_numpy())[0])
        raise SourceError(path, f"feature {i + 1} has no id", "adopt the localities again with `svtui localities adopt`")
    try:
        geoms = np.array([shapely.geometry.shape(f["geometry"]) if f.get("geometry") else None for f in feats], dtype=object)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SourceError(path, f"has a geometry that cannot be read ({type(exc).__name__})",
                          "adopt the localities again with `svtui localities adopt`") from None
    names = props["name"].fillna(props["id"]).astype(str).to_numpy(dtype=object)
    gdf = gpd.GeoDataFrame(props, geometry=gpd.GeoSeries(geoms, crs=WGS84))
    gdf, notes = repair(gdf, path, names)
    gdf, crs_notes = _to_bng(gdf, path)
    out = gpd.GeoDataFrame({
        "place_id": props["id"].astype(str).to_numpy(dtype=object), "name": names, "kind": "adopted",
        "adopted": props["adopted"].to_numpy(dtype=object), "window_from": props["window_from"].to_numpy(dtype=object),
        "window_to": props["window_to"].to_numpy(dtype=object),
    }, geometry=gdf.geometry.values, crs=BNG)
    out.attrs["notes"] = crs_notes + notes
    return out


def empty_places() -> gpd.GeoDataFrame:
    out = gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in COLUMNS[:-1]},
                           geometry=gpd.GeoSeries([], crs=BNG), crs=BNG)
    out.attrs["notes"] = []
    return out


def all_places(adopted_file=None, places_file=None) -> gpd.GeoDataFrame:
    """Adopted localities first, then the partnership's places; ids unique across both."""
    parts = []
    notes: list[dict] = []
    if adopted_file is not None:
        a = read_adopted(adopted_file)
        parts.append(a)
        notes += a.attrs.get("notes", [])
    if places_file is not None:
        p = read_places(places_file)
        parts.append(p)
        notes += p.attrs.get("notes", [])
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_places()
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=BNG)
    dup = out["place_id"].duplicated()
    if dup.any():
        out.loc[dup, "place_id"] = out.loc[dup, "place_id"] + "-" + out.loc[dup, "kind"]
    out.attrs["notes"] = notes
    return out


def find_place(places: gpd.GeoDataFrame, key: str) -> int | None:
    """Row index of a place by id, or by name (case-insensitive); None when not found."""
    key_l = str(key).strip().lower()
    ids = places["place_id"].astype(str).str.lower().to_numpy()
    hit = np.flatnonzero(ids == key_l)
    if not len(hit):
        hit = np.flatnonzero(places["name"].astype(str).str.lower().to_numpy() == key_l)
    return int(hit[0]) if len(hit) else None


def write_adopted(path, records: list[dict], geoms_bng) -> None:
    """Write an adopted-localities file per the contract (used by tests and the sample review)."""
    from geodata.crs import project

    feats = []
    for rec, g in zip(records, geoms_bng):
        g4326 = shapely.transform(g, lambda xy: np.column_stack(project(BNG, WGS84, xy[:, 0], xy[:, 1])))
        feats.append({"type": "Feature", "properties": rec, "geometry": shapely.geometry.mapping(g4326)})
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
