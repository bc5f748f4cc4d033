"""Reader for data.police.uk street-level crime CSVs.

`read_police_uk(paths)` accepts, per path, one CSV, a folder (the monthly archive layout
`YYYY-MM/YYYY-MM-<force>-street.csv` or CSVs flat in one folder; linked folders followed once),
or the downloaded zip (members streamed, within the limits in `LIMITS`). Every entry of a folder
or zip that is not read is listed in the ledger notes with the reason; a file named twice, or a
street file whose bytes equal one already read, is read once with a note. Several forces and
months may be mixed. Every data row is accepted or quarantined with a reason, in one
`SourceLedger(kind="crimes")` per path given.

How a file is read
------------------
One per-file reader (`read_file`), called by this module's `read_police_uk` and by the workspace
cache (`geodata.cache`) alike. A file proved well-formed by `geodata.fastscan` (known header,
UTF-8, no quotes, uniform line ends, the right number of commas) is split by Polars' CSV reader,
all columns as strings; a file damaged only in whole lines has its good lines split by Polars
and only the damaged lines looked at one by one; anything else (quotes, other encodings or
delimiters) is split by the standard library's csv parser. Bytes are decoded as UTF-8 (a BOM is
dropped; UTF-16 with a BOM is accepted; bytes that are not UTF-8 are decoded as Windows-1252
with a note). The delimiter is taken from the header (';', tab or '|' read anyway, with a
note). Then every check runs column-wise in Polars, the costly parsers once per distinct value:

* a record with the wrong number of fields (including a truncated last line) -> "malformed row";
* no Longitude/Latitude ("No Location" rows) -> "no coordinates";
* not a number, NaN, infinite, or outside the UK lon/lat box (0,0 included) ->
  "coordinates out of range". When most of a file's rows have Longitude and Latitude swapped,
  each row is decided on its own (swapped rows swapped back, with a note); a swapped row in an
  otherwise good file is quarantined;
* a Month that is not `YYYY-MM` (also accepted: `YYYY-MM-DD`, `MM/YYYY`, `DD/MM/YYYY`, Excel's
  `Jan-24`, `January 2024`) -> "unparseable date"; a readable month in a year before 1990 or
  after 2100 (a typo such as 0024-01) -> "month out of range";
* a Crime ID seen before in the same month among the files of one call (the same crime repeated)
  -> "duplicate id"; the first good row is kept. Anti-social behaviour rows have no Crime ID:
  they are repeats ("duplicate row") only when they copy the rows of an earlier file of the same
  name (a re-download); repeats inside one file are real and stay.

Outcomes files (`*-outcomes.csv`) found with the street files are not crime rows: the latest
`Outcome type` per Crime ID is joined into `outcome` (falling back to `Last outcome category`).
Coordinates are converted to British National Grid with `geodata.crs`. `lsoa_code` is left null:
area assignment (`geodata.areas.assign_areas`) fills it later.
"""
from __future__ import annotations

import csv
import hashlib
import io
import itertools
import os
import re
import stat
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from geodata.crs import LONLAT_BOUNDS, lonlat_to_bng
from geodata.errors import SourceError
from geodata.ledger import Ledger, SourceLedger
from geodata.schema import INCIDENT_SCHEMA, VENUE_SCHEMA, conform

SOURCE = "police.uk"

# police.uk header names, keyed by their normalised form (lower case, letters and digits only).
_HEADER = {
    "crimeid": ("Crime ID", "crime_id"),
    "month": ("Month", "month"),
    "reportedby": ("Reported by", "reported_by"),
    "fallswithin": ("Falls within", "falls_within"),
    "longitude": ("Longitude", "longitude"),
    "latitude": ("Latitude", "latitude"),
    "location": ("Location", "location"),
    "lsoacode": ("LSOA code", "lsoa_given"),
    "lsoaname": ("LSOA name", "lsoa_name"),
    "crimetype": ("Crime type", "crime_type"),
    "lastoutcomecategory": ("Last outcome category", "last_outcome"),
    "context": ("Context", "context"),
    "outcometype": ("Outcome type", "outcome_type"),
}
_INTERNAL_TO_HEADER = {internal: header for header, internal in _HEADER.values()}
STREET_COLUMNS = (
    "Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
    "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context",
)
REQUIRED_STREET = ("month", "longitude", "latitude", "crime_type")
_OUTCOME_NEEDED = ("crime_id", "outcome_type")
_FIX_HEADER = (
    "use the street-level CSV from data.police.uk as downloaded; its header is "
    + ",".join(STREET_COLUMNS)
)

# Place-type labels police.uk gives its anonymous map points ("On or near <label>"), checked against
# the 2024 West Mercia and Warwickshire files, mapped to geodata.schema.LOCATION_TYPES. Anything
# else is a street or a named place on a street, and becomes "street".
PLACE_LABELS: dict[str, str] = {
    "nightclub": "nightclub",
    "supermarket": "supermarket",
    "shopping area": "shopping_area",
    "shopping centre": "shopping_area",
    "parking area": "parking",
    "car park": "parking",
    "petrol station": "petrol_station",
    "hospital": "hospital",
    "bus/coach station": "bus_station",
    "bus station": "bus_station",
    "coach station": "bus_station",
    "train station": "train_station",
    "railway station": "train_station",
    "sports/recreation area": "sports",
    "further/higher educational building": "further_education",
    "theatre/concert hall": "theatre_concert",
    "conference/exhibition centre": "other",
    "police station": "police_station",
    "prison": "prison",
    "park/open space": "park",
    "motorway service area": "other",
    "airport/airfield": "other",
    "theme/adventure park": "other",
    "ferry terminal": "other",
    "pedestrian subway": "street",
    "pub": "pub_bar",
    "pub/bar": "pub_bar",
    "bar": "pub_bar",
    "school": "school",
    "place of worship": "place_of_worship",
}
# Named map points ("Telford Bus Station", "Droitwich Spa Station") by how the label ends.
_SUFFIX_TYPES = (
    (r"(?i)\b(bus|coach) (station|terminal)$", "bus_station"),
    (r"(?i)\b(railway|train) station$", "train_station"),
    (r"(?i)\bshopping (centre|center)$", "shopping_area"),
    (r"(?i)\bpolice station$", "police_station"),
    (r"(?i)\b(petrol|filling|service) station$", "petrol_station"),
    (r"(?i)\b(fire|ambulance|lifeboat) station$", "other"),
    (r"(?i)\bstation$", "train_station"),
)
NO_LOCATION = "no location"

# Venue-like place types inferred from labels -> (VENUE_SCHEMA type, licensed).
VENUE_FROM_LOCATION: dict[str, tuple[str, bool | None]] = {
    "nightclub": ("nightclub", True),
    "pub_bar": ("pub", True),
    "shopping_area": ("shopping_centre", None),
    "supermarket": ("other", None),
    "bus_station": ("bus_station", False),
    "train_station": ("train_station", False),
    "petrol_station": ("other", None),
    "hospital": ("hospital", False),
    "sports": ("other", None),
    "theatre_concert": ("other", None),
    "further_education": ("school", False),
    "school": ("school", False),
}

_MONTH_MIN_YEAR, _MONTH_MAX_YEAR = 1990, 2100


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).replace("\ufeff", "").lower())


def is_police_uk_header(columns) -> bool:
    """True when `columns` look like a police.uk street-level crime header (any case/spacing)."""
    keys = {_norm(c) for c in columns}
    core = {"month", "longitude", "latitude", "crimetype"}
    return core <= keys and bool(keys & {"crimeid", "fallswithin", "reportedby", "lsoacode"})


