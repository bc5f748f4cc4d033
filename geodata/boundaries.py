"""Reading boundary files into plain arrays: one column per attribute, one shapely geometry each.

Why not always geopandas: importing it (and pandas) costs 0.3-0.5 s, more than reading a
force's LSOA GeoJSON, and every command that takes ``--areas`` paid it. GeoJSON (what ONS's
Open Geography Portal serves) is read here with the standard library's ``json`` and GEOS's
GeoJSON reader (``shapely.from_geojson``); other formats (GeoPackage, Shapefile, a GeoJSON
this reader does not understand) go through GDAL via geopandas/pyogrio, as before. Both give
the same `RawFeatures`, and `geodata.areas.read_boundaries` does the rest (CRS, validity,
column finding) once for both.

CRS of a GeoJSON file: the legacy ``crs`` member when present (GDAL honours it too), else WGS84
longitude/latitude as RFC 7946 section 4 prescribes.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

#: Names of the two CRSs almost every file uses, recognised without building a pyproj CRS.
_BNG_NAME = re.compile(r"^(?:urn:ogc:def:crs:)?EPSG:{1,2}(?:[\d.]*:)?27700$", re.I)
_LONLAT_NAME = re.compile(
    r"^(?:(?:urn:ogc:def:crs:)?(?:OGC:{1,2}(?:1\.3:)?CRS:?84|EPSG:{1,2}(?:[\d.]*:)?4326))$", re.I)


@dataclass
class RawFeatures:
    """A boundary file's features as read: attributes, geometries (None where absent), CRS.

    ``crs`` is a CRS name string (GeoJSON), a ``pyproj.CRS`` (GDAL), or None (no CRS given).
    ``warnings`` are the reader's own messages about the file, for the notes.
    """

    columns: dict[str, list | np.ndarray]
    geometry: np.ndarray
    crs: object
    warnings: list[str]

    def __len__(self) -> int:
        return len(self.geometry)


def read_features(path: Path, layer: str | None = None) -> RawFeatures:
    """The features of a boundary file; GeoJSON natively, anything else through GDAL."""
    if layer is None and path.is_file() and path.suffix.lower() in (".geojson", ".json"):
        raw = _read_geojson(path)
        if raw is not None:
            return raw
    return _read_gdal(path, layer)


def _read_geojson(path: Path) -> RawFeatures | None:
    """A GeoJSON FeatureCollection, or None when the file is anything else (GDAL then reads it
    and reports what is wrong in its own words)."""
    try:
        doc = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError, OSError):
        return None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        return None
    feats = doc.get("features")
    if not isinstance(feats, list) or not all(isinstance(f, dict) for f in feats):
        return None
    props = [f.get("properties") or {} for f in feats]
    if not all(isinstance(p, dict) for p in props):
        return None
    names: dict[str, None] = {}
    for p in props:  # the union of keys, in first-seen order (a loop over features, not rows of data)
        names.update(dict.fromkeys(p))
    columns = {str(k): [p.get(k) for p in props] for k in names}
    texts = [json.dumps(g) if isinstance(g, dict) else None for g in (f.get("geometry") for f in feats)]
    try:
        geoms = shapely.from_geojson(np.asarray(texts, dtype=object), on_invalid="raise")
    except Exception:  # noqa: BLE001 (GEOS's parse errors: GDAL reads and reports instead)
        return None
    return RawFeatures(columns, np.asarray(geoms, dtype=object), _geojson_crs(doc), [])


def _geojson_crs(doc: dict) -> str:
    crs = doc.get("crs")
    if isinstance(crs, dict):
        name = (crs.get("properties") or {}).get("name") if isinstance(crs.get("properties"), dict) else None
        if isinstance(name, str) and name.strip():
            return name.strip()
    return "OGC:CRS84"  # RFC 7946: GeoJSON without a crs member is WGS84 lon/lat


def _read_gdal(path: Path, layer: str | None) -> RawFeatures:
    import warnings

    import geopandas as gpd  # only for formats the GeoJSON path does not read

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gdf = gpd.read_file(path, layer=layer) if layer is not None else gpd.read_file(path)
    notes = [str(w.message) for w in caught[:3]]
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf._geometry_column_name not in gdf.columns:
        raise NoGeometry(str(path))
    geom_name = gdf.geometry.name
    columns = {str(c): gdf[c].to_numpy() for c in gdf.columns if c != geom_name}
    return RawFeatures(columns, np.asarray(gdf.geometry.values, dtype=object), gdf.crs, notes)


class NoGeometry(ValueError):
    """The file reads as a table without a geometry column (e.g. a CSV)."""


def crs_kind(crs) -> str | None:
    """'bng', 'lonlat' (any geographic CRS), 'projected' (another projected CRS) or None."""
    if crs is None:
        return None
    if isinstance(crs, str):
        if _BNG_NAME.match(crs):
            return "bng"
        if _LONLAT_NAME.match(crs):
            return "lonlat"
    crs = pyproj_crs(crs)
    if crs.to_epsg() == 27700:
        return "bng"
    return "lonlat" if crs.is_geographic else "projected"


def pyproj_crs(crs):
    import pyproj

    return crs if isinstance(crs, pyproj.CRS) else pyproj.CRS.from_user_input(crs)


def to_bng(geoms: np.ndarray, crs) -> np.ndarray:
    """Geometries in `crs` converted to British National Grid (new geometries; input untouched).

    The same operation geopandas' ``to_crs`` runs: one always-xy pyproj Transformer applied to
    every coordinate at once (``shapely.transform``).
    """
    from geodata.crs import project

    src = "EPSG:4326" if isinstance(crs, str) and _LONLAT_NAME.match(crs) else pyproj_crs(crs)

    def move(xy: np.ndarray) -> np.ndarray:
        x, y = project(src, "EPSG:27700", xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    out = shapely.transform(geoms, move)
    xy = shapely.get_coordinates(out)
    if xy.size and not np.all(np.isfinite(xy)):
        raise ValueError("some coordinates could not be converted")
    return out
