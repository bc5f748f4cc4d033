"""Areas: 2021 LSOA polygons, the area hierarchy above them, and assigning rows to them.

* `read_boundaries(path)` reads GeoJSON / GeoPackage / Shapefile in any CRS into EPSG:27700 and
  finds the ONS code and name columns whatever their spelling (`LSOA21CD`, `lsoa21_code`,
  `WD24CD`, `ltla24_code`, `CSP24CD`, `pfa24_code`, ...) or, failing that, from the code prefixes.
* `read_lookup(path)` reads a CSV lookup with the same column finding.
* `build_areas(boundary, lookups)` gives an `Areas`: the LSOA polygons, a hierarchy frame
  (`geodata.schema.HIERARCHY_COLUMNS`, upper levels filled from lookups where the boundary file
  lacks them) and the 2011 -> 2021 LSOA lookup.
* `assign_areas(incidents, areas, entry)` sets `lsoa_code` on every row, quarantining rows that
  lie outside the study area.
"""
from __future__ import annotations

import io
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import shapely

from geodata.crs import bounds_kind
from geodata.errors import SourceError
from geodata.ledger import Ledger, SourceLedger
from geodata.schema import BNG, HIERARCHY_COLUMNS

LEVELS = ("lsoa", "ward", "district", "csp", "force")

# Abbreviations ONS and others use for each level in column names.
_LEVEL_WORDS = {
    "lsoa": "lsoa",
    "wd": "ward", "ward": "ward",
    "lad": "district", "ltla": "district", "la": "district", "lau": "district",
    "district": "district", "localauthority": "district",
    "csp": "csp", "cspa": "csp",
    "pfa": "force", "force": "force", "policeforce": "force", "policeforcearea": "force",
}
_COLUMN_RE = re.compile(
    r"^(?P<level>" + "|".join(sorted(_LEVEL_WORDS, key=len, reverse=True)) + r")"
    r"(?P<y1>\d{2}|\d{4})?(?P<kind>cd|code|cod|nm|name|nam|nmw)(?P<y2>\d{2}|\d{4})?$"
)

# ONS code prefixes by level (England / Wales).
PREFIX_LEVEL = {
    "E01": "lsoa", "W01": "lsoa",
    "E05": "ward", "W05": "ward",
    "E06": "district", "E07": "district", "E08": "district", "E09": "district", "W06": "district",
    "E22": "csp", "W22": "csp",
    "E23": "force", "W15": "force",
}
ONS_CODE = r"^[EWSN]\d{8}$"
LSOA_CODE = r"^[EW]01\d{6}$"

L11_21_SCHEMA = {"lsoa11_code": pl.Utf8, "lsoa21_code": pl.Utf8, "change_code": pl.Utf8,
                 "weight": pl.Float64}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).replace("\ufeff", "").lower())


@dataclass
class _Col:
    name: str
    level: str
    kind: str  # "code" or "name"
    year: int | None


def _parse_column(name: str) -> _Col | None:
    m = _COLUMN_RE.match(_norm(name))
    if not m:
        return None
    kind = m.group("kind")
    if kind == "nmw":  # Welsh-language name
        return None
    year = m.group("y1") or m.group("y2")
    return _Col(name, _LEVEL_WORDS[m.group("level")],
                "code" if kind in ("cd", "code", "cod") else "name",
                int(year[-2:]) if year else None)


def _code_share(values: pl.Series) -> tuple[float, str | None]:
    """Share of non-null values that look like ONS codes, and the level most of them name."""
    s = values.cast(pl.Utf8, strict=False).drop_nulls().str.strip_chars()
    if s.len() == 0:
        return 0.0, None
    ok = s.str.contains(ONS_CODE)
    share = ok.mean()
    lv = s.filter(ok).str.slice(0, 3).replace_strict(PREFIX_LEVEL, default=None)
    counts = lv.drop_nulls().value_counts(sort=True)
    level = counts[lv.name][0] if counts.height else None
    return float(share or 0.0), level


def _find_columns(columns: list[str], values, level_hint: str | None = None
                  ) -> dict[str, dict[int | None, dict[str, str]]]:
    """Map level -> year -> {"code": column, "name": column} for the columns found.

    `values(col)` returns the column as a Polars Series (used to check or infer levels from the
    code prefixes).
    """
    found: dict[str, dict[int | None, dict[str, str]]] = {}
    for c in columns:
        p = _parse_column(c)
        if p is None:
            continue
        if p.kind == "code":
            share, lv = _code_share(values(c))
            if share < 0.5:
                continue
            if lv is not None and lv != p.level:
                p.level = lv  # the codes say otherwise: believe the codes
        slot = found.setdefault(p.level, {}).setdefault(p.year, {})
        slot.setdefault(p.kind, c)
    # Code columns with unrecognised names: infer the level from the code prefixes.
    used = {c for lv in found.values() for y in lv.values() for c in y.values()}
    for c in columns:
        if c in used:
            continue
        share, lv = _code_share(values(c))
        if share >= 0.9 and lv is not None and lv not in found:
            found.setdefault(lv, {}).setdefault(None, {})["code"] = c
            used.add(c)
    # A generic name column ("name", "areaname") belongs to the hinted or only level.
    generic = [c for c in columns if _norm(c) in ("name", "areaname", "geographyname", "nm")
               and c not in used]
    if generic:
        target = level_hint if level_hint in found else (next(iter(found)) if len(found) == 1 else None)
        if target:
            slot = found[target][_best_year(found[target])]
            slot.setdefault("name", generic[0])
    return found