def is_police_uk_outcomes_header(columns) -> bool:
    """True when `columns` look like a police.uk outcomes CSV header."""
    keys = {_norm(c) for c in columns}
    return {"crimeid", "outcometype"} <= keys and "crimetype" not in keys


# --------------------------------------------------------------------------------------------
# Locating files
#
# Limits (each settable by an environment variable; a source beyond one is refused with one
# line naming the file and the variable): a file or zip member larger than
# SVTUI_MAX_FILE_MB (default 4096), a zip whose members would expand to more than
# SVTUI_MAX_UNZIPPED_MB in all (default 16384), or a member whose declared expansion ratio is
# above SVTUI_MAX_ZIP_RATIO (default 200; police.uk CSVs compress about 10:1), and a path
# holding more than SVTUI_MAX_FILES files (default 20000).

LIMITS = {
    "SVTUI_MAX_FILE_MB": 4096,
    "SVTUI_MAX_UNZIPPED_MB": 16384,
    "SVTUI_MAX_ZIP_RATIO": 200,
    "SVTUI_MAX_FILES": 20000,
}


def limit(name: str) -> int:
    """The limit `name` (see LIMITS), from the environment when set to a positive number."""
    raw = os.environ.get(name, "")
    try:
        value = int(float(raw))
    except ValueError:
        return LIMITS[name]
    return value if value > 0 else LIMITS[name]


def _too_big(name: str, what: str, var: str, value: float) -> SourceError:
    return SourceError(name, f"{what} ({value:,.0f}) is over the limit of {limit(var):,}",
                       f"check it is the right file; to allow it, set {var} to a higher number")


@dataclass
class _Member:
    """One CSV inside a path: a file on disk or a zip member (bytes read lazily)."""

    name: str  # shown as source_file: a path, or "archive.zip!inner/name.csv"
    loader: object  # callable returning bytes
    kind: str  # "street", "outcomes" or "unknown"
    ident: str = ""  # the file it is, whatever path named it (real path, or real path!member)

    def read(self) -> bytes:
        return self.loader()


@dataclass
class _Source:
    """One path as given: its members, whether it named a single CSV, and listing notes."""

    pidx: int
    path: Path
    members: list
    single: bool
    notes: list = field(default_factory=list)


def _kind_from_name(name: str) -> str:
    low = name.lower()
    if low.endswith("-street.csv"):
        return "street"
    if low.endswith("-outcomes.csv"):
        return "outcomes"
    if low.endswith("-stop-and-search.csv"):
        return "stop-and-search"
    return "unknown"


def _zip_members(path: Path, label: str, data: bytes | None = None,
                 notes: list | None = None) -> list[_Member]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data) if data is not None else path)
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise SourceError(label, f"is not a readable zip archive ({exc})",
                          "download the archive again from data.police.uk") from exc
    names = [i.filename for i in infos]
    if any(n.startswith("xl/") for n in names) or "[Content_Types].xml" in names:
        raise SourceError(label, "is an Excel workbook, not a CSV",
                          "open it in Excel and save it as 'CSV UTF-8 (comma delimited)'")
    notes = notes if notes is not None else []
    max_file = limit("SVTUI_MAX_FILE_MB") * 2**20
    total = 0
    members = []
    real = os.path.realpath(path) if data is None else label
    counts: dict[str, int] = {}
    for info in sorted(infos, key=lambda i: i.filename):
        inner = info.filename
        base = inner.rsplit("/", 1)[-1]
        if info.is_dir():
            continue
        where = f"{label}!{inner}"
        if inner.startswith("__MACOSX/") or base.startswith("."):
            notes.append(f"{where}: hidden or system entry; not read")
            continue
        if inner.lower().endswith(".zip"):
            notes.append(f"{where}: a zip inside a zip; not opened (extract it and give the "
                         "inner zip itself)")
            continue
        if not inner.lower().endswith(".csv"):
            notes.append(f"{where}: not a CSV; not read")
            continue
        if info.file_size > max_file:
            raise _too_big(where, "declared size in MB", "SVTUI_MAX_FILE_MB", info.file_size / 2**20)
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 2**20 and ratio > limit("SVTUI_MAX_ZIP_RATIO"):
            raise _too_big(where, "declared expansion ratio", "SVTUI_MAX_ZIP_RATIO", ratio)
        total += info.file_size
        if total > limit("SVTUI_MAX_UNZIPPED_MB") * 2**20:
            raise _too_big(label, "total declared expanded size in MB", "SVTUI_MAX_UNZIPPED_MB",
                           total / 2**20)
        counts[inner] = counts.get(inner, 0) + 1
        shown = where if counts[inner] == 1 else f"{where} (entry {counts[inner]})"

        def load(zf=zf, info=info, where=shown):
            try:
                out = bytearray()
                with zf.open(info) as fh:  # streamed, and stopped at the declared size
                    while chunk := fh.read(1 << 20):
                        out += chunk
                        if len(out) > info.file_size:
                            raise SourceError(where, "expands beyond its declared size",
                                              "download the archive again from data.police.uk")
                return bytes(out)
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError) as exc:
                raise SourceError(where, f"cannot be extracted ({exc})",
                                  "download the archive again from data.police.uk") from exc

        members.append(_Member(shown, load, _kind_from_name(inner), f"{real}!{inner}#{counts[inner]}"))
    return members


def _file_members(path: Path) -> list[_Member]:
    def load(p=path):
        return p.read_bytes()

    return [_Member(str(path), load, _kind_from_name(path.name), os.path.realpath(path))]


def _walk(root: Path, notes: list) -> list[Path]:
    """Every file under `root`, following linked folders (once each); what is not a regular
    file, a hidden entry, a broken link or a folder loop is listed in `notes`, not skipped."""
    files: list[Path] = []
    seen: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True,
                                                onerror=lambda e: notes.append(
                                                    f"{e.filename}: cannot be listed ({e.strerror}); not read")):
        real = os.path.realpath(dirpath)
        if real in seen:
            notes.append(f"{dirpath}: the same folder as one already read (a link loop); not read again")
            dirnames[:] = []
            continue
        seen.add(real)
        keep = []
        for d in sorted(dirnames):
            p = Path(dirpath) / d
            if d.startswith("."):
                notes.append(f"{p}: hidden folder; not read")
                continue
            if d.lower().endswith((".csv", ".zip")):
                notes.append(f"{p}: a folder named like a file; read as a folder")
            keep.append(d)
        dirnames[:] = keep
        for f in filenames:
            p = Path(dirpath) / f
            if f.startswith("."):
                notes.append(f"{p}: hidden file; not read")
                continue
            try:
                st = p.stat()
            except OSError:
                notes.append(f"{p}: a broken link or unreadable entry; not read")
                continue
            if not stat.S_ISREG(st.st_mode):
                notes.append(f"{p}: not a regular file (a pipe, device or socket); not read")
                continue
            if p.suffix.lower() not in (".csv", ".zip"):
                notes.append(f"{p}: not a CSV or zip; not read")
                continue
            files.append(p)
    return sorted(files)


def _regular(path: Path) -> os.stat_result:
    try:
        st = path.stat()
    except FileNotFoundError as exc:
        raise SourceError(str(path), "does not exist",
                          "check the path (relative paths are relative to study.toml)") from exc
    except OSError as exc:
        raise SourceError(str(path), f"cannot be read ({exc.strerror})",
                          "check the path and its permissions") from exc
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
        raise SourceError(str(path), "is not a regular file (a pipe, device or socket)",
                          "give a police.uk CSV file, the folder holding them, or the zip")
    return st


