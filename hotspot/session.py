"""One seam between the engine and its faces: a `Session` per study and its `Results` per filter set.

Every face (workbench, CLI, briefing, export) asks a Session for what it shows, so there is one
cache, one rule for finding an area or a locality by name or code, one rule for the study's
month span, and one place where a wrong parameter is refused. Results are numbers, frames and
reason codes only: the faces phrase and format them.

    session = Session(study, definition=None, params={"area_share": 2})
    res = session.results(Filters(start=date(2024, 1, 1)))
    res.localities, res.profiles("csp"), res.measures("csp"), res.coverage("csp").gaps

Frames from the engine modules are passed through as they are (new columns flow through).
"""
from __future__ import annotations

import calendar
import dataclasses
import hashlib
import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

import polars as pl

from hotspot import analysis as engine  # looked up at call time: one place to patch or replace
from hotspot.analysis import Analysis, Filters, MARKER_FILTERS, Params, Prepared
from hotspot.definition import Definition, load_definition

__all__ = [
    "ParameterError", "NotFound", "Area", "Locality", "MonthSpan", "Coverage", "Session", "Results",
    "LEVELS", "TABLES", "AGE_BANDS", "input_hash", "check_params", "check_filters",
]

#: Area levels, lowest first; "force" is the whole study when no force is named.
LEVELS = ("lsoa", "ward", "district", "csp", "force")
#: Where a name held at several levels goes first ("Telford and Wrekin" is a district and a CSP).
LEVEL_PREFERENCE = ("csp", "force", "district", "ward", "lsoa")
#: The export tables a Results can build.
TABLES = ("hotspots", "areas", "trends", "gaps")
#: Age bands of the 'who' counts (label, lowest age, highest age), inclusive.
AGE_BANDS = (("under 18", 0, 17), ("18 to 24", 18, 24), ("25 to 34", 25, 34), ("35 to 49", 35, 49),
             ("50 and over", 50, 200))
CACHE_ENTRIES = 64  # results for about a dozen filter sets (each set holds a handful of frames)
GEOMETRY = "geometry_wkb"
BIG_FILE = 64 * 1024 * 1024
HEAD_BYTES = 1024 * 1024


# --------------------------------------------------------------------------------------------
# Errors: one clear message each, naming what was wrong and what is accepted
# --------------------------------------------------------------------------------------------


class ParameterError(ValueError):
    """A parameter or filter value the engine does not accept.

    `name` is the parameter, `value` what was given, `accepts` what it takes (scikit-learn's
    InvalidParameterError does the same).
    """

    def __init__(self, name: str, value: Any, accepts: str, message: str | None = None) -> None:
        self.name, self.value, self.accepts = name, value, accepts
        super().__init__(message or f"{name}={value!r} is not accepted: {name} must be {accepts}")


class NotFound(LookupError):
    """No area or locality of that name or code. `kind` is "area" or "locality"; `close` the
    nearest names or codes the study has (best first), `ambiguous` the codes when one name is
    held by several areas of one level."""

    def __init__(self, kind: str, text: str, close: Iterable[str] = (), ambiguous: Iterable[str] = ()) -> None:
        self.kind, self.text = kind, text
        self.close, self.ambiguous = tuple(close), tuple(ambiguous)
        if self.ambiguous:
            msg = f"{kind} {text!r} names {len(self.ambiguous)} areas: {', '.join(self.ambiguous)}; give the code"
        else:
            msg = f"no {kind} {text!r} in this study"
            if self.close:
                msg += f"; closest: {', '.join(self.close)}"
        super().__init__(msg)

    def __str__(self) -> str:  # LookupError would quote the message
        return self.args[0]


def _check(ok: bool, name: str, value: Any, accepts: str) -> None:
    if not ok:
        raise ParameterError(name, value, accepts)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def check_params(params: Params | dict | None) -> Params:
    """A Params from a Params, a dict of its fields, or None, each value checked.

    Unknown fields (a misspelt name) are refused naming every field Params takes. Fields added
    later by the analysis module pass through unchecked here (Params checks its own).
    """
    if params is None:
        return Params()
    if isinstance(params, dict):
        names = [f.name for f in dataclasses.fields(Params)]
        for k in params:
            if k not in names:
                raise ParameterError(k, params[k], "one of " + ", ".join(names),
                                     f"unknown parameter {k!r}: the parameters are " + ", ".join(names))
        try:
            params = Params(**params)  # Params checks each of its own values (hotspot.analysis)
        except ValueError as exc:
            raise _as_parameter_error(exc, params) from None
    _check(isinstance(params, Params), "params", params, "a hotspot.analysis.Params or a dict of its fields")
    p = params
    return p


def _as_parameter_error(exc: ValueError, given: dict) -> ParameterError:
    """Params' own "Params.<name> must be <accepts> (got <value>)" as a ParameterError."""
    import re

    m = re.match(r"Params\.(\w+) must be (.*?)(?: \(got .*\))?$", str(exc), flags=re.S)
    if not m:
        return ParameterError("params", given, "valid Params fields", str(exc))
    name = m.group(1)
    return ParameterError(name, given.get(name), m.group(2))


