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
    states, lexical_map = _surface_states(rng, width, length, words, labels, effect)
    emb = words @ lexical_map + 0.3 * rng.standard_normal((n, width))  # a "layer-0" lexical embedding
    return labels, domains, surface, states, _z(emb)


def _surface_states(
    rng: np.random.Generator,
    width: int,
    length: np.ndarray,
    words: np.ndarray,
    labels: np.ndarray,
    effect: float,
) -> tuple[np.ndarray, np.ndarray]:
    """z-scored states ``(2n, width)`` (true forms, then false forms) that encode the facts' length and
    words, plus ``effect`` × kind along one direction; and the words' map into the states."""
    from beliefs.stats.geometry import zscore as _z

    n = labels.size
    lexical_map = rng.standard_normal((12, width)) * 0.5
    length_dir = rng.standard_normal(width)
    kind_dir = np.zeros(width)
    kind_dir[1:6] = 1.0
    latent = rng.standard_normal((n, width)) + 1.5 * length[:, None] * length_dir + words @ lexical_map
    latent += effect * labels[:, None] * kind_dir
    t = latent + 0.5 * rng.standard_normal((n, width))
    f = t + 0.3 * rng.standard_normal((n, width))
    return _z(np.vstack([t, f])), lexical_map


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


# Pair-strata tests: the facts come in declared pairs (one hinge, one contingent twin sharing a frame, as
# in the matched set), and within each pair the hinge twin differs from its contingent twin in a surface
# feature (length) by ``imbalance`` within-pair standard deviations on average. The states carry only the
# surface (length and words), plus ``effect`` × kind for power. Which pair-strata tests hold their size
# when the twins are not perfectly matched?
PAIR_TESTS = (
    "pair-plain",
    "pair-within",
    "pair-increment",
    "pair-diff",
    "pair-diff-adjusted",
    "pair-within-adjusted",
)
PAIR_IMBALANCES = (0.0, 0.25, 0.5, 1.0)
"""Standardised mean within-pair length differences (hinge − contingent) simulated; the matched set's
token counts give about −0.5 in the logical domain and about 0 in the physical one
(``fact_sets/matched.stats.json``, ``pair_lengths``)."""


