"""Equivalence tests (TOST) and minimum detectable effects, from intervals, bootstraps and stored nulls.

A large p-value is not evidence of no difference (STATISTICS.md, "Beyond surface, and supporting a
null"). Given a smallest effect size of interest ±Δ, the two one-sided tests (TOST; Schuirmann 1987)
reject both ``θ ≤ −Δ`` and ``θ ≥ +Δ``; ``p_equivalence`` is the larger of their p-values, and
``p_equivalence ≤ α`` exactly when the ``1 − 2α`` interval lies inside ``(−Δ, +Δ)``.

The minimum detectable effect (``mde_80``) is the smallest effect the test finds with 80% power at
α = 0.05, by simulation: effects are planted into the data the test actually saw (or into its stored
permutation null) and the test is rerun. The null's 95th percentile, by contrast, is detected only
half of the time.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]


def tost_from_interval(
    estimate: float,
    ci_low: float,
    ci_high: float,
    lower: float,
    upper: float,
    level: float = 0.95,
    df: float | None = None,
) -> float:
    """TOST p-value of ``lower < θ < upper`` from an estimate and its two-sided ``level`` interval.

    Each side of the interval gives its own standard error (``(estimate − ci_low) / z`` below,
    ``(ci_high − estimate) / z`` above, ``z`` the normal quantile, or Student's with ``df``), so
    asymmetric (BCa) intervals keep their shape. ``lower = −inf`` (or ``upper = +inf``) drops that side:
    for a statistic that cannot be negative only "θ ≥ upper" is tested. NaN where the interval is missing.
    """
    from scipy.stats import norm, t

    dist = norm if df is None else t(df)
    z = float(dist.ppf(0.5 + level / 2))
    if not all(np.isfinite(v) for v in (estimate, ci_low, ci_high)) or not ci_low <= estimate <= ci_high:
        return float("nan")
    p = []
    if np.isfinite(lower):
        se = (estimate - ci_low) / z
        p.append(float(dist.sf((estimate - lower) / se)) if se > 0 else float(estimate <= lower))
    if np.isfinite(upper):
        se = (ci_high - estimate) / z
        p.append(float(dist.sf((upper - estimate) / se)) if se > 0 else float(estimate >= upper))
    return max(p) if p else float("nan")


def tost_from_bootstrap(replicates: ArrayLike, lower: float, upper: float) -> float:
    """TOST p-value from bootstrap replicates of the statistic: the larger of the shares of replicates
    at or beyond each bound (percentile-bootstrap TOST; NaN replicates ignored)."""
    r = np.asarray(replicates, dtype=float)
    r = r[np.isfinite(r)]
    if r.size == 0:
        return float("nan")
    p_low = float(np.mean(r <= lower)) if np.isfinite(lower) else 0.0
    p_high = float(np.mean(r >= upper)) if np.isfinite(upper) else 0.0
    return max(p_low, p_high, 1.0 / (r.size + 1))


def critical_value(null: ArrayLike, alpha: float = 0.05) -> float:
    """Smallest value whose permutation p (observed counted, :func:`permutation_pvalues`) is ≤ ``alpha``:
    the ``k``-th largest replicate with ``(k + 1) / (B + 1) ≤ alpha``."""
    r = np.sort(np.asarray(null, dtype=float)[np.isfinite(null)])[::-1]
    k = int(np.floor(alpha * (r.size + 1))) - 1
    return float(r[k - 1]) if k >= 1 else float("inf")


def mde_from_null(null: ArrayLike, alpha: float = 0.05, power: float = 0.8) -> float:
    """Minimum detectable effect of a one-sided permutation test by planting shifts into its null.

    ``null`` holds the permutation replicates (row 0, the observed value, excluded). Each replicate
    with a shift δ added is one simulated study whose statistic is compared with the critical value
    (:func:`critical_value`); the power at δ is the share detected, and the MDE is the smallest δ
    reaching ``power``: ``critical − quantile(null, 1 − power)`` (a location-shift model of the effect).
    """
    r = np.asarray(null, dtype=float)[1:]
    r = r[np.isfinite(r)]
    if r.size < 20:
        return float("nan")
    crit = critical_value(r, alpha)
    if not np.isfinite(crit):
        return float("nan")
    # power(δ) = mean(r + δ ≥ crit) ≥ power  ⇔  δ ≥ crit − (the (1 − power) quantile of r)
    below = np.sort(r)[int(np.floor((1.0 - power) * r.size))]
    return float(crit - below)


Statistic = Callable[[Array, NDArray[np.integer]], Array]
"""``statistic(values, labels)``: per-fact ``values`` ``(n,)`` and labellings ``(P, n)`` → ``(P,)``."""


def mde_planted(
    values: ArrayLike,
    perms: NDArray[np.integer],
    statistic: Statistic,
    scale: float,
    two_sided: bool = True,
    alpha: float = 0.05,
    power: float = 0.8,
    n_sim: int = 200,
    n_null: int = 199,
    seed: int = 0,
    grid: ArrayLike = (0.0, 1.0, 1.5, 2.0, 2.25, 2.5, 2.75, 3.0, 3.25, 3.5, 4.0, 5.0, 7.0),
) -> float:
    """Minimum detectable effect of a fact-level permutation test, by planting shifts into per-fact values.

    Each simulated study takes a stored permutation (``perms`` row ≥ 1) as pseudo-labels, so that the
    observed effect is gone but every fact keeps its own value, adds ``δ`` to the values of the
    pseudo-class-1 facts, computes ``statistic`` and its permutation p against ``n_null`` other stored
    permutations (observed counted; ``|·|`` when ``two_sided``). ``δ`` runs over ``grid × scale``;
    ``scale`` should be the standard error of a mean difference, ``SD·√(1/n₁ + 1/n₀)`` (see
    :func:`mean_diff_se`), so that the default grid is dense where a two-sided test at α = 0.05 reaches
    80% power (near 2.8 SE). The power curve is interpolated linearly and the MDE is returned in the
    units of ``statistic`` (its mean over the simulated studies at the ``δ`` of 80% power). NaN values count in neither class; NaN if the grid never reaches ``power``.
    """
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    rng = np.random.default_rng(seed)
    rows = np.arange(1, perms.shape[0])
    if rows.size < 2 or ok.sum() < 4 or not np.isfinite(scale) or scale <= 0:
        return float("nan")
    sims = rng.choice(rows, size=min(n_sim, rows.size), replace=rows.size < n_sim)
    grid_v = np.asarray(grid, dtype=float) * scale
    powers = np.zeros(grid_v.size)
    effects = np.zeros(grid_v.size)
    for s in sims:
        lab = perms[s]
        others = rows[rows != s]
        null_rows = perms[rng.choice(others, size=min(n_null, others.size), replace=False)]
        labs = np.vstack([lab[None, :], null_rows])
        for g, delta in enumerate(grid_v):
            planted = np.where(ok, v + delta * lab, np.nan)
            t = np.asarray(statistic(planted, labs), dtype=float)
            effects[g] += t[0]
            stat = np.abs(t) if two_sided else t
            p = np.mean(stat >= stat[0] - 1e-12 * max(1.0, abs(stat[0])))
            powers[g] += p <= alpha
    powers /= sims.size
    effects /= sims.size
    reached = np.flatnonzero(powers >= power)
    if reached.size == 0:
        return float("nan")
    i = int(reached[0])
    if i == 0:
        return float(abs(effects[0]))
    w = (power - powers[i - 1]) / (powers[i] - powers[i - 1])
    return float(abs(effects[i - 1] + w * (effects[i] - effects[i - 1])))


def mean_diff_se(values: ArrayLike, labels: ArrayLike) -> float:
    """``SD·√(1/n₁ + 1/n₀)`` of finite ``values`` split by 0/1 ``labels``: the scale of :func:`mde_planted`."""
    v = np.asarray(values, dtype=float)
    lab = np.asarray(labels)
    ok = np.isfinite(v)
    n1, n0 = int((lab[ok] == 1).sum()), int((lab[ok] == 0).sum())
    if n1 < 2 or n0 < 2:
        return float("nan")
    return float(np.std(v[ok]) * np.sqrt(1.0 / n1 + 1.0 / n0))


def mean_diff_perm(values: Array, labels: NDArray[np.integer]) -> Array:
    """mean(class 1) − mean(class 0) of ``values`` for each labelling (NaN values left out)."""
    ok = np.isfinite(values)
    lab = labels[:, ok].astype(np.float64)
    v = values[ok]
    n1 = lab.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: Array = lab @ v / n1 - (1.0 - lab) @ v / (ok.sum() - n1)
    return out


__all__ = [
    "critical_value",
    "mde_from_null",
    "mde_planted",
    "mean_diff_perm",
    "mean_diff_se",
    "tost_from_bootstrap",
    "tost_from_interval",
]