def check_filters(filters: Filters | None) -> Filters:
    """Filters with each value checked (a start after the end, an unknown marker, ...)."""
    if filters is None:
        return Filters()
    f = filters
    _check(isinstance(f, Filters), "filters", f, "a hotspot.analysis.Filters")
    for name in ("start", "end"):
        v = getattr(f, name)
        _check(v is None or (isinstance(v, date) and not isinstance(v, datetime)), name, v,
               "a month as a date (the first of the month), or None for the study's span")
    _check(not (f.start and f.end and (f.start.year, f.start.month) > (f.end.year, f.end.month)), "start", f.start,
           f"a month no later than end ({f.end})")
    for m in f.markers:
        _check(m in MARKER_FILTERS, "markers", m, "any of " + ", ".join(MARKER_FILTERS))
    _check(_is_num(f.min_harm) and f.min_harm >= 0, "min_harm", f.min_harm, "a number, 0 or more")
    _check(isinstance(f.night_time, bool), "night_time", f.night_time, "True or False")
    return f


# --------------------------------------------------------------------------------------------
# Small records
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Area:
    level: str  # one of LEVELS
    code: str
    name: str


@dataclass(frozen=True)
class Locality:
    locality_id: str
    name: str


@dataclass(frozen=True)
class MonthSpan:
    """The study's months: `months` the complete months (the default window, first..last);
    `data_first`/`data_last` the first and last month with any incident; `left_out` the thin
    leading or trailing months treated as incomplete (reason code "incomplete_month")."""

    first: date | None
    last: date | None
    months: tuple[date, ...]
    data_first: date | None
    data_last: date | None
    left_out: tuple[date, ...]

    @property
    def n_months(self) -> int:
        return len(self.months)

    def contains(self, m: date) -> bool:
        return bool(self.first and self.last and self.first <= date(m.year, m.month, 1) <= self.last)


@dataclass(frozen=True)
class Coverage:
    """hotspot.coverage.coverage for one level: reach (unit x intervention), gaps (unit x need)."""

    reach: pl.DataFrame
    gaps: pl.DataFrame
    notes: tuple[str, ...]


class _LRU:
    """A bounded, thread-safe least-recently-used map (a long session's memory stays flat)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._d: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, compute: Callable[[], Any]):
        with self._lock:
            if key in self._d:
                self._d.move_to_end(key)
                return self._d[key]
        value = compute()  # outside the lock: a long computation never blocks another face
        with self._lock:
            self._d[key] = value
            self._d.move_to_end(key)
            while len(self._d) > self.limit:
                self._d.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._d)

    def clear(self) -> None:
        with self._lock:
            self._d.clear()


def _norm_name(s: str) -> str:
    s = s.lower().replace("&", " and ")
    s = re.sub(r",?\s*county of$", "", s)
    return re.sub(r"[^a-z0-9]+", " ", s).strip()


# --------------------------------------------------------------------------------------------
# Provenance helpers
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
            "method": "size_mtime_head"}


def input_hash(paths: Iterable[str | Path | None]) -> dict:
    """SHA-256 of each input file (folders walked) and one combined hash over them all.

    Files over 64 MiB are fingerprinted by size, modification time and the SHA-256 of their first
    MiB ("method": "size_mtime_head"), so provenance for a force-sized archive stays quick.
    """
    files: list[Path] = []
    for p in paths:
        if p is not None:
            files.extend(_files_under(Path(p)))
    seen, entries = set(), []
    for f in files:
        key = str(f.resolve())
        if key not in seen:
            seen.add(key)
            entries.append(_file_digest(f))
    entries.sort(key=lambda e: e["path"])
    combined = hashlib.sha256()
    for e in entries:
        combined.update(f"{e['path']}\t{e['size']}\t{e.get('sha256') or e.get('head_sha256')}\n".encode())
    return {"algorithm": "sha256", "combined": combined.hexdigest(), "files": entries}


def svtui_version() -> str:
    """The installed svtui version, else pyproject.toml's beside the package, else 'unknown'."""
    try:
        from importlib.metadata import version

        return version("svtui")
    except Exception:  # noqa: BLE001 - not installed: read the source tree
        pass
    try:
        import tomllib

        pp = Path(__file__).resolve().parents[1] / "pyproject.toml"
        return tomllib.loads(pp.read_text(encoding="utf-8"))["project"]["version"]
    except Exception:  # noqa: BLE001
        return "unknown"


def jsonable(v: Any) -> Any:
    """Plain JSON values for dataclasses, dates, tuples, paths and non-finite floats (null)."""
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {k: jsonable(x) for k, x in dataclasses.asdict(v).items()}
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    if isinstance(v, (list, tuple, set)):
        return [jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, Path):
        return str(v)
    return v


# --------------------------------------------------------------------------------------------
# Session
# --------------------------------------------------------------------------------------------