def _check_size(name: str, size: int) -> None:
    if size > limit("SVTUI_MAX_FILE_MB") * 2**20:
        raise _too_big(name, "size in MB", "SVTUI_MAX_FILE_MB", size / 2**20)


def _members_for(path: Path, notes: list | None = None) -> tuple[list[_Member], bool]:
    """The CSVs a path stands for, and whether the path named a single CSV file. Entries not
    read are listed in `notes` with the reason."""
    notes = notes if notes is not None else []
    if not path.exists() and not path.is_symlink():
        raise SourceError(str(path), "does not exist",
                          "check the path (relative paths are relative to study.toml)")
    st = _regular(path)
    if stat.S_ISDIR(st.st_mode):
        members: list[_Member] = []
        files = _walk(path, notes)
        if len(files) > limit("SVTUI_MAX_FILES"):
            raise _too_big(str(path), "number of files", "SVTUI_MAX_FILES", len(files))
        for p in files:
            _check_size(str(p), p.stat().st_size)
            if p.suffix.lower() == ".csv":
                members.extend(_file_members(p))
            else:
                members.extend(_zip_members(p, str(p), notes=notes))
        return members, False
    _check_size(str(path), st.st_size)
    if path.suffix.lower() == ".zip" or _sniff_zip(path):
        return _zip_members(path, str(path), notes=notes), False
    members = _file_members(path)
    if members[0].kind == "street":
        # A single street file: pick up its month's outcomes file if it sits beside it.
        sib = path.with_name(re.sub(r"(?i)-street\.csv$", "-outcomes.csv", path.name))
        if sib != path and sib.is_file():
            members.extend(_file_members(sib))
    return members, True


def list_sources(paths) -> list[_Source]:
    """Each path's members (raises SourceError like the reader)."""
    out = []
    for pidx, raw in enumerate(paths):
        path = Path(raw)
        notes: list[str] = []
        members, single = _members_for(path, notes)
        out.append(_Source(pidx, path, members, single, notes))
    return out


def _sniff_zip(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False



# --------------------------------------------------------------------------------------------
# Decoding and splitting one CSV


@dataclass
class _Table:
    name: str
    header: list[str]  # internal names (None for unknown columns)
    original_header: list[str]
    frame: pl.DataFrame  # one Utf8 column per known header field + source_file, source_row
    malformed: pl.DataFrame  # source_file, source_row, raw
    sep: str = ","
    notes: list[str] = field(default_factory=list)

    @property
    def read(self) -> int:
        return self.frame.height + self.malformed.height


def _decode(data: bytes, name: str) -> tuple[str, list[str]]:
    notes = []
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise SourceError(name, "looks like UTF-16 but cannot be decoded",
                              "save it as 'CSV UTF-8 (comma delimited)'") from exc
        notes.append("file was UTF-16; decoded")
        return text.lstrip("\ufeff"), notes
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    head = data[:4096]
    if b"\x00" in head:
        raise SourceError(name, "is not a text CSV file (it contains binary bytes)",
                          "export the data as CSV; if it is compressed, give the .zip itself")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        notes.append("file is not valid UTF-8; decoded as Windows-1252 (cp1252)")
    return text.lstrip("\ufeff"), notes


def _pick_delimiter(first_line: str) -> str:
    best, best_score = ",", -1
    for sep in (",", ";", "\t", "|"):
        fields = first_line.split(sep)
        score = sum(_norm(f) in _HEADER for f in fields)
        if score > best_score or (score == best_score and len(fields) > len(first_line.split(best))):
            best, best_score = sep, score
    if best_score <= 0:
        return ","
    return best


_SEP_NAMES = {";": "semicolons", "\t": "tabs", "|": "'|' characters"}


def _parse_csv(data: bytes, name: str) -> _Table:
    """Split one CSV into a string frame (right field count) and malformed rows."""
    text, notes = _decode(data, name)
    if not text.strip():
        raise SourceError(name, "is empty", "download the file again from data.police.uk")
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    sep = _pick_delimiter(first_line)
    if sep != ",":
        notes.append(f"columns are separated by {_SEP_NAMES[sep]}, not commas; read anyway")
    if len(text) >= csv.field_size_limit():
        csv.field_size_limit(len(text) + 1)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=False)
    try:
        records = list(reader)
    except csv.Error as exc:
        raise SourceError(name, f"cannot be split into CSV rows ({exc})",
                          "export the file again as CSV") from exc
    # Drop blank lines before the header.
    start = 0
    while start < len(records) and not any(f.strip() for f in records[start]):
        start += 1
    if start >= len(records):
        raise SourceError(name, "is empty", "download the file again from data.police.uk")
    original_header = [h.replace("\ufeff", "").strip() for h in records[start]]
    data_rows = records[start + 1:]
    n = len(data_rows)
    ncol = len(original_header)
    lens = np.fromiter(map(len, data_rows), dtype=np.int64, count=n)
    if n and ncol and (lens == ncol + 1).mean() > 0.5:
        # Every row ends with a stray delimiter: treat it as an unnamed trailing column.
        original_header = original_header + [""]
        ncol += 1
        notes.append("rows end with an extra delimiter; ignored")
    blank = lens == 0
    good = lens == ncol
    # An unterminated quote swallows the rest of the file into the last row: never accept that row.
    if n and text.count('"') % 2 == 1 and any("\n" in f for f in data_rows[-1]):
        if good[-1]:
            good[-1] = False
        swallowed = sum(f.count("\n") for f in data_rows[-1])
        swallowed -= 1 if data_rows[-1][-1].endswith("\n") else 0
        notes.append(f"row {n} opens a quote that is never closed (truncated file?); quarantined"
                     + (f", with the {swallowed} line(s) after it that the quote swallowed"
                        if swallowed > 0 else ""))
    row_no = np.arange(1, n + 1, dtype=np.int64)
    header_internal = []
    seen = set()
    for h in original_header:
        key = _HEADER.get(_norm(h))
        internal = key[1] if key else None
        if internal in seen:
            internal = None
        seen.add(internal)
        header_internal.append(internal)
    good_rows = list(itertools.compress(data_rows, good))
    columns = list(zip(*good_rows)) if good_rows else [()] * ncol
    cols = {}
    for i, internal in enumerate(header_internal):
        if internal is not None:
            cols[internal] = pl.Series(internal, columns[i], dtype=pl.Utf8)
    frame = pl.DataFrame(cols) if cols else pl.DataFrame({"_": pl.Series([None] * len(good_rows))})
    frame = frame.with_columns(
        pl.lit(name).alias("source_file"),
        pl.Series("source_row", row_no[good], dtype=pl.Int64),
    )
    if "_" in frame.columns:
        frame = frame.drop("_")
    bad = ~good & ~blank
    bad_rows = list(itertools.compress(data_rows, bad))
    malformed = pl.DataFrame({
        "source_file": pl.Series([name] * len(bad_rows), dtype=pl.Utf8),
        "source_row": pl.Series(row_no[bad], dtype=pl.Int64),
        "raw": pl.Series(list(map(sep.join, bad_rows)), dtype=pl.Utf8),
    })
    # Rows whose every field is empty (Excel leaves these) are not data.
    text_cols = [c for c in frame.columns if c not in ("source_file", "source_row")]
    if text_cols and frame.height:
        empty = pl.all_horizontal(
            [pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "") for c in text_cols])
        n_empty = frame.select(empty.sum()).item()
        if n_empty:
            frame = frame.filter(~empty)
            notes.append(f"{n_empty} empty row(s) ignored")
    if blank.any():
        notes.append(f"{int(blank.sum())} blank line(s) ignored")
    if n == 0:
        notes.append("header only: no data rows")
    return _Table(name, header_internal, original_header, frame, malformed, sep, notes)