def _best_year(years: dict[int | None, dict[str, str]]) -> int | None:
    with_code = [y for y, s in years.items() if "code" in s] or list(years)
    return max(with_code, key=lambda y: -1 if y is None else y)


def _lowest_level(found) -> str | None:
    for lv in LEVELS:
        if lv in found and any("code" in s for s in found[lv].values()):
            return lv
    return None


# --------------------------------------------------------------------------------------------
# Boundaries


def _repair(geoms: np.ndarray) -> np.ndarray:
    """make_valid, keeping only the polygonal part of any result."""
    try:
        fixed = shapely.make_valid(geoms, method="structure", keep_collapsed=False)
    except TypeError:  # shapely < 2.1
        fixed = shapely.make_valid(geoms)
    out = []
    for g in fixed:  # a loop over the few invalid polygons, not over rows of data
        if g.geom_type in ("Polygon", "MultiPolygon"):
            out.append(g)
        else:
            parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
            out.append(shapely.union_all(parts) if parts else shapely.Polygon())
    return np.asarray(out, dtype=object)


def split_layer(path) -> tuple[Path, str | None]:
    """`areas.gpkg:lsoa21` names a layer of a multi-layer file; a plain path names none.
    A path that exists as written is never split (a file name may hold a colon)."""
    p = Path(path)
    if p.exists() or ":" not in p.name:
        return p, None
    name, _, layer = p.name.rpartition(":")
    base = p.with_name(name)
    return (base, layer) if base.exists() and layer else (p, None)


def _layer_levels(path: Path, layer: str) -> str | None:
    """The lowest area level a layer holds codes for (from its first rows), or None."""
    import pyogrio

    try:
        head = pyogrio.read_dataframe(path, layer=layer, max_features=50, read_geometry=False)
    except Exception:  # noqa: BLE001 (an unreadable layer cannot be the boundary layer)
        return None
    cols = [str(c) for c in head.columns]
    return _lowest_level(_find_columns(cols, lambda c: pl.Series(c, head[c].to_numpy(), strict=False)))


def _choose_layer(path: Path, layer: str | None, level_hint: str | None) -> tuple[str | None, str | None]:
    """The layer to read from a file that may hold several (a GeoPackage), and a note.

    A named layer must exist. With none named and several layers, the one polygon layer with
    codes for `level_hint` (LSOAs) is read and named in a note; when there are several such
    layers, or none, the user is asked to name one. Reading the first layer silently gave
    misleading errors about the wrong table.
    """
    if path.is_dir() or path.suffix.lower() not in (".gpkg", ".sqlite", ".gdb", ".zip"):
        return layer, None
    import pyogrio  # GDAL (and through it geopandas): only for files that can hold layers

    try:
        layers = [(str(n), str(t)) for n, t in pyogrio.list_layers(path)]
    except Exception:  # noqa: BLE001 (read_file below says what is wrong with the file)
        return layer, None
    names = [n for n, _ in layers]
    shown = ", ".join(names[:12]) + (" ..." if len(names) > 12 else "")
    if layer is not None:
        if layer not in names:
            raise SourceError(f"{path}:{layer}", f"{path.name} has no layer {layer!r} (layers: {shown})",
                              f"name one of its layers, e.g. {path.name}:{names[0]}" if names
                              else "give a file with area polygons")
        return layer, None
    if len(layers) <= 1:
        return None, None
    polys = [n for n, t in layers if "polygon" in t.lower() or t.lower() in ("unknown", "none", "")]
    want = level_hint or "lsoa"
    hits = [n for n in polys if _layer_levels(path, n) == want]
    if len(hits) == 1:
        return hits[0], (f"{path.name} holds {len(layers)} layers ({shown}); read layer {hits[0]!r}, "
                         f"the one with {want.upper()} codes")
    what = f"{len(hits)} layers with {want.upper()} codes ({', '.join(hits)})" if hits else \
        f"{len(layers)} layers ({shown}) and none has {want.upper()} codes"
    raise SourceError(str(path), f"holds {what}",
                      f"name the layer to read as {path.name}:LAYER, e.g. {path.name}:{(hits or names)[0]}")


@dataclass
class BoundaryTable:
    """A boundary file read into EPSG:27700: hierarchy columns (Utf8) and one polygon each.

    `level` is the lowest level with a code column, `lsoa_year` 11 or 21 when the file says.
    """

    columns: pl.DataFrame
    geometry: np.ndarray
    level: str
    lsoa_year: int | None
    notes: list[str]


def _property_series(name: str, values, rows: np.ndarray) -> pl.Series:
    """One attribute column of the kept features as a Polars Series (typed where it can be)."""
    arr = np.asarray(values, dtype=object)[rows] if not isinstance(values, np.ndarray) or \
        values.dtype == object else values[rows]
    # GDAL gives a missing text value as NaN inside an object column: it is missing, not "NaN".
    data = [None if v != v else v for v in arr.tolist()] if arr.dtype == object else arr
    try:
        s = pl.Series(name, data, strict=False)
    except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
        s = pl.Series(name, [None] * len(arr), dtype=pl.Utf8)
    if s.dtype == pl.Object or s.dtype == pl.Null and any(v is not None for v in data):
        s = pl.Series(name, [None if v is None else str(v) for v in data], dtype=pl.Utf8)
    return s


