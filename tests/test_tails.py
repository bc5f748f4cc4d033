"""hotspot.tails: the normal and binomial tails the engine's significance rests on, checked
against scipy.special (Cephes), exact rational sums, and published values."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy.special import bdtrc
from scipy.special import ndtr as scipy_ndtr
from scipy.stats import binom

from hotspot.tails import binom_sf, ndtr, normal_tail


def test_ndtr_matches_scipy_over_the_whole_range():
    rng = np.random.default_rng(0)
    x = np.concatenate([np.linspace(-37.5, 37.5, 300_001), rng.normal(0, 6, 100_000),
                        [0.0, -0.0, 0.46875, -0.46875, 4.0, -4.0, 5e-324, -5e-324]])
    ours, ref = ndtr(x), scipy_ndtr(x)
    normal = ref > 1e-300  # below that both are sub-normal numbers nobody reads
    np.testing.assert_allclose(ours[normal], ref[normal], rtol=5e-13, atol=0)
    assert np.all(ours[~normal] < 1e-300)


def test_ndtr_published_values_and_special_inputs():
    # Abramowitz & Stegun table 26.1 / standard values of the normal CDF
    assert ndtr(0.0) == 0.5
    assert ndtr(-1.0) == pytest.approx(0.15865525393145707, rel=1e-15)
    assert ndtr(1.959963984540054) == pytest.approx(0.975, rel=1e-15)
    assert ndtr(-10.0) == pytest.approx(7.619853024160527e-24, rel=1e-13)
    assert ndtr(-20.0) == pytest.approx(2.7536241186062337e-89, rel=1e-12)
    out = ndtr(np.array([np.nan, np.inf, -np.inf]))
    assert np.isnan(out[0]) and out[1] == 1.0 and out[2] == 0.0
    assert ndtr(-40.0) == 0.0  # far below the smallest double: 0, never negative or NaN
    assert np.shape(ndtr(np.zeros((3, 4)))) == (3, 4)


def test_normal_tail_is_the_smaller_tail_on_both_sides():
    z = np.array([-8.0, -1.5, 0.0, 1.5, 8.0])
    np.testing.assert_allclose(normal_tail(z), scipy_ndtr(-np.abs(z)), rtol=5e-14)
    # 1 - ndtr(8) would be 0 in double precision; the tail keeps its digits
    assert normal_tail(8.0) == pytest.approx(6.22096057427178e-16, rel=1e-13)


def _exact_sf(k: int, n: int, p: float) -> float:
    """P(X > k) as an exact rational sum (p's double value taken exactly)."""
    q = Fraction(p)
    return float(sum(math.comb(n, j) * q**j * (1 - q) ** (n - j) for j in range(k + 1, n + 1)))


@pytest.mark.parametrize("n", [1, 2, 7, 30, 60])
def test_binomial_tail_equals_the_exact_sum(n):
    rng = np.random.default_rng(n)
    ks = rng.integers(0, n, 40)
    ps = np.concatenate([10 ** rng.uniform(-6, 0, 30), [0.5, 1e-3, 0.999]])[:40]
    ps = np.resize(ps, ks.size)
    ours = binom_sf(ks, n, ps)
    exact = np.array([_exact_sf(int(k), n, float(p)) for k, p in zip(ks, ps)])
    np.testing.assert_allclose(ours, exact, rtol=1e-12, atol=0)


@pytest.mark.parametrize("n", [1000, 12_648, 1_000_000])
def test_binomial_tail_matches_scipy(n):
    """Against Cephes (scipy's bdtrc, as binom.sf), whose own error grows with n through
    differences of log-gammas (about 1e-9 relative at a million trials)."""
    rng = np.random.default_rng(7)
    k = rng.integers(0, min(n, 3000), 20_000).astype(float)
    p = 10 ** rng.uniform(-7, -0.3, 20_000)
    ref = bdtrc(k, n, p)
    ok = ref > 1e-280
    tol = {1000: 1e-11, 12_648: 1e-10, 1_000_000: 1e-8}[n]
    np.testing.assert_allclose(binom_sf(k, n, p)[ok], ref[ok], rtol=tol, atol=0)
    np.testing.assert_allclose(binom_sf(k[:50], n, p[:50]), binom.sf(k[:50], n, p[:50]), rtol=tol)


def test_binomial_far_tail_for_a_large_study_is_exact():
    """A window of a national year: 818 offences where 475 are expected, 6 million in all.
    The value from 60-digit arithmetic (mpmath.betainc) is 2.2665470730...e-46; Cephes is
    2e-8 off here, the saddle-point form is not."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 60
    k, n, p = 818, 6_000_000, 7.927798502365504e-05
    exact = float(mpmath.betainc(k + 1, n - k, 0, mpmath.mpf(p), regularized=True))
    assert binom_sf(k, n, p) == pytest.approx(exact, rel=1e-12)


def test_binomial_tail_edges():
    assert binom_sf(-1, 10, 0.3) == 1.0
    assert binom_sf(10, 10, 0.3) == 0.0  # P(X > n) = 0
    assert binom_sf(12, 10, 0.3) == 0.0
    assert binom_sf(3, 10, 0.0) == 0.0
    assert binom_sf(3, 10, 1.0) == 1.0
    assert binom_sf(2.7, 10, 0.3) == pytest.approx(float(bdtrc(2, 10, 0.3)), rel=1e-14)  # k floored
    assert np.isnan(binom_sf(3, 10, 1.5)) and np.isnan(binom_sf(3, -1, 0.5))
    assert np.isnan(binom_sf(3, 10.5, 0.5)) and np.isnan(binom_sf(np.nan, 10, 0.5))
    assert binom_sf(np.arange(6).reshape(2, 3), 5, 0.5).shape == (2, 3)
    # the scan test's typical window: one offence where 0.15 are expected
    assert binom_sf(0, 12_648, 1.2e-5) == pytest.approx(-math.expm1(12_648 * math.log1p(-1.2e-5)), rel=1e-14)
