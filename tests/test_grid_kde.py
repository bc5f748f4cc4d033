import math

import numpy as np
import pytest

from hotspot.grid import MIN_CELL_SIZE, NICE_CELL_SIZES, Grid, default_cell_size
from hotspot.kde import (default_bandwidth, kde, kde_at, kde_from_counts, kde_pad_cells,
                         kernel_stencil, kernel_value)


# ---------------------------------------------------------------------------- grid
def test_fit_aligns_origin_to_cell_multiples():
    g = Grid.fit([380_123.0, 381_999.0], [260_050.0, 260_420.0], 200)
    assert (g.x0, g.y0) == (380_000.0, 260_000.0)
    assert g.shape == (3, 10)  # rows 260000..260600, cols 380000..382000
    assert g.extent == (380_000.0, 260_000.0, 382_000.0, 260_600.0)
    gp = Grid.fit([380_123.0, 381_999.0], [260_050.0, 260_420.0], 200, pad=2)
    assert (gp.x0, gp.y0) == (379_600.0, 259_600.0)
    assert gp.shape == (7, 14)


def test_fit_rejects_no_points():
    with pytest.raises(ValueError):
        Grid.fit([np.nan], [1.0], 100)


def test_cell_index_flat_ids_and_outside():
    g = Grid(x0=0.0, y0=0.0, cell_size=100.0, nrows=2, ncols=3)
    x = np.array([50, 150, 299.9, 100, 300, -1, np.nan, 250])
    y = np.array([50, 50, 199.9, 100, 0, 0, 0, 200])
    row, col = g.cell_index(x, y)
    # 100 on an inner edge goes north/east; 300 and 200 are the outer edges.
    assert row.tolist() == [0, 0, 1, 1, 0, -1, -1, 1]
    assert col.tolist() == [0, 1, 2, 1, 2, -1, -1, 2]
    assert g.flat_index(x, y).tolist() == [0, 1, 5, 4, 2, -1, -1, 5]
    r, c = g.from_flat([0, 4, 5])
    assert r.tolist() == [0, 1, 1] and c.tolist() == [0, 1, 2]
    assert g.to_flat(r, c).tolist() == [0, 4, 5]


def test_centres_and_bounds():
    g = Grid(x0=1000.0, y0=2000.0, cell_size=50.0, nrows=2, ncols=2)
    cx, cy = g.centres()
    assert cx.tolist() == [1025, 1075, 1025, 1075]
    assert cy.tolist() == [2025, 2025, 2075, 2075]
    b = g.bounds()
    assert b.shape == (4, 4)
    assert b[3].tolist() == [1050, 2050, 1100, 2100]
    assert g.bounds([1]).tolist() == [[1050, 2000, 1100, 2050]]
    # Every centre lies in its own cell.
    assert g.flat_index(cx, cy).tolist() == [0, 1, 2, 3]
    df = g.to_frame()
    assert df.height == 4 and df["cell"].to_list() == [0, 1, 2, 3]


def test_bin_counts_with_and_without_weights():
    g = Grid(x0=0.0, y0=0.0, cell_size=10.0, nrows=2, ncols=2)
    x = [1, 2, 15, 15, 99]
    y = [1, 1, 15, 5, 99]  # last point is outside and dropped
    c = g.bin_counts(x, y)
    assert c.tolist() == [[2, 1], [0, 1]]
    w = g.bin_counts(x, y, weights=[184, 333, 1965, 1, 7979])
    assert w.tolist() == [[517, 1], [0, 1965]]


def test_default_cell_size_floor_and_nice_values():
    rng = np.random.default_rng(1)
    # A small town centre, dense data: the 150 m floor wins.
    x = rng.uniform(0, 3000, 5000)
    y = rng.uniform(0, 2000, 5000)
    assert default_cell_size(x, y) == MIN_CELL_SIZE
    # A county 60 x 40 km: 40000/150 = 267 m -> snapped up to 300 m.
    x = rng.uniform(0, 60_000, 20_000)
    y = rng.uniform(0, 40_000, 20_000)
    assert default_cell_size(x, y) == 300.0
    # Few points over the same county: 0.25*sqrt(2.4e9/500) = 548 -> 750 m.
    assert default_cell_size(x[:500], y[:500]) == 750.0
    # Declared point count overrides len(x).
    assert default_cell_size(x, y, n_points=500) == 750.0
    # A single point (zero extent) still gets the floor.
    assert default_cell_size([5.0], [5.0]) == MIN_CELL_SIZE
    for size in (default_cell_size(x[:n], y[:n]) for n in (10, 100, 1000)):
        assert size >= MIN_CELL_SIZE and size in NICE_CELL_SIZES


