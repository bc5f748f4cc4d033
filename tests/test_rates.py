"""Rates, intervals and change tests against scipy.stats and hand-computed values."""
import numpy as np
import pytest
from scipy import stats

from hotspot import rates


def test_exact_poisson_limits_below_ten_match_chi2():
    for o in range(0, 10):
        lo, hi = rates.poisson_ci(o)
        exp_lo = stats.chi2.ppf(0.025, 2 * o) / 2 if o else 0.0
        exp_hi = stats.chi2.ppf(0.975, 2 * o + 2) / 2
        assert float(lo) == pytest.approx(exp_lo, rel=1e-9)
        assert float(hi) == pytest.approx(exp_hi, rel=1e-9)


def test_byar_limits_hand_computed():
    # O = 100: lower = 100 (1 - 1/900 - 1.96/30)^3, upper = 101 (1 - 1/909 + 1.96/(3 sqrt 101))^3
    lo, hi = rates.poisson_ci(100)
    z = rates.Z95
    assert float(lo) == pytest.approx(100 * (1 - 1 / 900 - z / 30) ** 3, rel=1e-12)
    assert float(hi) == pytest.approx(101 * (1 - 1 / 909 + z / (3 * np.sqrt(101))) ** 3, rel=1e-12)
    assert 81.3 < float(lo) < 81.4 and 121.6 < float(hi) < 121.7  # Fingertips' published example values


def test_rate_ci_missing_denominator_is_missing_not_zero():
    r, lo, hi = rates.rate_ci([5, 20], [np.nan, 0])
    assert np.isnan(r).all() and np.isnan(lo).all() and np.isnan(hi).all()


def test_wilson_matches_statsmodels_formula():
    p, lo, hi = rates.wilson_ci(12, 40)
    # Wilson 95% for 12/40, computed by hand: centre (0.3 + 1.9208/40)/(1 + 3.8415/40)
    z = rates.Z95
    centre = (0.3 + z * z / 80) / (1 + z * z / 40)
    half = z * np.sqrt(0.3 * 0.7 / 40 + z * z / 6400) / (1 + z * z / 40)
    assert float(lo) == pytest.approx(centre - half) and float(hi) == pytest.approx(centre + half)


@pytest.mark.parametrize("before,after", [(10, 20), (3, 0), (40, 25), (7, 7), (0, 6)])
def test_change_test_matches_scipy_binomtest(before, after):
    expected = stats.binomtest(after, before + after, 0.5).pvalue if before + after else 1.0
    assert float(rates.change_test(before, after)) == pytest.approx(expected, rel=1e-9)


def test_change_test_unequal_exposure_matches_scipy():
    expected = stats.binomtest(30, 40, 3 / 4).pvalue  # after: 3 months, before: 1 month
    got = float(rates.change_test(10, 30, exposure_before=1, exposure_after=3))
    assert got == pytest.approx(expected, rel=1e-6)


def test_percent_change_small_base_is_not_a_percentage():
    out = rates.percent_change([4, 20, np.nan], [0, 15, 3])
    assert np.isnan(out[0]) and out[1] == pytest.approx(-0.25) and np.isnan(out[2])


def test_c_chart_ignores_missing_months():
    centre, lo, hi = rates.c_chart([4, np.nan, 4, 4])
    assert centre == 4 and lo == 0 and hi == pytest.approx(10)
