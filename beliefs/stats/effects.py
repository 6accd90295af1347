"""Effect sizes and intervals on per-fact values: Cliff's δ, fact bootstrap, Freedman–Lane regression test."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]


COUNT_CELLS = 20_000_000
"""Largest ``rows × distinct values`` for which :func:`cliffs_delta` counts instead of ranking."""


def cliffs_delta(x: ArrayLike, y: ArrayLike, axis: int = -1) -> Array | float:
    """Cliff's δ = P(X > Y) − P(X < Y) = 2U/(n₁n₂) − 1, along ``axis`` (broadcast over the rest).

    ``U = Σ_i #{y < x_i} + ½ #{y = x_i}`` is counted per row from the histogram of ``y`` over the
    distinct values of the whole batch: a batch of bootstrap resamples draws from few distinct values, so
    this costs a search and a cumulative sum per row instead of a sort (the same integer or half-integer
    ``U`` as from mid-ranks of the pooled sample, used where the batch has NaN or too many distinct values).
    """
    a = np.moveaxis(np.asarray(x, dtype=float), axis, -1)
    b = np.moveaxis(np.asarray(y, dtype=float), axis, -1)
    shape = np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    a = np.broadcast_to(a, (*shape, a.shape[-1]))
    b = np.broadcast_to(b, (*shape, b.shape[-1]))
    n1, n2 = a.shape[-1], b.shape[-1]
    u = _u_counts(a, b)
    if u is None:
        from scipy.stats import rankdata

        ranks = rankdata(np.concatenate([a, b], axis=-1), axis=-1)
        u = ranks[..., :n1].sum(axis=-1) - n1 * (n1 + 1) / 2.0
    out = 2.0 * u / (n1 * n2) - 1.0
    return float(out) if np.ndim(out) == 0 else np.asarray(out)


def _u_counts(a: Array, b: Array) -> Array | None:
    """Mann–Whitney ``U`` of ``a`` over ``b`` along the last axis by counting (None where the batch has
    NaN, or too many distinct values for a histogram per row)."""
    rows = int(np.prod(a.shape[:-1], dtype=np.int64))
    if rows == 0 or a.shape[-1] == 0 or b.shape[-1] == 0:
        return None
    values = np.unique(np.concatenate([a.ravel(), b.ravel()]))
    if np.isnan(values[-1]) or rows * values.size > COUNT_CELLS:
        return None
    m = values.size
    ia, ib = _positions(values, a.reshape(rows, -1)), _positions(values, b.reshape(rows, -1))
    offsets = np.arange(rows)[:, None] * m
    hist = np.bincount((ib + offsets).ravel(), minlength=rows * m).reshape(rows, m)
    # twice the count of y below each value plus the count equal to it: 2U exactly, in integers
    twice = 2 * np.cumsum(hist, axis=1) - hist
    u = np.take_along_axis(twice, ia, axis=1).sum(axis=1) / 2.0
    return np.asarray(u.reshape(a.shape[:-1]), dtype=np.float64)


def _positions(values: Array, x: Array) -> NDArray[np.intp]:
    """Index of each element of ``x`` in the sorted distinct ``values`` it is drawn from (a hash look-up,
    faster than a binary search; the search where an element is not found exactly, as ``-0.0``)."""
    import pandas as pd

    found = pd.Index(values).get_indexer(cast(Any, x.ravel()))
    if (found < 0).any():
        return np.searchsorted(values, x)
    return np.asarray(found, dtype=np.intp).reshape(x.shape)


def midranks(values: ArrayLike) -> Array:
    """Mid-ranks (1-based; ties share their mean rank) of a 1-D array, as ``scipy.stats.rankdata``."""
    v = np.asarray(values, dtype=float)
    _, inverse, counts = np.unique(v, return_inverse=True, return_counts=True)
    out: Array = (np.cumsum(counts) - (counts - 1) / 2.0)[inverse.ravel()]
    return out


def cliffs_delta_perm(values: ArrayLike, labels: NDArray[np.integer]) -> Array:
    """Cliff's δ of class 1 vs class 0 for each labelling ``(P, n)``, from mid-ranks (one matrix product).

    NaN values are left out (their facts count in neither class).
    """
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    ranks = midranks(v[ok])
    lab = labels[:, ok].astype(np.float64)
    n1 = lab.sum(axis=1)
    n0 = ok.sum() - n1
    u = lab @ ranks - n1 * (n1 + 1) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        out: Array = 2.0 * u / (n1 * n0) - 1.0
    return out


def mannwhitney(x: ArrayLike, y: ArrayLike) -> tuple[float, float]:
    """Two-sided Mann–Whitney U test (scipy); returns ``(U of x, p)``."""
    from scipy.stats import mannwhitneyu

    res = mannwhitneyu(np.asarray(x, dtype=float), np.asarray(y, dtype=float), alternative="two-sided")
    return float(res.statistic), float(res.pvalue)


def bootstrap_ci(
    samples: tuple[Array, ...],
    statistic: Callable[..., Array],
    n_resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    fallback: bool = True,
) -> tuple[float, float]:
    """Fact-bootstrap interval with ``scipy.stats.bootstrap`` (BCa, or percentile where BCa gives NaN).

    ``samples`` are per-fact arrays (one per group; groups are resampled separately); ``statistic`` must
    accept ``axis`` and work on batches (``vectorized=True``). ``fallback=False`` returns NaN where BCa
    fails instead of a percentile interval, and also where the estimate lies outside the middle 95% of
    its own bootstrap distribution: the bias is then too large for BCa's correction to be trusted.
    """
    import warnings

    from scipy.stats import bootstrap

    if any(np.asarray(s).size < 2 for s in samples):
        return float("nan"), float("nan")
    low = high = float("nan")
    for method in ("BCa", "percentile") if fallback else ("BCa",):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # BCa on tied data: NaN and a warning; we fall back
                res = bootstrap(
                    samples,
                    statistic,
                    n_resamples=n_resamples,
                    confidence_level=level,
                    method=method,
                    vectorized=True,
                    rng=np.random.default_rng(seed),
                )
        except ValueError:
            continue
        low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if not fallback:
            estimate = float(np.asarray(statistic(*samples, axis=-1)))
            below = float(np.mean(np.asarray(res.bootstrap_distribution) < estimate))
            tail = (1 - level) / 2
            if not tail <= below <= 1 - tail:
                return float("nan"), float("nan")
        if np.isfinite(low) and np.isfinite(high):
            break
    return low, high


def _mean_axis(x: Array, axis: int = -1) -> Array:
    return np.asarray(np.mean(x, axis=axis))


def mean_ci(values: ArrayLike, n_resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Fact-bootstrap interval of a mean (NaN values dropped)."""
    v = np.asarray(values, dtype=float)
    return bootstrap_ci((v[np.isfinite(v)],), _mean_axis, n_resamples, seed)


