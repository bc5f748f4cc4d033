"""A study: the named set of sources an analysis runs on, loaded into canonical frames.

A study comes from a `study.toml`, from ad-hoc command-line paths, or (with neither) from the
embedded SYNTHETIC sample study. Loading reads every source through its reader, puts everything
in BNG metres, assigns areas and keeps the ledger. It knows nothing of hotspots or screens.
"""
from __future__ import annotations

import os
import time
import tomllib
from datetime import date
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import polars as pl

from geodata.errors import SourceError
from geodata.ledger import Ledger, SourceLedger
from geodata.schema import AE_SCHEMA, INCIDENT_SCHEMA, VENUE_SCHEMA, empty_frame

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_data" / "study"

Progress = Callable[[str, float], None]


@dataclass
class StudySpec:
    """What a study is made of. Paths are absolute once resolved."""

    name: str = "Ad-hoc study"
    synthetic: bool = False
    crimes: list[Path] = field(default_factory=list)
    ae: list[Path] = field(default_factory=list)
    areas: Path | None = None
    lookups: list[Path] = field(default_factory=list)
    indicators: list[Path] = field(default_factory=list)
    venues: Path | None = None
    interventions: Path | None = None
    definition: str | None = None
    origin: str = "flags"
    # [settings] beyond the definition; None = the engine's documented default
    area_share: float | None = None  # percent of the study area the hotspot localities cover
    max_localities: int | None = None
    cell_size: float | None = None
    workspace: Path | None = None  # see geodata.workspace
    places: Path | None = None  # the partnership's own places to review (GeoJSON/GPKG/Shapefile)

    def all_paths(self) -> list[Path]:
        one = [p for p in (self.areas, self.venues, self.interventions) if p is not None]
        return [*self.crimes, *self.ae, *self.lookups, *self.indicators, *one]


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def load_spec(path: str | Path) -> StudySpec:
    """Read a study.toml; paths inside it are relative to the file."""
    path = Path(path)
    if not path.exists():
        raise SourceError(path, "study file not found", "check the path given to --study")
    if not path.is_file():
        raise SourceError(path, "is a folder, not a study file", "give the path of a study.toml")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SourceError(path, f"not valid TOML: {exc}", "fix the line named above") from None
    _check_keys(data, path)
    base = path.parent.resolve()
    study = data.get("study", {})
    src = data.get("sources", {})
    settings = data.get("settings", {})
    synthetic = study.get("synthetic", False)
    if not isinstance(synthetic, bool):
        raise SourceError(path, f"[study] synthetic must be true or false (no quotes), not {synthetic!r}",
                          f"write synthetic = {'true' if str(synthetic).strip().lower() in ('true', 'yes', '1') else 'false'}")
    definition = settings.get("definition")
    if definition is not None and not isinstance(definition, str):
        raise SourceError(path, f"[settings] definition must be a name or a path in quotes, not {definition!r}",
                          'write e.g. definition = "west-mercia"')
    if definition and (definition.endswith(".toml") or "/" in definition or "\\" in definition):
        definition = str((base / Path(definition).expanduser()).resolve())

    def rel(p):
        return (base / str(p)).resolve()

    one = lambda key: rel(src[key]) if src.get(key) else None  # noqa: E731
    return StudySpec(
        name=str(study.get("name", path.stem)),
        synthetic=synthetic,
        crimes=[rel(p) for p in _as_list(src.get("crimes"))],
        ae=[rel(p) for p in _as_list(src.get("ae"))],
        areas=one("areas"),
        lookups=[rel(p) for p in _as_list(src.get("lookups"))],
        indicators=[rel(p) for p in _as_list(src.get("indicators"))],
        venues=one("venues"),
        interventions=one("interventions"),
        definition=definition,  # a path is relative to the study file, like every other path
        area_share=_opt_number(settings, "area_share", path),
        max_localities=_opt_int(settings, "max_localities", path),
        cell_size=_opt_number(settings, "cell_size", path),
        workspace=rel(settings["workspace"]) if settings.get("workspace") else None,
        places=one("places"),
        origin=str(path.resolve()),
    )


# Every table and key a study.toml may hold. A key not listed is a typo ("interventons",
# "[setings]"): it is refused with the closest valid name, never silently ignored.
STUDY_KEYS: dict[str, set[str]] = {
    "study": {"name", "synthetic", "description"},
    "sources": {"crimes", "ae", "areas", "lookups", "indicators", "venues", "interventions", "places"},
    "settings": {"definition", "area_share", "max_localities", "cell_size", "workspace"},
}


