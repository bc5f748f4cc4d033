"""Weighted Displacement Difference / Quotient: checked against hand-computed examples."""
from __future__ import annotations

import math
from datetime import date

import numpy as np
import polars as pl
import pytest
import shapely
from scipy.stats import norm

from hotspot.evaluate import evaluate, windows_for, wdd, wdq, zones

# Hand example (Wheeler & Ratcliffe's layout): before/after counts for T, Ct, D, Cd.
T0, T1, CT0, CT1, D0, D1, CD0, CD1 = 50, 30, 40, 44, 20, 25, 22, 21
# ΔT = -20, ΔCt = +4, ΔD = +5, ΔCd = -1  ->  WDD = -20 - 4 + 5 + 1 = -18
# Var = 50+30+40+44+20+25+22+21 = 252, z = -18/sqrt(252) = -1.13389...
# WDQ = (25/44 - 20/40) / (30/44 - 50/40) = 0.0681818 / -0.5681818 = -0.12


def test_wdd_matches_the_hand_computed_example():
    r = wdd(T0, T1, D0, D1, CT0, CT1, CD0, CD1)
    assert r["wdd"] == -18
    assert r["var"] == 252
    assert r["z"] == pytest.approx(-18 / math.sqrt(252))
    assert r["z"] == pytest.approx(-1.133893, abs=1e-6)
    assert r["p"] == pytest.approx(2 * norm.sf(18 / math.sqrt(252)))
    # components: the place against its control, the ring against its control
    assert r["effect_t"] == -24 and r["var_t"] == 164
    assert r["effect_d"] == 6 and r["var_d"] == 88


def test_wdq_matches_the_hand_computed_example_and_refuses_when_the_place_got_worse():
    q, code = wdq(T0, T1, D0, D1, CT0, CT1)
    assert code is None
    assert q == pytest.approx(-0.12)
    q, code = wdq(30, 50, D0, D1, CT0, CT1)  # the place got worse: WDQ means nothing
    assert math.isnan(q) and code == "treated_not_improved"


def test_harm_weighted_variance_is_the_sum_of_squared_weights():
    # one offence type of weight 184 and one of 1965: WDD_h = sum w * WDD_type
    # T: 3 ABH before, 1 after; 2 s18 before, 0 after. Controls unchanged (1 each side).
    r = wdd(3 * 184 + 2 * 1965, 1 * 184, 0, 0, 184, 184, 0, 0,
            var_t=(4 * 184**2 + 2 * 1965**2), var_d=0, var_ct=2 * 184**2, var_cd=0)
    assert r["wdd"] == -(2 * 184 + 2 * 1965)
    assert r["var"] == 4 * 184**2 + 2 * 1965**2 + 2 * 184**2


def _points(box, n, rng):
    x0, y0, x1, y1 = box
    return rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)


def _incidents(layout: dict, before, after, seed=0) -> pl.DataFrame:
    """Incidents placed in named boxes with the given before/after counts (and harm 10 each)."""
    rng = np.random.default_rng(seed)
    xs, ys, months = [], [], []
    for box, (n0, n1) in layout.items():
        for n, m in ((n0, before[0]), (n1, after[0])):
            x, y = _points(box, n, rng)
            xs.append(x)
            ys.append(y)
            months += [m] * n
    x, y = np.concatenate(xs), np.concatenate(ys)
    return pl.DataFrame({"easting": x, "northing": y, "month": months, "harm": np.full(len(x), 10.0)})


PLACE = shapely.box(0, 0, 400, 400)
CONTROL = shapely.box(5000, 0, 5400, 400)
# boxes strictly inside each zone (ring 200 m): T, D (east strip of the ring), Ct, Cd
BOX_T, BOX_D = (10, 10, 390, 390), (450, 10, 590, 390)
BOX_CT, BOX_CD = (5010, 10, 5390, 390), (5450, 10, 5590, 390)


def test_evaluate_counts_points_into_the_four_areas_and_gives_the_hand_result():
    before, after = windows_for(date(2023, 4, 1), date(2023, 4, 1))
    inc = _incidents({BOX_T: (T0, T1), BOX_D: (D0, D1), BOX_CT: (CT0, CT1), BOX_CD: (CD0, CD1)}, before, after)
    r = evaluate(inc, PLACE, before, after, ring_m=200, control=CONTROL)
    assert (r["T0"], r["T1"], r["D0"], r["D1"], r["Ct0"], r["Ct1"], r["Cd0"], r["Cd1"]) == (T0, T1, D0, D1, CT0, CT1, CD0, CD1)
    assert r["wdd"] == -18 and r["var"] == 252
    assert r["wdq"] == pytest.approx(-0.12)
    assert r["harm_wdd"] == pytest.approx(-180)  # every offence weighs 10
    assert r["harm_var"] == pytest.approx(252 * 100)
    assert r["verdict"] == "no_significant_change" and not r["significant"]


