"""The engine's one entry point: (study, filters, parameters) -> Analysis.

`prepare` does the work that does not depend on filters (classification, harm, the grid, the
study cells and their weights) once per study and definition; `analyse` then runs the filtered
statistics, so a filter change never repeats national- or force-sized set-up work.
Pure and deterministic: reads no files, draws nothing.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import polars as pl
import shapely

from geodata.background import Background
from hotspot import profiles
from hotspot.definition import Definition, classify, fill_crime_type, load_definition
from hotspot.emerging import category_names
from hotspot.emerging import classify as classify_emerging
from hotspot.gistar import gi_star, gi_star_permutation
from hotspot.grid import Grid, centres_inside
from hotspot.harm import add_harm
from hotspot.kde import default_bandwidth, kde_at, kde_pad_cells
from hotspot import localities as L
from hotspot.localities import DEFAULT_AREA_SHARE, AdoptedLocality
from hotspot.significance import locality_significance, window_test
from hotspot.tails import normal_tail
from hotspot.trend import MIN_STEPS, TOO_FEW_STEPS, MannKendall, mann_kendall
from hotspot.weights import RasterNeighbours

MARKER_FILTERS = ("domestic_abuse", "knife", "firearm", "corrosive", "county_lines", "hate_crime", "alcohol", "youth", "sexual")


INFERENCE = ("analytic", "permutation")


def _bad(name: str, accepts: str, got) -> ValueError:
    return ValueError(f"{name} must be {accepts} (got {got!r})")


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _is_num(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and np.isfinite(v)


def _strings(owner, name: str) -> None:
    """Coerce a list of names to a tuple (hashable: filters are cache keys) or raise."""
    v = getattr(owner, name)
    if isinstance(v, str) or not isinstance(v, (tuple, list, set, frozenset)) or not all(isinstance(x, str) for x in v):
        raise _bad(f"Filters.{name}", "a tuple of names", v)
    object.__setattr__(owner, name, tuple(v))


@dataclass(frozen=True)
class Filters:
    """What to analyse. Empty tuples mean 'all'. Months are first-of-month dates, inclusive.

    Validated at construction: a wrong value raises one ValueError naming the field and what it
    accepts.
    """

    start: date | None = None
    end: date | None = None
    categories: tuple[str, ...] = ()
    markers: tuple[str, ...] = ()  # each must be true (see MARKER_FILTERS)
    night_time: bool = False  # only incidents known to start 21:00-03:59
    areas: tuple[str, ...] = ()  # area codes or names at any level
    min_harm: float = 0.0  # localities with less harm are dropped

    def __post_init__(self) -> None:
        for f in ("start", "end"):
            v = getattr(self, f)
            if v is not None and not isinstance(v, date):
                raise _bad(f"Filters.{f}", "a date (first of the month) or None", v)
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"Filters.start ({self.start:%Y-%m}) is after Filters.end ({self.end:%Y-%m}): "
                             "the window must start on or before its end")
        for f in ("categories", "markers", "areas"):
            _strings(self, f)
        bad = [m for m in self.markers if m not in MARKER_FILTERS]
        if bad:
            raise _bad("Filters.markers", f"chosen from {', '.join(MARKER_FILTERS)}", bad[0])
        if not isinstance(self.night_time, bool):
            raise _bad("Filters.night_time", "True or False", self.night_time)
        if not _is_num(self.min_harm) or self.min_harm < 0:
            raise _bad("Filters.min_harm", "a number >= 0", self.min_harm)


@dataclass(frozen=True)
class Params:
    """How to analyse. None means 'chosen from the data' (documented where chosen).

    Validated at construction (scikit-learn style): a wrong value raises one ValueError naming
    the parameter and what it accepts.
    """

    cell_size: float | None = None  # metres; None: DEFAULT_CELL_M (chosen by backtest, docs/backtest.md)
    radius_cells: int = 1  # Gi* and significance windows: the cell and its neighbours this far
    permutations: int = 0  # Gi* conditional-permutation pseudo p per cell (0: not run; slow at 10^5+ cells)
    inference: str = "analytic"  # which Gi* p-values the cells' BH-FDR bins use: analytic|permutation
    alpha: float = 0.05  # FDR level for 'significant'
    seed: int = 0
    bandwidth: float | None = None
    emerging: bool = True
    area_share: float = DEFAULT_AREA_SHARE  # percent of the study area the localities cover
    max_localities: int | None = None  # keep at most this many localities (highest total score)
    adopted: tuple[AdoptedLocality, ...] = ()  # a frozen set from the workspace (svtui localities adopt)

    def __post_init__(self) -> None:
        if self.cell_size is not None and (not _is_num(self.cell_size) or not 10 <= self.cell_size <= 10_000):
            raise _bad("Params.cell_size", "a number of metres between 10 and 10000, or None", self.cell_size)
        if not _is_int(self.radius_cells) or not 1 <= self.radius_cells <= 10:
            raise _bad("Params.radius_cells", "a whole number from 1 to 10", self.radius_cells)
        if not _is_int(self.permutations) or self.permutations < 0:
            raise _bad("Params.permutations", "a whole number >= 0", self.permutations)
        if self.inference not in INFERENCE:
            raise _bad("Params.inference", "'analytic' or 'permutation'", self.inference)
        if self.inference == "permutation" and self.permutations < 1:
            raise ValueError("Params.permutations must be >= 1 when Params.inference is 'permutation'")
        if not _is_num(self.alpha) or not 0 < self.alpha < 1:
            raise _bad("Params.alpha", "a number between 0 and 1 (e.g. 0.05)", self.alpha)
        if not _is_int(self.seed):
            raise _bad("Params.seed", "a whole number", self.seed)
        if self.bandwidth is not None and (not _is_num(self.bandwidth) or self.bandwidth <= 0):
            raise _bad("Params.bandwidth", "a positive number of metres, or None", self.bandwidth)
        if not isinstance(self.emerging, bool):
            raise _bad("Params.emerging", "True or False", self.emerging)
        if not _is_num(self.area_share) or not 0 < self.area_share <= 100:
            raise _bad("Params.area_share", "a percentage of the study area above 0 and at most 100 (e.g. 1)",
                       self.area_share)
        if self.max_localities is not None and (not _is_int(self.max_localities) or self.max_localities < 1):
            raise _bad("Params.max_localities", "a whole number >= 1, or None", self.max_localities)
        if not isinstance(self.adopted, tuple) or not all(isinstance(a, AdoptedLocality) for a in self.adopted):
            raise _bad("Params.adopted", "a tuple of hotspot.localities.AdoptedLocality", type(self.adopted).__name__)


CACHE_SIZE = 32  # at most this many analyses (and other per-filter results) per Prepared
CACHE_CELL_BUDGET = 3_000_000  # ... and at most about this many cell-results in all (~12 B/cell/array)


def cache_entries(prep: "Prepared") -> int:
    """How many results to keep: fewer on big grids, so a long session's memory stays flat."""
    return int(min(CACHE_SIZE, max(4, CACHE_CELL_BUDGET // max(prep.n_cells, 1))))



@dataclass
class Prepared:
    """Filter-independent state for one study and definition."""

    study_name: str
    synthetic: bool
    definition: Definition
    incidents: pl.DataFrame  # all incidents, classified, with harm, flags, `cell` (study-cell index)
    serious: pl.DataFrame  # the serious ones, kept apart so a filter change never rescans the rest
    other: pl.DataFrame  # the located rest (the map score's other-crime term), likewise
    venues: pl.DataFrame
    hierarchy: pl.DataFrame
    grid: Grid
    cell_flat: np.ndarray  # grid flat id of each study cell
    neighbours: RasterNeighbours  # queen neighbourhoods among study cells (Gi*, the scan windows)
    study_area_m2: float
    months: list[date]
    area_index: dict[str, set[str]]  # any code or lower-cased name -> LSOA codes
    notes: list[str]
    cell_info: pl.DataFrame = field(default_factory=pl.DataFrame)
    study_poly: object = None  # union of the boundaries (BNG), None without --areas
    cell_streets: pl.DataFrame = field(default_factory=pl.DataFrame)  # (cell, street, k) whole study  # whole-study harm and labels per cell (ids, names)
    seconds: float = 0.0
    cache: dict = field(default_factory=dict)
    cell_lookup: np.ndarray | None = None  # grid flat id -> study-cell index (-1 outside); n_cells + 1 long

    @property
    def n_cells(self) -> int:
        return len(self.cell_flat)

    @property
    def W(self):
        """The neighbourhoods as a binary CSR matrix, built on first use (permutation tests,
        comparisons with esda); the engine's own sums go through `neighbours`."""
        return self.neighbours.csr()


@dataclass
class Analysis:
    """The results, as plain frames and arrays. Nothing here knows about screens."""

    study_name: str
    synthetic: bool
    definition: Definition
    filters: Filters
    params: Params
    window: tuple[date, date] | None
    incidents: pl.DataFrame  # the filtered serious incidents, with locality_id
    cells: pl.DataFrame  # study cells with any incident, Gi* or KDE signal
    localities: pl.DataFrame  # one row per locality with its profile
    locality_categories: pl.DataFrame
    locality_monthly: pl.DataFrame
    grid: Grid
    cell_flat: np.ndarray
    cell_arrays: dict[str, np.ndarray]  # per study cell: count, harm, z_count, z_harm, bin, kde
    study_area_m2: float
    notes: list[str]
    seconds: dict[str, float]

    @property
    def n_incidents(self) -> int:
        return self.incidents.height

    def locality_area_share(self) -> float:
        if self.localities.height == 0 or self.study_area_m2 <= 0:
            return 0.0
        return float(self.localities["area_m2"].sum() / self.study_area_m2)


def _month_range(lo: date, hi: date) -> list[date]:
    out, y, m = [], lo.year, lo.month
    while (y, m) <= (hi.year, hi.month):
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


# Backtests on real police.uk data choose 100 m cells (docs/backtest.md): the localities chosen on
# 100 m cells matched or beat every independent baseline (prior counts on 100 m and 200 m cells,
# 3x3-smoothed counts, KDE at 150/250/400 m) at 0.5, 1 and 2% of the area on every forward split
# of two forces, and by a wider margin than 200 m cells. police.uk's snapping moves points to
# street-scale map points, which 100 m cells resolve without splitting one point's crimes.
# Larger extents step up so the grid stays under MAX_CELLS.
BASE_CELL_M = 100.0
MAX_CELLS = 1_500_000
NICE_SIZES = (100.0, 150.0, 200.0, 250.0, 300.0, 400.0, 500.0, 750.0, 1000.0, 1500.0, 2000.0, 5000.0)


def engine_cell_size(width_m: float, height_m: float) -> float:
    """The default cell size for a study extent: 100 m unless the grid would be too large."""
    for size in NICE_SIZES:
        if (width_m / size + 1) * (height_m / size + 1) <= MAX_CELLS:
            return size
    return NICE_SIZES[-1]


def build_area_index(hierarchy: pl.DataFrame) -> dict[str, set[str]]:
    """Map every area code and lower-cased name at every level to its LSOA codes."""
    index: dict[str, set[str]] = {}
    if hierarchy is None or hierarchy.height == 0:
        return index
    for level in ("lsoa", "ward", "district", "csp", "force"):
        for kind in ("code", "name"):
            col = f"{level}_{kind}"
            if col not in hierarchy.columns:
                continue
            grouped = (
                hierarchy.filter(pl.col(col).is_not_null())
                .group_by(pl.col(col).alias("key"))
                .agg(pl.col("lsoa_code").alias("codes"))
            )
            for key, codes in grouped.iter_rows():
                k = key if kind == "code" else key.lower()
                index.setdefault(k, set()).update(codes)
    return index


INCOMPLETE_SHARE = 0.1


def complete_months(inc: pl.DataFrame) -> tuple[list[date], list[str]]:
    """The study's months, less thin leading or trailing months (a partial extract, a stray row).

    A first or last month with fewer than 10% of the median monthly count is treated as
    incomplete: analyses default to the complete months, and the user is told.
    """
    counts = inc.filter(pl.col("month").is_not_null()).group_by("month").len().sort("month")
    if counts.height == 0:
        return [], []
    full = pl.DataFrame({"month": _month_range(counts["month"].min(), counts["month"].max())})
    counts = full.join(counts, on="month", how="left").with_columns(pl.col("len").fill_null(0))
    floor = INCOMPLETE_SHARE * float(counts["len"].median())
    ok = (counts["len"] >= floor).to_numpy()
    if not ok.any():
        return counts["month"].to_list(), []
    first, last = int(np.argmax(ok)), len(ok) - 1 - int(np.argmax(ok[::-1]))
    notes = [
        f"{m:%B %Y} has only {n:,} incident{'s' if n != 1 else ''} (median month {counts['len'].median():,.0f}); "
        "treated as incomplete and left out of the default window."
        for m, n, keep in zip(counts["month"], counts["len"], range(len(ok)))
        if keep < first or keep > last
    ]
    return counts["month"].to_list()[first : last + 1], notes


def classified_incidents(study, definition: Definition) -> pl.DataFrame:
    """The study's incidents classified by the definition, with harm and the profile flags:
    what both the area figures (hotspot.area_profiles.area_prep) and `prepare` start from."""
    inc = classify(fill_crime_type(study.incidents), definition)
    inc = add_harm(inc).with_columns(pl.col("harm").fill_null(0.0))
    return profiles.add_flags(inc, study.venues, definition.themed("sexual"))


def study_fields(study, definition: Definition, inc: pl.DataFrame) -> dict:
    """The Prepared fields that come from the study and its classified incidents alone, the
    same for `prepare` and the area figures' `area_prep`; plus `month_notes`."""
    months, month_notes = complete_months(inc)
    areas = study.areas
    hierarchy = areas.hierarchy if areas is not None else pl.DataFrame(schema={"lsoa_code": pl.Utf8})
    return dict(study_name=study.name, synthetic=study.synthetic, definition=definition, incidents=inc,
                serious=inc.filter(pl.col("serious")), venues=study.venues, hierarchy=hierarchy,
                months=months, area_index=build_area_index(hierarchy), month_notes=month_notes)


def _fit_grid(minx: float, miny: float, maxx: float, maxy: float, params: Params) -> Grid:
    cell = params.cell_size or engine_cell_size(maxx - minx, maxy - miny)
    bw = params.bandwidth or default_bandwidth(cell)
    return Grid.fit(np.array([minx, maxx]), np.array([miny, maxy]), cell, pad=kde_pad_cells(bw, cell))


def prepare(study, definition: str | Definition | None = None, params: Params = Params()) -> Prepared:
    """Classify, weight harm, lay the grid and its weights: everything filters don't change."""
    t0 = time.perf_counter()
    notes: list[str] = []
    if not isinstance(definition, Definition):
        name = definition or getattr(study.spec, "definition", None)
        if not name:
            name = "west-mercia" if study.has_records() else "police-uk-proxy"
        definition = load_definition(name)
    # classified on a second thread (Polars) while the grid and its mask (shapely, NumPy) are laid
    inc_job = Background(classified_incidents, study, definition)
    areas = study.areas
    study_poly = mask = None
    if areas is not None and len(areas):
        study_poly = areas.study_polygon()  # the union of the LSOAs (begun while the study loaded)
        minx, miny, maxx, maxy = study_poly.bounds
        study_area = float(study_poly.area)
        grid = _fit_grid(minx, miny, maxx, maxy, params)
        mask = centres_inside(grid, study_poly)
        inc = inc_job.result()
    else:
        inc = inc_job.result()
        serious_xy = inc.filter(pl.col("serious") & pl.col("easting").is_not_null())
        if serious_xy.height:
            xs, ys = serious_xy["easting"].to_numpy(), serious_xy["northing"].to_numpy()
            minx, miny, maxx, maxy = xs.min(), ys.min(), xs.max(), ys.max()
        else:
            minx = miny = 0.0
            maxx = maxy = 1000.0
        study_area = 0.0
        grid = _fit_grid(minx, miny, maxx, maxy, params)
    inc_flat = grid.flat_index(inc["easting"].fill_null(np.nan).to_numpy(), inc["northing"].fill_null(np.nan).to_numpy())
    occupied = np.zeros(grid.n_cells, dtype=bool)
    occupied[inc_flat[inc_flat >= 0]] = True
    if mask is not None:
        inside = mask | occupied
    else:
        inside = np.ones(grid.n_cells, dtype=bool)
        notes.append("No boundary file: the study area is the grid around the incidents; PAI needs boundaries.")
        study_area = float(grid.n_cells * grid.cell_area)
    cell_flat = np.flatnonzero(inside)
    lookup = np.full(grid.n_cells + 1, -1, dtype=np.int64)
    lookup[cell_flat] = np.arange(len(cell_flat))
    inc = inc.with_columns(pl.Series("cell", lookup[np.where(inc_flat >= 0, inc_flat, grid.n_cells)]))
    # the cells' names and streets (Polars) on a second thread while the neighbourhoods (NumPy)
    # are laid out here: both work outside the GIL
    labels_job = Background(lambda: (L.cell_labels(inc), L.street_counts(inc)))
    neighbours = RasterNeighbours(grid.shape, cell_flat, params.radius_cells)

    common = study_fields(study, definition, inc)
    notes.extend(common.pop("month_notes"))
    cell_info, cell_streets = labels_job.result()
    return Prepared(
        **common,
        other=inc.filter(~pl.col("serious") & (pl.col("cell") >= 0)).select("month", "cell", "harm"),
        grid=grid,
        cell_flat=cell_flat,
        neighbours=neighbours,
        study_area_m2=study_area,
        notes=notes,
        cell_info=cell_info,
        cell_streets=cell_streets,
        study_poly=study_poly,
        cell_lookup=lookup,
        seconds=time.perf_counter() - t0,
    )


def in_window(prep: Prepared, inc: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    """Rows in the filters' month window; an open end defaults to the study's complete months."""
    start = filters.start or (prep.months[0] if prep.months else None)
    end = filters.end or (prep.months[-1] if prep.months else None)
    if start:
        inc = inc.filter(pl.col("month") >= start)
    if end:
        inc = inc.filter(pl.col("month") <= end)
    return inc


def select(prep: Prepared, filters: Filters) -> tuple[pl.DataFrame, list[str]]:
    """The serious incidents the filters keep, and notes on what the filters could not see."""
    notes: list[str] = []
    inc = in_window(prep, prep.serious, filters)
    if filters.categories:
        inc = inc.filter(pl.col("categories").list.eval(pl.element().is_in(list(filters.categories))).list.any())
    for m in filters.markers:
        if m not in MARKER_FILTERS:
            raise ValueError(f"unknown marker filter {m!r}; choose from {', '.join(MARKER_FILTERS)}")
        unknown = inc[m].null_count()
        if unknown:
            notes.append(f"{unknown:,} incidents left out by the {m.replace('_', ' ')} filter because the data cannot say.")
        inc = inc.filter(pl.col(m).fill_null(False))
    if filters.night_time:
        unknown = inc["night"].null_count()
        if unknown:
            notes.append(f"{unknown:,} incidents have no time of day and are left out by the night-time filter.")
        inc = inc.filter(pl.col("night").fill_null(False))
    if filters.areas:
        codes: set[str] = set()
        for a in filters.areas:
            found = prep.area_index.get(a) or prep.area_index.get(a.lower())
            if not found:
                raise ValueError(f"unknown area {a!r}: give an ONS code or a name from the study's boundaries")
            codes |= found
        inc = inc.filter(pl.col("lsoa_code").is_in(sorted(codes)))
    return inc, notes


def cell_totals(prep: Prepared, inc: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Incident counts and harm per study cell."""
    cell = inc["cell"].to_numpy()
    ok = cell >= 0
    counts = np.bincount(cell[ok], minlength=prep.n_cells).astype(float)
    harm = np.bincount(cell[ok], weights=inc["harm"].to_numpy()[ok], minlength=prep.n_cells)
    return counts, harm


def kde_cells(prep: Prepared, per_cell: np.ndarray, bandwidth: float) -> np.ndarray:
    """Quartic KDE of per-cell values, read back at the study cells, in events per cell."""
    dens = kde_at(prep.grid.shape, prep.cell_flat, per_cell, prep.grid.cell_size, bandwidth,
                  at=prep.cell_flat, lookup=prep.cell_lookup)
    return dens * prep.grid.cell_area_km2


def other_incidents(prep: Prepared, filters: Filters) -> pl.DataFrame:
    """Located incidents the definition does not count as serious, in the filters' window."""
    return in_window(prep, prep.other, filters)


# The default map score, chosen by backtests on real police.uk data (docs/backtest.md):
# own count + 0.5 x quartic KDE at a 2-cell bandwidth (in events per cell) + 0.2 x the cell's
# other (non-serious) crime, on 100 m cells. Localities chosen by it matched or beat every
# independent 100 m baseline at 0.5%, 1% and 2% of the study area on every forward split of West
# Mercia and Warwickshire 2024 (bench/bench_backtest.py). Weights were compared on those same
# splits (1.0/0.1, 1.0/0.2, 1.0/0.3, 0.5/0.1, 0.5/0.2 for smoothing/other), so the margins are
# optimistic; the weights matter most at the edge of the budget, where cells with no serious
# offence yet are ranked by their neighbours and their other crime.
SMOOTH_WEIGHT = 0.5
SMOOTH_CELLS = 2.0
OTHER_WEIGHT = 0.2


def map_score(prep: Prepared, counts: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Where next period's serious violence is most likely: the engine's default ranking.

    A cell's own count carries most of the signal at small area shares (crime concentrates at
    places); the kernel-smoothed neighbourhood breaks the many ties between low counts and lends
    weight to cells beside busy places; other recorded crime is a denser, noisier witness of
    the same places (town centres, night-time venues).
    """
    bw = max(prep.grid.cell_size * SMOOTH_CELLS, 150.0)
    return counts + SMOOTH_WEIGHT * kde_cells(prep, counts, bw) + OTHER_WEIGHT * other


def analyse(prep: Prepared, filters: Filters = Filters(), params: Params = Params(), progress=None) -> Analysis:
    """Run the filtered analysis. Cached per (filters, params) on the Prepared object.

    `progress(message, fraction)`, if given, is called between the steps (from this thread).
    """
    key = (filters, params)
    if key in prep.cache:
        return prep.cache[key]
    say = progress or (lambda msg, frac: None)
    say("Selecting incidents", 0.0)
    t = {"start": time.perf_counter()}
    inc, notes = select(prep, filters)
    notes = list(prep.notes) + notes
    t["select"] = time.perf_counter()
    say("Gi* hot spots", 0.1)
    n = prep.n_cells
    cell = inc["cell"].to_numpy()
    ok = cell >= 0
    counts = np.bincount(cell[ok], minlength=n).astype(float)
    harm = np.bincount(cell[ok], weights=inc["harm"].to_numpy()[ok], minlength=n)

    # The scan test (what decides 'significant') on a second thread while Gi* runs here.
    wt_job = Background(window_test, counts, prep.neighbours, prep.grid.cell_area,
                        prep.study_area_m2 or float(n * prep.grid.cell_area))
    # Gi* per cell is kept for the map's shading and for analysts who know it; it does not
    # decide what is 'significant' for a locality (hotspot.significance says why).
    perm = params.permutations if params.inference == "permutation" else 0
    gi_h = gi_star(harm, prep.neighbours, permutations=perm, alpha=params.alpha, fdr=True, seed=params.seed)
    if params.inference == "permutation":
        p_perm = gi_h.p_hot
    elif params.permutations:
        p_perm, _ = gi_star_permutation(harm, prep.neighbours, params.permutations, params.seed)
    else:
        p_perm = np.full(n, np.nan)
    gi_c = gi_star(counts, prep.neighbours, permutations=0, alpha=params.alpha, fdr=True)
    z_count = gi_c.z
    t["gistar"] = time.perf_counter()
    say("Kernel density", 0.35)

    bw = params.bandwidth or default_bandwidth(prep.grid.cell_size)
    dens = kde_at(prep.grid.shape, prep.cell_flat, counts, prep.grid.cell_size, bw, at=prep.cell_flat,
                  lookup=prep.cell_lookup)
    other, _ = cell_totals(prep, other_incidents(prep, filters))
    score = map_score(prep, counts, other)  # the backtested ranking (docs/backtest.md)
    t["kde"] = time.perf_counter()
    say("Choosing localities", 0.45)

    labels, groups = L.assign(prep.grid, prep.cell_flat, score, params.area_share, prep.study_area_m2,
                              params.max_localities, params.adopted)
    wt = wt_job.result()
    loc = _locality_table(prep, inc, labels, groups, wt, gi_h.z, params)
    idx = labels[np.maximum(cell, 0)]
    ids = loc.sort("index")["locality_id"].to_list() if loc.height else []
    member = np.where(ok & (idx >= 0), idx, len(ids))
    inc = inc.with_columns(pl.Series("locality_id", ids + [None], dtype=pl.Utf8).gather(member))
    t["localities"] = time.perf_counter()
    say("Emerging hot spots", 0.7)

    window = (inc["month"].min(), inc["month"].max()) if inc.height else None
    months = [m for m in prep.months if (not filters.start or m >= filters.start) and (not filters.end or m <= filters.end)]
    pattern = np.zeros(n, dtype=np.int8)
    if params.emerging and len(months) >= MIN_STEPS and inc.height:
        pattern = _emerging(prep, inc, months, params)
    t["emerging"] = time.perf_counter()
    say("Profiling localities", 0.85)

    loc, cat_mix, loc_monthly = _locality_profiles(prep, inc, loc, months)
    loc = _locality_patterns(inc, loc, pattern, len(months), params.emerging)
    if filters.min_harm > 0 and loc.height:
        loc = loc.filter(pl.col("harm") >= filters.min_harm)
    loc = _locality_columns(loc)
    t["profiles"] = time.perf_counter()

    arrays = {
        "count": counts,
        "harm": harm,
        "z_count": z_count,
        "p_count": gi_c.p,
        "bin_count": gi_c.bin,
        "significant_count": gi_c.significant,
        "z_harm": gi_h.z,
        "p_harm": gi_h.p,
        "p_perm": p_perm,
        "bin": gi_h.bin,
        "significant": gi_h.significant,
        "kde": dens,
        "score": score,
        "pattern": pattern,
        "window_count": wt.count,
        "window_expected": wt.expected,
        "window_p": wt.p,
        "window_q": wt.q,
        "locality": labels,
    }
    keep = (counts > 0) | gi_h.significant | gi_c.significant | (pattern != 0) | (labels >= 0)
    kr, kc = prep.grid.from_flat(prep.cell_flat[keep])
    cells = pl.DataFrame(
        {
            "cell": prep.cell_flat[keep],
            "x": prep.grid.x0 + (kc + 0.5) * prep.grid.cell_size,
            "y": prep.grid.y0 + (kr + 0.5) * prep.grid.cell_size,
            **{k: v[keep] for k, v in arrays.items()},
        }
    ).with_columns(pl.Series("pattern_name", category_names(pattern[keep]).astype(str)))
    seconds = {k: t[k] - t["start"] for k in t if k != "start"}
    seconds["total"] = time.perf_counter() - t["start"]
    result = Analysis(
        study_name=prep.study_name,
        synthetic=prep.synthetic,
        definition=prep.definition,
        filters=filters,
        params=replace(params, cell_size=prep.grid.cell_size),
        window=window,
        incidents=inc,
        cells=cells,
        localities=loc,
        locality_categories=cat_mix,
        locality_monthly=loc_monthly,
        grid=prep.grid,
        cell_flat=prep.cell_flat,
        cell_arrays=arrays,
        study_area_m2=prep.study_area_m2,
        notes=notes,
        seconds=seconds,
    )
    keys = [key] if result.params == params else [key, (filters, result.params)]  # resolved params find it too
    while prep.cache and len(prep.cache) + len(keys) > cache_entries(prep):  # oldest first; others' entries count
        prep.cache.pop(next(iter(prep.cache)))
    for k in keys:
        prep.cache[k] = result
    return result


def _locality_table(prep: Prepared, inc: pl.DataFrame, labels: np.ndarray, groups: pl.DataFrame, wt, z_harm: np.ndarray,
                    params: Params) -> pl.DataFrame:
    """One row per locality: id, name, counts and harm of the incidents in its cells, polygon, significance."""
    k = groups.height
    if k == 0:
        return pl.DataFrame(schema={**LOCALITY_SCHEMA, "index": pl.Int64})
    grid = prep.grid
    in_loc = np.flatnonzero(labels >= 0)
    lab = labels[in_loc]
    n_cells = np.bincount(lab, minlength=k)
    polys = L.cell_polygons(grid, prep.cell_flat[in_loc], lab, k)
    anchor = L.anchors(labels, k, prep.cell_info)
    r, c = grid.from_flat(prep.cell_flat[np.maximum(anchor, 0)])
    ax = np.where(anchor >= 0, grid.x0 + (c + 0.5) * grid.cell_size, np.nan)
    ay = np.where(anchor >= 0, grid.y0 + (r + 0.5) * grid.cell_size, np.nan)
    p, q, sig = locality_significance(labels, k, wt, params.alpha)
    gi = np.full(k, -np.inf)
    np.maximum.at(gi, lab, z_harm[in_loc])
    cell = inc["cell"].to_numpy()
    member = np.where(cell >= 0, labels[np.maximum(cell, 0)], -1)
    m = member >= 0
    n_inc = np.bincount(member[m], minlength=k)
    h = np.bincount(member[m], weights=inc["harm"].to_numpy()[m], minlength=k)
    info = prep.cell_info.select("cell", "street", "place_type", "lsoa_code")
    base = pl.DataFrame(
        {
            "index": np.arange(k, dtype=np.int64),
            "anchor": anchor,
            "x": ax,
            "y": ay,
            "n_incidents": n_inc.astype(np.int64),
            "harm": h.astype(float),
            "n_cells": n_cells.astype(np.int64),
            "area_m2": n_cells * grid.cell_area,
            "cell_size_m": np.full(k, grid.cell_size),
            "significant": sig,
            "p_value": p,
            "q_value": q,
            "gi_max_z": np.where(np.isfinite(gi), gi, np.nan),
            "geometry_wkb": shapely.to_wkb(polys),
        },
        schema_overrides={"geometry_wkb": pl.Binary},
    ).join(groups, on="index", how="left").join(info.rename({"cell": "anchor"}), on="anchor", how="left")
    members = inc.select(pl.Series("index", member), "cell", "harm").filter(pl.col("index") >= 0)
    lookup = prep.cell_lookup
    if lookup is None:
        lookup = np.full(grid.n_cells + 1, -1, dtype=np.int64)
        lookup[prep.cell_flat] = np.arange(prep.n_cells)
    venue = L.top_venue(members, prep.venues, labels, grid, lookup)
    # Name: the anchor cell's most frequent street label, else the locality's (both whole-study,
    # so a name does not move with the window); a named venue inside it comes first.
    base = base.join(L.locality_streets(labels, prep.cell_streets), on="index", how="left").with_columns(
        pl.coalesce("street", "street_any").alias("street")).drop("street_any")
    base = base.join(venue, on="index", how="left").with_columns(pl.coalesce("venue", "street").alias("focus"))
    new_ids = L.locality_ids(ax, ay)
    adopted_any = bool(groups["adopted"].any())
    base = base.with_columns(
        pl.coalesce(pl.col("adopted_id"), pl.Series(new_ids, dtype=pl.Utf8)).alias("locality_id"),
        (~pl.col("adopted") & pl.lit(adopted_any)).alias("new"),
    )
    base = L.place_names(base, prep.hierarchy)
    base = base.with_columns(pl.coalesce("adopted_name", "name").alias("name"))
    return base.drop("adopted_id", "adopted_name", "venue", "anchor")


LOCALITY_SCHEMA = {
    "locality_id": pl.Utf8, "name": pl.Utf8, "place": pl.Utf8, "focus": pl.Utf8, "street": pl.Utf8,
    "place_type": pl.Utf8, "lsoa_code": pl.Utf8, "x": pl.Float64, "y": pl.Float64, "n_incidents": pl.Int64,
    "harm": pl.Float64, "n_cells": pl.Int64, "area_m2": pl.Float64, "cell_size_m": pl.Float64,
    "significant": pl.Boolean, "p_value": pl.Float64, "q_value": pl.Float64, "gi_max_z": pl.Float64,
    "adopted": pl.Boolean, "new": pl.Boolean, "score": pl.Float64, "geometry_wkb": pl.Binary,
}


def _locality_columns(loc: pl.DataFrame) -> pl.DataFrame:
    """The export schema's names beside the engine's own: id, incidents, csp."""
    csp = pl.col("csp_name") if "csp_name" in loc.columns else pl.lit(None, dtype=pl.Utf8)
    out = loc.with_columns(pl.col("locality_id").alias("id"), pl.col("n_incidents").alias("incidents"), csp.alias("csp"))
    if "index" in out.columns:
        out = out.drop("index")
    first = ["locality_id", "id", "name", "incidents", "n_incidents", "harm", "area_m2", "significant", "p_value",
             "q_value", "pattern", "pattern_reason", "trend", "trend_reason", "n_steps", "steps_needed", "csp"]
    return out.select([c for c in first if c in out.columns] + [c for c in out.columns if c not in first])


def _emerging(prep: Prepared, inc: pl.DataFrame, months: list[date], params: Params) -> np.ndarray:
    """Emerging hot spot pattern per study cell over monthly steps (0 = no pattern).

    Gi* per month uses every study cell for its mean and variance, but z is only computed for
    cells with an incident somewhere in their neighbourhood in some month: every other cell has
    a zero local sum in every month, so it cannot be a significant hot spot. BH-FDR per month
    counts all n cells as tests; the untested cells' p-values are near 1 and never pass, so the
    cut-off from the tested cells alone is the same.
    """
    m0 = months[0]
    T = len(months)
    step = ((inc["month"].dt.year() - m0.year) * 12 + inc["month"].dt.month() - m0.month).to_numpy()
    cell = inc["cell"].to_numpy()
    ok = (cell >= 0) & (step >= 0) & (step < T)
    n = prep.n_cells
    occ, inv = np.unique(cell[ok], return_inverse=True)
    cube_occ = np.zeros((len(occ), T))
    np.add.at(cube_occ, (inv, step[ok]), 1.0)
    # Cells whose closed neighbourhood touches an occupied cell.
    nb = prep.neighbours
    is_occ = np.zeros(n)
    is_occ[occ] = 1.0
    touch = (nb.lag(is_occ) + is_occ) > 0
    sub = np.flatnonzero(touch)
    self_vals = np.zeros((len(sub), T))
    pos = np.searchsorted(sub, occ)  # every occupied cell is in sub
    self_vals[pos] = cube_occ
    lag = nb.lag_rows(sub, cube_occ, occ) + self_vals  # closed-neighbourhood sums, (n_sub, T)
    w = nb.wi[sub]  # binary weights incl. self
    s1 = cube_occ.sum(axis=0)
    s2 = (cube_occ**2).sum(axis=0)
    xbar = s1 / n
    sd = np.sqrt(np.maximum(s2 / n - xbar**2, 0.0))
    den = sd[None, :] * np.sqrt((n * w - w**2) / (n - 1))[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(den > 0, (lag - xbar[None, :] * w[:, None]) / den, 0.0)
    p = 2 * normal_tail(z)
    bins = np.zeros_like(z, dtype=np.int8)
    for t in range(T):  # BH per month over n tests (Benjamini & Hochberg 1995)
        # Only p <= alpha can pass, and those are the smallest p's, so their ranks among the
        # candidates are their ranks among all n tests.
        cand = np.sort(p[:, t][p[:, t] <= params.alpha])
        passing = cand <= np.arange(1, len(cand) + 1) * params.alpha / n
        thr = cand[np.flatnonzero(passing)[-1]] if passing.any() else -1.0
        bins[:, t] = np.where(p[:, t] <= thr, np.sign(z[:, t]), 0).astype(np.int8)
    # The trend only decides among cells hot (or cold) in >= 90% of steps; test just those.
    need = np.maximum((bins > 0).sum(axis=1), (bins < 0).sum(axis=1)) >= np.ceil(0.9 * T - 1e-9)
    part = mann_kendall(z[need])
    m = len(sub)

    def spread(values, fill):
        out = np.full(m, fill, dtype=float)
        out[need] = values
        return out

    trend = MannKendall(
        s=spread(part.s, 0).astype(np.int64),
        var_s=spread(part.var_s, 0.0),
        z=spread(part.z, 0.0),
        p=spread(part.p, 1.0),
        tau=spread(part.tau, np.nan),
        n=spread(part.n, T).astype(np.int64),
    )
    ever = (bins != 0).any(axis=1)  # never significant -> no pattern; skip classifying those
    codes = np.zeros(m, dtype=np.int8)
    if ever.any():
        t_ever = MannKendall(*(getattr(trend, f)[ever] for f in ("s", "var_s", "z", "p", "tau", "n")))
        codes[ever] = classify_emerging(bins[ever], trend=t_ever, alpha=params.alpha)
    out = np.zeros(n, dtype=np.int8)
    out[sub] = codes
    return out


def _locality_patterns(inc: pl.DataFrame, loc: pl.DataFrame, pattern: np.ndarray, n_steps: int, emerging: bool) -> pl.DataFrame:
    """Each locality's emerging hot spot pattern: that of its cell with the most harm.

    With fewer than MIN_STEPS months there is no pattern (null) and the reason code
    `too_few_steps`, with `n_steps` and `steps_needed` for the faces to say so.
    """
    reason = None if n_steps >= MIN_STEPS else TOO_FEW_STEPS
    if not emerging and reason is None:
        reason = "not_run"
    loc = loc.with_columns(
        pl.lit(reason, dtype=pl.Utf8).alias("pattern_reason"),
        pl.lit(n_steps, dtype=pl.Int64).alias("n_steps"),
        pl.lit(MIN_STEPS, dtype=pl.Int64).alias("steps_needed"),
    )
    if loc.height == 0 or reason is not None:
        return loc.with_columns(pl.lit(None, dtype=pl.Utf8).alias("pattern"))
    top = (
        inc.filter(pl.col("locality_id").is_not_null() & (pl.col("cell") >= 0))
        .group_by("locality_id", "cell")
        .agg(pl.col("harm").sum().alias("h"))
        .sort(["locality_id", "h", "cell"], descending=[False, True, False])
        .group_by("locality_id", maintain_order=True)
        .first()
    )
    names = category_names(pattern[top["cell"].to_numpy()]).astype(str)
    top = top.select("locality_id", pl.Series("pattern", names, dtype=pl.Utf8))
    return loc.join(top, on="locality_id", how="left")


def _locality_profiles(prep: Prepared, inc: pl.DataFrame, loc: pl.DataFrame, months: list[date]):
    """Join profile fields, trend and area to each locality."""
    members = inc.filter(pl.col("locality_id").is_not_null())
    if loc.height == 0:
        empty_mix = pl.DataFrame(schema={"locality_id": pl.Utf8, "category": pl.Utf8, "n": pl.UInt32, "harm": pl.Float64, "share": pl.Float64})
        empty_monthly = pl.DataFrame(schema={"locality_id": pl.Utf8, "month": pl.Date, "n": pl.UInt32, "harm": pl.Float64})
        return loc, empty_mix, empty_monthly
    by = "locality_id"
    shares = profiles.flag_shares(members, by).drop("n", "harm")
    peaks = profiles.peak_times(members, by)
    venues = profiles.top_venues(members, by)
    mix = profiles.category_mix(members, by)
    monthly = profiles.monthly(members, by, months)
    series = monthly.pivot(on="month", index=by, values="n", sort_columns=True)
    if len(months) >= MIN_STEPS:
        mk = mann_kendall(series.drop(by).to_numpy().astype(float))
        trend = pl.DataFrame(
            {
                by: series[by],
                "trend_tau": mk.tau,
                "trend_p": mk.p,
                "trend": np.array(["falling", "no clear trend", "rising"])[mk.direction(0.05) + 1],
                "trend_reason": pl.Series([None] * series.height, dtype=pl.Utf8),
            }
        )
    else:  # Mann-Kendall on fewer than MIN_STEPS months would say "no clear trend" whatever happened
        trend = pl.DataFrame(
            {by: series[by]},
        ).with_columns(
            pl.lit(None, dtype=pl.Float64).alias("trend_tau"),
            pl.lit(None, dtype=pl.Float64).alias("trend_p"),
            pl.lit(None, dtype=pl.Utf8).alias("trend"),
            pl.lit(TOO_FEW_STEPS, dtype=pl.Utf8).alias("trend_reason"),
        )
    out = loc.join(shares, on=by, how="left").join(peaks, on=by, how="left").join(venues, on=by, how="left").join(trend, on=by, how="left")
    if len(months) < MIN_STEPS:  # also for localities with no offence in the window
        out = out.with_columns(pl.lit(TOO_FEW_STEPS, dtype=pl.Utf8).alias("trend_reason"))
    if prep.hierarchy.height and "csp_code" in prep.hierarchy.columns:
        up = [c for c in ("ward_code", "ward_name", "district_code", "district_name", "csp_code", "csp_name") if c in prep.hierarchy.columns]
        out = out.join(prep.hierarchy.select("lsoa_code", *up), on="lsoa_code", how="left")
        csp_harm = inc.join(prep.hierarchy.select("lsoa_code", "csp_code"), on="lsoa_code", how="left").group_by("csp_code").agg(pl.col("harm").sum().alias("csp_harm"))
        out = out.join(csp_harm, on="csp_code", how="left").with_columns(
            (pl.col("harm") / pl.col("csp_harm")).alias("share_of_area_harm")
        ).drop("csp_harm")
    else:
        total = float(inc["harm"].sum()) or 1.0
        out = out.with_columns((pl.col("harm") / total).alias("share_of_area_harm"))
    return out.sort("harm", descending=True), mix, monthly


def run(study, filters: Filters = Filters(), params: Params = Params(), definition=None) -> Analysis:
    """Convenience: prepare and analyse in one call."""
    return analyse(prepare(study, definition, params), filters, params)


__all__ = ["Filters", "Params", "Prepared", "Analysis", "prepare", "analyse", "select", "run", "replace"]
