"""Getis-Ord Gi* hot and cold spots: analytic z, fast conditional permutation, FDR, ArcGIS bins.

Sources
-------
* Getis, A. & Ord, J. K. (1992) The analysis of spatial association by use of distance
  statistics. Geographical Analysis 24(3).
* Ord, J. K. & Getis, A. (1995) Local spatial autocorrelation statistics: distributional
  issues and an application. Geographical Analysis 27(4) - the standardised Gi* below.
* Benjamini, Y. & Hochberg, Y. (1995) Controlling the false discovery rate. JRSS B 57.
* ArcGIS Pro, "Hot Spot Analysis (Getis-Ord Gi*)" and "How Hot Spot Analysis works":
  Gi_Bin codes and FDR-corrected confidence levels.
* PySAL esda ``G_Local(y, w, transform="B", star=True)``: ``Zs`` and the conditional
  randomisation (``crand``) that :func:`gi_star_permutation` reproduces.  esda is a test
  oracle only; nothing here imports it.

Weights ``W`` are binary ``n x n`` SciPy sparse matrices WITHOUT self, or a
:class:`hotspot.weights.RasterNeighbours` giving the same sums without the matrix (see
:mod:`hotspot.weights`); Gi* includes each cell in its own neighbourhood, added here.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
from hotspot.tails import normal_tail

__all__ = [
    "GiStarResult",
    "gi_star",
    "gi_star_z",
    "gi_star_permutation",
    "bh_threshold",
    "fdr_bh",
    "classify",
    "classify_fdr",
    "CONFIDENCE_LEVELS",
]

#: (bin magnitude, two-sided p cut-off) as in ArcGIS's Gi_Bin: 3 = 99 %, 2 = 95 %, 1 = 90 %.
CONFIDENCE_LEVELS: tuple[tuple[int, float], ...] = ((3, 0.01), (2, 0.05), (1, 0.10))


# --------------------------------------------------------------------------- validation


def _check_x(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64).ravel()
    if x.size < 3:
        raise ValueError(f"Gi* needs at least 3 cells (got {x.size}): the variance has n - 1 "
                         "in its denominator and with n = 2 every neighbourhood is everything")
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or infinite values")
    return x


def checked_weights(W, copy: bool = True) -> sp.csr_array:
    """Validate W once (a copy, marked), so repeated Gi* calls on one grid skip the checks.

    The engine keeps one such W per prepared study; a filter change then costs one mat-vec.
    copy=False when the caller owns W and will not use it otherwise (the engine's freshly built
    grid weights): saves copying millions of entries.
    """
    W = _check_w(W, W.shape[0], copy=copy)
    W._svtui_checked = True
    W._svtui_wi = np.asarray(W.sum(axis=1)).ravel() + 1.0
    return W


def _row_weights(W) -> np.ndarray:
    wi = getattr(W, "_svtui_wi", None)
    return wi if wi is not None else np.asarray(W.sum(axis=1)).ravel() + 1.0


def _check_w(W, n: int, copy: bool = True) -> sp.csr_array:
    if getattr(W, "_svtui_checked", False) and W.shape == (n, n):
        return W
    sp = sys.modules.get("scipy.sparse")  # not loaded: W cannot be a sparse matrix
    if sp is None or not sp.issparse(W):
        raise TypeError("W must be a scipy.sparse matrix (see hotspot.weights)")
    W = sp.csr_array(W, dtype=np.float64, copy=copy)  # never mutate the caller's matrix (unless told)
    if W.shape != (n, n):
        raise ValueError(f"W has shape {W.shape}, expected ({n}, {n})")
    W.sum_duplicates()
    W.eliminate_zeros()
    if np.any(W.diagonal() != 0):
        raise ValueError("W must exclude self (zero diagonal); Gi* adds the self weight")
    if W.nnz and (W.data.min() < 0):
        raise ValueError("W must be non-negative")
    return W


# --------------------------------------------------------------------------- analytic z


def gi_star_z(x, W) -> np.ndarray:
    """Standardised Gi* for every cell (Ord & Getis 1995, eq. 14), self weight 1 added.

    ``z_i = (sum_j w_ij x_j - xbar W_i) / (S sqrt((n sum_j w_ij^2 - W_i^2) / (n - 1)))``
    with the sums and ``W_i = sum_j w_ij`` taken over j INCLUDING i (w_ii = 1),
    ``xbar = mean(x)`` and ``S = sqrt(mean(x^2) - xbar^2)`` (population SD).  For binary W
    this is exactly esda ``G_Local(y, w, transform="B", star=True).Zs``.  Non-binary
    non-negative weights are accepted (the formula is general); the permutation test is not.

    Degenerate cases: if every value is equal (S == 0) there is no contrast and all z are
    0; a cell whose neighbourhood is the whole study area has a zero denominator and a
    zero numerator, and gets z = 0.  Fewer than 3 cells raise ``ValueError``.
    Cost: one sparse mat-vec.
    """
    return _z_and_sums(x, W)[0]


def _z_and_sums(x, W) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(z, each cell's closed-neighbourhood sum of x, and on a raster the z of a cell whose
    closed neighbourhood sums to 0, by its size W_i = 0, 1, ... (2r + 1)^2); the last two are
    None when every z is 0."""
    x = _check_x(x)
    n = x.size
    raster = hasattr(W, "lag")  # hotspot.weights.RasterNeighbours: binary by construction
    if raster and W.shape != (n, n):
        raise ValueError(f"W has shape {W.shape}, expected ({n}, {n})")
    if not raster:
        W = _check_w(W, n)
    xbar = x.mean()
    s = np.sqrt(max(np.mean(x * x) - xbar * xbar, 0.0))
    if s <= 1e-12 * max(1.0, abs(xbar)):
        return np.zeros(n), None, None
    wi = W.wi if raster else _row_weights(W)
    spread = getattr(W, "_svtui_gi_spread", None) if raster else None
    if spread is None:  # sqrt((n sum w^2 - W_i^2) / (n - 1)): fixed by W, kept on a raster W
        binary = raster or W.nnz == 0 or bool(np.all(W.data == 1.0))
        w2 = wi if binary else np.asarray(W.multiply(W).sum(axis=1)).ravel() + 1.0
        spread = np.sqrt(np.clip((n * w2 - wi * wi) / (n - 1), 0.0, None))
        if raster:
            W._svtui_gi_spread = spread
    closed = (W.lag(x) if raster else W @ x) + x
    num = closed - xbar * wi
    den = s * spread
    z = np.zeros(n)
    ok = den > 0
    np.divide(num, den, out=z, where=ok)
    if not raster:
        return z, closed, None
    # The same arithmetic on the possible sizes alone (element by element the same IEEE
    # operations, so the same numbers to the last bit as above for such cells).
    v = np.arange(len(W.offsets) + 2, dtype=np.float64)
    den_v = s * np.sqrt(np.clip((n * v - v * v) / (n - 1), 0.0, None))
    z_v = np.zeros(v.size)
    np.divide(0.0 - xbar * v, den_v, out=z_v, where=den_v > 0)
    return z, closed, z_v


