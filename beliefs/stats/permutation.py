"""Fact-level permutations and the p-values computed from them.

Every statistic in :mod:`beliefs.stats` is evaluated on a stack of label vectors whose row 0 is the
observed labelling and rows ``1..B`` are permutations. Keeping the observed labels in row 0 means the
observed statistic is counted as one of the permutations (``p >= 1/(B+1)``), and reusing one stack for
every layer and condition gives the joint null needed by the max-statistic correction.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

_TIE = 1e-10


def fact_permutations(
    labels: ArrayLike, strata: ArrayLike, n_permutations: int, seed: int | np.random.Generator = 0
) -> NDArray[np.int8]:
    """Return ``(n_permutations + 1, n_facts)`` 0/1 labels: row 0 observed, the rest shuffled within strata.

    ``labels`` holds one label per fact (1 = hinge); ``strata`` one stratum per fact (the domain). The
    fact→label map is permuted, so all rows of a fact (forms, conditions) keep moving together.
    """
    y = np.asarray(labels).astype(np.int8)
    s = np.asarray(strata)
    if y.shape != s.shape or y.ndim != 1:
        raise ValueError(f"labels and strata must be 1-D of equal length, got {y.shape} and {s.shape}")
    rng = np.random.default_rng(seed)
    out = np.empty((n_permutations + 1, y.size), dtype=np.int8)
    out[0] = y
    for value in np.unique(s):
        idx = np.flatnonzero(s == value)
        block = np.broadcast_to(y[idx], (n_permutations, idx.size))
        out[1:, idx] = rng.permuted(block, axis=1)
    return out


def sign_flips(n_facts: int, n_permutations: int, seed: int | np.random.Generator = 0) -> NDArray[np.float64]:
    """Return ``(n_permutations + 1, n_facts)`` of ±1: row 0 all +1 (observed), the rest random.

    The null for a label that varies *within* a fact (true vs false form): swap the two forms of each
    fact independently.
    """
    rng = np.random.default_rng(seed)
    out = np.ones((n_permutations + 1, n_facts))
    out[1:] = rng.choice(np.array([-1.0, 1.0]), size=(n_permutations, n_facts))
    return out


def permutation_pvalues(null: ArrayLike) -> NDArray[np.float64]:
    """One-sided p-values (large is extreme) for each column of ``null``; row 0 is the observed value.

    ``p = #{b : T_b >= T_0} / (B + 1)`` counting the observed row itself. NaN columns give NaN.
    """
    t = np.asarray(null, dtype=float)
    if t.ndim == 1:
        t = t[:, None]
    obs = t[0]
    with np.errstate(invalid="ignore"):
        scale = np.maximum(np.max(np.where(np.isfinite(t), np.abs(t), 0.0), axis=0), 1.0)
        p = np.mean(t >= obs - _TIE * scale, axis=0)
    p = p.astype(float)
    p[~np.isfinite(obs)] = np.nan
    return p


def maxstat_adjust(null: ArrayLike) -> NDArray[np.float64]:
    """Single-step max-statistic (Westfall–Young) adjusted p-values over the columns of ``null``.

    Each column (a layer, or a layer × condition) is standardised by its permutation mean and SD; in each
    permutation the maximum over columns is taken; a column's adjusted p-value is the share of those
    maxima at least as large as its standardised observed value. Controls the family-wise error.
    NaN columns are left out of the family and get NaN.
    """
    t = np.asarray(null, dtype=float)
    if t.ndim == 1:
        t = t[:, None]
    ok = np.all(np.isfinite(t), axis=0)
    out = np.full(t.shape[1], np.nan)
    if not ok.any():
        return out
    sub = t[:, ok]
    mean = sub.mean(axis=0)
    sd = sub.std(axis=0)
    z = np.where(sd > 0, (sub - mean) / np.where(sd > 0, sd, 1.0), 0.0)
    zmax = z.max(axis=1)
    obs = z[0]
    out[ok] = np.mean(zmax[:, None] >= obs[None, :] - _TIE, axis=0)
    return out


def bh_adjust(p: ArrayLike) -> NDArray[np.float64]:
    """Benjamini–Hochberg adjusted p-values (scipy ``false_discovery_control``), NaN left as NaN."""
    from scipy.stats import false_discovery_control

    arr = np.asarray(p, dtype=float)
    out = np.full(arr.shape, np.nan)
    ok = np.isfinite(arr)
    if ok.any():
        out[ok] = false_discovery_control(arr[ok], method="bh")
    return out


def middle_third(n_layers: int) -> NDArray[np.intp]:
    """Layer indices of the pre-registered headline aggregate: the middle third of ``n_layers``."""
    lo = n_layers // 3
    hi = max(lo + 1, (2 * n_layers) // 3)
    return np.arange(lo, min(hi, n_layers))


def fact_bootstrap_weights(
    strata: ArrayLike, n_resamples: int, seed: int = 0, clusters: ArrayLike | None = None
) -> NDArray[np.float64]:
    """``(n_resamples, n_facts)`` multiplicities of a fact bootstrap that resamples within each stratum.

    ``clusters`` (one key per fact, ``""`` for none): facts sharing a key are one resampling unit (the twins
    of a matched pair), drawn together within the stratum of the cluster's first fact.
    A statistic that is a ratio of weighted sums over facts is then evaluated for every resample with one
    matrix product (used for the many per-layer percentile intervals; headlines use scipy's BCa).
    """
    s = np.asarray(strata).astype(str)
    n = s.size
    keys = np.full(n, "", dtype=object) if clusters is None else np.asarray(clusters).astype(str)
    # units: one per cluster key, one per fact without a key; each fact belongs to exactly one unit
    unit_of = np.empty(n, dtype=np.intp)
    first: dict[str, int] = {}
    heads: list[int] = []
    for i, k in enumerate(keys.tolist()):
        if k and k in first:
            unit_of[i] = first[k]
            continue
        unit_of[i] = len(heads)
        if k:
            first[k] = len(heads)
        heads.append(i)
    unit_stratum = s[np.asarray(heads, dtype=np.intp)]
    rng = np.random.default_rng(seed)
    counts = np.zeros((n_resamples, len(heads)))
    for value in np.unique(unit_stratum):
        idx = np.flatnonzero(unit_stratum == value)
        draws = rng.integers(0, idx.size, size=(n_resamples, idx.size))
        block = np.zeros((n_resamples, idx.size))
        np.add.at(block, (np.arange(n_resamples)[:, None], draws), 1.0)
        counts[:, idx] = block
    w: NDArray[np.float64] = counts[:, unit_of]
    return w


def percentile_interval(
    samples: ArrayLike, level: float = 0.95
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Column-wise percentile interval of bootstrap replicates ``(B, m)`` (NaN replicates ignored)."""
    a = np.asarray(samples, dtype=float)
    tail = 100 * (1 - level) / 2
    return np.nanpercentile(a, tail, axis=0), np.nanpercentile(a, 100 - tail, axis=0)
