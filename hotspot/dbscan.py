"""Weighted DBSCAN (Ester, Kriegel, Sander & Xu 1996) on a k-d tree, without scikit-learn.

The engine must not pull in terminal libraries, and scikit-learn (1.9+) imports `rich` for its
progress callbacks, so the engine clusters with this small implementation; the tests check it
against `sklearn.cluster.DBSCAN` as an oracle. Semantics follow scikit-learn: a point is a core
point when the summed `sample_weight` of the points within `eps` (itself included, distance
<= eps) reaches `min_samples`; clusters are connected components of core points; a border point
joins the cluster of its lowest-indexed core neighbour (scikit-learn takes whichever core reaches
it first, so border labels may differ where a point borders two clusters); the rest is noise -1.
"""
from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree


def dbscan(X: np.ndarray, eps: float, min_samples: float, sample_weight: np.ndarray | None = None) -> np.ndarray:
    """Cluster labels (0..k-1, or -1 for noise), numbered in order of each cluster's first point."""
    X = np.asarray(X, dtype=float)
    n = len(X)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    pairs = cKDTree(X).query_pairs(eps, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    wsum = w + np.bincount(i, weights=w[j], minlength=n) + np.bincount(j, weights=w[i], minlength=n)
    core = wsum >= min_samples
    labels = np.full(n, -1, dtype=np.int64)
    if not core.any():
        return labels
    both = core[i] & core[j]
    graph = coo_matrix((np.ones(both.sum()), (i[both], j[both])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    # Renumber the components that hold core points by their first core point.
    core_comp = comp[core]
    _, first_pos = np.unique(core_comp, return_index=True)
    ordered = core_comp[np.sort(first_pos)]
    remap = np.full(comp.max() + 1, -1, dtype=np.int64)
    remap[ordered] = np.arange(len(ordered))
    labels[core] = remap[core_comp]
    # Border points: non-core with a core neighbour; take the lowest-indexed core neighbour.
    src = np.concatenate([i, j])
    dst = np.concatenate([j, i])
    m = ~core[src] & core[dst]
    if m.any():
        s, d = src[m], dst[m]
        order = np.lexsort((d, s))
        s, d = s[order], d[order]
        firsts = np.r_[True, s[1:] != s[:-1]]
        labels[s[firsts]] = labels[d[firsts]]
    return labels