def _normal_tails(z: np.ndarray, closed: np.ndarray | None, z_empty: np.ndarray | None, W) -> np.ndarray:
    """normal_tail(z) for every cell. On a raster most cells' closed neighbourhoods are empty,
    and their z then depends on W_i alone (`z_empty`): the tail is computed once per size."""
    if z_empty is None:
        return normal_tail(z)
    empty = closed == 0
    if np.count_nonzero(empty) * 2 < z.size:
        return normal_tail(z)
    k = getattr(W, "_svtui_wi_int", None)
    if k is None:
        k = W._svtui_wi_int = W.wi.astype(np.intp)
    tail = normal_tail(z_empty)[k]
    busy = np.flatnonzero(~empty)
    tail[busy] = normal_tail(z[busy])
    return tail


# --------------------------------------------------------------------------- permutation


def _draw_indices(n: int, m: int, R: int, seed) -> np.ndarray:
    """R rows of m distinct indices from range(n); each row a uniform ordered sample.

    When m * m <= n, draw all rows i.i.d. with replacement and redraw the rows holding a
    repeat (a row is kept with probability about exp(-m^2 / 2n) >= 0.6); i.i.d. rows
    conditioned on being distinct are exactly uniform ordered samples, and this is fast
    enough for R = 10^5.  Otherwise (few cells, big neighbourhoods) one
    ``Generator.choice(replace=False)`` per row.  Deterministic for a seed; memory R x m.
    """
    rng = np.random.default_rng(seed)
    if m * m > n:
        return np.stack([rng.choice(n, size=m, replace=False) for _ in range(R)])
    idx = rng.integers(0, n, size=(R, m))
    rows = np.arange(R)
    while rows.size:
        s = np.sort(idx[rows], axis=1)
        rows = rows[(s[:, 1:] == s[:, :-1]).any(axis=1)]
        idx[rows] = rng.integers(0, n, size=(rows.size, m))
    return idx


