"""Reader for the partnership's record-level police extract (svtui records CSV, version 1).

One row per recorded crime with a Home Office Counting Rules offence code, committed-from/to
date-times, a location (BNG eastings/northings or WGS84 latitude/longitude), markers and ages.
The contract is in docs/formats.md; an example is sample_data/examples/records_example.csv.

Every check is column-wise over Polars expressions or NumPy arrays; nothing loops over rows in
Python. Each data row ends up either in the returned frame or in the ledger's quarantine with
one reason, and `read == accepted + quarantined` always holds.

The CSV plumbing here (encoding detection, header aliasing, ragged rows, coordinates, dates,
location types) is shared with the A&E and venue readers, which import it from this module.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import polars as pl

from geodata.crs import in_bng_box, in_lonlat_box, lonlat_to_bng
from geodata.errors import SourceError
from geodata.ledger import Ledger, SourceLedger
from geodata.schema import INCIDENT_SCHEMA, LOCATION_TYPES, MARKERS, conform

__all__ = [
    "read_records",
    "is_records_header",
    "read_header",
    "RECORDS_REQUIRED",
    "RECORDS_MARKER_COLUMNS",
    "DATETIME_FORMATS",
    "LOCATION_TYPE_RULES",
    "normalise_header",
    "normalise_location_type",
    "normalise_offence_code",
    "parse_datetime",
    "parse_datetime_series",
    "parse_marker",
    "read_csv_table",
    "resolve_coordinates",
    "CsvTable",
]

# --------------------------------------------------------------------------------------------
# Column names
# --------------------------------------------------------------------------------------------

#: Columns a records CSV must have (after aliasing), besides one coordinate pair.
RECORDS_REQUIRED = ("crime_ref", "offence_code", "committed_from")

#: File column -> canonical marker column of INCIDENT_SCHEMA.
RECORDS_MARKER_COLUMNS = {
    "domestic_abuse": "domestic_abuse",
    "hate_crime": "hate_crime",
    "knife_or_sharp": "knife",
    "firearm": "firearm",
    "corrosive": "corrosive",
    "county_lines": "county_lines",
    "alcohol": "alcohol",
}
assert set(RECORDS_MARKER_COLUMNS.values()) == set(MARKERS)

COORD_ALIASES: dict[str, tuple[str, ...]] = {
    "easting": ("x", "x_coord", "x_coordinate", "grid_easting", "bng_easting", "east"),
    "northing": ("y", "y_coord", "y_coordinate", "grid_northing", "bng_northing", "north"),
    "latitude": ("lat", "wgs84_latitude"),
    "longitude": ("lon", "lng", "long", "wgs84_longitude"),
}

RECORDS_ALIASES: dict[str, tuple[str, ...]] = {
    "crime_ref": ("crime_reference", "crime_number", "crime_no", "crime_ref_no", "crn"),
    "offence_code": ("ho_code", "hocr_code", "ho_offence_code", "home_office_code",
                     "home_office_offence_code", "offence_class"),
    "offence_description": ("offence_desc", "offence_name", "offence_title"),
    "committed_from": ("committed_from_datetime", "committed_date_from", "date_from",
                       "from_datetime", "start_datetime", "committed_on"),
    "committed_to": ("committed_to_datetime", "committed_date_to", "date_to", "to_datetime",
                     "end_datetime"),
    "location_type": ("location_category", "premises_type", "place_type"),
    "location_description": ("location_desc", "location", "location_text"),
    "lsoa_code": ("lsoa", "lsoa21cd", "lsoa11cd", "lsoa_21_code", "lsoa_11_code", "lsoa21_code",
                  "lsoa11_code"),
    "domestic_abuse": ("domestic", "da", "domestic_abuse_marker", "da_marker", "da_flag"),
    "hate_crime": ("hate", "hate_crime_marker", "hate_flag"),
    "knife_or_sharp": ("knife", "knife_crime", "knife_or_sharp_instrument", "sharp_instrument",
                       "knife_marker", "knife_flag"),
    "firearm": ("firearms", "firearm_marker", "firearm_flag"),
    "corrosive": ("corrosive_substance", "acid", "corrosive_marker", "corrosive_flag"),
    "county_lines": ("county_lines_marker", "county_lines_flag", "cl_marker"),
    "alcohol": ("alcohol_related", "alcohol_marker", "alcohol_flag"),
    "victim_age": ("age_of_victim", "victim_age_at_offence"),
    "suspect_age": ("offender_age", "age_of_suspect", "suspect_age_at_offence"),
    "force": ("force_name", "police_force"),
    "outcome": ("last_outcome", "outcome_category", "last_outcome_category"),
    **COORD_ALIASES,
}

#: Date-time layouts accepted after light cleaning (``T`` -> space, fractions of a second,
#: ``Z`` and UTC offsets dropped). Day-first only: ``01/02/2024`` is 1 February.
DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%d %b %Y %H:%M",
    "%d %b %Y",
    "%d %B %Y %H:%M",
    "%d %B %Y",
)

# --------------------------------------------------------------------------------------------
# Small expression helpers
# --------------------------------------------------------------------------------------------


def normalise_header(name: str) -> str:
    """'Crime Ref ' -> 'crime_ref'; 'LSOA code' -> 'lsoa_code'; 'Knife/Sharp?' -> 'knife_sharp'."""
    s = name.strip().lstrip("\ufeff").lower()
    s = re.sub(r"[^a-z0-9]+", "_", s)
    return s.strip("_")


def _blank_to_null(expr: pl.Expr) -> pl.Expr:
    s = expr.cast(pl.Utf8).str.strip_chars()
    return pl.when(s == "").then(None).otherwise(s)


def _to_float(expr: pl.Expr) -> pl.Expr:
    """Text -> Float64; thousands separators and spaces ignored; junk -> null."""
    return (
        expr.cast(pl.Utf8)
        .str.replace_all(r"[,\s]", "")
        .cast(pl.Float64, strict=False)
    )


def _clean_datetime_text(expr: pl.Expr) -> pl.Expr:
    return (
        expr.cast(pl.Utf8)
        .str.strip_chars()
        .str.replace(r"^(\d{4}-\d{2}-\d{2})T", "${1} ")
        .str.replace(r"(\d{1,2}:\d{2}:\d{2})[.,]\d+", "${1}")
        .str.replace(r"\s*(?:Z|[+-]\d{2}:?\d{2}|UTC|GMT|BST)$", "")
        .str.replace_all(r"\s+", " ")
    )


def parse_datetime(expr: pl.Expr) -> pl.Expr:
    """Parse text in any of DATETIME_FORMATS to Datetime(us); anything else -> null.

    Expression form (tries every format on every row); readers use the faster
    `parse_datetime_series`, which gives the same result.
    """
    s = _clean_datetime_text(expr)
    return pl.coalesce(
        [s.str.strptime(pl.Datetime("us"), f, strict=False, exact=True) for f in DATETIME_FORMATS]
    )


def parse_datetime_series(values: pl.Series) -> pl.Series:
    """Series form of parse_datetime: each format is tried only on rows still unparsed, so a
    file in one layout costs one pass."""
    text = pl.select(_clean_datetime_text(pl.lit(values.cast(pl.Utf8)))).to_series()
    out = pl.Series(values.name, [None] * len(text), dtype=pl.Datetime("us"))
    todo = text.is_not_null() & (text != "")
    for fmt in DATETIME_FORMATS:
        idx = todo.arg_true()
        if idx.len() == 0:
            break
        parsed = text.gather(idx).str.strptime(pl.Datetime("us"), fmt, strict=False, exact=True)
        ok = parsed.is_not_null()
        if ok.any():
            hit = idx.filter(ok)
            out = out.scatter(hit, parsed.filter(ok))
            todo = todo.scatter(hit, False)
    return out


def _via_unique(values: pl.Series, fn, dtype: pl.DataType = pl.Utf8) -> pl.Series:
    """Apply an expression function to the distinct values only, then map back (fast for
    low-cardinality text such as location types or assault methods)."""
    u = pl.DataFrame({"k": values.cast(pl.Utf8).unique()}).with_columns(fn(pl.col("k")).cast(dtype).alias("v"))
    return (
        pl.DataFrame({"k": values.cast(pl.Utf8)})
        .join(u, on="k", how="left", nulls_equal=True, maintain_order="left")["v"]
    )


def _combine_date_time(date: pl.Expr, time: pl.Expr | None) -> pl.Expr:
    """A date column plus an optional time column ('2130' or '21:30') -> one text column."""
    d = _blank_to_null(date)
    if time is None:
        return d
    t = _blank_to_null(time).str.replace(r"^(\d{1,2})(\d{2})$", "${1}:${2}")
    return pl.when(t.is_null()).then(d).otherwise(pl.concat_str([d, pl.lit(" "), t]))


_TRUE = ("y", "yes", "true", "t", "1", "1.0")
_FALSE = ("n", "no", "false", "f", "0", "0.0")
_UNKNOWN = ("", "u", "unk", "unknown", "not known", "nk", "n/k", "?", "na", "n/a", "-",
            "not stated", "null", "none")


def parse_marker(expr: pl.Expr) -> pl.Expr:
    """Y/N (yes/no/true/false/1/0) -> Boolean; blank, 'unknown' or anything else -> null."""
    s = expr.cast(pl.Utf8).str.strip_chars().str.to_lowercase()
    return (
        pl.when(s.is_in(_TRUE)).then(pl.lit(True))
        .when(s.is_in(_FALSE)).then(pl.lit(False))
        .otherwise(pl.lit(None, dtype=pl.Boolean))
    )


def _is_unknown_text(expr: pl.Expr) -> pl.Expr:
    """True where text is blank or says 'unknown' / 'not known' / 'n/k' and the like."""
    s = expr.cast(pl.Utf8).str.strip_chars().str.to_lowercase()
    return s.is_null() | s.is_in(_UNKNOWN)


def _marker_unrecognised(expr: pl.Expr) -> pl.Expr:
    s = expr.cast(pl.Utf8).str.strip_chars().str.to_lowercase()
    return s.is_not_null() & ~s.is_in(_TRUE + _FALSE + _UNKNOWN)


def normalise_offence_code(expr: pl.Expr) -> pl.Expr:
    """' 8n' -> '8N', '005D' -> '5D', '4.1' -> '4/1' (the Counting Rules spelling)."""
    s = (
        expr.cast(pl.Utf8)
        .str.to_uppercase()
        .str.replace_all(r"\s+", "")
        .str.replace_all(".", "/", literal=True)
        .str.replace(r"^0+(\d)", "${1}")
    )
    return pl.when(s == "").then(None).otherwise(s)


def _parse_age(expr: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(age Int32 or null, problem flag) — problem when text is not a whole number in 0..120."""
    raw = _blank_to_null(expr)
    num = raw.cast(pl.Float64, strict=False)
    ok = num.is_not_null() & (num >= 0) & (num <= 120) & (num == num.floor())
    age = pl.when(ok).then(num).otherwise(None).cast(pl.Int32)
    problem = raw.is_not_null() & ~ok
    return age, problem


