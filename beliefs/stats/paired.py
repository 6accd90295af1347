"""Within-pair tests adjusted for the twins' surface differences.

In a matched set each hinge has a contingent twin on the same sentence frame, so the within-pair
difference ``d_p = s(hinge_p) − s(contingent_p)`` of a per-fact statistic ``s`` removes the frame. It does
not remove what still differs between the twins: if the hinge twin is systematically shorter or more
probable (the matched set's logical pairs: hinge twins' baseline log-probability higher by about one
within-pair SD), a plain sign-flip test of the mean difference rejects on the wording alone
(``scripts/calibrate_stats.py``: size 0.25–0.94 at within-pair imbalances of 0.5–1 SD).

The adjusted test regresses the differences on the twins' surface differences ``X_p`` (hinge − contingent;
no intercept under the null: twins that read alike differ by nothing) and tests the intercept, the mean
difference at equal surface, with sign flips of the reduced model's residuals (Freedman–Lane for a
one-sample design; Winkler et al. 2014, NeuroImage 92: the pivotal t, not the raw coefficient, so that
the null does not depend on the nuisance fit). Under "no kind difference beyond a linear effect of the
surface differences" the residuals are symmetric about zero, which is what the flips assume.

It is for per-fact statistics fixed before the labels are used (a hingeness index, a trace summary). It
is not for cross-fitted probe scores: each fold's probe is trained on the other folds' pairs, so the
pairs' differences are not independent, and sign flips reject too often even with perfectly matched twins
(``scripts/calibrate_stats.py``, ``pair-within-adjusted``: 0.12 of 600 nulls).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]


@dataclass(frozen=True)
class PairedAdjusted:
    """The adjusted within-pair test of one per-fact statistic."""

    estimate: float
    """The intercept: mean hinge − contingent difference at zero surface difference."""
    t: float
    """Its t statistic (OLS standard error)."""
    null: Array
    """``(P+1,)`` t statistics under the sign flips, row 0 observed."""
    n_pairs: int
    n_covariates: int
    """Surface-difference columns kept (constant-zero and collinear ones dropped)."""


def _covariates(x: Array, m: int) -> Array:
    """Linearly independent, non-constant columns of ``x`` (a constant one would be the intercept itself),
    at most ``m − 4`` of them, so that the t has at least 3 residual degrees of freedom."""
    if x.shape[1] == 0:
        return x
    from scipy.linalg import qr

    centred = x - x.mean(axis=0)
    scale = np.sqrt(np.mean(centred**2, axis=0))
    varying = scale > 1e-12 * np.maximum(1.0, np.abs(x).max(axis=0))
    if not varying.any():
        return np.zeros((m, 0))
    idx = np.flatnonzero(varying)
    _, r, piv = qr(centred[:, idx] / scale[idx], mode="economic", pivoting=True)
    diag = np.abs(np.diag(r))
    rank = int(np.sum(diag > diag[0] * 1e-9))
    keep = sorted(int(idx[p]) for p in piv[: min(rank, max(0, m - 4))])
    return x[:, keep]


def paired_adjusted(d: ArrayLike, x: ArrayLike | None, flips: ArrayLike) -> PairedAdjusted:
    """Adjusted within-pair test of the differences ``d`` ``(m,)`` given surface differences ``x`` ``(m, k)``.

    ``flips`` ``(P+1, ≥ m)`` of ±1 with row 0 all +1 (:func:`beliefs.stats.permutation.sign_flips`); its
    first ``m`` columns are used. Returns the intercept, its t and the null of t (one-sided as given: take
    ``abs`` for a two-sided p with :func:`beliefs.stats.permutation.permutation_pvalues`). NaN differences
    are dropped with their rows. Without covariates this is the one-sample t under sign flips.
    """
    dv = np.asarray(d, dtype=np.float64)
    xv = np.zeros((dv.size, 0)) if x is None else np.asarray(x, dtype=np.float64).reshape(dv.size, -1)
    ok = np.isfinite(dv) & np.all(np.isfinite(xv), axis=1)
    dv, xv = dv[ok], xv[ok]
    m = dv.size
    s_all = np.asarray(flips, dtype=np.float64)
    if m < 4:
        nan = np.full(s_all.shape[0], np.nan)
        return PairedAdjusted(float("nan"), float("nan"), nan, m, 0)
    s = s_all[:, : ok.size][:, ok] if s_all.shape[1] >= ok.size else s_all[:, :m]
    xc = _covariates(xv, m)
    k = xc.shape[1]
    if k:
        gamma, *_ = np.linalg.lstsq(xc, dv, rcond=None)
        e = dv - xc @ gamma
    else:
        e = dv
    w = np.column_stack([np.ones(m), xc])
    w_pinv = np.linalg.pinv(w)  # (k+1, m)
    hat = w @ w_pinv
    c00 = float(np.linalg.pinv(w.T @ w)[0, 0])
    y = s * e[None, :]  # the flipped residuals; X γ̂ lies in the span of W and adds nothing to b0 or the SSR
    b0 = y @ w_pinv[0]
    resid = y - y @ hat.T
    dof = m - k - 1
    se = np.sqrt(np.einsum("pi,pi->p", resid, resid) / dof * c00)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(se > 0, b0 / se, 0.0)
    estimate = float(w_pinv[0] @ dv)
    return PairedAdjusted(estimate, float(t[0]), t, m, k)


def pair_differences(values: ArrayLike, pairs: NDArray[np.intp]) -> Array:
    """``values[hinge] − values[contingent]`` for ``pairs`` ``(m, 2)`` of (hinge, contingent) indices;
    ``values`` may be ``(n,)`` or ``(n, k)``."""
    v: Any = np.asarray(values, dtype=np.float64)
    out: Array = v[pairs[:, 0]] - v[pairs[:, 1]]
    return out
