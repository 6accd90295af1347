import numpy as np
import pytest
import statsmodels.api as sm
from scipy.stats import mannwhitneyu

from beliefs.stats import (
    bootstrap_ci,
    cliffs_delta,
    cliffs_delta_perm,
    delta_ci,
    effects,
    freedman_lane,
    mean_ci,
)


def test_cliffs_delta_is_2u_over_n1n2_minus_1():
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 5, 17).astype(float), rng.integers(0, 6, 23).astype(float)
    u = mannwhitneyu(x, y).statistic
    assert cliffs_delta(x, y) == pytest.approx(2 * u / (17 * 23) - 1)
    labels = np.concatenate([np.ones(17), np.zeros(23)]).astype(int)[None, :]
    v = np.concatenate([x, y])
    assert cliffs_delta_perm(v, labels)[0] == pytest.approx(cliffs_delta(x, y))


def test_cliffs_delta_perm_skips_nan():
    v = np.array([1.0, 2.0, np.nan, 0.5, 3.0])
    lab = np.array([[1, 1, 1, 0, 0]])
    assert cliffs_delta_perm(v, lab)[0] == pytest.approx(cliffs_delta([1.0, 2.0], [0.5, 3.0]))


def test_bootstrap_ci_falls_back_when_bca_is_nan():
    tied = np.array([1.0] * 30 + [0.0])
    lo, hi = mean_ci(tied)
    assert np.isfinite(lo) and np.isfinite(hi) and lo <= hi
    lo, hi = delta_ci(np.ones(10), np.zeros(10))
    assert lo == pytest.approx(1.0) and hi == pytest.approx(1.0)


def test_bootstrap_ci_contains_mean():
    rng = np.random.default_rng(1)
    x = rng.normal(2.0, 1.0, 60)
    lo, hi = bootstrap_ci((x,), lambda a, axis=-1: a.mean(axis=axis), seed=0)
    assert lo < x.mean() < hi


def test_freedman_lane_observed_t_matches_statsmodels():
    rng = np.random.default_rng(2)
    n = 60
    cov = rng.standard_normal((n, 2))
    h = (rng.random(n) < 0.5).astype(float)
    y = cov @ [1.0, -0.5] + 0.3 * h + rng.standard_normal(n)
    res = freedman_lane(y, h, cov, n_permutations=999, seed=0)
    ols = sm.OLS(y, np.column_stack([np.ones(n), cov, h])).fit(cov_type="HC3")
    assert res.t == pytest.approx(ols.tvalues[-1])
    assert res.estimate == pytest.approx(ols.params[-1])
    assert 1 / 1000 <= res.p_value <= 1
    assert res.ci_low < res.estimate < res.ci_high


def test_cliffs_delta_batched_with_ties_matches_pairwise_count():
    rng = np.random.default_rng(4)
    x = rng.integers(0, 5, size=(7, 11)).astype(float)  # many ties
    y = rng.integers(0, 5, size=(7, 9)).astype(float)
    want = [np.sign(x[i][:, None] - y[i][None, :]).mean() for i in range(7)]
    assert np.allclose(cliffs_delta(x, y), want)
    assert np.allclose(cliffs_delta(x.T, y.T, axis=0), want)


def test_bootstrap_ci_without_fallback_refuses_an_estimate_outside_its_bootstrap():
    """A statistic that resampling always pushes one way (minus the number of distinct values, which
    duplicated facts can only raise) gets NaN, not an interval beside the estimate; a mean gets one."""
    from beliefs.stats import bootstrap_ci

    rng = np.random.default_rng(0)
    x = rng.standard_normal(40)

    def inflated(s, axis=-1):
        return -np.apply_along_axis(lambda r: np.unique(r).size, axis, s).astype(float)

    lo, hi = bootstrap_ci((x,), inflated, n_resamples=200, fallback=False)
    assert np.isnan(lo) and np.isnan(hi)
    lo, hi = bootstrap_ci((x,), lambda s, axis=-1: np.mean(s, axis=axis), n_resamples=500, fallback=False)
    assert lo < x.mean() < hi