def _text_column(s: pl.Series) -> pl.Series:
    """A property column as stripped text, None where missing (as pandas' "string" dtype gave)."""
    if s.dtype.is_float():
        s = s.fill_nan(None)
    return s.cast(pl.Utf8, strict=False).str.strip_chars()


def read_boundary_table(path, level_hint: str | None = None) -> BoundaryTable:
    """Read area polygons into EPSG:27700 with hierarchy column names (no pandas on GeoJSON).

    Finds the ONS code and name columns whatever their spelling, drops features without a
    polygon, repairs invalid ones, and merges repeated codes; every such step leaves a note.
    """
    from geodata import boundaries as B

    path, layer = split_layer(path)
    if not path.exists():
        raise SourceError(str(path), "does not exist", "check the areas path in study.toml")
    if path.is_file() and path.stat().st_size == 0:
        raise SourceError(str(path), "is empty", "download or export the boundary file again")
    notes: list[str] = []
    layer, note = _choose_layer(path, layer, level_hint)
    if note:
        notes.append(note)
    try:
        raw = B.read_features(path, layer)
    except B.NoGeometry:
        raise SourceError(str(path), "holds no geometries (a table without shapes, e.g. a CSV?)",
                          "give a GeoJSON, GeoPackage or Shapefile of area polygons") from None
    except Exception as exc:  # pyogrio/GDAL raise many types; the user needs one message
        raise SourceError(str(path), f"cannot be read as a boundary file ({exc})",
                          "give a GeoJSON, GeoPackage or Shapefile of area polygons") from exc
    notes.extend(f"reading the file: {w}" for w in raw.warnings)
    if len(raw) == 0:
        raise SourceError(str(path), "holds no features", "give a file with area polygons")
    geoms = raw.geometry
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not keep.all():
        notes.append(f"{int((~keep).sum())} feature(s) without geometry dropped")
        if not keep.any():
            raise SourceError(str(path), "holds no geometries", "give a file with area polygons")
    poly = keep & np.isin(shapely.get_type_id(geoms), (3, 6))  # Polygon, MultiPolygon
    if (poly != keep).any():
        notes.append(f"{int((keep & ~poly).sum())} non-polygon feature(s) dropped")
        if not poly.any():
            raise SourceError(str(path), "holds no polygons", "give a file of area polygons")
    rows = np.flatnonzero(poly)
    geoms = geoms[rows]

    kind = bounds_kind(*shapely.total_bounds(geoms))
    crs = raw.crs
    try:
        ckind = B.crs_kind(crs)
    except Exception as exc:  # noqa: BLE001 (an unknown CRS name)
        raise SourceError(str(path), f"cannot be converted to British National Grid ({exc})",
                          "save the file in EPSG:27700 or EPSG:4326") from exc
    if ckind is None:
        if kind == "bng":
            ckind = "bng"
            notes.append("no CRS in the file; coordinates look like British National Grid metres")
        elif kind == "lonlat":
            ckind, crs = "lonlat", "EPSG:4326"
            notes.append("no CRS in the file; coordinates taken as WGS84 longitude/latitude")
        else:
            raise SourceError(str(path), "has no CRS and its coordinates are neither BNG metres "
                              "nor longitude/latitude", "save the file with its CRS (a .prj file "
                              "for a shapefile)")
    elif ckind == "lonlat" and kind == "bng":
        ckind = "bng"
        notes.append("file says longitude/latitude but coordinates are British National Grid "
                     "metres; read as EPSG:27700")
    if ckind != "bng":
        try:
            geoms = B.to_bng(geoms, crs)
        except Exception as exc:
            raise SourceError(str(path), f"cannot be converted to British National Grid ({exc})",
                              "save the file in EPSG:27700 or EPSG:4326") from exc
    if bounds_kind(*shapely.total_bounds(geoms)) != "bng":
        raise SourceError(str(path), "does not lie in Great Britain once converted to "
                          "British National Grid", "check the file's CRS")

    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = _repair(geoms[invalid])
        notes.append(f"repaired {int(invalid.sum())} invalid polygon(s) with make_valid")

    names = list(raw.columns)
    series = {c: _property_series(c, raw.columns[c], rows) for c in names}
    found = _find_columns(names, series.__getitem__, level_hint)
    level = _lowest_level(found)
    if level is None:
        raise SourceError(str(path), "has no ONS area code column (looked for LSOA21CD, "
                          "lsoa21_code, WD24CD, LAD24CD, CSP24CD, PFA24CD and codes like E01...)",
                          "add the area codes to the file or use the ONS boundary download")
    out = {}
    lsoa_year = None
    for lv, years in found.items():
        y = _best_year(years)
        if lv == "lsoa":
            lsoa_year = y
        slot = years[y]
        for kind_ in ("code", "name"):
            if kind_ in slot:
                out[f"{lv}_{kind_}"] = _text_column(series[slot[kind_]]).alias(f"{lv}_{kind_}")
    cols = pl.DataFrame([out[c] for c in HIERARCHY_COLUMNS if c in out])
    key = f"{level}_code"
    missing = cols[key].is_null().to_numpy()
    if missing.any():
        notes.append(f"{int(missing.sum())} feature(s) without a {level} code dropped")
        cols, geoms = cols.filter(~pl.Series(missing)), geoms[~missing]
    if cols[key].is_duplicated().any():
        n = cols.height - cols[key].n_unique()
        cols, geoms = _merge_repeats(cols, geoms, key)
        notes.append(f"{n} repeated {level} code(s): their polygons were merged")
    if lsoa_year == 11:
        notes.append("LSOA codes are 2011 codes")
    return BoundaryTable(cols, np.asarray(geoms, dtype=object), level, lsoa_year, notes)


