"""Reader for data.police.uk street-level crime CSVs.

`read_police_uk(paths)` accepts, per path, one CSV, a folder (the monthly archive layout
`YYYY-MM/YYYY-MM-<force>-street.csv` or CSVs flat in one folder), or the downloaded zip (read in
memory). Several forces and months may be mixed. Every data row is accepted or quarantined with a
reason, in one `SourceLedger(kind="crimes")` per path given.

How a file is read
------------------
Bytes are decoded as UTF-8 (a byte-order mark is dropped; UTF-16 with a BOM is accepted; bytes that
are not UTF-8 are decoded as Windows-1252 with a note). The delimiter is taken from the header: a
file saved with ';', tab or '|' is read anyway, with a note. Records are split by the standard
library's C csv parser (it handles quoted commas and quoted newlines and never drops a short row),
then every check runs column-wise in Polars:

* a record with the wrong number of fields (including a truncated last line) -> "malformed row";
* no Longitude/Latitude ("No Location" rows) -> "no coordinates";
* not a number, NaN, infinite, or outside the UK lon/lat box (0,0 included) ->
  "coordinates out of range". A file whose Longitude and Latitude columns are swapped as a whole
  is swapped back with a note; a single swapped row in an otherwise good file is quarantined;
* a Month that is not `YYYY-MM` (also accepted: `YYYY-MM-DD`, `MM/YYYY`, `DD/MM/YYYY`, Excel's
  `Jan-24`, `January 2024`) -> "unparseable date"; a readable month in a year before 1990 or
  after 2100 (a typo such as 0024-01) -> "month out of range";
* a Crime ID seen before in the same month among the files of one call (the same crime repeated)
  -> "duplicate id"; the first good row is kept. Anti-social behaviour rows have no Crime ID and
  are never duplicates.

Outcomes files (`*-outcomes.csv`) found with the street files are not crime rows: the latest
`Outcome type` per Crime ID is joined into `outcome` (falling back to `Last outcome category`).
Coordinates are converted to British National Grid with `geodata.crs`. `lsoa_code` is left null:
area assignment (`geodata.areas.assign_areas`) fills it later.
"""
from __future__ import annotations

import csv
import io
import itertools
import re
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


@dataclass
class _Member:
    """One CSV inside a path: a file on disk or a zip member (bytes read lazily)."""

    name: str  # shown as source_file: a path, or "archive.zip!inner/name.csv"
    loader: object  # callable returning bytes
    kind: str  # "street", "outcomes" or "unknown"

    def read(self) -> bytes:
        return self.loader()


def _kind_from_name(name: str) -> str:
    low = name.lower()
    if low.endswith("-street.csv"):
        return "street"
    if low.endswith("-outcomes.csv"):
        return "outcomes"
    if low.endswith("-stop-and-search.csv"):
        return "stop-and-search"
    return "unknown"


def _zip_members(path: Path, label: str, data: bytes | None = None) -> list[_Member]:
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
    members = []
    for info in sorted(infos, key=lambda i: i.filename):
        inner = info.filename
        base = inner.rsplit("/", 1)[-1]
        if info.is_dir() or inner.startswith("__MACOSX/") or base.startswith("."):
            continue
        if not inner.lower().endswith(".csv"):
            continue

        def load(zf=zf, info=info, label=label):
            try:
                return zf.read(info)
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError) as exc:
                raise SourceError(f"{label}!{info.filename}", f"cannot be extracted ({exc})",
                                  "download the archive again from data.police.uk") from exc

        members.append(_Member(f"{label}!{inner}", load, _kind_from_name(inner)))
    return members


def _file_members(path: Path) -> list[_Member]:
    def load(p=path):
        return p.read_bytes()

    return [_Member(str(path), load, _kind_from_name(path.name))]


def _members_for(path: Path) -> tuple[list[_Member], bool]:
    """The CSVs a path stands for, and whether the path named a single CSV file."""
    if not path.exists():
        raise SourceError(str(path), "does not exist",
                          "check the path (relative paths are relative to study.toml)")
    if path.is_dir():
        members: list[_Member] = []
        for p in sorted(path.rglob("*")):
            rel = p.relative_to(path)
            if any(part.startswith(".") for part in rel.parts) or not p.is_file():
                continue
            suffix = p.suffix.lower()
            if suffix == ".csv":
                members.extend(_file_members(p))
            elif suffix == ".zip":
                members.extend(_zip_members(p, str(p)))
        return members, False
    if path.suffix.lower() == ".zip" or _sniff_zip(path):
        return _zip_members(path, str(path)), False
    members = _file_members(path)
    if members[0].kind == "street":
        # A single street file: pick up its month's outcomes file if it sits beside it.
        sib = path.with_name(re.sub(r"(?i)-street\.csv$", "-outcomes.csv", path.name))
        if sib != path and sib.is_file():
            members.extend(_file_members(sib))
    return members, True


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


