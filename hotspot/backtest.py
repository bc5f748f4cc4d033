"""Backtests: fit a hotspot map on one window, score it on the next.

Every method ranks the same study cells from training-window incidents; the top cells covering
a given share of the study area are the map. Scores: PAI (Chainey, Tompson & Uhlig 2008),
PEI* (White, Hunt & Green 2023) and RRI (Levine 2008), from hotspot.accuracy.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Callable

import numpy as np
import polars as pl

from hotspot.accuracy import evaluate
from hotspot.analysis import Filters, Prepared, cell_totals, kde_cells, map_score, other_incidents, select
from hotspot.gistar import gi_star_z
from hotspot.kde import default_bandwidth

DEFAULT_SHARES = (0.005, 0.01, 0.02)


def score_counts(prep: Prepared, counts: np.ndarray, harm: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Baseline: prior-period counts per cell (ties fall to cell order)."""
    return counts


def score_kde(prep: Prepared, counts: np.ndarray, harm: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Baseline: quartic kernel density at the default bandwidth."""
    return kde_cells(prep, counts, default_bandwidth(prep.grid.cell_size))


def score_gistar(prep: Prepared, counts: np.ndarray, harm: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Baseline: grid Gi* z-score of the counts."""
    return gi_star_z(counts, prep.neighbours)


def score_svtui(prep: Prepared, counts: np.ndarray, harm: np.ndarray, other: np.ndarray) -> np.ndarray:
    """svtui's default map score (hotspot.analysis.map_score): own count + neighbourhood + other crime."""
    return map_score(prep, counts, other)


METHODS: dict[str, Callable] = {
    "svtui default": score_svtui,
    "prior counts": score_counts,
    "KDE": score_kde,
    "grid Gi*": score_gistar,
}


def _cell_counts(prep: Prepared, inc: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return cell_totals(prep, inc)


def _windows(prep: Prepared, train: tuple[date, date], test: tuple[date, date],
             filters: Filters) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The serious incidents of the training and test windows; an empty one is an error."""
    tr, _ = select(prep, replace(filters, start=train[0], end=train[1]))
    te, _ = select(prep, replace(filters, start=test[0], end=test[1]))
    if tr.height == 0 or te.height == 0:
        raise ValueError(
            f"no serious incidents in the {'training' if tr.height == 0 else 'test'} window: "
            "check --train and --test against the study's months"
        )
    return tr, te


def backtest(
    prep: Prepared,
    train: tuple[date, date],
    test: tuple[date, date],
    area_shares=DEFAULT_SHARES,
    filters: Filters = Filters(),
    methods: dict[str, Callable] | None = None,
) -> pl.DataFrame:
    """One row per (method, area share): PAI, PEI*, RRI, hit rate, cells and crimes."""
    if prep.study_area_m2 <= 0:
        raise ValueError("a backtest needs a study area: give a boundary file (--areas)")
    tr, te = _windows(prep, train, test, filters)
    c_train, h_train = _cell_counts(prep, tr)
    c_test, _ = _cell_counts(prep, te)
    o_train, _ = _cell_counts(prep, other_incidents(prep, replace(filters, start=train[0], end=train[1])))
    rows = []
    for name, fn in (methods or METHODS).items():
        score = fn(prep, c_train, h_train, o_train)
        for share in area_shares:
            r = evaluate(score, c_test, share, prep.grid.cell_area, prep.study_area_m2, counts_train=c_train)
            rows.append(
                {
                    "method": name,
                    "area_share": share,
                    "pai": r["pai"],
                    "pei_star": r["pei_star"],
                    "rri": r["rri"],
                    "hit_rate": r["hit_rate"],
                    "cells": r["n_cells"],
                    "test_in_hotspots": int(r["n"]),
                    "test_total": int(r["N"]),
                }
            )
    return pl.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Scoring the exported localities themselves against independent 100 m baselines
# --------------------------------------------------------------------------------------------

BASELINE_CELL_M = 100.0
LOCALITY_SHARES = (0.5, 1.0, 2.0)  # percent of the study area


def _xy(inc: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    inc = inc.filter(pl.col("easting").is_not_null() & pl.col("northing").is_not_null())
    return inc["easting"].to_numpy(), inc["northing"].to_numpy()


def baseline_surfaces(study_poly, train_xy, cell: float = BASELINE_CELL_M):
    """The outside judges' baselines, fitted on training points (as /work/shared/tools/pai_check.py).

    A grid of `cell` metres from the study's bounds; prior counts on 100 m cells and on 200 m
    cells (2x2 blocks), 3x3-smoothed counts, and Gaussian KDE at 150, 250 and 400 m (sigma =
    bandwidth). Ties are broken by a fixed tiny jitter. Returns (inside mask, binning function,
    surfaces dict), the surfaces as (ny, nx) arrays.
    """
    from scipy.ndimage import gaussian_filter, uniform_filter
    from shapely import contains_xy

    xmin, ymin, xmax, ymax = study_poly.bounds
    nx, ny = int((xmax - xmin) // cell) + 1, int((ymax - ymin) // cell) + 1
    gx, gy = np.meshgrid(xmin + (np.arange(nx) + 0.5) * cell, ymin + (np.arange(ny) + 0.5) * cell)
    inside = contains_xy(study_poly, gx.ravel(), gy.ravel()).reshape(ny, nx)

    def grid(x, y):
        i = ((y - ymin) // cell).astype(int)
        j = ((x - xmin) // cell).astype(int)
        ok = (i >= 0) & (i < ny) & (j >= 0) & (j < nx)
        g = np.zeros((ny, nx))
        np.add.at(g, (i[ok], j[ok]), 1)
        return g

    tr = grid(*train_xy)
    jit = np.random.default_rng(0).random((ny, nx)) * 1e-9
    pad = np.zeros((ny + ny % 2, nx + nx % 2))
    pad[:ny, :nx] = tr
    blocks = pad.reshape(pad.shape[0] // 2, 2, pad.shape[1] // 2, 2).sum(axis=(1, 3))
    cells200 = np.repeat(np.repeat(blocks, 2, axis=0), 2, axis=1)[:ny, :nx]
    surf = {
        "counts 100 m": tr + jit,
        "counts 200 m": cells200 + jit,
        "counts 3x3": uniform_filter(tr, 3) + jit,
    }
    for bw in (150, 250, 400):
        surf[f"KDE {bw} m"] = gaussian_filter(tr, bw / cell) + jit
    return inside, grid, surf


def score_polygons(study_poly, polygons, test_xy) -> tuple[float, float, int, int]:
    """(PAI, area share, test offences inside, test offences) for a set of BNG polygons."""
    import shapely

    hot = shapely.union_all(polygons).intersection(study_poly) if len(polygons) else shapely.Polygon()
    share = hot.area / study_poly.area
    tx, ty = test_xy
    ins = shapely.contains_xy(study_poly, tx, ty)
    tx, ty = tx[ins], ty[ins]
    n = int(shapely.contains_xy(hot, tx, ty).sum()) if share > 0 else 0
    N = len(tx)
    return (n / N) / share if share > 0 and N else 0.0, share, n, N


def locality_backtest(prep: Prepared, train: tuple[date, date], test: tuple[date, date],
                      area_shares=LOCALITY_SHARES, filters: Filters = Filters(), params=None) -> pl.DataFrame:
    """Score the localities `svtui hotspots` would export, fitted on `train`, on `test`.

    One row per area share (percent): the localities' PAI from their own polygons and the PAI of
    each baseline at the same area share on 100 m cells (baseline_surfaces), the best baseline
    and whether the localities matched or beat it.
    """
    import shapely

    from hotspot.analysis import Params, analyse

    if prep.study_poly is None or prep.study_area_m2 <= 0:
        raise ValueError("a backtest needs a study area: give a boundary file (--areas)")
    params = params or Params()
    tr, te = _windows(prep, train, test, filters)
    inside, grid, surf = baseline_surfaces(prep.study_poly, _xy(tr))
    test_xy = _xy(te)
    tv = grid(*test_xy)[inside]
    NN = tv.sum()
    A = int(inside.sum())
    rows = []
    for share_pct in area_shares:
        a = analyse(prep, replace(filters, start=train[0], end=train[1]),
                    replace(params, area_share=share_pct, emerging=False, permutations=0, cell_size=prep.grid.cell_size))
        polys = shapely.from_wkb(a.localities["geometry_wkb"].to_numpy()) if a.localities.height else []
        pai_loc, achieved, n, N = score_polygons(prep.study_poly, polys, test_xy)
        k = max(1, int(round(achieved * A)))
        base = {m: float((tv[np.argsort(-s[inside], kind="stable")[:k]].sum() / NN) / (k / A)) for m, s in surf.items()}
        best = max(base, key=base.get)
        rows.append({"area_share": share_pct, "achieved_share": achieved * 100, "localities": a.localities.height,
                     "pai": pai_loc, "test_in_localities": n, "test_total": N, **base,
                     "best_baseline": best, "best_pai": base[best], "win": pai_loc >= base[best]})
    return pl.DataFrame(rows)
