"""Agreement of a per-fact score with the authors' labels: AUROC, its fact-level null and interval."""

from __future__ import annotations

import numpy as np

from beliefs.analyses.context import (
    Array,
)
from beliefs.stats import bootstrap_ci, cliffs_delta, cliffs_delta_perm


def auroc_null(values: Array, perms: np.ndarray, mask: np.ndarray) -> Array:
    """AUROC of ``values`` (positive = label 1) for every labelling ``(P, n)`` over ``mask`` (NaN left out):
    ``(Cliff's δ + 1) / 2`` (:func:`beliefs.stats.cliffs_delta_perm`, mid-ranks: ties count half)."""
    return np.asarray((cliffs_delta_perm(values[mask], perms[:, mask]) + 1.0) / 2.0)


def _auroc_ci(values: Array, labels: np.ndarray, mask: np.ndarray, seed: int) -> tuple[float, float]:
    ok = mask & np.isfinite(values)
    h, c = values[ok & (labels == 1)], values[ok & (labels == 0)]
    if h.size < 2 or c.size < 2:
        return float("nan"), float("nan")

    def stat(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.asarray((np.asarray(cliffs_delta(x, y, axis=axis)) + 1.0) / 2.0)

    return bootstrap_ci((h, c), stat, n_resamples=1000, seed=seed)


def _domain_perms(domains: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``(n + 1, n_facts)`` index permutations within domain (row 0 the identity)."""
    rng = np.random.default_rng(seed)
    out = np.tile(np.arange(domains.size), (n + 1, 1))
    for d in np.unique(domains):
        idx = np.flatnonzero(domains == d)
        out[1:, idx] = idx[rng.permuted(np.broadcast_to(np.arange(idx.size), (n, idx.size)), axis=1)]
    return out
