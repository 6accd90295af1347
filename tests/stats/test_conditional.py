"""Conditional permutations within label-free strata."""

import numpy as np

from beliefs.stats.conditional import conditional_permutations, pair_keys, surface_bins, surface_strata


def test_pairs_then_templates_then_bins():
    domains = np.array(["a"] * 8 + ["b"] * 8)
    ids = np.array([f"f{i}" for i in range(16)])
    pairs = np.array(["f1", "f0"] + [""] * 14)
    templates = np.array(["", "", "t", "t"] + [""] * 12)
    feats = np.arange(16, dtype=float)[:, None]
    strata = surface_strata(domains, feats, templates, pair_keys(ids, pairs), n_bins=2)
    assert strata[0] == strata[1] == "a|pair:f0+f1"
    assert strata[2] == strata[3] == "a|template:t"
    assert all(s.startswith("a|bin:") for s in strata[4:8])
    assert all(s.startswith("b|bin:") for s in strata[8:])
    assert len(set(strata[8:])) == 2


def test_bins_follow_the_surface_and_are_deterministic():
    rng = np.random.default_rng(0)
    length = np.sort(rng.standard_normal(60))
    bins = surface_bins(np.column_stack([length, 0.01 * rng.standard_normal(60)]), n_bins=5, seed=3)
    assert len(set(bins)) == 5
    # bins of a one-dimensional surface are contiguous runs of the sorted lengths
    assert np.count_nonzero(np.diff(bins)) == 4
    again = surface_bins(np.column_stack([length, np.zeros(60)]), n_bins=5, seed=3)
    assert np.count_nonzero(np.diff(again)) == 4


def test_conditional_permutations_keep_kind_counts_per_stratum():
    rng = np.random.default_rng(1)
    strata = np.repeat(["x", "y", "z"], [10, 6, 4])
    labels = rng.integers(0, 2, 20)
    perms = conditional_permutations(labels, strata, 50, seed=2)
    np.testing.assert_array_equal(perms[0], labels)
    for s in np.unique(strata):
        m = strata == s
        assert (perms[:, m].sum(axis=1) == labels[m].sum()).all()
    assert (perms[1:] != labels).any()
