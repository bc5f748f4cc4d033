"""Coordinate handling: everything inside svtui is British National Grid metres (EPSG:27700).

Transformers are cached because building one costs milliseconds and readers call them per file.
A pyproj Transformer builds its PROJ operation again in every thread that uses it (about 25 ms
each, a search of PROJ's database), and the readers work on several threads: so every transform
runs on one thread of its own (`project`), which builds each operation once per process.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

# svtui works offline and sends nothing anywhere: PROJ must never reach for its content
# delivery network, whatever PROJ_NETWORK says. With PROJ_NETWORK=ON and no network, PROJ picks
# a grid-based operation (ETRS89 -> OSGB36 via OSTN15), fails to download the grid and returns
# inf, so a valid EPSG:4258 or EPSG:3035 boundary file was rejected. The variable covers GDAL's
# own PROJ context (geodata/__init__.py sets it before any import); the call covers a pyproj
# that was imported before svtui.
os.environ["PROJ_NETWORK"] = "OFF"

import numpy as np  # noqa: E402
import pyproj  # noqa: E402
from pyproj import Transformer  # noqa: E402

pyproj.network.set_network_enabled(False)

# Plausible bounds. Great Britain's BNG extent, plus the lon/lat box around it (with the Isles
# of Scilly, Shetland, and Northern Ireland excluded from BNG use).
BNG_BOUNDS = (0.0, 0.0, 700_000.0, 1_300_000.0)
LONLAT_BOUNDS = (-8.7, 49.8, 2.0, 61.0)


@lru_cache(maxsize=8)
def _transformer(src, dst) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


_PROJ_LOCK = threading.Lock()
_proj_pool: ThreadPoolExecutor | None = None


def _run_xy(src, dst, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = _transformer(src, dst).transform(x, y)
    return np.asarray(a), np.asarray(b)


def _pool() -> ThreadPoolExecutor:
    global _proj_pool
    with _PROJ_LOCK:
        if _proj_pool is None:
            _proj_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="svtui-proj")
        return _proj_pool


def project(src, dst, x, y) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) in CRS `src` -> CRS `dst` (always x/lon first), on the projection thread.

    src and dst: anything pyproj takes ("EPSG:4326", a pyproj CRS). NaN in, NaN out."""
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    return _pool().submit(_run_xy, src, dst, x, y).result()


def prepare_lonlat_to_bng() -> None:
    """Start building the lon/lat -> BNG operation now, without waiting for it (a reader about
    to need it calls this first, so the build overlaps other reading)."""
    _pool().submit(_run_xy, "EPSG:4326", "EPSG:27700", np.zeros(1), np.zeros(1))


def lonlat_to_bng(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 lon/lat degrees -> BNG easting/northing metres (NaN in, NaN out)."""
    return project("EPSG:4326", "EPSG:27700", lon, lat)


def bng_to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return project("EPSG:27700", "EPSG:4326", x, y)


def in_lonlat_box(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = LONLAT_BOUNDS
    return (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)


def in_bng_box(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = BNG_BOUNDS
    return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)


def detect_xy_kind(a: np.ndarray, b: np.ndarray) -> str:
    """Guess whether a pair of coordinate columns holds 'lonlat', 'latlon', or 'bng'.

    Decided by where most finite values fall; used where a file does not say.
    """
    a = np.asarray(a, dtype="float64")
    b = np.asarray(b, dtype="float64")
    ok = np.isfinite(a) & np.isfinite(b)
    if not ok.any():
        return "unknown"
    a, b = a[ok], b[ok]
    scores = {
        "lonlat": in_lonlat_box(a, b).mean(),
        "latlon": in_lonlat_box(b, a).mean(),
        "bng": (in_bng_box(a, b) & (np.abs(a) > 1000)).mean(),
    }
    best = max(scores, key=scores.get)
    return best if scores[best] > 0.5 else "unknown"


def bounds_kind(minx: float, miny: float, maxx: float, maxy: float) -> str:
    """Guess what a bounding box is measured in: 'lonlat', 'bng' or 'unknown'.

    For files that do not say (a shapefile without .prj) or say wrongly (a GeoJSON holding BNG
    metres, which RFC 7946 readers take as WGS84).
    """
    b = np.array([minx, miny, maxx, maxy], dtype="float64")
    if not np.isfinite(b).all():
        return "unknown"
    if -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90:
        return "lonlat"
    x0, y0, x1, y1 = BNG_BOUNDS
    if x0 <= minx <= maxx <= x1 and y0 <= miny <= maxy <= y1 and maxx > 1000 and maxy > 1000:
        return "bng"
    return "unknown"