class Session:
    """One study, one definition, one set of parameters; results per filter set, cached.

    study: a loaded geodata.study.Study. definition: a shipped name, a path to a definition
    file, a Definition, or None (the study's own, else west-mercia for record-level data and
    police-uk-proxy otherwise). params: a Params or a dict of its fields. cache_entries: how
    many computed frames to keep (least recently used go first).
    Raises ParameterError at construction for any value the engine would not accept.
    """

    def __init__(self, study, definition: str | Path | Definition | None = None,
                 params: Params | dict | None = None, *, cache_entries: int = CACHE_ENTRIES,
                 prep: Prepared | None = None) -> None:
        _check(study is not None and hasattr(study, "incidents"), "study", type(study).__name__,
               "a loaded geodata.study.Study")
        _check(_is_int(cache_entries) and cache_entries >= 1, "cache_entries", cache_entries, "a whole number, at least 1")
        _check(prep is None or isinstance(prep, Prepared), "prep", type(prep).__name__,
               "a hotspot.analysis.Prepared of this study, or None")
        self.study = study
        self.params = check_params(params)
        if definition is None and prep is not None:
            definition = prep.definition
        self.definition = self._definition(study, definition)
        self._cache = _LRU(cache_entries)
        self._prep: Prepared | None = prep  # an already prepared study (tests and benches share one)
        self._unplaced: pl.DataFrame | None = None
        if prep is not None:
            self.attach_unplaced(prep)
        self._prep_lock = threading.Lock()
        self._area_prep: Prepared | None = None
        self._area_lock = threading.Lock()
        self._hash: dict | None = None

    @staticmethod
    def _definition(study, definition) -> Definition:
        if isinstance(definition, Definition):
            return definition
        name = definition or getattr(getattr(study, "spec", None), "definition", None)
        if not name:
            name = "west-mercia" if study.has_records() else "police-uk-proxy"
        _check(isinstance(name, (str, Path)), "definition", definition, "a definition name, a path to a .toml file, or None")
        return load_definition(name)  # DefinitionError (a ValueError) names the shipped ones

    @classmethod
    def from_spec(cls, spec, definition=None, params=None, *, progress=None, cache=None, **kw) -> "Session":
        """Load the study named by a geodata StudySpec and open a session on it."""
        from geodata.study import load_study

        return cls(load_study(spec, progress=progress, cache=cache), definition, params, **kw)

    # -- the filter-independent state ------------------------------------------------------
    @property
    def prep(self) -> Prepared:
        """hotspot.analysis.prepare for this study, definition and parameters (made once)."""
        if self._prep is None:
            with self._prep_lock:
                if self._prep is None:
                    # `prep` answers for area_prep from now on: let its copy of the incidents go
                    # first, so the two are never held together (a force-sized study's peak)
                    self._area_prep = None
                    prep = engine.prepare(self.study, self.definition, self.params)
                    self.attach_unplaced(prep)
                    self._prep = prep
        return self._prep

    @property
    def area_prep(self) -> Prepared:
        """What the area figures need (hotspot.area_profiles.area_prep): the classified incidents,
        months and hierarchy without the grid, so area profiles, monthly series and the month
        span are ready before `prep` and the hotspot analysis are. The same figures as from
        `prep`, which answers instead once it is ready."""
        if self._prep is not None:
            return self._prep
        with self._area_lock:
            if self._prep is not None:
                return self._prep
            if self._area_prep is None:
                from hotspot.area_profiles import area_prep

                quick = area_prep(self.study, self.definition)
                self.attach_unplaced(quick)
                self._area_prep = quick
            return self._area_prep

    def unplaced(self) -> pl.DataFrame | None:
        """The study's rows without a place, classified (hotspot.area_profiles.unplaced_incidents):
        they count in force totals (docs/needs.md). Made once per session; None without a ledger."""
        if self._unplaced is None:
            ledger = getattr(self.study, "ledger", None)
            if ledger is None:
                return None
            from hotspot.area_profiles import unplaced_incidents

            self._unplaced = unplaced_incidents(ledger, self.definition)
        return self._unplaced

    def attach_unplaced(self, prep: Prepared) -> None:
        """Put `unplaced()` (back) on `prep.cache`, where hotspot.measures reads it: the analysis
        cache's bound evicts the oldest entries of that dict, this one among them."""
        from hotspot.area_profiles import _UNPLACED_KEY

        un = self.unplaced()
        if un is not None and _UNPLACED_KEY not in prep.cache:
            prep.cache[_UNPLACED_KEY] = un

    @property
    def hierarchy(self) -> pl.DataFrame:
        """The study's LSOA -> ward -> district -> CSP -> force table (`prep.hierarchy`, known
        as soon as the study is read)."""
        if self._prep is not None:
            return self._prep.hierarchy
        areas = getattr(self.study, "areas", None)
        return areas.hierarchy if areas is not None else pl.DataFrame(schema={"lsoa_code": pl.Utf8})

    @property
    def prepared(self) -> bool:
        """Whether `prep` is ready (a face can then ask for it without waiting)."""
        return self._prep is not None

    @property
    def name(self) -> str:
        return self.study.name

    @property
    def synthetic(self) -> bool:
        return bool(self.study.synthetic)

    @property
    def notes(self) -> list[str]:
        """The engine's notes on the study as a whole (months left out, no boundaries, ...)."""
        return list(self.prep.notes)

    def cached(self, key: tuple, compute: Callable[[], Any]):
        """The session's one cache: `compute()` once per key (bounded, least recently used)."""
        return self._cache.get(key, compute)

    @property
    def cache_size(self) -> int:
        return len(self._cache)

    # -- months ----------------------------------------------------------------------------
    def month_span(self) -> MonthSpan:
        """The one rule for the study's months (hotspot.analysis.complete_months): the default
        window runs from the first to the last complete month."""
        def compute():
            prep = self.area_prep  # the same months and incidents as `prep`, ready sooner
            months = tuple(prep.months)
            all_m = prep.incidents["month"].drop_nulls()
            df, dl = (all_m.min(), all_m.max()) if all_m.len() else (None, None)
            left = ()
            if months and df is not None:
                seen = sorted(set(all_m.unique().to_list()))
                left = tuple(m for m in seen if m < months[0] or m > months[-1])
            return MonthSpan(months[0] if months else None, months[-1] if months else None, months, df, dl, left)
        return self.cached(("month_span",), compute)

    def window(self, filters: Filters | None = None) -> tuple[date, date] | None:
        """(first, last) month the filters cover within the study's span; None when none."""
        f = check_filters(filters)
        span = self.month_span()
        if span.first is None:
            return None
        start = max(f.start, span.first) if f.start else span.first
        end = min(f.end, span.last) if f.end else span.last
        return (start, end) if start <= end else None

    # -- finding things by name or code ------------------------------------------------------
    def areas(self, level: str) -> pl.DataFrame:
        """code, name of every area of `level` (hotspot.area_profiles.area_table)."""
        _check(level in LEVELS, "level", level, "one of " + ", ".join(LEVELS))
        from hotspot.area_profiles import area_table

        return self.cached(("areas", level), lambda: area_table(self.prep, level).select("code", "name"))

    def levels(self) -> tuple[str, ...]:
        """The area levels this study has codes for, highest first ("force" always: the study)."""
        def compute():
            h = self.hierarchy
            have = [lv for lv in LEVELS if f"{lv}_code" in h.columns and h.height and h[f"{lv}_code"].null_count() < h.height]
            return tuple(lv for lv in reversed(LEVELS) if lv in have or lv == "force")
        return self.cached(("levels",), compute)

    def interventions_for(self, level: str, code: str) -> list[tuple[Any, str]]:
        """(intervention, how) for the interventions that list this area or one above it
        ("area"), work everywhere ("everywhere"), or have their own points or polygons ("local",
        their reach is in coverage())."""
        _check(level in LEVELS, "level", level, "one of " + ", ".join(LEVELS))
        from geodata.interventions import area_key

        h = self.prep.hierarchy
        keys = {area_key(code)}
        col = f"{level}_code"
        if col in h.columns:
            rows = h.filter(pl.col(col) == code)
            for lv in LEVELS[LEVELS.index(level):]:
                for k in ("code", "name"):
                    c = f"{lv}_{k}"
                    if c in rows.columns:
                        keys |= {area_key(v) for v in rows[c].drop_nulls().unique().to_list()}
        out = []
        for iv in self.study.interventions or []:
            if iv.everywhere:
                out.append((iv, "everywhere"))
            elif {area_key(a) for a in iv.areas} & keys:
                out.append((iv, "area"))
            elif iv.points or iv.polygons:
                out.append((iv, "local"))
        return out

    def force(self) -> Area:
        """The study as a whole: the force when the boundaries name exactly one, else the study."""
        h = self.prep.hierarchy
        code, name = "study", self.study.name
        if "force_code" in h.columns:
            vals = h["force_code"].drop_nulls().unique()
            if vals.len() == 1:
                code = vals[0]
        if "force_name" in h.columns:
            vals = h["force_name"].drop_nulls().unique()
            if vals.len() == 1:
                name = vals[0]
        return Area("force", code, name)

    def find_area(self, text: str) -> Area:
        """The area with this ONS code (any level, any case) or name (CSP first when a name is
        held at several levels; 'study', 'all', 'force' or the study's name give the force).
        Raises NotFound with the closest names, or listing the codes when one name is held by
        several areas of one level (ward names repeat across districts)."""
        want = str(text or "").strip()
        if not want:
            raise NotFound("area", want, close=self._area_names()[:5])
        h = self.prep.hierarchy
        target = _norm_name(want)
        by_name: Area | None = None
        for level in LEVEL_PREFERENCE:
            code_c, name_c = f"{level}_code", f"{level}_name"
            if code_c not in h.columns:
                continue
            cols = [code_c] + ([name_c] if name_c in h.columns else [])
            sub = h.select(cols).drop_nulls(code_c).unique(code_c).sort(code_c)
            hit = sub.filter(pl.col(code_c).str.to_uppercase() == want.upper())
            if hit.height:
                row = hit.row(0, named=True)
                return Area(level, row[code_c], row.get(name_c) or row[code_c])
            if name_c in sub.columns and by_name is None:
                named = sub.filter(pl.col(name_c).is_not_null()).with_columns(
                    pl.col(name_c).map_elements(_norm_name, return_dtype=pl.Utf8).alias("_n"))
                rows = named.filter(pl.col("_n") == target)
                if rows.height > 1:
                    raise NotFound("area", want, ambiguous=rows[code_c].to_list())
                if rows.height == 1:
                    by_name = Area(level, rows[code_c][0], rows[name_c][0])
        if by_name is not None:
            return by_name
        if want.lower() in ("study", "all", "force") or target == _norm_name(self.study.name):
            return self.force()
        names = self._area_names()
        import difflib  # here: only a name that is not found needs suggestions

        close = difflib.get_close_matches(want, names, n=5, cutoff=0.6)
        if not close:
            close = difflib.get_close_matches(want.lower(), [n.lower() for n in names], n=5, cutoff=0.6)
            close = [next(n for n in names if n.lower() == c) for c in close]
        raise NotFound("area", want, close=close)

    def _area_names(self) -> list[str]:
        def compute():
            h = self.prep.hierarchy
            out: list[str] = []
            for level in LEVEL_PREFERENCE:
                for k in ("name", "code"):
                    c = f"{level}_{k}"
                    if c in h.columns:
                        out.extend(sorted(set(h[c].drop_nulls().to_list())))
            return list(dict.fromkeys(out))
        return self.cached(("area_names",), compute)

    def definition_sees(self) -> list[str]:
        """hotspot.definition.what_definition_sees for this definition and the study's incidents."""
        from hotspot.definition import what_definition_sees

        return self.cached(("definition_sees",), lambda: what_definition_sees(self.definition, self.study.incidents))

    def harm_weights(self) -> pl.DataFrame:
        """hotspot.harm.weights_table: every harm weight, its basis, source and year."""
        from hotspot.harm import weights_table

        return self.cached(("harm_weights",), weights_table)

    def find_locality(self, text: str, filters: Filters | None = None) -> Locality:
        """The hotspot locality with this id (any case) or name, in the results for `filters`."""
        return self.results(filters).find_locality(text)

    # -- results ---------------------------------------------------------------------------
    def results(self, filters: Filters | None = None) -> "Results":
        """Everything the faces show for one filter set (each part computed when first asked)."""
        f = check_filters(filters)
        span = self.month_span()
        if span.data_first is not None and (f.start or f.end):
            lo, hi = span.data_first, span.data_last
            if f.start and (f.start.year, f.start.month) > (hi.year, hi.month):
                raise ParameterError("start", f.start, f"a month the data reaches ({lo:%Y-%m} to {hi:%Y-%m})")
            if f.end and (f.end.year, f.end.month) < (lo.year, lo.month):
                raise ParameterError("end", f.end, f"a month the data reaches ({lo:%Y-%m} to {hi:%Y-%m})")
        return self.cached(("results", f), lambda: Results(self, f))

    def inputs(self) -> dict:
        """input_hash over the study's source files (computed once per session)."""
        if self._hash is None:
            spec = getattr(self.study, "spec", None)
            self._hash = (input_hash(spec.all_paths()) if spec is not None
                          else {"algorithm": "sha256", "combined": None, "files": []})
        return self._hash


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