def test_a_ring_of_100_m_leaves_the_far_strip_out():
    before, after = windows_for(date(2023, 4, 1), date(2023, 4, 1))
    far_strip = (520, 10, 590, 390)  # 120-190 m beyond the place's east edge
    inc = _incidents({BOX_T: (5, 5), far_strip: (7, 9)}, before, after)
    r = evaluate(inc, PLACE, before, after, ring_m=100, control=CONTROL)
    assert r["D0"] == 0 and r["D1"] == 0
    r2 = evaluate(inc, PLACE, before, after, ring_m=200, control=CONTROL)
    assert (r2["D0"], r2["D1"]) == (7, 9)


def test_verdicts_worked_displaced_and_too_small():
    before, after = windows_for(date(2023, 1, 1), date(2023, 6, 1))
    assert before == (date(2022, 7, 1), date(2022, 12, 1))
    worked = _incidents({BOX_T: (60, 20), BOX_D: (15, 15), BOX_CT: (60, 60), BOX_CD: (15, 15)}, before, after)
    r = evaluate(worked, PLACE, before, after, control=CONTROL)
    assert r["verdict"] == "worked" and r["ring_code"] == "no_sign" and r["significant"]
    displaced = _incidents({BOX_T: (60, 20), BOX_D: (15, 55), BOX_CT: (60, 60), BOX_CD: (15, 15)}, before, after)
    r = evaluate(displaced, PLACE, before, after, control=CONTROL)
    assert r["verdict"] == "displaced" and r["ring_code"] == "ring_rose" and r["wdq"] < 0
    small = _incidents({BOX_T: (4, 0), BOX_D: (1, 1), BOX_CT: (60, 60), BOX_CD: (15, 15)}, before, after)
    assert evaluate(small, PLACE, before, after, control=CONTROL)["verdict"] == "too_small"


def test_unequal_windows_are_refused_and_missing_months_are_not_zeros():
    with pytest.raises(ValueError, match="unequal_windows"):
        evaluate(pl.DataFrame({"easting": [1.0], "northing": [1.0], "month": [date(2023, 1, 1)], "harm": [1.0]}),
                 PLACE, (date(2022, 1, 1), date(2022, 3, 1)), (date(2023, 1, 1), date(2023, 1, 1)), control=CONTROL)
    before, after = windows_for(date(2023, 4, 1), date(2023, 5, 1))
    inc = _incidents({BOX_T: (30, 10)}, before, after)
    r = evaluate(inc, PLACE, before, after, control=CONTROL, known_months=[before[0], before[1], after[0]])
    assert r["verdict"] == "months_missing" and r["missing_months"] == ["2023-05-01"]
    assert math.isnan(r["wdd"])


def test_default_control_is_scaled_and_shared():
    """The CSP-rest control (a mask) is scaled to the place's before count, counted once."""
    before, after = windows_for(date(2023, 4, 1), date(2023, 4, 1))
    inc = _incidents({BOX_T: (20, 10), BOX_D: (10, 10), (5000, 0, 9000, 4000): (400, 440)}, before, after)
    mask = inc["easting"].to_numpy() > -1  # everything is in the "CSP"
    r = evaluate(inc, PLACE, before, after, control_mask=mask)
    assert r["control_kind"] == "csp_rest" and (r["Ct0"], r["Ct1"]) == (400, 440) == (r["Cd0"], r["Cd1"])
    k_t, k_d = 20 / 400, 10 / 400
    assert r["wdd"] == pytest.approx(-10 - k_t * 40 + 0 - k_d * 40)
    assert r["var"] == pytest.approx(30 + 20 + (k_t + k_d) ** 2 * 840)


def test_zones_do_not_overlap():
    x = np.array([200.0, 500.0, 5200.0, 5500.0, 20000.0, np.nan])
    y = np.array([200.0, 200.0, 200.0, 200.0, 200.0, 1.0])
    assert zones(x, y, PLACE, 200, CONTROL).tolist() == ["T", "D", "Ct", "Cd", "", ""]
