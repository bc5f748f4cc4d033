"""Exports: hotspots, areas, trends and gaps as CSV, Parquet, GeoJSON or GeoPackage.

The format follows the file's extension:

========== ============================================================================
``.csv``   text; list columns joined with "; "; polygons as WKT in British National Grid
           (``geometry_wkt``, EPSG:27700); cells a spreadsheet would run as a formula
           (starting = + - @) get a leading apostrophe; provenance in ``FILE.provenance.json``
``.parquet`` GeoParquet when there are polygons (EPSG:27700 in its ``geo`` metadata); lists kept;
           provenance in the schema metadata under ``svtui:provenance``
``.geojson`` RFC 7946 FeatureCollection in WGS84 (EPSG:4326, the only CRS GeoJSON allows);
           provenance as the top-level member ``svtui_provenance``
``.gpkg``  GeoPackage layer in EPSG:27700; lists joined with "; "; provenance in the layer
           metadata (``svtui_provenance``)
========== ============================================================================

Every export says where it came from: study name and SYNTHETIC flag, window, definition name and
version, filters, parameters, svtui version, and a SHA-256 over the input files' bytes (for files
over 64 MiB, over their size, modification time and first MiB). Writes are atomic and never
replace an existing file unless ``force`` (geodata.atomic; the CLI's ``--force``). Briefing text
(``.md``, ``.txt``) carries the same record in ``FILE.provenance.json``.

Tables and provenance come from a ``hotspot.session.Results`` (``Results.table``,
``Results.provenance``): this module only writes them.
"""
from __future__ import annotations

import json
import math
import os
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable

import polars as pl

from geodata.errors import SourceError
from svtui.safe import inert_frame
from geodata.atomic import WouldOverwrite, formula_safe, write_atomic, write_text_atomic

__all__ = [
    "FORMATS",
    "KINDS",
    "format_for",
    "hash_inputs",
    "provenance",
    "frame_for",
    "write_frame",
    "export",
    "export_frame",
    "export_briefing",
    "export_rows_json",
    "read_provenance",
    "sidecar_path",
]

FORMATS = {".csv": "csv", ".parquet": "parquet", ".geoparquet": "parquet", ".geojson": "geojson",
           ".json": "geojson", ".gpkg": "gpkg"}
KINDS = ("hotspots", "areas", "trends", "gaps")
BNG = "EPSG:27700"
WGS84 = "EPSG:4326"
PROVENANCE_KEY = "svtui:provenance"
GEOJSON_MEMBER = "svtui_provenance"
GPKG_KEY = "svtui_provenance"
GEOMETRY = "geometry_wkb"


class UnknownFormat(SourceError, ValueError):
    """An export path whose extension names no format we write (one line for the CLI)."""


def format_for(path: str | Path) -> str:
    """'csv' | 'parquet' | 'geojson' | 'gpkg' from the file extension (UnknownFormat otherwise)."""
    ext = Path(path).suffix.lower()
    if ext not in FORMATS:
        raise UnknownFormat(str(path), f"unknown export format {ext or '(no extension)'!r}",
                            f"use one of {', '.join(sorted(set(FORMATS)))}")
    return FORMATS[ext]


def sidecar_path(path: str | Path) -> Path:
    """Where a CSV's provenance goes: FILE.provenance.json beside it."""
    p = Path(path)
    return p.with_name(p.name + ".provenance.json")


# --------------------------------------------------------------------------------------------
# Provenance and tables: both from a hotspot.session.Results (the one seam to the engine)
# --------------------------------------------------------------------------------------------

DISCLOSURE_NOTE = "none: exact counts for analysts; apply disclosure control before sharing outside the partnership"
SYNTHETIC_WARNING = "SYNTHETIC sample data: every area, venue and offence is made up. Do not use for decisions."


def hash_inputs(paths: Iterable[str | Path]) -> dict:
    """SHA-256 of each input file and one combined hash (hotspot.session.input_hash)."""
    from hotspot.session import input_hash

    return input_hash(paths)