def _merge_repeats(cols: pl.DataFrame, geoms: np.ndarray, key: str) -> tuple[pl.DataFrame, np.ndarray]:
    """One row per code, sorted by code: the first row's attributes, the union of the polygons
    (what geopandas' dissolve(aggfunc="first") gave)."""
    groups = (cols.with_row_index("_i").group_by(key).agg(pl.col("_i")).sort(key))
    first = groups["_i"].list.first().to_numpy()
    merged = np.asarray(geoms, dtype=object)[first].copy()
    for g, idx in enumerate(groups["_i"].to_list()):  # a loop over codes, only where repeated
        if len(idx) > 1:
            merged[g] = shapely.union_all(geoms[idx])
    return cols[first], merged


def read_boundaries(path, level_hint: str | None = None):
    """`read_boundary_table` as a GeoDataFrame (EPSG:27700), for callers that want one.

    `gdf.attrs` holds `level`, `lsoa_year` and `notes`. Imports geopandas.
    """
    import geopandas as gpd

    t = read_boundary_table(path, level_hint)
    res = gpd.GeoDataFrame({c: np.asarray(t.columns[c].to_list(), dtype=object) for c in t.columns.columns},
                           geometry=t.geometry, crs=BNG)
    res.attrs.update(level=t.level, lsoa_year=t.lsoa_year, notes=t.notes)
    return res


# --------------------------------------------------------------------------------------------
# Lookups and small CSVs


def read_csv_strings(path) -> tuple[pl.DataFrame, list[str]]:
    """Read a small CSV with every column as text: BOM dropped, cp1252 fallback, ';'/tab found."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(str(path), f"cannot be read ({exc.strerror or exc})",
                          "check the path in study.toml") from exc
    notes = []
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    if not data.strip():
        raise SourceError(str(path), "is empty", "give the CSV with its header row")
    if b"\x00" in data[:4096] or data[:4] == b"PK\x03\x04":
        raise SourceError(str(path), "is not a text CSV file",
                          "save it as 'CSV UTF-8 (comma delimited)'")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        notes.append("file is not valid UTF-8; decoded as Windows-1252 (cp1252)")
    first = text.split("\n", 1)[0]
    sep = max((",", ";", "\t", "|"), key=first.count)
    if first.count(sep) == 0:
        sep = ","
    if sep != ",":
        notes.append(f"columns are separated by {sep!r}, not commas; read anyway")
    try:
        df = pl.read_csv(io.BytesIO(text.encode("utf-8")), separator=sep, infer_schema=False,
                         truncate_ragged_lines=True)
    except pl.exceptions.PolarsError as exc:
        raise SourceError(str(path), f"cannot be parsed as CSV ({str(exc).splitlines()[0]})",
                          "save it as 'CSV UTF-8 (comma delimited)'") from exc
    df = df.rename({c: c.replace("\ufeff", "").strip() for c in df.columns})
    return df, notes


_WEIGHT_NAMES = ("weight", "share", "proportion", "apportionment", "popweight",
                 "populationweight", "popshare", "fraction")


def read_lookup(path) -> pl.DataFrame:
    """Read a CSV lookup and name its columns canonically.

    LSOA columns keep their vintage (`lsoa11_code`, `lsoa11_name`, `lsoa21_code`, `lsoa21_name`;
    `lsoa_code` when the file does not say), the other levels become `ward_code`, `ward_name`,
    `district_code`, `district_name`, `csp_code`, `csp_name`, `force_code`, `force_name` (latest
    vintage when there are several). A change indicator becomes `change_code`, an apportioning
    weight `weight`. Other columns are kept as they are. Notes are in `df` via `lookup_notes`.
    """
    df, notes = read_csv_strings(path)
    df = df.with_columns(pl.col(c).str.strip_chars() for c in df.columns)
    found = _find_columns(df.columns, lambda c: df[c])
    rename: dict[str, str] = {}
    for lv, years in found.items():
        if lv == "lsoa":
            for y, slot in years.items():
                prefix = "lsoa" if y is None else f"lsoa{y:02d}"
                for k, c in slot.items():
                    rename[c] = f"{prefix}_{k}"
        else:
            for k, c in years[_best_year(years)].items():
                rename[c] = f"{lv}_{k}"
    for c in df.columns:
        n = _norm(c)
        if c in rename:
            continue
        if "chgind" in n or n in ("changecode", "change", "changeindicator", "chgcode"):
            rename[c] = "change_code"
        elif n in _WEIGHT_NAMES or n.endswith("weight"):
            rename[c] = "weight"
    # Never produce two columns with one name.
    taken: set[str] = set()
    final = {}
    for c in df.columns:
        new = rename.get(c, c)
        if new in taken:
            new = c
        taken.add(new)
        final[c] = new
    df = df.rename(final)
    if "weight" in df.columns:
        df = df.with_columns(pl.col("weight").cast(pl.Float64, strict=False))
    if not found:
        raise SourceError(str(path), "has no ONS area code columns (looked for LSOA21CD, "
                          "lsoa11_code, WD24CD, LAD24CD, CSP24CD, PFA24CD and codes like E01...)",
                          "give an ONS lookup CSV")
    return df


# --------------------------------------------------------------------------------------------
# Areas


class Areas:
    """The study's 2021 LSOAs and what sits above them.

    `geometry` holds the LSOA polygons (EPSG:27700) in the order of `codes`; `lsoa` gives them
    as a GeoDataFrame (lsoa_code, geometry), built on first use so that commands which only
    count and assign points never import geopandas. Either `lsoa` or `codes` and `geometry`
    may be given.
    """

    def __init__(self, lsoa=None, hierarchy: pl.DataFrame | None = None,
                 lsoa11_to_21: pl.DataFrame | None = None, notes: list[str] | None = None, *,
                 codes=None, geometry=None):
        self._cache: dict = {}
        self._lock = threading.Lock()
        if lsoa is not None:
            self._cache["lsoa"] = lsoa
            codes = lsoa["lsoa_code"].tolist()
            geometry = lsoa.geometry.values
        if codes is None or geometry is None:
            raise TypeError("Areas needs lsoa, or codes and geometry")
        self.geometry = np.asarray(geometry, dtype=object)
        self._cache["codes"] = pl.Series("lsoa_code", list(codes), dtype=pl.Utf8)
        if len(self._cache["codes"]) != len(self.geometry):
            raise ValueError("Areas: one geometry per LSOA code")
        self.hierarchy = hierarchy
        self.lsoa11_to_21 = lsoa11_to_21 if lsoa11_to_21 is not None else pl.DataFrame(schema=L11_21_SCHEMA)
        self.notes = list(notes or [])

    def __repr__(self) -> str:
        return f"Areas({len(self.geometry)} LSOAs)"

    @property
    def lsoa(self):
        """The LSOAs as a GeoDataFrame (lsoa_code, geometry, EPSG:27700); imports geopandas."""
        if "lsoa" not in self._cache:
            import geopandas as gpd

            self._cache["lsoa"] = gpd.GeoDataFrame(
                {"lsoa_code": np.asarray(self.codes.to_list(), dtype=object)}, geometry=self.geometry, crs=BNG)
        return self._cache["lsoa"]

    @property
    def codes(self) -> pl.Series:
        return self._cache["codes"]

    def __len__(self) -> int:
        return len(self.geometry)

    def study_polygon_soon(self) -> None:
        """Start the union of the LSOAs (`study_polygon`) on a thread of its own: GEOS works
        outside the GIL, so the union is ready by the time an analysis lays its grid."""
        from geodata.background import Background

        with self._lock:
            if "study" not in self._cache and "study_job" not in self._cache:
                self._cache["study_job"] = Background(self.study_polygon)

    def study_polygon(self):
        """The union of the study's LSOAs (a shapely geometry in EPSG:27700), made once."""
        with self._lock:
            if "study" not in self._cache:
                self._cache["study"] = shapely.union_all(self.geometry)
            return self._cache["study"]

    def tree(self) -> shapely.STRtree:
        if "tree" not in self._cache:
            self._cache["tree"] = shapely.STRtree(self.geometry)
        return self._cache["tree"]

    def levels_present(self) -> list[str]:
        return [lv for lv in LEVELS if self.hierarchy[f"{lv}_code"].null_count()
                < self.hierarchy.height]


