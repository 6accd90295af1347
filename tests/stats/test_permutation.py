import numpy as np
import pytest
from scipy.stats import false_discovery_control

from beliefs.stats import (
    bh_adjust,
    fact_bootstrap_weights,
    fact_permutations,
    maxstat_adjust,
    middle_third,
    permutation_pvalues,
    sign_flips,
)


def test_fact_permutations_keep_observed_first_and_counts_within_domain():
    labels = np.array([1, 0, 1, 0, 1, 1, 0, 0, 0])
    domains = np.array(["a"] * 4 + ["b"] * 5)
    perms = fact_permutations(labels, domains, 500, seed=3)
    assert perms.shape == (501, 9)
    assert np.array_equal(perms[0], labels)
    assert np.all(perms[:, :4].sum(axis=1) == 2)
    assert np.all(perms[:, 4:].sum(axis=1) == 2)
    assert len({tuple(p) for p in perms}) > 20
    assert np.array_equal(perms, fact_permutations(labels, domains, 500, seed=3))


def test_fact_permutations_reject_mismatched_input():
    with pytest.raises(ValueError, match="equal length"):
        fact_permutations([1, 0], ["a"], 10)


def test_sign_flips_first_row_observed():
    f = sign_flips(7, 100, seed=1)
    assert np.all(f[0] == 1) and set(np.unique(f[1:])) == {-1.0, 1.0}


def test_pvalue_counts_observed():
    null = np.array([5.0, 1.0, 2.0, 6.0, 5.0])
    # T >= 5: the observed, 6.0 and 5.0
    assert permutation_pvalues(null)[0] == pytest.approx(3 / 5)
    assert permutation_pvalues(np.array([10.0, 1.0, 2.0]))[0] == pytest.approx(1 / 3)


def test_maxstat_single_column_equals_raw_and_is_conservative():
    rng = np.random.default_rng(0)
    null = rng.standard_normal((1000, 8))
    null[0, 2] += 3.0
    raw = permutation_pvalues(null)
    adj = maxstat_adjust(null)
    assert np.all(adj >= raw - 1e-12)
    assert maxstat_adjust(null[:, :1])[0] == pytest.approx(raw[0])


def test_maxstat_matches_independent_loop():
    rng = np.random.default_rng(1)
    null = rng.standard_normal((200, 4)) * np.array([1, 2, 3, 4]) + np.array([0, 1, 2, 3])
    z = (null - null.mean(0)) / null.std(0)
    m = z.max(axis=1)
    expected = [np.mean(m >= z[0, j]) for j in range(4)]
    assert np.allclose(maxstat_adjust(null), expected)


def test_bh_matches_scipy_and_keeps_nan():
    p = np.array([0.01, 0.2, np.nan, 0.03, 0.5])
    out = bh_adjust(p)
    assert np.isnan(out[2])
    assert np.allclose(out[[0, 1, 3, 4]], false_discovery_control(p[[0, 1, 3, 4]]))


def test_middle_third():
    assert list(middle_third(31)) == list(range(10, 20))
    assert list(middle_third(7)) == [2, 3]
    assert list(middle_third(2)) == [0]


def test_bootstrap_weights_resample_within_strata():
    w = fact_bootstrap_weights(np.array(["a", "a", "a", "b", "b"]), 200, seed=0)
    assert np.all(w[:, :3].sum(axis=1) == 3) and np.all(w[:, 3:].sum(axis=1) == 2)