def unit_mean_ci(
    values: ArrayLike, units: NDArray[np.intp], n_resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """Cluster-bootstrap interval of the mean over facts of ``values`` ``(n,)``, resampling ``units``
    ``(n_units, 2)`` (fact indices, ``-1`` padded: a matched pair's twins move together). NaN values are
    left out of their unit; units with none are dropped. Without padding-free pairs this is
    :func:`mean_ci`."""
    v = np.append(np.asarray(values, dtype=float), np.nan)[units]
    ok = np.isfinite(v)
    sums = np.where(ok, v, 0.0).sum(axis=1)
    counts = ok.sum(axis=1).astype(float)
    keep = counts > 0
    sums, counts = sums[keep], counts[keep]

    def stat(index: Array, axis: int = -1) -> Array:
        idx = np.asarray(index).astype(np.intp)
        return np.asarray(sums[idx].sum(axis=axis) / counts[idx].sum(axis=axis))

    return bootstrap_ci((np.arange(sums.size).astype(np.float64),), stat, n_resamples, seed)


def _diff_means(x: Array, y: Array, axis: int = -1) -> Array:
    return np.asarray(np.mean(x, axis=axis) - np.mean(y, axis=axis))


def diff_ci(x: ArrayLike, y: ArrayLike, n_resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Fact-bootstrap interval of ``mean(x) − mean(y)``, each group resampled on its own."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return bootstrap_ci((a[np.isfinite(a)], b[np.isfinite(b)]), _diff_means, n_resamples, seed)


def _delta_stat(x: Array, y: Array, axis: int = -1) -> Array:
    return np.asarray(cliffs_delta(x, y, axis=axis))


def delta_ci(x: ArrayLike, y: ArrayLike, n_resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Fact-bootstrap interval of Cliff's δ (x vs y)."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return bootstrap_ci((a[np.isfinite(a)], b[np.isfinite(b)]), _delta_stat, n_resamples, seed)


@dataclass(frozen=True)
class FreedmanLane:
    """Result of :func:`freedman_lane` for the tested term."""

    estimate: float
    ci_low: float
    ci_high: float
    t: float
    p_value: float
    n: int
    n_permutations: int


def freedman_lane(
    y: ArrayLike,
    term: ArrayLike,
    covariates: ArrayLike,
    strata: ArrayLike | None = None,
    n_permutations: int = 2000,
    seed: int = 0,
) -> FreedmanLane:
    """Freedman–Lane permutation test of ``term`` in ``y ~ 1 + covariates + term`` (OLS), unit = row (fact).

    The reduced model's residuals are permuted (within ``strata``) and added back to its fitted values; the
    full model's t statistic of ``term`` is recomputed for each permutation (two-sided, observed counted).
    The t statistic is studentised with the HC3 (heteroscedasticity-consistent) standard error, the one the
    95% interval of the estimate uses, so test and interval agree in the usual case, and the test keeps its
    size when the residual variance differs between the term's groups (a classical-t Freedman–Lane test
    does not: DiCiccio & Romano 2017, "Robust permutation tests for correlation and regression
    coefficients"; Winkler et al. 2014).
    """
    import statsmodels.api as sm

    yv = np.asarray(y, dtype=float)
    h = np.asarray(term, dtype=float)
    cov = np.asarray(covariates, dtype=float).reshape(yv.size, -1)
    z = np.column_stack([np.ones(yv.size), cov])
    keep = np.isfinite(yv) & np.isfinite(h) & np.all(np.isfinite(z), axis=1)
    yv, h, z = yv[keep], h[keep], z[keep]
    st = np.zeros(yv.size) if strata is None else np.asarray(strata)[keep]
    n = z.shape[0]
    zpinv = np.linalg.pinv(z)
    resid = yv - z @ (zpinv @ yv)
    h_res = h - z @ (zpinv @ h)
    hh = float(h_res @ h_res)
    rng = np.random.default_rng(seed)
    idx = np.tile(np.arange(n), (n_permutations + 1, 1))
    for value in np.unique(st):
        members = np.flatnonzero(st == value)
        idx[1:, members] = rng.permuted(np.broadcast_to(members, (n_permutations, members.size)), axis=1)
    rp = resid[idx]
    rp_res = rp - (rp @ zpinv.T) @ z.T
    gamma = rp @ h_res / hh
    # HC3: Var(gamma) = sum_i h_res_i^2 e_i^2 / (1 - lev_i)^2 / hh^2, with e the full model's residuals and
    # lev the full design's leverages (fixed across permutations)
    x_full = np.column_stack([z, h])
    lev = np.einsum("ij,ji->i", x_full, np.linalg.pinv(x_full))
    scale = (h_res / np.clip(1.0 - lev, 1e-12, None)) ** 2
    e = rp_res - gamma[:, None] * h_res[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = gamma / np.sqrt((e**2 @ scale) / hh**2)
    p = float(np.mean(np.abs(t) >= np.abs(t[0]) - 1e-10))
    fit = sm.OLS(yv, np.column_stack([z, h])).fit(cov_type="HC3")
    low, high = fit.conf_int()[-1]
    return FreedmanLane(float(fit.params[-1]), float(low), float(high), float(t[0]), p, n, n_permutations)
