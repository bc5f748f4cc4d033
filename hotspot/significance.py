"""Calibrated significance for hotspot localities: an exact scan over fixed windows.

Why this test (docs/localities.md has the calibration figures):

* The analytic Gi* z assumes a near-normal neighbourhood sum. Force grids are sparse (most cells
  empty, a few busy), so the normal tail is far too thin and Gi* + BH flags hundreds of cells on
  points placed at random. A permutation p cannot fall below 1/(R+1), so at 10^5-10^6 tests it
  never passes BH.
* Localities are chosen *by the data* (the highest-scoring cells), so testing a locality's own
  count against its expectation is biased: the top 1% of cells always looks dense.

So the unit of test is fixed before looking at the data: every study cell's closed window (the
cell and its neighbours, 3x3 cells by default, as a Kulldorff scan with one fixed window per
cell). Under complete spatial randomness, conditional on the N offences in the window of months,
the count in a window of area a is exactly Binomial(N, a/A) (A = study area): the p-value is the
exact binomial upper tail, so it can be as small as it truly is (no normal approximation, no
Monte Carlo floor). Windows near the study edge use their full cell area, which only makes the
test conservative. The p-values of all n windows are adjusted together by Benjamini-Hochberg
(1995); when nothing is truly clustered BH controls the chance of *any* rejection at alpha, so
on random points no locality is significant in at least 1 - alpha of runs, whatever the
selection. A locality is significant when one of the windows centred in it is: its p-value and
q-value are those of its best window.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hotspot.tails import binom_sf

__all__ = ["WindowTest", "window_test", "bh_qvalues", "locality_significance"]


@dataclass(frozen=True)
class WindowTest:
    """Per study cell: the window's count, its expectation, exact p and BH q."""

    count: np.ndarray
    expected: np.ndarray
    p: np.ndarray
    q: np.ndarray
    n_tests: int
    total: int


def bh_qvalues(p: np.ndarray, m: int | None = None) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q), over `m` tests (default: len(p)).

    q_(i) = min_{j >= i} p_(j) m / j, capped at 1 (Benjamini & Hochberg 1995; as
    statsmodels `multipletests(method="fdr_bh")`). Reject at FDR alpha where q <= alpha.
    """
    p = np.asarray(p, dtype=float).ravel()
    m = len(p) if m is None else int(m)
    if len(p) == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, len(p) + 1)
    q_sorted = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    q = np.empty_like(q_sorted)
    q[order] = q_sorted
    return q


def window_test(counts: np.ndarray, W, cell_area: float, study_area: float) -> WindowTest:
    """Exact binomial scan over each cell's closed window (itself plus its W-neighbours).

    counts: offences per study cell; W: binary sparse weights without self (hotspot.weights).
    Expected count in a window = N x window area / study area (complete spatial randomness,
    conditional on the total N). Only windows with at least one offence are computed; the rest
    have p = 1 (they still count as tests for BH).
    """
    counts = np.asarray(counts, dtype=float).ravel()
    n = counts.size
    total = int(round(counts.sum()))
    if n == 0 or total == 0 or study_area <= 0:
        ones = np.ones(n)
        return WindowTest(counts.copy(), np.zeros(n), ones, ones.copy(), n, total)
    if hasattr(W, "lag"):  # hotspot.weights.RasterNeighbours: the same sums, no matrix
        win = W.lag(counts) + counts
        cells = W.wi
    else:
        wi = getattr(W, "_svtui_wi", None)  # row sums + 1, cached by hotspot.gistar.checked_weights
        if not hasattr(W, "tocsr"):  # a dense array: as sparse (scipy.sparse only here)
            import scipy.sparse as sp

            W = sp.csr_array(W)
        win = W @ counts + counts
        cells = wi if wi is not None else np.asarray(W.sum(axis=1)).ravel() + 1.0
    share = np.minimum(cells * cell_area / study_area, 1.0)
    expected = total * share
    p = np.ones(n)
    hit = win > 0
    # P(X >= x) for X ~ Binomial(N, share): sf(x - 1).
    p[hit] = binom_sf(np.round(win[hit]) - 1, total, share[hit])  # = scipy.stats.binom.sf
    q = np.ones(n)
    cand = np.flatnonzero(p < 1.0)
    if cand.size:
        # ranks among the p < 1 are their ranks among all n tests (the rest are 1, ranked last)
        q[cand] = bh_qvalues(p[cand], m=n)
    return WindowTest(win, expected, p, q, n, total)


def locality_significance(labels: np.ndarray, n_localities: int, test: WindowTest, alpha: float):
    """(p_value, q_value, significant) per locality from the best window centred in it.

    labels: locality index per study cell (-1 outside every locality).
    """
    p = np.ones(n_localities)
    q = np.ones(n_localities)
    inside = labels >= 0
    if n_localities and inside.any():
        np.minimum.at(p, labels[inside], test.p[inside])
        np.minimum.at(q, labels[inside], test.q[inside])
    return p, q, q <= alpha
