"""Venues (pubs, bars, nightclubs, takeaways, transport hubs, ...) and their opening hours.

`read_venues` reads a CSV or a GeoJSON of Point features (any CRS) into VENUE_SCHEMA with
origin "file". `parse_hours` turns an opening-hours string such as
``Fri-Sat 21:00-03:00; Sun-Thu 21:00-00:00`` into a weekly minute mask; `open_mask` answers
"was this venue open at that weekday and hour?" for whole arrays at once.

Weekdays are numbered 0 = Monday ... 6 = Sunday (Python's ``datetime.weekday()``; Polars'
``dt.weekday()`` is 1..7, so subtract 1).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import polars as pl

from geodata.crs import detect_xy_kind, in_bng_box
from geodata.errors import SourceError
from geodata.ledger import Ledger, SourceLedger
from geodata.records import (
    COORD_ALIASES,
    CsvTable,
    _dedupe,
    _flag_note,
    _prefix_raw,
    _quarantine_by_reason,
    coordinate_notes,
    normalise_header,
    parse_marker,
    _marker_unrecognised,
    read_csv_table,
    resolve_coordinates,
)
from geodata.schema import VENUE_SCHEMA, conform

__all__ = [
    "VENUE_TYPES",
    "LICENSED_TYPES",
    "VENUE_TO_LOCATION_TYPE",
    "VENUE_TYPE_RULES",
    "WeeklyHours",
    "parse_hours",
    "open_mask",
    "open_matrix",
    "hours_table",
    "normalise_venue_type",
    "venue_key",
    "read_venues",
]

VENUE_TYPES = (
    "pub", "bar", "nightclub", "takeaway", "restaurant", "off_licence", "late_night_shop",
    "bus_station", "train_station", "taxi_rank", "school", "shopping_centre", "hospital", "other",
)

#: Types that hold an alcohol licence unless the file says otherwise.
LICENSED_TYPES = frozenset({"pub", "bar", "nightclub", "off_licence", "restaurant"})

#: Venue type -> incident/A&E location_type (schema.LOCATION_TYPES).
VENUE_TO_LOCATION_TYPE = {
    "pub": "pub_bar",
    "bar": "pub_bar",
    "nightclub": "nightclub",
    "takeaway": "takeaway",
    "restaurant": "restaurant",
    "off_licence": "shop",
    "late_night_shop": "shop",
    "bus_station": "bus_station",
    "train_station": "train_station",
    "taxi_rank": "street",
    "school": "school",
    "shopping_centre": "shopping_area",
    "hospital": "hospital",
    "other": "other",
}

#: Ordered (regex, type) rules on lower-cased text; first match wins; unmatched -> "other".
VENUE_TYPE_RULES: tuple[tuple[str, str], ...] = (
    (r"night ?club|nite ?club|discotheque|\bdisco\b|^clubs?$|late night venue", "nightclub"),
    (r"off ?licen[cs]e|\boffie\b|bottle shop|wine shop|beer shop", "off_licence"),
    (r"take ?away|fast food|kebab|chip shop|fish (and|&) chip|chippy|pizza|burger|fried chicken",
     "takeaway"),
    (r"late ?night (shop|store|convenience)|24 ?(hour|hr|h) (shop|store)|convenience|corner shop"
     r"|mini ?market|newsagent|late ?shop", "late_night_shop"),
    (r"pub\b|public house|\binns?\b|tavern|ale ?house|working mens club|social club", "pub"),
    (r"\bbars?\b|cocktail|lounge|wine bar", "bar"),
    (r"restaurant|\bcafe|bistro|diner\b|brasserie|carvery|eatery", "restaurant"),
    (r"bus station|coach station|bus interchange|\bbus\b", "bus_station"),
    (r"train station|railway|rail station|\bstation\b", "train_station"),
    (r"\btaxi|cab rank|hackney", "taxi_rank"),
    (r"school|academy|college|sixth form|pupil referral", "school"),
    (r"shopping (centre|center|mall|precinct|arcade)|\bmall\b|retail park|precinct", "shopping_centre"),
    (r"hospital|\ba ?& ?e\b|emergency department|urgent care", "hospital"),
)

VENUE_ALIASES: dict[str, tuple[str, ...]] = {
    "venue_id": ("id", "venue_ref", "premises_ref", "premises_id", "licence_number", "ref"),
    "name": ("venue_name", "premises_name", "premises", "venue"),
    "type": ("venue_type", "category", "premises_type", "kind"),
    "licensed": ("is_licensed", "alcohol_licence", "licence", "license", "alcohol"),
    "hours": ("opening_hours", "open_hours", "hours_open", "opening_times"),
    **COORD_ALIASES,
}

# --------------------------------------------------------------------------------------------
# Opening hours
# --------------------------------------------------------------------------------------------

_DAY_NAMES = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_ALL_DAYS = tuple(range(7))
_DAY_WORDS = {
    "": _ALL_DAYS, "daily": _ALL_DAYS, "every day": _ALL_DAYS, "everyday": _ALL_DAYS,
    "all week": _ALL_DAYS, "weekdays": (0, 1, 2, 3, 4), "weekday": (0, 1, 2, 3, 4),
    "weekends": (5, 6), "weekend": (5, 6),
}
_ALWAYS = re.compile(r"^(open\s*)?(24\s*/\s*7|24\s*(h|hr|hrs|hours?)|always( open)?|all day)$")
_SPLIT = re.compile(r"^(?P<days>[a-z ,&\-:]*?)\s*(?P<rest>(\d|closed|midnight|noon|24).*)$")
_TIME = re.compile(r"^(\d{1,2})(?:[:.h]?(\d{2}))?\s*(am|pm)?$")


@dataclass(frozen=True)
class WeeklyHours:
    """A week of opening times at minute resolution: ``minutes[weekday, minute_of_day]``."""

    text: str
    minutes: np.ndarray  # (7, 1440) bool

    @property
    def hourly(self) -> np.ndarray:
        """(7, 24) bool: open at any moment of that hour."""
        return self.minutes.reshape(7, 24, 60).any(axis=2)

    def is_open(self, weekday: int, hour: int, minute: int | None = None) -> bool:
        if minute is None:
            return bool(self.hourly[weekday, hour])
        return bool(self.minutes[weekday, hour * 60 + minute])

    @property
    def always(self) -> bool:
        return bool(self.minutes.all())


def _parse_days(text: str, whole: str) -> tuple[int, ...]:
    t = text.strip().replace("–", "-").replace("—", "-")
    t = re.sub(r"\s+to\s+", "-", t)
    t = re.sub(r"\s*(&|\band\b)\s*", ",", t)
    t = re.sub(r"\s*-\s*", "-", t).strip(" ,")
    if t in _DAY_WORDS:
        return _DAY_WORDS[t]
    days: list[int] = []
    for item in (p.strip() for p in t.split(",")):
        if not item:
            continue
        if item in _DAY_WORDS:
            days.extend(_DAY_WORDS[item])
            continue
        ends = item.split("-")
        if len(ends) > 2:
            raise ValueError(f"cannot read days '{item}' in '{whole}'")
        idx = []
        for e in ends:
            d = _DAY_NAMES.get(e.strip()[:3])
            if d is None or not e.strip().isalpha():
                raise ValueError(f"unknown day '{e.strip()}' in '{whole}' (use Mon, Tue, ... Sun)")
            idx.append(d)
        if len(idx) == 1:
            days.append(idx[0])
        else:
            a, b = idx
            days.extend((a + k) % 7 for k in range((b - a) % 7 + 1))
    return tuple(dict.fromkeys(days))


def _parse_time(text: str, whole: str, end: bool) -> int:
    t = text.strip()
    if t == "midnight":
        return 1440 if end else 0
    if t == "noon" or t == "midday":
        return 720
    m = _TIME.match(t)
    if not m:
        raise ValueError(f"cannot read time '{t}' in '{whole}' (use HH:MM)")
    h, mi, ampm = int(m.group(1)), int(m.group(2) or 0), m.group(3)
    if m.group(2) is None and ampm is None and len(m.group(1)) > 2:
        raise ValueError(f"cannot read time '{t}' in '{whole}'")
    if ampm:
        if not 1 <= h <= 12:
            raise ValueError(f"cannot read time '{t}' in '{whole}'")
        h = (h % 12) + (12 if ampm == "pm" else 0)
    if h > 24 or mi > 59 or (h == 24 and mi):
        raise ValueError(f"time '{t}' out of range in '{whole}'")
    v = h * 60 + mi
    if end and v == 0:
        return 1440
    return v


@lru_cache(maxsize=4096)
def parse_hours(text: str) -> WeeklyHours:
    """Parse an opening-hours string into a WeeklyHours mask; raise ValueError if unreadable.

    Grammar: entries separated by ``;`` (or new lines). Each entry is optional days then one or
    more comma-separated ``HH:MM-HH:MM`` ranges, or ``closed``, or ``24h``. Days: ``Mon``,
    ``Tuesday``, ranges that may wrap (``Sun-Thu``), lists (``Mon, Wed & Fri``), ``daily``,
    ``weekdays``, ``weekends``; no days means every day. A range whose end is at or before its
    start runs past midnight into the next day (``Fri 21:00-03:00`` is open early Saturday);
    ``00:00`` or ``24:00`` as an end means midnight; equal start and end means 24 hours. A
    ``closed`` entry cancels earlier opening on those days but not the spill-over from the
    night before. ``24/7`` or ``24h`` alone: always open. Times may be ``21:00``, ``21.00``,
    ``2100``, ``9pm``, ``midnight``, ``noon``.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("empty opening hours")
    own = np.zeros((7, 1440), dtype=bool)
    spill = np.zeros((7, 1440), dtype=bool)
    whole = text.strip()
    for raw in re.split(r"[;\n]", whole.lower()):
        entry = raw.strip().replace("–", "-").replace("—", "-")
        if not entry:
            continue
        if _ALWAYS.match(entry):
            own[:] = True
            continue
        m = _SPLIT.match(entry)
        if not m:
            raise ValueError(f"cannot read opening hours entry '{raw.strip()}' in '{whole}'")
        days = _parse_days(m.group("days").replace(":", " "), whole)
        rest = m.group("rest").strip()
        if rest == "closed":
            for d in days:
                own[d] = False
            continue
        if _ALWAYS.match(rest) or rest in ("24", "24 hour", "24hr"):
            for d in days:
                own[d] = True
            continue
        for rng in rest.split(","):
            rng = rng.strip()
            if not rng:
                continue
            parts = re.split(r"\s*(?:-|\bto\b)\s*", rng)
            if len(parts) != 2:
                raise ValueError(f"cannot read time range '{rng}' in '{whole}' (use HH:MM-HH:MM)")
            a = _parse_time(parts[0], whole, end=False)
            b = _parse_time(parts[1], whole, end=True)
            if a >= 1440:
                raise ValueError(f"opening time '{parts[0]}' out of range in '{whole}'")
            for d in days:
                if b > a:
                    own[d, a:b] = True
                else:  # past midnight (or 24 hours when b == a)
                    own[d, a:] = True
                    spill[(d + 1) % 7, : (b if b != 1440 else 0)] = True
    minutes = own | spill
    minutes.setflags(write=False)
    return WeeklyHours(text=whole, minutes=minutes)


