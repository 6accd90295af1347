"""Robustness as displacement: a movement shared by every fact is zero, near the centroid or not."""

import numpy as np
import pytest

from beliefs.stats import cliffs_delta
from beliefs.stats.geometry import mean_centred_cosine_shift
from beliefs.stats.shift import centred_displacement


def test_identical_movement_is_zero():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 8))
    assert np.allclose(centred_displacement(x, x + rng.normal(size=8) * 5), 0.0)


def test_reference_value():
    x = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]])
    y = x.copy()
    y[0] += [1.0, 0.0]
    xc, yc = x - x.mean(0), y - y.mean(0)
    sd = np.sqrt(0.5 * ((xc**2).mean(0) + (yc**2).mean(0)))
    xs, ys = xc / sd, yc / sd
    ref = np.linalg.norm(ys - xs, axis=1) / np.median(
        np.r_[np.linalg.norm(xs, axis=1), np.linalg.norm(ys, axis=1)]
    )
    assert centred_displacement(x, y) == pytest.approx(ref)


def test_typicality_does_not_count_as_movement():
    """Hinges near the centroid, every fact moved by one vector plus small noise: δ ≈ 0 (the old
    1 − cos around the pooled mean gives |δ| ≈ 1)."""
    new, old = [], []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        n = 120
        hinge = np.arange(n) < n // 2
        x = rng.normal(size=(n, 16))
        x[hinge] *= 0.5
        y = x + 2 * rng.normal(size=16) + rng.normal(0, 0.1, (n, 16))
        d = centred_displacement(x, y)
        o = mean_centred_cosine_shift(x, y)
        new.append(cliffs_delta(d[hinge], d[~hinge]))
        old.append(cliffs_delta(o[hinge], o[~hinge]))
    assert abs(np.mean(new)) < 0.05 and np.mean(np.abs(new) > 0.3) < 0.1
    assert np.mean(np.abs(old)) > 0.9
