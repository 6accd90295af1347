"""Hinge vs contingent on tracing profiles and summaries, with the fact as the unit (STATISTICS.md).

Only traced facts enter: the kind labels are permuted among the traced facts within each domain
(:func:`beliefs.stats.fact_permutations`), so every permutation keeps the numbers of traced hinges and
contingents per domain. One stack of permutations serves every cell of a profile (component × position
× layer), which gives the joint null the max-statistic correction needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from beliefs.stats import (
    cliffs_delta,
    cliffs_delta_perm,
    diff_ci,
    fact_bootstrap_weights,
    fact_permutations,
    mannwhitney,
    percentile_interval,
    permutation_pvalues,
    sign_flips,
)

Array = NDArray[np.float64]
N_BOOT = 1000


def diff_null(values: Array, perms: NDArray[np.integer]) -> Array:
    """``mean(class 1) − mean(class 0)`` of each column of ``values (n, m)`` under each labelling
    ``(P, n)``: ``(P, m)``. Values must be finite."""
    lab = perms.astype(np.float64)
    n1 = lab.sum(axis=1, keepdims=True)
    n0 = lab.shape[1] - n1
    out: Array = lab @ values / n1 - (1.0 - lab) @ values / n0
    return out


@dataclass
class ProfileTest:
    """Per cell: difference of kind means, its permutation null, and a fact-bootstrap interval."""

    diff: Array
    null: Array
    """``(P + 1, m)``, row 0 observed, of |difference| (two-sided)."""
    ci_low: Array
    ci_high: Array
    mean_hinge: Array
    mean_contingent: Array
    n: int


def profile_test(
    values: Array, labels: NDArray[np.integer], domains: NDArray[np.str_], n_permutations: int, seed: int
) -> ProfileTest:
    """Hinge (label 1) vs contingent on each column of ``values (n_facts, m)`` (finite, traced facts)."""
    perms = fact_permutations(labels, domains, n_permutations, np.random.default_rng(seed))
    null = diff_null(values, perms)
    cells = np.char.add(np.char.add(domains.astype(str), "/"), labels.astype(str))
    w = fact_bootstrap_weights(cells, N_BOOT, seed=seed + 7)
    wh, wc = w * (labels == 1), w * (labels == 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = wh @ values / wh.sum(1, keepdims=True) - wc @ values / wc.sum(1, keepdims=True)
    lo, hi = percentile_interval(boot)
    return ProfileTest(
        diff=null[0],
        null=np.abs(null),
        ci_low=np.asarray(lo),
        ci_high=np.asarray(hi),
        mean_hinge=values[labels == 1].mean(axis=0),
        mean_contingent=values[labels == 0].mean(axis=0),
        n=len(labels),
    )


@dataclass
class SummaryTest:
    """Hinge vs contingent on one per-fact summary."""

    diff: float
    ci_low: float
    ci_high: float
    p_value: float
    """From the fact-level permutation null of |difference of means| (observed counted)."""
    null: Array
    cliffs_delta: float
    delta_p_value: float
    mannwhitney_p: float
    mean_hinge: float
    mean_contingent: float
    n_hinge: int
    n_contingent: int


def summary_test(
    values: Array, labels: NDArray[np.integer], domains: NDArray[np.str_], n_permutations: int, seed: int
) -> SummaryTest | None:
    """Hinge vs contingent on per-fact ``values`` (NaN facts left out); None with fewer than two of a kind."""
    ok = np.isfinite(values)
    v, y, d = values[ok], labels[ok], domains[ok]
    h, c = v[y == 1], v[y == 0]
    if h.size < 2 or c.size < 2:
        return None
    perms = fact_permutations(y, d, n_permutations, np.random.default_rng(seed))
    null = np.abs(diff_null(v[:, None], perms)[:, 0])
    low, high = diff_ci(h, c, seed=seed)
    delta_null = np.abs(cliffs_delta_perm(v, perms))
    return SummaryTest(
        diff=float(h.mean() - c.mean()),
        ci_low=low,
        ci_high=high,
        p_value=float(permutation_pvalues(null)[0]),
        null=null,
        cliffs_delta=float(cliffs_delta(h, c)),
        delta_p_value=float(permutation_pvalues(delta_null)[0]),
        mannwhitney_p=mannwhitney(h, c)[1],
        mean_hinge=float(h.mean()),
        mean_contingent=float(c.mean()),
        n_hinge=int(h.size),
        n_contingent=int(c.size),
    )


@dataclass
class PairTest:
    """Within matched pairs: hinge minus its contingent twin, sign-flip null."""

    mean: float
    p_value: float
    n_pairs: int
    null: Array


def pair_test(values: Array, pairs: list[tuple[int, int]], n_permutations: int, seed: int) -> PairTest | None:
    """Mean of ``values[hinge] − values[twin]`` over ``pairs`` (both finite); two-sided sign-flip p."""
    d = np.array(
        [values[i] - values[j] for i, j in pairs if np.isfinite(values[i]) and np.isfinite(values[j])]
    )
    if d.size < 2:
        return None
    flips = sign_flips(d.size, n_permutations, np.random.default_rng(seed))
    null = np.abs(flips @ d / d.size)
    return PairTest(float(d.mean()), float(permutation_pvalues(null)[0]), int(d.size), null)
