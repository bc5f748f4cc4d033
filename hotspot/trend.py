"""Mann-Kendall trend test, vectorised over many series.

Emerging hot spot analysis runs the test on every grid cell's monthly Gi* z-scores,
so this works on an ``(n_series, T)`` array at once, with a loop only over the
``T - 1`` lags (``O(n T^2)`` time, ``O(n T)`` memory).

For a series ``x_1..x_n`` (Mann 1945; Kendall 1975; Hirsch, Slack & Smith 1982):

* ``S = sum_{i<j} sign(x_j - x_i)``
* ``Var(S) = [n(n-1)(2n+5) - sum_g t_g(t_g-1)(2t_g+5)] / 18``, ``t_g`` the size of
  each group of tied values.
* ``z = (S - 1)/sqrt(Var)`` if ``S > 0``, ``(S + 1)/sqrt(Var)`` if ``S < 0``, else 0
  (the continuity correction of Hirsch, Slack & Smith 1982; ``continuity=False``
  drops it, matching ``scipy.stats.kendalltau(method="asymptotic")``); two-sided
  ``p = 2 (1 - Phi(|z|))``.
* ``tau`` is Kendall's tau-b between time and value,
  ``S / sqrt(n0 (n0 - n_ties))`` with ``n0 = n(n-1)/2`` and ``n_ties`` the tied
  pairs; equal to ``S / n0`` when nothing is tied. Same as ``scipy.stats.kendalltau``.

Missing values (NaN) are dropped from their series, as if the series were shorter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hotspot.tails import normal_tail

__all__ = ["MannKendall", "mann_kendall", "MIN_STEPS"]

#: Fewest time steps for a trend or an emerging hot spot class. Mann-Kendall cannot reach
#: p < 0.05 (two-sided) below 5 steps whatever the data, and ArcGIS Pro's Emerging Hot Spot
#: Analysis asks for at least 10; with fewer, svtui reports reason "too_few_steps", not a class.
MIN_STEPS = 10
TOO_FEW_STEPS = "too_few_steps"


@dataclass(frozen=True)
class MannKendall:
    """Mann-Kendall results, one entry per series (arrays of length n_series)."""

    s: np.ndarray        #: S statistic (int)
    var_s: np.ndarray    #: variance of S under no trend, ties corrected
    z: np.ndarray        #: standard normal score (continuity corrected by default)
    p: np.ndarray        #: two-sided p-value
    tau: np.ndarray      #: Kendall's tau-b between time and value
    n: np.ndarray        #: number of non-missing values used

    @property
    def sign(self) -> np.ndarray:
        """-1, 0 or +1: direction of S, regardless of significance."""
        return np.sign(self.s).astype(np.int8)

    def direction(self, alpha: float = 0.05) -> np.ndarray:
        """+1 significant upward trend, -1 significant downward, 0 otherwise."""
        return np.where(self.p < alpha, self.sign, 0).astype(np.int8)


def mann_kendall(x, *, continuity: bool = True) -> MannKendall:
    """Mann-Kendall test on each row of ``x`` (shape ``(n_series, T)`` or ``(T,)``).

    A 1-D input is treated as one series (results are still length-1 arrays).
    Series with fewer than two values, or all values tied, get ``S = 0``,
    ``z = 0``, ``p = 1`` and ``tau = nan``.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError("x must be 1-D or 2-D (n_series, T)")
    m, t_len = x.shape
    valid = ~np.isnan(x)
    n = valid.sum(axis=1).astype(np.int64)

    s = np.zeros(m, dtype=np.int64)
    # equal[i, k] counts the other valid values equal to x[i, k]; the tie term
    # sum_g t(t-1)(2t+5) equals sum over values of (c-1)(2c+5), c = equal + 1.
    equal = np.zeros((m, t_len), dtype=np.int64)
    for lag in range(1, t_len):
        a, b = x[:, :-lag], x[:, lag:]
        both = valid[:, :-lag] & valid[:, lag:]
        diff = np.where(both, b - a, 0.0)
        s += np.sign(diff).astype(np.int64).sum(axis=1)
        eq = both & (a == b)
        equal[:, :-lag] += eq
        equal[:, lag:] += eq
    c = np.where(valid, equal + 1, 1)
    tie_term = ((c - 1) * (2 * c + 5)).sum(axis=1)
    tied_pairs = (c - 1).sum(axis=1) // 2

    var_s = (n * (n - 1) * (2 * n + 5) - tie_term) / 18.0
    sd = np.sqrt(np.maximum(var_s, 0.0))
    num = s.astype(float)
    if continuity:
        num = num - np.sign(num)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sd > 0, num / sd, 0.0)
        n0 = n * (n - 1) / 2.0
        denom = np.sqrt(n0 * (n0 - tied_pairs))
        tau = np.where(denom > 0, s / denom, np.nan)
    p = 2.0 * normal_tail(z)
    return MannKendall(s=s, var_s=var_s, z=z, p=p, tau=tau, n=n)
