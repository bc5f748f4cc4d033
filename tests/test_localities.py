"""Localities: area budget, cells grouped into places, polygons, calibrated significance, stable ids."""
from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom

from hotspot import localities as L
from hotspot.analysis import Filters, Params, analyse
from hotspot.grid import Grid
from hotspot.osgrid import os_grid_ref
from hotspot.significance import bh_qvalues, locality_significance, window_test
from hotspot.weights import grid_weights_for_cells


def _grid(n=20, cell=100.0):
    g = Grid(x0=380_000.0, y0=250_000.0, cell_size=cell, nrows=n, ncols=n)
    return g, np.arange(g.n_cells)


def test_budget_picks_the_top_cells_and_groups_touching_ones():
    g, flat = _grid()
    score = np.zeros(g.n_cells)
    block = g.to_flat([5, 5, 6, 6], [5, 6, 5, 6])  # a 2x2 block
    score[block] = [9, 8, 7, 6]
    lone = g.to_flat([15], [15])[0]
    score[lone] = 5
    score[g.to_flat([0], [0])[0]] = 1  # below the budget
    study_area = g.n_cells * g.cell_area  # 400 cells; 1.25% = 5 cells
    labels, groups = L.assign(g, flat, score, 1.25, study_area)
    assert (labels >= 0).sum() == 5
    assert set(np.unique(labels[block])) == {0} and labels[lone] == 1  # best place first
    assert groups["score"].to_list() == [30.0, 5.0]
    capped, groups = L.assign(g, flat, score, 1.25, study_area, max_localities=1)
    assert groups.height == 1 and (capped >= 0).sum() == 4
    polys = L.cell_polygons(g, flat[labels >= 0], labels[labels >= 0], 2)
    assert polys[0].area == pytest.approx(4 * g.cell_area) and polys[0].geom_type == "Polygon"
    # the polygon holds exactly its cells' centres
    cx, cy = g.centres()
    assert shapely.contains_xy(polys[0], cx, cy).sum() == 4


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 25), st.integers(1, 25), st.floats(0.02, 0.7))
def test_components_number_cells_as_scipy_ndimage_label_does(seed, nr, nc, density):
    """Localities are the 8-connected groups of chosen cells, numbered in raster order of their
    first cell: the same groups and numbers as scipy.ndimage.label with a 3x3 structure,
    including groups touching only at a corner and across the raster's edges."""
    ndimage = pytest.importorskip("scipy.ndimage")
    rng = np.random.default_rng(seed)
    mask = rng.random((nr, nc)) < density
    flat = np.flatnonzero(mask)
    if flat.size == 0:
        return
    lab, _ = ndimage.label(mask, structure=np.ones((3, 3), dtype=int))
    expect = lab.ravel()[flat] - 1
    shuffled = rng.permutation(flat.size)  # the chosen cells come best-first, not in raster order
    np.testing.assert_array_equal(L.components8(flat[shuffled], nc), expect[shuffled])


def test_components_join_diagonals_but_not_across_a_row_end():
    # 0 . 1 / . 0 . on a 3-wide raster: (0,0)-(1,1) touch at a corner; (0,2) and (1,0) are
    # consecutive flat indices 2 and 3 but sit at opposite ends of two rows
    assert L.components8(np.array([0, 4, 2]), 3).tolist() == [0, 0, 0]
    assert L.components8(np.array([2, 3]), 3).tolist() == [0, 1]
    assert L.components8(np.array([5, 3]), 3).tolist() == [1, 0]


def test_no_positive_score_no_locality_and_share_falls_short():
    g, flat = _grid()
    score = np.zeros(g.n_cells)
    score[3] = 1.0
    labels, groups = L.assign(g, flat, score, 10.0, g.n_cells * g.cell_area)
    assert groups.height == 1 and (labels >= 0).sum() == 1


def test_window_test_is_the_exact_binomial_tail_and_bh_matches_statsmodels_rule():
    g, flat = _grid(5)
    rows, cols = g.from_flat(flat)
    W = grid_weights_for_cells(rows, cols, 1)
    counts = np.zeros(25)
    counts[12] = 6  # centre
    counts[0] = 1
    A = 25 * g.cell_area
    t = window_test(counts, W, g.cell_area, A)
    assert t.count[12] == 6 and t.expected[12] == pytest.approx(7 * 9 / 25)
    assert t.p[12] == pytest.approx(binom.sf(5, 7, 9 / 25))
    assert t.p[24] == 1.0  # empty window
    p = np.array([0.01, 0.04, 0.03, 0.5])
    # hand-computed BH: sorted .01,.03,.04,.5 -> .04,.06,.0533,.5 -> running min from the top
    assert bh_qvalues(p) == pytest.approx([0.04, 0.05333333, 0.05333333, 0.5])


