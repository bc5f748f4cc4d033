"""Interventions (TOML): who runs what, for whom, where and when.

`read_interventions` parses the file described in docs/formats.md into `Intervention`s,
checking every field and raising one SourceError (file, problem with the intervention's name
and line, fix) for the first problem. `reaches_point` answers "does this intervention's area
reach these points?" for whole arrays, given a lookup from area names/codes to LSOA codes that
the caller builds from its Areas.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import polars as pl

from geodata.crs import in_bng_box, in_lonlat_box, lonlat_to_bng
from geodata.errors import SourceError
from geodata.venues import WeeklyHours, gdf_to_bng, parse_hours

__all__ = [
    "THEMES",
    "Intervention",
    "InterventionPoint",
    "read_interventions",
    "reaches_point",
    "unknown_areas",
    "area_key",
]

#: Themes an intervention may declare.
THEMES = (
    "knife", "exploitation", "domestic_abuse", "night_time_economy", "youth", "sexual_violence",
    "alcohol", "robbery", "county_lines", "firearm", "hate_crime", "modern_slavery", "violence",
)

_KEYS = {
    "name", "provider", "areas", "everywhere", "polygons", "points", "ages", "cohort", "themes",
    "times", "referral", "description", "contact", "url", "notes", "start", "end",
}
_POINT_KEYS = {"easting", "northing", "latitude", "longitude", "radius_m", "label"}


@dataclass(frozen=True)
class InterventionPoint:
    easting: float
    northing: float
    radius_m: float
    label: str = ""


@dataclass
class Intervention:
    """One intervention. Coverage is the union of areas, polygons and points (or everywhere)."""

    name: str
    provider: str = ""
    areas: list[str] = field(default_factory=list)
    everywhere: bool = False
    polygons: list[Any] = field(default_factory=list)  # shapely geometries, EPSG:27700
    polygons_path: str | None = None
    points: list[InterventionPoint] = field(default_factory=list)
    ages: tuple[int, int] | None = None  # inclusive; None = all ages
    cohort: str = ""
    themes: list[str] = field(default_factory=list)
    times: WeeklyHours | None = None  # None = any time
    times_text: list[str] = field(default_factory=lambda: ["any"])
    referral: str = ""
    description: str = ""
    contact: str = ""
    url: str = ""
    line: int | None = None  # line of its [[intervention]] header in the TOML

    @property
    def any_time(self) -> bool:
        return self.times is None

    def active_mask(self, weekday, hour) -> np.ndarray:
        """Bool array: running at (weekday, hour)? Weekday 0 = Monday."""
        wd = np.asarray(weekday, dtype=np.int64)
        hr = np.asarray(hour, dtype=np.int64)
        if self.times is None:
            return np.ones(np.broadcast(wd, hr).shape, dtype=bool)
        return self.times.hourly[wd, hr]

    def age_mask(self, ages, unknown: bool = True) -> np.ndarray:
        """Bool array: age within the intervention's range? Unknown ages (NaN/None) -> `unknown`."""
        if isinstance(ages, pl.Series):
            a = ages.cast(pl.Float64).fill_null(np.nan).to_numpy()
        else:
            a = np.asarray(ages, dtype="float64")  # None -> NaN
        if self.ages is None:
            return np.ones(a.shape, dtype=bool)
        lo, hi = self.ages
        known = np.isfinite(a)
        return np.where(known, (a >= lo) & (a <= hi), bool(unknown))


def area_key(name: str) -> str:
    """Lenient key for area names: case, '&' vs 'and', punctuation and ', County of' ignored."""
    s = str(name).casefold().replace("&", " and ")
    s = re.sub(r",?\s*county of\s*$", "", s)
    s = re.sub(r"[^a-z0-9]+", " ", s)
    return s.strip()


