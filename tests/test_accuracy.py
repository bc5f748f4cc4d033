import math

import numpy as np
import pytest

from hotspot.accuracy import (evaluate, hit_rate, n_cells_for_share, pai, pei_star, rri,
                              select_top_cells)


def test_formulas_by_hand():
    # 30 of 100 crimes in 2% of the area: PAI = 0.3 / 0.02 = 15.
    assert pai(30, 100, 2, 100) == pytest.approx(15.0)
    assert hit_rate(30, 100) == pytest.approx(0.3)
    assert pei_star(30, 40) == pytest.approx(0.75)
    # 20 of 200 then 30 of 150: (30/20)/(150/200) = 2.
    assert rri(20, 200, 30, 150) == pytest.approx(2.0)
    assert math.isnan(pai(0, 0, 1, 10))
    assert math.isnan(pei_star(0, 0))


def test_n_cells_for_share():
    assert n_cells_for_share(0.2, 10) == 2
    assert n_cells_for_share(0.15, 10) == 2      # 1.5 rounds to nearest, half up
    assert n_cells_for_share(0.12, 10) == 1
    assert n_cells_for_share(0.01, 10) == 1      # never zero for a positive share
    assert n_cells_for_share(0.0, 10) == 0
    assert n_cells_for_share(1.0, 10) == 10
    # Study area of 8 cells inside a 10-cell grid: 25% is 2 cells.
    assert n_cells_for_share(0.25, 10, cell_area=1.0, study_area=8.0) == 2
    with pytest.raises(ValueError):
        n_cells_for_share(1.5, 10)
    with pytest.raises(ValueError):
        n_cells_for_share(0.1, 10, cell_area=1.0)


def test_select_top_cells_order_ties_and_nan():
    score = np.array([1.0, 5.0, np.nan, 5.0, 3.0, 0.0])
    assert select_top_cells(score, 0.5).tolist() == [1, 3, 4]  # tie 1 vs 3 -> lower index
    assert select_top_cells(score, 1.0).tolist() == [1, 3, 4, 0, 5, 2]  # NaN last
    # Deterministic: same answer every call.
    assert select_top_cells(score, 0.5).tolist() == select_top_cells(score, 0.5).tolist()


def test_evaluate_hand_case_ten_cells_two_chosen():
    # 10 cells of 1 km^2; test counts [5, 3, 0, ...]; the map ranks cells 0 and 2 top.
    counts_test = np.array([5, 3, 0, 0, 1, 0, 0, 0, 0, 1], dtype=float)   # N = 10
    score_train = np.array([9, 1, 8, 0, 0, 0, 0, 0, 0, 0], dtype=float)
    r = evaluate(score_train, counts_test, area_share=0.2, cell_area=1e6)
    assert r["cells"].tolist() == [0, 2]
    assert r["n"] == 5 and r["N"] == 10 and r["n_star"] == 8
    assert r["hit_rate"] == pytest.approx(0.5)
    assert r["area_share"] == pytest.approx(0.2)
    assert r["pai"] == pytest.approx(0.5 / 0.2)       # 2.5
    assert r["pei_star"] == pytest.approx(5 / 8)
    assert math.isnan(r["rri"])
    assert r["n_cells"] == 2 and r["area"] == pytest.approx(2e6)


def test_evaluate_perfect_map_and_rri():
    counts_test = np.array([5, 3, 0, 0, 1, 0, 0, 0, 0, 1], dtype=float)
    counts_train = np.array([4, 4, 0, 1, 0, 0, 0, 0, 0, 1], dtype=float)  # N1 = 10
    r = evaluate(counts_train, counts_test, 0.2, cell_area=1e6, counts_train=counts_train)
    assert r["cells"].tolist() == [0, 1]
    assert r["pei_star"] == pytest.approx(1.0)
    assert r["pai"] == pytest.approx(0.8 / 0.2)
    # n1 = 8 of N1 = 10, n2 = 8 of N2 = 10: RRI = (8/8)/(10/10) = 1.
    assert r["rri"] == pytest.approx(1.0)


def test_evaluate_with_study_area_smaller_than_grid():
    # 10 cells but the boundary covers 8 cells' worth: 25% = 2 cells, a/A = 2/8.
    counts_test = np.array([5, 3, 0, 0, 1, 0, 0, 0, 0, 1], dtype=float)
    score = np.arange(10.0)[::-1]
    r = evaluate(score, counts_test, 0.25, cell_area=1.0, study_area=8.0)
    assert r["n_cells"] == 2 and r["area_share"] == pytest.approx(0.25)
    assert r["pai"] == pytest.approx((8 / 10) / 0.25)


def test_evaluate_no_test_crimes_gives_nan_not_error():
    r = evaluate(np.arange(5.0), np.zeros(5), 0.2, cell_area=1.0)
    assert math.isnan(r["pai"]) and math.isnan(r["pei_star"]) and math.isnan(r["hit_rate"])


def test_pei_star_bounded_by_one_random():
    rng = np.random.default_rng(0)
    for _ in range(50):
        c = rng.poisson(0.7, size=200).astype(float)
        s = rng.normal(size=200)
        r = evaluate(s, c, rng.uniform(0.01, 0.3), cell_area=40_000.0)
        if r["n_star"] > 0:
            assert 0 <= r["pei_star"] <= 1 + 1e-12


def test_evaluate_validates():
    with pytest.raises(ValueError):
        evaluate(np.zeros(3), np.zeros(4), 0.2, 1.0)
    with pytest.raises(ValueError):
        evaluate(np.zeros(3), np.array([1.0, -1.0, 0.0]), 0.2, 1.0)