def gi_star_permutation(x, W, permutations: int = 999, seed: int = 0):
    """One-sided conditional-permutation pseudo p-values for Gi*: ``(p_hot, p_cold)``.

    Null hypothesis (esda ``crand``; Anselin 1995): cell i keeps its own value x_i and its
    k_i neighbours receive k_i values drawn without replacement from the other n - 1 cells.
    With binary weights and x_i fixed, Gi* is an increasing function of the neighbour sum
    ``L_i = sum_{j in N(i)} x_j``, so the test compares L_i with null sums:

    * ``p_hot  = (#{null >= L_i} + 1) / (R + 1)``  (high values cluster: hot spot)
    * ``p_cold = (#{null <= L_i} + 1) / (R + 1)``  (low values cluster: cold spot)

    Both lie in ``[1/(R+1), 1]``.  A two-sided pseudo p is twice the smaller one, capped at
    1 (:func:`gi_star` doubles the one on the side z points to).  esda's ``p_sim`` (its old default "directed" alternative)
    is ``(min(#{null >= L}, #{null < L}) + 1) / (R + 1)``, i.e. the smaller one-sided p with
    ties given to the hot side; it is recovered from ``p_hot`` alone (see the tests).

    Speed (the point of this function).  Like esda, one set of R random index draws is
    shared by all cells.  We draw R ordered samples of ``kmax + 1`` distinct indices from
    all n cells and take prefix sums ``P[r, k]`` of their values.  For a cell i the first k_i
    entries of row r that are not i form a uniform random k_i-subset of the other n - 1
    cells (a uniform random ordering restricted to j != i is still uniform), so the null
    draw for cell i is ``P[r, k_i]`` when i is not among the first k_i entries, and
    ``P[r, k_i + 1] - x_i`` when it is.  All cells with the same k therefore share one
    sorted null sample and their counts are one ``np.searchsorted``; the rows that contain
    i itself (k_i R / n per cell on average, at most ``R * kmax`` in total) are then
    corrected exactly.  Self-exclusion is thus EXACT, not approximated; cost is
    O(R kmax + n log R) instead of esda's O(n R kmax), with no n x R array.

    Sums that differ by less than ``1e-10 * kmax * max|x|`` count as ties (both tails), so
    float round-off in different summation orders cannot flip a tie of equal integer sums.

    Requires binary W (all stored weights 1).  Islands (k_i = 0) get p_hot = p_cold = 1.
    Deterministic for a given ``seed`` (``numpy.random.default_rng``).
    """
    x = _check_x(x)
    n = x.size
    if hasattr(W, "csr"):  # hotspot.weights.RasterNeighbours: the draws need the matrix's rows
        W = W.csr()
    W = _check_w(W, n)
    R = int(permutations)
    if R < 1 or R != permutations:
        raise ValueError("permutations must be a positive integer")
    if W.nnz and not np.all(W.data == 1.0):
        raise ValueError("gi_star_permutation needs binary weights (all stored values 1)")
    k = np.diff(W.indptr).astype(np.int64)
    kmax = int(k.max()) if n else 0
    lag = W @ x
    ge = np.full(n, R, dtype=np.int64)  # islands: null sum 0 == L_i = 0, a tie in both tails
    le = np.full(n, R, dtype=np.int64)
    if kmax == 0:
        return (ge + 1) / (R + 1), (le + 1) / (R + 1)

    idx = _draw_indices(n, kmax + 1, R, seed)  # kmax <= n - 1: kmax + 1 distinct exist
    m = kmax + 1
    prefix = np.zeros((R, m + 1))
    np.cumsum(x[idx], axis=1, out=prefix[:, 1:])
    tol = 1e-10 * kmax * max(float(np.abs(x).max()), 1e-300)

    # Shared null per cardinality k: one sort + two searchsorted per distinct k.
    order = np.argsort(k, kind="stable")
    ks, starts = np.unique(k[order], return_index=True)
    stops = np.append(starts[1:], n)
    for kk, a, b in zip(ks, starts, stops):
        if kk == 0:
            continue
        cells = order[a:b]
        null = np.sort(prefix[:, kk])
        obs = lag[cells]
        ge[cells] = R - np.searchsorted(null, obs - tol, side="left")
        le[cells] = np.searchsorted(null, obs + tol, side="right")

    # Exact self-exclusion: rows where cell c sits among its own first k_c draws.
    pos = np.arange(kmax)[None, :]
    drawn = idx[:, :kmax]
    r_hit, p_hit = np.nonzero(pos < k[drawn])
    if r_hit.size:
        c = drawn[r_hit, p_hit]
        kc = k[c]
        old = prefix[r_hit, kc]
        new = prefix[r_hit, kc + 1] - x[c]
        obs = lag[c]
        d_ge = (new >= obs - tol).astype(np.int64) - (old >= obs - tol)
        d_le = (new <= obs + tol).astype(np.int64) - (old <= obs + tol)
        ge += np.bincount(c, weights=d_ge, minlength=n).astype(np.int64)
        le += np.bincount(c, weights=d_le, minlength=n).astype(np.int64)
    return (ge + 1) / (R + 1), (le + 1) / (R + 1)


