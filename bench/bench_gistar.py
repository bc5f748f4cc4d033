"""Benchmark hotspot.gistar against esda.G_Local (Gi*, binary queen weights, 999 permutations).

Run:  python bench/bench_gistar.py [--sizes 10000 40000 100000] [--permutations 999]

For each size a square grid of about n cells carries clustered Poisson counts.  Times are
wall-clock seconds (best of --repeat for ours, one run for esda, which is slow and at 100k
cells holds an n x R float array of ~0.8 GB).  Agreement is the Pearson correlation of
esda's ``p_sim`` with our p-values put on esda's "directed" scale, and the share of cells
on which the two disagree about p <= 0.01.  Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hotspot.gistar import gi_star, gi_star_permutation, gi_star_z  # noqa: E402
from hotspot.weights import grid_weights  # noqa: E402


def clustered_counts(side: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    r, c = np.mgrid[0:side, 0:side]
    lam = np.full((side, side), 0.8)
    for cr, cc in rng.uniform(0, side, size=(max(2, side // 20), 2)):
        lam += 5 * np.exp(-((r - cr) ** 2 + (c - cc) ** 2) / 10)
    return rng.poisson(lam).ravel().astype(float)


def best_of(fn, repeat: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 40_000, 100_000])
    ap.add_argument("--permutations", type=int, default=999)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-esda", action="store_true", help="time ours only")
    args = ap.parse_args()
    R = args.permutations

    if not args.no_esda:
        import esda
        import libpysal
    try:
        import numba  # noqa: F401
        jit = "numba"
    except ImportError:
        jit = "no numba (esda falls back to plain Python loops)"
    print(f"Gi*, queen radius 1, R = {R}; esda: {'skipped' if args.no_esda else jit}")

    head = (f"{'n':>8} {'ours z s':>9} {'esda z s':>9} {'ours perm s':>11} {'ours all s':>10} "
            f"{'esda perm s':>11} {'ratio':>7} {'p corr':>7} {'p<=.01 diff':>11}")
    print(head)
    print("-" * len(head))
    for n_target in args.sizes:
        side = int(round(np.sqrt(n_target)))
        n = side * side
        x = clustered_counts(side)
        W = grid_weights(side, side)
        t_z, z = best_of(lambda: gi_star_z(x, W), args.repeat)
        t_p, (ph, _) = best_of(lambda: gi_star_permutation(x, W, R, seed=0), args.repeat)
        t_all, _ = best_of(lambda: gi_star(x, W, permutations=R, seed=0), args.repeat)
        row = f"{n:>8} {t_z:>9.4f} "
        if args.no_esda:
            print(row + f"{'-':>9} {t_p:>11.4f} {t_all:>10.4f}")
            continue
        w = libpysal.weights.WSP(W).to_W(silence_warnings=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = time.perf_counter()
            ez = esda.G_Local(x, w, transform="B", star=True, permutations=0)
            t_ez = time.perf_counter() - t
            t = time.perf_counter()
            ep = esda.G_Local(x, w, transform="B", star=True, permutations=R, seed=12345)
            t_ep = time.perf_counter() - t
        assert np.allclose(z, ez.Zs, atol=1e-9)
        ge = np.rint(ph * (R + 1) - 1)
        ours = (np.minimum(ge, R - ge) + 1) / (R + 1)  # esda's "directed" p_sim scale
        corr = np.corrcoef(ours, ep.p_sim)[0, 1]
        flip = np.mean((ours <= 0.01) != (ep.p_sim <= 0.01))
        print(row + f"{t_ez:>9.4f} {t_p:>11.4f} {t_all:>10.4f} {t_ep:>11.3f} "
              f"{t_ep / t_all:>6.0f}x {corr:>7.4f} {flip:>11.4f}")
        del ep, ez, w


if __name__ == "__main__":
    main()