def _hierarchy_from(cols: pl.DataFrame) -> pl.DataFrame:
    return pl.DataFrame([cols[c].cast(pl.Utf8) if c in cols.columns
                         else pl.Series(c, [None] * cols.height, dtype=pl.Utf8)
                         for c in HIERARCHY_COLUMNS])


def _fill_hierarchy(h: pl.DataFrame, lk: pl.DataFrame, notes: list[str], name: str) -> pl.DataFrame:
    """Fill null hierarchy cells from one lookup, keyed on any level both share."""
    if "lsoa_code" not in lk.columns:
        lk = lk.rename({c: c.replace("lsoa21_", "lsoa_") for c in ("lsoa21_code", "lsoa21_name")
                        if c in lk.columns and c.replace("lsoa21_", "lsoa_") not in lk.columns})
    for _ in range(len(LEVELS)):
        changed = False
        for i, lv in enumerate(LEVELS):
            key = f"{lv}_code"
            if key not in lk.columns or h[key].null_count() == h.height:
                continue
            targets = [f"{lv}_name"] + [f"{up}_{k}" for up in LEVELS[i + 1:] for k in ("code", "name")]
            targets = [t for t in targets if t in lk.columns and h[t].null_count() > 0]
            if not targets:
                continue
            m = lk.select([key, *targets]).filter(pl.col(key).is_not_null())
            conflicts = m.unique().group_by(key).len().filter(pl.col("len") > 1).height
            m = m.unique(subset=[key], keep="first", maintain_order=True)
            before = h.select(pl.col(targets).null_count()).sum_horizontal().item()
            h = h.join(m.rename({t: f"{t}__lk" for t in targets}), on=key, how="left",
                       maintain_order="left")
            h = h.with_columns(pl.coalesce(t, f"{t}__lk").alias(t) for t in targets)
            h = h.drop([f"{t}__lk" for t in targets])
            after = h.select(pl.col(targets).null_count()).sum_horizontal().item()
            if after < before:
                changed = True
                filled = sorted({t.rsplit("_", 1)[0] for t in targets})
                notes.append(f"{name}: filled {', '.join(filled)} from {lv} codes")
                if conflicts:
                    notes.append(f"{name}: {conflicts} {lv} code(s) map to several areas; "
                                 "the first was used")
        if not changed:
            break
    return h