def _try_parse(text: object) -> WeeklyHours | None:
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        return parse_hours(text.strip())
    except ValueError:
        return None


def hours_table(hours: Iterable[str | None], unknown: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(codes, table): table[k] is a (7, 24) mask per distinct string; codes index rows of it.

    Blank or unreadable strings share one row filled with `unknown`.
    """
    s = pl.Series("h", list(hours) if not isinstance(hours, pl.Series) else hours, dtype=pl.Utf8)
    uniq = s.drop_nulls().unique(maintain_order=True).to_list()
    tables = [np.full((7, 24), bool(unknown))]
    mapping: dict[str, int] = {}
    for u in uniq:
        wh = _try_parse(u)
        if wh is None:
            mapping[u] = 0
        else:
            mapping[u] = len(tables)
            tables.append(wh.hourly)
    codes = s.replace_strict(mapping, default=0, return_dtype=pl.Int64).fill_null(0).to_numpy() \
        if mapping else np.zeros(len(s), dtype=np.int64)
    return codes.astype(np.int64), np.stack(tables)


def _check_when(weekday: np.ndarray, hour: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    wd = np.asarray(weekday, dtype=np.int64)
    hr = np.asarray(hour, dtype=np.int64)
    if wd.size and (wd.min() < 0 or wd.max() > 6):
        raise ValueError("weekday must be 0 (Monday) .. 6 (Sunday)")
    if hr.size and (hr.min() < 0 or hr.max() > 23):
        raise ValueError("hour must be 0..23")
    return wd, hr


def open_mask(hours, weekday, hour, unknown: bool = False) -> np.ndarray:
    """Element-wise: was venue i (hours string hours[i]) open at (weekday[i], hour[i])?

    hours may be one string (broadcast) or a sequence/Series aligned with weekday and hour.
    Blank or unreadable hours give `unknown` (default False). Weekday 0 = Monday.
    """
    wd, hr = _check_when(weekday, hour)
    if hours is None or isinstance(hours, str):
        wh = _try_parse(hours)
        if wh is None:
            return np.full(np.broadcast(wd, hr).shape, bool(unknown))
        return wh.hourly[wd, hr]
    codes, table = hours_table(hours, unknown=unknown)
    return table[codes, wd, hr]


def open_matrix(hours: Sequence[str | None], weekday, hour, unknown: bool = False) -> np.ndarray:
    """(n_venues, n_times) bool: venue i open at time j = (weekday[j], hour[j])."""
    wd, hr = _check_when(weekday, hour)
    codes, table = hours_table(hours, unknown=unknown)
    return table[codes][:, wd, hr]


# --------------------------------------------------------------------------------------------
# Venue files
# --------------------------------------------------------------------------------------------


def venue_key(expr: pl.Expr) -> pl.Expr:
    """Text -> matching key: lower case, apostrophes dropped, '&' -> 'and', punctuation -> space,
    padded with one space each side so that containment works on whole words."""
    s = (
        expr.cast(pl.Utf8)
        .str.to_lowercase()
        .str.replace_all(r"['’`]", "")
        .str.replace_all("&", " and ", literal=True)
        .str.replace_all(r"[^a-z0-9]+", " ")
        .str.strip_chars()
    )
    return pl.when(s.is_null() | (s == "")).then(None).otherwise(pl.concat_str([pl.lit(" "), s, pl.lit(" ")]))


def normalise_venue_type(expr: pl.Expr) -> pl.Expr:
    """Free-text venue type -> one of VENUE_TYPES (blank -> 'other')."""
    key = (
        expr.cast(pl.Utf8).str.to_lowercase().str.replace_all(r"['’`]", "")
        .str.replace_all(r"[^a-z0-9&]+", " ").str.strip_chars()
    )
    exact = {t.replace("_", " "): t for t in VENUE_TYPES}
    out = pl.when(key.is_null() | (key == "")).then(pl.lit("other"))
    out = out.when(key.is_in(list(exact))).then(key.replace_strict(exact, default=None))
    for pattern, typ in VENUE_TYPE_RULES:
        out = out.when(key.str.contains(pattern)).then(pl.lit(typ))
    return out.otherwise(pl.lit("other"))


def _is_geojson(p: Path) -> bool:
    if p.suffix.lower() in (".geojson", ".json"):
        return True
    try:
        with open(p, "rb") as fh:
            head = fh.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
        return head.startswith(b"{")
    except OSError:
        return False


def gdf_to_bng(gdf, path: str, notes: list[str]):
    """Reproject a GeoDataFrame to EPSG:27700, guessing the CRS when the file does not say
    (GeoJSON defaults to WGS84, but files written in BNG without a crs member are common)."""
    import shapely

    crs = gdf.crs
    geoms = gdf.geometry.values
    pts = shapely.get_coordinates(shapely.envelope(geoms[~shapely.is_empty(geoms) & ~shapely.is_missing(geoms)]))
    guess = detect_xy_kind(pts[:, 0], pts[:, 1]) if len(pts) else "unknown"
    epsg = crs.to_epsg() if crs is not None else None
    if crs is None or epsg == 4326:
        if guess == "bng":
            gdf = gdf.set_crs(27700, allow_override=True)
            notes.append("coordinates are BNG metres although the file does not say so; read as EPSG:27700")
            return gdf
        if crs is None:
            gdf = gdf.set_crs(4326)
    try:
        return gdf.to_crs(27700)
    except Exception as exc:  # pyproj errors for unusable CRS definitions
        raise SourceError(path, f"cannot convert its coordinate system ({gdf.crs}) to BNG",
                          "save it in EPSG:27700 or EPSG:4326") from exc


def _read_geojson_table(path: Path) -> tuple[CsvTable, np.ndarray, np.ndarray, np.ndarray]:
    import geopandas as gpd
    import shapely

    spath = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError(spath, f"cannot be read ({exc.strerror or exc})", "check the path") from exc
    if not raw.strip():
        raise SourceError(spath, "the file is empty", "export the venues again")
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        where = f" at line {line}" if line else ""
        raise SourceError(spath, f"is not valid GeoJSON{where} ({exc})",
                          "check the file in a GeoJSON validator or export it again") from exc
    if not isinstance(doc, dict) or doc.get("type") not in ("FeatureCollection", "Feature"):
        raise SourceError(spath, "is JSON but not a GeoJSON FeatureCollection",
                          "export the venues as GeoJSON Point features")
    if doc.get("type") == "FeatureCollection" and not doc.get("features"):
        raise SourceError(spath, "the GeoJSON has no features", "export the venues again")
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:
        raise SourceError(spath, f"cannot be read as GeoJSON ({exc})", "export the venues again") from exc
    notes: list[str] = []
    # NaN or infinite numbers in a geometry (JSON allows neither, but writers emit them) make
    # no usable point; without this they could come out of the CRS conversion as (0, 0).
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(shapely.bounds(gdf.geometry.values)).all(axis=1)
    gdf = gdf_to_bng(gdf, spath, notes)
    geoms = gdf.geometry.values
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    broken = ~missing & ~finite
    types = shapely.get_type_id(geoms)
    not_point = ~missing & (types != 0)
    if not_point.any():
        notes.append(f"{int(not_point.sum())} features are not Points; used a point inside each")
    with np.errstate(invalid="ignore"):
        pts = shapely.point_on_surface(np.where(missing | broken, None, geoms))
    x = np.where(missing | broken, np.nan, shapely.get_x(pts))
    y = np.where(missing | broken, np.nan, shapely.get_y(pts))
    kind = np.where(missing, "none", np.where(~broken & in_bng_box(x, y), "bng", "range"))
    x = np.where(kind == "bng", x, np.nan)
    y = np.where(kind == "bng", y, np.nan)

    props = gdf.drop(columns=gdf.geometry.name)
    lookup: dict[str, str] = {}
    for canon, alts in VENUE_ALIASES.items():
        lookup[canon] = canon
        for a in alts:
            lookup.setdefault(normalise_header(a), canon)
    original: dict[str, str] = {}
    cols: dict[str, pl.Series] = {}
    for c in props.columns:
        canon = lookup.get(normalise_header(str(c)), normalise_header(str(c))) or str(c)
        if canon in cols:
            canon = f"{canon}_{len(cols)}"
        values = [None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
                  for v in props[c].tolist()]
        cols[canon] = pl.Series(canon, values, dtype=pl.Utf8).str.strip_chars()
        original[canon] = str(c)
    wkt = shapely.to_wkt(geoms, rounding_precision=6)
    frame = pl.DataFrame(list(cols.values())) if cols else pl.DataFrame()
    frame = frame.with_columns(
        pl.Series("source_row", np.arange(1, len(gdf) + 1), dtype=pl.Int64),
        pl.Series("geometry", [None if w is None else str(w) for w in wkt], dtype=pl.Utf8),
        pl.lit(False).alias("_malformed"),
    )
    for c in list(cols):
        frame = frame.with_columns(pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c))
    original["geometry"] = "geometry"
    if "name" not in cols:
        raise SourceError(spath, "the features have no 'name' property",
                          "add a name property to every venue")
    return CsvTable(path=spath, frame=frame, original=original, notes=notes), x, y, kind


def read_venues(path: str | Path, ledger: Ledger | None = None) -> pl.DataFrame:
    """Read venues (CSV or GeoJSON) into VENUE_SCHEMA with origin "file".

    Quarantine reasons: ``malformed row``, ``missing required value`` (blank name), ``no
    coordinates``, ``coordinates out of range``, ``duplicate id`` (venue_id repeated; first
    kept). A missing venue_id is made from the row number (``venue-12``). Types are normalised
    to VENUE_TYPES (unrecognised -> ``other`` with a note); ``licensed`` defaults from the type
    when blank; unreadable ``hours`` are dropped with a note.
    """
    p = Path(path)
    if p.exists() and p.is_file() and _is_geojson(p):
        table, x, y, kind = _read_geojson_table(p)
    else:
        table = read_csv_table(p, aliases=VENUE_ALIASES, required=("name",),
                               coordinates="required", what="venue list")
        x, y, kind = resolve_coordinates(table.frame)
    entry = SourceLedger(kind="venues", path=table.path)
    entry.notes.extend(table.notes)
    df = table.frame
    entry.read = df.height
    if "type" not in df.columns:
        entry.notes.append("no 'type' column; every venue recorded as 'other'")
    cols = set(df.columns)
    df = _prefix_raw(df)

    def col(name: str) -> pl.Expr:
        return pl.col(f"_raw_{name}") if name in cols else pl.lit(None, dtype=pl.Utf8)

    vtype = normalise_venue_type(col("type"))
    if "hours" in cols:
        readable = [h for h in df["_raw_hours"].drop_nulls().unique().to_list() if _try_parse(h) is not None]
        hours_ok = pl.col("_raw_hours").is_in(readable)
    else:
        hours_ok = pl.lit(None, dtype=pl.Boolean)
    df = df.with_columns(
        pl.coalesce([col("venue_id"), pl.format("venue-{}", pl.col("source_row"))]).alias("venue_id"),
        col("name").alias("name"),
        vtype.alias("type"),
        col("type").alias("_type_text"),
        pl.Series("easting", x),
        pl.Series("northing", y),
        pl.Series("_coord_kind", kind),
        parse_marker(col("licensed")).alias("_lic"),
        _marker_unrecognised(col("licensed")).alias("_bad_lic"),
        col("licensed").alias("_lic_text"),
        col("hours").alias("_hours_text"),
        hours_ok.alias("_hours_ok"),
        pl.lit("file").alias("origin"),
    )
    df = df.with_columns(
        pl.coalesce([pl.col("_lic"), pl.col("type").is_in(sorted(LICENSED_TYPES))]).alias("licensed"),
        pl.when(pl.col("_hours_ok").fill_null(False)).then(pl.col("_hours_text")).otherwise(None).alias("hours"),
        (pl.col("_hours_text").is_not_null() & ~pl.col("_hours_ok").fill_null(False)).alias("_bad_hours"),
        ((pl.col("type") == "other") & pl.col("_type_text").is_not_null()
         & (pl.col("_type_text").str.to_lowercase().str.strip_chars() != "other")).alias("_type_other"),
    )
    df = df.with_columns(
        pl.when(pl.col("_malformed")).then(pl.lit("malformed row"))
        .when(pl.col("name").is_null()).then(pl.lit("missing required value"))
        .when(pl.col("_coord_kind") == "none").then(pl.lit("no coordinates"))
        .when(pl.col("_coord_kind") == "range").then(pl.lit("coordinates out of range"))
        .otherwise(pl.lit(None, dtype=pl.Utf8)).alias("_reason")
    )
    df = _dedupe(df, "venue_id")
    df = _quarantine_by_reason(table, entry, df)
    entry.accepted = df.height
    notes: list[str] = []
    notes += _flag_note(df, "_type_other", "venue type not recognised, recorded as 'other'", "_type_text")
    notes += _flag_note(df, "_bad_lic", "licensed not Y/N, default for the type used", "_lic_text")
    notes += _flag_note(df, "_bad_hours", "opening hours not readable, left blank", "_hours_text")
    notes += coordinate_notes(df)
    entry.notes.extend(notes)
    entry.check()
    if ledger is not None:
        ledger.add(entry)
    return conform(df, VENUE_SCHEMA)
