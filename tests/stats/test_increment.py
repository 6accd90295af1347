"""Beyond-surface statistics against scikit-learn references and explicit loops."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from beliefs.stats.increment import (
    IncrementalProbe,
    brier_losses,
    crossfit_residual_gram,
    residual_features,
    ridge_operator,
    unit_kernel,
)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 6))
    z = rng.standard_normal((40, 9))
    folds = np.arange(40) % 5
    labels = np.stack([rng.permutation(np.repeat([0, 1], 20)) for _ in range(4)]).astype(np.int8)
    return x, z, folds, labels


def _sklearn_oof(x, y, folds, alpha):
    out = np.zeros(len(y))
    for f in np.unique(folds):
        te = folds == f
        out[te] = Ridge(alpha=alpha).fit(x[~te], y[~te]).predict(x[te])
    return out


def test_ridge_operator_matches_sklearn_ridge_with_intercept(data):
    x, _, folds, labels = data
    a = ridge_operator(x @ x.T, folds, 0.7)
    for y in labels.astype(float):
        np.testing.assert_allclose(a @ y, _sklearn_oof(x, y, folds, 0.7), atol=1e-10)
    # a held-out row never sees its own fold
    for f in np.unique(folds):
        assert np.all(a[np.ix_(folds == f, folds == f)] == 0)


def test_incremental_probe_equals_explicit_refits(data):
    x, z, folds, labels = data
    xs, xz = x / np.sqrt(6), z / np.sqrt(9)
    probe = IncrementalProbe(
        xs @ xs.T, folds, labels, lam=1.0 / 32, residual_lam=0.1
    )  # λ = 1 at 32 training facts
    inc, diff = probe.per_fact(xz @ xz.T)
    for p, y in enumerate(labels.astype(float)):
        base = (np.clip(_sklearn_oof(xs, y, folds, 1.0), 0, 1) - y) ** 2
        pred = np.zeros(len(y))
        for f in np.unique(folds):
            te = folds == f
            # the states, residualised on the surface with ridges fitted on the training facts only: the
            # test facts from all of them, each other fold's facts from the training facts outside it
            r = xz - Ridge(alpha=0.1).fit(xs[~te], xz[~te]).predict(xs)
            for g in np.unique(folds[~te]):
                inner = folds == g
                fit = ~te & ~inner
                r[inner] = xz[inner] - Ridge(alpha=0.1).fit(xs[fit], xz[fit]).predict(xs[inner])
            r /= np.sqrt(np.mean(np.sum(r[~te] ** 2, axis=1)))
            full = np.hstack([xs, r])
            pred[te] = Ridge(alpha=1.0).fit(full[~te], y[~te]).predict(full[te])
        both = (np.clip(pred, 0, 1) - y) ** 2
        assert inc[p] == pytest.approx(np.mean(base - both), abs=1e-5)
        if p == 0:
            np.testing.assert_allclose(diff, base - both, atol=1e-5)


def test_states_that_only_copy_the_surface_add_nothing():
    rng = np.random.default_rng(2)
    length = rng.standard_normal(80)
    y = (rng.random(80) < 1 / (1 + np.exp(-3 * length))).astype(np.int8)
    noise = rng.standard_normal((80, 30))
    surface = np.column_stack([length, noise / np.sqrt(30)])
    states = 3.0 * length[:, None] * rng.standard_normal(8) + 0.3 * rng.standard_normal((80, 8))
    folds = np.arange(80) % 5
    inc, _ = IncrementalProbe(surface @ surface.T, folds, y[None, :]).per_fact(unit_kernel(states @ states.T))
    assert inc[0] < 0.005  # noise only: no gain (a loss, from the extra variance)


def test_states_that_carry_the_kind_add_to_a_useless_surface():
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1], 30)
    surface = rng.standard_normal((60, 3))
    states = rng.standard_normal((60, 5)) + 2.0 * y[:, None]
    folds = np.arange(60) % 5
    labels = np.stack([y, rng.permutation(y)]).astype(np.int8)
    inc, _ = IncrementalProbe(unit_kernel(surface @ surface.T), folds, labels).per_fact(
        unit_kernel(states @ states.T)
    )
    assert inc[0] > 0.1 and inc[0] > inc[1]


def test_brier_losses_clip_predictions():
    a = np.array([[0.0, 2.0], [-3.0, 0.0]])
    losses = brier_losses(a, np.array([[1, 1]], dtype=np.int8))
    np.testing.assert_allclose(losses, [[0.0, 1.0]])


def test_crossfit_residuals_from_gram_equal_features(data):
    x, z, folds, _ = data
    b = ridge_operator(x @ x.T, folds, 0.1)
    r = residual_features(z, b)
    np.testing.assert_allclose(crossfit_residual_gram(z @ z.T, b), r @ r.T, atol=1e-9)
    # each column's residual is the column minus its out-of-fold ridge prediction from x
    np.testing.assert_allclose(r[:, 0], z[:, 0] - _sklearn_oof(x, z[:, 0], folds, 0.1), atol=1e-10)


def test_incremental_probe_from_features_equals_kernel():
    """``per_fact`` from thin features (R = (I − P) S, R Rᵀ) equals the kernel route (n³)."""
    rng = np.random.default_rng(3)
    n, d = 60, 5
    labels = np.stack([rng.permutation(np.repeat([0, 1], n // 2)) for _ in range(6)]).astype(np.int8)
    x = rng.standard_normal((n, 4))
    s = rng.standard_normal((n, d)) + labels[0][:, None] * 0.5
    probe = IncrementalProbe(unit_kernel(x @ x.T), np.arange(n) % 5, labels)
    by_kernel = probe.per_fact(s @ s.T)
    by_features = probe.per_fact(None, s)
    np.testing.assert_allclose(by_features[0], by_kernel[0], atol=1e-6)
    np.testing.assert_allclose(by_features[1], by_kernel[1], atol=1e-6)