def _delta_by_ranks(x, y):
    from scipy.stats import rankdata

    n1, n2 = x.shape[-1], y.shape[-1]
    ranks = rankdata(np.concatenate([x, y], axis=-1), axis=-1)
    return 2.0 * (ranks[..., :n1].sum(axis=-1) - n1 * (n1 + 1) / 2.0) / (n1 * n2) - 1.0


@pytest.mark.parametrize("limit", [effects.COUNT_CELLS, 0])
def test_cliffs_delta_counting_equals_mid_ranks_exactly(monkeypatch, limit):
    """The counted U (bootstrap batches) and the ranked U (the fallback) are the same half-integers."""
    monkeypatch.setattr(effects, "COUNT_CELLS", limit)
    rng = np.random.default_rng(3)
    h, c = rng.integers(0, 7, 30).astype(float), np.round(rng.normal(size=25), 1)
    x, y = h[rng.integers(0, 30, (200, 30))], c[rng.integers(0, 25, (200, 25))]
    assert np.array_equal(cliffs_delta(x, y), _delta_by_ranks(x, y))
    assert np.array_equal(cliffs_delta(x.T, y.T, axis=0), _delta_by_ranks(x, y))
    assert cliffs_delta(np.array([-0.0, 1.0]), np.array([0.0])) == 0.5
    x[5, 2] = np.nan  # a NaN row is NaN, the others are unchanged
    got = cliffs_delta(x, y)
    assert np.isnan(got[5]) and np.array_equal(np.delete(got, 5), np.delete(_delta_by_ranks(x, y), 5))


def test_midranks_equal_scipy_rankdata():
    from scipy.stats import rankdata

    v = np.random.default_rng(4).integers(0, 9, 50).astype(float)
    assert np.array_equal(effects.midranks(v), rankdata(v))


def test_unit_mean_ci_resamples_pairs_whole():
    from scipy.stats import bootstrap

    from beliefs.stats.effects import unit_mean_ci

    rng = np.random.default_rng(0)
    values = rng.normal(0.5, 1.0, 40)
    units = np.arange(40).reshape(20, 2)  # 20 complete pairs: the mean of facts is the mean of pair means
    low, high = unit_mean_ci(values, units, n_resamples=2000, seed=3)
    ref = bootstrap(
        (values.reshape(20, 2).mean(axis=1),),
        np.mean,
        n_resamples=2000,
        method="BCa",
        rng=np.random.default_rng(3),
    ).confidence_interval
    assert low == pytest.approx(ref.low, abs=0.02) and high == pytest.approx(ref.high, abs=0.02)
    # NaN facts leave their unit; a unit with none is dropped
    values[[0, 1, 5]] = np.nan
    low2, high2 = unit_mean_ci(values, units, seed=3)
    assert np.isfinite(low2) and low2 < np.nanmean(values) < high2


def test_freedman_lane_keeps_its_size_when_one_group_is_noisier():
    """No effect, the residual SD 4x larger in the smaller group: the HC3-studentised test rejects near
    alpha. Measured over 1,000 such draws: classical-t Freedman-Lane 0.255, HC3-studentised 0.073."""
    rng = np.random.default_rng(7)
    n, sims, rejections = 40, 300, 0
    for _ in range(sims):
        h = np.zeros(n)
        h[:10] = 1.0
        cov = rng.standard_normal((n, 1))
        y = cov[:, 0] + rng.standard_normal(n) * np.where(h == 1, 4.0, 1.0)
        rejections += (
            freedman_lane(y, h, cov, n_permutations=199, seed=int(rng.integers(1 << 30))).p_value <= 0.05
        )
    assert rejections / sims <= 0.12  # the classical-t test fails this by far
