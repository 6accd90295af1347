"""Beyond-surface statistics: out-of-fold kernel ridge operators, the incremental probe, cross-fitted residuals.

Ridge regression with an intercept predicts held-out targets linearly in the training targets:
``ŷ_test = A y_train``. Stacking each fold's operator gives one ``(n, n)`` matrix ``A`` (zero where a
column lies in the row's own fold) whose product with *any* labelling gives its out-of-fold predictions,
so a permutation null over thousands of labellings is one matrix product, and refitting is exact.

- :func:`ridge_operator` builds ``A`` from a kernel (``K = X Xᵀ`` of any features) and a fact→fold map;
- :class:`IncrementalProbe`: the same ridge probe with a base kernel (surface features) and with the base
  plus the states; the statistic is the per-fact paired difference of out-of-fold Brier scores
  (squared error of the prediction clipped to [0, 1]), averaged over facts: positive when the states
  predict the kind better than the surface features alone;
- :func:`crossfit_residual_gram`: the Gram matrix of states residualised on surface features out of fold
  (``R = (I − B) Z`` with ``B`` the ridge operator of the surface kernel), for distances and probes on
  what the surface does not predict.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
RIDGE = 1.0
"""Ridge penalty of the beyond-surface probes and residualisations, on kernels whose blocks are scaled to a
mean diagonal of 1 (each feature block weighs as much as the others). Fixed, not tuned on the labels: a
penalty chosen on the observed labels would have to be chosen again in every permutation."""


def unit_kernel(k: Array) -> Array:
    """``k`` scaled to a mean diagonal of 1 (a zero kernel stays zero)."""
    d = float(np.mean(np.diag(k)))
    return k / d if d > 0 else k


def ridge_operator(k: Array, folds: NDArray[np.intp], lam: float = RIDGE) -> Array:
    """Out-of-fold ridge operator ``A`` ``(n, n)``: ``A @ y`` are the held-out predictions for targets ``y``.

    In each fold, ridge with an unpenalised intercept (features centred on the training rows, as
    scikit-learn's ``Ridge(fit_intercept=True)``) is fitted on the other folds' rows, in the dual:
    ``ŷ_E = ȳ_T + K̃_ET (K̃_TT + λI)⁻¹ (y_T − ȳ_T)`` with ``K̃`` the kernel centred on the training rows.
    """
    from scipy.linalg import cho_factor, cho_solve

    n = k.shape[0]
    a = np.zeros((n, n))
    for f in np.unique(folds):
        te = np.flatnonzero(folds == f)
        tr = np.flatnonzero(folds != f)
        m = tr.size
        if m == 0:
            continue
        ktt = k[np.ix_(tr, tr)]
        ket = k[np.ix_(te, tr)]
        col = ktt.mean(axis=0)
        grand = float(col.mean())
        kc = ktt - col[None, :] - col[:, None] + grand
        kec = ket - ket.mean(axis=1, keepdims=True) - col[None, :] + grand
        h = np.eye(m) - 1.0 / m
        kc[np.diag_indices(m)] += lam
        s = cho_solve(cho_factor(kc), h)
        a[np.ix_(te, tr)] = kec @ s + 1.0 / m
    return a


def brier_losses(a: Array, labels: NDArray[np.integer]) -> NDArray[np.float32]:
    """Out-of-fold squared errors ``(P, n)`` of the clipped predictions of ``A`` for each labelling ``(P, n)``."""
    y = labels.astype(np.float32)
    pred = y @ a.T.astype(np.float32)
    np.clip(pred, 0.0, 1.0, out=pred)
    pred -= y
    pred *= pred
    return pred


class IncrementalProbe:
    """Ridge probe of kind from a base kernel, and from the base plus an extra (states) kernel.

    ``k_base`` ``(n, n)`` over the facts probed, ``folds`` their folds, ``labels`` ``(P, n)`` (row 0
    observed). The base model's losses are computed once and reused for every extra kernel (layer).
    """

    def __init__(
        self, k_base: Array, folds: NDArray[np.intp], labels: NDArray[np.integer], lam: float = RIDGE
    ):
        self.k_base = k_base
        self.folds = folds
        self.labels = labels
        self.lam = lam
        self.base_loss = brier_losses(ridge_operator(k_base, folds, lam), labels)

    def per_fact(self, k_extra: Array) -> tuple[Array, Array]:
        """``(increment (P,), per-fact paired differences of the observed labelling (n,))``.

        The increment is ``mean_f [loss_base(f) − loss_full(f)]``: the mean reduction in out-of-fold Brier
        score when the states are added (positive: they predict the kind beyond the base).
        """
        full = brier_losses(ridge_operator(self.k_base + k_extra, self.folds, self.lam), self.labels)
        diff = self.base_loss - full
        return diff.mean(axis=1, dtype=np.float64), diff[0].astype(np.float64)


def crossfit_residual_gram(k: Array, b: Array) -> Array:
    """Gram matrix of ``(I − B) Z`` given ``K = Z Zᵀ`` and an out-of-fold operator ``B`` (rows of ``Z``)."""
    r = k - b @ k
    out: Array = r - r @ b.T
    return out


def residual_features(z: Array, b: Array) -> Array:
    """``(I − B) Z``: each row minus its out-of-fold prediction from the surface features."""
    out: Array = z - b @ z
    return out