# --------------------------------------------------------------------------------------------
# Column-wise checks


def _strip(name: str) -> pl.Expr:
    return pl.col(name).str.strip_chars()


def _number(name: str, decimal_comma: bool) -> pl.Expr:
    e = _strip(name)
    if decimal_comma:
        e = e.str.replace(",", ".", literal=True)
    return e.cast(pl.Float64, strict=False)


def _in_box(lon: pl.Expr, lat: pl.Expr) -> pl.Expr:
    x0, y0, x1, y1 = LONLAT_BOUNDS
    return lon.is_between(x0, x1) & lat.is_between(y0, y1)


def _month_expr() -> pl.Expr:
    parsed = _month_parsed_expr()
    return (
        pl.when(parsed.dt.year().is_between(_MONTH_MIN_YEAR, _MONTH_MAX_YEAR))
        .then(parsed)
        .otherwise(None)
    )


def _month_parsed_expr() -> pl.Expr:
    """The Month column as a date, whatever its year (a year outside 1990-2100 is a typo)."""
    m = _strip("month")
    return pl.coalesce(
        m.str.strptime(pl.Date, "%Y-%m", strict=False),
        m.str.strptime(pl.Date, "%Y-%m-%d", strict=False),
        ("01/" + m).str.strptime(pl.Date, "%d/%m/%Y", strict=False),
        m.str.strptime(pl.Date, "%d/%m/%Y", strict=False),
        ("01-" + m).str.strptime(pl.Date, "%d-%b-%y", strict=False),
        ("01 " + m).str.strptime(pl.Date, "%d %B %Y", strict=False),
        ("01 " + m).str.strptime(pl.Date, "%d %b %Y", strict=False),
    ).dt.month_start()


def location_type_expr(label: pl.Expr) -> pl.Expr:
    """Normalised place type from a police.uk Location label ("On or near Nightclub")."""
    place = label.str.strip_chars().str.replace(r"(?i)^on or near\s+", "").str.strip_chars()
    low = place.str.to_lowercase()
    out = low.replace_strict(PLACE_LABELS, default=None, return_dtype=pl.Utf8)
    expr = pl.when(out.is_not_null()).then(out)
    for pattern, typ in _SUFFIX_TYPES:
        expr = expr.when(place.str.contains(pattern)).then(pl.lit(typ, dtype=pl.Utf8))
    return (
        expr.when(place.is_null() | (place == "") | (low == NO_LOCATION))
        .then(pl.lit(None, dtype=pl.Utf8))
        .otherwise(pl.lit("street"))
    )


def _quarantine_view(df: pl.DataFrame) -> pl.DataFrame:
    """Original text of rows, under police.uk header names, with provenance."""
    keep = [c for c in df.columns if c in _INTERNAL_TO_HEADER]
    return df.select(
        pl.col("source_file"), pl.col("source_row"),
        *[pl.col(c).alias(_INTERNAL_TO_HEADER[c]) for c in keep],
    )


INTERNAL_COLUMNS = tuple(internal for _, internal in _HEADER.values() if internal != "outcome_type")


def _empty_null(name: str) -> pl.Expr:
    e = _strip(name)
    return pl.when(e == "").then(None).otherwise(e)


# --------------------------------------------------------------------------------------------
# Per-value evaluation: police.uk columns repeat heavily (one Month per file, a few thousand
# Location labels per force), so the costly parsers run once per distinct value and are applied
# to the rows as lookups.

_HASH_SEED = 20240401
# One file's frames are already in memory and bounded (files are read a few at a time): Polars'
# in-memory engine runs these plans 2-4x faster than its streaming engine, whose start-up cost
# dominates a file of a few thousand rows (bench/bench_reader.py measures both ends).
FILE_ENGINE = "in-memory"
# location -> (_location, location_type) for every label seen in this process, as a frame
_LOCATION_MEMO = [pl.DataFrame(schema={"location": pl.Utf8, "_location": pl.Utf8,
                                       "location_type": pl.Utf8, "_seen": pl.Boolean})]
_LOCATION_MEMO_MAX = 2_000_000
_MEMO_LOCK = threading.Lock()


def _per_value(values: pl.Series, exprs: dict[str, pl.Expr]) -> dict[str, pl.Expr]:
    """Expressions over one column, evaluated on its distinct `values`, applied to every row
    as a lookup (`replace_strict`): the same result, once per value instead of once per row."""
    return _per_values([(values, exprs)])


def _per_values(specs) -> dict[str, pl.Expr]:
    """`_per_value` for several (values, exprs) at once: the tables in one collect."""
    tables = pl.collect_all([v.to_frame().lazy().with_columns(**e) for v, e in specs],
                           engine=FILE_ENGINE)
    out: dict[str, pl.Expr] = {}
    for (values, exprs), table in zip(specs, tables):
        out.update(_mapping(values.name, table, list(exprs)))
    return out


def _mapping(name: str, table: pl.DataFrame, outputs: list[str]) -> dict[str, pl.Expr]:
    key = table[name]
    null = key.is_null()
    has_null = bool(null.any())
    known = ~null
    keys = key.filter(known) if has_null else key
    out = {}
    for o in outputs:
        col = table[o]
        dtype = col.dtype
        e = pl.col(name).replace_strict(keys, col.filter(known) if has_null else col,
                                        default=None, return_dtype=dtype)
        if has_null:
            e = (pl.when(pl.col(name).is_null())
                 .then(pl.lit(col.filter(null)[0], dtype=dtype)).otherwise(e))
        out[o] = e.alias(o)
    return out


def _location_table(labels: pl.Series) -> pl.DataFrame:
    """location -> `_location` (cleaned) and `location_type` for the distinct `labels`, computed
    only for labels not seen before in this process (labels repeat month after month)."""
    keys = labels.rename("location").to_frame()
    with _MEMO_LOCK:
        memo = _LOCATION_MEMO[0]
    got = keys.join(memo, on="location", how="left", nulls_equal=True)
    fresh = got.filter(pl.col("_seen").is_null())
    if fresh.height:
        calc = fresh.select(
            "location",
            _strip("location").str.replace_all(r"\s+", " ").alias("_location"),
            location_type_expr(pl.col("location")).alias("location_type"),
            pl.lit(True).alias("_seen"),
        )
        with _MEMO_LOCK:  # another thread may have added some of them meanwhile
            memo = _LOCATION_MEMO[0]
            if memo.height + calc.height <= _LOCATION_MEMO_MAX:
                add = calc.join(memo.select("location"), on="location", how="anti", nulls_equal=True)
                _LOCATION_MEMO[0] = pl.concat([memo, add])
        got = pl.concat([got.filter(pl.col("_seen").is_not_null()), calc])
    return got.drop("_seen")


# --------------------------------------------------------------------------------------------
# One file: the per-file reader both the direct path and the workspace cache call


# Columns of a file's accepted rows, in canonical form (what `finish_rows` turns into
# INCIDENT_SCHEMA): `_hm` is a 64-bit hash of (Crime ID, month) for finding repeats, `_rh` a
# hash of the row's whole text for rows without a Crime ID.
GOOD_COLUMNS = ("source_row", "_cid", "_hm", "_rh", "_month", "force", "location",
                "location_type", "lsoa_given", "crime_type", "_outcome0", "easting", "northing")


