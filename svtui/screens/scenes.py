"""Map scenes built from the study and the analysis (geometry only: no statistics).

Built in worker threads and kept in the session's one cache: boundaries once per study, the
hotspot layer once per filter set.
"""
from __future__ import annotations

import numpy as np

from svtui.widgets.map import MapScene, boundary_segments, place_labels


def boundaries(app):
    """(lsoa segments, csp segments, {level: GeoDataFrame}) for the study (cached)."""
    return app.session.cached(("svtui:boundaries",), lambda: _boundaries(app.study))


def _boundaries(st):
    lsoa = np.zeros((0, 4))
    upper = np.zeros((0, 4))
    if st is not None and st.areas is not None and len(st.areas):
        from geodata.areas import level_polygons

        lsoa = boundary_segments(st.areas.geometry)
        for level in ("csp", "district", "force"):
            try:
                polys = level_polygons(st.areas, level)
            except Exception:  # noqa: BLE001  (no codes at this level: try the next)
                continue
            upper = boundary_segments(polys.geometry.values)
            break
    return lsoa, upper


def hotspot_scene(app) -> MapScene:
    """Boundaries, Gi* cells, hotspot polygons (labelled by rank), incidents and venues."""
    res = app.results
    return app.session.cached(("svtui:scene", res.filters), lambda: _scene(app, res.analysis, app.study))


def _scene(app, a, st) -> MapScene:
    import shapely

    lsoa, upper = boundaries(app)
    loc = a.localities
    hotspots = []
    n = loc.height
    if n:
        geoms = shapely.from_wkb(loc["geometry_wkb"].to_list())
        sig = loc["significant"].to_list() if "significant" in loc.columns else [True] * n
        for i, (lid, g) in enumerate(zip(loc["locality_id"].to_list(), geoms)):
            # Harm tier by rank among the hotspots (the frame is ordered by harm, highest first).
            tier = 3 if i < max(1, n // 3) else 2 if i < max(2, 2 * n // 3) else 1
            # rank labels for the significant localities only: thousands of budget cells would bury them
            hotspots.append((lid, str(i + 1) if sig[i] else "", g, tier))
    cells = a.cells
    inc = a.incidents.filter(a.incidents["easting"].is_not_null())
    ven = st.venues.filter(st.venues["easting"].is_not_null()) if st.venues.height else st.venues
    scene = MapScene(
        lsoa_segments=lsoa,
        area_segments=upper,
        hotspots=hotspots,
        cells_xy=cells.select("x", "y").to_numpy() if cells.height else np.zeros((0, 2)),
        cells_bin=cells["bin"].to_numpy().astype(np.int8) if cells.height else np.zeros(0, dtype=np.int8),
        cell_size=float(a.grid.cell_size),
        incidents_xy=inc.select("easting", "northing").to_numpy() if inc.height else np.zeros((0, 2)),
        venues_xy=ven.select("easting", "northing").to_numpy() if ven.height else np.zeros((0, 2)),
        places=place_labels(st.areas, "ward"),
    )
    if st.areas is not None and len(st.areas):
        import shapely

        scene.bounds = tuple(float(v) for v in shapely.total_bounds(st.areas.geometry))
    return scene


def area_bounds(app, level: str, code: str):
    """Bounds of one area (any level) in BNG, or None."""
    st = app.study
    if st is None or st.areas is None:
        return None
    from geodata.areas import level_polygons

    try:
        polys = level_polygons(st.areas, level)
    except Exception:  # noqa: BLE001
        return None
    sel = polys[polys[f"{level}_code"] == code]
    if len(sel) == 0:
        return None
    return tuple(float(v) for v in sel.total_bounds)


def area_outline(app, level: str, code: str) -> np.ndarray:
    st = app.study
    from geodata.areas import level_polygons

    try:
        polys = level_polygons(st.areas, level)
    except Exception:  # noqa: BLE001
        return np.zeros((0, 4))
    sel = polys[polys[f"{level}_code"] == code]
    return boundary_segments(sel.geometry.values) if len(sel) else np.zeros((0, 4))
