"""The strength-invariant truth-direction statistic: reference values, invariances, size and power."""

import itertools

import numpy as np
import pytest

from beliefs.stats import fact_permutations, permutation_pvalues
from beliefs.stats.directions import TruthDirections, angle, plain_angle_degrees


def data(seed, s_h=1.0, s_c=1.0, deg=0.0, n=80, dim=16, sd=1.0):
    rng = np.random.default_rng(seed)
    lab = (np.arange(n) % 2).astype(np.int8)
    u = np.eye(dim)[0]
    v = np.cos(np.radians(deg)) * np.eye(dim)[0] + np.sin(np.radians(deg)) * np.eye(dim)[1]
    d = np.where(lab[:, None] == 1, s_h * u, s_c * v) + rng.normal(0, sd, (n, dim))
    return d, lab


def test_rho_against_pair_loops():
    d, lab = data(0, 2.0, 1.5, 30.0, n=20, dim=5)
    h, c = d[lab == 1], d[lab == 0]
    cross = np.mean([x @ y for x, y in itertools.product(h, c)])
    within_h = np.mean([h[i] @ h[j] for i in range(len(h)) for j in range(len(h)) if i != j])
    within_c = np.mean([c[i] @ c[j] for i in range(len(c)) for j in range(len(c)) if i != j])
    rho, t = TruthDirections(d @ d.T).rho(lab[None, :])
    assert rho[0] == pytest.approx(cross / np.sqrt(within_h * within_c))
    assert np.isfinite(t[0])
    assert angle(np.array([1.2, 0.5, np.nan]))[:2] == pytest.approx([0.0, 60.0])


def test_invariant_to_each_kinds_strength():
    d, lab = data(1, 1.0, 1.0, 20.0)
    scaled = np.where(lab[:, None] == 1, 3.0 * d, 0.5 * d)
    r1, t1 = TruthDirections(d @ d.T).rho(lab[None, :])
    r2, t2 = TruthDirections(scaled @ scaled.T).rho(lab[None, :])
    assert r1[0] == pytest.approx(r2[0]) and t1[0] == pytest.approx(t2[0])
    # the plain angle is not invariant to the strength of the signal relative to the noise
    weak = np.where(lab[:, None] == 0, d * 0.2, d)  # scales noise too: plain angle unchanged
    assert plain_angle_degrees(d @ d.T, lab[None, :])[0] == pytest.approx(
        plain_angle_degrees(weak @ weak.T, lab[None, :])[0]
    )


def test_weights_equal_an_expanded_sample_without_copy_pairs():
    d, lab = data(2, n=12, dim=4)
    w = np.array([1, 2, 0, 1, 3, 1, 1, 0, 2, 1, 1, 1], dtype=float)
    rho_w, _ = TruthDirections(d @ d.T).rho(lab[None, :], w[None, :])
    idx = np.repeat(np.arange(12), w.astype(int))
    e, le = d[idx], lab[idx]
    g = e @ e.T
    same = idx[:, None] == idx[None, :]
    h, c = le == 1, le == 0
    cross = g[np.ix_(h, c)].mean()
    wh = g[np.ix_(h, h)][~same[np.ix_(h, h)]].mean()
    wc = g[np.ix_(c, c)][~same[np.ix_(c, c)]].mean()
    assert rho_w[0] == pytest.approx(cross / np.sqrt(wh * wc))


def _rejections(s_c, deg, reps=80, perms=199, n=200):
    new, old = [], []
    for seed in range(reps):
        d, lab = data(seed, 1.0, s_c, deg, n=n)
        labels = fact_permutations(lab, np.zeros(lab.size), perms, seed)
        g = d @ d.T
        t = TruthDirections(g).t_statistic(labels)
        t[1:] = np.where(np.isfinite(t[1:]), t[1:], 0.0)
        new.append(permutation_pvalues(t)[0] <= 0.05)
        old.append(permutation_pvalues(plain_angle_degrees(g, labels))[0] <= 0.05)
    return np.mean(new), np.mean(old)


def test_size_with_one_shared_direction_at_different_strengths():
    new, old = _rejections(s_c=0.3, deg=0.0)
    assert old >= 0.4  # the plain angle test rejects a shared direction (0.55 in 200 datasets)
    assert new <= 0.125  # 0.06 in 200 datasets


def test_power_against_different_directions():
    new, _ = _rejections(s_c=1.0, deg=60.0)
    assert new >= 0.6


def test_rho_of_labels_changed_in_place_is_recomputed():
    """The labels' float copies are kept between calls: an array changed in place must not reuse them."""
    d, lab = data(3, n=24, dim=6)
    g = TruthDirections(d @ d.T)
    labels = fact_permutations(lab, np.zeros(24, dtype=str), 20, np.random.default_rng(0))
    first = g.rho(labels)
    labels[1:] = labels[1:, ::-1]
    again, fresh = g.rho(labels), TruthDirections(d @ d.T).rho(labels.copy())
    assert np.array_equal(again[0], fresh[0], equal_nan=True) and np.array_equal(
        again[1], fresh[1], equal_nan=True
    )
    assert not np.array_equal(first[0][1:], again[0][1:])
