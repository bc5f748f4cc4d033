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
    return gi_star_z(counts, prep.W)


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
    tr, _ = select(prep, replace(filters, start=train[0], end=train[1]))
    te, _ = select(prep, replace(filters, start=test[0], end=test[1]))
    if tr.height == 0 or te.height == 0:
        raise ValueError(
            f"no serious incidents in the {'training' if tr.height == 0 else 'test'} window: "
            "check --train and --test against the study's months"
        )
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