# --------------------------------------------------------------------------- FDR


def bh_threshold(p, alpha: float = 0.05) -> float:
    """Benjamini-Hochberg (1995) cut-off: ``k* alpha / m`` for the largest k* with
    ``p_(k*) <= k* alpha / m``, or ``0.0`` when no test passes.

    Every p <= the returned value is a discovery.  Differences from ``esda.fdr``: esda
    compares with strict ``<`` and, when nothing passes, returns the Bonferroni bound
    ``alpha / m`` (so ``p <= esda.fdr(...)`` can still select cells); we return 0.0 so that
    "nothing passes" means an empty mask.  A relative slack of 1e-12 keeps exact ties on
    the boundary (common with pseudo p-values j / (R + 1)) on the passing side, as the
    ``<=`` in BH's definition requires.
    """
    p = np.asarray(p, dtype=np.float64).ravel()
    if not 0 < alpha < 1:
        raise ValueError("alpha must be in (0, 1)")
    if p.size == 0:
        return 0.0
    if np.any(~np.isfinite(p)) or p.min() < 0 or p.max() > 1:
        raise ValueError("p-values must be finite and in [0, 1]")
    return _bh_thresholds(p, (alpha,))[0]


def _bh_thresholds(p: np.ndarray, alphas) -> list[float]:
    """bh_threshold at several alphas from one sort (p already checked)."""
    m = p.size
    # Only p <= alpha can pass, and they are the smallest p's, so their ranks among these
    # candidates are their ranks among all m tests: sort the candidates only (10^6 cells).
    top = max(alphas)
    cand = np.sort(p[p <= top * (1 + 1e-12)])
    out = []
    for alpha in alphas:
        c = cand[:np.searchsorted(cand, alpha * (1 + 1e-12), side="right")]
        crit = np.arange(1, c.size + 1) * (alpha / m)
        passing = np.flatnonzero(c <= crit * (1 + 1e-12))
        out.append(float(crit[passing[-1]]) if passing.size else 0.0)
    return out


def fdr_bh(p, alpha: float = 0.05) -> np.ndarray:
    """Boolean mask of BH discoveries at false discovery rate ``alpha`` (all False if none)."""
    thr = bh_threshold(p, alpha)
    p = np.asarray(p, dtype=np.float64).ravel()
    return (p <= thr * (1 + 1e-12)) & (thr > 0)


# --------------------------------------------------------------------------- bins


def classify(z, p, sig_mask=None) -> np.ndarray:
    """ArcGIS Gi_Bin codes (int8): +3/+2/+1 hot spot at 99/95/90 % confidence, 0 not
    significant, -1/-2/-3 cold spot at 90/95/99 %.

    ``p`` is the two-sided p-value, the sign of ``z`` gives the direction; a cell gets the
    highest level whose cut-off it meets (``p <= 0.01`` -> 3, ``<= 0.05`` -> 2,
    ``<= 0.10`` -> 1; ``<=`` because a pseudo p of exactly (M+1)/(R+1) = alpha is a valid
    level-alpha rejection).  Cells outside ``sig_mask`` (if given) are forced to 0.
    """
    z = np.asarray(z, dtype=np.float64).ravel()
    p = np.asarray(p, dtype=np.float64).ravel()
    if z.shape != p.shape:
        raise ValueError("z and p must have the same length")
    level = np.zeros(z.size, dtype=np.int8)
    for code, cut in reversed(CONFIDENCE_LEVELS):  # 90 % first, 99 % last overwrites
        level[p <= cut] = code
    out = (np.sign(z).astype(np.int8) * level).astype(np.int8)
    if sig_mask is not None:
        out[~np.asarray(sig_mask, dtype=bool).ravel()] = 0
    return out


def classify_fdr(z, p) -> np.ndarray:
    """FDR-corrected Gi_Bin, as ArcGIS does with "Apply False Discovery Rate Correction":
    each confidence level (90/95/99 %) gets its own BH cut-off at alpha = 0.10/0.05/0.01
    and a cell gets the highest level it passes.  Since the BH cut-offs are nested, the
    result is monotone: an FDR bin is never further from 0 than the uncorrected bin."""
    z = np.asarray(z, dtype=np.float64).ravel()
    p = np.asarray(p, dtype=np.float64).ravel()
    return _fdr_bins(z, p, [bh_threshold(p, cut) for _, cut in CONFIDENCE_LEVELS])