class Results:
    """What the faces show for one filter set. Each part is computed on first use and kept in
    the session's cache; every frame is the engine module's own (columns pass through)."""

    def __init__(self, session: Session, filters: Filters) -> None:
        self.session = session
        self.filters = filters

    def _get(self, *key, compute):
        return self.session.cached(("r", self.filters) + key, compute)

    @property
    def study(self):
        return self.session.study

    @property
    def prep(self) -> Prepared:
        return self.session.prep

    @property
    def params(self) -> Params:
        return self.session.params

    # -- hotspots --------------------------------------------------------------------------
    def run(self, progress=None) -> Analysis:
        """hotspot.analysis.analyse for these filters (progress(message, fraction) while it runs)."""
        def compute():
            analysis = engine.analyse(self.prep, self.filters, self.params, progress=progress)
            self.session.attach_unplaced(self.prep)  # analyse's cache bound may have evicted it
            return analysis
        return self._get("analysis", compute=compute)

    @property
    def analysis(self) -> Analysis:
        return self.run()

    @property
    def localities(self) -> pl.DataFrame:
        return self.analysis.localities

    @property
    def incidents(self) -> pl.DataFrame:
        """The serious incidents the filters keep (with locality_id)."""
        return self.analysis.incidents

    @property
    def window(self) -> tuple[date, date] | None:
        return self.analysis.window

    @property
    def notes(self) -> list[str]:
        return list(self.analysis.notes)

    def locality(self, locality_id: str) -> dict | None:
        """One locality's row (its profile) or None."""
        loc = self.localities
        if loc.height == 0:
            return None
        rows = loc.filter(pl.col("locality_id") == locality_id)
        return rows.row(0, named=True) if rows.height else None

    def find_locality(self, text: str) -> Locality:
        """The locality with this id (any case) or name; NotFound with the closest otherwise."""
        want = str(text or "").strip()
        loc = self.localities
        if loc.height:
            ids, names = loc["locality_id"].to_list(), loc["name"].to_list()
            for lid, name in zip(ids, names):
                if lid.upper() == want.upper():
                    return Locality(lid, name)
            hits = [(lid, n) for lid, n in zip(ids, names) if n is not None and _norm_name(n) == _norm_name(want)]
            if len(hits) > 1:
                raise NotFound("locality", want, ambiguous=[h[0] for h in hits])
            if hits:
                return Locality(*hits[0])
            import difflib

            close = difflib.get_close_matches(want.upper(), [i.upper() for i in ids], n=3, cutoff=0.6)
            close = [ids[[i.upper() for i in ids].index(c)] for c in close]
            close += difflib.get_close_matches(want, [n for n in names if n], n=3, cutoff=0.6)
            raise NotFound("locality", want, close=list(dict.fromkeys(close))[:5] or ids[:5])
        raise NotFound("locality", want)

    def locality_incidents(self, locality_id: str) -> pl.DataFrame:
        inc = self.incidents
        return inc.filter(pl.col("locality_id") == locality_id)

    def locality_monthly(self, locality_id: str | None = None) -> pl.DataFrame:
        lm = self.analysis.locality_monthly
        return lm if locality_id is None or lm.height == 0 else lm.filter(pl.col("locality_id") == locality_id)

    def locality_categories(self, locality_id: str | None = None) -> pl.DataFrame:
        lc = self.analysis.locality_categories
        return lc if locality_id is None or lc.height == 0 else lc.filter(pl.col("locality_id") == locality_id)

    # -- areas -----------------------------------------------------------------------------
    def _level(self, level: str) -> str:
        _check(level in LEVELS, "level", level, "one of " + ", ".join(LEVELS))
        return level

    def profiles(self, level: str = "csp") -> pl.DataFrame:
        """hotspot.area_profiles.area_profiles: one row per area of `level`."""
        return self._profiles(self._level(level))[0]

    def profile_notes(self, level: str = "csp") -> list[str]:
        return list(self._profiles(self._level(level))[1])

    def _profiles(self, level: str):
        from hotspot.area_profiles import area_profiles

        def compute():
            notes: list[str] = []
            # the filters alone decide the profiles: they need no hotspot analysis, so they are
            # ready (from area_prep) before it is
            frame = area_profiles(self.session.area_prep, self.filters, level, indicators=self.study.indicators,
                                  notes=notes, unplaced=self.session.unplaced())
            return frame, tuple(dict.fromkeys(notes))
        return self._get("profiles", level, compute=compute)

    def area_profile(self, level: str, code: str) -> dict | None:
        """One area's profile row, or None when the level has no such code."""
        frame = self.profiles(level)
        rows = frame.filter(pl.col("code") == code)
        return rows.row(0, named=True) if rows.height else None

    def monthly(self, level: str = "csp") -> pl.DataFrame:
        """hotspot.area_profiles.area_monthly: level, code, name, month, n, harm (dense)."""
        from hotspot.area_profiles import area_monthly

        level = self._level(level)
        return self._get("monthly", level, compute=lambda: area_monthly(self.session.area_prep, self.filters, level,
                                                                      unplaced=self.session.unplaced()))

    def series(self, level: str = "csp") -> dict[str, list[int]]:
        """{code: monthly counts in the window, oldest first} (the overview's sparklines)."""
        mon = self.monthly(level)
        if mon.height == 0:
            return {}
        g = mon.sort(["code", "month"]).group_by("code", maintain_order=True).agg(pl.col("n"))
        return dict(zip(g["code"].to_list(), g["n"].to_list()))

    def categories(self, level: str = "csp") -> pl.DataFrame:
        """hotspot.area_profiles.area_categories: long category mix per area."""
        from hotspot.area_profiles import area_categories

        level = self._level(level)
        return self._get("categories", level, compute=lambda: area_categories(self.prep, self.filters, level))

    def area_incidents(self, level: str, code: str) -> pl.DataFrame:
        """The serious incidents the filters keep inside one area (through their LSOA)."""
        level = self._level(level)
        inc = self.incidents
        if level == "force":
            return inc
        col = f"{level}_code"
        h = self.prep.hierarchy
        if col not in h.columns:
            return inc.head(0)
        lsoas = h.filter(pl.col(col) == code)["lsoa_code"].drop_nulls().unique()
        return inc.filter(pl.col("lsoa_code").is_in(lsoas.to_list()))

    def incidents_for(self, kind: str, key: str) -> pl.DataFrame:
        """Incidents of ("locality", id) or (level, code)."""
        return self.locality_incidents(key) if kind == "locality" else self.area_incidents(kind, key)

    def ages(self, kind: str, key: str) -> dict[str, int]:
        """Counts of incidents with a known victim/suspect age and in each AGE_BANDS band.

        Keys: victim_known, suspect_known, either_known, either_under_18, either_18_to_24,
        victim_<band>, suspect_<band> (band label with spaces as underscores).
        """
        def compute():
            inc = self.incidents_for(kind, key)
            if inc.height == 0 or "victim_age" not in inc.columns or "suspect_age" not in inc.columns:
                return {"victim_known": 0, "suspect_known": 0, "either_known": 0}
            va, sa = pl.col("victim_age"), pl.col("suspect_age")
            exprs = [
                va.is_not_null().sum().alias("victim_known"),
                sa.is_not_null().sum().alias("suspect_known"),
                (va.is_not_null() | sa.is_not_null()).sum().alias("either_known"),
                ((va < 18) | (sa < 18)).fill_null(False).sum().alias("either_under_18"),
                (va.is_between(18, 24) | sa.is_between(18, 24)).fill_null(False).sum().alias("either_18_to_24"),
            ]
            for label, lo, hi in AGE_BANDS:
                k = label.replace(" ", "_")
                exprs.append(va.is_between(lo, hi).fill_null(False).sum().alias(f"victim_{k}"))
                exprs.append(sa.is_between(lo, hi).fill_null(False).sum().alias(f"suspect_{k}"))
            return {k: int(v or 0) for k, v in inc.select(exprs).row(0, named=True).items()}
        return self._get("ages", kind, key, compute=compute)

    def peak(self, kind: str, key: str) -> dict:
        """hotspot.profiles.peak_times for ("locality", id) or (level, code); {} when none."""
        from hotspot import profiles

        def compute():
            inc = self.incidents_for(kind, key).with_columns(pl.lit(key).alias("_code"))
            out = profiles.peak_times(inc, "_code")
            return out.row(0, named=True) if out.height else {}
        return self._get("peak", kind, key, compute=compute)

    # -- context, repeat locations, gaps, population (issue 12) ---------------------------------
    def locality_context(self) -> pl.DataFrame:
        """The context counts inside each locality's polygon (= context("locality"))."""
        return self.context("locality")

    def repeat_monthly(self, level: str = "csp") -> pl.DataFrame:
        """hotspot.repeats.repeat_monthly: monthly counts of those points (null = missing month)."""
        from hotspot.repeats import repeat_monthly

        level = self._level(level)
        return self._get("repeat_monthly", level, compute=lambda: repeat_monthly(self.prep, self.filters, level))

    def missing_months(self) -> list[date]:
        """hotspot.area_profiles.missing_months: months of the span with no (or too few) rows."""
        from hotspot.area_profiles import missing_months

        return list(missing_months(self.prep))

    def population(self) -> dict:
        """hotspot.area_profiles.population_provenance: the population's file, year, method."""
        from hotspot.area_profiles import population_provenance

        return self.session.cached(("population",), lambda: population_provenance(self.study))

    # -- Duty measures, risk, coverage ---------------------------------------------------------
    def measures(self, level: str = "csp") -> pl.DataFrame:
        """hotspot.measures.duty_measures: one row per area of `level` and measure."""
        return self._measures(self._level(level))[0]

    def measure_notes(self, level: str = "csp") -> list[str]:
        return list(self._measures(self._level(level))[1])

    def _measures(self, level: str):
        from hotspot.measures import duty_measures

        def compute():
            notes: list[str] = []
            self.session.attach_unplaced(self.prep)  # the force totals count the rows without a place
            frame = duty_measures(self.prep, self.study.ae, self.filters, level, indicators=self.study.indicators,
                                  notes=notes)
            return frame, tuple(dict.fromkeys(notes))
        return self._get("measures", level, compute=compute)

    def risk(self, level: str = "csp") -> pl.DataFrame:
        """hotspot.risk.risk_factors for areas of `level`, or for the hotspot localities with
        level="locality" (long: unit, code, name, factor, ..., flagged, rank)."""
        return self._risk(level)[0]

    def risk_notes(self, level: str = "csp") -> list[str]:
        return list(self._risk(level)[1])

    def _risk(self, level: str):
        from hotspot.risk import risk_factors

        _check(level in LEVELS or level == "locality", "level", level, "one of " + ", ".join(LEVELS + ("locality",)))

        def compute():
            notes: list[str] = []
            target = self.analysis if level == "locality" else level
            frame = risk_factors(self.prep, self.study.indicators, target, areas=self.study.areas, notes=notes)
            return frame, tuple(dict.fromkeys(notes))
        if level == "locality":
            return self._get("risk", level, compute=compute)
        # area risk factors do not depend on the filters: one per session
        return self.session.cached(("risk", level), compute)

    def context(self, level: str = "csp") -> pl.DataFrame:
        """hotspot.context counts (anti-social behaviour, public order, drugs, criminal damage) in
        the same place and window, per area of `level` or per locality (level="locality")."""
        from hotspot.context import area_context, locality_context

        if level == "locality":
            return self._get("context", level, compute=lambda: locality_context(self.prep, self.analysis))
        level = self._level(level)
        return self._get("context", level, compute=lambda: area_context(self.prep, self.filters, level))

    def outcomes(self, level: str = "csp") -> pl.DataFrame:
        """hotspot.context outcome shares (Wilson intervals) per area of `level` or per locality."""
        from hotspot.context import area_outcomes, locality_outcomes

        if level == "locality":
            return self._get("outcomes", level, compute=lambda: locality_outcomes(self.analysis))
        level = self._level(level)
        return self._get("outcomes", level, compute=lambda: area_outcomes(self.prep, self.filters, level))

    def repeats(self, level: str = "csp") -> pl.DataFrame:
        """hotspot.repeats.repeat_locations: each area's most frequent snapped points."""
        from hotspot.repeats import repeat_locations

        level = self._level(level)
        return self._get("repeats", level, compute=lambda: repeat_locations(self.prep, self.filters, level))

    def risk_terrain(self, **kw) -> tuple[pl.DataFrame, pl.DataFrame]:
        """hotspot.risk.risk_terrain over this analysis (seconds on a large grid; cached)."""
        from hotspot.risk import risk_terrain

        key = tuple(sorted(kw.items()))
        return self._get("terrain", key, compute=lambda: risk_terrain(self.prep, self.analysis, **kw))

    def coverage(self, level: str = "csp", all_needs: bool = False) -> Coverage:
        """hotspot.coverage.coverage: reach and gaps for the localities and areas of `level`."""
        from hotspot.coverage import coverage

        level = self._level(level)

        def compute():
            notes: list[str] = []
            reach, gaps = coverage(self.prep, self.analysis, list(self.study.interventions or []), level,
                                   all_needs=bool(all_needs), notes=notes)
            return Coverage(reach, gaps, tuple(dict.fromkeys(notes)))
        return self._get("coverage", level, bool(all_needs), compute=compute)

    def reach(self, kind: str, key: str) -> pl.DataFrame:
        """The coverage reach rows of one locality or area (unit, code, intervention, reaches, ...)."""
        level = "csp" if kind == "locality" else kind
        r = self.coverage(level).reach
        if r.height == 0:
            return r
        unit = "locality" if kind == "locality" else kind
        return r.filter((pl.col("unit") == unit) & (pl.col("code") == key))

    def needs(self, level: str = "csp", terrain: bool = False):
        """hotspot.coverage.Needs built from this Results' cached parts (one bundle per level)."""
        from hotspot.coverage import Needs

        cov = self.coverage(level)
        notes = list(dict.fromkeys(self.profile_notes(level) + self.measure_notes(level) + self.risk_notes(level)
                                   + list(cov.notes)))
        return Needs(level, self.profiles(level), self.monthly(level), self.measures(level), self.risk(level),
                     self.risk("locality"), cov.reach, cov.gaps, self.risk_terrain() if terrain else None, notes)

    # -- export tables and provenance --------------------------------------------------------------
    def table(self, kind: str, level: str = "csp", all_needs: bool = False) -> pl.DataFrame:
        """An export table: hotspots | areas | trends | gaps (polygons as WKB in `geometry_wkb`, BNG)."""
        _check(kind in TABLES, "table", kind, "one of " + ", ".join(TABLES))
        level = self._level(level)
        if kind == "hotspots":
            return self.localities
        if kind == "areas":
            return self._get("table", kind, level, compute=lambda: self._with_polygons(self.profiles(level), level))
        if kind == "trends":
            return self._get("table", kind, level, compute=lambda: self._trends(level))
        return self._get("table", kind, level, bool(all_needs), compute=lambda: self._gaps(level, all_needs))

    def _polygons(self, level: str) -> pl.DataFrame | None:
        areas = getattr(self.study, "areas", None)
        if areas is None:
            return None

        def compute():
            import shapely

            from geodata.areas import level_polygons

            try:
                g = level_polygons(areas, level)
            except (ValueError, KeyError):  # no codes for the level: tables go without polygons
                return None
            return pl.DataFrame({"code": g[f"{level}_code"].astype(str).tolist(),
                                 GEOMETRY: shapely.to_wkb(g.geometry.values)},
                                schema={"code": pl.Utf8, GEOMETRY: pl.Binary})
        return self.session.cached(("polygons", level), compute)

    def _with_polygons(self, frame: pl.DataFrame, level: str) -> pl.DataFrame:
        polys = self._polygons(level)
        if polys is None or frame.height == 0:
            return frame
        return frame.join(polys, on="code", how="left")

    def _trends(self, level: str) -> pl.DataFrame:
        m = self.monthly(level).select(
            pl.lit(level).alias("unit"), "code", "name", "month", pl.col("n").cast(pl.Int64), pl.col("harm"))
        lm = self.analysis.locality_monthly
        if lm.height:
            names = self.localities.select("locality_id", "name")
            lm = lm.join(names, on="locality_id", how="left").select(
                pl.lit("locality").alias("unit"), pl.col("locality_id").alias("code"), "name", "month",
                pl.col("n").cast(pl.Int64), pl.col("harm"))
            m = pl.concat([m, lm], how="vertical_relaxed")
        return m

    def _gaps(self, level: str, all_needs: bool) -> pl.DataFrame:
        gaps = self.coverage(level, all_needs).gaps
        if gaps.height == 0:
            return gaps
        loc = self.localities
        parts = []
        lg = gaps.filter(pl.col("unit") == "locality")
        if lg.height and loc.height and GEOMETRY in loc.columns:
            parts.append(lg.join(loc.select(pl.col("locality_id").alias("code"), GEOMETRY), on="code", how="left"))
        elif lg.height:
            parts.append(lg.with_columns(pl.lit(None, dtype=pl.Binary).alias(GEOMETRY)))
        ag = gaps.filter(pl.col("unit") != "locality")
        if ag.height:
            ag = self._with_polygons(ag, level)
            if GEOMETRY not in ag.columns:
                ag = ag.with_columns(pl.lit(None, dtype=pl.Binary).alias(GEOMETRY))
            parts.append(ag)
        return pl.concat(parts, how="vertical_relaxed") if parts else gaps

    def _parameters(self) -> dict:
        """The parameters as used: the cell size the grid really has (None means 'chosen from the
        data'), and the adopted localities by id (their polygons are in the workspace file)."""
        out = jsonable(self.params)
        out["cell_size"] = float(self.prep.grid.cell_size)
        out["adopted"] = [a.id for a in self.params.adopted]
        return out

    def provenance(self, kind: str = "table", *, rows: int | None = None, crs: str | None = None,
                   extra: dict | None = None) -> dict:
        """Where a table came from, as plain JSON values: study (name, origin), synthetic, window,
        definition (name, version, title), filters, parameters, svtui version, input hashes."""
        st, d = self.study, self.session.definition
        win = self.window
        out = {
            "producer": "svtui",
            "svtui_version": svtui_version(),
            "created_utc": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
            "kind": kind,
            "study": {"name": st.name, "origin": getattr(getattr(st, "spec", None), "origin", None)},
            "synthetic": bool(st.synthetic),
            "window": [jsonable(win[0]), jsonable(win[1])] if win else None,
            "definition": {"name": d.name, "version": str(d.version), "title": d.title},
            "filters": jsonable(self.filters),
            "parameters": self._parameters(),
            "crs": crs,
            "rows": rows,
            "inputs": self.session.inputs(),
        }
        if extra:
            out.update(jsonable(extra))
        return out


def month_end(m: date) -> date:
    """The last day of the month starting m."""
    return date(m.year, m.month, calendar.monthrange(m.year, m.month)[1])
