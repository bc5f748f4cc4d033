"""A columnar workspace cache for police.uk street data: read once, open again in seconds.

`cached_police_uk(paths, areas, cache_dir=None, ledger=None)` gives exactly what the uncached
path gives, `read_police_uk(paths, ledger)` followed by `assign_areas(incidents, areas,
entries)`: the same INCIDENT_SCHEMA frame (same rows, order and values) and the same ledger
(read, accepted, quarantined by reason, the quarantined rows and the notes). The first call
builds the cache; later calls check it is still current and read it back from Parquet.

Two levels, both under the cache folder (`$SVTUI_CACHE`, else `$XDG_CACHE_HOME/svtui`, else
`~/.cache/svtui`), in `policeuk-v<N>/`:

* `parts/`: one entry per CSV (file or zip member): its checked rows in result form (the
  INCIDENT_SCHEMA rows of that file alone, plus the two repeat keys; Parquet), its quarantined
  rows with their original text, its notes and row counts. A part depends on that file alone,
  so when next month's files arrive only they are parsed.
* `results/`: one entry per (paths, areas): the rows, the quarantined rows of each ledger
  entry, and `manifest.json` with the ledger, the fingerprints it was built from and the row
  files in order. A file whose rows the result takes unchanged (no areas, no outcomes files,
  no repeats in it) is stored once: the manifest lists its part's file, checked like any other.
  Other rows are written as `incidents-NNNN.parquet` (one file per batch of about 400,000
  rows, written two at a time). Every row file has one row group per source file, so a filter
  on `force` or `month` skips the other files' row groups; extra columns are not scanned.
  `svtui check` scans these files lazily (`load_study(..., lazy=True)`), so a reopen reads
  only the columns it counts; other commands read them into one frame.

Files are Parquet with zstd at level 1 (about half the size of lz4 for the same time).

Staleness. Every source file is fingerprinted by size, modification time and a BLAKE2 hash of
its first and last 64 KiB; the set of files under each path is enumerated again on every
call (a new or removed month is a change). Areas are fingerprinted by their LSOA codes,
geometries and 2011 -> 2021 lookup. The reader version (a hash of the reader modules' source,
the Polars version and `CACHE_FORMAT`) is part of every key, so changing the reader discards
old entries. Cache files are checked by size, head/tail hash and Parquet footer before use; a
missing, truncated or corrupt file is rebuilt, never trusted and never fatal. Writes go to a
temporary name then `os.replace`, and the manifest is written last, so a crash mid-build
leaves nothing that looks valid.

One reader. Each CSV is read by `geodata.policeuk.read_file` (the same per-file reader the
uncached path calls) and its result stored as a part; the order of work over the parts
(`collect_parts`, `find_duplicates`, `reader_quarantine`, `finish_rows`) is the reader's own,
run on parts loaded from Parquet instead of memory, so there is nothing here to keep in step.

Speed. `assign_areas` runs once per distinct (LSOA code, point) rather than per row (police.uk snaps
crimes to a limited set of map points); rows are converted and written one batch of files at
a time, so memory stays near one batch plus the keys, not the size of the text.
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

from geodata import policeuk
from geodata.atomic import raise_write_error
from geodata.crs import lonlat_to_bng
from geodata.errors import SourceError
from geodata.ledger import Ledger, SourceLedger
from geodata.schema import INCIDENT_SCHEMA, conform

CACHE_FORMAT = 4
_HEADTAIL = 64 * 1024
_BATCH_ROWS = 400_000  # rows converted, area-assigned and written (one file) at a time
_WRITERS = 2  # batches encoded to Parquet at once
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
    codes = [str(c) for c in areas.codes.to_list()]
    h.update("\x1f".join(codes).encode())
    for wkb in shapely.to_wkb(areas.geometry):
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
        df.write_parquet(tmp, compression="zstd", compression_level=1, statistics=False)
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
    """One CSV of a path, as cached: `policeuk.FileRead` with its frames in Parquet files."""

    name: str
    kind: str  # "street", "outcomes" or "skipped"
    entry_notes: list[str] = field(default_factory=list)
    table_notes: list[str] = field(default_factory=list)  # the table's own notes
    read: int = 0
    n_good: int = 0
    columns: list[str] = field(default_factory=list)  # raw columns, in the reader's order
    files: dict = field(default_factory=dict)  # role -> {"path", "check", "rows"}
    header: list[str] = field(default_factory=list)  # internal names, when read fast
    fast: bool = False  # split by Polars: row r is line r of the file
    digest: str = ""
    built: bool = False

    def path(self, role: str) -> Path | None:
        f = self.files.get(role)
        return Path(f["path"]) if f else None

    def load(self, role: str, columns=None) -> pl.DataFrame | None:
        p = self.path(role)
        if p is None:
            return None
        if role != "good" or columns is None:
            return pl.read_parquet(p, columns=columns)
        # The good rows are stored in result form (see `_good_rows`): the reader's names are
        # read from the result's columns.
        stored = [_GOOD_AS.get(c, c) for c in columns]
        return pl.read_parquet(p, columns=stored).rename(
            {s: c for s, c in zip(stored, columns) if s != c})

    def to_meta(self) -> dict:
        return {k: getattr(self, k) for k in
                ("name", "kind", "entry_notes", "table_notes", "read", "n_good", "columns",
                 "files", "header", "fast", "digest")}


def _build_part(m, single: bool, fp: dict, parts_dir: Path, key: str, fast: bool) -> _Part:
    """Read one CSV with the reader (`policeuk.read_file`) and store what it found."""
    got = policeuk.read_file(m, single, fast=fast)
    part = _Part(name=got.name, kind=got.kind, entry_notes=got.entry_notes,
                 table_notes=got.table_notes, read=got.read, n_good=got.n_good,
                 columns=got.columns, header=got.header, fast=got.fast, digest=got.digest,
                 built=True)
    for role, frame in got.frames.items():
        if role not in ("good", "outcomes") and frame.height == 0:
            continue
        path = parts_dir / f"{key}.{role}.parquet"
        if role == "good":
            check = _write_rows(_good_rows(got), path)
        else:
            check = _write_parquet(frame, path)
        part.files[role] = {"path": str(path), "rows": frame.height, "check": check}
    meta = {"version": reader_version(), "fingerprint": fp, "single": single,
            "part": part.to_meta()}
    _write_json(meta, parts_dir / f"{key}.json")
    return part


# A part's accepted rows are stored once, in result form: the INCIDENT_SCHEMA rows
# `policeuk.finish_rows` makes of that file alone (no repeats dropped, no outcomes joined, no
# areas), then the two repeat keys. Where none of those changes a file's rows (no repeats in
# it, no outcomes files, no areas), the result lists the part's file instead of writing its
# rows again; a result scans only the INCIDENT_SCHEMA columns.
_GOOD_AS = {"_cid": "incident_id", "_month": "month", "_outcome0": "outcome"}


def _good_rows(got) -> pl.DataFrame:
    frame, _ = policeuk.finish_rows([(0, got, None, False)], {}, None)
    return frame.hstack(got.frames["good"].select("_hm", "_rh").get_columns())


def _write_rows(frame: pl.DataFrame, path: Path) -> dict:
    """`_write_file` to a temporary name, then into place; the content check of the file."""
    tmp = _tmp_path(path)
    try:
        _write_file(frame, tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        raise_write_error(exc, path)
        raise
    return _content_check(path)


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


def _enumerate(paths) -> tuple[list, list[list]]:
    """The members of every path and their fingerprints (raises like read_police_uk)."""
    sources = policeuk.list_sources(paths)
    prints = []
    fps: dict[str, dict] = {}
    for src in sources:
        for m in src.members:
            cont = str(_container(m.name))
            if cont not in fps:
                fps[cont] = fingerprint(cont)
            prints.append([src.pidx, m.name, fps[cont]])
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
        rows = sorted((k for k in files if k.startswith("incidents-")),
                      key=lambda k: int(k.split("-", 1)[1]))
        if not rows:
            raise KeyError("incidents")
        frame = _open_rows([rdir / files[k]["name"] for k in rows], lazy)
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
    frame = _build(sources, prints, areas, root, rdir, key_info, ledger, lazy, fast, say,
                   report, workers)
    secs["total"] = time.perf_counter() - t0
    return frame


def _build(sources, prints, areas, root, rdir, key_info, ledger, lazy, fast, say, report,
           workers=1):
    secs = report["seconds"]
    t = time.perf_counter()
    parts_dir = root / "parts"
    parts_dir.mkdir(parents=True, exist_ok=True)
    fp_of = {(p, n): f for p, n, f in prints}
    entries = [SourceLedger(kind="crimes", path=str(s.path), notes=list(s.notes))
               for s in sources]
    counter = {"reused": 0, "built": 0, "done": 0}
    n_members = sum(len(s.members) for s in sources) or 1
    lock = threading.Lock()

    def resolve(s, m) -> _Part:
        fp = fp_of[(s.pidx, m.name)]
        pkey = _hash("part", m.name, s.single)
        part = _load_part(m, s.single, fp, parts_dir, pkey)
        was_built = part is None
        if was_built:
            part = _build_part(m, s.single, fp, parts_dir, pkey, fast)
        with lock:
            counter["built" if was_built else "reused"] += 1
            counter["done"] += 1
            say(f"Reading {Path(m.name).name}", 0.6 * counter["done"] / n_members)
        return part

    # The reader's own order of work (policeuk.collect_parts ... finish_rows), on parts kept
    # in Parquet instead of memory.
    street, outcomes = policeuk.collect_parts(sources, entries, resolve, workers)
    report["parts_reused"], report["parts_built"] = counter["reused"], counter["built"]
    secs["parse"] = time.perf_counter() - t
    view_cols = policeuk.account_reads(street, entries)

    t = time.perf_counter()
    say("Finding repeated crimes", 0.62)
    dup_rows = policeuk.find_duplicates(street)
    secs["duplicates"] = time.perf_counter() - t

    t = time.perf_counter()
    policeuk.reader_quarantine(street, dup_rows, entries, view_cols)
    secs["ledger"] = time.perf_counter() - t

    # Outcomes: latest Outcome type per Crime ID.
    oc = (policeuk.latest_outcomes([p.load("outcomes") for p in outcomes])
          if outcomes else None)
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

    # Convert and write, a batch of files at a time: one Parquet file per batch, one row group
    # per source file. Parquet encoding (which releases the GIL) runs on `_WRITERS` threads
    # while the next batch is converted; at most that many batches wait, so memory stays
    # near a few batches.
    t = time.perf_counter()
    rdir.mkdir(parents=True, exist_ok=True)
    for old in rdir.glob("incidents*.parquet"):  # a previous build's files (never trusted)
        old.unlink(missing_ok=True)
    written: list[tuple[Path, int]] = []
    tmps: list[tuple[Path, Path]] = []  # (temporary name, final name)
    n_out = 0
    outside: list[pl.DataFrame] = []
    wpool = ThreadPoolExecutor(max_workers=_WRITERS)
    pending: list = []
    try:
        # A file whose rows the result takes as they are (no areas, no outcomes files, no
        # repeats in it) is not written again: the result lists its part's file.
        as_is = areas is None and oc is None
        batches = _batches(street, lambda part: as_is and not dup_rows.get(id(part)))
        bi = 0
        for ui, batch in enumerate(batches):
            say("Converting and writing", 0.66 + 0.3 * ui / max(len(batches), 1))
            if isinstance(batch, _Part):
                written.append((batch.path("good"), batch.files["good"]["rows"]))
                n_out += batch.files["good"]["rows"]
                continue
            t1 = time.perf_counter()
            frame, counts = policeuk.finish_rows(batch, dup_rows, oc)
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
            while len(pending) >= _WRITERS:
                pending.pop(0).result()
            path = rdir / f"incidents-{bi:04d}.parquet"
            bi += 1
            tmp = _tmp_path(path)
            tmps.append((tmp, path))
            written.append((path, frame.height))
            pending.append(wpool.submit(_write_file, frame, tmp))
            n_out += frame.height
            t4 = time.perf_counter()
            for k, v in (("frames", t2 - t1), ("areas", t3 - t2), ("parquet wait", t4 - t3)):
                secs[f"  write.{k}"] = secs.get(f"  write.{k}", 0.0) + v
        if not written:  # no rows at all: one empty file keeps the schema
            path = rdir / "incidents-0000.parquet"
            tmp = _tmp_path(path)
            tmps.append((tmp, path))
            written.append((path, 0))
            pending.append(wpool.submit(_write_file, conform(pl.DataFrame(), INCIDENT_SCHEMA), tmp))
        while pending:
            pending.pop(0).result()
        for tmp, path in tmps:
            os.replace(tmp, path)
    except BaseException as exc:
        for fut in pending:
            try:
                fut.result()
            except BaseException:  # noqa: BLE001 - the first error is the one to raise
                pass
        for tmp, path in tmps:  # (never a part's file the result only lists)
            tmp.unlink(missing_ok=True)
            path.unlink(missing_ok=True)
        raise_write_error(exc, written[-1][0] if written else rdir / "incidents.parquet")
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
    _save(rdir, written, entries, key_info, prints)
    for entry in entries:
        ledger.add(entry)
    secs["save"] = time.perf_counter() - t
    return _open_rows([p for p, _ in written], lazy)


def _open_rows(paths: list[Path], lazy: bool):
    """The cached rows: a LazyFrame scanning the files, or one DataFrame."""
    paths = [str(p) for p in paths]
    lf = pl.scan_parquet(paths, schema=INCIDENT_SCHEMA, extra_columns="ignore")
    return lf if lazy else lf.collect()


def _save(rdir: Path, written: list[tuple[Path, int]], entries, key_info, prints) -> None:
    """Write the ledger and the manifest (last: it is what makes the entry valid)."""
    # A part's file the result lists is named by its whole path (`rdir / path` is `path`).
    files = {f"incidents-{i}": {"name": p.name if p.parent == rdir else str(p), "rows": n,
                                "check": _content_check(p)}
             for i, (p, n) in enumerate(written)}
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


def _batches(street, as_is=lambda part: False) -> list:
    """Street parts in order, in batches of about `_BATCH_ROWS` rows to convert and write;
    a part for which `as_is(part)` holds stands alone, as itself (its file is listed)."""
    out, cur, rows = [], [], 0
    for item in street:
        if as_is(item[1]):
            if cur:
                out.append(cur)
                cur, rows = [], 0
            out.append(item[1])
            continue
        cur.append(item)
        rows += item[1].n_good
        if rows >= _BATCH_ROWS:
            out.append(cur)
            cur, rows = [], 0
    if cur:
        out.append(cur)
    return out


_DICTIONARY_COLUMNS = ("source", "source_file", "force", "location", "location_type",
                       "lsoa_given", "lsoa_code", "crime_type", "outcome", "offence_code",
                       "offence_desc")

_NO_STATISTICS = ("incident_id", "source_row", "_hm", "_rh")


def _write_file(frame: pl.DataFrame, path: Path) -> None:
    """Write frame as one Parquet file, one row group per source file (consecutive runs):
    zstd at level 1 (about half lz4's size for the same time), dictionary pages only where
    values repeat (IDs and coordinates would only waste the attempt), statistics for
    row-group pruning (`month`, `force`, `source_file`, ...) on every column but the
    row-unique ones (IDs, row numbers, hashes), whose min/max skip nothing and cost time."""
    table = frame.to_arrow()
    low = [c for c in _DICTIONARY_COLUMNS if c in table.schema.names]
    stats = [c for c in table.schema.names if c not in _NO_STATISTICS]
    writer = pq.ParquetWriter(path, table.schema, compression="zstd", compression_level=1,
                              use_dictionary=low, write_statistics=stats)
    try:
        if frame.height == 0:
            writer.write_table(table)
            return
        sf = frame["source_file"]
        change = np.flatnonzero((sf != sf.shift(1)).fill_null(True).to_numpy())
        bounds = list(change) + [frame.height]
        for a, b in zip(bounds[:-1], bounds[1:]):
            writer.write_table(table.slice(a, b - a), row_group_size=b - a)
    finally:
        writer.close()


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
    return pl.struct(_KEY).hash(seed=policeuk._HASH_SEED).alias("_kh")


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
