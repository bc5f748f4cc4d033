"""The terminal map: vectorised rasterising, the viewport, the legend, and the widget's keys."""
from __future__ import annotations

import asyncio

import numpy as np
import pytest
import shapely

from svtui.widgets.map import (
    BRAILLE_BASE,
    FG_AREA,
    FG_INCIDENT,
    FG_SELECTED,
    MapScene,
    MapView,
    View,
    boundary_segments,
    canvas_strips,
    clip_segments,
    fit_view,
    format_distance,
    nice_distance,
    rasterise,
    sample_segments,
)

SQUARE = shapely.box(0, 0, 1000, 1000)


def test_boundary_segments_of_a_square_and_a_hole():
    seg = boundary_segments([SQUARE])
    assert seg.shape == (4, 4)
    holed = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], holes=[[(2, 2), (4, 2), (4, 4), (2, 4)]])
    assert boundary_segments([holed]).shape == (8, 4)
    assert boundary_segments([]).shape == (0, 4)


def test_clip_segments_liang_barsky():
    seg = np.array(
        [
            [-5.0, 5.0, 15.0, 5.0],  # crosses the box: clipped to 0..10
            [2.0, 2.0, 3.0, 3.0],  # inside: unchanged
            [20.0, 20.0, 30.0, 30.0],  # outside: dropped
            [-1.0, 20.0, -1.0, -20.0],  # parallel and outside: dropped
        ]
    )
    out = clip_segments(seg, 0.0, 0.0, 10.0, 10.0)
    assert out.shape == (2, 4)
    np.testing.assert_allclose(out[0], [0.0, 5.0, 10.0, 5.0])
    np.testing.assert_allclose(out[1], [2.0, 2.0, 3.0, 3.0])


def test_sample_segments_leaves_no_gaps():
    seg = np.array([[0.0, 0.0, 10.0, 0.0], [0.0, 0.0, 0.0, 3.0]])
    x, y = sample_segments(seg)
    assert len(x) == 11 + 4
    assert np.all(np.diff(np.sort(x[:11])) <= 1.0)
    assert sample_segments(np.zeros((0, 4)))[0].size == 0


def test_rasterise_draws_the_outline_and_points():
    scene = MapScene(area_segments=boundary_segments([SQUARE]), incidents_xy=np.array([[500.0, 500.0]]))
    view = fit_view((0, 0, 1000, 1000), 20, 10)
    c = rasterise(scene, view, 20, 10)
    assert c.shape == (10, 20)
    assert (c.bits != 0).sum() > 10
    # the outline is drawn in the area colour, the incident in the middle in its own colour
    assert (c.fg == FG_AREA).any()
    assert (c.fg == FG_INCIDENT).sum() == 1
    chars = c.chars()
    assert chars.min() >= ord(" ")
    assert any(BRAILLE_BASE < ch < BRAILLE_BASE + 256 for ch in chars.ravel())


def test_rasterise_ten_thousand_points_is_fast_and_clipped():
    rng = np.random.default_rng(0)
    pts = rng.uniform(-5000, 5000, size=(200_000, 2))
    scene = MapScene(incidents_xy=pts, bounds=(-5000, -5000, 5000, 5000))
    view = View(0.0, 0.0, 10.0)  # 10 m per dot: most points fall outside
    import time

    t = time.perf_counter()
    c = rasterise(scene, view, 100, 40)
    assert time.perf_counter() - t < 1.0
    assert (c.bits != 0).any()


def test_gi_shading_and_selection_highlight():
    cells = np.array([[250.0, 250.0], [750.0, 750.0]])
    scene = MapScene(
        cells_xy=cells,
        cells_bin=np.array([3, -2], dtype=np.int8),
        cell_size=500.0,
        hotspots=[("L1", "1", shapely.box(600, 600, 900, 900), 3)],
        bounds=(0, 0, 1000, 1000),
    )
    view = fit_view((0, 0, 1000, 1000), 20, 10, margin=1.0)
    c = rasterise(scene, view, 20, 10, shading="gi", selected=0)
    assert (c.bg == 3).any() and (c.bg == -2).any()
    assert (c.fg == FG_SELECTED).any()
    assert (c.label == ord("1")).sum() == 1
    h = rasterise(scene, view, 20, 10, shading="harm")
    assert (h.bg == 13).any() and not (h.bg == 3).any()


def test_no_color_uses_shade_characters():
    scene = MapScene(cells_xy=np.array([[500.0, 500.0]]), cells_bin=np.array([3], dtype=np.int8), cell_size=1000.0, bounds=(0, 0, 1000, 1000))
    c = rasterise(scene, fit_view((0, 0, 1000, 1000), 10, 5), 10, 5)
    assert ord("▓") in c.chars(no_color=True)
    strips = canvas_strips(c, no_color=True)
    assert len(strips) == 5
    for strip in strips:
        for seg in strip:
            assert seg.style is None or seg.style.bgcolor is None


def test_scale_bar_distances():
    assert nice_distance(7300) == 5000
    assert nice_distance(1999) == 1000
    assert nice_distance(250) == 200
    assert format_distance(2000) == "2 km"
    assert format_distance(500) == "500 m"


def test_fit_view_keeps_the_bounds_in_view():
    v = fit_view((0, 0, 10_000, 2_000), 40, 20)
    assert v.cx == 5000 and v.cy == 1000
    assert v.m_per_dot * 80 >= 10_000


def _map_app(scene):
    from textual.app import App, ComposeResult

    class MapApp(App):
        def compose(self) -> ComposeResult:
            yield MapView(id="m")

        def on_mount(self) -> None:
            self.query_one(MapView).set_scene(scene)
            self.query_one(MapView).focus()

    return MapApp()


def test_map_widget_pans_zooms_fits_and_shows_legend():
    scene = MapScene(area_segments=boundary_segments([SQUARE]), bounds=(0, 0, 1000, 1000))
    app = _map_app(scene)

    async def run():
        async with app.run_test(size=(60, 20)) as pilot:
            m = app.query_one(MapView)
            await pilot.pause()
            first = m.view
            assert first is not None
            await pilot.press("plus")
            assert m.view.m_per_dot == pytest.approx(first.m_per_dot / 2)
            await pilot.press("right")
            assert m.view.cx > first.cx
            await pilot.press("0")
            await pilot.pause()
            assert m.view == first
            await pilot.press("g")
            assert m.shading == "harm"
            await pilot.press("i")
            assert m.show_incidents is False
            legend = "".join(seg.text for seg in m.render_line(m.size.height - 1))
            assert "N↑" in legend and ("km" in legend or " m " in legend)
            # a resize refits to the new size
            await pilot.resize_terminal(30, 10)
            await pilot.pause()
            assert m.view != first

    asyncio.run(run())