def _resolve_area_lookup(area_lookup: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
    keyed: dict[str, set[str]] = {}
    for k, v in area_lookup.items():
        keyed.setdefault(area_key(k), set()).update(v)
    return keyed


def unknown_areas(iv: Intervention, area_lookup: Mapping[str, Iterable[str]]) -> list[str]:
    """The intervention's area names/codes that the lookup does not know."""
    keyed = _resolve_area_lookup(area_lookup)
    return [a for a in iv.areas if a not in area_lookup and area_key(a) not in keyed]


def reaches_point(
    iv: Intervention,
    x,
    y,
    lsoa_codes,
    area_lookup: Mapping[str, Iterable[str]],
) -> np.ndarray:
    """Bool array: does the intervention's footprint reach each point?

    x, y are BNG metres; lsoa_codes the 2021 LSOA of each point (None where unknown);
    area_lookup maps an area name or code at any level (LSOA, ward, district, CSP, force, or
    any alias the caller adds, e.g. a county) to the set of LSOA codes inside it. Names are
    matched leniently (see area_key). Areas the lookup does not know reach nothing; report them
    with `unknown_areas`.
    """
    import shapely

    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    n = x.shape[0]
    if iv.everywhere:
        return np.ones(n, dtype=bool)
    out = np.zeros(n, dtype=bool)
    if iv.areas:
        keyed = _resolve_area_lookup(area_lookup)
        codes: set[str] = set()
        for a in iv.areas:
            if a in area_lookup:
                codes.update(area_lookup[a])
            else:
                codes.update(keyed.get(area_key(a), ()))
        if codes:
            lc = lsoa_codes if isinstance(lsoa_codes, pl.Series) else pl.Series(list(lsoa_codes), dtype=pl.Utf8)
            out |= lc.cast(pl.Utf8).is_in(sorted(codes)).fill_null(False).to_numpy()
    ok = np.isfinite(x) & np.isfinite(y)
    for p in iv.points:
        d2 = (x - p.easting) ** 2 + (y - p.northing) ** 2
        out |= ok & (d2 <= p.radius_m ** 2)
    if iv.polygons:
        geom = shapely.union_all(iv.polygons)
        inside = np.zeros(n, dtype=bool)
        inside[ok] = shapely.contains_xy(geom, x[ok], y[ok]) | shapely.intersects_xy(
            shapely.boundary(geom), x[ok], y[ok])
        out |= inside
    return out


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def _header_lines(text: str) -> list[int]:
    return [i + 1 for i, line in enumerate(text.splitlines())
            if re.match(r"^\s*\[\[\s*\"?intervention\"?\s*\]\]", line)]


class _Ctx:
    def __init__(self, path: str, index: int, name: str | None, line: int | None):
        self.path, self.index, self.name, self.line = path, index, name, line

    def where(self) -> str:
        who = f"intervention '{self.name}'" if self.name else f"intervention #{self.index + 1}"
        return f"{who}{f' (line {self.line})' if self.line else ''}"

    def fail(self, problem: str, fix: str) -> SourceError:
        return SourceError(self.path, f"{self.where()}: {problem}", fix)


def _text(ctx: _Ctx, tbl: dict, key: str, required: bool = False) -> str:
    v = tbl.get(key)
    if v is None:
        if required:
            raise ctx.fail(f"'{key}' is missing", f"add {key} = \"...\"")
        return ""
    if not isinstance(v, str):
        raise ctx.fail(f"'{key}' must be text, got {v!r}", f"write {key} = \"...\"")
    return v.strip()


def _str_list(ctx: _Ctx, tbl: dict, key: str) -> list[str]:
    v = tbl.get(key)
    if v is None:
        return []
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
        raise ctx.fail(f"'{key}' must be a list of text, got {v!r}", f'write {key} = ["...", "..."]')
    return [s.strip() for s in v if s.strip()]


def _number(ctx: _Ctx, d: dict, key: str, what: str) -> float | None:
    v = d.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
        raise ctx.fail(f"{what}: '{key}' must be a number, got {v!r}", f"write {key} = 123")
    return float(v)


def _points(ctx: _Ctx, tbl: dict) -> list[InterventionPoint]:
    raw = tbl.get("points")
    if raw is None:
        return []
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise ctx.fail("'points' must be a list of tables",
                       "write points = [{ easting = 385000, northing = 255000, radius_m = 800 }]")
    pts = []
    for i, p in enumerate(raw):
        what = f"point {i + 1}"
        if not isinstance(p, dict):
            raise ctx.fail(f"{what} is not a table",
                           "write { easting = 385000, northing = 255000, radius_m = 800 }")
        extra = sorted(set(p) - _POINT_KEYS)
        if extra:
            raise ctx.fail(f"{what}: unknown key {', '.join(repr(k) for k in extra)}",
                           f"use {', '.join(sorted(_POINT_KEYS))}")
        e, n = _number(ctx, p, "easting", what), _number(ctx, p, "northing", what)
        lat, lon = _number(ctx, p, "latitude", what), _number(ctx, p, "longitude", what)
        r = _number(ctx, p, "radius_m", what)
        if r is None or r <= 0:
            raise ctx.fail(f"{what}: 'radius_m' must be a positive number of metres", "add radius_m = 500")
        if e is not None and n is not None:
            if not in_bng_box(np.array([e]), np.array([n]))[0] or (abs(e) <= 180 and abs(n) <= 90):
                raise ctx.fail(f"{what}: easting/northing {e:g}, {n:g} are not in Great Britain",
                               "give BNG metres, or latitude/longitude in degrees")
        elif lat is not None and lon is not None:
            if not in_lonlat_box(np.array([lon]), np.array([lat]))[0]:
                raise ctx.fail(f"{what}: latitude/longitude {lat:g}, {lon:g} are not in Great Britain",
                               "check the order and sign (West Midlands is about 52.2, -2.2)")
            ex, ny = lonlat_to_bng(np.array([lon]), np.array([lat]))
            e, n = float(ex[0]), float(ny[0])
        else:
            raise ctx.fail(f"{what}: needs easting and northing, or latitude and longitude",
                           "add easting = ..., northing = ...")
        label = p.get("label", "")
        if not isinstance(label, str):
            raise ctx.fail(f"{what}: 'label' must be text", 'write label = "..."')
        pts.append(InterventionPoint(e, n, r, label.strip()))
    return pts


def _polygons(ctx: _Ctx, tbl: dict, base: Path) -> tuple[list[Any], str | None]:
    rel = tbl.get("polygons")
    if rel is None:
        return [], None
    if not isinstance(rel, str) or not rel.strip():
        raise ctx.fail("'polygons' must be the path of a GeoJSON file", 'write polygons = "area.geojson"')
    p = (base / rel).resolve() if not Path(rel).is_absolute() else Path(rel)
    if not p.is_file():
        raise ctx.fail(f"polygon file '{rel}' not found (looked for {p})",
                       "give the path relative to the interventions TOML file")
    import geopandas as gpd
    import shapely

    try:
        gdf = gpd.read_file(p)
    except Exception as exc:
        raise ctx.fail(f"polygon file '{rel}' cannot be read ({exc})", "export it again as GeoJSON") from exc
    if len(gdf) == 0:
        raise ctx.fail(f"polygon file '{rel}' has no features", "add the intervention's polygons")
    gdf = gdf_to_bng(gdf, str(p), [])
    geoms = [g for g in gdf.geometry.values if g is not None and not g.is_empty]
    polys = [g for g in geoms if shapely.get_type_id(g) in (3, 6)]  # Polygon, MultiPolygon
    if not polys:
        raise ctx.fail(f"polygon file '{rel}' has no Polygon features", "draw areas, not points or lines")
    polys = [g if g.is_valid else shapely.make_valid(g) for g in polys]
    return polys, str(p)


def _one(ctx: _Ctx, tbl: Any, base: Path) -> Intervention:
    if not isinstance(tbl, dict):
        raise ctx.fail("is not a table", "write each one as [[intervention]] followed by key = value lines")
    extra = sorted(set(tbl) - _KEYS)
    if extra:
        raise ctx.fail(f"unknown key{'s' if len(extra) > 1 else ''} {', '.join(repr(k) for k in extra)}",
                       f"use: {', '.join(sorted(_KEYS))}")
    name = _text(ctx, tbl, "name", required=True)
    if not name:
        raise ctx.fail("'name' is blank", 'write name = "..."')
    ctx.name = name
    everywhere = tbl.get("everywhere", False)
    if not isinstance(everywhere, bool):
        raise ctx.fail(f"'everywhere' must be true or false, got {everywhere!r}", "write everywhere = true")
    areas = _str_list(ctx, tbl, "areas")
    points = _points(ctx, tbl)
    polygons, poly_path = _polygons(ctx, tbl, base)
    if not (everywhere or areas or points or polygons):
        raise ctx.fail("does not say where it works",
                       "add areas = [...], everywhere = true, polygons = \"file.geojson\" or points = [...]")

    ages = tbl.get("ages")
    if ages is not None:
        if (not isinstance(ages, list) or len(ages) != 2
                or not all(isinstance(a, int) and not isinstance(a, bool) for a in ages)
                or not 0 <= ages[0] <= ages[1] <= 120):
            raise ctx.fail(f"'ages' must be [youngest, oldest] whole years in 0-120, got {ages!r}",
                           "write ages = [11, 17], or leave it out for all ages")
        ages = (int(ages[0]), int(ages[1]))

    themes = [t.lower().replace("-", "_").replace(" ", "_") for t in _str_list(ctx, tbl, "themes")]
    bad = [t for t in themes if t not in THEMES]
    if bad:
        raise ctx.fail(f"unknown theme{'s' if len(bad) > 1 else ''} {', '.join(repr(b) for b in bad)}",
                       f"use any of: {', '.join(THEMES)}")

    times_text = _str_list(ctx, tbl, "times") or ["any"]
    if any(t.lower() == "any" for t in times_text):
        if len(times_text) > 1:
            raise ctx.fail("'times' mixes \"any\" with time windows", 'write times = ["any"] or only windows')
        times = None
    else:
        try:
            times = parse_hours("; ".join(times_text))
        except ValueError as exc:
            raise ctx.fail(f"cannot read times: {exc}", 'write times like ["Fri 21:00-04:00", "Sat 21:00-04:00"]') from exc

    return Intervention(
        name=name,
        provider=_text(ctx, tbl, "provider"),
        areas=areas,
        everywhere=everywhere,
        polygons=polygons,
        polygons_path=poly_path,
        points=points,
        ages=ages,
        cohort=_text(ctx, tbl, "cohort"),
        themes=themes,
        times=times,
        times_text=times_text,
        referral=_text(ctx, tbl, "referral"),
        description=_text(ctx, tbl, "description"),
        contact=_text(ctx, tbl, "contact"),
        url=_text(ctx, tbl, "url"),
        line=ctx.line,
    )


def read_interventions(path: str | Path) -> list[Intervention]:
    """Parse an interventions TOML file; raise SourceError naming the first problem.

    TOML syntax errors give the line and column tomllib reports. Field errors name the
    intervention and the line of its ``[[intervention]]`` header.
    """
    p = Path(path)
    spath = str(p)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise SourceError(spath, f"cannot be read ({exc.strerror or exc})", "check the path") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(spath, "is not UTF-8 text", "save the file as UTF-8") from exc
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        where = f"line {m.group(1)}, column {m.group(2)}" if m else ""
        problem = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg) or "invalid TOML"
        if m:
            line_text = text.splitlines()[int(m.group(1)) - 1] if int(m.group(1)) <= len(text.splitlines()) else ""
            problem = f"TOML syntax error at {where}: {problem}"
            if line_text.strip():
                problem += f" in: {line_text.strip()[:80]}"
        else:
            problem = f"TOML syntax error: {problem}"
        raise SourceError(spath, problem,
                          "check quotes, commas and brackets on that line (text needs \"quotes\")") from exc
    extra = sorted(k for k in doc if k not in ("intervention", "interventions", "meta", "synthetic"))
    ivs = doc.get("intervention", doc.get("interventions"))
    if ivs is None:
        hint = f" (found: {', '.join(extra)})" if extra else ""
        raise SourceError(spath, f"has no [[intervention]] tables{hint}",
                          "start each intervention with a line [[intervention]]")
    if isinstance(ivs, dict):
        ivs = [ivs]
    if not isinstance(ivs, list):
        raise SourceError(spath, "'intervention' must be an array of tables",
                          "start each intervention with a line [[intervention]]")
    lines = _header_lines(text)
    out: list[Intervention] = []
    seen: dict[str, int | None] = {}
    for i, tbl in enumerate(ivs):
        line = lines[i] if i < len(lines) else None
        name = tbl.get("name") if isinstance(tbl, dict) and isinstance(tbl.get("name"), str) else None
        ctx = _Ctx(spath, i, name, line)
        iv = _one(ctx, tbl, p.parent)
        if iv.name.casefold() in seen:
            prev = seen[iv.name.casefold()]
            raise ctx.fail(f"the name is used twice{f' (also at line {prev})' if prev else ''}",
                           "give each intervention its own name")
        seen[iv.name.casefold()] = line
        out.append(iv)
    return out
