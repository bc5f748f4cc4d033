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
replace an existing file unless ``force`` (geodata.atomic; the CLI's ``--force``).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
from datetime import date, datetime, timezone
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
    "hotspots_frame",
    "areas_frame",
    "trends_frame",
    "gaps_frame",
    "frame_for",
    "write_frame",
    "export",
    "export_frame",
    "export_briefing",
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
BIG_FILE = 64 * 1024 * 1024
HEAD_BYTES = 1024 * 1024
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
# Provenance
# --------------------------------------------------------------------------------------------


def _files_under(p: Path) -> list[Path]:
    if p.is_dir():
        return sorted(f for f in p.rglob("*") if f.is_file())
    return [p] if p.exists() else []


def _file_digest(f: Path) -> dict:
    st = f.stat()
    h = hashlib.sha256()
    if st.st_size <= BIG_FILE:
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return {"path": str(f), "size": st.st_size, "sha256": h.hexdigest()}
    with f.open("rb") as fh:
        h.update(fh.read(HEAD_BYTES))
    h.update(f"|size={st.st_size}|mtime_ns={st.st_mtime_ns}".encode())
    return {"path": str(f), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "head_sha256": h.hexdigest(),
            "method": f"size + mtime + SHA-256 of the first {HEAD_BYTES} bytes (file over {BIG_FILE} bytes)"}


def hash_inputs(paths: Iterable[str | Path]) -> dict:
    """SHA-256 of each input file (folders are walked) and one combined hash over them all.

    Files over 64 MiB are fingerprinted by size, modification time and the hash of their first
    MiB, so exporting from a force-sized archive stays quick.
    """
    files: list[Path] = []
    for p in paths:
        if p is None:
            continue
        files.extend(_files_under(Path(p)))
    seen, entries = set(), []
    for f in files:
        key = str(f.resolve())
        if key in seen:
            continue
        seen.add(key)
        entries.append(_file_digest(f))
    entries.sort(key=lambda e: e["path"])
    combined = hashlib.sha256()
    for e in entries:
        combined.update(f"{e['path']}\t{e['size']}\t{e.get('sha256') or e.get('head_sha256')}\n".encode())
    return {"algorithm": "sha256", "combined": combined.hexdigest(), "files": entries}


def _version() -> str:
    from svtui.briefing import _version as v

    return v()


def _jsonable(v: Any) -> Any:
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {k: _jsonable(x) for k, x in dataclasses.asdict(v).items()}
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    if isinstance(v, (list, tuple, set)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, Path):
        return str(v)
    return v


def provenance(study=None, analysis=None, prep=None, *, kind: str = "table", crs: str | None = None,
               rows: int | None = None, extra: dict | None = None, inputs: dict | None = None) -> dict:
    """The provenance record every export carries (a plain JSON-able dict)."""
    definition = getattr(analysis, "definition", None) or getattr(prep, "definition", None)
    name = getattr(study, "name", None) or getattr(analysis, "study_name", None) or getattr(prep, "study_name", None)
    synthetic = bool(getattr(study, "synthetic", False) or getattr(analysis, "synthetic", False)
                     or getattr(prep, "synthetic", False))
    spec = getattr(study, "spec", None)
    if inputs is None:
        inputs = hash_inputs(spec.all_paths()) if spec is not None else {"algorithm": "sha256", "combined": None, "files": []}
    win = getattr(analysis, "window", None)
    out = {
        "producer": "svtui",
        "svtui_version": _version(),
        "created_utc": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "kind": kind,
        "study": {"name": name, "origin": getattr(spec, "origin", None)},
        "synthetic": synthetic,
        "window": [_jsonable(win[0]), _jsonable(win[1])] if win else None,
        "definition": ({"name": definition.name, "version": str(definition.version), "title": definition.title}
                       if definition is not None else None),
        "filters": _jsonable(getattr(analysis, "filters", None)),
        "parameters": _jsonable(getattr(analysis, "params", None)),
        "crs": crs,
        "rows": rows,
        "disclosure": "none: exact counts for analysts; apply disclosure control before sharing outside the partnership",
        "inputs": inputs,
    }
    if synthetic:
        out["warning"] = "SYNTHETIC sample data: every area, venue and offence is made up. Do not use for decisions."
    if extra:
        out.update(_jsonable(extra))
    return out


# --------------------------------------------------------------------------------------------
# The tables
# --------------------------------------------------------------------------------------------


def hotspots_frame(analysis) -> pl.DataFrame:
    """The hotspot localities with every profile field and their polygons (``geometry_wkb``, BNG)."""
    return analysis.localities


def areas_frame(prep, analysis, study=None, level: str = "csp") -> pl.DataFrame:
    """Area profiles for `level` (hotspot.area_profiles) with each area's polygon where known."""
    from hotspot.area_profiles import area_profiles

    prof = area_profiles(prep, analysis, level, indicators=getattr(study, "indicators", None))
    return _with_area_polygons(prof, study, level, "code")


def _with_area_polygons(frame: pl.DataFrame, study, level: str, on: str) -> pl.DataFrame:
    areas = getattr(study, "areas", None)
    if areas is None or frame.height == 0:
        return frame
    import shapely

    from geodata.areas import level_polygons

    try:
        g = level_polygons(areas, level)
    except Exception:  # noqa: BLE001 - no codes for the level: export without polygons
        return frame
    polys = pl.DataFrame({
        on: g[f"{level}_code"].astype(str).tolist(),
        GEOMETRY: shapely.to_wkb(g.geometry.values),
    }, schema={on: pl.Utf8, GEOMETRY: pl.Binary})
    return frame.join(polys, on=on, how="left")


def trends_frame(prep, analysis, level: str = "csp") -> pl.DataFrame:
    """Monthly counts and harm: one row per area of `level` and month, then per locality and month."""
    from hotspot.area_profiles import area_monthly

    m = area_monthly(prep, analysis.filters, level).select(
        pl.lit(level).alias("unit"), "code", "name", "month", pl.col("n").cast(pl.Int64), pl.col("harm"))
    lm = analysis.locality_monthly
    if lm.height:
        names = analysis.localities.select("locality_id", "name")
        lm = lm.join(names, on="locality_id", how="left").select(
            pl.lit("locality").alias("unit"), pl.col("locality_id").alias("code"), "name", "month",
            pl.col("n").cast(pl.Int64), pl.col("harm"))
        m = pl.concat([m, lm], how="vertical_relaxed")
    return m


def gaps_frame(prep, analysis, study=None, level: str = "csp", all_needs: bool = False) -> pl.DataFrame:
    """Coverage gaps (hotspot.coverage) for localities and areas of `level`, with their polygons."""
    from hotspot.coverage import coverage

    _reach, gaps = coverage(prep, analysis, list(getattr(study, "interventions", []) or []), level,
                            all_needs=all_needs)
    if gaps.height == 0:
        return gaps
    loc = analysis.localities.select(pl.col("locality_id").alias("code"), GEOMETRY) if analysis.localities.height else None
    parts = []
    lg = gaps.filter(pl.col("unit") == "locality")
    if lg.height and loc is not None:
        parts.append(lg.join(loc, on="code", how="left"))
    elif lg.height:
        parts.append(lg.with_columns(pl.lit(None, dtype=pl.Binary).alias(GEOMETRY)))
    ag = gaps.filter(pl.col("unit") != "locality")
    if ag.height:
        ag = _with_area_polygons(ag, study, level, "code")
        if GEOMETRY not in ag.columns:
            ag = ag.with_columns(pl.lit(None, dtype=pl.Binary).alias(GEOMETRY))
        parts.append(ag)
    return pl.concat(parts, how="vertical_relaxed") if parts else gaps


def frame_for(kind: str, prep, analysis, study=None, level: str = "csp") -> pl.DataFrame:
    if kind == "hotspots":
        return hotspots_frame(analysis)
    if kind == "areas":
        return areas_frame(prep, analysis, study, level)
    if kind == "trends":
        return trends_frame(prep, analysis, level)
    if kind == "gaps":
        return gaps_frame(prep, analysis, study, level)
    raise ValueError(f"unknown export {kind!r}; choose one of {', '.join(KINDS)}")


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


def export(kind: str, path: str | Path, prep, analysis, study=None, *, level: str = "csp", force: bool = False,
           frame: pl.DataFrame | None = None) -> Path:
    """Export hotspots | areas | trends | gaps to `path` (format by extension), with provenance."""
    if kind not in KINDS:
        raise ValueError(f"unknown export {kind!r}; choose one of {', '.join(KINDS)}")
    format_for(path)  # fail on a bad extension before any work
    df = frame if frame is not None else frame_for(kind, prep, analysis, study, level)
    prov = provenance(study, analysis, prep, kind=kind, rows=df.height,
                      extra={"level": level} if kind != "hotspots" else None)
    return write_frame(df, path, prov=prov, geometry=GEOMETRY, force=force, layer=kind)


def export_frame(frame: pl.DataFrame, path: str | Path, *, force: bool = False, prov: dict | None = None,
                 study=None, analysis=None, prep=None, kind: str | None = None) -> Path:
    """Write any engine frame (the workbench's tables) with provenance; format by extension."""
    path = Path(path)
    kind = kind or path.stem
    if prov is None:
        prov = provenance(study, analysis, prep, kind=kind, rows=frame.height)
    return write_frame(frame, path, prov=prov, geometry=GEOMETRY, force=force, layer=kind)


def export_briefing(text: str, path: str | Path, force: bool = False) -> Path:
    """Write briefing text (Markdown or plain) atomically; refuses to overwrite unless force."""
    return write_text_atomic(text if text.endswith("\n") else text + "\n", Path(path), force=force)