def _fdr_bins(z: np.ndarray, p: np.ndarray, level_thr) -> np.ndarray:
    """Gi_Bin codes from the BH cut-offs of CONFIDENCE_LEVELS (in its order), signed by z."""
    level = np.zeros(z.size, dtype=np.int8)
    for (code, _), t in reversed(list(zip(CONFIDENCE_LEVELS, level_thr))):
        if t > 0:
            level[p <= t * (1 + 1e-12)] = code
    level[z == 0] = 0  # no direction, no bin
    return np.negative(level, out=level, where=z < 0)


# --------------------------------------------------------------------------- all in one


@dataclass(frozen=True)
class GiStarResult:
    """Per-cell Gi* output.

    z: standardised Gi* (analytic, Ord & Getis 1995).  p_hot / p_cold: one-sided p-values
    (pseudo p from permutations, or normal tails when ``permutations=0``).  p: the two-sided
    p used for ``significant`` and ``bin`` (twice the one-sided p on z's side, capped at 1;
    ``2 * norm.sf(|z|)`` without permutations, as ArcGIS reports).  significant: the cell
    passes at ``alpha`` (BH-FDR if ``fdr``).  bin: Gi_Bin code -3..3 (FDR-corrected
    levels if ``fdr``).  threshold: the p cut-off applied at ``alpha`` (0.0 if nothing
    passed under FDR).
    """

    z: np.ndarray
    p_hot: np.ndarray
    p_cold: np.ndarray
    p: np.ndarray
    significant: np.ndarray
    bin: np.ndarray
    threshold: float
    permutations: int
    alpha: float
    fdr: bool


def gi_star(x, W, permutations: int = 999, alpha: float = 0.05, fdr: bool = True,
            seed: int = 0) -> GiStarResult:
    """Gi* hot/cold spots for values ``x`` on weights ``W`` (binary, without self).

    ``permutations > 0``: conditional-permutation pseudo p-values (:func:`gi_star_permutation`);
    ``permutations == 0``: normal p-values from z (ArcGIS's default inference).  The
    two-sided ``p`` doubles the one-sided p on the side z points to, so a hot bin always
    rests on the hot-tail test.  With ``fdr`` the significance mask and the bins use
    Benjamini-Hochberg cut-offs (:func:`fdr_bh`, :func:`classify_fdr`).

    Choosing ``permutations`` with FDR: the smallest two-sided pseudo p is 2/(R+1), and BH
    over n cells passes k cells only if 2/(R+1) <= k alpha / n.  So with R = 999, 900 cells
    and alpha = 0.05 nothing can pass unless >= 36 cells reach that floor, and at 40,000
    cells >= 1,600 must.  Permutations here cost O(R kmax + n log R) (R = 99,999 on 40k
    cells takes a fraction of a second), so use R >= 2n / (alpha k) for the number k of
    hot cells you hope to resolve, or ``permutations=0`` (normal p, ArcGIS's default).
    """
    z, closed, z_empty = _z_and_sums(x, W)
    R = int(permutations)
    if R < 0 or R != permutations:
        raise ValueError("permutations must be a non-negative integer")
    if R:
        p_hot, p_cold = gi_star_permutation(x, W, R, seed)
        side = np.where(z > 0, p_hot, np.where(z < 0, p_cold, np.minimum(p_hot, p_cold)))
        p = np.minimum(1.0, 2.0 * side)
    else:
        tail = _normal_tails(z, closed, z_empty, W)  # the smaller normal tail, exact however far out
        upper = 1.0 - tail
        p_hot = np.where(z > 0, tail, upper)
        p_cold = np.where(z < 0, tail, upper)
        p = 2.0 * tail  # the tail on z's side (both are 0.5 at z = 0), so p <= 1
    if fdr:
        # the cut-off at alpha and the three Gi_Bin levels' cut-offs, from one sort
        cuts = [cut for _, cut in CONFIDENCE_LEVELS]
        thr, *level_thr = _bh_thresholds(p, (alpha, *cuts))
        significant = (p <= thr * (1 + 1e-12)) & (thr > 0)
        bins = _fdr_bins(z, p, level_thr)
    else:
        thr = float(alpha)
        significant = p <= alpha
        bins = classify(z, p)
    significant &= z != 0  # no direction, no hot or cold spot
    return GiStarResult(z=z, p_hot=p_hot, p_cold=p_cold, p=p, significant=significant,
                        bin=bins, threshold=thr, permutations=R, alpha=float(alpha), fdr=fdr)
