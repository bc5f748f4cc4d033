"""How well a hotspot map predicts where crime happens next.

A map is fitted on one period (the *training* scores, e.g. KDE or Gi* z per cell),
its top cells are taken as the hotspots, and the next period's crimes (the *test*
counts per cell) are scored against them:

* Hit rate ``n / N``: share of test crimes inside the hotspots.
* PAI, Predictive Accuracy Index ``(n / N) / (a / A)`` (Chainey, Tompson & Uhlig
  2008, *Security Journal* 21): hit rate over the share of study area flagged.
  1 is no better than chance; it grows as hotspots shrink, so compare maps only
  at the same area share.
* PEI*, Predictive Efficiency Index ``n / n*`` (White, Hunt & Green 2023): ``n*``
  is the most test crimes *any* set of cells of the same area could hold, so 1 is
  perfect, whatever the area (PAI's best value depends on the area chosen). With
  equal cells ``n*`` is the sum of the ``k`` largest test counts.
* RRI, Recapture Rate Index ``(n2 / n1) / (N2 / N1)`` (Levine 2008): crimes of the
  second period inside the hotspots relative to the first, scaled by the change in
  totals; near 1 means the hotspots kept their share.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["pai", "pei_star", "rri", "hit_rate", "n_cells_for_share",
           "select_top_cells", "evaluate"]


def _div(a: float, b: float) -> float:
    return float(a) / float(b) if b else float("nan")


def hit_rate(n: float, N: float) -> float:
    """``n / N``; nan when there are no crimes."""
    return _div(n, N)


def pai(n: float, N: float, a: float, A: float) -> float:
    """Predictive Accuracy Index ``(n/N)/(a/A)`` (Chainey, Tompson & Uhlig 2008)."""
    return _div(_div(n, N), _div(a, A))


def pei_star(n: float, n_star: float) -> float:
    """PEI* ``n / n*`` (White, Hunt & Green 2023); nan when ``n* = 0``."""
    return _div(n, n_star)


def rri(n1: float, N1: float, n2: float, N2: float) -> float:
    """Recapture Rate Index ``(n2/n1)/(N2/N1)`` (Levine 2008)."""
    return _div(_div(n2, n1), _div(N2, N1))


def n_cells_for_share(area_share: float, n_cells: int, cell_area: float | None = None,
                      study_area: float | None = None) -> int:
    """Number of equal cells whose area is nearest ``area_share`` of the study area.

    The study area defaults to all ``n_cells`` cells; give ``cell_area`` and
    ``study_area`` when the grid is not the study area (cells clipped to a
    boundary, say). Rounds to the nearest whole cell (so the achieved share can be
    slightly over or under), at least one cell for a positive share, at most all.
    """
    if not 0 <= area_share <= 1:
        raise ValueError("area_share must be in [0, 1]")
    if (cell_area is None) != (study_area is None):
        raise ValueError("give both cell_area and study_area, or neither")
    target = area_share * (n_cells if cell_area is None else study_area / cell_area)
    k = int(math.floor(target + 0.5 + 1e-9))
    if area_share > 0:
        k = max(k, 1)
    return min(k, n_cells)


def select_top_cells(score, area_share: float, *, cell_area: float | None = None,
                     study_area: float | None = None) -> np.ndarray:
    """Indices of the highest-scored cells covering ``area_share`` of the study area.

    Returned best first. Ties keep the lower cell index (a stable sort), so the
    choice is reproducible; NaN scores rank below every number. If fewer cells
    have a positive score than needed, zero-score cells fill the area, since PAI
    comparisons need a fixed area.
    """
    s = np.asarray(score, dtype=float).ravel()
    k = n_cells_for_share(area_share, s.size, cell_area, study_area)
    # Stable sort on -score: ties keep index order, NaN (key +inf) sorts last.
    key = np.where(np.isnan(s), np.inf, -s)
    order = np.argsort(key, kind="stable")
    return order[:k]


def evaluate(score_train, counts_test, area_share: float, cell_area: float,
             study_area: float | None = None, counts_train=None) -> dict:
    """Score a hotspot map fitted on one period against the next period's counts.

    ``score_train`` and ``counts_test`` (and optional ``counts_train``, for RRI) are
    per-cell arrays of equal length with cells of ``cell_area`` m². ``study_area``
    (m²) defaults to all cells. Returns a dict with keys ``pai``, ``pei_star``,
    ``rri`` (nan without ``counts_train``), ``hit_rate``, ``n`` (test crimes in the
    hotspots), ``N``, ``n_star``, ``cells`` (chosen indices, best first),
    ``n_cells``, ``area`` (m²) and ``area_share`` (achieved ``a/A``).
    """
    s = np.asarray(score_train, dtype=float).ravel()
    c = np.asarray(counts_test, dtype=float).ravel()
    if s.shape != c.shape:
        raise ValueError("score_train and counts_test differ in length")
    if np.any(~np.isfinite(c)) or np.any(c < 0):
        raise ValueError("counts_test must be finite and non-negative")
    if study_area is None:
        study_area = s.size * cell_area
    cells = select_top_cells(s, area_share, cell_area=cell_area, study_area=study_area)
    k = cells.size
    n = float(c[cells].sum())
    N = float(c.sum())
    n_star = float(np.sort(c)[::-1][:k].sum())
    a = k * float(cell_area)
    out = {
        "pai": pai(n, N, a, study_area),
        "pei_star": pei_star(n, n_star),
        "rri": float("nan"),
        "hit_rate": hit_rate(n, N),
        "n": n,
        "N": N,
        "n_star": n_star,
        "cells": cells,
        "n_cells": int(k),
        "area": a,
        "area_share": _div(a, study_area),
    }
    if counts_train is not None:
        c1 = np.asarray(counts_train, dtype=float).ravel()
        if c1.shape != c.shape:
            raise ValueError("counts_train and counts_test differ in length")
        out["rri"] = rri(float(c1[cells].sum()), float(c1.sum()), n, N)
    return out