def _closest(word: str, choices) -> str:
    import difflib

    near = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.5)
    return f"did you mean {near[0]}?" if near else f"valid: {', '.join(sorted(choices))}"


def _check_keys(data: dict, path: Path) -> None:
    """One clear error for the first unknown table or key, naming the closest valid one."""
    for table, value in data.items():
        if table not in STUDY_KEYS:
            hint = _closest(table, STUDY_KEYS)
            raise SourceError(path, f"unknown table [{table}] ({hint.replace('did you mean ', 'did you mean [').replace('?', ']?')})",
                              "correct the table name; svtui reads [study], [sources] and [settings]")
        if not isinstance(value, dict):
            raise SourceError(path, f"{table} must be a table ([{table}]), not a value",
                              f"write [{table}] on its own line and the keys under it")
        for key in value:
            if key not in STUDY_KEYS[table]:
                hint = _closest(key, STUDY_KEYS[table])
                raise SourceError(path, f"unknown key {key!r} in [{table}] ({hint})",
                                  f"correct the key; [{table}] takes {', '.join(sorted(STUDY_KEYS[table]))}")


def _opt_number(settings: dict, key: str, path: Path) -> float | None:
    value = settings.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SourceError(path, f"[settings] {key} must be a number, not {value!r}", f"write e.g. {key} = 1")
    return float(value)


def _opt_int(settings: dict, key: str, path: Path) -> int | None:
    value = settings.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise SourceError(path, f"[settings] {key} must be a whole number, not {value!r}", f"write e.g. {key} = 10")
    return value


def sample_spec() -> StudySpec:
    """The embedded SYNTHETIC sample study."""
    return load_spec(SAMPLE_DIR / "study.toml")


def spec_from_options(
    study: str | None = None,
    crimes: list[str] | None = None,
    areas: str | None = None,
    lookups: list[str] | None = None,
    indicators: list[str] | None = None,
    venues: str | None = None,
    ae: list[str] | None = None,
    interventions: str | None = None,
    definition: str | None = None,
) -> StudySpec:
    """Combine --study and ad-hoc flags. Flags override the study file; none at all = sample."""
    adhoc = any([crimes, areas, lookups, indicators, venues, ae, interventions])
    if study:
        spec = load_spec(study)
    elif adhoc:
        spec = StudySpec()
    else:
        spec = sample_spec()
    res = lambda p: Path(p).expanduser().resolve()  # noqa: E731
    if crimes:
        spec.crimes = [res(p) for p in crimes]
    if ae:
        spec.ae = [res(p) for p in ae]
    if areas:
        spec.areas = res(areas)
    if lookups:
        spec.lookups = [res(p) for p in lookups]
    if indicators:
        spec.indicators = [res(p) for p in indicators]
    if venues:
        spec.venues = res(venues)
    if interventions:
        spec.interventions = res(interventions)
    if definition:
        spec.definition = definition
    if adhoc and not study:
        names = [p.name for p in spec.crimes] or ["no crimes"]
        spec.name = "Ad-hoc: " + ", ".join(names[:3]) + (" ..." if len(names) > 3 else "")
    return spec


@dataclass
class Study:
    """Everything an analysis needs, in canonical frames (see docs/formats.md)."""

    spec: StudySpec
    incidents: pl.DataFrame
    ae: pl.DataFrame
    venues: pl.DataFrame
    areas: object | None  # geodata.areas.Areas
    indicators: pl.DataFrame
    interventions: list
    ledger: Ledger
    notes: list[str] = field(default_factory=list)
    load_seconds: float = 0.0

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def synthetic(self) -> bool:
        return self.spec.synthetic

    @property
    def months(self) -> tuple[object, object] | None:
        if self.incidents.height == 0:
            return None
        m = self.incidents["month"]
        return m.min(), m.max()

    def has_records(self) -> bool:
        return bool((self.incidents["source"] == "records").any()) if self.incidents.height else False


def _is_police_uk_source(path: Path) -> bool:
    from geodata import records

    if path.is_dir() or path.suffix.lower() == ".zip" or _special(path):
        return True
    return not records.is_records_header(sniff_header(path))


def _special(path: Path) -> bool:
    """A pipe, device or socket: never opened to sniff (opening a FIFO waits for a writer); the
    police.uk reader refuses it in one line."""
    return path.exists() and not path.is_file() and not path.is_dir()