@dataclass
class FileRead:
    """One CSV (a file or a zip member), read and checked: what the ledger and the rows need.

    `frames` holds "good" (GOOD_COLUMNS), "bad" (source_row, the raw text columns, `_reason`),
    "malformed" (source_file, source_row, raw) for street files, or "outcomes" (`_ocid`,
    `_om`, `_outcome`) for outcomes files. `kind` "skipped" carries only `entry_notes`.
    """

    name: str
    kind: str
    entry_notes: list[str] = field(default_factory=list)
    table_notes: list[str] = field(default_factory=list)
    read: int = 0
    n_good: int = 0
    columns: list[str] = field(default_factory=list)  # raw columns, in the reader's order
    header: list[str] = field(default_factory=list)  # internal names, when read fast
    fast: bool = False
    digest: str = ""  # BLAKE2 of the file's bytes (identical files are read once)
    frames: dict = field(default_factory=dict)

    def load(self, role: str, columns=None) -> pl.DataFrame | None:
        """The frame for `role` ("good", "bad", "malformed", "outcomes"), or None."""
        f = self.frames.get(role)
        if f is None:
            return None
        return f.select(columns) if columns is not None else f


def _content_digest(data: bytes) -> str:
    """Size and a hash of the first and last 64 KiB: equal digests are then confirmed on the
    whole bytes (`_same_bytes`), so hashing never costs a pass over a large file."""
    h = hashlib.blake2b(data[:65536], digest_size=16)
    h.update(data[-65536:])
    return f"{len(data)}:{h.hexdigest()}"


def _same_bytes(a: _Member, b: _Member) -> bool:
    try:
        return a.read() == b.read()
    except (OSError, SourceError):
        return False


def read_file(m: _Member, single: bool, fast: bool = True) -> FileRead:
    """Read and check one CSV. Well-formed files (proved by `geodata.fastscan`) are split by
    Polars' CSV reader, others by the csv module; every check after that is the same code.
    Raises SourceError for a street file (or the single file named) that cannot be read.
    `fast=False` uses the csv module for every file (to check the two agree)."""
    from geodata import fastscan

    if m.kind == "stop-and-search":
        return FileRead(m.name, "skipped",
                        entry_notes=[f"{m.name}: stop-and-search file, not crimes; skipped"])
    is_fast = False
    try:
        data = m.read()
        if data[:4] == b"PK\x03\x04":
            sub = _zip_members(Path(m.name), m.name, data)
            raise SourceError(m.name, f"is a zip archive ({len(sub)} CSV inside), not a CSV",
                              "give the .zip file itself, or extract it first")
        digest = _content_digest(data)
        tbl = fastscan.fast_table(data, m.name, defer_empty=True) if fast else None
        is_fast = tbl is not None
        if tbl is None:
            tbl = _parse_csv(data, m.name)
        del data
    except SourceError:
        if m.kind == "street" or single:
            raise
        return FileRead(m.name, "skipped", entry_notes=[f"{m.name}: could not be read; skipped"])
    except (OSError, ValueError, pl.exceptions.PolarsError) as exc:
        if m.kind == "street" or single:
            raise SourceError(m.name, f"cannot be read ({type(exc).__name__}: {exc})",
                              "check the file is a CSV from data.police.uk") from exc
        return FileRead(m.name, "skipped", entry_notes=[f"{m.name}: could not be read; skipped"])
    cols = tbl.original_header
    kind = m.kind
    if kind == "unknown":
        if is_police_uk_header(cols):
            kind = "street"
        elif is_police_uk_outcomes_header(cols):
            kind = "outcomes"
        elif not single:
            return FileRead(m.name, "skipped", entry_notes=[
                f"{m.name}: not a police.uk crime or outcomes file; skipped"])
        else:
            kind = "street"
    if kind == "outcomes":
        if is_fast:
            tbl = fastscan.drop_blank_rows(tbl)
        if not all(c in tbl.frame.columns for c in _OUTCOME_NEEDED):
            missing = [_INTERNAL_TO_HEADER[c] for c in _OUTCOME_NEEDED if c not in tbl.frame.columns]
            return FileRead(m.name, "skipped", entry_notes=[
                f"{m.name}: outcomes file lacks {', '.join(missing)}; skipped"])
        return FileRead(m.name, "outcomes", digest=digest,
                        frames={"outcomes": _outcome_frame(tbl)})
    missing = [_INTERNAL_TO_HEADER[c] for c in REQUIRED_STREET if c not in tbl.frame.columns]
    if missing:
        found = ", ".join(c for c in cols if c) or "none"
        raise SourceError(m.name, f"missing column(s) {', '.join(missing)} (found: {found})",
                          _FIX_HEADER)
    good, bad, raw_order = _file_frames(tbl, is_fast)
    return FileRead(
        m.name, "street", table_notes=list(tbl.notes),
        read=good.height + bad.height + tbl.malformed.height, n_good=good.height,
        columns=raw_order, header=list(tbl.header) if is_fast else [], fast=is_fast,
        digest=digest, frames={"good": good, "bad": bad, "malformed": tbl.malformed})


def _own(name: str) -> pl.Expr:
    return pl.concat_str([pl.col(name), pl.lit("")]).alias(name)


def _outcome_frame(tbl: _Table) -> pl.DataFrame:
    df = tbl.frame
    if "month" not in df.columns:
        df = df.with_columns(pl.lit(None, dtype=pl.Utf8).alias("month"))
    month = _per_value(df["month"].unique(), {"_om": _month_expr()})
    return df.select(_strip("crime_id").alias("_ocid"), month["_om"],
                     _strip("outcome_type").alias("_outcome")).with_columns(
        _own("_ocid"), _own("_outcome"))