def provenance(results, *, kind: str = "table", crs: str | None = None, rows: int | None = None,
               extra: dict | None = None) -> dict:
    """The provenance record every file svtui writes carries (Results.provenance, plus the
    disclosure level and the SYNTHETIC warning)."""
    out = results.provenance(kind, rows=rows, crs=crs)
    out["disclosure"] = DISCLOSURE_NOTE
    if out.get("synthetic"):
        out["warning"] = SYNTHETIC_WARNING
    if extra:
        from hotspot.session import jsonable

        out.update(jsonable(extra))
    return out


def frame_for(kind: str, results, level: str = "csp") -> pl.DataFrame:
    """An export table (Results.table): hotspots | areas | trends | gaps."""
    if kind not in KINDS:
        raise ValueError(f"unknown export {kind!r}; choose one of {', '.join(KINDS)}")
    return results.table(kind, level)


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _flatten_lists(df: pl.DataFrame) -> pl.DataFrame:
    """List and struct columns as '; '-joined text (for CSV and GeoPackage)."""
    exprs = []
    for c, t in df.schema.items():
        if isinstance(t, (pl.List, pl.Array)):
            exprs.append(pl.col(c).cast(pl.List(pl.Utf8)).list.join("; ").alias(c))
        elif isinstance(t, pl.Struct):
            exprs.append(pl.col(c).struct.json_encode().alias(c))
    return df.with_columns(exprs) if exprs else df


def _geoms(df: pl.DataFrame, geometry: str | None):
    import shapely

    if geometry is None or geometry not in df.columns:
        return None
    return shapely.from_wkb(df[geometry].to_list())


def _check_free(paths: list[Path], force: bool) -> None:
    if force:
        return
    for p in paths:
        if p.exists():
            raise WouldOverwrite(f"{p}: already exists (fix: choose another name or pass --force)")


def write_frame(df: pl.DataFrame, path: str | Path, *, prov: dict | None = None, geometry: str | None = GEOMETRY,
                force: bool = False, layer: str | None = None) -> Path:
    """Write `df` to `path` in the format its extension names, with its provenance.

    geometry: the column holding WKB polygons in British National Grid (dropped from the
    attributes; None or absent = a table without geometry). Raises WouldOverwrite (a
    FileExistsError) when `path` (or a CSV's provenance sidecar) exists and not force.
    """
    path = Path(path)
    fmt = format_for(path)
    prov = _inert_json(dict(prov or {}))  # study names come from file names: data, not controls
    has_geom = geometry is not None and geometry in df.columns
    attrs = df.drop(geometry) if has_geom else df
    binary = [c for c, t in attrs.schema.items() if t == pl.Binary]
    attrs = attrs.drop(binary) if binary else attrs
    attrs = inert_frame(attrs)  # no escape sequences or bidi overrides from the data in files
    prov.setdefault("rows", df.height)
    prov["format"] = fmt
    layer = layer or prov.get("kind") or path.stem

    if fmt == "csv":
        prov["crs"] = BNG if has_geom else None
        side = sidecar_path(path)
        _check_free([path, side], force)
        out = _flatten_lists(attrs)
        if has_geom:
            import shapely

            g = _geoms(df, geometry)
            out = out.with_columns(pl.Series("geometry_wkt", shapely.to_wkt(g, rounding_precision=1), dtype=pl.Utf8))
        out = formula_safe(out)
        prov["sidecar_of"] = path.name
        write_atomic(path, lambda p: out.write_csv(p), force=force)
        write_text_atomic(json.dumps(prov, indent=2, allow_nan=False) + "\n", side, force=force)
        return path

    _check_free([path], force)
    if fmt == "parquet":
        prov["crs"] = BNG if has_geom else None
        return write_atomic(path, lambda p: _write_parquet(attrs, _geoms(df, geometry) if has_geom else None, p, prov),
                            force=force)
    if fmt == "geojson":
        prov["crs"] = WGS84
        return write_atomic(path, lambda p: _write_geojson(attrs, _geoms(df, geometry) if has_geom else None, p, prov),
                            force=force)
    if fmt == "gpkg":
        prov["crs"] = BNG if has_geom else None
        return write_atomic(path, lambda p: _write_gpkg(attrs, _geoms(df, geometry) if has_geom else None, p, prov, layer),
                            force=force)
    raise AssertionError(fmt)


