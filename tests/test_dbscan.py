"""Our weighted DBSCAN against scikit-learn's as the oracle."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.cluster import DBSCAN

from hotspot.dbscan import dbscan


def _same_partition(a, b, core):
    """Core points: identical partitions up to renaming; noise identical."""
    assert np.array_equal(a == -1, b == -1)
    pairs = {}
    for x, y in zip(a[core], b[core]):
        assert pairs.setdefault(x, y) == y
    assert len(set(pairs.values())) == len(pairs)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_matches_sklearn_with_weights(seed):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 5000, size=(6, 2))
    X = np.vstack([c + rng.normal(0, 120, size=(60, 2)) for c in centres] + [rng.uniform(0, 5000, size=(100, 2))])
    X = X.round(-1)  # snapped, with repeats, like police.uk
    w = rng.integers(1, 4, size=len(X)).astype(float)
    ours = dbscan(X, 150.0, 8, sample_weight=w)
    ref = DBSCAN(eps=150.0, min_samples=8).fit(X, sample_weight=w)
    core = np.zeros(len(X), dtype=bool)
    core[ref.core_sample_indices_] = True
    _same_partition(ours, ref.labels_, core)
    assert ours.max() >= 1


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 12))
def test_property_matches_sklearn(seed, min_samples):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 40, size=(80, 2)).astype(float) * 10
    ours = dbscan(X, 25.0, min_samples)
    ref = DBSCAN(eps=25.0, min_samples=min_samples).fit(X)
    core = np.zeros(len(X), dtype=bool)
    core[ref.core_sample_indices_] = True
    _same_partition(ours, ref.labels_, core)


def test_empty_and_all_noise():
    assert dbscan(np.empty((0, 2)), 10, 3).size == 0
    assert (dbscan(np.array([[0.0, 0.0], [100.0, 100.0]]), 10, 3) == -1).all()
