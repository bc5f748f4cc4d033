"""Rates, proportions and changes with their uncertainty, by public-health conventions.

The conventions are OHID Fingertips' (Public Health England, "Technical Guide: Confidence
Intervals", 2018): a rate's 95% interval by Byar's approximation for counts of 10 or more and by
exact Poisson limits below that; a proportion's by Wilson's score interval; a change between two
counts with equal exposure by the exact conditional test (given a + b, a ~ Binomial(a + b, 1/2));
monthly counts against Shewhart c-chart limits (c-bar +/- 3 sqrt(c-bar)). Every function takes
arrays and returns arrays (NumPy, vectorised), so a whole table is done in one call; a missing
input (NaN) gives a missing output, never 0.
"""
from __future__ import annotations

import numpy as np

Z95 = 1.959963984540054  # two-sided 95%: the normal quantile 0.975
SMALL_BASE = 10  # below this base a change is given in counts, never as a percentage (docs/needs.md)


def _arr(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def poisson_ci(count, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """95% limits for a Poisson count O (not yet divided by the denominator).

    O >= 10: Byar's approximation (Breslow & Day 1987, as Fingertips):
      lower = O (1 - 1/(9 O) - z/(3 sqrt O))^3, upper = (O+1) (1 - 1/(9 (O+1)) + z/(3 sqrt(O+1)))^3.
    O < 10: exact limits chi2(0.025, 2 O)/2 and chi2(0.975, 2 O + 2)/2 (lower 0 when O = 0).
    """
    from scipy.special import gammaincinv  # chi2.ppf(q, 2k)/2 == gammaincinv(k, q)

    o = _arr(count)
    alpha = 2 * (1 - _ndtr(z))
    with np.errstate(invalid="ignore", divide="ignore"):
        byar_lo = o * (1 - 1 / (9 * o) - z / (3 * np.sqrt(o))) ** 3
        o1 = o + 1
        byar_hi = o1 * (1 - 1 / (9 * o1) + z / (3 * np.sqrt(o1))) ** 3
        exact_lo = np.where(o > 0, gammaincinv(np.where(o > 0, o, 1), alpha / 2), 0.0)
        exact_hi = gammaincinv(o + 1, 1 - alpha / 2)
    small = o < SMALL_BASE
    lo = np.where(small, exact_lo, byar_lo)
    hi = np.where(small, exact_hi, byar_hi)
    bad = ~np.isfinite(o) | (o < 0)
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


def rate_ci(count, denominator, per: float = 1000.0, z: float = Z95):
    """Rate per `per` with its 95% interval: (rate, lower, upper). Missing/zero denominator -> NaN."""
    o, n = _arr(count), _arr(denominator)
    lo, hi = poisson_ci(o, z)
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = np.isfinite(n) & (n > 0)
        scale = np.where(ok, per / np.where(ok, n, 1), np.nan)
    return o * scale, lo * scale, hi * scale


def wilson_ci(successes, total, z: float = Z95):
    """Proportion with its Wilson score interval (Wilson 1927; Newcombe 1998): (p, lower, upper)."""
    k, n = _arr(successes), _arr(total)
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = np.isfinite(n) & (n > 0) & np.isfinite(k)
        nn = np.where(ok, n, 1)
        p = np.where(ok, k / nn, np.nan)
        denom = 1 + z * z / nn
        centre = (p + z * z / (2 * nn)) / denom
        half = z * np.sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn)) / denom
    return p, np.where(ok, np.clip(centre - half, 0, 1), np.nan), np.where(ok, np.clip(centre + half, 0, 1), np.nan)


def change_test(before, after, exposure_before=1.0, exposure_after=1.0):
    """Exact conditional test of two Poisson counts (Przyborowski & Wilenski 1940).

    Given a + b, `after` ~ Binomial(a + b, p0) with p0 = e_after / (e_before + e_after) under
    no change in rate. Returns the two-sided p-value (the doubled smaller tail, capped at 1, as
    the usual exact binomial test); NaN where a count is missing; 1 where both are 0.
    """
    from scipy.special import bdtr, bdtrc

    a, b = _arr(after), _arr(before)
    ea, eb = _arr(exposure_after), _arr(exposure_before)
    n = a + b
    with np.errstate(invalid="ignore", divide="ignore"):
        p0 = ea / (ea + eb)
        ok = np.isfinite(n) & np.isfinite(p0)
        ai = np.where(ok, a, 0).astype(np.int64)
        ni = np.where(ok, n, 0).astype(np.int64)
        lower = bdtr(ai, ni, p0)  # P(X <= a)
        upper = np.where(ai > 0, bdtrc(ai - 1, ni, p0), 1.0)  # P(X >= a)
        p = np.minimum(1.0, 2 * np.minimum(lower, upper))
    p = np.where(ni == 0, 1.0, p)
    return np.where(ok, p, np.nan)


def percent_change(before, after):
    """(after - before) / before, NaN where the base is below SMALL_BASE or missing.

    Below a base of 10 a percentage misleads (docs/needs.md): faces give the counts instead.
    """
    a, b = _arr(after), _arr(before)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (a - b) / b
    return np.where(np.isfinite(b) & (b >= SMALL_BASE) & np.isfinite(a), out, np.nan)


def c_chart(counts) -> tuple[float, float, float]:
    """Shewhart c-chart over recent monthly counts (missing months ignored, never read as 0).

    Returns (centre, lower, upper): c-bar, max(0, c-bar - 3 sqrt(c-bar)), c-bar + 3 sqrt(c-bar).
    NaN for all three when no month is known.
    """
    c = _arr(counts)
    c = c[np.isfinite(c)]
    if c.size == 0:
        return float("nan"), float("nan"), float("nan")
    cbar = float(c.mean())
    spread = 3 * np.sqrt(cbar)
    return cbar, max(0.0, cbar - spread), cbar + spread


def _ndtr(z: float) -> float:
    from scipy.special import ndtr

    return float(ndtr(z))