def test_locality_takes_its_best_window():
    class T:  # a stand-in WindowTest
        p = np.array([0.5, 0.001, 0.2, 1.0])
        q = np.array([0.9, 0.01, 0.4, 1.0])

    p, q, sig = locality_significance(np.array([0, 0, 1, -1]), 2, T, 0.05)
    assert p.tolist() == [0.001, 0.2] and q.tolist() == [0.01, 0.4] and sig.tolist() == [True, False]


def test_ids_from_the_anchor_cell_and_names_from_labels_inside():
    g, flat = _grid()
    labels = np.full(g.n_cells, -1)
    cells = g.to_flat([5, 5], [5, 6])
    labels[cells] = 0
    info = pl.DataFrame({"cell": cells, "study_harm": [10.0, 50.0], "study_n": [3, 1]})
    a = L.anchors(labels, 1, info)
    assert a.tolist() == [cells[1]]
    cx, cy = g.centres()
    ids = L.locality_ids(cx[a], cy[a])
    assert ids == ["L-" + os_grid_ref(cx[a], cy[a])[0]]
    inc = pl.DataFrame({
        "cell": [cells[0]] * 3 + [cells[1]] * 2 + [cells[1]] * 5,
        "serious": [True] * 10, "harm": [1.0] * 10,
        "location": ["On or near Friar Street"] * 3 + ["On or near Foregate Street"] * 2 + ["On or near Parking Area"] * 5,
        "location_type": ["street"] * 5 + ["parking"] * 5,
        "lsoa_code": ["E01"] * 10,
    })
    info = L.cell_labels(inc)
    row = info.filter(pl.col("cell") == cells[1]).row(0, named=True)
    assert row["street"] == "Foregate Street"  # the place type is not a name, even if more frequent
    assert row["place_type"] == "parking"
    streets = L.locality_streets(labels, L.street_counts(inc))
    assert streets["street_any"].to_list() == ["Friar Street"]  # 3 of Friar vs 2 of Foregate


def test_os_grid_refs_known_places():
    refs = os_grid_ref(np.array([384_900.0, 529_090, 216_000]), np.array([255_100.0, 179_645, 771_000]))
    assert refs.tolist() == ["SO849551", "TQ290796", "NN160710"]


# ------------------------------------------------------------------ calibration and power (seeded)


def _uniform(rng, poly, n):
    x0, y0, x1, y1 = poly.bounds
    xs, ys = [], []
    while sum(map(len, xs)) < n:
        x, y = rng.uniform(x0, x1, 3 * n), rng.uniform(y0, y1, 3 * n)
        k = shapely.contains_xy(poly, x, y)
        xs.append(x[k])
        ys.append(y[k])
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def _localities_on_points(prep, x, y):
    """The engine's locality path (map score, budget, scan test) on arbitrary points."""
    from hotspot.analysis import map_score

    lookup = np.full(prep.grid.n_cells + 1, -1)
    lookup[prep.cell_flat] = np.arange(prep.n_cells)
    f = prep.grid.flat_index(x, y)
    c = lookup[np.where(f >= 0, f, prep.grid.n_cells)]
    counts = np.bincount(c[c >= 0], minlength=prep.n_cells).astype(float)
    labels, groups = L.assign(prep.grid, prep.cell_flat, map_score(prep, counts, np.zeros(prep.n_cells)),
                              1.0, prep.study_area_m2)
    t = window_test(counts, prep.W, prep.grid.cell_area, prep.study_area_m2)
    p, q, sig = locality_significance(labels, groups.height, t, 0.05)
    return labels, sig


PLANT = (385_000.0, 254_800.0)  # Worcester city centre, as /work/shared/tools/csr.py


def test_random_points_are_not_significant_and_a_planted_cluster_is(west_mercia_prep):
    """20 seeded runs each: 9,000 uniform points over West Mercia (3 months at ~3,000 a month)."""
    prep = west_mercia_prep
    runs = 20
    null_hits = found = 0
    lookup = np.full(prep.grid.n_cells + 1, -1)
    lookup[prep.cell_flat] = np.arange(prep.n_cells)
    plant_cell = lookup[prep.grid.flat_index(np.array([PLANT[0]]), np.array([PLANT[1]]))[0]]
    for seed in range(runs):
        rng = np.random.default_rng(seed)
        x, y = _uniform(rng, prep.study_poly, 9000)
        _, sig = _localities_on_points(prep, x, y)
        null_hits += bool(sig.any())
        r = 150 * np.sqrt(rng.uniform(0, 1, 60))
        a = rng.uniform(0, 2 * np.pi, 60)
        labels, sig = _localities_on_points(prep, np.r_[x, PLANT[0] + r * np.cos(a)], np.r_[y, PLANT[1] + r * np.sin(a)])
        found += bool(labels[plant_cell] >= 0 and sig[labels[plant_cell]])
    assert null_hits <= runs * 0.05, f"a locality was significant on random points in {null_hits}/{runs} runs"
    assert found >= runs * 0.95, f"planted cluster found in only {found}/{runs} runs"


# ------------------------------------------------------------------ on real data and the sample


