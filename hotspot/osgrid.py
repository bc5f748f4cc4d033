"""Ordnance Survey grid references, used for stable, human-readable locality ids.

Letters follow the OS National Grid scheme: a 500 km square letter then a 100 km square letter
(Ordnance Survey, "A guide to coordinate systems in Great Britain", section 3).
"""
from __future__ import annotations

import numpy as np

_LETTERS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"  # no I


def os_grid_ref(easting: np.ndarray, northing: np.ndarray, digits: int = 3) -> np.ndarray:
    """Grid references like 'SO849551' (digits per axis: 3 = 100 m). NaN or off-grid -> ''."""
    e = np.asarray(easting, dtype="float64")
    n = np.asarray(northing, dtype="float64")
    ok = np.isfinite(e) & np.isfinite(n) & (e >= 0) & (e < 700_000) & (n >= 0) & (n < 1_300_000)
    out = np.full(e.shape, "", dtype=object)
    if not ok.any():
        return out
    ei, ni = e[ok].astype(np.int64), n[ok].astype(np.int64)
    e100, n100 = ei // 100_000, ni // 100_000
    l1 = (19 - n100) - (19 - n100) % 5 + (e100 + 10) // 5
    l2 = (19 - n100) * 5 % 25 + e100 % 5
    scale = 10 ** (5 - digits)
    ee = (ei % 100_000) // scale
    nn = (ni % 100_000) // scale
    letters = np.array(list(_LETTERS))
    refs = [
        f"{a}{b}{x:0{digits}d}{y:0{digits}d}"
        for a, b, x, y in zip(letters[l1], letters[l2], ee.tolist(), nn.tolist())
    ]
    out[ok] = refs
    return out