def _file_frames(tbl: _Table, is_fast: bool) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """(accepted rows in canonical form, quarantined rows with their original text, the raw
    columns in the order the concatenated frame of all files has them) of one street file.

    The checks, column-wise:

    * no Longitude/Latitude -> "no coordinates";
    * not a number, not finite, or outside the UK lon/lat box -> "coordinates out of range".
      When most rows of a file only make sense with Longitude and Latitude swapped, each row
      is decided on its own: rows that are swapped are swapped back (with a note), rows in the
      right order stay; in a file where most rows are in order, a swapped row is quarantined;
    * Month unreadable -> "unparseable date", a year outside 1990-2100 -> "month out of range".

    Per-value parsers (Month formats, Location place types, code clean-up) run once per
    distinct value. Blank rows left in by the fast reader are dropped with the exact reader's
    note.
    """
    frame = tbl.frame
    raw_cols = [c for c in frame.columns if c in _INTERNAL_TO_HEADER]
    raw_order = raw_cols + [c for c in ("crime_id", "month", "longitude", "latitude")
                            if c not in raw_cols]
    missing = [c for c in INTERNAL_COLUMNS if c not in frame.columns]
    decimal_comma = tbl.sep != ","
    if missing:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias(c) for c in missing)
    keyed = ["location", "lsoa_given", "crime_type", "last_outcome", "falls_within",
             "reported_by", "month"]
    # Pass 1 (one plan): each coordinate parsed once, the in-order and swapped counts, and the
    # distinct values of the columns evaluated per value.
    lon, lat = pl.col("_lon"), pl.col("_lat")
    finite = (lon.is_finite() & lat.is_finite()).fill_null(False)
    in_order = finite & _in_box(lon, lat)
    swapped_row = finite & _in_box(lat, lon) & ~_in_box(lon, lat)
    coords_lf = frame.lazy().select(_number("longitude", decimal_comma).alias("_lon"),
                                    _number("latitude", decimal_comma).alias("_lat"))
    coords, first = pl.collect_all([
        coords_lf,
        frame.lazy().select(*[pl.col(c).unique().implode() for c in keyed]),
    ], engine=FILE_ENGINE)
    counts = coords.select(in_order.sum().alias("ok"), swapped_row.sum().alias("swapped"))
    ok, swapped = counts["ok"][0], counts["swapped"][0]
    if swapped > ok and swapped > 0:
        coords = coords.select(
            pl.when(swapped_row).then(lat).otherwise(lon).alias("_lon"),
            pl.when(swapped_row).then(lon).otherwise(lat).alias("_lat"))
        tbl.notes.append(
            f"Longitude and Latitude are swapped in {swapped} of this file's rows; "
            + ("swapped back" if not ok else f"those rows swapped back, {ok} row(s) in order kept"))
    uniq = {c: first[c][0].rename(c) for c in keyed}
    month = _per_value(uniq["month"], {"_month": _month_expr(),
                                       "_month_read": _month_parsed_expr().is_not_null()})
    loc = _location_table(uniq["location"])
    mapped = {
        **_per_values([
            (uniq["lsoa_given"], {"_lsoa_given": _empty_null("lsoa_given").str.to_uppercase()}),
            (uniq["crime_type"], {"_crime_type": _empty_null("crime_type")}),
            (uniq["last_outcome"], {"_outcome0": _strip("last_outcome")}),
            (uniq["falls_within"], {"_fw": _empty_null("falls_within")}),
            (uniq["reported_by"], {"_rb": _empty_null("reported_by")}),
        ]),
        **_mapping("location", loc, ["_location", "location_type"]),
    }
    # A row is accepted when its point is finite and in the box and its month reads in range
    # (a row with an empty coordinate has a null one, so it is never accepted): the reasons,
    # which look at the text again, are worked out for the other rows only.
    work = frame.hstack(coords.get_columns())
    accepted = (finite & _in_box(lon, lat)).fill_null(False) & pl.col("_month").is_not_null()
    work = work.lazy().with_columns(month["_month"]).with_columns(accepted.alias("_ok"))
    cid = _strip("crime_id")
    good_lf = work.filter(pl.col("_ok")).select(
        "source_row",
        pl.when(cid == "").then(None).otherwise(cid).alias("_cid"),
        "_month", *mapped.values(), "_lon", "_lat",
    ).select(
        "source_row", "_cid",
        pl.when(pl.col("_cid").is_not_null())
        .then(pl.col("_cid").hash(seed=_HASH_SEED) // 2
              + pl.col("_month").cast(pl.Int32).cast(pl.UInt64)).alias("_hm"),
        "_month", pl.coalesce("_fw", "_rb").alias("force"),
        pl.col("_location").alias("location"), "location_type",
        pl.col("_lsoa_given").alias("lsoa_given"), pl.col("_crime_type").alias("crime_type"),
        "_outcome0", "_lon", "_lat",
    )
    empty_lon = _strip("longitude").is_null() | (_strip("longitude") == "")
    empty_lat = _strip("latitude").is_null() | (_strip("latitude") == "")
    reason = (
        pl.when(empty_lon | empty_lat).then(pl.lit("no coordinates"))
        .when(~(finite & _in_box(lon, lat)).fill_null(False))
        .then(pl.lit("coordinates out of range"))
        .when(pl.col("_month_read")).then(pl.lit("month out of range"))
        .otherwise(pl.lit("unparseable date"))
    )
    bad_lf = (work.filter(~pl.col("_ok")).with_columns(month["_month_read"])
              .select("source_row", *[_own(c) for c in raw_order], reason.alias("_reason")))
    rh_lf = work.filter(pl.col("_ok") & (pl.col("crime_id").is_null() | (cid == ""))).select(
        pl.struct(raw_cols).hash(seed=_HASH_SEED).alias("_rh"))
    good, bad, hashed = pl.collect_all([good_lf, bad_lf, rh_lf], engine=FILE_ENGINE)
    # Strings cut from the CSV reader's buffers are views that keep the whole file's text alive:
    # give the kept text its own memory so only the rows kept are kept.
    good = good.with_columns(_own("_cid"))
    # Rows without a Crime ID (anti-social behaviour) are matched on the hash of their whole
    # text: hashed for those rows only (`rh_lf`), put in place.
    rh = pl.Series("_rh", [], dtype=pl.UInt64).extend_constant(None, good.height)
    if hashed.height:
        rh = rh.scatter(good["_cid"].is_null().arg_true(), hashed["_rh"])
    good = good.insert_column(3, rh)
    # police.uk snaps crimes to map points: convert each distinct point once.
    pts = good.select("_lon", "_lat").unique()
    e, n = lonlat_to_bng(pts["_lon"].to_numpy(), pts["_lat"].to_numpy())
    pts = pts.with_columns(pl.Series("easting", e, dtype=pl.Float64),
                           pl.Series("northing", n, dtype=pl.Float64))
    good = good.join(pts, on=["_lon", "_lat"], how="left", maintain_order="left",
                     nulls_equal=True).drop("_lon", "_lat")
    if is_fast:  # blank rows (no coordinates, so among the quarantined) are not data
        blank = pl.all_horizontal([_strip(c).fill_null("") == "" for c in tbl.header])
        n_empty = bad.select(blank.sum()).item()
        if n_empty:
            bad = bad.filter(~blank)
            tbl.frame = tbl.frame.head(tbl.frame.height - n_empty)  # only its height is used
            tbl.notes.insert(0, f"{n_empty} empty row(s) ignored")  # before "blank line(s)"
    return good, bad, raw_order



# --------------------------------------------------------------------------------------------
# Many files: order of work shared by the direct path and the workspace cache


def _max_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def collect_parts(sources, entries: list[SourceLedger], resolve, workers: int | None = None):
    """Read every member of every source with `resolve(source, member) -> part`, a bounded
    number at a time (`workers` at once), taking results in order so notes,
    row order and the first error are those of a sequential read.

    A member that is the same file as one read before (two paths that overlap), or whose bytes
    are identical to a street file read before (a re-download, a zip beside its extracted
    folder), is read once, with a note. Returns (street, outcomes): street is a list of
    (path index, part, member, single), outcomes a list of parts.
    """
    from concurrent.futures import ThreadPoolExecutor
    from collections import deque

    workers = workers or _max_workers()
    todo = []
    seen_ident: dict[str, str] = {}
    n_dup = [0] * len(entries)
    for s in sources:
        for m in s.members:
            ident = m.ident or m.name
            if ident in seen_ident:
                entries[s.pidx].notes.append(
                    f"{m.name}: the same file as {seen_ident[ident]} (named twice); read once")
                n_dup[s.pidx] += 1
                continue
            seen_ident[ident] = m.name
            todo.append((s, m))
    street, outcomes = [], []
    n_street = [0] * len(entries)
    n_outcomes = [0] * len(entries)
    digests: dict[str, _Member] = {}
    pool = ThreadPoolExecutor(max_workers=workers)
    pending: deque = deque()
    it = iter(todo)
    try:
        def top_up():
            while len(pending) < workers:
                nxt = next(it, None)
                if nxt is None:
                    return
                pending.append((nxt, pool.submit(resolve, *nxt)))

        top_up()
        while pending:
            (s, m), fut = pending.popleft()
            part = fut.result()
            top_up()
            entry = entries[s.pidx]
            entry.notes.extend(part.entry_notes)
            if part.kind in ("street", "outcomes") and part.digest:
                first = digests.get(part.digest)
                if first is not None and _same_bytes(first, m):
                    entry.notes.append(f"{m.name}: identical to {first.name}; read once")
                    n_dup[s.pidx] += 1
                    continue
                digests.setdefault(part.digest, m)
            if part.kind == "street":
                n_street[s.pidx] += 1
                street.append((s.pidx, part, m, s.single))
            elif part.kind == "outcomes":
                n_outcomes[s.pidx] += 1
                outcomes.append(part)
    finally:
        for _, fut in pending:
            fut.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
    for s in sources:
        entry = entries[s.pidx]
        ns, no = n_street[s.pidx], n_outcomes[s.pidx]
        if ns == 0 and not n_dup[s.pidx]:
            raw = str(s.path)
            if s.single and no:
                raise SourceError(raw, "holds police.uk outcomes, not street-level crimes",
                                  "give the matching -street.csv file; outcomes files beside it "
                                  "are joined automatically")
            raise SourceError(raw, "holds no police.uk street-level crime CSV",
                              "point at a YYYY-MM-<force>-street.csv file, the folder holding "
                              "them, or the zip downloaded from data.police.uk")
        entry.notes.append(f"read {ns} street file(s)"
                           + (f" and {no} outcomes file(s)" if no else ""))
    return street, outcomes