def test_every_figure_comes_from_inside_the_polygon(west_mercia_prep):
    a = analyse(west_mercia_prep, Filters(start=date(2024, 1, 1), end=date(2024, 2, 1)), Params(area_share=1.0))
    loc = a.localities
    assert abs(a.locality_area_share() - 0.01) < 0.0005
    inc = a.incidents.filter(pl.col("easting").is_not_null())
    for r in loc.head(5).iter_rows(named=True):
        poly = shapely.from_wkb(r["geometry_wkb"])
        inside = shapely.contains_xy(poly, inc["easting"].to_numpy(), inc["northing"].to_numpy())
        assert inside.sum() == r["n_incidents"] == r["incidents"]
        assert inc.filter(pl.Series(inside))["harm"].sum() == pytest.approx(r["harm"])
        assert poly.area == pytest.approx(r["area_m2"])
    for c in ("id", "name", "incidents", "harm", "area_m2", "significant", "p_value", "q_value", "pattern", "csp"):
        assert c in loc.columns
    assert loc["significant"].any() and not loc["significant"].all()


def test_the_same_place_keeps_its_id_when_the_window_moves(west_mercia_prep):
    march = analyse(west_mercia_prep, Filters(start=date(2024, 3, 1), end=date(2024, 3, 1)))
    april = analyse(west_mercia_prep, Filters(start=date(2024, 4, 1), end=date(2024, 4, 1)))
    worcester = shapely.Point(384_950, 255_050)  # The Foregate, Worcester

    def at(a):
        polys = shapely.from_wkb(a.localities["geometry_wkb"].to_numpy())
        i = int(np.flatnonzero(shapely.contains(polys, worcester))[0])
        return a.localities.row(i, named=True)

    m, p = at(march), at(april)
    assert m["locality_id"] == p["locality_id"] and m["name"] == p["name"]
    top_m = set(march.localities.head(10)["locality_id"].to_list())
    top_a = set(april.localities.head(10)["locality_id"].to_list())
    assert len(top_m & top_a) >= 5


def test_sample_planted_localities_still_found_and_significant(sample_analysis):
    loc = sample_analysis.localities
    polys = shapely.from_wkb(loc["geometry_wkb"].to_numpy())
    foregate = shapely.contains(polys, shapely.Point(384_990, 255_050))
    assert foregate.sum() == 1
    row = loc.filter(pl.Series(foregate)).row(0, named=True)
    assert row["significant"] and row["q_value"] < 1e-6
    assert loc.head(3)["locality_id"].to_list()[0] == row["locality_id"]


def test_adopted_localities_come_back_with_new_ones_marked(west_mercia_prep):
    jan = analyse(west_mercia_prep, Filters(start=date(2024, 1, 1), end=date(2024, 1, 1)))
    top = jan.localities.head(3)
    adopted = tuple(L.AdoptedLocality(id=r["locality_id"], name=f"Adopted {i}",
                                      wkt=shapely.to_wkt(shapely.from_wkb(r["geometry_wkb"])))
                    for i, r in enumerate(top.iter_rows(named=True)))
    a = analyse(west_mercia_prep, Filters(start=date(2024, 4, 1), end=date(2024, 4, 1)), Params(adopted=adopted))
    loc = a.localities
    kept = loc.filter(pl.col("adopted"))
    assert sorted(kept["locality_id"].to_list()) == sorted(top["locality_id"].to_list())
    assert set(kept["name"].to_list()) == {"Adopted 0", "Adopted 1", "Adopted 2"}
    for r in kept.iter_rows(named=True):
        same = top.filter(pl.col("locality_id") == r["locality_id"]).row(0, named=True)
        assert shapely.from_wkb(r["geometry_wkb"]).equals(shapely.from_wkb(same["geometry_wkb"]))
    assert loc.filter(~pl.col("adopted"))["new"].all() and not kept["new"].any()
    assert abs(a.locality_area_share() - 0.01) < 0.0005  # adopted area counts toward the budget


@pytest.mark.parametrize("kw,name", [
    ({"inference": "bogus"}, "Params.inference"),
    ({"area_share": 0}, "Params.area_share"),
    ({"area_share": 150}, "Params.area_share"),
    ({"max_localities": 0}, "Params.max_localities"),
    ({"cell_size": -10}, "Params.cell_size"),
    ({"alpha": 1.5}, "Params.alpha"),
    ({"permutations": -1}, "Params.permutations"),
])
def test_params_are_validated_at_construction(kw, name):
    with pytest.raises(ValueError, match=name):
        Params(**kw)


def test_filters_are_validated_at_construction():
    with pytest.raises(ValueError, match="Filters.start .* after Filters.end"):
        Filters(start=date(2024, 4, 1), end=date(2024, 1, 1))
    with pytest.raises(ValueError, match="Filters.markers"):
        Filters(markers=("bogus",))
    with pytest.raises(ValueError, match="Filters.min_harm"):
        Filters(min_harm=-1)
    assert Filters(categories=["robbery"]).categories == ("robbery",)  # lists become hashable tuples