def _check_table(tbl: _Table, decimal_comma: bool) -> pl.DataFrame:
    """Add _lon, _lat, _month, _reason columns to the table's frame (checks except duplicates)."""
    df = tbl.frame
    for c in ("crime_id", "month", "longitude", "latitude"):
        if c not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=pl.Utf8).alias(c))
    df = df.with_columns(
        _number("longitude", decimal_comma).alias("_lon"),
        _number("latitude", decimal_comma).alias("_lat"),
        _month_expr().alias("_month"),
        _month_parsed_expr().is_not_null().alias("_month_read"),
    )
    finite = (pl.col("_lon").is_finite() & pl.col("_lat").is_finite()).fill_null(False)
    stats = df.select(
        (finite & _in_box(pl.col("_lon"), pl.col("_lat"))).sum().alias("ok"),
        (finite & _in_box(pl.col("_lat"), pl.col("_lon"))
         & ~_in_box(pl.col("_lon"), pl.col("_lat"))).sum().alias("swapped"),
    ).row(0, named=True)
    if stats["swapped"] > stats["ok"] and stats["swapped"] > 0:
        df = df.with_columns(pl.col("_lat").alias("_lon"), pl.col("_lon").alias("_lat"))
        tbl.notes.append(
            f"Longitude and Latitude are swapped in this file ({stats['swapped']} rows); "
            "swapped back")
    empty_lon = _strip("longitude").is_null() | (_strip("longitude") == "")
    empty_lat = _strip("latitude").is_null() | (_strip("latitude") == "")
    ok_coords = (finite & _in_box(pl.col("_lon"), pl.col("_lat"))).fill_null(False)
    reason = (
        pl.when(empty_lon | empty_lat).then(pl.lit("no coordinates"))
        .when(~ok_coords).then(pl.lit("coordinates out of range"))
        .when(pl.col("_month").is_null() & pl.col("_month_read")).then(pl.lit("month out of range"))
        .when(pl.col("_month").is_null()).then(pl.lit("unparseable date"))
        .otherwise(pl.lit(None, dtype=pl.Utf8))
    )
    return df.with_columns(reason.alias("_reason"))


def _quarantine_view(df: pl.DataFrame) -> pl.DataFrame:
    """Original text of rows, under police.uk header names, with provenance."""
    keep = [c for c in df.columns if c in _INTERNAL_TO_HEADER]
    return df.select(
        pl.col("source_file"), pl.col("source_row"),
        *[pl.col(c).alias(_INTERNAL_TO_HEADER[c]) for c in keep],
    )


# --------------------------------------------------------------------------------------------
# Public API


