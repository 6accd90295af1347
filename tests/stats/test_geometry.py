import dcor
import numpy as np
import pytest
from scipy.spatial.distance import cdist

from beliefs.stats import (
    centroid_distance_perm,
    collapse,
    energy_distance_perm,
    euclidean_distances,
    fact_permutations,
    mean_centred_cosine_shift,
    membership,
    zscore,
)


@pytest.fixture
def rows():
    rng = np.random.default_rng(0)
    n_facts, width = 12, 5
    x = rng.standard_normal((2 * n_facts, width))
    row_fact = np.concatenate([np.arange(n_facts), np.arange(n_facts)])
    labels = np.array([1, 0] * (n_facts // 2))
    return zscore(x), row_fact, labels, n_facts


def test_distances_match_scipy(rows):
    z, *_ = rows
    assert np.allclose(euclidean_distances(z), cdist(z, z), atol=1e-10)


def test_energy_matches_dcor(rows):
    z, row_fact, labels, n = rows
    member = membership(row_fact, n)
    d_ff = collapse(euclidean_distances(z), member)
    perms = fact_permutations(labels, np.zeros(n), 5, seed=0)
    got = energy_distance_perm(d_ff, perms, member.sum(axis=0))
    for p in range(perms.shape[0]):
        lab = perms[p][row_fact].astype(bool)
        assert got[p] == pytest.approx(dcor.energy_distance(z[lab], z[~lab]), rel=1e-9)


def test_energy_unit_weights_equal_unweighted(rows):
    z, row_fact, labels, n = rows
    member = membership(row_fact, n)
    d_ff = collapse(euclidean_distances(z), member)
    lab = labels[None, :]
    a = energy_distance_perm(d_ff, lab, member.sum(axis=0))
    b = energy_distance_perm(d_ff, lab, member.sum(axis=0), np.ones((1, n)))
    assert a == pytest.approx(b)


def test_centroid_matches_direct(rows):
    z, row_fact, labels, n = rows
    member = membership(row_fact, n)
    k_ff = collapse(z @ z.T, member)
    lab = labels[row_fact].astype(bool)
    direct = np.linalg.norm(z[lab].mean(0) - z[~lab].mean(0)) / np.sqrt(z.shape[1])
    got = centroid_distance_perm(k_ff, labels[None, :], member.sum(axis=0), z.shape[1])
    assert got[0] == pytest.approx(direct)


def test_absent_facts_contribute_nothing(rows):
    z, row_fact, labels, n = rows
    keep = row_fact != 0
    member = membership(row_fact[keep], n)
    d_ff = collapse(euclidean_distances(z[keep]), member)
    got = energy_distance_perm(d_ff, labels[None, :], member.sum(axis=0))[0]
    lab = labels[row_fact[keep]].astype(bool)
    zk = z[keep]
    assert got == pytest.approx(dcor.energy_distance(zk[lab], zk[~lab]))


def test_shift_is_one_minus_centred_cosine():
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((10, 4)) * [1, 50, 1, 1], rng.standard_normal((10, 4))
    both = np.vstack([x, y])
    zz = (both - both.mean(0)) / both.std(0)
    xs, ys = zz[:10], zz[10:]
    expected = [1 - xs[i] @ ys[i] / np.linalg.norm(xs[i]) / np.linalg.norm(ys[i]) for i in range(10)]
    assert np.allclose(mean_centred_cosine_shift(x, y), expected)


def test_centroid_from_fact_sums_equals_gram(rows):
    """``features`` (each fact's rows summed) give the same distances as the fact-level Gram matrix."""
    z, row_fact, labels, n = rows
    member = membership(row_fact, n)
    perms = fact_permutations(labels, np.zeros(n), 30, seed=2)
    weights = np.random.default_rng(1).integers(0, 3, perms.shape).astype(float)
    m = member.sum(axis=0)
    for w in (None, weights):
        by_gram = centroid_distance_perm(collapse(z @ z.T, member), perms, m, z.shape[1], w)
        by_sums = centroid_distance_perm(None, perms, m, z.shape[1], w, features=member.T @ z)
        np.testing.assert_allclose(by_sums, by_gram, rtol=1e-10, equal_nan=True)


@pytest.mark.parametrize("rows_per_fact", [1, 2, 3])
def test_collapse_equals_sparse_product_bitwise(rows_per_fact):
    """Fact sums by gathers are the sparse ``Mᵀ X M`` product to the last bit (absent facts: zeros)."""
    from scipy import sparse

    from beliefs.stats.geometry import collapse_rows, fact_row_sums

    rng = np.random.default_rng(rows_per_fact)
    n = 30
    row_fact = np.concatenate([rng.permutation(n)[: n - 3 * (r > 0)] for r in range(rows_per_fact)])
    x = rng.standard_normal((row_fact.size, row_fact.size))
    mt = sparse.csr_array(membership(row_fact, n).T)
    assert np.array_equal(collapse_rows(x, row_fact, n), np.asarray(mt @ np.asarray(mt @ x.T).T))
    assert np.array_equal(collapse(x, membership(row_fact, n)), collapse_rows(x, row_fact, n))
    assert np.array_equal(fact_row_sums(x, row_fact, n), np.asarray(mt @ x))


def test_precomputed_class_weights_give_the_same_numbers(rows):
    from beliefs.stats.geometry import class_weights

    z, row_fact, labels, n = rows
    member = membership(row_fact, n)
    m = member.sum(axis=0)
    d_ff, k_ff = collapse(euclidean_distances(z), member), collapse(z @ z.T, member)
    perms = fact_permutations(labels, np.zeros(n), 20, seed=1)
    w = np.random.default_rng(2).integers(0, 3, perms.shape).astype(float)
    for weights in (None, w):
        cw = class_weights(perms, m, weights)
        assert np.array_equal(
            energy_distance_perm(d_ff, perms, m, weights, classes=cw),
            energy_distance_perm(d_ff, perms, m, weights),
            equal_nan=True,
        )
        assert np.array_equal(
            centroid_distance_perm(k_ff, perms, m, z.shape[1], weights, classes=cw),
            centroid_distance_perm(k_ff, perms, m, z.shape[1], weights),
            equal_nan=True,
        )


def test_a_subset_of_facts_by_class_weights_equals_the_subset_alone():
    """Per-domain distances weight the other facts out: the same numbers as the subset's own matrices."""
    from beliefs.stats.geometry import centroid_distance_perm, class_weights, energy_distance_perm

    rng = np.random.default_rng(0)
    n, width = 30, 5
    x = rng.standard_normal((n, width))
    d_ff = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    k_ff = x @ x.T
    rows = np.ones(n)
    labels = np.stack([rng.permutation(np.arange(n) % 2) for _ in range(6)]).astype(np.int8)
    mask = np.arange(n) < 16
    w = mask.astype(np.float64)[None, :]
    sub = np.flatnonzero(mask)
    cw = class_weights(labels, rows * mask, w)
    whole = energy_distance_perm(d_ff, labels, rows * mask, w, classes=cw)
    alone = energy_distance_perm(d_ff[np.ix_(sub, sub)], labels[:, sub], rows[sub])
    assert np.allclose(whole, alone)
    whole_c = centroid_distance_perm(k_ff, labels, rows * mask, width, w, classes=cw)
    alone_c = centroid_distance_perm(k_ff[np.ix_(sub, sub)], labels[:, sub], rows[sub], width)
    assert np.allclose(whole_c, alone_c)