def build_areas(boundary_path, lookup_paths=()) -> Areas:
    """Build the study's areas from an LSOA boundary file and optional CSV lookups.

    Lookups may be LSOA -> ward -> district, district -> CSP -> force, or the 2011 -> 2021 LSOA
    lookup (with change codes U/S/M/X). Upper levels missing from the boundary file are filled.
    """
    if isinstance(lookup_paths, (str, Path)):
        lookup_paths = [lookup_paths]
    table = read_boundary_table(boundary_path, level_hint="lsoa")
    notes = [f"{Path(boundary_path).name}: {n}" for n in table.notes]
    if table.level != "lsoa":
        raise SourceError(str(boundary_path), f"holds {table.level} polygons, not LSOAs",
                          "give the 2021 LSOA boundaries (e.g. lsoa21_*_bsc.geojson); "
                          "wards, districts and CSPs are built from them")
    h = _hierarchy_from(table.columns)
    l1121 = pl.DataFrame(schema=L11_21_SCHEMA)
    for lp in lookup_paths:
        lk = read_lookup(lp)
        name = Path(lp).name
        if "lsoa11_code" in lk.columns and "lsoa21_code" in lk.columns:
            l1121 = pl.concat([l1121, _lsoa11_to_21(lk, lp)]).unique(
                subset=["lsoa11_code", "lsoa21_code"], keep="first", maintain_order=True)
            notes.append(f"{name}: 2011 -> 2021 LSOA lookup, {l1121.height} pairs")
            if h["lsoa_name"].null_count() and "lsoa21_name" in lk.columns:
                h = _fill_hierarchy(h, lk.select("lsoa21_code", "lsoa21_name"), notes, name)
            continue
        h = _fill_hierarchy(h, lk, notes, name)
    if table.lsoa_year == 11:
        notes.append("the boundary file holds 2011 LSOAs; they are used as the study's LSOAs")
    return Areas(hierarchy=h, lsoa11_to_21=l1121, notes=notes, codes=table.columns["lsoa_code"],
                 geometry=table.geometry)


def _lsoa11_to_21(lk: pl.DataFrame, path="lookup") -> pl.DataFrame:
    cols = [pl.col("lsoa11_code"), pl.col("lsoa21_code")]
    cols.append(pl.col("change_code").str.to_uppercase() if "change_code" in lk.columns
                else pl.lit(None, dtype=pl.Utf8).alias("change_code"))
    cols.append(pl.col("weight").cast(pl.Float64, strict=False) if "weight" in lk.columns
                else pl.lit(None, dtype=pl.Float64).alias("weight"))
    m = (lk.select(cols).filter(pl.col("lsoa11_code").is_not_null()
                                & pl.col("lsoa21_code").is_not_null())
         .unique(subset=["lsoa11_code", "lsoa21_code"], keep="first", maintain_order=True))
    # Equal shares of a 2011 area among its 2021 parts unless the lookup gives weights.
    share = 1.0 / pl.len().over("lsoa11_code")
    m = m.with_columns(pl.coalesce(pl.col("weight").fill_nan(None), share).alias("weight"))
    return _checked_weights(m, path)


WEIGHT_SUM_TOLERANCE = 0.01  # ONS weights are rounded; a 2011 area's parts may sum to 0.99-1.01


def _checked_weights(m: pl.DataFrame, path) -> pl.DataFrame:
    """Apportioning weights are shares: each in [0, 1], a 2011 area's parts summing to 1.

    Anything else makes populations inflate (weights of 2.5) or go negative (weights of -3), and
    every rate built on them silently wrong, so such a lookup is refused with the first bad
    2011 code. Sums within WEIGHT_SUM_TOLERANCE of 1 (rounding) are rescaled to exactly 1, so
    apportioned totals are preserved.
    """
    if m.height == 0:
        return m
    sums = m.group_by("lsoa11_code").agg(pl.col("weight").sum().alias("_sum"),
                                         pl.col("weight").min().alias("_min"),
                                         pl.col("weight").max().alias("_max"))
    bad_range = sums.filter((pl.col("_min") < 0) | (pl.col("_max") > 1)).sort("lsoa11_code")
    bad_sum = sums.filter((pl.col("_sum") - 1).abs() > WEIGHT_SUM_TOLERANCE).sort("lsoa11_code")
    fix = ("correct the weights (shares between 0 and 1 that sum to 1 for each 2011 LSOA), "
           "or remove the weight column to split areas equally")
    if bad_range.height:
        r = bad_range.row(0, named=True)
        v = r["_min"] if r["_min"] < 0 else r["_max"]
        raise SourceError(str(path), f"lookup weights must be between 0 and 1: {bad_range.height} 2011 "
                          f"LSOA(s) have one outside, e.g. {r['lsoa11_code']} has {v:g}", fix)
    if bad_sum.height:
        r = bad_sum.row(0, named=True)
        raise SourceError(str(path), f"lookup weights of each 2011 LSOA must sum to 1: {bad_sum.height} "
                          f"do not, e.g. {r['lsoa11_code']} sums to {r['_sum']:g}", fix)
    return m.with_columns(pl.col("weight") / pl.col("weight").sum().over("lsoa11_code"))


_LEVEL_CACHE = "level:"


