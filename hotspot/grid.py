"""Regular square grids in British National Grid metres.

Every grid-based method here (Gi*, KDE, emerging hot spots, PAI backtests) works on
one ``Grid``: an origin, a square cell size and a number of rows and columns. Cells
are numbered row-major from the south-west corner: row 0 is the southernmost row,
column 0 the westernmost, and the flat id is ``row * ncols + col``. Arrays shaped
``(nrows, ncols)`` therefore have north at the *bottom*; flip them (``arr[::-1]``)
before drawing.

Origins are snapped to whole multiples of the cell size so that two grids with the
same cell size always line up, whatever data they were fitted to (this lets a map
fitted on one period be scored against the next).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

__all__ = ["Grid", "default_cell_size", "MIN_CELL_SIZE", "NICE_CELL_SIZES"]

#: police.uk moves every crime to one of a fixed set of anonymous map points, so
#: cells smaller than about 150 m describe the snapping, not the crime.
MIN_CELL_SIZE = 150.0

#: Round cell sizes (metres) that ``default_cell_size`` snaps up to.
NICE_CELL_SIZES = (150.0, 200.0, 250.0, 300.0, 400.0, 500.0, 750.0, 1000.0,
                   1500.0, 2000.0, 2500.0, 5000.0)


def _as_xy(x, y) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x and y differ in length ({x.size} vs {y.size})")
    return x, y


@dataclass(frozen=True)
class Grid:
    """A regular grid of square cells.

    Attributes
    ----------
    x0, y0 : float
        South-west corner of cell (0, 0), BNG metres.
    cell_size : float
        Side of a cell in metres.
    nrows, ncols : int
        Number of rows (south to north) and columns (west to east).
    """

    x0: float
    y0: float
    cell_size: float
    nrows: int
    ncols: int

    def __post_init__(self) -> None:
        if not (self.cell_size > 0 and math.isfinite(self.cell_size)):
            raise ValueError(f"cell_size must be positive, got {self.cell_size}")
        if self.nrows < 1 or self.ncols < 1:
            raise ValueError(f"grid needs at least one row and column, got "
                             f"{self.nrows}x{self.ncols}")

    # ------------------------------------------------------------------ fitting
    @classmethod
    def fit(cls, x, y, cell_size: float, pad: int = 0) -> "Grid":
        """Smallest aligned grid covering all finite points, plus ``pad`` cells.

        The origin is ``floor(min / cell_size) * cell_size`` so grids of the same cell
        size share cell edges. Pad by ``ceil(bandwidth / cell_size)`` cells before a
        kernel density so mass near the data edge is not cut off.
        """
        x, y = _as_xy(x, y)
        ok = np.isfinite(x) & np.isfinite(y)
        if not ok.any():
            raise ValueError("Grid.fit needs at least one finite point")
        if pad < 0:
            raise ValueError("pad must be >= 0")
        cs = float(cell_size)
        if not (cs > 0 and math.isfinite(cs)):
            raise ValueError(f"cell_size must be positive, got {cell_size}")
        c0 = math.floor(x[ok].min() / cs)
        c1 = math.floor(x[ok].max() / cs)
        r0 = math.floor(y[ok].min() / cs)
        r1 = math.floor(y[ok].max() / cs)
        return cls(x0=(c0 - pad) * cs, y0=(r0 - pad) * cs, cell_size=cs,
                   nrows=r1 - r0 + 1 + 2 * pad, ncols=c1 - c0 + 1 + 2 * pad)

    # ----------------------------------------------------------------- geometry
    @property
    def shape(self) -> tuple[int, int]:
        return (self.nrows, self.ncols)

    @property
    def n_cells(self) -> int:
        return self.nrows * self.ncols

    @property
    def cell_area(self) -> float:
        """Cell area in square metres."""
        return self.cell_size * self.cell_size

    @property
    def cell_area_km2(self) -> float:
        return self.cell_area / 1e6

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) of the whole grid."""
        return (self.x0, self.y0, self.x0 + self.ncols * self.cell_size,
                self.y0 + self.nrows * self.cell_size)

    def cell_index(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """(row, col) of each point; -1 in both for points outside or non-finite.

        A point on a shared edge belongs to the cell to its north/east; points on the
        grid's outer north/east edge belong to the last row/column.
        """
        x, y = _as_xy(x, y)
        with np.errstate(invalid="ignore"):
            fc = np.floor((x - self.x0) / self.cell_size)
            fr = np.floor((y - self.y0) / self.cell_size)
        xmax = self.x0 + self.ncols * self.cell_size
        ymax = self.y0 + self.nrows * self.cell_size
        fc = np.where(x == xmax, self.ncols - 1, fc)
        fr = np.where(y == ymax, self.nrows - 1, fr)
        ok = (np.isfinite(fc) & np.isfinite(fr) & (fc >= 0) & (fc < self.ncols)
              & (fr >= 0) & (fr < self.nrows))
        row = np.where(ok, fr, -1).astype(np.int64)
        col = np.where(ok, fc, -1).astype(np.int64)
        return row, col

    def flat_index(self, x, y) -> np.ndarray:
        """Flat cell id (``row * ncols + col``) of each point; -1 outside."""
        row, col = self.cell_index(x, y)
        return np.where(row >= 0, row * self.ncols + col, -1)

    def to_flat(self, row, col) -> np.ndarray:
        return np.asarray(row, dtype=np.int64) * self.ncols + np.asarray(col, dtype=np.int64)

    def from_flat(self, ids) -> tuple[np.ndarray, np.ndarray]:
        return np.divmod(np.asarray(ids, dtype=np.int64), self.ncols)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre x and y, flat arrays of length ``n_cells`` in id order.

        Built from one row and one column of centres (tile/repeat), not a divmod per cell."""
        h = self.cell_size
        xs = self.x0 + (np.arange(self.ncols, dtype=np.int64) + 0.5) * h
        ys = self.y0 + (np.arange(self.nrows, dtype=np.int64) + 0.5) * h
        return np.tile(xs, self.nrows), np.repeat(ys, self.ncols)

    def bounds(self, ids=None) -> np.ndarray:
        """Cell polygons as an ``(n, 4)`` array of (minx, miny, maxx, maxy).

        ``ids`` selects cells by flat id (default: all cells, in id order).
        """
        ids = np.arange(self.n_cells) if ids is None else np.asarray(ids, dtype=np.int64)
        row, col = self.from_flat(ids)
        h = self.cell_size
        minx = self.x0 + col * h
        miny = self.y0 + row * h
        return np.column_stack([minx, miny, minx + h, miny + h])

    # ------------------------------------------------------------------ binning
    def bin_counts(self, x, y, weights=None) -> np.ndarray:
        """Points (or summed weights, e.g. harm) per cell as an ``(nrows, ncols)`` array.

        Points outside the grid or with non-finite coordinates are dropped; fit the
        grid to the same points (``Grid.fit``) if every point must count.
        """
        ids = self.flat_index(x, y)
        keep = ids >= 0
        w = None
        if weights is not None:
            w = np.asarray(weights, dtype=float).ravel()
            if w.shape != ids.shape:
                raise ValueError("weights must match x and y in length")
            w = w[keep]
        flat = np.bincount(ids[keep], weights=w, minlength=self.n_cells)
        return flat.astype(float, copy=False).reshape(self.shape)

    def to_frame(self) -> pl.DataFrame:
        """One row per cell: id, row, col, centre and bounds (for joins and export)."""
        cx, cy = self.centres()
        b = self.bounds()
        ids = np.arange(self.n_cells)
        row, col = self.from_flat(ids)
        return pl.DataFrame({
            "cell": ids, "row": row, "col": col, "x": cx, "y": cy,
            "minx": b[:, 0], "miny": b[:, 1], "maxx": b[:, 2], "maxy": b[:, 3],
        })


def default_cell_size(x, y, n_points: int | None = None, *,
                      max_cells: int = 250_000) -> float:
    """Choose a grid cell size (metres) from the data.

    Rule (each step can only make the cell larger):

    1. Start from the shorter side of the points' bounding box divided by 150, the
       rule of thumb for crime-mapping grids (Chainey & Ratcliffe 2005, *GIS and
       Crime Mapping*).
    2. Sparse data: at least a quarter of ``sqrt(A / n)`` (half the nearest-neighbour
       distance expected under complete spatial randomness, Clark & Evans 1954), so
       a handful of offences over a wide area does not give a grid of lone points.
    3. At most ``max_cells`` cells over the bounding box, to keep Gi* and
       permutations fast.
    4. Never below 150 m: police.uk snaps each crime to an anonymous map point, so
       finer cells map the snapping rather than the crime.
    5. Round up to the next of ``NICE_CELL_SIZES`` (150, 200, 250, 300, 400, 500 m, ...)
       so the number can be quoted in a briefing.

    ``n_points`` defaults to the number of finite points.
    """
    x, y = _as_xy(x, y)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        raise ValueError("default_cell_size needs at least one finite point")
    n = int(ok.sum()) if n_points is None else int(n_points)
    if n < 1:
        raise ValueError("n_points must be >= 1")
    w = float(x[ok].max() - x[ok].min())
    h = float(y[ok].max() - y[ok].min())
    area = w * h
    size = min(w, h) / 150.0
    if area > 0:
        size = max(size, 0.25 * math.sqrt(area / n))
        size = max(size, math.sqrt(area / max_cells))
    size = max(size, MIN_CELL_SIZE)
    for nice in NICE_CELL_SIZES:
        if size <= nice + 1e-9:
            return nice
    step = NICE_CELL_SIZES[-1]
    return float(math.ceil(size / step) * step)


def centres_inside(grid: Grid, poly, block: int = 16) -> np.ndarray:
    """Boolean per cell (flat id order): is the cell centre inside ``poly``?

    Exactly ``shapely.contains_xy(poly, *grid.centres())``, computed block by block: a block of
    ``block x block`` cells lying in the polygon's interior has every centre inside, a block
    disjoint from it has none, and only the blocks the boundary crosses test their centres one
    by one. A force's 100 m grid has ~1.6M cells; most blocks are wholly in or out.
    """
    import shapely

    shapely.prepare(poly)
    nr, nc = grid.shape
    h = grid.cell_size
    br, bc = -(-nr // block), -(-nc // block)
    r0 = np.repeat(np.arange(br) * block, bc)
    c0 = np.tile(np.arange(bc) * block, br)
    r1, c1 = np.minimum(r0 + block, nr), np.minimum(c0 + block, nc)
    # Each block's box spans its cells' centres (not their edges): what matters is the centres.
    boxes = shapely.box(grid.x0 + (c0 + 0.5) * h, grid.y0 + (r0 + 0.5) * h,
                        grid.x0 + (c1 - 0.5) * h, grid.y0 + (r1 - 0.5) * h)
    flat = (r1 - r0 < 2) | (c1 - c0 < 2)  # a box of one row or column is degenerate: test its cells
    full = shapely.contains_properly(poly, boxes) & ~flat
    empty = ~shapely.intersects(poly, boxes) & ~flat
    inside = np.zeros((nr, nc), dtype=bool)
    for b in np.flatnonzero(full):  # a loop over blocks (thousands), never over cells
        inside[r0[b]:r1[b], c0[b]:c1[b]] = True
    mixed = np.flatnonzero(~full & ~empty)
    if mixed.size:
        # Cells of the mixed blocks, gathered with one vectorised expansion.
        rows = np.concatenate([np.repeat(np.arange(r0[b], r1[b]), c1[b] - c0[b]) for b in mixed])
        cols = np.concatenate([np.tile(np.arange(c0[b], c1[b]), r1[b] - r0[b]) for b in mixed])
        hit = shapely.contains_xy(poly, grid.x0 + (cols + 0.5) * h, grid.y0 + (rows + 0.5) * h)
        inside[rows[hit], cols[hit]] = True
    return inside.ravel()