def account_reads(street, entries) -> list[str]:
    """Charge read counts and each file's own notes, in file order; return the raw columns of
    the concatenated frame of all files (the layout of quarantined rows)."""
    all_cols: list[str] = []
    for pidx, part, *_ in street:
        entries[pidx].read += part.read
        entries[pidx].notes.extend(f"{part.name}: {n}" for n in part.table_notes)
        for c in part.columns:
            if c not in all_cols:
                all_cols.append(c)
    view_cols = [c for c in all_cols if c in _INTERNAL_TO_HEADER]
    return view_cols + [c for c in INTERNAL_COLUMNS if c not in view_cols]


_COPY_SUFFIX = re.compile(r"(?i)\s*\(\d+\)(?=\.csv$)|(?i:\s+-\s+copy)(?=\.csv$)")


def _copy_key(name: str) -> str:
    """A file's name without directories and browser/desktop copy marks ("x (1).csv")."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].rsplit("!", 1)[-1]
    return _COPY_SUFFIX.sub("", base).lower()


def find_duplicates(street) -> dict[int, dict[str, np.ndarray]]:
    """Positions (within each part's accepted rows) to quarantine as repeats, by reason.

    "duplicate id": the same Crime ID again in the same month (first kept); candidates are found
    on a 64-bit hash, then confirmed on the text, so a collision can never drop a row.
    "duplicate row": a row without a Crime ID (anti-social behaviour) whose whole text, and its
    occurrence number within the file, match a row of an earlier file of the same name (a
    re-downloaded "... (1).csv", a zip member named twice): a copy of a file, not new crimes.
    Repeats inside one file are real and stay.
    """
    out: dict[int, dict[str, np.ndarray]] = {}
    if not street:
        return out
    keys = pl.concat([
        part.load("good", ["_hm"]).with_row_index("_r").with_columns(pl.lit(i, dtype=pl.Int32).alias("_p"))
        for i, (_, part, *_) in enumerate(street)], how="vertical")
    keys = keys.filter(pl.col("_hm").is_not_null())
    cand = keys.filter(pl.col("_hm").is_duplicated()).select("_p", "_r")
    if cand.height:
        texts = []
        for (p,), grp in cand.group_by(["_p"], maintain_order=True):
            rows = grp["_r"]
            cid = street[p][1].load("good", ["_cid", "_month"])
            texts.append(cid[rows.to_numpy()].with_columns(pl.lit(p, dtype=pl.Int32).alias("_p"),
                                                         rows.alias("_r")))
        exact = pl.concat(texts).sort(["_p", "_r"])
        dups = exact.filter(~pl.struct("_cid", "_month").is_first_distinct())
        for (p,), grp in dups.group_by(["_p"], maintain_order=True):
            out.setdefault(id(street[p][1]), {})["duplicate id"] = np.sort(grp["_r"].to_numpy())
    groups: dict[str, list[int]] = {}
    for i, (_, part, *_) in enumerate(street):
        groups.setdefault(_copy_key(part.name), []).append(i)
    for idx in groups.values():
        if len(idx) < 2:
            continue
        seen = None
        for p in idx:
            rh = (street[p][1].load("good", ["_rh", "_month"]).with_row_index("_r")
                  .filter(pl.col("_rh").is_not_null())
                  .with_columns(pl.int_range(pl.len()).over("_rh").alias("_k")))
            if seen is not None and rh.height:
                hit = rh.join(seen, on=["_rh", "_month", "_k"], how="semi")
                if hit.height:
                    out.setdefault(id(street[p][1]), {})["duplicate row"] = np.sort(
                        hit["_r"].to_numpy())
            new = rh.select("_rh", "_month", "_k")
            seen = new if seen is None else pl.concat([seen, new]).unique()
    return out


def dropped_positions(dup: dict[str, np.ndarray] | None) -> np.ndarray | None:
    if not dup:
        return None
    return np.unique(np.concatenate(list(dup.values())))


def raw_rows(m: _Member, part, single: bool, positions: np.ndarray) -> pl.DataFrame:
    """Original text of accepted rows `positions` of a part. Accepted rows keep no text;
    repeats are rare, so the file is read again (for a file read fast, row r is line r)."""
    from geodata import fastscan

    if part.fast:  # a plain file: row r is line r, split on commas
        rows = part.load("good", ["source_row"])[positions]
        data = m.read()
        starts = fastscan.line_starts(data)
        lines = []
        for r in rows["source_row"].to_list():
            off = int(starts[r - 1])
            end = data.find(b"\n", off)
            lines.append(data[off:] if end < 0 else data[off:end + 1])
        cols = list(zip(*[fastscan.line_fields(x) for x in lines]))
        return rows.with_columns(pl.Series(c, cols[i], dtype=pl.Utf8)
                                 for i, c in enumerate(part.header))
    tbl_good = part.load("good", ["source_row"])[positions]
    tbl = _parse_csv(m.read(), m.name)
    raw = [c for c in tbl.frame.columns if c in _INTERNAL_TO_HEADER]
    return tbl.frame.join(tbl_good, on="source_row", how="semi").select("source_row", *raw)


def reader_quarantine(street, dups, entries, view_cols) -> None:
    """The reader's quarantine, per path: reasons sorted, each reason's rows in file order;
    then malformed rows."""
    by_path: dict[int, dict[str, list[pl.DataFrame]]] = {}
    malformed: list[tuple[int, pl.DataFrame]] = []
    for pidx, part, m, single in street:
        bad = part.load("bad")
        if bad is not None and bad.height:
            for (reason,), grp in bad.group_by(["_reason"], maintain_order=True):
                by_path.setdefault(pidx, {}).setdefault(reason, []).append(
                    _view(grp.drop("_reason"), part.name, view_cols))
        for reason, rows in sorted(dups.get(id(part), {}).items()):
            if len(rows):
                by_path.setdefault(pidx, {}).setdefault(reason, []).append(
                    _view(raw_rows(m, part, single, rows), part.name, view_cols))
        mal = part.load("malformed")
        if mal is not None and mal.height:
            malformed.append((pidx, mal))
    for pidx, entry in enumerate(entries):
        reasons = by_path.get(pidx, {})
        for reason in sorted(reasons):
            rows = pl.concat(reasons[reason], how="vertical")
            entry.quarantine(_quarantine_view(rows), reason)
    for pidx, frame in malformed:
        entries[pidx].quarantine(frame, "malformed row")
    for pidx, part, *_ in street:
        entries[pidx].accepted += part.n_good - sum(len(v) for v in dups.get(id(part), {}).values())


def _view(raw: pl.DataFrame, name: str, view_cols: list[str]) -> pl.DataFrame:
    cols = [pl.lit(name, dtype=pl.Utf8).alias("source_file"), pl.col("source_row")]
    cols += [pl.col(c) if c in raw.columns else pl.lit(None, dtype=pl.Utf8).alias(c)
             for c in view_cols]
    return raw.select(cols)


def latest_outcomes(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """Latest Outcome type per Crime ID over outcomes files (`_ocid`, `_outcome`)."""
    oc = pl.concat(frames).with_row_index("_order")
    oc = oc.filter(pl.col("_ocid").is_not_null() & (pl.col("_ocid") != "")
                   & pl.col("_outcome").is_not_null() & (pl.col("_outcome") != ""))
    return (
        oc.sort(["_om", "_order"], nulls_last=False)
        .group_by("_ocid", maintain_order=True)
        .agg(pl.col("_outcome").last())
    )


FINISH_COLUMNS = ["source_row", "_cid", "_month", "force", "location", "location_type",
                  "lsoa_given", "crime_type", "_outcome0", "easting", "northing"]


def finish_rows(batch, dups, oc) -> tuple[pl.DataFrame, dict[int, int]]:
    """INCIDENT_SCHEMA rows of a batch of street parts (repeats dropped, outcomes joined), and
    the number of rows given an outcome from outcomes files, per path."""
    frames = []
    for pidx, part, *_ in batch:
        g = part.load("good", FINISH_COLUMNS)
        drop = dropped_positions(dups.get(id(part)))
        if drop is not None:
            keep = np.ones(g.height, dtype=bool)
            keep[drop] = False
            g = g.filter(pl.Series(keep))
        frames.append(g.with_columns(pl.lit(part.name, dtype=pl.Utf8).alias("source_file"),
                                     pl.lit(pidx, dtype=pl.Int32).alias("_path")))
    good = pl.concat(frames, how="vertical") if frames else pl.DataFrame(
        schema={"_path": pl.Int32, "_cid": pl.Utf8, "_outcome0": pl.Utf8, "_month": pl.Date})
    counts: dict[int, int] = {}
    outcome = pl.col("_outcome0")
    if oc is not None:
        good = good.join(oc, left_on="_cid", right_on="_ocid", how="left", maintain_order="left")
        per = good.filter(pl.col("_outcome").is_not_null()).group_by("_path").len()
        counts = dict(zip(per["_path"].to_list(), per["len"].to_list()))
        outcome = pl.coalesce(pl.col("_outcome"), pl.col("_outcome0"))
    out = good.with_columns(
        pl.lit(SOURCE).alias("source"),
        pl.col("_cid").alias("incident_id"),
        pl.col("_month").alias("month"),
        outcome.alias("outcome"),
    )
    return conform(out, INCIDENT_SCHEMA), counts


# --------------------------------------------------------------------------------------------
# Public API


def read_police_uk(paths, ledger: Ledger | None = None, workers: int | None = None) -> pl.DataFrame:
    """Read police.uk street-level CSVs into an INCIDENT_SCHEMA frame (lsoa_code left null).

    `paths`: a path or a list of paths; each a CSV, a folder, or a zip. One
    `SourceLedger(kind="crimes")` per path is added to `ledger` (always balanced).
    Raises `SourceError` when a path cannot be read at all. Files are read `workers` at a time
    (default: up to 2), each file's text freed once it is checked, so memory follows the
    accepted rows in their compact form, not the text.
    """
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    ledger = ledger if ledger is not None else Ledger()
    sources = list_sources(paths)
    entries = [SourceLedger(kind="crimes", path=str(s.path), notes=list(s.notes)) for s in sources]
    street, outcomes = collect_parts(sources, entries, lambda s, m: read_file(m, s.single),
                                     workers)
    view_cols = account_reads(street, entries)
    dups = find_duplicates(street)
    reader_quarantine(street, dups, entries, view_cols)
    oc = latest_outcomes([p.load("outcomes") for p in outcomes]) if outcomes else None
    out, counts = finish_rows(street, dups, oc)
    if oc is not None:
        for pidx, entry in enumerate(entries):
            entry.notes.append(
                f"latest outcome joined from outcomes files for {counts.get(pidx, 0)} crime(s)")
    for entry in entries:
        ledger.add(entry)
    return out



def infer_venues_from_labels(incidents: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame | pl.LazyFrame:
    """Venue points from police.uk place labels, in VENUE_SCHEMA (a LazyFrame for a LazyFrame).

    One venue per distinct (easting, northing, location_type) among venue-like place types
    (nightclub, shopping area, supermarket, bus/train station, petrol station, hospital, sports,
    theatre/concert hall, further education). `name` is the place label ("Nightclub"), `origin`
    is "police.uk label", `licensed` is True for nightclubs (and pubs), False where the place
    cannot hold a licence, null where unknown.
    """
    need = {"easting", "northing", "location_type", "location"}
    if isinstance(incidents, pl.LazyFrame):
        if not need <= set(incidents.collect_schema().names()):
            return pl.LazyFrame(schema=VENUE_SCHEMA)
        return _venues_from(incidents, lazy=True)
    if incidents.height == 0 or not need <= set(incidents.columns):
        return pl.DataFrame(schema=VENUE_SCHEMA)
    return _venues_from(incidents.lazy(), lazy=False)


def _venues_from(incidents: pl.LazyFrame, lazy: bool):
    types = list(VENUE_FROM_LOCATION)
    pts = (
        incidents.select("easting", "northing", pl.col("location_type").cast(pl.Utf8),
                         pl.col("location").cast(pl.Utf8))
        .filter(
            pl.col("location_type").is_in(types)
            & pl.col("easting").is_finite() & pl.col("northing").is_finite())
        .group_by(["easting", "northing", "location_type"], maintain_order=True)
        .agg(pl.col("location").first())
    )
    vtype = {k: v[0] for k, v in VENUE_FROM_LOCATION.items()}
    licensed = {k: v[1] for k, v in VENUE_FROM_LOCATION.items()}
    name = pl.col("location").str.replace(r"(?i)^on or near\s+", "")
    base_id = (pl.lit("puk-") + pl.col("location_type") + "-"
               + pl.col("easting").round(0).cast(pl.Int64).cast(pl.Utf8) + "-"
               + pl.col("northing").round(0).cast(pl.Int64).cast(pl.Utf8))
    seq = pl.int_range(pl.len()).over(base_id)
    out = pts.sort(["location_type", "easting", "northing"]).with_columns(
        pl.when(seq == 0).then(base_id)
        .otherwise(base_id + "-" + (seq + 1).cast(pl.Utf8)).alias("venue_id"),
        name.alias("name"),
        pl.col("location_type").replace_strict(vtype, return_dtype=pl.Utf8).alias("type"),
        pl.col("location_type").replace_strict(licensed, return_dtype=pl.Boolean).alias("licensed"),
        pl.lit(None, dtype=pl.Utf8).alias("hours"),
        pl.lit("police.uk label").alias("origin"),
    )
    out = _conform_lazy(out, VENUE_SCHEMA)
    return out if lazy else out.collect()


def _conform_lazy(lf: pl.LazyFrame, schema: dict) -> pl.LazyFrame:
    """`geodata.schema.conform` for a LazyFrame."""
    have = set(lf.collect_schema().names())
    return lf.select(pl.col(n).cast(t, strict=False) if n in have else pl.lit(None, dtype=t).alias(n)
                     for n, t in schema.items())
