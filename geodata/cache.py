"""A columnar workspace cache for police.uk street data: read once, open again in seconds.

`cached_police_uk(paths, areas, cache_dir=None, ledger=None)` gives exactly what the uncached
path gives, `read_police_uk(paths, ledger)` followed by `assign_areas(incidents, areas,
entries)`: the same INCIDENT_SCHEMA frame (same rows, order and values) and the same ledger
(read, accepted, quarantined by reason, the quarantined rows and the notes). The first call
builds the cache; later calls check it is still current and read it back from Parquet.

Two levels, both under the cache folder (`$SVTUI_CACHE`, else `$XDG_CACHE_HOME/svtui`, else
`~/.cache/svtui`), in `policeuk-v<N>/`:

* `parts/`: one entry per CSV (file or zip member): its checked rows in canonical form (Parquet),
  its quarantined rows with their original text, its notes and row counts. A part depends on
  that file alone, so when next month's files arrive only they are parsed.
* `results/`: one entry per (paths, areas): `incidents.parquet` (one row group per source file,
  so a filter on `force` or `month` skips the other files' row groups), the quarantined rows of
  each ledger entry, and `manifest.json` with the ledger and the fingerprints it was built from.

Staleness. Every source file is fingerprinted by size, modification time and a BLAKE2 hash of
its first and last 64 KiB; the set of files under each path is enumerated again on every
call (a new or removed month is a change). Areas are fingerprinted by their LSOA codes,
geometries and 2011 -> 2021 lookup. The reader version (a hash of the reader modules' source,
the Polars version and `CACHE_FORMAT`) is part of every key, so changing the reader discards
old entries. Cache files are checked by size, head/tail hash and Parquet footer before use; a
missing, truncated or corrupt file is rebuilt, never trusted and never fatal. Writes go to a
temporary name then `os.replace`, and the manifest is written last, so a crash mid-build
leaves nothing that looks valid.

Speed. Well-formed files are split by Polars' CSV reader (`geodata.fastscan`), others by the
exact reader, two files at a time; costly per-row parsers run once per distinct value;
duplicates are looked for on a 64-bit hash of (Crime ID, month) and confirmed on the text;
`assign_areas` runs once per distinct (LSOA code, point) rather than per row (police.uk snaps
crimes to a limited set of map points); rows are converted and written one batch of files at
a time, so memory stays near one batch plus the keys, not the size of the text.

Exactness of the fast build rests on parts of `geodata.policeuk` and `assign_areas` being
mirrored here (see `MIRRORED`): while they are unchanged the fast build is used, otherwise the
cache is built by the exact reader itself.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from geodata import fastscan, policeuk
from geodata.atomic import raise_write_error
from geodata.crs import lonlat_to_bng
from geodata.errors import SourceError
from geodata.ledger import Ledger, SourceLedger
from geodata.schema import INCIDENT_SCHEMA, conform

CACHE_FORMAT = 1
_HEADTAIL = 64 * 1024
_BATCH_ROWS = 400_000  # rows converted and area-assigned at a time
_VERSION_MODULES = ("policeuk", "fastscan", "cache", "areas", "crs", "schema", "ledger")

Progress = Callable[[str, float], None]


# --------------------------------------------------------------------------------------------
# Where, and which version


def default_cache_dir() -> Path:
    """`$SVTUI_CACHE`, else `$XDG_CACHE_HOME/svtui`, else `~/.cache/svtui`."""
    env = os.environ.get("SVTUI_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "svtui"


_VERSION: str | None = None


def reader_version() -> str:
    """Hash of everything that shapes the cached rows: reader source, Polars, cache format."""
    global _VERSION
    if _VERSION is None:
        h = hashlib.blake2b(digest_size=12)
        h.update(f"format={CACHE_FORMAT};polars={pl.__version__}".encode())
        here = Path(__file__).resolve().parent
        for mod in _VERSION_MODULES:
            h.update((here / f"{mod}.py").read_bytes())
        _VERSION = h.hexdigest()
    return _VERSION


# geodata.cache and geodata.fastscan re-implement, for speed, parts of the exact reader
# (read_police_uk's order of work, _read_member, _check_table) and rely on how assign_areas
# charges the ledger. They are used only while those functions are the ones mirrored; if one
# changes, the cache builds with the exact reader instead (slower, never different) until
# MIRRORED is updated (tests/test_cache.py says so).
_MIRRORED_FUNCTIONS = (
    "policeuk.read_police_uk", "policeuk._read_member", "policeuk._check_table",
    "policeuk._parse_csv", "policeuk._decode", "policeuk._pick_delimiter",
    "policeuk._latest_outcomes", "policeuk._quarantine_view", "policeuk._empty_null",
    "policeuk._strip", "policeuk._number", "policeuk._in_box", "policeuk._month_expr",
    "policeuk._month_parsed_expr", "areas.assign_areas", "areas._entries_for",
    "ledger.SourceLedger.quarantine", "ledger.SourceLedger.move_to_quarantine",
)
MIRRORED = "1fd0f8d1ee76e5bb3b3b82fe"


def mirrored_source_hash() -> str:
    """Hash of the source of the functions the fast build mirrors."""
    import importlib
    import inspect

    h = hashlib.blake2b(digest_size=12)
    for qual in _MIRRORED_FUNCTIONS:
        mod, *attrs = qual.split(".")
        obj = importlib.import_module(f"geodata.{mod}")
        for a in attrs:
            obj = getattr(obj, a)
        h.update(qual.encode())
        h.update(inspect.getsource(obj).encode())
    return h.hexdigest()


def fast_build_available() -> bool:
    """True while the mirrored reader functions are unchanged (see MIRRORED)."""
    return mirrored_source_hash() == MIRRORED


def _root(cache_dir) -> Path:
    base = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return base / f"policeuk-v{CACHE_FORMAT}"


# --------------------------------------------------------------------------------------------
# Fingerprints


def fingerprint(path: str | Path) -> dict:
    """Size, modification time (ns) and a hash of the first and last 64 KiB of a file."""
    path = Path(path)
    st = path.stat()
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        h.update(fh.read(_HEADTAIL))
        if st.st_size > 2 * _HEADTAIL:
            fh.seek(st.st_size - _HEADTAIL)
            h.update(fh.read(_HEADTAIL))
        elif st.st_size > _HEADTAIL:
            h.update(fh.read())
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "headtail": h.hexdigest()}


def _content_check(path: Path) -> dict:
    """What a cache file must still look like: size and head/tail hash (mtime is ours)."""
    fp = fingerprint(path)
    return {"size": fp["size"], "headtail": fp["headtail"]}


def areas_fingerprint(areas) -> str | None:
    """Hash of what `assign_areas` uses: LSOA codes, their geometries, the 2011 -> 2021 lookup."""
    if areas is None:
        return None
    key = "_svtui_cache_fp"
    if key in areas._cache:
        return areas._cache[key]
    import shapely

    h = hashlib.blake2b(digest_size=16)
    codes = areas.lsoa["lsoa_code"].astype(str).tolist()
    h.update("\x1f".join(codes).encode())
    for wkb in shapely.to_wkb(np.asarray(areas.lsoa.geometry.values)):
        h.update(wkb)
    lk = areas.lsoa11_to_21
    h.update(lk.write_csv().encode())
    fp = h.hexdigest()
    areas._cache[key] = fp
    return fp


def _container(name: str) -> Path:
    """The file on disk a member name comes from ("a.zip!inner.csv" -> "a.zip")."""
    p = Path(name)
    if p.is_file():
        return p
    idx = name.find("!")
    while idx >= 0:
        head = Path(name[:idx])
        if head.is_file():
            return head
        idx = name.find("!", idx + 1)
    return p


def _hash(*parts) -> str:
    return hashlib.blake2b(json.dumps(parts, sort_keys=True).encode(), digest_size=16).hexdigest()


# --------------------------------------------------------------------------------------------
# Atomic writes


def _tmp_path(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(tmp)


def _write_parquet(df: pl.DataFrame, path: Path) -> dict:
    tmp = _tmp_path(path)
    try:
        df.write_parquet(tmp, compression="lz4", statistics=True)
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        raise_write_error(exc, path)  # a full disk names the cache file (geodata.atomic)
        raise
    return _content_check(path)


def _write_json(obj, path: Path) -> None:
    tmp = _tmp_path(path)
    try:
        tmp.write_text(json.dumps(obj, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        raise_write_error(exc, path)
        raise


def _read_json(path: Path) -> dict | None:
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return obj if isinstance(obj, dict) else None


def _valid_file(path: Path, check: dict | None, rows: int | None = None) -> bool:
    """The cache file is there, unchanged since written, and its Parquet footer reads."""
    if check is None:
        return False
    try:
        if _content_check(path) != check:
            return False
        meta = pq.read_metadata(path)
    except Exception:  # noqa: BLE001 - any unreadable cache file is simply rebuilt
        return False
    return rows is None or meta.num_rows == rows


# --------------------------------------------------------------------------------------------
# Level 1: one part per CSV


@dataclass
class _Part:
    """One CSV of a path, as cached."""

    name: str
    kind: str  # "street", "outcomes" or "skipped"
    entry_notes: list[str] = field(default_factory=list)  # notes _read_member adds at once
    table_notes: list[str] = field(default_factory=list)  # the table's own notes
    read: int = 0
    n_good: int = 0
    columns: list[str] = field(default_factory=list)  # raw columns, in the reader's order
    files: dict = field(default_factory=dict)  # role -> {"path", "check", "rows"}
    header: list[str] = field(default_factory=list)  # internal names, when read fast
    fast: bool = False  # read by the fast reader: `_offset` locates each row's line
    built: bool = False

    def path(self, role: str) -> Path | None:
        f = self.files.get(role)
        return Path(f["path"]) if f else None

    def to_meta(self) -> dict:
        return {k: getattr(self, k) for k in
                ("name", "kind", "entry_notes", "table_notes", "read", "n_good", "columns",
                 "files", "header", "fast")}


def _file_frames(tbl: "policeuk._Table", is_fast: bool
                 ) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """(accepted rows in canonical form, quarantined rows with their original text, the raw
    columns in the order the reader's concatenated frame has them) of one street file.

    What `_check_table` and then `read_police_uk` compute for these rows, as one lazy query:
    the per-value parsers (Month formats, Location place types, code clean-up) run once per
    distinct value and are applied as lookups. Files read fast use the mirror of
    `_check_table` below; other files the original. Accepted rows also get `_hm`, a 64-bit
    hash of (Crime ID, month) for finding repeats, and (files read fast) `_offset`, where each
    row's line starts. Blank rows left in by the fast reader are dropped here, with the exact
    reader's note.
    """
    raw_cols = [c for c in tbl.frame.columns if c in policeuk._INTERNAL_TO_HEADER]
    raw_order = raw_cols + [c for c in ("crime_id", "month", "longitude", "latitude")
                            if c not in raw_cols]
    missing = [c for c in policeuk.INTERNAL_COLUMNS if c not in tbl.frame.columns]
    n_notes = len(tbl.notes)
    if is_fast:
        lf = tbl.frame.lazy().with_columns(pl.lit(None, dtype=pl.Utf8).alias(c) for c in missing)
        lf = lf.with_columns(policeuk._number("longitude", False).alias("_lon"),
                             policeuk._number("latitude", False).alias("_lat"))
    else:
        checked = policeuk._check_table(tbl, decimal_comma=tbl.sep != ",")
        lf = checked.lazy().with_columns(pl.lit(None, dtype=pl.Utf8).alias(c) for c in missing
                                         if c not in checked.columns)
    # One pass for the file-wide numbers and the distinct values.
    lon, lat = pl.col("_lon"), pl.col("_lat")
    finite = (lon.is_finite() & lat.is_finite()).fill_null(False)
    keyed = ["location", "lsoa_given", "crime_type", "last_outcome", "falls_within",
             "reported_by"] + (["month"] if is_fast else [])
    first = lf.select(
        (finite & policeuk._in_box(lon, lat)).sum().alias("ok"),
        (finite & policeuk._in_box(lat, lon) & ~policeuk._in_box(lon, lat)).sum().alias("swapped"),
        *[pl.col(c).unique().implode() for c in keyed],
    ).collect()
    uniq = {c: first[c][0].rename(c) for c in keyed}

    if is_fast:  # the mirror of policeuk._check_table (see MIRRORED)
        month = _per_value(uniq["month"], {
            "_month": policeuk._month_expr(),
            "_month_read": policeuk._month_parsed_expr().is_not_null()})
        lf = lf.with_columns(month["_month"], month["_month_read"])
        ok, swapped = first["ok"][0], first["swapped"][0]
        if swapped > ok and swapped > 0:
            lf = lf.with_columns(pl.col("_lat").alias("_lon"), pl.col("_lon").alias("_lat"))
            tbl.notes.append(
                f"Longitude and Latitude are swapped in this file ({swapped} rows); "
                "swapped back")
        empty_lon = policeuk._strip("longitude").is_null() | (policeuk._strip("longitude") == "")
        empty_lat = policeuk._strip("latitude").is_null() | (policeuk._strip("latitude") == "")
        finite = (lon.is_finite() & lat.is_finite()).fill_null(False)
        ok_coords = (finite & policeuk._in_box(lon, lat)).fill_null(False)
        reason = (
            pl.when(empty_lon | empty_lat).then(pl.lit("no coordinates"))
            .when(~ok_coords).then(pl.lit("coordinates out of range"))
            .when(pl.col("_month").is_null() & pl.col("_month_read"))
            .then(pl.lit("month out of range"))
            .when(pl.col("_month").is_null()).then(pl.lit("unparseable date"))
            .otherwise(pl.lit(None, dtype=pl.Utf8))
        )
        lf = lf.with_columns(reason.alias("_reason"))

    # read_police_uk's canonical columns, each expression evaluated once per distinct value.
    loc = _location_table(uniq["location"])
    mapped = {
        **_per_value(uniq["lsoa_given"], {
            "_lsoa_given": policeuk._empty_null("lsoa_given").str.to_uppercase()}),
        **_per_value(uniq["crime_type"], {"_crime_type": policeuk._empty_null("crime_type")}),
        **_per_value(uniq["last_outcome"], {"_outcome0": policeuk._strip("last_outcome")}),
        **_per_value(uniq["falls_within"], {"_fw": policeuk._empty_null("falls_within")}),
        **_per_value(uniq["reported_by"], {"_rb": policeuk._empty_null("reported_by")}),
        **_mapping("location", loc, ["_location", "location_type"]),
    }
    bad_lf = lf.filter(pl.col("_reason").is_not_null()).select(
        "source_row", *raw_order, "_reason")
    cid = policeuk._strip("crime_id")
    offset = ["_offset"] if is_fast else []
    good_lf = lf.filter(pl.col("_reason").is_null()).with_columns(
        pl.when(cid == "").then(None).otherwise(cid).alias("_cid"),
        *mapped.values(),
    ).select(
        "source_row", *offset, "_cid",
        pl.when(pl.col("_cid").is_not_null())
        .then(pl.col("_cid").hash(seed=_HASH_SEED) // 2
              + pl.col("_month").cast(pl.Int32).cast(pl.UInt64)).alias("_hm"),
        "_month", pl.coalesce("_fw", "_rb").alias("force"),
        pl.col("_location").alias("location"), "location_type",
        pl.col("_lsoa_given").alias("lsoa_given"), pl.col("_crime_type").alias("crime_type"),
        "_outcome0", "_lon", "_lat",
    )
    good, bad = pl.collect_all([good_lf, bad_lf])
    e, n = lonlat_to_bng(good["_lon"].to_numpy(), good["_lat"].to_numpy())
    good = good.drop("_lon", "_lat").with_columns(pl.Series("easting", e, dtype=pl.Float64),
                                                  pl.Series("northing", n, dtype=pl.Float64))
    if is_fast:  # blank rows (no coordinates, so among the quarantined) are not data
        blank = pl.all_horizontal([policeuk._strip(c).fill_null("") == "" for c in tbl.header])
        n_empty = bad.select(blank.sum()).item()
        if n_empty:
            bad = bad.filter(~blank)
            tbl.frame = tbl.frame.head(tbl.frame.height - n_empty)  # only its height is used
            tbl.notes.insert(n_notes, f"{n_empty} empty row(s) ignored")
    return good, bad, raw_order


_HASH_SEED = 20240401
# Location label -> (cleaned label, place type): labels repeat month after month, and the
# place-type regexes are the costliest per-value work in a file.
_LOCATION_MEMO: dict[str | None, tuple[str | None, str | None]] = {}
_LOCATION_MEMO_MAX = 2_000_000
_MEMO_LOCK = threading.Lock()


def _per_value(values: pl.Series, exprs: dict[str, pl.Expr]) -> dict[str, pl.Expr]:
    """Expressions over one column, evaluated on its distinct `values` and applied to every
    row as a lookup (`replace_strict`): the same result, once per value instead of per row."""
    name = values.name
    table = values.to_frame().with_columns(**exprs)
    return _mapping(name, table, list(exprs))


def _mapping(name: str, table: pl.DataFrame, outputs: list[str]) -> dict[str, pl.Expr]:
    """Row lookups `name` -> each of `outputs` from a table of distinct values of `name`."""
    keyed = table.filter(pl.col(name).is_not_null())
    null_row = table.filter(pl.col(name).is_null())
    out = {}
    for o in outputs:
        dtype = table.schema[o]
        e = pl.col(name).replace_strict(keyed[name], keyed[o], default=None, return_dtype=dtype)
        if null_row.height:
            e = (pl.when(pl.col(name).is_null())
                 .then(pl.lit(null_row[o][0], dtype=dtype)).otherwise(e))
        out[o] = e.alias(o)
    return out


def _location_table(labels: pl.Series) -> pl.DataFrame:
    """location -> `_location` (cleaned) and `location_type`, as read_police_uk computes them
    (the type from the label as given), evaluated only for labels not seen before."""
    keys = labels.to_list()
    with _MEMO_LOCK:
        new = [v for v in keys if v not in _LOCATION_MEMO]
    found: dict = {}
    if new:
        calc = pl.DataFrame({"location": pl.Series(new, dtype=pl.Utf8)}).select(
            "location",
            policeuk._strip("location").str.replace_all(r"\s+", " ").alias("_location"),
            policeuk.location_type_expr(pl.col("location")).alias("location_type"),
        )
        found = dict(zip(calc["location"].to_list(),
                         zip(calc["_location"].to_list(), calc["location_type"].to_list())))
    with _MEMO_LOCK:  # entries are never removed, so a label seen above is still there
        if len(_LOCATION_MEMO) + len(found) <= _LOCATION_MEMO_MAX:
            _LOCATION_MEMO.update(found)
        vals = [found[k] if k in found else _LOCATION_MEMO[k] for k in keys]
    return pl.DataFrame({
        "location": pl.Series(keys, dtype=pl.Utf8),
        "_location": pl.Series([v[0] for v in vals], dtype=pl.Utf8),
        "location_type": pl.Series([v[1] for v in vals], dtype=pl.Utf8),
    })


def _outcome_frame(tbl: "policeuk._Table") -> pl.DataFrame:
    df = tbl.frame
    if "month" not in df.columns:
        df = df.with_columns(pl.lit(None, dtype=pl.Utf8).alias("month"))
    df = fastscan.map_unique(df, ["month"], {"_om": policeuk._month_expr()})
    return df.select(
        policeuk._strip("crime_id").alias("_ocid"), "_om",
        policeuk._strip("outcome_type").alias("_outcome"))


def _parse_member(m, single: bool, fast: bool = True):
    """Mirror of `policeuk._read_member`, with the fast reader first.

    Returns ("skipped", note), ("outcomes", table) or ("street", (table, read fast?)). A table
    read fast still holds its blank rows (see `fastscan.fast_table(defer_empty=True)`).
    Raises SourceError exactly where the exact reader does.
    """
    if m.kind == "stop-and-search":
        return "skipped", f"{m.name}: stop-and-search file, not crimes; skipped"
    is_fast = False
    try:
        data = m.read()
        if data[:4] == b"PK\x03\x04":
            sub = policeuk._zip_members(Path(m.name), m.name, data)
            raise SourceError(m.name, f"is a zip archive ({len(sub)} CSV inside), not a CSV",
                              "give the .zip file itself, or extract it first")
        tbl = fastscan.fast_table(data, m.name, defer_empty=True, offsets=True) if fast else None
        is_fast = tbl is not None
        if tbl is None:
            tbl = policeuk._parse_csv(data, m.name)
    except SourceError:
        if m.kind == "street" or single:
            raise
        return "skipped", f"{m.name}: could not be read; skipped"
    except (OSError, ValueError, pl.exceptions.PolarsError) as exc:
        if m.kind == "street" or single:
            raise SourceError(m.name, f"cannot be read ({type(exc).__name__}: {exc})",
                              "check the file is a CSV from data.police.uk") from exc
        return "skipped", f"{m.name}: could not be read; skipped"
    cols = tbl.original_header
    kind = m.kind
    if kind == "unknown":
        if policeuk.is_police_uk_header(cols):
            kind = "street"
        elif policeuk.is_police_uk_outcomes_header(cols):
            kind = "outcomes"
        elif not single:
            return "skipped", f"{m.name}: not a police.uk crime or outcomes file; skipped"
        else:
            kind = "street"
    if kind == "outcomes":
        if is_fast:
            tbl = fastscan.drop_blank_rows(tbl)
        if not all(c in tbl.frame.columns for c in policeuk._OUTCOME_NEEDED):
            missing = [policeuk._INTERNAL_TO_HEADER[c] for c in policeuk._OUTCOME_NEEDED
                       if c not in tbl.frame.columns]
            return "skipped", f"{m.name}: outcomes file lacks {', '.join(missing)}; skipped"
        return "outcomes", tbl
    missing = [policeuk._INTERNAL_TO_HEADER[c] for c in policeuk.REQUIRED_STREET
               if c not in tbl.frame.columns]
    if missing:
        found = ", ".join(c for c in cols if c) or "none"
        raise SourceError(m.name, f"missing column(s) {', '.join(missing)} (found: {found})",
                          policeuk._FIX_HEADER)
    return "street", (tbl, is_fast)


def _build_part(m, single: bool, fp: dict, parts_dir: Path, key: str, fast: bool) -> _Part:
    kind, payload = _parse_member(m, single, fast)
    part = _Part(name=m.name, kind=kind, built=True)
    if kind == "skipped":
        part.entry_notes.append(payload)
    elif kind == "outcomes":
        oc = _outcome_frame(payload)
        part.files["outcomes"] = {"path": str(parts_dir / f"{key}.outcomes.parquet"),
                                  "rows": oc.height}
        part.files["outcomes"]["check"] = _write_parquet(oc, Path(part.files["outcomes"]["path"]))
    else:
        tbl, is_fast = payload
        good, bad, raw_order = _file_frames(tbl, is_fast)
        part.read = tbl.read
        part.table_notes = list(tbl.notes)
        part.columns = raw_order
        part.n_good = good.height
        part.fast = is_fast
        part.header = list(tbl.header) if is_fast else []
        for role, frame in (("good", good), ("bad", bad), ("malformed", tbl.malformed)):
            if role != "good" and frame.height == 0:
                continue
            path = parts_dir / f"{key}.{role}.parquet"
            part.files[role] = {"path": str(path), "rows": frame.height,
                                "check": _write_parquet(frame, path)}
    meta = {"version": reader_version(), "fingerprint": fp, "single": single,
            "part": part.to_meta()}
    _write_json(meta, parts_dir / f"{key}.json")
    return part


def _load_part(m, single: bool, fp: dict, parts_dir: Path, key: str) -> _Part | None:
    meta = _read_json(parts_dir / f"{key}.json")
    if (meta is None or meta.get("version") != reader_version() or meta.get("fingerprint") != fp
            or meta.get("single") != single or not isinstance(meta.get("part"), dict)):
        return None
    try:
        part = _Part(**meta["part"])
    except TypeError:
        return None
    if part.name != m.name:
        return None
    for f in part.files.values():
        if not _valid_file(Path(f["path"]), f.get("check"), f.get("rows")):
            return None
    return part


# --------------------------------------------------------------------------------------------
# Level 2: the result for a list of paths and an Areas


@dataclass
class _Source:
    pidx: int
    path: Path
    members: list
    single: bool


def _enumerate(paths) -> tuple[list[_Source], list[list]]:
    """The members of every path and their fingerprints (raises like read_police_uk)."""
    sources, prints = [], []
    fps: dict[str, dict] = {}
    for pidx, raw in enumerate(paths):
        path = Path(raw)
        members, single = policeuk._members_for(path)
        sources.append(_Source(pidx, path, members, single))
        for m in members:
            cont = str(_container(m.name))
            if cont not in fps:
                fps[cont] = fingerprint(cont)
            prints.append([pidx, m.name, fps[cont]])
    return sources, prints


def _result_key(paths, areas_fp) -> str:
    return _hash("result", reader_version(), [str(p) for p in paths],
                 [str(Path(p).resolve()) for p in paths], areas_fp)


def _load_result(rdir: Path, key_info: dict, prints: list, ledger: Ledger, lazy: bool,
                 report: dict):
    man = _read_json(rdir / "manifest.json")
    if man is None:
        report["reason"] = ("manifest damaged" if (rdir / "manifest.json").exists()
                            else "no cache yet")
        return None
    for k, v in key_info.items():
        if man.get(k) != v:
            report["reason"] = f"{k} changed"
            return None
    if man.get("members") != prints:
        old = {(p, n): f for p, n, f in man.get("members", [])}
        new = {(p, n): f for p, n, f in prints}
        changed = sorted({n for (p, n) in set(old) ^ set(new)}
                         | {n for (p, n), f in new.items() if old.get((p, n), f) != f})
        report["reason"] = "source changed: " + ", ".join(changed[:3]) + (
            f" and {len(changed) - 3} more" if len(changed) > 3 else "")
        return None
    files = man.get("files", {})
    for role, f in files.items():
        if not _valid_file(rdir / f["name"], f.get("check"), f.get("rows")):
            report["reason"] = f"cache file {f['name']} missing or damaged"
            return None
    try:
        entries = []
        for i, e in enumerate(man["ledger"]):
            entry = SourceLedger(kind=e["kind"], path=e["path"], read=e["read"],
                                 accepted=e["accepted"], quarantined=dict(e["quarantined"]),
                                 notes=list(e["notes"]))
            qf = files.get(f"quarantine-{i}")
            if qf is not None:
                entry.rows = pl.read_parquet(rdir / qf["name"])
            entry.check()
            entries.append(entry)
        inc_path = rdir / files["incidents"]["name"]
        frame = pl.scan_parquet(inc_path) if lazy else pl.read_parquet(inc_path)
        if lazy:
            frame.collect_schema()
    except Exception as exc:  # noqa: BLE001 - a damaged cache is rebuilt, not fatal
        report["reason"] = f"cache unreadable ({type(exc).__name__})"
        return None
    for entry in entries:
        ledger.add(entry)
    return frame


def cached_police_uk(paths, areas=None, cache_dir=None, ledger: Ledger | None = None,
                     lazy: bool = True, progress: Progress | None = None,
                     report: dict | None = None, fast: bool = True, workers: int | None = None):
    """police.uk street rows with areas assigned, from a cache when it is still current.

    Equivalent to ``read_police_uk(paths, ledger)`` then ``assign_areas(frame, areas,
    entries)`` (no assignment when `areas` is None): the same INCIDENT_SCHEMA rows in the same
    order, and one `SourceLedger(kind="crimes")` per path added to `ledger` with the same
    counts, quarantined rows and notes. Returns a `pl.LazyFrame` scanning the cached Parquet
    (filters on `force`, `month`, `lsoa_code` are pushed down to its row groups), or a
    `pl.DataFrame` with ``lazy=False``.

    `report`, if given, is filled with what happened: ``status`` ("hit", "built" or
    "rebuilt"), ``reason``, ``parts_reused``/``parts_built``, per-stage ``seconds`` and
    ``result_dir``. `fast=False` forces the exact csv-module reader for every file;
    `workers` files are read at a time (default: up to 2, the cores a shared server gives).
    Raises `SourceError` where `read_police_uk` does.
    """
    t0 = time.perf_counter()
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    ledger = ledger if ledger is not None else Ledger()
    report = report if report is not None else {}
    say = progress or (lambda msg, frac: None)
    root = _root(cache_dir)
    secs: dict[str, float] = {}
    report["seconds"] = secs

    say("Checking the cache", 0.0)
    sources, prints = _enumerate(paths)
    afp = areas_fingerprint(areas)
    key = _result_key(paths, afp)
    rdir = root / "results" / key
    key_info = {"version": reader_version(), "paths": [str(p) for p in paths],
                "areas": afp}
    report["result_dir"] = str(rdir)
    secs["check"] = time.perf_counter() - t0
    found = _load_result(rdir, key_info, prints, ledger, lazy, report)
    if found is not None:
        report["status"] = "hit"
        report["reason"] = "current"
        secs["total"] = time.perf_counter() - t0
        return found
    report["status"] = "built" if report.get("reason") == "no cache yet" else "rebuilt"
    (rdir / "manifest.json").unlink(missing_ok=True)
    if fast_build_available():
        workers = workers if workers is not None else min(2, os.cpu_count() or 1)
        frame = _build(sources, prints, areas, root, rdir, key_info, ledger, lazy, fast, say,
                       report, workers)
    else:
        report["exact"] = ("geodata.policeuk/areas changed since geodata.cache mirrored them: "
                           "built with the exact reader (update cache.MIRRORED)")
        frame = _build_exact(paths, prints, areas, rdir, key_info, ledger, lazy, say, report)
    secs["total"] = time.perf_counter() - t0
    return frame


def _build(sources, prints, areas, root, rdir, key_info, ledger, lazy, fast, say, report,
           workers=1):
    secs = report["seconds"]
    t = time.perf_counter()
    parts_dir = root / "parts"
    parts_dir.mkdir(parents=True, exist_ok=True)
    fp_of = {(p, n): f for p, n, f in prints}
    entries = [SourceLedger(kind="crimes", path=str(s.path)) for s in sources]
    street: list[tuple[int, _Part, object, bool]] = []
    outcomes: list[_Part] = []
    reused = built = 0
    n_members = sum(len(s.members) for s in sources) or 1
    done = 0

    def resolve(s, m) -> tuple[_Part, bool]:
        fp = fp_of[(s.pidx, m.name)]
        pkey = _hash("part", m.name, s.single)
        part = _load_part(m, s.single, fp, parts_dir, pkey)
        if part is not None:
            return part, False
        return _build_part(m, s.single, fp, parts_dir, pkey, fast), True

    # Files are read in parallel (Polars and NumPy release the GIL) and taken in order, so
    # notes, row order and the first error raised are those of a sequential read.
    pool = ThreadPoolExecutor(max_workers=max(1, workers))
    futures = iter([pool.submit(resolve, s, m) for s in sources for m in s.members])
    try:
        for s in sources:
            entry = entries[s.pidx]
            n_street = n_outcomes = 0
            for m in s.members:
                part, was_built = next(futures).result()
                built += was_built
                reused += not was_built
                done += 1
                say(f"Reading {Path(m.name).name}", 0.6 * done / n_members)
                entry.notes.extend(part.entry_notes)
                if part.kind == "street":
                    n_street += 1
                    street.append((s.pidx, part, m, s.single))
                elif part.kind == "outcomes":
                    n_outcomes += 1
                    outcomes.append(part)
            if n_street == 0:
                raw = str(s.path)
                if s.single and n_outcomes:
                    raise SourceError(raw, "holds police.uk outcomes, not street-level crimes",
                                      "give the matching -street.csv file; outcomes files "
                                      "beside it are joined automatically")
                raise SourceError(raw, "holds no police.uk street-level crime CSV",
                                  "point at a YYYY-MM-<force>-street.csv file, the folder "
                                  "holding them, or the zip downloaded from data.police.uk")
            entry.notes.append(f"read {n_street} street file(s)"
                               + (f" and {n_outcomes} outcomes file(s)" if n_outcomes else ""))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    report["parts_reused"], report["parts_built"] = reused, built
    secs["parse"] = time.perf_counter() - t

    # Read counts and the files' own notes, in file order (as read_police_uk does).
    all_cols: list[str] = []
    for pidx, part, *_ in street:
        entries[pidx].read += part.read
        entries[pidx].notes.extend(f"{part.name}: {n}" for n in part.table_notes)
        for c in part.columns:
            if c not in all_cols:
                all_cols.append(c)
    view_cols = [c for c in all_cols if c in policeuk._INTERNAL_TO_HEADER]
    view_cols += [c for c in policeuk.INTERNAL_COLUMNS if c not in view_cols]

    # Duplicates: the same Crime ID again in the same month among accepted rows; first kept.
    t = time.perf_counter()
    say("Finding repeated crimes", 0.62)
    dup_rows = _duplicates(street)
    secs["duplicates"] = time.perf_counter() - t

    # Ledger: the reader's quarantine per path, reason by reason, then malformed rows.
    t = time.perf_counter()
    _reader_quarantine(street, dup_rows, entries, view_cols, fast)
    for pidx, part, *_ in street:
        entries[pidx].accepted += part.n_good - len(dup_rows.get(id(part), ()))
    secs["ledger"] = time.perf_counter() - t

    # Outcomes: latest Outcome type per Crime ID.
    oc = _latest_outcomes(outcomes) if outcomes else None
    joined = [0] * len(entries)

    # Areas: assign_areas decides each row from its (lsoa_given, easting, northing) alone, and
    # police.uk rows sit on a limited set of map points, so it runs once per distinct triple.
    t = time.perf_counter()
    keyed = temps = None
    if areas is not None:
        say("Assigning areas", 0.64)
        keyed = _assign_keys(street, areas)
        if keyed is None:  # assign_areas left notes: run it on the rows themselves
            temps = [SourceLedger(kind="crimes", path=e.path) for e in entries]
            report["assign"] = "per row"
        else:
            report["assign"] = f"per distinct (code, point): {keyed.height:,}"
    secs["assign_keys"] = time.perf_counter() - t

    # Convert and write, a batch of files at a time; one row group per file.
    t = time.perf_counter()
    rdir.mkdir(parents=True, exist_ok=True)
    inc_path = rdir / "incidents.parquet"
    tmp = _tmp_path(inc_path)
    writer = None
    n_out = 0
    outside: list[pl.DataFrame] = []
    # Parquet encoding (which releases the GIL) overlaps the next batch's conversion.
    wpool = ThreadPoolExecutor(max_workers=1)
    pending = None
    try:
        batches = _batches(street)
        for bi, batch in enumerate(batches):
            say("Converting and writing", 0.66 + 0.3 * bi / max(len(batches), 1))
            t1 = time.perf_counter()
            frame, counts = _batch_frame(batch, dup_rows, oc)
            for pidx, n in counts.items():
                joined[pidx] += n
            t2 = time.perf_counter()
            if keyed is not None:
                frame, bad = _apply_keys(frame, keyed)
                if bad.height:
                    outside.append(bad)
            elif temps is not None:
                from geodata.areas import assign_areas

                frame = assign_areas(frame, areas, temps)
            t3 = time.perf_counter()
            if pending is not None:
                writer = pending.result()
            pending = wpool.submit(_write_row_groups, frame, tmp, writer)
            if writer is None:  # the first batch opens the file: wait for it
                writer = pending.result()
                pending = None
            n_out += frame.height
            t4 = time.perf_counter()
            for k, v in (("frames", t2 - t1), ("areas", t3 - t2), ("parquet wait", t4 - t3)):
                secs[f"  write.{k}"] = secs.get(f"  write.{k}", 0.0) + v
        if pending is not None:
            writer = pending.result()
            pending = None
        if writer is None:
            writer = _write_row_groups(conform(pl.DataFrame(), INCIDENT_SCHEMA), tmp, None)
        writer.close()
        writer = None
        os.replace(tmp, inc_path)
    except BaseException as exc:
        if pending is not None:
            try:
                writer = pending.result()
            except BaseException:  # noqa: BLE001 - the first error is the one to raise
                pass
        if writer is not None:
            try:
                writer.close()
            except Exception:  # noqa: BLE001 - closing on a full disk fails too; the first error counts
                pass
        tmp.unlink(missing_ok=True)
        raise_write_error(exc, inc_path)
        raise
    finally:
        wpool.shutdown(wait=True)
    secs["convert_write"] = time.perf_counter() - t
    if oc is not None:
        for pidx, entry in enumerate(entries):
            entry.notes.append(
                f"latest outcome joined from outcomes files for {joined[pidx]} crime(s)")
    if outside:
        _charge(entries, pl.concat(outside, how="vertical"))
    if temps is not None:
        _merge_assignment(entries, temps, [p.name for _, p, *_ in street])

    t = time.perf_counter()
    _save(rdir, inc_path, n_out, entries, key_info, prints)
    for entry in entries:
        ledger.add(entry)
    secs["save"] = time.perf_counter() - t
    return pl.scan_parquet(inc_path) if lazy else pl.read_parquet(inc_path)


def _save(rdir: Path, inc_path: Path, n_out: int, entries, key_info, prints) -> None:
    """Write the ledger and the manifest (last: it is what makes the entry valid)."""
    files = {"incidents": {"name": inc_path.name, "rows": n_out,
                           "check": _content_check(inc_path)}}
    led = []
    for i, entry in enumerate(entries):
        entry.check()
        led.append({"kind": entry.kind, "path": entry.path, "read": entry.read,
                    "accepted": entry.accepted, "quarantined": entry.quarantined,
                    "notes": entry.notes})
        if entry.rows is not None:
            name = f"quarantine-{i}.parquet"
            files[f"quarantine-{i}"] = {"name": name, "rows": entry.rows.height,
                                        "check": _write_parquet(entry.rows, rdir / name)}
    _write_json({**key_info, "members": prints, "files": files, "ledger": led,
                 "built": time.strftime("%Y-%m-%dT%H:%M:%S")}, rdir / "manifest.json")


def _build_exact(paths, prints, areas, rdir, key_info, ledger, lazy, say, report):
    """The uncached path itself (read_police_uk, assign_areas), saved as a cache entry."""
    from geodata.areas import assign_areas
    from geodata.policeuk import read_police_uk

    t = time.perf_counter()
    say("Reading police.uk files", 0.1)
    tmp_ledger = Ledger()
    frame = read_police_uk(paths, ledger=tmp_ledger)
    entries = list(tmp_ledger.sources)
    if areas is not None:
        say("Assigning areas", 0.6)
        frame = assign_areas(frame, areas, entries)
    report["seconds"]["exact_read_assign"] = time.perf_counter() - t
    t = time.perf_counter()
    rdir.mkdir(parents=True, exist_ok=True)
    inc_path = rdir / "incidents.parquet"
    tmp = _tmp_path(inc_path)
    try:
        writer = _write_row_groups(frame, tmp, None)
        writer.close()
        os.replace(tmp, inc_path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        raise_write_error(exc, inc_path)
        raise
    _save(rdir, inc_path, frame.height, entries, key_info, prints)
    for entry in entries:
        ledger.add(entry)
    report["seconds"]["save"] = time.perf_counter() - t
    return frame.lazy() if lazy else frame


def _duplicates(street) -> dict[int, np.ndarray]:
    """Positions (within each part's accepted rows) of repeated (Crime ID, month) pairs.

    Candidates are found on (64-bit hash, month), then confirmed on the Crime ID text in
    file order, so a hash collision can never drop a row.
    """
    if not street:
        return {}
    frames = [
        pl.scan_parquet(part.path("good")).select("_hm")
        .with_row_index("_r").with_columns(pl.lit(i, dtype=pl.Int32).alias("_p"))
        for i, (_, part, *_) in enumerate(street)
    ]
    keys = pl.concat(frames, how="vertical").filter(pl.col("_hm").is_not_null())
    cand = keys.filter(pl.col("_hm").is_duplicated()).select("_p", "_r").collect()
    out: dict[int, np.ndarray] = {}
    if cand.height == 0:
        return out
    texts = []
    for (p,), grp in cand.group_by(["_p"], maintain_order=True):
        rows = grp["_r"]
        cid = pl.read_parquet(street[p][1].path("good"), columns=["_cid", "_month"])
        texts.append(cid[rows.to_numpy()].with_columns(pl.lit(p, dtype=pl.Int32).alias("_p"),
                                                     rows.alias("_r")))
    exact = pl.concat(texts).sort(["_p", "_r"])
    dups = exact.filter(~pl.struct("_cid", "_month").is_first_distinct())
    for (p,), grp in dups.group_by(["_p"], maintain_order=True):
        out[id(street[p][1])] = np.sort(grp["_r"].to_numpy())
    return out


def _reader_quarantine(street, dup_rows, entries, view_cols, fast) -> None:
    by_path: dict[int, dict[str, list[pl.DataFrame]]] = {}
    malformed: list[tuple[int, pl.DataFrame]] = []
    for pidx, part, m, single in street:
        name = part.name
        if part.path("bad") is not None:
            bad = pl.read_parquet(part.path("bad"))
            for (reason,), grp in bad.group_by(["_reason"], maintain_order=True):
                by_path.setdefault(pidx, {}).setdefault(reason, []).append(
                    _view(grp.drop("_reason"), name, view_cols))
        rows = dup_rows.get(id(part))
        if rows is not None and len(rows):
            by_path.setdefault(pidx, {}).setdefault("duplicate id", []).append(
                _view(_dup_raw_rows(m, part, single, rows, fast), name, view_cols))
        if part.path("malformed") is not None:
            malformed.append((pidx, pl.read_parquet(part.path("malformed"))))
    for pidx, entry in enumerate(entries):
        reasons = by_path.get(pidx, {})
        for reason in sorted(reasons):
            rows = pl.concat(reasons[reason], how="vertical")
            entry.quarantine(policeuk._quarantine_view(rows), reason)
    for pidx, frame in malformed:
        entries[pidx].quarantine(frame, "malformed row")


def _view(raw: pl.DataFrame, name: str, view_cols: list[str]) -> pl.DataFrame:
    """Rows in the column layout of the reader's concatenated frame (absent columns null)."""
    cols = [pl.lit(name, dtype=pl.Utf8).alias("source_file"), pl.col("source_row")]
    cols += [pl.col(c) if c in raw.columns else pl.lit(None, dtype=pl.Utf8).alias(c)
             for c in view_cols]
    return raw.select(cols)


def _dup_raw_rows(m, part: _Part, single: bool, positions: np.ndarray, fast: bool
                  ) -> pl.DataFrame:
    """Original text of accepted rows `positions` of a part. Parts keep no text for accepted
    rows; duplicates are rare, so their lines are read again (the file is known unchanged):
    straight from their byte offsets for files read fast, else by parsing the file again."""
    if part.fast:
        good = pl.read_parquet(part.path("good"), columns=["source_row", "_offset"])[positions]
        offsets = good["_offset"].to_list()
        path = Path(m.name)
        lines = []
        if path.is_file():
            with open(path, "rb") as fh:
                for off in offsets:
                    fh.seek(off)
                    lines.append(fh.readline())
        else:
            data = m.read()
            for off in offsets:
                end = data.find(b"\n", off)
                lines.append(data[off:] if end < 0 else data[off:end + 1])
        cols = list(zip(*[fastscan.line_fields(x) for x in lines]))
        frame = pl.DataFrame({"source_row": good["source_row"]})
        return frame.with_columns(pl.Series(c, cols[i], dtype=pl.Utf8)
                                  for i, c in enumerate(part.header))
    _, (tbl, _) = _parse_member(m, single, fast=False)
    checked = policeuk._check_table(tbl, decimal_comma=tbl.sep != ",")
    good = checked.filter(pl.col("_reason").is_null())
    raw = [c for c in checked.columns if c in policeuk._INTERNAL_TO_HEADER]
    return good.select("source_row", *raw)[positions]


def _latest_outcomes(parts: list[_Part]) -> pl.DataFrame:
    oc = pl.concat([pl.read_parquet(p.path("outcomes")) for p in parts]).with_row_index("_order")
    oc = oc.filter(pl.col("_ocid").is_not_null() & (pl.col("_ocid") != "")
                   & pl.col("_outcome").is_not_null() & (pl.col("_outcome") != ""))
    return (
        oc.sort(["_om", "_order"], nulls_last=False)
        .group_by("_ocid", maintain_order=True)
        .agg(pl.col("_outcome").last())
    )


def _batches(street) -> list[list]:
    out, cur, rows = [], [], 0
    for item in street:
        cur.append(item)
        rows += item[1].n_good
        if rows >= _BATCH_ROWS:
            out.append(cur)
            cur, rows = [], 0
    if cur:
        out.append(cur)
    return out


_BATCH_COLUMNS = ["source_row", "_cid", "_month", "force", "location", "location_type",
                  "lsoa_given", "crime_type", "_outcome0", "easting", "northing"]


def _batch_frame(batch, dup_rows, oc) -> tuple[pl.DataFrame, dict[int, int]]:
    """The INCIDENT_SCHEMA rows of a batch of files (duplicates dropped, outcomes joined)."""
    frames = []
    for pidx, part, *_ in batch:
        g = pl.read_parquet(part.path("good"), columns=_BATCH_COLUMNS)
        rows = dup_rows.get(id(part))
        if rows is not None and len(rows):
            keep = np.ones(g.height, dtype=bool)
            keep[rows] = False
            g = g.filter(pl.Series(keep))
        frames.append(g.with_columns(pl.lit(part.name, dtype=pl.Utf8).alias("source_file"),
                                     pl.lit(pidx, dtype=pl.Int32).alias("_path")))
    good = pl.concat(frames, how="vertical")
    counts: dict[int, int] = {}
    outcome = pl.col("_outcome0")
    if oc is not None:
        good = good.join(oc, left_on="_cid", right_on="_ocid", how="left",
                         maintain_order="left")
        per = good.filter(pl.col("_outcome").is_not_null()).group_by("_path").len()
        counts = dict(zip(per["_path"].to_list(), per["len"].to_list()))
        outcome = pl.coalesce(pl.col("_outcome"), pl.col("_outcome0"))
    out = good.with_columns(
        pl.lit(policeuk.SOURCE).alias("source"),
        pl.col("_cid").alias("incident_id"),
        pl.col("_month").alias("month"),
        outcome.alias("outcome"),
    )
    return conform(out, INCIDENT_SCHEMA), counts


_DICTIONARY_COLUMNS = ("source", "source_file", "force", "location", "location_type",
                       "lsoa_given", "lsoa_code", "crime_type", "outcome", "offence_code",
                       "offence_desc")


def _write_row_groups(frame: pl.DataFrame, path: Path, writer):
    """Append frame to the Parquet file, one row group per source file (consecutive runs)."""
    table = frame.to_arrow()
    if writer is None:
        # Dictionary pages only where values repeat (IDs and coordinates would only waste the
        # attempt); statistics everywhere, for row-group pruning on any column.
        low = [c for c in _DICTIONARY_COLUMNS if c in table.schema.names]
        writer = pq.ParquetWriter(path, table.schema, compression="lz4", use_dictionary=low,
                                  write_statistics=True)
    if frame.height == 0:
        writer.write_table(table)
        return writer
    sf = frame["source_file"]
    change = np.flatnonzero((sf != sf.shift(1)).fill_null(True).to_numpy())
    bounds = list(change) + [frame.height]
    for a, b in zip(bounds[:-1], bounds[1:]):
        writer.write_table(table.slice(a, b - a), row_group_size=b - a)
    return writer


_KEY = ["lsoa_given", "easting", "northing"]
_KEYS_FILE = "svtui-area-keys"


def _assign_keys(street, areas) -> pl.DataFrame | None:
    """assign_areas' verdict for every distinct (lsoa_given, easting, northing) of the parts:
    columns _KEY, `_lsoa` (the code) and `_why` (the quarantine reason). None when
    assign_areas wrote notes (they count rows, so it must see the rows themselves)."""
    from geodata.areas import assign_areas

    if not street:
        return None
    keys = pl.concat([pl.scan_parquet(part.path("good")).select(_KEY)
                      for _, part, *_ in street], how="vertical").unique().collect()
    kf = keys.with_row_index("_k").with_columns(pl.lit(_KEYS_FILE).alias("source_file"))
    probe = SourceLedger(kind="crimes", path=_KEYS_FILE)
    acc = assign_areas(kf, areas, [probe])
    if probe.notes:
        return None
    table = kf.select("_k", *_KEY).join(
        acc.select("_k", pl.col("lsoa_code").alias("_lsoa")), on="_k", how="left")
    if probe.rows is not None and probe.rows.height:
        why = probe.rows.select(pl.col("_k").cast(pl.UInt32), pl.col("reason").alias("_why"))
        table = table.join(why, on="_k", how="left")
    else:
        table = table.with_columns(pl.lit(None, dtype=pl.Utf8).alias("_why"))
    # Every key is either assigned or quarantined, never both, never neither.
    if table.filter(pl.col("_lsoa").is_null() == pl.col("_why").is_null()).height:
        return None
    table = table.drop("_k").with_columns(_key_hash())
    if table["_kh"].n_unique() != table.height:  # a collision: join on the values instead
        table = table.drop("_kh")
    return table


def _key_hash() -> pl.Expr:
    return pl.struct(_KEY).hash(seed=_HASH_SEED).alias("_kh")


def _apply_keys(frame: pl.DataFrame, keyed: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(assigned rows with lsoa_code, quarantined rows with `reason`) of a batch.

    Every row's triple is among the keys; when the keys' hashes are distinct (checked once),
    joining on the hash is joining on the triple."""
    cols = frame.columns
    if "_kh" in keyed.columns:
        j = frame.with_columns(_key_hash()).join(
            keyed.select("_kh", "_lsoa", "_why"), on="_kh", how="left", maintain_order="left")
    else:
        j = frame.join(keyed, on=_KEY, how="left", maintain_order="left", nulls_equal=True)
    good = j.filter(pl.col("_why").is_null()).with_columns(
        pl.col("_lsoa").alias("lsoa_code")).select(cols)
    bad = j.filter(pl.col("_why").is_not_null()).select(*cols, pl.col("_why").alias("reason"))
    return good, bad


def _charge(entries, bad: pl.DataFrame) -> None:
    """Quarantine rows as assign_areas does: files in sorted order, then reasons sorted."""
    from geodata.areas import _entries_for

    files = sorted(bad["source_file"].unique().to_list())
    owners = _entries_for(entries, files)
    for f in files:
        owner = owners.get(f)
        if owner is None:
            continue
        mine = bad.filter(pl.col("source_file") == f)
        for r in sorted(mine["reason"].unique().to_list()):
            owner.move_to_quarantine(mine.filter(pl.col("reason") == r).drop("reason"), r)


def _merge_assignment(entries, temps, files: list[str]) -> None:
    """Move what assign_areas charged to the per-batch entries onto the real ones, in the
    order one call over all rows would have produced (files sorted, then reasons sorted)."""
    for entry, temp in zip(entries, temps):
        if temp.rows is not None and temp.rows.height:
            rows = temp.rows.sort(["source_file", "reason"], maintain_order=True)
            entry.accepted -= rows.height
            for reason, n in temp.quarantined.items():
                entry.quarantined[reason] = entry.quarantined.get(reason, 0) + n
            entry.rows = rows if entry.rows is None else pl.concat([entry.rows, rows],
                                                                    how="diagonal")
        if temp.notes:
            by_len = sorted(files, key=len, reverse=True)

            def owner(note: str) -> str:
                return next((f for f in by_len if note.startswith(f + ": ")), note)

            entry.notes.extend(sorted(temp.notes, key=owner))