# --------------------------------------------------------------------------------------------
# Location types
# --------------------------------------------------------------------------------------------

#: Ordered (regex, location_type) rules applied to lower-cased text with punctuation turned into
#: spaces; the first rule that matches wins, unmatched non-blank text becomes ``other``. The
#: order matters: "public house" before "house", "car park" before "park", "police station"
#: before "station", "sports club" before "club".
LOCATION_TYPE_RULES: tuple[tuple[str, str], ...] = (
    (r"night ?club|nite ?club|discotheque|\bdisco\b|late night venue|^clubs?$", "nightclub"),
    (r"\bpubs?\b|public house|\bbars?\b|\binns?\b|tavern|licensed premises|social club"
     r"|members club|working mens club|\bwmc\b|beer garden", "pub_bar"),
    (r"take ?aways?|fast food|kebab|chip shop|fish (and|&) chip|chippy|pizza|burger", "takeaway"),
    (r"restaurant|\bcafe|\bcaf\b|diner\b|bistro|coffee shop|eatery", "restaurant"),
    (r"petrol|filling station|service station|forecourt|fuel station", "petrol_station"),
    (r"police station|custody|police office", "police_station"),
    (r"prison|\bhmp\b|\byoi\b|young offender", "prison"),
    (r"car ?park|parking|multi ?stor[e]?y", "parking"),
    (r"hospital|\ba ?& ?e\b|\ba and e\b|accident (and|&) emergency|emergency department"
     r"|health centre|medical centre|gp surgery|surgery|clinic", "hospital"),
    (r"bus station|coach station|bus stop|bus shelter|\bbus\b|\bcoach\b|interchange",
     "bus_station"),
    (r"railway|train|rail station|\bplatform\b|\bstation\b", "train_station"),
    (r"supermarket|superstore|hypermarket", "supermarket"),
    (r"shopping (area|centre|center|precinct|mall|arcade)|\bmall\b|precinct|retail park"
     r"|\bmarket\b|high street shops|arcade", "shopping_area"),
    (r"\bshops?\b|\bstores?\b|retail|off licen[cs]e|newsagent|convenience|bookmaker|betting"
     r"|\bbank\b|pharmacy|chemist|launderette|salon|barber", "shop"),
    (r"sport|leisure centre|\bgym\b|stadium|football|rugby|cricket|golf|swimming|playing field"
     r"|pitch|skate ?park|sports club|\bclub\b", "sports"),
    (r"\bcollege\b|university|sixth form|\bcampus\b|further education", "further_education"),
    (r"school|academy|nursery|primary|secondary", "school"),
    (r"theatre|cinema|concert|music venue|\barena\b|festival|\bgig\b|bingo|casino", "theatre_concert"),
    (r"church|mosque|temple|gurdwara|synagogue|chapel|cathedral|place of worship|mandir",
     "place_of_worship"),
    (r"\bpark\b|parks|open space|playground|play area|recreation ground|\brec\b|common"
     r"|woodland|\bwoods?\b|country park|green space|nature reserve|\bfields?\b|riverside"
     r"|canal|towpath|allotment", "park"),
    (r"dwelling|house|home|\bflats?\b|residential|residence|bungalow|apartment|maisonette|bedsit"
     r"|hostel|\bhmo\b|garden|driveway|domestic|property|premises private|care home|cottage",
     "dwelling"),
    (r"street|road|highway|foot ?path|pavement|alley|\blane\b|avenue|underpass|subway|walkway"
     r"|cycle ?path|bridge|roundabout|junction|public place|footway|carriageway|\bst\b|\brd\b"
     r"|\bave\b|close\b|crescent|taxi rank|outside|in the open|public highway", "street"),
)