def level_polygons(areas: Areas, level: str):
    """Polygons of `level` (lsoa, ward, district, csp, force) dissolved from the LSOAs (cached).

    Columns `<level>_code`, `<level>_name`, `geometry` (EPSG:27700). A GeoDataFrame: imports
    geopandas.
    """
    import geopandas as gpd

    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; choose one of {', '.join(LEVELS)}")
    key = _LEVEL_CACHE + level
    if key in areas._cache:
        return areas._cache[key]
    code, name = f"{level}_code", f"{level}_name"
    h = areas.hierarchy.select("lsoa_code", code, name)
    if h[code].null_count() == h.height:
        raise SourceError("areas", f"no {level} codes for the LSOAs",
                          f"add a lookup that gives {level} codes to [sources] lookups")
    codes = dict(zip(h["lsoa_code"].to_list(), h[code].to_list()))
    names = dict(zip(h[code].to_list(), h[name].to_list()))
    g = areas.lsoa.assign(**{code: areas.lsoa["lsoa_code"].map(codes)})
    if level == "lsoa":
        out = g[["lsoa_code", "geometry"]].copy()
    else:
        g = g[g[code].notna()]
        out = g[[code, "geometry"]].dissolve(by=code, as_index=False)
    out[name] = out[code].map(names)
    out = gpd.GeoDataFrame(out[[code, name, "geometry"]], geometry="geometry", crs=BNG)
    areas._cache[key] = out
    return out


def study_polygon(areas: Areas):
    """The union of the study's LSOAs (a shapely geometry in EPSG:27700, cached)."""
    return areas.study_polygon()


# --------------------------------------------------------------------------------------------
# Assignment