def read_police_uk(paths, ledger: Ledger | None = None) -> pl.DataFrame:
    """Read police.uk street-level CSVs into an INCIDENT_SCHEMA frame (lsoa_code left null).

    `paths`: a path or a list of paths; each a CSV, a folder, or a zip. One
    `SourceLedger(kind="crimes")` per path is added to `ledger` (always balanced).
    Raises `SourceError` when a path cannot be read at all.
    """
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    ledger = ledger if ledger is not None else Ledger()
    entries: list[SourceLedger] = []
    street: list[tuple[int, _Table]] = []
    outcomes: list[_Table] = []
    for pidx, raw_path in enumerate(paths):
        path = Path(raw_path)
        entry = SourceLedger(kind="crimes", path=str(path))
        entries.append(entry)
        members, single = _members_for(path)
        n_street = 0
        n_outcomes = 0
        for m in members:
            tbl, kind = _read_member(m, single, entry)
            if tbl is None:
                continue
            if kind == "street":
                n_street += 1
                street.append((pidx, tbl))
            else:
                n_outcomes += 1
                outcomes.append(tbl)
        if n_street == 0:
            if single and n_outcomes:
                raise SourceError(str(raw_path), "holds police.uk outcomes, not street-level crimes",
                                  "give the matching -street.csv file; outcomes files beside it "
                                  "are joined automatically")
            raise SourceError(str(raw_path), "holds no police.uk street-level crime CSV",
                              "point at a YYYY-MM-<force>-street.csv file, the folder holding them, "
                              "or the zip downloaded from data.police.uk")
        entry.notes.append(f"read {n_street} street file(s)"
                           + (f" and {n_outcomes} outcomes file(s)" if n_outcomes else ""))

    checked = []
    malformed = []
    for pidx, tbl in street:
        # With ';' or tab separators (European Excel) coordinates may carry decimal commas.
        df = _check_table(tbl, decimal_comma=tbl.sep != ",").with_columns(pl.lit(pidx).alias("_path"))
        checked.append(df)
        if tbl.malformed.height:
            malformed.append(tbl.malformed.with_columns(pl.lit(pidx).alias("_path")))
        entries[pidx].read += tbl.read
        entries[pidx].notes.extend(f"{tbl.name}: {n}" for n in tbl.notes)
    df = pl.concat(checked, how="diagonal_relaxed")
    for c in INTERNAL_COLUMNS:
        if c not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=pl.Utf8).alias(c))

    # Duplicates: the same Crime ID again in the same month, among rows otherwise good.
    cid = _strip("crime_id")
    df = df.with_columns(pl.when(cid == "").then(None).otherwise(cid).alias("_cid"))
    dup = (
        pl.col("_reason").is_null() & pl.col("_cid").is_not_null()
        & (pl.int_range(pl.len()).over(["_cid", "_month", "_reason"]) > 0)
    )
    df = df.with_columns(
        pl.when(dup).then(pl.lit("duplicate id")).otherwise(pl.col("_reason")).alias("_reason"))

    # Ledger: quarantine per path and reason.
    bad = df.filter(pl.col("_reason").is_not_null())
    for pidx, entry in enumerate(entries):
        mine = bad.filter(pl.col("_path") == pidx)
        for reason in sorted(mine["_reason"].unique().to_list()):
            entry.quarantine(_quarantine_view(mine.filter(pl.col("_reason") == reason)), reason)
    for m in malformed:
        pidx = m["_path"][0]
        entries[pidx].quarantine(m.drop("_path"), "malformed row")
    good = df.filter(pl.col("_reason").is_null())
    counts = good.group_by("_path").len()
    by_path = dict(zip(counts["_path"].to_list(), counts["len"].to_list()))
    for pidx, entry in enumerate(entries):
        entry.accepted = by_path.get(pidx, 0)

    # Outcomes: latest Outcome type per Crime ID.
    outcome_col = _strip("last_outcome")
    if outcomes:
        oc = _latest_outcomes(outcomes)
        good = good.join(oc, left_on="_cid", right_on="_ocid", how="left", maintain_order="left")
        has = pl.col("_outcome").is_not_null()
        per_path = good.filter(has).group_by("_path").len()
        joined_by_path = dict(zip(per_path["_path"].to_list(), per_path["len"].to_list()))
        for pidx, entry in enumerate(entries):
            entry.notes.append(
                f"latest outcome joined from outcomes files for {joined_by_path.get(pidx, 0)} crime(s)")
        outcome_col = pl.coalesce(pl.col("_outcome"), outcome_col)

    e, n = lonlat_to_bng(good["_lon"].to_numpy(), good["_lat"].to_numpy())
    force = pl.coalesce(_empty_null("falls_within"), _empty_null("reported_by"))
    out = good.with_columns(
        pl.lit(SOURCE).alias("source"),
        pl.col("_cid").alias("incident_id"),
        force.alias("force"),
        pl.col("_month").alias("month"),
        pl.Series("easting", e, dtype=pl.Float64),
        pl.Series("northing", n, dtype=pl.Float64),
        _strip("location").str.replace_all(r"\s+", " ").alias("location"),
        location_type_expr(pl.col("location")).alias("location_type"),
        _empty_null("lsoa_given").str.to_uppercase().alias("lsoa_given"),
        _empty_null("crime_type").alias("crime_type"),
        outcome_col.alias("outcome"),
    )
    for entry in entries:
        ledger.add(entry)
    return conform(out, INCIDENT_SCHEMA)


INTERNAL_COLUMNS = tuple(internal for _, internal in _HEADER.values() if internal != "outcome_type")


def _empty_null(name: str) -> pl.Expr:
    e = _strip(name)
    return pl.when(e == "").then(None).otherwise(e)