def _read_crimes(path: Path, ledger: Ledger) -> pl.DataFrame:
    """Route a crimes path to the police.uk reader or the record-extract reader by its header."""
    from geodata import policeuk, records

    if path.is_dir() or path.suffix.lower() == ".zip" or _special(path):
        return policeuk.read_police_uk([path], ledger=ledger)
    header = sniff_header(path)
    if records.is_records_header(header):
        return records.read_records(path, ledger=ledger)
    return policeuk.read_police_uk([path], ledger=ledger)


def sniff_header(path: Path) -> list[str]:
    """Column names of a CSV (BOM, cp1252, leading '#' comment lines and ;/tab tolerated)."""
    from geodata.records import read_header

    if not path.exists():
        raise SourceError(path, "file not found", "check the path")
    return read_header(path)


PREPARED_DIR = "prepared"
PREPARED_FORMAT = 1
_PREPARED_FRAMES = ("incidents", "ae", "venues", "indicators")


def prepared_inputs(spec: StudySpec) -> dict[str, str]:
    """What a prepared (columnar) copy of a study was built from: a BLAKE2 hash of every source
    file's bytes, and of the source of the `geodata` readers (a reader change makes it stale)."""
    import hashlib

    files = [*spec.crimes, *spec.ae, spec.areas, *spec.lookups, *spec.indicators, spec.venues,
             spec.interventions]
    out = {}
    for p in files:
        if p is not None:
            out[Path(p).name] = hashlib.blake2b(Path(p).read_bytes(), digest_size=16).hexdigest()
    h = hashlib.blake2b(f"format={PREPARED_FORMAT};polars={pl.__version__}".encode(), digest_size=16)
    for mod in sorted(Path(__file__).resolve().parent.glob("*.py")):
        h.update(mod.name.encode() + mod.read_bytes())
    out["(readers)"] = h.hexdigest()
    out["(settings)"] = repr((spec.name, spec.synthetic, [Path(p).name for p in spec.crimes]))
    return out


def prepared_dir(spec: StudySpec) -> Path | None:
    """`prepared/` beside the study's crime files (the sample ships one), or None."""
    return Path(spec.crimes[0]).parent / PREPARED_DIR if spec.crimes else None


_HERE_MARK = "{study}"


def _rebase(df: pl.DataFrame, old: str, new: str) -> pl.DataFrame:
    """Paths in `source_file` written relative to the study folder (so the copy is the same
    bytes in any checkout) and back."""
    if "source_file" not in df.columns or df.schema["source_file"] != pl.Utf8:
        return df
    return df.with_columns(pl.col("source_file").str.replace(old, new, literal=True))


def _load_prepared(spec: StudySpec, t0: float) -> Study | None:
    """The study from its prepared Parquet copy when that copy's recorded inputs equal the
    current files and readers (else None: read the sources). Same frames, ledger and notes as
    reading the CSVs (tests/test_sample_data.py checks it)."""
    import json

    folder = prepared_dir(spec)
    if folder is None or not (folder / "manifest.json").is_file():
        return None
    try:
        man = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if man.get("inputs") != prepared_inputs(spec):
            return None
        base = str(folder.parent)
        frames = {k: _rebase(pl.read_parquet(folder / f"{k}.parquet"), _HERE_MARK, base)
                  for k in _PREPARED_FRAMES}
        ledger = Ledger()
        for i, e in enumerate(man["ledger"]):
            entry = SourceLedger(kind=e["kind"], path=e["path"].replace(_HERE_MARK, base),
                                 read=e["read"], accepted=e["accepted"],
                                 quarantined=dict(e["quarantined"]),
                                 notes=[n.replace(_HERE_MARK, base) for n in e["notes"]])
            q = folder / f"quarantine-{i}.parquet"
            if q.is_file():
                entry.rows = _rebase(pl.read_parquet(q), _HERE_MARK, base)
            ledger.add(entry)
    except (OSError, ValueError, KeyError, TypeError, AssertionError, pl.exceptions.PolarsError):
        return None
    from geodata import areas as areas_mod
    from geodata import interventions as iv_reader

    areas = areas_mod.build_areas(spec.areas, spec.lookups) if spec.areas is not None else None
    interventions = iv_reader.read_interventions(spec.interventions) if spec.interventions else []
    return Study(spec=spec, incidents=frames["incidents"], ae=frames["ae"], venues=frames["venues"],
                 areas=areas, indicators=frames["indicators"], interventions=interventions,
                 ledger=ledger, notes=[n.replace(_HERE_MARK, base) for n in man["notes"]],
                 load_seconds=time.perf_counter() - t0)


