"""Simulated datasets for checking each test's size (true null) and power (planted effect).

Used by ``scripts/calibrate_stats.py`` (≥ 200 datasets per test) and, smaller, by the tests.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from beliefs.stats.effects import cliffs_delta_perm, freedman_lane
from beliefs.stats.geometry import (
    centroid_distance_perm,
    collapse,
    energy_distance_perm,
    euclidean_distances,
    membership,
    zscore,
)
from beliefs.stats.permutation import fact_permutations, maxstat_adjust, permutation_pvalues, sign_flips
from beliefs.stats.probes import GramProbe, TruthProbe, fact_folds


def _dataset(rng: np.random.Generator, n: int, width: int, effect: float, layers: int = 1):
    labels = np.array([1, 0] * (n // 2))
    domains = np.repeat(["logical", "physical"], n // 2)
    latent = rng.standard_normal((n, width))
    latent[:, 0] *= 20.0  # a "massive" dimension
    shift = np.zeros(width)
    shift[1:6] = effect
    x = []
    for _ in range(layers):
        t = latent + 0.5 * rng.standard_normal((n, width)) + labels[:, None] * shift
        f = t + 0.3 * rng.standard_normal((n, width))
        x.append(np.vstack([t, f]))
    return labels, domains, x


def simulate(
    test: str, effect: float, rng: np.random.Generator, n: int = 40, permutations: int = 199
) -> float:
    """One simulated dataset; returns the p-value of ``test`` (``effect`` = 0 is the true null)."""
    width = 20
    labels, domains, xs = _dataset(rng, n, width, effect)
    perms = fact_permutations(labels, domains, permutations, rng)
    row_fact = np.concatenate([np.arange(n), np.arange(n)])
    z = zscore(xs[0])
    member = membership(row_fact, n)
    m = member.sum(axis=0)
    if test == "energy":
        null = energy_distance_perm(collapse(euclidean_distances(z), member), perms, m)
    elif test == "centroid":
        null = centroid_distance_perm(collapse(z @ z.T, member), perms, m, width)
    elif test == "massmean-probe":
        null = GramProbe(z, row_fact, n).cv_balanced_accuracy(perms, fact_folds(domains, seed=0))
    elif test == "cliffs-delta":
        v = xs[0][:n, 1]
        null = np.abs(cliffs_delta_perm(v, perms))
    elif test == "freedman-lane":
        cov = rng.standard_normal((n, 2))
        y = cov @ np.array([1.0, 0.5]) + effect * labels + rng.standard_normal(n)
        return freedman_lane(y, labels, cov, domains, permutations, int(rng.integers(1 << 30))).p_value
    elif test == "truth-probe":
        t = zscore(xs[0][:n])
        f = t + effect * np.eye(width)[1] + 0.5 * rng.standard_normal((n, width))
        flips = sign_flips(n, permutations, rng)
        null = TruthProbe(t, f).cv_accuracy(flips, fact_folds(domains, seed=0))
    elif test == "maxstat-fwer":
        labels, domains, xs = _dataset(rng, n, width, effect, layers=5)
        perms = fact_permutations(labels, domains, permutations, rng)
        nulls = []
        for x in xs:
            zz = zscore(x)
            nulls.append(energy_distance_perm(collapse(euclidean_distances(zz), member), perms, m))
        return float(np.min(maxstat_adjust(np.column_stack(nulls))))
    else:
        raise ValueError(f"unknown test '{test}'")
    return float(permutation_pvalues(null)[0])


TESTS = (
    "energy",
    "centroid",
    "massmean-probe",
    "cliffs-delta",
    "freedman-lane",
    "truth-probe",
    "maxstat-fwer",
)
POWER_EFFECT = {"energy": 0.6, "centroid": 0.6, "massmean-probe": 0.6, "cliffs-delta": 0.8,
                "freedman-lane": 0.8, "truth-probe": 0.6, "maxstat-fwer": 0.6}  # fmt: skip


def rejection_rate(
    test: str, effect: float, n_datasets: int, seed: int = 0, alpha: float = 0.05, **kw: int
) -> float:
    """Share of ``n_datasets`` simulated datasets whose p-value is ≤ ``alpha``."""
    rng = np.random.default_rng(seed)
    fn: Callable[[], float] = lambda: simulate(test, effect, rng, **kw)  # noqa: E731
    return float(np.mean([fn() <= alpha for _ in range(n_datasets)]))
