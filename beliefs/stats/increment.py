"""Beyond-surface statistics: out-of-fold kernel ridge operators, the incremental probe, cross-fitted residuals.

Ridge regression with an intercept predicts held-out targets linearly in the training targets:
``ŷ_test = A y_train``. Stacking each fold's operator gives one ``(n, n)`` matrix ``A`` (zero where a
column lies in the row's own fold) whose product with *any* labelling gives its out-of-fold predictions,
so a permutation null over thousands of labellings is one matrix product, and refitting is exact.

- :func:`ridge_operator` builds ``A`` from a kernel (``K = X Xᵀ`` of any features) and a fact→fold map;
- :class:`IncrementalProbe`: the same ridge probe with a base kernel (surface features) and with the base
  plus the states residualised on the base inside each training fold; the statistic is the per-fact paired difference of out-of-fold Brier scores
  (squared error of the prediction clipped to [0, 1]), averaged over facts: positive when the states
  predict the kind better than the surface features alone;
- :func:`crossfit_residual_gram`: the Gram matrix of states residualised on surface features out of fold
  (``R = (I − B) Z`` with ``B`` the ridge operator of the surface kernel), for distances and probes on
  what the surface does not predict.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
RIDGE = 1.0
"""Ridge penalty of :func:`ridge_operator` by default (absolute)."""
PROBE_RIDGE = 0.05
"""Ridge penalty of the incremental probe per training fact (λ = 0.05 × n_train), on kernels whose blocks
are scaled to a mean diagonal of 1 (each feature block weighs as much as the others): proportional to the
sample, so that the probe's effective degrees of freedom do not grow with it. Fixed, not tuned on the
labels: a penalty chosen on the observed labels would have to be chosen again in every permutation."""

RESIDUAL_RIDGE = 0.1
"""Ridge penalty of the cross-fitted residualisation: smaller, since shrinkage leaves surface signal in the
residuals (the target, the states, is label-free: nothing is tuned on the kind)."""


def unit_kernel(k: Array) -> Array:
    """``k`` scaled to a mean diagonal of 1 (a zero kernel stays zero)."""
    d = float(np.mean(np.diag(k)))
    return k / d if d > 0 else k


def _fit_block(k: Array, te: NDArray[np.intp], tr: NDArray[np.intp], lam: float) -> Array:
    """Rows ``te`` of the ridge operator fitted on rows ``tr`` (intercept unpenalised, kernel centred on ``tr``)."""
    from scipy.linalg import cho_factor, cho_solve

    m = tr.size
    ktt = k[np.ix_(tr, tr)]
    ket = k[np.ix_(te, tr)]
    col = ktt.mean(axis=0)
    grand = float(col.mean())
    kc = ktt - col[None, :] - col[:, None] + grand
    kec = ket - ket.mean(axis=1, keepdims=True) - col[None, :] + grand
    kc[np.diag_indices(m)] += lam
    # K̃_ET (K̃_TT + λI)⁻¹ H with H = I − 11ᵀ/m: solve for the |E| columns of K̃_ETᵀ (not the m of H), then
    # centre each row (right-multiplying by H): m²|E| instead of m³ operations
    y = cho_solve(cho_factor(kc), kec.T).T
    out: Array = y - y.mean(axis=1, keepdims=True) + 1.0 / m
    return out


def ridge_operator(k: Array, folds: NDArray[np.intp], lam: float = RIDGE) -> Array:
    """Out-of-fold ridge operator ``A`` ``(n, n)``: ``A @ y`` are the held-out predictions for targets ``y``.

    In each fold, ridge with an unpenalised intercept (features centred on the training rows, as
    scikit-learn's ``Ridge(fit_intercept=True)``) is fitted on the other folds' rows, in the dual:
    ``ŷ_E = ȳ_T + K̃_ET (K̃_TT + λI)⁻¹ (y_T − ȳ_T)`` with ``K̃`` the kernel centred on the training rows.
    """
    n = k.shape[0]
    a = np.zeros((n, n))
    for f in np.unique(folds):
        te, tr = np.flatnonzero(folds == f), np.flatnonzero(folds != f)
        if tr.size:
            a[np.ix_(te, tr)] = _fit_block(k, te, tr, lam)
    return a


def fold_projections(k: Array, folds: NDArray[np.intp], lam: float = RESIDUAL_RIDGE) -> dict[int, Array]:
    """Per fold ``f``, ``P`` ``(n, n)`` that residualises on the features of kernel ``k`` using fold ``f``'s
    training rows only: ``(I − P) Z`` are the residualised states for that fold.

    Every row's prediction is out of sample, so that training and test residuals have the same scale (an
    in-sample fit on many sparse features would shrink the training residuals towards zero): a test row is
    predicted from all training rows, a training row in fold ``g`` from the training rows outside ``g``.
    """
    out: dict[int, Array] = {}
    n = k.shape[0]
    ids = np.unique(folds)
    for f in ids:
        tr = np.flatnonzero(folds != f)
        p = np.zeros((n, n))
        if tr.size:
            te = np.flatnonzero(folds == f)
            p[np.ix_(te, tr)] = _fit_block(k, te, tr, lam)
            for g in ids[ids != f]:
                inner_te = np.flatnonzero(folds == g)
                inner_tr = np.flatnonzero((folds != f) & (folds != g))
                if inner_tr.size:
                    p[np.ix_(inner_te, inner_tr)] = _fit_block(k, inner_te, inner_tr, lam)
        out[int(f)] = p
    return out


def brier_losses(a: Array, labels: NDArray[np.integer]) -> NDArray[np.float32]:
    """Out-of-fold squared errors ``(P, n)`` of the clipped predictions of ``A`` for each labelling ``(P, n)``."""
    y = labels.astype(np.float32)
    pred = y @ a.T.astype(np.float32)
    np.clip(pred, 0.0, 1.0, out=pred)
    pred -= y
    pred *= pred
    return pred


class IncrementalProbe:
    """Ridge probe of kind from a base kernel, and from the base plus the residualised states' kernel.

    ``k_base`` ``(n, n)`` over the facts probed, ``folds`` their folds, ``labels`` ``(P, n)`` (row 0
    observed). In each fold the states are first residualised on the base features, fitted on that fold's
    training facts only (:func:`fold_projections`), and their kernel scaled to a mean diagonal of 1 over the
    training facts; the full probe's kernel is the base plus that. Residualising first keeps the states
    from acting as a second copy of the surface (which would change the surface's effective penalty and
    so "add" to it without adding anything new). The base model's losses are computed once and reused.
    """

    def __init__(
        self,
        k_base: Array,
        folds: NDArray[np.intp],
        labels: NDArray[np.integer],
        lam: float = PROBE_RIDGE,
        residual_lam: float = RESIDUAL_RIDGE,
    ) -> None:
        self.k_base = k_base
        self.folds = folds
        self.labels = labels
        self.lam = lam
        """Penalty per training fact (λ = ``lam`` × n_train)."""
        self.base_loss = brier_losses(self._operator(lambda f: k_base), labels)
        self.projections = fold_projections(k_base, folds, residual_lam)

    def _operator(self, kernel: Callable[[int], Array]) -> Array:
        n = self.k_base.shape[0]
        a = np.zeros((n, n))
        for f in np.unique(self.folds):
            te, tr = np.flatnonzero(self.folds == f), np.flatnonzero(self.folds != f)
            if tr.size:
                a[np.ix_(te, tr)] = _fit_block(kernel(int(f)), te, tr, self.lam * tr.size)
        return a

    def operator(self, kernel: Array) -> Array:
        """Out-of-fold operator of the probe's ridge (same folds and penalty) on a fixed kernel."""
        return self._operator(lambda f: kernel)

    def full_operator(self, k_extra: Array | None, features: Array | None = None) -> Array:
        """Out-of-fold operator of the probe on the base plus the fold-wise residualised extra kernel.

        ``features`` ``(n, d)`` with ``k_extra = features featuresᵀ`` may be given instead of (or beside)
        the kernel: the residualised kernel is then ``R Rᵀ`` with ``R = (I − P) features``, ``n²d`` rather
        than ``2n³`` operations per fold (``R Rᵀ`` adds ``n²d``): used where ``d < n``."""
        thin = features is not None and features.shape[1] < features.shape[0]
        if k_extra is None and not thin:
            if features is None:
                raise ValueError("full_operator needs k_extra or features")
            k_extra = features @ features.T
        if thin and features is not None:
            extra_diag = float(np.mean(np.einsum("ij,ij->i", features, features)))
        else:
            assert k_extra is not None
            extra_diag = float(np.mean(np.diag(k_extra)))

        def kernel(f: int) -> Array:
            p = self.projections[f]
            if thin:
                assert features is not None
                res = features - p @ features
                r = res @ res.T
            else:
                assert k_extra is not None
                r = k_extra - p @ k_extra
                r = r - r @ p.T
            scale = float(np.mean(np.diag(r)[self.folds != f]))
            # states the base explains entirely leave a residual of rounding error: scaled up to a mean
            # diagonal of 1 it would be noise (and need not be positive definite), so it adds nothing
            floor = 1e-9 * max(extra_diag, 0.0)
            return self.k_base + (r / scale if scale > floor else np.zeros_like(r))

        return self._operator(kernel)

    def per_fact(self, k_extra: Array | None, features: Array | None = None) -> tuple[Array, Array]:
        """``(increment (P,), per-fact paired differences of the observed labelling (n,))``.

        The increment is ``mean_f [loss_base(f) − loss_full(f)]``: the mean reduction in out-of-fold Brier
        score when the states are added (positive: they predict the kind beyond the base). ``features``:
        see :meth:`full_operator`.
        """
        diff = self.differences(k_extra, features)
        return diff.mean(axis=1, dtype=np.float64), diff[0].astype(np.float64)

    def differences(self, k_extra: Array | None, features: Array | None = None) -> NDArray[np.float32]:
        """Per labelling and fact ``(P, n)``, ``loss_base − loss_full``: the increment of any subset of the
        facts (a domain, say) is the mean of its columns, under the same labellings."""
        full = brier_losses(self.full_operator(k_extra, features), self.labels)
        out: NDArray[np.float32] = self.base_loss - full
        return out


def crossfit_residual_gram(k: Array, b: Array) -> Array:
    """Gram matrix of ``(I − B) Z`` given ``K = Z Zᵀ`` and an out-of-fold operator ``B`` (rows of ``Z``)."""
    r = k - b @ k
    out: Array = r - r @ b.T
    return out


def residual_features(z: Array, b: Array) -> Array:
    """``(I − B) Z``: each row minus its out-of-fold prediction from the surface features."""
    out: Array = z - b @ z
    return out
