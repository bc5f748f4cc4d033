"""Emerging hot spot categories (ArcGIS Pro "Emerging Hot Spot Analysis").

Each cell gets a Gi* z-score and a significance bin (+1 hot, -1 cold, 0 not) for every
time step; the Mann-Kendall test on its z series then says whether clustering is
intensifying or diminishing. The categories follow Esri's "How Emerging Hot Spot
Analysis works" page (ArcGIS Pro 3.x), with ``share = 0.9``:

=============  ================================================================
New            hot in the final step only; never significant before.
Consecutive    one unbroken run of >= 2 hot steps ending at the final step;
               never significant before the run; < 90% of steps hot.
Intensifying   >= 90% of steps hot, final step hot, significant upward trend.
Persistent     >= 90% of steps hot, final step hot, no significant trend.
Diminishing    >= 90% of steps hot, final step hot, significant downward trend.
Sporadic       final step hot, < 90% hot, hot before with gaps, never cold.
Oscillating    final step hot, < 90% hot, cold in some earlier step.
Historical     final step not significant, >= 90% of steps hot.
=============  ================================================================

Cold categories mirror these with hot and cold swapped; for cold spots
"intensifying" means z trending *down* (colder). Everything else is "No pattern".

Edge cases settled here (Esri's text leaves them open):

* The final step decides the family: final hot -> a hot category, final cold -> a
  cold one, final not significant -> Historical or No pattern. So a cell hot in 9 of
  10 steps and cold in the last is an *Oscillating cold spot*, not Historical hot.
* Persistent needs the final step hot; with it not significant the cell is
  Historical (Esri lists both as ">= 90% hot" and only Historical mentions the
  final step).
* New and Consecutive need no earlier *cold* step either: a cell that was cold and
  is now hot is Oscillating, the category Esri defines for exactly that history.
* "At least 90%" is ``count >= ceil(0.9 * T)`` counted exactly in integers.
* Trend significance uses ``p < alpha`` (two-sided Mann-Kendall on the z series,
  missing z values dropped).

Differences from ArcGIS: this uses purely spatial Gi* per step (ArcGIS can also pull
neighbours from adjacent time steps); the trend test has little power under ~10
steps, so use a year or more of months.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import polars as pl

from .trend import MannKendall, mann_kendall

__all__ = [
    "NO_PATTERN", "NEW", "CONSECUTIVE", "INTENSIFYING", "PERSISTENT", "DIMINISHING",
    "SPORADIC", "OSCILLATING", "HISTORICAL", "CATEGORY_NAMES", "category_names",
    "classify", "EmergingResult", "emerging_hotspots", "count_cube", "month_index",
]

# Codes: +k for a hot category, -k for its cold mirror, 0 for no pattern.
NO_PATTERN = 0
NEW, CONSECUTIVE, INTENSIFYING, PERSISTENT = 1, 2, 3, 4
DIMINISHING, SPORADIC, OSCILLATING, HISTORICAL = 5, 6, 7, 8

_BASE = {NEW: "New", CONSECUTIVE: "Consecutive", INTENSIFYING: "Intensifying",
         PERSISTENT: "Persistent", DIMINISHING: "Diminishing", SPORADIC: "Sporadic",
         OSCILLATING: "Oscillating", HISTORICAL: "Historical"}

#: Code -> display name, in ArcGIS wording ("New Hot Spot", "No Pattern Detected").
CATEGORY_NAMES: dict[int, str] = {NO_PATTERN: "No Pattern Detected"}
CATEGORY_NAMES.update({k: f"{v} Hot Spot" for k, v in _BASE.items()})
CATEGORY_NAMES.update({-k: f"{v} Cold Spot" for k, v in _BASE.items()})


def category_names(codes) -> np.ndarray:
    """Display names for an array of category codes."""
    codes = np.asarray(codes)
    lookup = np.array([CATEGORY_NAMES[k] for k in range(-8, 9)], dtype=object)
    return lookup[codes.astype(np.int64) + 8]


def _signed(bins: np.ndarray, min_level: int) -> np.ndarray:
    return np.where(bins >= min_level, 1, np.where(bins <= -min_level, -1, 0)).astype(np.int8)


def classify(bins, z=None, *, trend: MannKendall | None = None, alpha: float = 0.05,
             share: float = 0.9, min_level: int = 1) -> np.ndarray:
    """Category code per cell from ``(n_cells, T)`` Gi* bins and z-scores.

    ``bins`` holds +1/-1/0 (significant hot/cold/not), or ArcGIS Gi_Bin levels
    -3..3 (99/95/90% confidence); a step counts as hot when ``bin >= min_level``
    and cold when ``bin <= -min_level``. Pass either the z-scores (the
    Mann-Kendall test is run on them) or a precomputed ``trend``. Returns an int8
    array of codes (see ``CATEGORY_NAMES``). Vectorised over cells; loops only over
    the T axis.
    """
    raw = np.asarray(bins)
    if raw.ndim != 2:
        raise ValueError("bins must be a 2-D (n_cells, T) array")
    if not (np.all(np.isfinite(raw)) and np.all(raw == np.round(raw))):
        raise ValueError("bins must be whole numbers (+1/-1/0 or Gi_Bin -3..3)")
    if min_level < 1:
        raise ValueError("min_level must be >= 1")
    b = _signed(raw, min_level)
    n_cells, t_len = b.shape
    if t_len < 1:
        raise ValueError("need at least one time step")
    if trend is None:
        if z is None:
            raise ValueError("pass z (Gi* z-scores) or a precomputed trend")
        z = np.asarray(z, dtype=float)
        if z.shape != b.shape:
            raise ValueError(f"z shape {z.shape} differs from bins shape {b.shape}")
        trend = mann_kendall(z)
    if trend.s.shape != (n_cells,):
        raise ValueError("trend must have one entry per cell")
    if not 0.5 < share <= 1:
        raise ValueError("share must be in (0.5, 1] so hot and cold cannot both pass")
    need = math.ceil(share * t_len - 1e-9)
    direction = trend.direction(alpha)

    out = np.zeros(n_cells, dtype=np.int8)
    for sign in (1, -1):
        own = b == sign
        other = b == -sign
        n_own = own.sum(axis=1)
        mostly = n_own >= need
        final_own = own[:, -1]
        final_quiet = b[:, -1] == 0
        # Length of the run of `own` steps that ends at the final step.
        run = np.zeros(n_cells, dtype=np.int64)
        alive = np.ones(n_cells, dtype=bool)
        for t in range(t_len - 1, -1, -1):
            alive &= own[:, t]
            run += alive
        own_before_run = n_own > run
        ever_other = other.any(axis=1)
        rel = direction * sign  # +1 = strengthening for this family

        code = np.zeros(n_cells, dtype=np.int8)
        m = final_own & mostly
        code[m & (rel > 0)] = INTENSIFYING
        code[m & (rel < 0)] = DIMINISHING
        code[m & (rel == 0)] = PERSISTENT
        m = final_own & ~mostly
        code[m & ever_other] = OSCILLATING
        m_clean = m & ~ever_other
        code[m_clean & ~own_before_run & (run == 1)] = NEW
        code[m_clean & ~own_before_run & (run >= 2)] = CONSECUTIVE
        code[m_clean & own_before_run] = SPORADIC
        code[final_quiet & mostly] = HISTORICAL
        out = np.where(code != 0, sign * code, out).astype(np.int8)
    return out


@dataclass(frozen=True)
class EmergingResult:
    """Emerging hot spot output: one category per cell plus the inputs behind it."""

    category: np.ndarray   #: int8 code per cell (see CATEGORY_NAMES)
    z: np.ndarray          #: (n_cells, T) Gi* z-scores
    bins: np.ndarray       #: (n_cells, T) hot +1 / cold -1 / not 0, after min_level
    trend: MannKendall     #: Mann-Kendall on each cell's z series

    @property
    def names(self) -> np.ndarray:
        return category_names(self.category)

    def to_frame(self, cell_ids=None) -> pl.DataFrame:
        """One row per cell: id, category code and name, trend and hot/cold counts."""
        n = self.category.shape[0]
        ids = np.arange(n) if cell_ids is None else np.asarray(cell_ids)
        return pl.DataFrame({
            "cell": ids,
            "category": self.category,
            "pattern": self.names.astype(str),
            "trend_z": self.trend.z,
            "trend_p": self.trend.p,
            "trend_tau": self.trend.tau,
            "n_hot": (self.bins == 1).sum(axis=1),
            "n_cold": (self.bins == -1).sum(axis=1),
        })


def emerging_hotspots(cube, gi: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
                      *, alpha: float = 0.05, share: float = 0.9,
                      min_level: int = 1) -> EmergingResult:
    """Run ``gi`` on each time slice of a ``(n_cells, T)`` cube, then ``classify``.

    ``gi(values) -> (z, bin)`` computes Gi* for one time step and returns the
    z-scores and signed significance (+1/-1/0, or Gi_Bin levels, see ``min_level``
    in ``classify``). For example, with ``hotspot.gistar``::

        def gi(v):
            r = gi_star(v, W, permutations=0, alpha=0.05, fdr=True)
            return r.z, np.sign(r.z) * r.significant

    Keeping it a parameter leaves weights, permutations and FDR to the caller.
    ``alpha`` is the Mann-Kendall trend level. Non-finite z (e.g. a month with no
    events) is kept as NaN and dropped from that cell's trend test.
    """
    cube = np.asarray(cube, dtype=float)
    if cube.ndim != 2:
        raise ValueError("cube must be a 2-D (n_cells, T) array")
    n_cells, t_len = cube.shape
    z = np.full((n_cells, t_len), np.nan)
    bins = np.zeros((n_cells, t_len), dtype=np.int8)
    for t in range(t_len):
        zt, bt = gi(cube[:, t])
        zt = np.asarray(zt, dtype=float).ravel()
        bt = np.nan_to_num(np.asarray(bt, dtype=float).ravel()).astype(np.int8)
        if zt.shape != (n_cells,) or bt.shape != (n_cells,):
            raise ValueError(f"gi returned arrays of the wrong length at step {t}")
        z[:, t] = np.where(np.isfinite(zt), zt, np.nan)
        bins[:, t] = bt
    trend = mann_kendall(z)
    category = classify(bins, trend=trend, alpha=alpha, share=share, min_level=min_level)
    return EmergingResult(category=category, z=z, bins=_signed(bins, min_level), trend=trend)


def count_cube(cell, step, n_cells: int, n_steps: int, weights=None) -> np.ndarray:
    """``(n_cells, n_steps)`` array of event counts (or summed weights) per cell per step.

    ``cell`` and ``step`` are integer arrays, one entry per event; negative values
    mean "unassigned" (e.g. outside the grid, ``Grid.flat_index`` gives -1) and are
    dropped. Values past the end raise, since they mean the sizes are wrong.
    """
    cell = np.asarray(cell).ravel()
    step = np.asarray(step).ravel()
    if cell.shape != step.shape:
        raise ValueError("cell and step differ in length")
    if cell.size and (cell.max() >= n_cells or step.max() >= n_steps):
        raise ValueError("cell or step index beyond n_cells / n_steps")
    keep = (cell >= 0) & (step >= 0)
    flat = cell[keep].astype(np.int64) * n_steps + step[keep].astype(np.int64)
    w = None
    if weights is not None:
        w = np.asarray(weights, dtype=float).ravel()
        if w.shape != cell.shape:
            raise ValueError("weights must match cell and step in length")
        w = w[keep]
    counts = np.bincount(flat, weights=w, minlength=n_cells * n_steps)
    return counts.astype(float, copy=False).reshape(n_cells, n_steps)


def month_index(months) -> tuple[np.ndarray, list[str]]:
    """Consecutive month numbers from police.uk ``Month`` strings (``"2024-03"``) or dates.

    Returns ``(index, labels)``: ``index[i]`` counts months from the earliest month,
    and ``labels`` names every month in the span (gaps included, so a month with no
    events is still a time step).
    """
    s = pl.Series("m", months)
    if s.len() == 0:
        raise ValueError("no months given")
    if s.null_count():
        raise ValueError("months contain missing values")
    if s.dtype == pl.String:
        d = (s.str.slice(0, 7) + "-01").str.strptime(pl.Date, "%Y-%m-%d", strict=True)
    else:
        d = s.cast(pl.Date)
    ym = (d.dt.year().cast(pl.Int64) * 12 + d.dt.month().cast(pl.Int64) - 1).to_numpy()
    first = int(ym.min())
    idx = ym - first
    span = int(idx.max()) + 1
    labels = [f"{(first + k) // 12:04d}-{(first + k) % 12 + 1:02d}" for k in range(span)]
    return idx.astype(np.int64), labels