def test_default_cell_size_respects_max_cells():
    x = np.array([0.0, 100_000.0])
    y = np.array([0.0, 100_000.0])
    size = default_cell_size(x, y, n_points=10**7, max_cells=10_000)
    assert (100_000 / size) ** 2 <= 10_000


# ----------------------------------------------------------------------------- kde
def test_single_point_quartic_matches_formula():
    h, cs = 400.0, 100.0
    g = Grid(x0=0.0, y0=0.0, cell_size=cs, nrows=21, ncols=21)
    dens = kde(g, [1050.0], [1050.0], bandwidth=h)  # centre of cell (10, 10)
    for dr, dc in [(0, 0), (0, 1), (1, 1), (2, 3), (0, 4), (3, 3)]:
        d = cs * math.hypot(dr, dc)
        expected = 3 / (math.pi * h * h) * (1 - d * d / (h * h)) ** 2 if d < h else 0.0
        assert dens[10 + dr, 10 + dc] == pytest.approx(expected * 1e6, rel=1e-9, abs=1e-12)
    # Peak by hand: 3 / (pi * 0.4^2 km^2) = 5.968 events per km^2.
    assert dens[10, 10] == pytest.approx(3 / (math.pi * 0.16), rel=1e-9)
    # Outside the radius the surface is exactly zero (FFT noise removed).
    assert dens[10, 15] == 0.0 and dens[0, 0] == 0.0


def test_gaussian_kernel_value():
    h = 250.0
    k = kernel_value([0.0, 250.0], h, "gaussian")
    assert k[0] == pytest.approx(1 / (2 * math.pi * h * h))
    assert k[1] == pytest.approx(math.exp(-0.5) / (2 * math.pi * h * h))


@pytest.mark.parametrize("kernel,h", [("quartic", 500.0), ("gaussian", 150.0)])
def test_mass_is_conserved_away_from_edges(kernel, h):
    rng = np.random.default_rng(7)
    cs = 50.0
    x = rng.uniform(2000, 3000, 400)
    y = rng.uniform(2000, 2600, 400)
    w = rng.choice([184.0, 333.0, 1965.0], size=400)
    pad = kde_pad_cells(h, cs, kernel)
    g = Grid.fit(x, y, cs, pad=pad)
    dens = kde(g, x, y, bandwidth=h, kernel=kernel, weights=w)
    assert (dens * g.cell_area_km2).sum() == pytest.approx(w.sum(), rel=0.01)
    dens1 = kde(g, x, y, bandwidth=h, kernel=kernel)
    assert (dens1 * g.cell_area_km2).sum() == pytest.approx(400, rel=0.01)


def test_stencil_symmetry_and_surface_symmetry():
    k = kernel_stencil(300.0, 100.0)
    assert k.shape == (7, 7)
    np.testing.assert_allclose(k, k[::-1, :])
    np.testing.assert_allclose(k, k[:, ::-1])
    np.testing.assert_allclose(k, k.T)
    # Two points mirrored about the grid centre give a mirrored surface.
    g = Grid(x0=0.0, y0=0.0, cell_size=100.0, nrows=15, ncols=15)
    dens = kde(g, [350.0, 1150.0], [550.0, 950.0], bandwidth=300.0)
    np.testing.assert_allclose(dens, dens[::-1, ::-1], atol=1e-12)


def test_kde_is_linear_in_counts():
    rng = np.random.default_rng(3)
    a = rng.poisson(0.3, size=(30, 40)).astype(float)
    b = rng.poisson(0.3, size=(30, 40)).astype(float)
    da = kde_from_counts(a, 150.0, 450.0)
    db = kde_from_counts(b, 150.0, 450.0)
    np.testing.assert_allclose(kde_from_counts(a + 2 * b, 150.0, 450.0), da + 2 * db,
                               atol=1e-9)
    assert (da >= 0).all()


