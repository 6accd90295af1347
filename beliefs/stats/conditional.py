"""Conditional permutations: kind shuffled within strata built without labels (STATISTICS.md, beyond surface).

A plain permutation null shuffles kind across all facts of a domain. When the wording carries the kind
(hinges shorter, say), states that encode only the wording still beat that null. Shuffling kind only
among facts of similar wording keeps the wording–kind association in every permutation, so the null
then holds what the surface alone explains. The strata are, in order of preference:

- the declared ``pair`` (a hinge and its matched contingent twin: swapping their kinds is the within-pair
  sign flip),
- else domain × declared ``template``,
- else domain × bins of the surface features (k-means on their leading principal components; about
  ``n_bins`` per domain, never fewer than ``min_size`` facts per bin on average).

Any kind analysis can reuse one stack: ``conditional_permutations(labels, surface_strata(...), B, rng)``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from beliefs.stats.permutation import fact_permutations

Array = NDArray[np.float64]

N_BINS = 20
"""Surface bins per domain (STATISTICS.md: 20 bins held size 0.033 with power 0.93 in a simulation)."""
MIN_BIN_SIZE = 4
N_COMPONENTS = 8


def _present(values: ArrayLike | None, n: int) -> NDArray[np.str_] | None:
    if values is None:
        return None
    v = np.asarray(values).astype(str)
    if v.shape != (n,):
        raise ValueError(f"expected {n} values, got shape {v.shape}")
    return v if (v != "").any() else None


def surface_bins(features: Array, n_bins: int, seed: int = 0) -> NDArray[np.intp]:
    """Cluster facts on their surface features (k-means on the leading principal components)."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    x = np.asarray(features, dtype=np.float64)
    n = x.shape[0]
    k = int(min(n_bins, max(1, n // MIN_BIN_SIZE)))
    if k <= 1 or x.shape[1] == 0:
        return np.zeros(n, dtype=np.intp)
    x = x - x.mean(axis=0)
    n_comp = int(min(N_COMPONENTS, n - 1, x.shape[1]))
    if n_comp >= 1 and np.any(x):
        x = PCA(n_components=n_comp, svd_solver="full", random_state=seed).fit_transform(x)
    km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(x)
    return np.asarray(km.labels_, dtype=np.intp)


def surface_strata(
    domains: ArrayLike,
    features: Array | None = None,
    templates: ArrayLike | None = None,
    pairs: ArrayLike | None = None,
    n_bins: int = N_BINS,
    seed: int = 0,
) -> NDArray[np.str_]:
    """One stratum name per fact, built without labels (see the module docstring for the order).

    ``templates``/``pairs`` use ``""`` for facts that declare none; those facts fall back to the next
    rule. ``pairs`` holds one key per pair, shared by both twins (:func:`pair_keys`).
    """
    dom = np.asarray(domains).astype(str)
    n = dom.size
    out = np.array([f"{d}|" for d in dom], dtype=object)
    done = np.zeros(n, dtype=bool)
    pr = _present(pairs, n)
    if pr is not None:
        for i in np.flatnonzero(pr != ""):
            out[i] = f"{dom[i]}|pair:{pr[i]}"
        done |= pr != ""
    tp = _present(templates, n)
    if tp is not None:
        for i in np.flatnonzero((tp != "") & ~done):
            out[i] = f"{dom[i]}|template:{tp[i]}"
        done |= tp != ""
    rest = np.flatnonzero(~done)
    if rest.size and features is not None:
        x = np.asarray(features, dtype=np.float64)
        for d in np.unique(dom[rest]):
            idx = rest[dom[rest] == d]
            bins = surface_bins(x[idx], n_bins, seed)
            for i, b in zip(idx, bins, strict=True):
                out[i] = f"{d}|bin:{b}"
    return out.astype(str)


def pair_keys(fact_ids: ArrayLike, pairs: ArrayLike) -> NDArray[np.str_]:
    """Per fact, ``"a+b"`` (its id and its twin's, sorted) where a pair is declared, else ``""``."""
    ids = np.asarray(fact_ids).astype(str)
    pr = np.asarray(pairs).astype(str)
    return np.array(["+".join(sorted((a, b))) if b else "" for a, b in zip(ids, pr, strict=True)], dtype=str)


def conditional_permutations(
    labels: ArrayLike, strata: ArrayLike, n_permutations: int, seed: int | np.random.Generator = 0
) -> NDArray[np.int8]:
    """``(n_permutations + 1, n_facts)`` labels, row 0 observed, the rest shuffled within ``strata``."""
    return fact_permutations(labels, strata, n_permutations, seed)