def write_prepared(study: Study, folder: Path) -> Path:
    """Write `study`'s frames, ledger and notes as its prepared copy in `folder` (reproducible:
    the same inputs give the same bytes)."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    base = str(folder.parent)
    for old in folder.glob("*.parquet"):
        old.unlink()
    for k in _PREPARED_FRAMES:
        _rebase(getattr(study, k), base, _HERE_MARK).write_parquet(
            folder / f"{k}.parquet", compression="zstd", statistics=False)
    led = []
    for i, s in enumerate(study.ledger.sources):
        led.append({"kind": s.kind, "path": s.path.replace(base, _HERE_MARK), "read": s.read,
                    "accepted": s.accepted, "quarantined": s.quarantined,
                    "notes": [n.replace(base, _HERE_MARK) for n in s.notes]})
        if s.rows is not None:
            _rebase(s.rows, base, _HERE_MARK).write_parquet(
                folder / f"quarantine-{i}.parquet", compression="zstd", statistics=False)
    man = {"inputs": prepared_inputs(study.spec), "ledger": led, "polars": pl.__version__,
           "notes": [n.replace(base, _HERE_MARK) for n in study.notes]}
    (folder / "manifest.json").write_text(json.dumps(man, indent=1, sort_keys=True) + "\n",
                                          encoding="utf-8")
    return folder


def load_study(spec: StudySpec, progress: Progress | None = None, cache: bool | str | Path | None = None,
               prepared: bool = True, lazy: bool = False) -> Study:
    """Read every source of `spec`. Raises SourceError if a source cannot be read at all.

    cache: keep police.uk sources in the Parquet workspace cache (geodata.cache): read,
    checked and area-assigned once, reopened in seconds, rebuilt when a source changes. True =
    the default folder, or a folder; None = on when the SVTUI_CACHE variable names a folder.
    prepared: use the study's prepared Parquet copy (`prepared/` beside its crime files, as the
    sample ships) when it was built from exactly these files and readers.
    lazy: with the cache on, `incidents` (and the inferred `venues`) are `pl.LazyFrame`s scanning
    the cached Parquet, for callers that only aggregate (`svtui check`); nothing else changes.
    """
    from geodata import ae as ae_reader
    from geodata import interventions as iv_reader
    from geodata import policeuk
    from geodata import venues as venue_reader

    t0 = time.perf_counter()
    say = progress or (lambda msg, frac: None)
    if prepared and prepared_dir(spec) is not None and (prepared_dir(spec) / "manifest.json").is_file():
        say("Opening the prepared copy", 0.05)  # only said where there is one
        found = _load_prepared(spec, t0)
        if found is not None:
            say("Loaded", 1.0)
            return found
    ledger = Ledger()
    notes: list[str] = []

    if cache is None:
        cache = os.environ.get("SVTUI_CACHE") or False
    if spec.crimes and not cache:  # a cache hit converts nothing; a boundary file alone waits
        from geodata.crs import prepare_lonlat_to_bng

        prepare_lonlat_to_bng()  # police.uk points are lon/lat, and so are most boundary files
    areas = areas_job = None
    if spec.areas is not None:
        say("Reading boundaries", 0.05)
        from geodata.background import Background  # read while the crime files are

        areas_job = Background(_read_areas, spec)
        if cache:  # the cache stores rows with their areas assigned: it needs them first
            areas = areas_job.result()
            notes.extend(areas.notes)
    try:
        frames, placed = _read_all_crimes(spec, areas, cache, ledger, lazy, say)
    except Exception:  # (ctrl-C does not wait for the boundary thread)
        if areas_job is not None:
            areas_job.result()  # a boundary file that cannot be read is the first error, as ever
        raise
    if areas_job is not None and areas is None:
        areas = areas_job.result()
        notes.extend(areas.notes)
    out = []
    for frame, done in zip(frames, placed):  # every ledger entry exists before any is charged
        frame = _quarantine_bad_months(frame, ledger)
        if not done and areas is not None and frame.height:
            say("Assigning areas", 0.5)
            frame = _assign_per_source(frame, areas, ledger)
        out.append(frame)
    if any(isinstance(f, pl.LazyFrame) for f in out):
        incidents = pl.concat([f.lazy() for f in out], how="vertical_relaxed")
        has_rows = incidents.select(pl.len()).collect().item() > 0
    else:
        incidents = pl.concat(out, how="vertical_relaxed") if out else empty_frame(INCIDENT_SCHEMA)
        has_rows = incidents.height > 0

    say("Reading venues", 0.65)
    if spec.venues is not None:
        venues = venue_reader.read_venues(spec.venues, ledger=ledger)
    elif has_rows:
        venues = policeuk.infer_venues_from_labels(incidents)  # lazy in, lazy out
        if spec.ae and isinstance(venues, pl.LazyFrame):
            venues = venues.collect()  # A&E rows are matched to them
        notes.append("No venue file: venue points inferred from police.uk location labels where present.")
    else:
        venues = empty_frame(VENUE_SCHEMA)

    say("Reading A&E", 0.75)
    ae_frames = [ae_reader.read_ae(p, venues=venues, ledger=ledger) for p in spec.ae]
    ae = pl.concat(ae_frames, how="vertical_relaxed") if ae_frames else empty_frame(AE_SCHEMA)
    if areas is not None and ae.height:
        from geodata import areas as areas_mod

        ae = areas_mod.locate_points(ae, areas)

    say("Reading indicators", 0.85)
    indicators = None
    for p in spec.indicators:
        from geodata import indicators as ind_reader  # (imports geodata.areas: geopandas)

        frame = ind_reader.read_indicators(p, areas, ledger=ledger)
        if indicators is None:
            indicators = frame
        else:
            new = [c for c in frame.columns if c == "lsoa_code" or c not in indicators.columns]
            indicators = indicators.join(frame.select(new), on="lsoa_code", how="full", coalesce=True)
    if indicators is None:
        indicators = pl.DataFrame(schema={"lsoa_code": pl.Utf8})

    say("Reading interventions", 0.95)
    interventions = iv_reader.read_interventions(spec.interventions) if spec.interventions else []

    for entry in ledger.sources:
        entry.check()
    say("Loaded", 1.0)
    return Study(
        spec=spec,
        incidents=incidents,
        ae=ae,
        venues=venues,
        areas=areas,
        indicators=indicators,
        interventions=interventions,
        ledger=ledger,
        notes=notes,
        load_seconds=time.perf_counter() - t0,
    )


EARLIEST_MONTH = date(1990, 1, 1)


def _quarantine_bad_months(incidents: pl.DataFrame, ledger: Ledger) -> pl.DataFrame:
    """Months before 1990 or after next month are typos (a two-digit year read as 0022, 2031)."""
    lazy = isinstance(incidents, pl.LazyFrame)
    if not lazy and incidents.height == 0:
        return incidents
    today = date.today()
    latest = date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    bad = pl.col("month").is_not_null() & ((pl.col("month") < EARLIEST_MONTH) | (pl.col("month") > latest))
    rows = incidents.filter(bad).collect() if lazy else incidents.filter(bad)
    if rows.height == 0:
        return incidents
    charged = 0
    for entry in ledger.sources:
        if entry.kind in ("crimes", "records"):
            mine = rows.filter(pl.col("source_file").str.starts_with(entry.path))
            entry.move_to_quarantine(mine, "month out of range")
            charged += mine.height
    if charged != rows.height:  # never drop a row the ledger cannot account for
        raise AssertionError("rows with out-of-range months belong to no ledger entry")
    return incidents.filter(~bad)


def _read_areas(spec: StudySpec):
    from geodata import areas as areas_mod

    areas = areas_mod.build_areas(spec.areas, spec.lookups)
    areas.study_polygon_soon()  # the union the engine lays its grid on, made while crimes are read
    return areas


def _read_all_crimes(spec: StudySpec, areas, cache, ledger: Ledger, lazy: bool, say):
    """(frames, placed): each crime source read; placed says which have areas assigned.

    police.uk paths are read in one call, so a file two paths both name (a folder and a file
    in it) or a month given twice is read once; record extracts one by one."""
    from geodata import policeuk

    say("Reading crimes", 0.2)
    frames, placed = [], []
    police = [p for p in spec.crimes if _is_police_uk_source(p)]
    for p in spec.crimes:
        if p in police:
            if p is not police[0]:
                continue
            if cache:
                from geodata.cache import cached_police_uk

                frames.append(cached_police_uk(police, areas, ledger=ledger, lazy=lazy,
                                               cache_dir=None if cache is True else cache))
                placed.append(True)  # the cache stores rows with their areas assigned
            else:
                frames.append(policeuk.read_police_uk(police, ledger=ledger))
                placed.append(False)
        else:
            frames.append(_read_crimes(p, ledger))
            placed.append(False)
    return frames, placed


def _assign_per_source(incidents: pl.DataFrame, areas, ledger: Ledger) -> pl.DataFrame:
    """Assign areas; each quarantine is charged to the ledger entry its source_file came from."""
    from geodata.areas import assign_areas

    return assign_areas(incidents, areas, [e for e in ledger.sources if e.kind in ("crimes", "records")])
