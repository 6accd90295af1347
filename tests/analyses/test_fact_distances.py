"""``fact_distances``: the fact-collapsed row distances of ``kind-distance`` a block of rows at a time, the
numbers of the whole ``rows × rows`` route (to the bit in one block), in a fraction of its memory."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from beliefs.analyses.kind.common import fact_distances
from beliefs.stats.geometry import collapse_rows, gram_distances


def _rows(n: int, width: int, absent: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    true_rows = np.flatnonzero(rng.random(n) >= absent)
    false_rows = np.flatnonzero(rng.random(n) >= absent)
    row_fact = np.concatenate([true_rows, false_rows])
    return rng.standard_normal((row_fact.size, width)), row_fact


@pytest.mark.parametrize(("n", "width", "absent"), [(150, 32, 0.0), (200, 300, 0.25), (37, 8, 0.4)])
@pytest.mark.parametrize("block_bytes", [0, 200_000, 10**9])
def test_equal_to_the_whole_route(n: int, width: int, absent: float, block_bytes: int) -> None:
    z, row_fact = _rows(n, width, absent, seed=n + width)
    with threadpool_limits(limits=1, user_api="blas"):
        whole = collapse_rows(gram_distances(z @ z.T), row_fact, n)
        got = fact_distances(z, row_fact, n, block_bytes)
    assert got.shape == (n, n)
    if block_bytes >= 3 * 8 * z.shape[0] ** 2:  # one block: the whole route's operations exactly
        assert np.array_equal(got, whole)
    else:  # a block's product may round differently in the last place
        assert np.allclose(got, whole, rtol=1e-12, atol=1e-12)
        assert not np.array_equal(got, np.zeros_like(got))


def test_a_gram_matrix_at_hand_is_used_as_it_is() -> None:
    z, row_fact = _rows(90, 12, 0.1, seed=3)
    with threadpool_limits(limits=1, user_api="blas"):
        k = z @ z.T
        whole = collapse_rows(gram_distances(k), row_fact, 90)
        assert np.array_equal(fact_distances(z, row_fact, 90, 0, gram=k), whole)
    # the distances come from the matrix given, not from z
    assert not np.allclose(fact_distances(z, row_fact, 90, 0, gram=4 * k), whole)


def test_more_than_two_rows_per_fact_take_the_general_route() -> None:
    rng = np.random.default_rng(0)
    row_fact = np.array([0, 1, 2, 0, 1, 0])
    z = rng.standard_normal((6, 4))
    expected = collapse_rows(gram_distances(z @ z.T), row_fact, 3)
    assert np.allclose(fact_distances(z, row_fact, 3, 0), expected)


def test_peak_memory_is_a_block_not_the_rows_squared() -> None:
    z, row_fact = _rows(1500, 16, 0.0, seed=1)  # 3,000 rows: one rows² matrix is 72 MB
    rows_squared = z.shape[0] ** 2 * 8
    tracemalloc.start()
    try:
        fact_distances(z, row_fact, 1500, block_bytes=2_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the 1,500² result (18 MB) and one block of 64 rows, not three rows² matrices (216 MB)
    assert peak < rows_squared / 2, peak