def _read_member(m: _Member, single: bool, entry: SourceLedger) -> tuple[_Table | None, str]:
    """Parse one member; return (table, kind) or (None, kind) when it is skipped with a note."""
    if m.kind == "stop-and-search":
        entry.notes.append(f"{m.name}: stop-and-search file, not crimes; skipped")
        return None, m.kind
    try:
        data = m.read()
        if data[:4] == b"PK\x03\x04":
            # A zip saved with a .csv name, or an Excel workbook.
            sub = _zip_members(Path(m.name), m.name, data)
            raise SourceError(m.name, f"is a zip archive ({len(sub)} CSV inside), not a CSV",
                              "give the .zip file itself, or extract it first")
        tbl = _parse_csv(data, m.name)
    except SourceError:
        if m.kind == "street" or single:
            raise
        entry.notes.append(f"{m.name}: could not be read; skipped")
        return None, m.kind
    except (OSError, ValueError, pl.exceptions.PolarsError) as exc:
        if m.kind == "street" or single:
            raise SourceError(m.name, f"cannot be read ({type(exc).__name__}: {exc})",
                              "check the file is a CSV from data.police.uk") from exc
        entry.notes.append(f"{m.name}: could not be read; skipped")
        return None, m.kind
    cols = tbl.original_header
    kind = m.kind
    if kind == "unknown":
        if is_police_uk_header(cols):
            kind = "street"
        elif is_police_uk_outcomes_header(cols):
            kind = "outcomes"
        elif not single:
            entry.notes.append(f"{m.name}: not a police.uk crime or outcomes file; skipped")
            return None, kind
        else:
            kind = "street"
    if kind == "outcomes":
        if not all(c in tbl.frame.columns for c in _OUTCOME_NEEDED):
            missing = [_INTERNAL_TO_HEADER[c] for c in _OUTCOME_NEEDED if c not in tbl.frame.columns]
            entry.notes.append(f"{m.name}: outcomes file lacks {', '.join(missing)}; skipped")
            return None, kind
        return tbl, kind
    missing = [_INTERNAL_TO_HEADER[c] for c in REQUIRED_STREET if c not in tbl.frame.columns]
    if missing:
        found = ", ".join(c for c in cols if c) or "none"
        raise SourceError(m.name, f"missing column(s) {', '.join(missing)} (found: {found})",
                          _FIX_HEADER)
    return tbl, kind


def _latest_outcomes(tables: list[_Table]) -> pl.DataFrame:
    frames = []
    for t in tables:
        df = t.frame
        if "month" not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=pl.Utf8).alias("month"))
        frames.append(df.select(
            _strip("crime_id").alias("_ocid"),
            _month_expr().alias("_om"),
            _strip("outcome_type").alias("_outcome"),
        ))
    oc = pl.concat(frames).with_row_index("_order")
    oc = oc.filter(pl.col("_ocid").is_not_null() & (pl.col("_ocid") != "")
                   & pl.col("_outcome").is_not_null() & (pl.col("_outcome") != ""))
    return (
        oc.sort(["_om", "_order"], nulls_last=False)
        .group_by("_ocid", maintain_order=True)
        .agg(pl.col("_outcome").last())
    )


def infer_venues_from_labels(incidents: pl.DataFrame) -> pl.DataFrame:
    """Venue points from police.uk place labels, in VENUE_SCHEMA.

    One venue per distinct (easting, northing, location_type) among venue-like place types
    (nightclub, shopping area, supermarket, bus/train station, petrol station, hospital, sports,
    theatre/concert hall, further education). `name` is the place label ("Nightclub"), `origin`
    is "police.uk label", `licensed` is True for nightclubs (and pubs), False where the place
    cannot hold a licence, null where unknown.
    """
    need = {"easting", "northing", "location_type", "location"}
    if incidents.height == 0 or not need <= set(incidents.columns):
        return pl.DataFrame(schema=VENUE_SCHEMA)
    types = list(VENUE_FROM_LOCATION)
    pts = (
        incidents.filter(
            pl.col("location_type").is_in(types)
            & pl.col("easting").is_finite() & pl.col("northing").is_finite())
        .group_by(["easting", "northing", "location_type"], maintain_order=True)
        .agg(pl.col("location").first())
    )
    if pts.height == 0:
        return pl.DataFrame(schema=VENUE_SCHEMA)
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
    return conform(out, VENUE_SCHEMA)
