"""Ward and town names on the workbench's braille map: shown where they fit, never over each other."""
from __future__ import annotations

import shapely

from svtui.widgets.map import MapScene, boundary_segments, fit_view, place_labels, rasterise

WEST, EAST = shapely.box(0, 0, 5000, 5000), shapely.box(5000, 0, 10000, 5000)


def _rows(canvas):
    return ["".join(chr(x) if x else " " for x in row).strip() for row in canvas.label if row.any()]


def _scene():
    return MapScene(area_segments=boundary_segments([WEST, EAST]),
                    places=[("Northfield", 2500, 2500, 5000.0), ("Southwick", 7500, 2500, 5000.0)])


def test_names_appear_only_at_zoom_levels_where_they_fit():
    sc = _scene()
    narrow = rasterise(sc, fit_view((0, 0, 10000, 5000), 20, 10), 20, 10)
    assert _rows(narrow) == []  # each ward is ~9 columns wide: "Northfield" does not fit
    wide = rasterise(sc, fit_view((0, 0, 10000, 5000), 80, 20), 80, 20)
    row = _rows(wide)
    assert len(row) == 1 and row[0].startswith("Northfield") and row[0].endswith("Southwick")
    assert "Northfield Southwick" not in row[0]  # at least a blank column between them
    # zoomed in on the west ward, only its name shows (the east one is out of view)
    west = rasterise(sc, fit_view((0, 0, 5000, 5000), 60, 20), 60, 20)
    assert _rows(west) == ["Northfield"]


def test_hotspot_labels_win_and_names_never_overlap():
    sc = _scene()
    sc.hotspots = [("L-1", "1", shapely.box(2300, 2300, 2700, 2700), 3)]
    c = rasterise(sc, fit_view((0, 0, 10000, 5000), 80, 20), 80, 20)
    text = "\n".join(_rows(c))
    assert "1" in text and "Southwick" in text and "Northfield" not in text


def test_place_labels_from_the_sample_study_wards(sample_study):
    places = place_labels(sample_study.areas, "ward")
    names = {p[0] for p in places}
    assert "Hereford Central" in names or any("Central" in n for n in names)
    for name, x, y, w in places[:50]:
        assert w > 0
    assert place_labels(None) == []
