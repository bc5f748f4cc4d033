"""Binary spatial weights for Gi* as SciPy CSR matrices.

Every builder returns an ``n x n`` :class:`scipy.sparse.csr_array` of float64 ones, symmetric,
with an EMPTY diagonal.  Gi* ("G-star", Getis & Ord 1992; Ord & Getis 1995) counts each cell
as its own neighbour; :mod:`hotspot.gistar` adds that self weight itself, so the same matrix
also serves the plain Gi statistic, Moran's I and neighbour counts without surgery.  This
mirrors how esda/libpysal store weights (self added by ``G_Local(star=True)``).

Builders:

* :func:`grid_weights` - a full regular raster in row-major order (cell ``r * ncols + c``).
* :func:`grid_weights_for_cells` - only the listed cells of a raster (e.g. occupied cells).
* :func:`distance_band_weights` - points/centroids within a distance (inclusive).
* :func:`from_adjacency` - irregular areas from contiguity pairs (e.g. LSOA/ward adjacency).
* :class:`RasterNeighbours` - the same queen neighbourhoods as :func:`grid_weights_for_cells`,
  answered by shifting a padded raster instead of storing a matrix: what the engine uses.

Neighbourhoods on a raster are "queen" neighbourhoods of Chebyshev radius ``radius_cells``:
radius 1 gives the 8 surrounding cells, radius 2 the 24 other cells of a 5x5 block.  (A
Euclidean band of ``sqrt(2)`` cells matches radius 1 exactly; for wider bands use
:func:`distance_band_weights` on cell centroids.)
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "RasterNeighbours",
    "grid_weights",
    "grid_weights_for_cells",
    "distance_band_weights",
    "from_adjacency",
]


def _offsets(radius_cells: int) -> list[tuple[int, int]]:
    """All (dr, dc) with Chebyshev norm in 1..radius (self excluded)."""
    r = int(radius_cells)
    if r < 1 or r != radius_cells:
        raise ValueError(f"radius_cells must be a positive integer, got {radius_cells!r}")
    return [(dr, dc) for dr in range(-r, r + 1) for dc in range(-r, r + 1) if dr or dc]


def _csr(i: np.ndarray, j: np.ndarray, n: int) -> sp.csr_array:
    """Binary CSR from (i, j) pairs; duplicates collapse to a single 1."""
    import scipy.sparse as sp  # here, as in every builder: RasterNeighbours never needs it

    m = sp.csr_array(
        (np.ones(len(i), dtype=np.float64), (np.asarray(i, np.int64), np.asarray(j, np.int64))),
        shape=(n, n),
    )
    m.sum_duplicates()
    m.data[:] = 1.0
    m.sort_indices()
    return m


def grid_weights(nrows: int, ncols: int, radius_cells: int = 1) -> sp.csr_array:
    """Queen weights of Chebyshev radius ``radius_cells`` on a full ``nrows x ncols`` grid.

    Cells are numbered in row-major order (``r * ncols + c``), matching ``array.ravel()``.
    Edge and corner cells simply have fewer neighbours (no wrap-around, no padding): that is
    what esda/ArcGIS do, and Gi*'s variance term already accounts for the smaller W_i.
    The loop below runs over the (2r+1)^2 - 1 offsets, never over cells.
    """
    nrows, ncols = int(nrows), int(ncols)
    if nrows < 1 or ncols < 1:
        raise ValueError("grid must have at least one row and one column")
    rr, cc = np.divmod(np.arange(nrows * ncols, dtype=np.int64), ncols)
    src, dst = [], []
    for dr, dc in _offsets(radius_cells):
        ok = (rr + dr >= 0) & (rr + dr < nrows) & (cc + dc >= 0) & (cc + dc < ncols)
        s = np.flatnonzero(ok)
        src.append(s)
        dst.append(s + dr * ncols + dc)
    n = nrows * ncols
    if not src:
        return _csr(np.empty(0, np.int64), np.empty(0, np.int64), n)
    return _csr(np.concatenate(src), np.concatenate(dst), n)


def grid_weights_for_cells(
    rows: np.ndarray, cols: np.ndarray, radius_cells: int = 1
) -> sp.csr_array:
    """Queen weights among a sparse set of raster cells given by integer (row, col).

    Cell ``i`` of the output is ``(rows[i], cols[i])``; two listed cells are neighbours when
    their Chebyshev distance is 1..radius.  Unlisted cells do not exist for the statistic,
    which is what one wants when Gi* runs over occupied cells only or over cells clipped to
    a study boundary.  Implementation: each cell becomes a single int64 key on a padded
    raster (so an offset can never wrap into the next row), keys are sorted once, and for
    each offset all cells look up their shifted key at once with ``np.searchsorted``:
    O(n log n) per offset and no Python loop over cells.  Duplicate cells raise.
    """
    rows = np.asarray(rows)
    cols = np.asarray(cols)
    if rows.shape != cols.shape or rows.ndim != 1:
        raise ValueError("rows and cols must be 1-D arrays of the same length")
    if not (np.issubdtype(rows.dtype, np.integer) and np.issubdtype(cols.dtype, np.integer)):
        if not (np.all(rows == np.round(rows)) and np.all(cols == np.round(cols))):
            raise ValueError("rows and cols must hold integer cell indices")
    rows = rows.astype(np.int64)
    cols = cols.astype(np.int64)
    offsets = _offsets(radius_cells)
    n = len(rows)
    if n == 0:
        return _csr(np.empty(0, np.int64), np.empty(0, np.int64), 0)
    r = int(radius_cells)
    c0 = cols - cols.min() + r  # in [r, width + r - 1]; shifted col in [0, width + 2r - 1]
    r0 = rows - rows.min() + r
    span = int(c0.max()) + r + 1  # padded width: no shifted key can alias another row
    if (int(r0.max()) + r + 1) * span >= 2**62:
        raise ValueError("cell index range too large to key")
    keys = r0 * span + c0
    # One (n, k) table of neighbour indices (-1 where the shifted cell is not listed): cells are
    # unique, so the pairs need no duplicate summing and the CSR arrays are laid out directly
    # (row by row, offsets in order), skipping a COO sort of n * k pairs.
    idx = np.int32 if n < 2**31 - 1 else np.int64
    nbr = np.empty((n, len(offsets)), dtype=idx)
    size = (int(r0.max()) + r + 1) * span
    if size <= 16 * n + 4_000_000:
        # The padded raster is not much bigger than the cell list (a study grid): a dense
        # key -> cell table answers each offset with one gather instead of a binary search.
        lut = np.full(size, -1, dtype=idx)
        lut[keys] = np.arange(n, dtype=idx)
        if n > 1 and np.count_nonzero(lut >= 0) != n:
            raise ValueError("duplicate (row, col) cells")
        for k, (dr, dc) in enumerate(offsets):
            nbr[:, k] = lut[keys + (dr * span + dc)]
    else:
        order = np.argsort(keys, kind="stable")
        skeys = keys[order]
        if n > 1 and np.any(skeys[1:] == skeys[:-1]):
            raise ValueError("duplicate (row, col) cells")
        for k, (dr, dc) in enumerate(offsets):
            target = keys + dr * span + dc
            pos_c = np.minimum(np.searchsorted(skeys, target), n - 1)
            nbr[:, k] = np.where(skeys[pos_c] == target, order[pos_c], -1)
    hit = nbr >= 0
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(hit.sum(axis=1), out=indptr[1:])
    indices = nbr[hit]
    import scipy.sparse as sp

    m = sp.csr_array((np.ones(len(indices), dtype=np.float64), indices, indptr), shape=(n, n))
    m.sort_indices()  # a no-op when the cells come in raster order (the engine's case)
    return m


class RasterNeighbours:
    """Queen neighbourhoods (Chebyshev radius ``radius``) among the study cells of a raster.

    Mathematically this is ``grid_weights_for_cells(rows, cols, radius)``: neighbour sums
    ``W @ x`` and row sums ``W_i`` are the same numbers.  It answers them by adding shifted
    copies of a zero-padded raster, one pass per offset, so it never stores the n x 8 matrix
    (a force's study grid has ~0.75M cells and ~6M neighbour pairs, whose CSR build and
    validation cost more than every statistic computed from it).  Cells off the study list
    are zeros on the raster, so they are never anybody's neighbour, exactly as in the sparse
    builder.  The sparse matrix is built on demand (:meth:`csr`) for what needs it as a matrix
    (the permutation test, an esda comparison).
    """

    binary = True

    def __init__(self, shape: tuple[int, int], cell_flat: np.ndarray, radius: int = 1):
        self.offsets = _offsets(radius)
        self.radius = int(radius)
        self.raster_shape = (int(shape[0]), int(shape[1]))
        self.cell_flat = np.asarray(cell_flat, dtype=np.int64)
        n = len(self.cell_flat)
        self.shape = (n, n)
        nr, nc = self.raster_shape
        r = self.radius
        self._pw = nc + 2 * r  # padded width: a shifted index never wraps into another row
        self._padded_size = (nr + 2 * r) * self._pw
        rows, cols = np.divmod(self.cell_flat, nc)
        if n and (rows.min() < 0 or rows.max() >= nr):
            raise ValueError("cell_flat holds cells outside the raster")
        if n > 1 and np.any(np.diff(self.cell_flat) <= 0) and len(np.unique(self.cell_flat)) != n:
            raise ValueError("duplicate cells")
        self._pidx = (rows + r) * self._pw + (cols + r)
        self._shifts = np.array([dr * self._pw + dc for dr, dc in self.offsets], dtype=np.int64)
        self._csr = None
        self._plut = None
        # closed-neighbourhood size (self weight included): the lag of ones, counted on a
        # one-byte raster (at most (2r + 1)^2 cells) instead of eight-byte floats
        dt = np.uint8 if (2 * r + 1) ** 2 < 256 else np.int32
        study = np.zeros((nr + 2 * r, nc + 2 * r), dtype=dt)
        study.reshape(-1)[self._pidx] = 1
        count = np.zeros((nr, nc), dtype=dt)
        for dr, dc in self.offsets:
            count += study[r + dr:r + dr + nr, r + dc:r + dc + nc]
        self.wi = count.reshape(-1)[self.cell_flat].astype(np.float64) + 1.0

    @property
    def n(self) -> int:
        return self.shape[0]

    def lag(self, x: np.ndarray) -> np.ndarray:
        """``W @ x``: the sum of ``x`` over each cell's neighbours (self excluded).

        ``x`` is one value per study cell, or an ``(n, T)`` array (one column per step).
        """
        x = np.asarray(x, dtype=np.float64)
        if x.shape[0] != self.n:
            raise ValueError(f"x has {x.shape[0]} rows, expected {self.n}")
        nr, nc = self.raster_shape
        r = self.radius
        tail = x.shape[1:]
        busy = np.flatnonzero(x if x.ndim == 1 else np.any(x != 0, axis=tuple(range(1, x.ndim))))
        if busy.size * 4 * len(self.offsets) < self.n:
            return self._lag_sparse(x, busy)
        padded = np.zeros((nr + 2 * r, nc + 2 * r) + tail)
        padded.reshape((-1,) + tail)[self._pidx] = x
        # In-place adds of shifted views: no index arrays, no temporaries the size of the raster.
        out = np.zeros((nr, nc) + tail)
        for dr, dc in self.offsets:
            out += padded[r + dr:r + dr + nr, r + dc:r + dc + nc]
        return out.reshape((-1,) + tail)[self.cell_flat]

    def _lag_sparse(self, x: np.ndarray, busy: np.ndarray) -> np.ndarray:
        """`lag` when few cells are non-zero (a month of offences on a force's grid): each
        non-zero cell hands its value to its neighbours, offset by offset in the same order as
        the dense sum, so every cell adds the same numbers in the same order (equal to the
        last bit). Within one offset the targets are distinct cells, so `+=` is exact."""
        if self._plut is None:  # padded raster index -> study cell (-1 off the study)
            plut = np.full(self._padded_size, -1, dtype=np.int32 if self.n < 2**31 - 1 else np.int64)
            plut[self._pidx] = np.arange(self.n)
            self._plut = plut
        out = np.zeros((self.n,) + x.shape[1:])
        src = self._pidx[busy]
        vals = x[busy]
        for s in self._shifts:
            j = self._plut[src - s]
            hit = j >= 0
            out[j[hit]] += vals[hit]
        return out

    def lag_rows(self, rows: np.ndarray, x: np.ndarray, at: np.ndarray) -> np.ndarray:
        """``(W @ X)[rows]`` where ``X`` is zero except the cells ``at``, which hold ``x``.

        ``x`` has one row per cell in ``at`` (e.g. a cell x month cube of the occupied cells
        only); the answer has one row per cell in ``rows``.  Costs memory in ``len(at)`` and
        ``len(rows)``, never in n x T.
        """
        lut = np.full(self._padded_size, -1, dtype=np.int64)
        lut[self._pidx[np.asarray(at, dtype=np.int64)]] = np.arange(len(at))
        x = np.asarray(x, dtype=np.float64)
        src = self._pidx[np.asarray(rows, dtype=np.int64)]
        out = np.zeros((len(src),) + x.shape[1:])
        for s in self._shifts:
            j = lut[src + s]
            hit = j >= 0
            out[hit] += x[j[hit]]
        return out

    def csr(self):
        """The same neighbourhoods as a binary SciPy CSR matrix (built once, then kept)."""
        if self._csr is None:
            nc = self.raster_shape[1]
            rows, cols = np.divmod(self.cell_flat, nc)
            self._csr = grid_weights_for_cells(rows, cols, self.radius)
            self._csr._svtui_checked = True
            self._csr._svtui_wi = self.wi
        return self._csr


def distance_band_weights(x: np.ndarray, y: np.ndarray, threshold: float) -> sp.csr_array:
    """Binary distance-band weights: i and j are neighbours when 0 <= d(i, j) <= threshold.

    Coordinates are projected metres (BNG), so plain Euclidean distance is right.  Uses
    ``scipy.spatial.cKDTree.query_pairs`` (inclusive of the threshold, like libpysal's
    ``DistanceBand`` and ArcGIS's fixed distance band).  Coincident points (police.uk snaps
    crimes to shared map points) are neighbours of each other, never of themselves; note
    libpysal's ``DistanceBand`` silently drops such zero-distance pairs.
    Points with nobody in range are islands (empty rows); Gi* then rests on self alone.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("x and y must be 1-D arrays of the same length")
    if not np.isfinite(threshold) or threshold < 0:
        raise ValueError("threshold must be a finite non-negative distance")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("coordinates must be finite")
    n = len(x)
    if n < 2:
        return _csr(np.empty(0, np.int64), np.empty(0, np.int64), n)
    from scipy.spatial import cKDTree  # here: the grid builders above never need it

    pairs = cKDTree(np.column_stack([x, y])).query_pairs(threshold, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    return _csr(np.concatenate([i, j]), np.concatenate([j, i]), n)


def from_adjacency(pairs_i: np.ndarray, pairs_j: np.ndarray, n: int) -> sp.csr_array:
    """Symmetric binary contiguity weights for ``n`` areas from neighbour pairs.

    Each pair (i, j) is taken to mean "i touches j", so both directions are set, repeats are
    merged and self pairs dropped.  Typical input: a rook/queen adjacency list of LSOAs or
    wards produced elsewhere (e.g. shared boundary segments).
    """
    i = np.asarray(pairs_i, dtype=np.int64).ravel()
    j = np.asarray(pairs_j, dtype=np.int64).ravel()
    if i.shape != j.shape:
        raise ValueError("pairs_i and pairs_j must have the same length")
    n = int(n)
    if len(i) and (min(i.min(), j.min()) < 0 or max(i.max(), j.max()) >= n):
        raise ValueError(f"pair index out of range for n={n}")
    keep = i != j
    i, j = i[keep], j[keep]
    return _csr(np.concatenate([i, j]), np.concatenate([j, i]), n)