@pytest.mark.parametrize("density", [0.002, 0.6])
def test_kde_read_at_cells_is_the_surface_at_those_cells(density):
    """The engine reads the surface at its study cells only: the same numbers, to the last
    bit, as the whole surface (sparse data scattered; dense data through the FFT), and the
    scattered surface equals the FFT's within its round-off."""
    pytest.importorskip("scipy.signal")
    rng = np.random.default_rng(9)
    shape = (90, 120)
    counts = np.where(rng.random(shape) < density, rng.gamma(0.8, 300.0, shape), 0.0)
    flat = np.flatnonzero(rng.random(shape[0] * shape[1]) < 0.7)
    counts.ravel()[np.setdiff1d(np.arange(counts.size), flat)] = 0.0  # values only on study cells
    at = np.sort(rng.choice(counts.size, 4000, replace=False))
    whole = kde_from_counts(counts, 100.0, 300.0)
    got = kde_at(shape, flat, counts.ravel()[flat], 100.0, 300.0, at=at)
    np.testing.assert_array_equal(got, whole.ravel()[at])
    from scipy.signal import fftconvolve

    ref = fftconvolve(counts, kernel_stencil(300.0, 100.0) * 1e6, mode="same")
    np.testing.assert_allclose(got, ref.ravel()[at], rtol=1e-9, atol=1e-9 * ref.max())


def test_default_bandwidth_rule():
    assert default_bandwidth(150.0) == 300.0
    assert default_bandwidth(200.0) == 400.0
    assert default_bandwidth(250.0) == 500.0
    assert default_bandwidth(50.0) == 300.0
    assert default_bandwidth(333.0) == 700.0  # 666 m rounded up to 50 m


def test_bad_inputs_raise():
    g = Grid(x0=0.0, y0=0.0, cell_size=100.0, nrows=3, ncols=3)
    with pytest.raises(ValueError):
        kde(g, [50.0], [50.0], bandwidth=300.0, kernel="epanechnikov")
    with pytest.raises(ValueError):
        kde(g, [50.0], [50.0], bandwidth=-1.0)
    with pytest.raises(ValueError):
        kde(g, [50.0], [50.0], bandwidth=300.0, weights=[-1.0])


@pytest.mark.parametrize("block", [1, 2, 5, 16])
def test_centres_inside_equals_contains_xy_cell_for_cell(block):
    """The block-wise study mask is the point-in-polygon test of every centre, exactly: a hole,
    a spike one cell wide, edges through centres, a second part and grid edges included."""
    import shapely
    from shapely.geometry import MultiPolygon, Polygon

    from hotspot.grid import centres_inside

    outer = [(0, 0), (4000, 0), (4000, 2550), (2050, 2550), (2050, 3900), (1950, 3900), (1950, 2550), (0, 2550)]
    hole = [(1000, 1000), (3000, 1000), (3000, 1500), (1000, 1500)]  # edges run through centres
    poly = MultiPolygon([Polygon(outer, [hole]), Polygon([(5000, 500), (6000, 500), (5500, 1700)])])
    grid = Grid.fit(np.array([-300.0, 6400.0]), np.array([-300.0, 4200.0]), 100.0, pad=2)
    cx, cy = grid.centres()
    expected = shapely.contains_xy(poly, cx, cy)
    got = centres_inside(grid, poly, block=block)
    assert got.dtype == bool and got.shape == (grid.n_cells,)
    np.testing.assert_array_equal(got, expected)
    assert 0 < got.sum() < grid.n_cells


def test_centres_inside_on_a_real_force_boundary():
    from pathlib import Path

    import shapely

    from geodata.areas import build_areas
    from hotspot.grid import centres_inside

    path = Path(__file__).resolve().parents[2] / "shared" / "real" / "boundaries" / "lsoa21_warwickshire_bsc.geojson"
    if not path.is_file():
        pytest.skip(f"real boundary file {path} is absent")
    poly = shapely.union_all(build_areas(path).geometry)
    minx, miny, maxx, maxy = poly.bounds
    grid = Grid.fit(np.array([minx, maxx]), np.array([miny, maxy]), 100.0, pad=3)
    cx, cy = grid.centres()
    np.testing.assert_array_equal(centres_inside(grid, poly), shapely.contains_xy(poly, cx, cy))