def point_in_lsoa(areas: Areas, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Index into `areas.lsoa` of the polygon holding each point, -1 where none (vectorised).

    A point on a shared edge goes to the polygon listed first.
    """
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    hit = np.full(len(x), -1, dtype=np.int64)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return hit
    idx = np.flatnonzero(ok)
    # police.uk snaps crimes to shared map points: test each distinct point once.
    # (x, y) as one complex number: np.unique on it sorts by x then y, far faster than axis=0
    xy = np.empty(idx.size, dtype=np.complex128)
    xy.real, xy.imag = x[idx], y[idx]
    uniq, inv = np.unique(xy, return_inverse=True)
    inp, tre = areas.tree().query(shapely.points(uniq.real, uniq.imag), predicate="intersects")
    if len(inp):
        big = np.iinfo(np.int64).max
        first = np.full(len(uniq), big, dtype=np.int64)
        np.minimum.at(first, inp, tre)
        first = first[inv.ravel()]
        found = first != big
        hit[idx[found]] = first[found]
    return hit


def _entries_for(entry, files: list[str]) -> dict[str, SourceLedger | None]:
    if entry is None:
        return {f: None for f in files}
    if isinstance(entry, SourceLedger):
        return {f: entry for f in files}
    entries = entry.sources if isinstance(entry, Ledger) else list(entry)
    out = {}
    for f in files:
        best, best_len = None, -1
        for e in entries:
            p = str(e.path).rstrip("/")
            if f == p or f.startswith(p + "/") or f.startswith(p + "!") or f.startswith(p + "\\"):
                if len(p) > best_len:
                    best, best_len = e, len(p)
        if best is None and len(entries) == 1:
            best = entries[0]
        if best is None:
            raise ValueError(f"rows from {f!r} belong to no ledger entry; pass the entry they "
                             "were read into")
        out[f] = best
    return out


#: A point this far (metres) from every study LSOA contradicts a study LSOA code given with it.
#: police.uk snaps points by a few hundred metres and generalised boundaries move edges by
#: about as much, so only a clear contradiction counts.
FAR_FROM_CODE_M = 2000.0


def assign_areas(incidents: pl.DataFrame, areas: Areas,
                 entry: SourceLedger | Ledger | list[SourceLedger] | None = None) -> pl.DataFrame:
    """Set `lsoa_code` (a 2021 LSOA of the study) on every row; quarantine the rest.

    In order: the given code (`lsoa_given`) when it is a study LSOA; a 2011 code that maps to a
    single 2021 study LSOA (unchanged or merged); otherwise the point (`easting`, `northing`) in
    polygon. A given 2021 code missing from the boundary file but with a point inside one is
    assigned by the point (boundary snapping). A split 2011 code without a point goes to its first
    2021 part (noted). Rows left over are moved to quarantine: "outside the study area" (a point in
    no LSOA, or a real-looking LSOA code of another area), "no coordinates" (no code, no point),
    "unknown area code" (a code that is not an LSOA code and no point).

    `entry` is the ledger entry the rows came from; with a `Ledger` (or list of entries) each row
    is charged to the entry whose path its `source_file` starts with.
    """
    df = incidents.with_row_index("_i")
    if "lsoa_given" not in df.columns:
        df = df.with_columns(pl.lit(None, dtype=pl.Utf8).alias("lsoa_given"))
    for c in ("easting", "northing"):
        if c not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=pl.Float64).alias(c))
    given = pl.col("lsoa_given").cast(pl.Utf8).str.strip_chars().str.to_uppercase()
    df = df.with_columns(pl.when(given == "").then(None).otherwise(given).alias("_g"))
    codes = areas.codes
    m11 = (areas.lsoa11_to_21.filter(pl.col("lsoa21_code").is_in(codes.implode()))
           .group_by("lsoa11_code", maintain_order=True)
           .agg(pl.len().alias("_n11"), pl.col("lsoa21_code").first().alias("_t11")))
    df = df.join(m11, left_on="_g", right_on="lsoa11_code", how="left", maintain_order="left")
    by_code = (pl.when(pl.col("_g").is_in(codes.implode())).then(pl.col("_g"))
               .when(pl.col("_n11") == 1).then(pl.col("_t11")))
    df = df.with_columns(by_code.alias("_code"))
    # A code names a study LSOA but the point lies far outside the study (a corrupted row): the
    # row could be counted in area tables yet never reach the map. Treat it as outside.
    has_pt = (pl.col("easting").is_finite() & pl.col("northing").is_finite()).fill_null(False)
    chk = df.filter(pl.col("_code").is_not_null() & has_pt).select("_i", "easting", "northing")
    far_ids = pl.Series("_i", [], dtype=df["_i"].dtype)
    if chk.height:
        x, y = chk["easting"].to_numpy(), chk["northing"].to_numpy()
        out_idx = np.flatnonzero(point_in_lsoa(areas, x, y) < 0)  # usually a handful
        if len(out_idx):
            pts = shapely.points(x[out_idx], y[out_idx])
            near, _ = areas.tree().query(pts, predicate="dwithin", distance=FAR_FROM_CODE_M)
            far = np.ones(len(out_idx), dtype=bool)
            far[near] = False
            far_ids = chk["_i"].gather(out_idx[far])
    df = df.with_columns(pl.col("_i").is_in(far_ids.implode()).alias("_far"))
    df = df.with_columns(pl.when(pl.col("_far")).then(None).otherwise(pl.col("_code")).alias("_code"))

    need = df.filter(pl.col("_code").is_null())
    pip = point_in_lsoa(areas, need["easting"].fill_null(np.nan).to_numpy(),
                        need["northing"].fill_null(np.nan).to_numpy())
    ext = pl.concat([codes, pl.Series([None], dtype=pl.Utf8)])  # index -1 -> the trailing null
    need = need.select("_i").with_columns(
        ext.gather(np.where(pip < 0, len(codes), pip)).alias("_pip"))
    df = df.join(need, on="_i", how="left", maintain_order="left")
    df = df.with_columns(
        (pl.col("_code").is_null() & pl.col("_pip").is_null() & pl.col("_n11").gt(1)
         & ~pl.col("_far")).fill_null(False).alias("_split"))
    split_fallback = pl.col("_split")
    df = df.with_columns(
        pl.when(pl.col("_far")).then(None)
        .otherwise(pl.coalesce("_code", "_pip", pl.when(pl.col("_n11") > 1).then(pl.col("_t11"))))
        .alias("_code"))
    has_point = pl.col("easting").is_finite() & pl.col("northing").is_finite()
    reason = (
        pl.when(pl.col("_code").is_not_null()).then(pl.lit(None, dtype=pl.Utf8))
        .when(has_point).then(pl.lit("outside the study area"))
        .when(pl.col("_g").is_null()).then(pl.lit("no coordinates"))
        .when(pl.col("_g").str.contains(LSOA_CODE)).then(pl.lit("outside the study area"))
        .otherwise(pl.lit("unknown area code"))
    )
    df = df.with_columns(reason.alias("_reason"))
    base_cols = list(incidents.columns)
    if "source_file" not in df.columns:
        df = df.with_columns(pl.lit("").alias("source_file"))
    df = df.with_columns(pl.col("source_file").fill_null(""))
    bad = df.filter(pl.col("_reason").is_not_null())
    split_rows = df.filter(split_fallback)
    files = sorted(set(bad["source_file"].unique().to_list())
                   | set(split_rows["source_file"].unique().to_list()))
    owners = _entries_for(entry, files)
    for f in files:
        owner = owners.get(f)
        if owner is None:
            continue
        mine = bad.filter(pl.col("source_file") == f)
        for r in sorted(mine["_reason"].unique().to_list()):
            owner.move_to_quarantine(mine.filter(pl.col("_reason") == r).select(base_cols), r)
        n_far = mine.filter(pl.col("_far")).height
        if n_far:
            owner.notes.append(
                f"{f}: {n_far} row(s) give an LSOA code of the study but a point more than "
                f"{FAR_FROM_CODE_M / 1000:g} km outside it; quarantined as outside the study area")
        n_split = split_rows.filter(pl.col("source_file") == f).height
        if n_split:
            owner.notes.append(
                f"{f}: {n_split} row(s) with a split 2011 LSOA code and no usable point were put "
                "in the first 2021 LSOA of the split")
    out = df.filter(pl.col("_reason").is_null()).with_columns(pl.col("_code").alias("lsoa_code"))
    return out.select(base_cols if "lsoa_code" in base_cols else base_cols + ["lsoa_code"])


def locate_points(frame: pl.DataFrame, areas: Areas) -> pl.DataFrame:
    """Fill a null `lsoa_code` from `easting`/`northing` by point in polygon; drop no rows.

    For frames whose rows stay in the study whether or not they can be placed (A&E attendances:
    most have no coordinates). A `lsoa_code` already set is kept; rows without a point, or with a
    point outside the study's LSOAs, keep a null code.
    """
    if frame.height == 0 or not {"easting", "northing"} <= set(frame.columns):
        return frame
    had = "lsoa_code" in frame.columns
    hit = point_in_lsoa(areas, frame["easting"].cast(pl.Float64).fill_null(np.nan).to_numpy(),
                        frame["northing"].cast(pl.Float64).fill_null(np.nan).to_numpy())
    codes = areas.codes
    ext = pl.concat([codes, pl.Series([None], dtype=pl.Utf8)])
    found = ext.gather(np.where(hit < 0, len(codes), hit))
    if had:
        return frame.with_columns(pl.coalesce(pl.col("lsoa_code"), found).alias("lsoa_code"))
    return frame.with_columns(found.alias("lsoa_code"))
