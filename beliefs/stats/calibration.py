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


# Beyond-surface tests: the states carry only surface signal tied to the labels (the confounded null), or
# that and a planted kind signal (power).
BEYOND_TESTS = (
    "plain-probe",
    "conditional-probe",
    "increment",
    "increment-lexical",
    "residual-energy",
    "residual-centroid",
)
BEYOND_POWER_EFFECT = 0.6


def _confounded(rng: np.random.Generator, n: int, width: int, effect: float):
    """Facts whose kind depends on their length (a surface feature) and states that encode the length and
    the words (each fact's own lexical signal), plus ``effect`` × kind along one direction."""
    from beliefs.stats.geometry import zscore as _z

    domains = np.repeat(["logical", "physical"], n // 2)
    length = rng.standard_normal(n)
    words = (rng.random((n, 12)) < 0.3).astype(float)
    p = 1.0 / (1.0 + np.exp(-2.5 * length))
    labels = (rng.random(n) < p).astype(np.int8)
    for d in np.unique(domains):  # both kinds in each domain
        idx = np.flatnonzero(domains == d)
        if labels[idx].min() == labels[idx].max():
            labels[idx[0]] = 1 - labels[idx[0]]
    # blocks scaled as in beliefs.analyses.surface: each block weighs 1, however many columns it has
    surface = np.column_stack([_z(length[:, None]), _z(words) / np.sqrt(words.shape[1])])
    lexical_map = rng.standard_normal((12, width)) * 0.5
    length_dir = rng.standard_normal(width)
    kind_dir = np.zeros(width)
    kind_dir[1:6] = 1.0
    latent = rng.standard_normal((n, width)) + 1.5 * length[:, None] * length_dir + words @ lexical_map
    latent += effect * labels[:, None] * kind_dir
    t = latent + 0.5 * rng.standard_normal((n, width))
    f = t + 0.3 * rng.standard_normal((n, width))
    emb = words @ lexical_map + 0.3 * rng.standard_normal((n, width))  # a "layer-0" lexical embedding
    return labels, domains, surface, _z(np.vstack([t, f])), _z(emb)


def simulate_beyond(
    test: str, effect: float, rng: np.random.Generator, n: int = 60, permutations: int = 199
) -> float:
    """p-value of one beyond-surface test (or the plain probe) on one simulated confounded dataset."""
    from beliefs.stats.conditional import conditional_permutations, surface_strata
    from beliefs.stats.increment import (
        RESIDUAL_RIDGE,
        IncrementalProbe,
        residual_features,
        ridge_operator,
        unit_kernel,
    )

    width = 20
    labels, domains, surface, z, emb = _confounded(rng, n, width, effect)
    row_fact = np.concatenate([np.arange(n), np.arange(n)])
    form = np.repeat([1, 0], n)
    folds = fact_folds(domains, seed=0)
    if test == "plain-probe":
        perms = fact_permutations(labels, domains, permutations, rng)
        null = GramProbe(z, row_fact, n).cv_balanced_accuracy(perms, folds)
        return float(permutation_pvalues(null)[0])
    strata = surface_strata(domains, surface, seed=0)
    perms = conditional_permutations(labels, strata, permutations, rng)
    k_s = surface @ surface.T
    if test == "conditional-probe":
        null = GramProbe(z, row_fact, n).cv_balanced_accuracy(perms, folds)
    elif test.startswith("increment"):
        base = k_s + (unit_kernel(emb @ emb.T) if test == "increment-lexical" else 0.0)
        mean_state = 0.5 * (z[:n] + z[n:])
        null, _ = IncrementalProbe(base, folds, perms).per_fact(unit_kernel(mean_state @ mean_state.T))
    elif test.startswith("residual"):
        k_form = (form[:, None] == form[None, :]).astype(float)
        b = ridge_operator(k_s[np.ix_(row_fact, row_fact)] + k_form, folds[row_fact], RESIDUAL_RIDGE)
        r = zscore(residual_features(z, b))
        member = membership(row_fact, n)
        m = member.sum(axis=0)
        k = r @ r.T
        if test == "residual-energy":
            null = energy_distance_perm(collapse(euclidean_distances(r), member), perms, m)
        else:
            null = centroid_distance_perm(collapse(k, member), perms, m, width)
    else:
        raise ValueError(f"unknown test '{test}'")
    return float(permutation_pvalues(null)[0])


def beyond_rejection_rate(
    test: str, effect: float, n_datasets: int, seed: int = 0, alpha: float = 0.05, **kw: int
) -> float:
    """Share of ``n_datasets`` confounded datasets whose ``test`` p-value is ≤ ``alpha``."""
    rng = np.random.default_rng(seed)
    return float(np.mean([simulate_beyond(test, effect, rng, **kw) <= alpha for _ in range(n_datasets)]))