def _location_key(expr: pl.Expr) -> pl.Expr:
    s = (
        expr.cast(pl.Utf8)
        .str.to_lowercase()
        .str.replace_all(r"['’`]", "")
        .str.replace_all("_", " ", literal=True)
        .str.replace_all(r"[^a-z0-9&]+", " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )
    return pl.when(s == "").then(None).otherwise(s)


def normalise_location_type(expr: pl.Expr) -> pl.Expr:
    """Free-text place description -> one of schema.LOCATION_TYPES (null for blank)."""
    key = _location_key(expr)
    exact = {t.replace("_", " "): t for t in LOCATION_TYPES}
    out = pl.when(key.is_null()).then(pl.lit(None, dtype=pl.Utf8))
    out = out.when(key.is_in(list(exact))).then(key.replace_strict(exact, default=None))
    for pattern, typ in LOCATION_TYPE_RULES:
        out = out.when(key.str.contains(pattern)).then(pl.lit(typ))
    return out.otherwise(pl.lit("other"))


# --------------------------------------------------------------------------------------------
# Reading the CSV text
# --------------------------------------------------------------------------------------------


@dataclass
class CsvTable:
    """A CSV read as text: canonical column names, one row per non-blank data row.

    ``frame`` has every file column as Utf8 (blank -> null) under its canonical name, plus
    ``source_row`` (Int64, 1-based data row; header is row 0) and ``_malformed`` (row had more
    fields than the header). ``original`` maps canonical -> header name as written.
    """

    path: str
    frame: pl.DataFrame
    original: dict[str, str]
    notes: list[str] = field(default_factory=list)
    encoding: str = "utf-8"

    def raw_rows(self, mask: pl.Series | None = None) -> pl.DataFrame:
        """Original text of (some) rows, with the file's own column names, for the quarantine."""
        df = self.frame if mask is None else self.frame.filter(mask)
        cols = [pl.lit(self.path).alias("source_file"), pl.col("source_row")]
        reserved = ("source_file", "source_row", "reason")
        cols += [
            pl.col(c).alias(f"file_{o}" if (o := self.original[c]) in reserved else o)
            for c in self.original
        ]
        return df.select(cols)


_DELIMS = {";": "semicolons", "\t": "tabs", "|": "vertical bars (|)"}


def _decode(raw: bytes, path: str) -> tuple[str, str]:
    if raw.startswith(b"PK\x03\x04"):
        raise SourceError(path, "this is a zip or Excel workbook, not a CSV file",
                          "open it in Excel and use Save As > CSV UTF-8 (comma delimited)")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    if b"\x00" in raw[:4096]:
        raise SourceError(path, "the file holds binary data, not CSV text",
                          "export the data as CSV UTF-8 (comma delimited)")
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def read_header(path: str | Path) -> list[str]:
    """The header row of a CSV as written (BOM, encoding and leading '#' comments handled).

    Cheap: reads only the start of the file. Returns [] for an empty file.
    """
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            raw = fh.read(65536)
    except OSError as exc:
        raise SourceError(str(p), f"cannot be read ({exc.strerror or exc})",
                          "check the path and permissions") from exc
    text, _ = _decode(raw, str(p))
    header_line, _ = _split_header(text.replace("\r\n", "\n").replace("\r", "\n"))
    if header_line is None:
        return []
    names = _parse_header_line(header_line, str(p))
    if len(names) <= 1:
        # A header saved with ';', tabs or '|' (European Excel): split it so the file is
        # recognised for what it is, and its own reader can say what is wrong.
        for d in _DELIMS:
            if d in header_line:
                try:
                    return next(csv.reader([header_line], delimiter=d), [])
                except csv.Error:
                    break
    return names


def _parse_header_line(line: str, path: str) -> list[str]:
    try:
        return next(csv.reader([line]), [])
    except csv.Error as exc:
        raise SourceError(path, f"the header row cannot be read ({exc})",
                          "the first line must be the column names, separated by commas") from exc


def _split_header(text: str) -> tuple[str | None, str]:
    """Skip blank lines and '#' comment lines before the header; return (header, rest)."""
    pos = 0
    n = len(text)
    while pos < n:
        end = text.find("\n", pos)
        if end == -1:
            end = n
        line = text[pos:end].rstrip("\r")
        if line.strip() and not line.lstrip().startswith("#"):
            return line, text[end + 1:]
        pos = end + 1
    return None, ""


def _read_body(body: str, ncols: int) -> pl.DataFrame:
    """Data lines as text columns c0..c{ncols} (one spare column catches extra fields)."""
    synthetic = ",".join(f"c{i}" for i in range(ncols + 1))
    return pl.read_csv(
        io.BytesIO((synthetic + "\n" + body).encode("utf-8")),
        infer_schema=False,
        truncate_ragged_lines=True,
        row_index_name="_idx",
        raise_if_empty=False,
    )


def _bad_quote_start(body: str) -> int | None:
    """1-based line (within body) where the first record with broken quoting starts: a quote
    never closed (it runs to the end of the file) or text after a closing quote. None when
    Python's strict CSV reader finds nothing wrong."""
    reader = csv.reader(io.StringIO(body, newline=""), strict=True)
    prev = 0
    try:
        for _ in reader:
            prev = reader.line_num
    except csv.Error:
        return prev + 1
    return None


def read_csv_table(
    path: str | Path,
    *,
    aliases: Mapping[str, Iterable[str]],
    required: Sequence[str] = (),
    coordinates: str = "optional",
    what: str = "file",
) -> CsvTable:
    """Read a CSV as text with canonical column names; raise SourceError if it cannot be used.

    coordinates: "required" (an easting/northing or latitude/longitude pair must exist),
    "optional", or "none".
    """
    p = Path(path)
    spath = str(p)
    try:
        raw = p.read_bytes()
    except IsADirectoryError as exc:
        raise SourceError(spath, "is a folder, not a CSV file", f"give the path of the {what}") from exc
    except OSError as exc:
        raise SourceError(spath, f"cannot be read ({exc.strerror or exc})",
                          "check the path and permissions") from exc
    if not raw.strip():
        raise SourceError(spath, "the file is empty", f"export the {what} again; it has no header or rows")
    text, encoding = _decode(raw, spath)
    notes: list[str] = []
    if encoding in ("cp1252", "latin-1"):
        notes.append(f"the file was not UTF-8; read it as Windows-1252 ({encoding}) text")
    elif encoding == "utf-16":
        notes.append("the file was UTF-16; converted to UTF-8")

    text = text.replace("\r\n", "\n").replace("\r", "\n")
    header_line, body = _split_header(text)
    if header_line is None:
        raise SourceError(spath, "the file is empty (only blank or '#' comment lines)",
                          f"export the {what} again")
    header = _parse_header_line(header_line, spath)
    if len(header) <= 1:
        for d, label in _DELIMS.items():
            if d in header_line:
                raise SourceError(
                    spath, f"columns are separated by {label}, not commas",
                    "save the file as CSV (comma delimited), e.g. Excel: Save As > CSV UTF-8")

    # Canonical names.
    lookup: dict[str, str] = {}
    for canon, alts in aliases.items():
        lookup[canon] = canon
        for a in alts:
            lookup.setdefault(normalise_header(a), canon)
    canon_names: list[str] = []
    original: dict[str, str] = {}
    seen: dict[str, str] = {}
    for i, h in enumerate(header):
        norm = normalise_header(h)
        canon = lookup.get(norm, norm) or f"column_{i + 1}"
        if canon in ("source_row", "malformed"):  # names the reader uses itself
            canon = f"file_{canon}"
        if canon in seen:
            if canon in aliases:
                raise SourceError(
                    spath, f"columns '{seen[canon]}' and '{h}' both give {canon}",
                    "remove or rename one of them")
            canon = f"{canon}_{i + 1}"
        seen[canon] = h
        canon_names.append(canon)
        original[canon] = h.strip() or f"column_{i + 1}"

    missing = [c for c in required if c not in seen]
    if coordinates == "required":
        has_en = "easting" in seen and "northing" in seen
        has_ll = "latitude" in seen and "longitude" in seen
        if not (has_en or has_ll):
            missing.append("easting/northing or latitude/longitude")
    if missing:
        raise SourceError(
            spath,
            f"missing required column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}"
            f" (found: {', '.join(h.strip() for h in header) or 'none'})",
            "rename or add the columns as described in docs/formats.md")

    if not body.strip():
        raise SourceError(spath, "the file has a header row but no data rows",
                          f"export the {what} again with its rows")

    ncols = len(canon_names)
    first_line = text[: len(text) - len(body)].count("\n") + 1  # file line of the first data line
    tail_fields: list[str] | None = None  # a last row cut short by a truncated file
    try:
        df = _read_body(body, ncols)
    except pl.exceptions.PolarsError as exc:
        start = _bad_quote_start(body)
        n_lines = body.rstrip("\n").count("\n") + 1
        if '"' not in body or start is None:
            first = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise SourceError(spath, f"cannot be parsed as CSV ({first[:200]})",
                              "export the file again as CSV (comma delimited)") from exc
        if start < n_lines:  # a stray quote mid-file: everything after it would be one field
            raise SourceError(
                spath, f"a quoted field opened on line {first_line + start - 1} is never closed "
                "(a stray \" character)",
                "check the quoting on that line, or export the file again") from exc
        # The quote opens on the last line: the file was cut off mid-row. Read the rows before
        # it; the cut row is quarantined as malformed.
        lines = body.split("\n")
        tail = "\n".join(lines[start - 1:])
        body = "\n".join(lines[: start - 1]) + "\n"
        tail_fields = next(csv.reader([tail.rstrip("\n") + '"']), [])
        if not body.strip():  # nothing before it: the file cannot be used at all
            raise SourceError(
                spath, f"a quoted field opened on line {first_line + start - 1} is never closed "
                "(a stray \" character)",
                "check the quoting on that line, or export the file again") from exc
        try:
            df = _read_body(body, ncols)
        except pl.exceptions.PolarsError:
            raise SourceError(spath, "a quoted field is not closed (a stray \" character)",
                              "check the quoting in the file, or export it again") from exc
        notes.append(f"the last row (line {first_line + start - 1}) opens a quote that is never "
                     "closed: the file looks cut short; the row is quarantined")
    if tail_fields is None and not body.endswith("\n"):
        # No line break at the end: if the last line also has too few fields, it was cut short.
        last = body[body.rfind("\n") + 1:]
        if last.strip() and last.count('"') % 2 == 0:
            try:
                n_fields = len(next(csv.reader([last]), []))
            except csv.Error:
                n_fields = ncols
            if n_fields < ncols and df.height:
                df = df.with_columns(
                    pl.when(pl.col("_idx") == pl.col("_idx").max())
                    .then(pl.lit("\x00cut")).otherwise(pl.col(f"c{ncols}")).alias(f"c{ncols}"))
                notes.append(f"the last row (line {first_line + body.count(chr(10))}) has "
                             f"{n_fields} of {ncols} fields and no line break: the file looks cut "
                             "short; the row is quarantined")
    if tail_fields is not None:
        row = {f"c{i}": [tail_fields[i] if i < len(tail_fields) else None] for i in range(ncols)}
        row[f"c{ncols}"] = ["\x00cut"]
        nxt = int(df["_idx"].max()) + 1 if df.height else 0
        df = pl.concat([df, pl.DataFrame({**row, "_idx": pl.Series([nxt], dtype=df["_idx"].dtype)},
                                         schema_overrides={k: pl.Utf8 for k in row})],
                       how="diagonal_relaxed")

    extra = f"c{ncols}"
    if extra not in df.columns:  # polars drops nothing, but be defensive
        df = df.with_columns(pl.lit(None, dtype=pl.Utf8).alias(extra))
    df = df.select(
        (pl.col("_idx").cast(pl.Int64) + 1).alias("source_row"),
        *[_blank_to_null(pl.col(f"c{i}")).alias(canon_names[i]) for i in range(ncols)],
        _blank_to_null(pl.col(extra)).is_not_null().alias("_malformed"),
    )
    blank = pl.all_horizontal([pl.col(c).is_null() for c in canon_names]) & ~pl.col("_malformed")
    n_blank = df.select(blank.sum()).item()
    if n_blank:
        df = df.filter(~blank)
        notes.append(f"{n_blank} blank line{'s' if n_blank != 1 else ''} skipped")
    if df.height == 0:
        raise SourceError(spath, "the file has a header row but no data rows",
                          f"export the {what} again with its rows")
    return CsvTable(path=spath, frame=df, original=original, notes=notes, encoding=encoding)


# --------------------------------------------------------------------------------------------
# Coordinates
# --------------------------------------------------------------------------------------------

#: codes in the `kind` array returned by resolve_coordinates
COORD_KINDS = ("none", "range", "bng", "bng_swapped", "lonlat", "latlon", "bng_in_lonlat_cols",
               "lonlat_in_bng_cols")


def _col_float(df: pl.DataFrame, name: str) -> np.ndarray:
    if name not in df.columns:
        return np.full(df.height, np.nan)
    return df.select(_to_float(pl.col(name))).to_series().fill_null(np.nan).to_numpy().astype("float64")


def _classify(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Classify each (a, b) pair: returns (kind strings, x, y) with lon/lat still in degrees."""
    n = len(a)
    kind = np.full(n, "none", dtype=object)
    has = np.isfinite(a) & np.isfinite(b) & ~((a == 0) & (b == 0))
    deg = has & (np.abs(a) <= 180) & (np.abs(b) <= 90)
    lonlat = deg & in_lonlat_box(a, b)
    latlon = deg & ~lonlat & in_lonlat_box(b, a)
    metres = has & ~deg
    bng = metres & in_bng_box(a, b)
    swapped = metres & ~bng & in_bng_box(b, a)
    kind[has] = "range"
    kind[bng] = "bng"
    kind[swapped] = "bng_swapped"
    kind[lonlat] = "lonlat"
    kind[latlon] = "latlon"
    x = np.where(swapped | latlon, b, a)
    y = np.where(swapped | latlon, a, b)
    return kind, x, y


def resolve_coordinates(df: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Work out BNG easting/northing for every row from whichever columns the file has.

    Looks at ``easting``/``northing`` first and ``longitude``/``latitude`` second (text
    columns of df; either pair may be absent). Each row's pair is classified by its values, not
    its column names, so eastings given as longitudes, latitude and longitude swapped, or
    eastings and northings swapped are all recognised and converted. (0, 0) counts as no
    coordinates. Returns (easting, northing, kind), kind one of COORD_KINDS per row: "none"
    (no usable values) and "range" (values present but not in Great Britain) are failures, the
    others say how the row was read; easting/northing are NaN for failures.
    """
    e, n = _col_float(df, "easting"), _col_float(df, "northing")
    lon, lat = _col_float(df, "longitude"), _col_float(df, "latitude")
    k1, x1, y1 = _classify(e, n)
    k2, x2, y2 = _classify(lon, lat)
    fail = ("none", "range")
    use1 = ~np.isin(k1, fail)
    use2 = ~use1 & ~np.isin(k2, fail)
    kind = np.where((k1 == "range") | (k2 == "range"), "range", "none").astype(object)
    kind[use1 & (k1 == "bng")] = "bng"
    kind[use1 & (k1 == "bng_swapped")] = "bng_swapped"
    kind[use1 & np.isin(k1, ("lonlat", "latlon"))] = "lonlat_in_bng_cols"
    kind[use2 & (k2 == "lonlat")] = "lonlat"
    kind[use2 & (k2 == "latlon")] = "latlon"
    kind[use2 & np.isin(k2, ("bng", "bng_swapped"))] = "bng_in_lonlat_cols"
    x = np.where(use1, x1, np.where(use2, x2, np.nan))
    y = np.where(use1, y1, np.where(use2, y2, np.nan))
    is_deg = (use1 & np.isin(k1, ("lonlat", "latlon"))) | (use2 & np.isin(k2, ("lonlat", "latlon")))
    if is_deg.any():
        bx, by = lonlat_to_bng(x[is_deg], y[is_deg])
        x[is_deg], y[is_deg] = bx, by
    good = use1 | use2
    bad_after = good & ~(np.isfinite(x) & np.isfinite(y) & in_bng_box(x, y))
    kind[bad_after] = "range"
    x[~good | bad_after] = np.nan
    y[~good | bad_after] = np.nan
    return x, y, kind.astype(str)


_COORD_NOTES = {
    "bng_swapped": "eastings and northings were swapped; read the right way round",
    "latlon": "latitude and longitude were swapped; read the right way round",
    "lonlat_in_bng_cols": "easting/northing columns held longitude/latitude degrees; converted to BNG",
    "bng_in_lonlat_cols": "latitude/longitude columns held BNG metres; used as eastings/northings",
}


def _rows_text(rows: Sequence[int], limit: int = 5) -> str:
    rows = list(rows)
    s = ", ".join(str(r) for r in rows[:limit])
    if len(rows) > limit:
        s += f" and {len(rows) - limit} more"
    return f"row{'s' if len(rows) != 1 else ''} {s}"


def coordinate_notes(df: pl.DataFrame, kind_col: str = "_coord_kind") -> list[str]:
    notes = []
    for kind, msg in _COORD_NOTES.items():
        rows = df.filter(pl.col(kind_col) == kind)["source_row"].to_list()
        if rows:
            notes.append(f"{len(rows)} {'row' if len(rows) == 1 else 'rows'}: {msg} ({_rows_text(rows)})")
    return notes


def _flag_note(df: pl.DataFrame, flag: str, message: str, value_col: str | None = None) -> list[str]:
    sub = df.filter(pl.col(flag))
    if sub.height == 0:
        return []
    rows = sub["source_row"].to_list()
    examples = ""
    if value_col is not None:
        vals = sub[value_col].drop_nulls().unique(maintain_order=True).head(3).to_list()
        if vals:
            examples = " e.g. " + ", ".join(repr(v) for v in vals) + ";"
    return [f"{len(rows)} {'row' if len(rows) == 1 else 'rows'}: {message};{examples} {_rows_text(rows)}"]


def _quarantine_by_reason(table: CsvTable, entry: SourceLedger, df: pl.DataFrame,
                          reason_col: str = "_reason") -> pl.DataFrame:
    """Move rows with a reason into the ledger's quarantine; return the rest."""
    reasons = df[reason_col].drop_nulls().unique(maintain_order=True).to_list()
    for reason in reasons:
        rows = df.filter(pl.col(reason_col) == reason)
        raw = table.raw_rows(table.frame["source_row"].is_in(rows["source_row"].implode()))
        entry.quarantine(raw, reason)
    return df.filter(pl.col(reason_col).is_null())


def _prefix_raw(df: pl.DataFrame) -> pl.DataFrame:
    """Rename file columns to ``_raw_<name>`` so they can never leak into a canonical frame."""
    return df.rename({c: f"_raw_{c}" for c in df.columns if c not in ("source_row", "_malformed")})


def _dedupe(df: pl.DataFrame, id_col: str, reason_col: str = "_reason") -> pl.DataFrame:
    """Among rows with no reason yet, later rows repeating an id get 'duplicate id'."""
    ok = pl.col(reason_col).is_null()
    first = (
        pl.when(ok).then(pl.col(id_col)).otherwise(None)
    )
    df = df.with_columns(first.alias("_id_ok"))
    dup = ok & ~pl.col("_id_ok").is_first_distinct() & pl.col("_id_ok").is_not_null()
    return df.with_columns(
        pl.when(dup).then(pl.lit("duplicate id")).otherwise(pl.col(reason_col)).alias(reason_col)
    ).drop("_id_ok")


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------

_LSOA_RE = r"^[EW]01\d{6}$"


def is_records_header(columns: Iterable[str]) -> bool:
    """True when a CSV header looks like an svtui records extract rather than police.uk.

    Decided by an offence-code column (any accepted alias), or a crime reference together with
    a committed-from date. police.uk street files have neither.
    """
    lookup: dict[str, str] = {}
    for canon, alts in RECORDS_ALIASES.items():
        lookup[canon] = canon
        for a in alts:
            lookup.setdefault(normalise_header(a), canon)
    names = {lookup.get(normalise_header(str(c)), normalise_header(str(c))) for c in columns}
    return "offence_code" in names or {"crime_ref", "committed_from"} <= names


def read_records(path: str | Path, ledger: Ledger | None = None) -> pl.DataFrame:
    """Read a records CSV into INCIDENT_SCHEMA (source = "records").

    Quarantine reasons, checked in this order (a row gets the first that applies):
    ``malformed row`` (more fields than the header), ``missing required value`` (crime_ref,
    offence_code or committed_from blank), ``unparseable date`` (committed_from),
    ``no coordinates``, ``coordinates out of range``, ``duplicate id`` (a crime_ref already
    accepted earlier in the file; the first occurrence is kept).

    Softer problems keep the row and add a ledger note: unrecognised marker text (-> null),
    ages outside 0-120 or not whole numbers (-> null), an unparseable or earlier committed_to
    (-> null), an LSOA code that is not an E01/W01 code (-> null), swapped or mislabelled
    coordinate columns (converted), dates without a time (read as 00:00).

    ``crime_type`` and ``lsoa_code`` are left null: the engine fills crime_type from the
    offence-code table and area assignment fills lsoa_code.
    """
    table = read_csv_table(path, aliases=RECORDS_ALIASES, required=RECORDS_REQUIRED,
                           coordinates="required", what="records extract")
    entry = SourceLedger(kind="records", path=table.path)
    entry.notes.extend(table.notes)
    df = table.frame
    entry.read = df.height

    x, y, kind = resolve_coordinates(df)
    cols = set(df.columns)
    df = _prefix_raw(df)

    def col(name: str) -> pl.Expr:
        return pl.col(f"_raw_{name}") if name in cols else pl.lit(None, dtype=pl.Utf8)

    def raw(name: str) -> pl.Series:
        return df[f"_raw_{name}"] if name in cols else pl.Series(name, [None] * df.height, dtype=pl.Utf8)

    df = df.with_columns(
        parse_datetime_series(raw("committed_from")).alias("from_dt"),
        parse_datetime_series(raw("committed_to")).alias("_to_raw"),
        _via_unique(raw("location_type"), normalise_location_type).alias("location_type"),
    )
    exprs: list[pl.Expr] = [
        pl.lit("records").alias("source"),
        pl.lit(table.path).alias("source_file"),
        col("crime_ref").alias("incident_id"),
        col("force").alias("force"),
        pl.Series("easting", x),
        pl.Series("northing", y),
        pl.Series("_coord_kind", kind),
        col("location_description").alias("location"),
        col("location_type").alias("_loc_text"),
        col("lsoa_code").str.to_uppercase().str.replace_all(r"\s+", "").alias("_lsoa_raw"),
        normalise_offence_code(col("offence_code")).alias("offence_code"),
        col("offence_description").alias("offence_desc"),
        col("outcome").alias("outcome"),
        col("committed_from").alias("_from_text"),
        col("committed_to").alias("_to_text"),
    ]
    for file_col, marker in RECORDS_MARKER_COLUMNS.items():
        exprs.append(parse_marker(col(file_col)).alias(marker))
        exprs.append(_marker_unrecognised(col(file_col)).alias(f"_bad_{marker}"))
        exprs.append(col(file_col).alias(f"_txt_{marker}"))
    for age_col in ("victim_age", "suspect_age"):
        age, problem = _parse_age(col(age_col))
        exprs += [age.alias(age_col), problem.alias(f"_bad_{age_col}"), col(age_col).alias(f"_txt_{age_col}")]

    df = df.with_columns(exprs)

    missing = pl.any_horizontal(
        [col("crime_ref").is_null(), pl.col("offence_code").is_null(), col("committed_from").is_null()]
    )
    df = df.with_columns(
        pl.when(pl.col("_malformed")).then(pl.lit("malformed row"))
        .when(missing).then(pl.lit("missing required value"))
        .when(pl.col("from_dt").is_null()).then(pl.lit("unparseable date"))
        .when(pl.col("_coord_kind") == "none").then(pl.lit("no coordinates"))
        .when(pl.col("_coord_kind") == "range").then(pl.lit("coordinates out of range"))
        .otherwise(pl.lit(None, dtype=pl.Utf8))
        .alias("_reason")
    )
    df = _dedupe(df, "incident_id")
    df = _quarantine_by_reason(table, entry, df)
    entry.accepted = df.height

    # Soft checks on accepted rows only, so notes never mention a quarantined row.
    to_ok = pl.col("_to_raw").is_not_null() & (pl.col("_to_raw") >= pl.col("from_dt"))
    lsoa_ok = pl.col("_lsoa_raw").str.contains(_LSOA_RE)
    df = df.with_columns(
        (~_is_unknown_text(pl.col("_to_text")) & pl.col("_to_raw").is_null()).alias("_bad_to_parse"),
        (pl.col("_to_raw").is_not_null() & (pl.col("_to_raw") < pl.col("from_dt"))).alias("_bad_to_order"),
        pl.when(to_ok).then(pl.col("_to_raw")).otherwise(None).alias("to_dt"),
        (pl.col("_lsoa_raw").is_not_null() & ~lsoa_ok.fill_null(False)).alias("_bad_lsoa"),
        pl.when(lsoa_ok).then(pl.col("_lsoa_raw")).otherwise(None).alias("lsoa_given"),
        (~pl.col("_from_text").str.contains(r"\d:\d\d")).alias("_no_time"),
        (pl.col("location_type") == "other").alias("_loc_other"),
        pl.col("from_dt").dt.truncate("1mo").cast(pl.Date).alias("month"),
    )
    notes: list[str] = []
    for file_col, marker in RECORDS_MARKER_COLUMNS.items():
        notes += _flag_note(df, f"_bad_{marker}",
                            f"{file_col} text not recognised, read as not known", f"_txt_{marker}")
    for age_col in ("victim_age", "suspect_age"):
        notes += _flag_note(df, f"_bad_{age_col}",
                            f"{age_col} not a whole number of years in 0-120, read as not known",
                            f"_txt_{age_col}")
    notes += _flag_note(df, "_bad_to_parse", "committed_to not a recognised date, left blank", "_to_text")
    notes += _flag_note(df, "_bad_to_order", "committed_to earlier than committed_from, left blank")
    notes += _flag_note(df, "_bad_lsoa", "lsoa_code is not an E01/W01 LSOA code, ignored", "_lsoa_raw")
    notes += _flag_note(df, "_no_time", "committed_from has a date but no time, read as 00:00")
    notes += _flag_note(df, "_loc_other", "location_type not recognised, recorded as 'other'", "_loc_text")
    notes += coordinate_notes(df)
    entry.notes.extend(notes)
    entry.check()
    if ledger is not None:
        ledger.add(entry)
    return conform(df, INCIDENT_SCHEMA)