def _paired(rng: np.random.Generator, n_pairs: int, width: int, effect: float, imbalance: float):
    """Paired facts (hinge twin first) whose within-pair length difference has mean ``imbalance`` and
    standard deviation 1; states that encode length and words (shared frame words plus one word of each
    twin's own), plus ``effect`` × kind along one direction."""
    from beliefs.stats.geometry import zscore as _z

    n = 2 * n_pairs
    pair = np.repeat(np.arange(n_pairs), 2)
    labels = np.tile(np.array([1, 0], dtype=np.int8), n_pairs)
    domains = np.repeat(["logical", "physical"], n // 2)
    if n_pairs % 2:  # keep each pair in one domain
        domains = np.where(pair < n_pairs // 2 + 1, "logical", "physical")
    frame_len = 2.0 * rng.standard_normal(n_pairs)
    diff = imbalance + rng.standard_normal(n_pairs)  # hinge − contingent, within-pair SD 1
    length = frame_len[pair] + np.where(labels == 1, 0.5, -0.5) * diff[pair]
    frame_words = (rng.random((n_pairs, 12)) < 0.3).astype(float)
    words = frame_words[pair].copy()
    words[np.arange(n), rng.integers(0, 12, n)] = 1.0  # each twin's own content word
    surface = np.column_stack([_z(length[:, None]), _z(words) / np.sqrt(words.shape[1])])
    states, _ = _surface_states(rng, width, length, words, labels, effect)
    return labels, domains, pair, surface, states


def simulate_pairs(
    test: str,
    effect: float,
    rng: np.random.Generator,
    n_pairs: int = 60,
    permutations: int = 199,
    imbalance: float = 0.0,
) -> float:
    """p-value of one pair-strata test on one simulated paired dataset.

    ``pair-plain``: the plain mass-mean probe with kind permuted within pairs (what ``hingeness`` and
    ``causal-trace`` used as their beyond-surface test on paired sets before the adjusted test);
    ``pair-within``: the within-pair test ``kind-probe`` used to report (states-only ridge probe, mean
    hinge − contingent score over held-out pairs, sign flips per pair); ``pair-increment``: the increment
    of states over the surface, permuted within pairs (``kind-probe``'s beyond-surface p on paired sets).
    """
    from beliefs.stats.increment import IncrementalProbe, ridge_operator, unit_kernel

    width = 20
    labels, domains, pair, surface, z = _paired(rng, n_pairs, width, effect, imbalance)
    n = labels.size
    row_fact = np.concatenate([np.arange(n), np.arange(n)])
    folds = fact_folds(domains, seed=0, groups=pair)
    perms = fact_permutations(labels, pair, permutations, rng)  # within pairs: swap the twins or not
    mean_state = 0.5 * (z[:n] + z[n:])
    if test == "pair-plain":
        null = GramProbe(z, row_fact, n).cv_balanced_accuracy(perms, folds)
    elif test == "pair-within":
        a = ridge_operator(unit_kernel(mean_state @ mean_state.T), folds)
        score = a @ labels.astype(np.float64)
        d = score[0::2] - score[1::2]
        null = sign_flips(n_pairs, permutations, rng) @ d / n_pairs
    elif test == "pair-increment":
        null, _ = IncrementalProbe(surface @ surface.T, folds, perms).per_fact(
            unit_kernel(mean_state @ mean_state.T)
        )
    else:
        raise ValueError(f"unknown test '{test}'")
    return float(permutation_pvalues(null)[0])


def pair_rejection_rate(
    test: str,
    effect: float,
    n_datasets: int,
    seed: int = 0,
    alpha: float = 0.05,
    imbalance: float = 0.0,
    **kw: int,
) -> float:
    """Share of ``n_datasets`` paired datasets whose ``test`` p-value is ≤ ``alpha``."""
    rng = np.random.default_rng(seed)
    fn = (
        simulate_pairs if test in ("pair-plain", "pair-within", "pair-increment") else simulate_pairs_adjusted
    )
    return float(
        np.mean([fn(test, effect, rng, imbalance=imbalance, **kw) <= alpha for _ in range(n_datasets)])
    )


def simulate_pairs_adjusted(
    test: str,
    effect: float,
    rng: np.random.Generator,
    n_pairs: int = 60,
    permutations: int = 199,
    imbalance: float = 0.0,
) -> float:
    """p-value of one within-pair test of a per-fact statistic on one simulated paired dataset.

    The per-fact statistic is the facts' mean state projected on the planted kind direction (under the
    null it carries the length and the words, as a trace summary or a hingeness index may). ``pair-diff``: sign flips of the
    mean within-pair difference; ``pair-diff-adjusted``: :func:`beliefs.stats.paired.paired_adjusted` with
    the twins' length difference as the covariate (both two-sided); ``pair-within-adjusted``: the
    within-pair probe score difference of ``pair-within``, adjusted the same way (one-sided)."""
    from beliefs.stats.increment import ridge_operator, unit_kernel
    from beliefs.stats.paired import paired_adjusted

    width = 20
    labels, domains, pair, surface, z = _paired(rng, n_pairs, width, effect, imbalance)
    n = labels.size
    mean_state = 0.5 * (z[:n] + z[n:])
    flips = sign_flips(n_pairs, permutations, rng)
    x = surface[0::2, :1] - surface[1::2, :1]  # the twins' length difference (hinge − contingent)
    if test == "pair-within-adjusted":
        folds = fact_folds(domains, seed=0, groups=pair)
        score = ridge_operator(unit_kernel(mean_state @ mean_state.T), folds) @ labels.astype(np.float64)
        return float(permutation_pvalues(paired_adjusted(score[0::2] - score[1::2], x, flips).null)[0])
    s = mean_state[:, 1:6].sum(axis=1)  # along the planted kind direction, which also carries length
    d = s[0::2] - s[1::2]
    if test == "pair-diff":
        null = np.abs(flips @ d)
    elif test == "pair-diff-adjusted":
        null = np.abs(paired_adjusted(d, x, flips).null)
    else:
        raise ValueError(f"unknown test '{test}'")
    return float(permutation_pvalues(null)[0])