def _write_parquet(attrs: pl.DataFrame, geoms, p: Path, prov: dict) -> None:
    import pyarrow.parquet as pq

    meta = {PROVENANCE_KEY.encode(): json.dumps(prov, allow_nan=False).encode()}
    if geoms is None:
        table = attrs.to_arrow()
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})
        pq.write_table(table, p)
        return
    import geopandas as gpd

    gdf = gpd.GeoDataFrame(attrs.to_pandas(), geometry=list(geoms), crs=BNG)
    gdf.to_parquet(p, index=False)
    table = pq.read_table(p)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})
    pq.write_table(table, p)


def _inert_json(v: Any) -> Any:
    """Strings anywhere in a JSON-like value passed through svtui.safe.plain (no truncation)."""
    from svtui.safe import plain

    if isinstance(v, str):
        return plain(v, None)
    if isinstance(v, dict):
        return {k: _inert_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_inert_json(x) for x in v]
    return v


def _json_value(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    if isinstance(v, (list, tuple)):
        return [_json_value(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _json_value(x) for k, x in v.items()}
    if isinstance(v, bytes):
        return None
    return v


def _write_geojson(attrs: pl.DataFrame, geoms, p: Path, prov: dict) -> None:
    import shapely
    from pyproj import Transformer

    features = []
    geo_json = [None] * attrs.height
    if geoms is not None:
        t = Transformer.from_crs(BNG, WGS84, always_xy=True)
        g84 = shapely.transform(geoms, lambda xy: _transform(t, xy))
        g84 = shapely.set_precision(g84, 1e-7)
        geo_json = [json.loads(s) if s is not None else None for s in shapely.to_geojson(g84)]
    for props, gj in zip(attrs.to_dicts(), geo_json):
        features.append({"type": "Feature", "properties": {k: _json_value(v) for k, v in props.items()},
                         "geometry": gj})
    fc = {
        "type": "FeatureCollection",
        "name": prov.get("kind", "svtui"),
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        GEOJSON_MEMBER: prov,
        "features": features,
    }
    p.write_text(json.dumps(fc, ensure_ascii=False, allow_nan=False), encoding="utf-8")


def _transform(t, xy):
    import numpy as np

    x, y = t.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def _write_gpkg(attrs: pl.DataFrame, geoms, p: Path, prov: dict, layer: str) -> None:
    import geopandas as gpd
    import pyogrio

    # GDAL creates the GeoPackage itself (an empty temporary file is not one) and wants the .gpkg
    # extension: write beside the temporary file, then move it into place.
    out = p.with_name(p.name + ".gpkg")
    out.unlink(missing_ok=True)
    flat = _flatten_lists(attrs)
    pdf = flat.to_pandas()
    meta = {GPKG_KEY: json.dumps(prov, allow_nan=False)}
    try:
        if geoms is not None:
            gdf = gpd.GeoDataFrame(pdf, geometry=list(geoms), crs=BNG)
            pyogrio.write_dataframe(gdf, out, layer=layer, driver="GPKG", layer_metadata=meta,
                                    promote_to_multi=True)
        else:
            pyogrio.write_dataframe(pdf, out, layer=layer, driver="GPKG", layer_metadata=meta)
        os.replace(out, p)
    finally:
        out.unlink(missing_ok=True)


def read_provenance(path: str | Path) -> dict:
    """The provenance an export carries, from wherever its format keeps it."""
    path = Path(path)
    if path.suffix.lower() in (".md", ".markdown", ".txt", ".text") or (
            path.suffix.lower() == ".json" and sidecar_path(path).exists()):
        return json.loads(sidecar_path(path).read_text(encoding="utf-8"))
    fmt = format_for(path)
    if fmt == "csv":
        return json.loads(sidecar_path(path).read_text(encoding="utf-8"))
    if fmt == "parquet":
        import pyarrow.parquet as pq

        meta = pq.read_schema(path).metadata or {}
        return json.loads(meta[PROVENANCE_KEY.encode()].decode())
    if fmt == "geojson":
        return json.loads(path.read_text(encoding="utf-8"))[GEOJSON_MEMBER]
    import pyogrio

    info = pyogrio.read_info(path)
    return json.loads((info.get("layer_metadata") or {})[GPKG_KEY])


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def export(kind: str, path: str | Path, results, *, level: str = "csp", force: bool = False,
           frame: pl.DataFrame | None = None, extra: dict | None = None) -> Path:
    """Export hotspots | areas | trends | gaps of `results` to `path` (format by extension),
    with provenance."""
    if kind not in KINDS:
        raise ValueError(f"unknown export {kind!r}; choose one of {', '.join(KINDS)}")
    format_for(path)  # fail on a bad extension before any work
    df = frame if frame is not None else frame_for(kind, results, level)
    more = dict(extra or {})
    if kind != "hotspots":
        more.setdefault("level", level)
    prov = provenance(results, kind=kind, rows=df.height, extra=more or None)
    return write_frame(df, path, prov=prov, geometry=GEOMETRY, force=force, layer=kind)


def export_frame(frame: pl.DataFrame, path: str | Path, results=None, *, force: bool = False,
                 prov: dict | None = None, kind: str | None = None, extra: dict | None = None) -> Path:
    """Write any engine frame (a workbench table, a CLI table) with provenance; format by extension."""
    path = Path(path)
    kind = kind or path.stem
    if prov is None:
        if results is None:
            raise ValueError("an export needs its Results (for its provenance) or a provenance record")
        prov = provenance(results, kind=kind, rows=frame.height, extra=extra)
    return write_frame(frame, path, prov=prov, geometry=GEOMETRY, force=force, layer=kind)


def export_rows_json(frame: pl.DataFrame, path: str | Path, results, *, force: bool = False, kind: str = "table",
                     extra: dict | None = None) -> Path:
    """A table's rows as a JSON array (what `polars.read_json` reads), binary columns left out,
    with its provenance beside it in FILE.provenance.json; atomic, never replacing without force."""
    path = Path(path)
    side = sidecar_path(path)
    _check_free([path, side], force)
    rows = inert_frame(frame.select([c for c, t in frame.schema.items() if t != pl.Binary]))
    prov = _inert_json(provenance(results, kind=kind, rows=frame.height, extra=extra))
    prov.update({"format": "json", "sidecar_of": path.name})
    write_atomic(path, lambda p: rows.write_json(p), force=force)
    write_text_atomic(json.dumps(prov, indent=2, allow_nan=False) + "\n", side, force=force)
    return path


def export_briefing(text: str, path: str | Path, force: bool = False, prov: dict | None = None) -> Path:
    """Write briefing text (Markdown or plain) atomically, with its provenance beside it in
    FILE.provenance.json; refuses to overwrite either unless force."""
    path = Path(path)
    files = [path] + ([sidecar_path(path)] if prov is not None else [])
    _check_free(files, force)
    out = write_text_atomic(text if text.endswith("\n") else text + "\n", path, force=force)
    if prov is not None:
        prov = _inert_json(dict(prov))
        prov["sidecar_of"] = path.name
        prov["format"] = "md" if path.suffix.lower() in (".md", ".markdown") else "txt"
        write_text_atomic(json.dumps(prov, indent=2, allow_nan=False) + "\n", sidecar_path(path), force=force)
    return out
