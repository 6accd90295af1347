"""Tracing statistics checked against direct computation and scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from beliefs.stats import fact_permutations, maxstat_adjust
from beliefs.trace.engine import Restoration
from beliefs.trace.stats import diff_null, pair_test, profile_test, summary_test
from beliefs.trace.summary import summarise


def _data(n=40, m=6, effect=0.0, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.array([1, 0] * (n // 2), dtype=np.int8)
    domains = np.array(["logical"] * (n // 2) + ["physical"] * (n // 2))
    values = rng.normal(size=(n, m)) + effect * labels[:, None] * (np.arange(m) == 2)
    return values, labels, domains


def test_diff_null_equals_a_loop():
    values, labels, domains = _data()
    perms = fact_permutations(labels, domains, 20, 1)
    got = diff_null(values, perms)
    for b in range(perms.shape[0]):
        y = perms[b].astype(bool)
        np.testing.assert_allclose(got[b], values[y].mean(0) - values[~y].mean(0))


def test_profile_test_finds_the_planted_cell_only():
    values, labels, domains = _data(n=60, effect=1.5)
    t = profile_test(values, labels, domains, 499, seed=0)
    adj = maxstat_adjust(t.null)
    assert adj[2] < 0.01
    assert np.all(adj[[0, 1, 3, 4, 5]] > 0.05)
    np.testing.assert_allclose(t.diff, values[labels == 1].mean(0) - values[labels == 0].mean(0))
    assert t.ci_low[2] < t.diff[2] < t.ci_high[2]
    assert t.ci_low[2] > 0


def test_summary_test_matches_scipy_and_drops_nan():
    values, labels, domains = _data(n=40, m=1)
    v = values[:, 0].copy()
    v[[0, 5]] = np.nan
    t = summary_test(v, labels, domains, 999, seed=0)
    ok = np.isfinite(v)
    h, c = v[ok & (labels == 1)], v[ok & (labels == 0)]
    assert t.n_hinge + t.n_contingent == 38
    assert t.diff == pytest.approx(h.mean() - c.mean())
    assert t.mannwhitney_p == pytest.approx(mannwhitneyu(h, c).pvalue)
    u = mannwhitneyu(h, c).statistic
    assert t.cliffs_delta == pytest.approx(2 * u / (h.size * c.size) - 1)
    assert 0.05 < t.p_value <= 1.0  # no effect planted
    assert summary_test(np.full(40, np.nan), labels, domains, 9, 0) is None


def test_pair_test_sign_flips():
    rng = np.random.default_rng(3)
    values = rng.normal(size=20)
    pairs = [(i, i + 10) for i in range(10)]
    values[:10] += 2.0
    t = pair_test(values, pairs, 999, seed=0)
    d = values[:10] - values[10:]
    assert t.mean == pytest.approx(d.mean()) and t.n_pairs == 10
    # the exact sign-flip p by enumerating all 2^10 patterns, within Monte-Carlo error
    signs = np.array(np.meshgrid(*[[-1.0, 1.0]] * 10)).reshape(10, -1).T
    exact = np.mean(np.abs(signs @ d / 10) >= abs(d.mean()) - 1e-12)
    assert t.p_value == pytest.approx(exact, abs=0.015)
    assert t.p_value < 0.05
    # exact sign-flip p by enumeration for a tiny case
    small = pair_test(np.array([1.0, 0.2, 0.0, 0.0]), [(0, 2), (1, 3)], 4000, seed=1)
    # all 4 sign patterns: |mean| in {0.6, 0.4, 0.4, 0.6} -> P(|m| >= 0.6) = 1/2
    assert small.p_value == pytest.approx(0.5, abs=0.03)


def test_summarise():
    plan = [
        Restoration("state", (0,), "content", 0),
        Restoration("state", (0,), "last", 0),
        Restoration("mlp", (1, 2), "content", 0),
        Restoration("attn", (1, 2), "content", 0),
        Restoration("state", (3,), "content", 3),
        Restoration("state", (3,), "last", 3),
        Restoration("mlp", (2, 3), "last", 3),
        Restoration("attn", (2, 3), "last", 3),
    ]
    plan += [Restoration("state", (2,), "content", 2), Restoration("state", (2,), "last", 2)]
    plan += [Restoration("state", (5,), "content", 5), Restoration("state", (5,), "last", 5)]
    frac = np.array([1.0, 0.0, 0.6, -0.2, 0.7, 0.8, 0.2, 0.2, 0.4, 0.6, 0.0, 0.3])
    s = summarise(frac, plan, n_layers=6)
    # layer 0 (1 at the content tokens by construction) and the last layer's content state (0 by
    # construction) are not searched: the peak is found from layer 1 on
    assert s["peak_layer_content"] == 3 and s["peak_layer_last"] == 3
    assert s["spread_content"] == 1 and s["spread_last"] == 2
    assert s["mlp_share"] == pytest.approx(0.8 / (0.8 + 0.2))
    assert s["peak_recovery"] == pytest.approx(0.8)
    # a profile whose best layer is the embeddings' still peaks at a block output
    frac[[4, 5, 8, 9, 11]] = [-0.1, -0.2, 0.1, -0.3, -0.05]
    s = summarise(frac, plan, n_layers=6)
    assert (
        s["peak_layer_content"] == 2
        and s["peak_layer_last"] == 5
        and s["peak_recovery"] == pytest.approx(0.1)
    )
