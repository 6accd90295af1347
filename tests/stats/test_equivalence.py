"""TOST, critical values and minimum detectable effects against references (pingouin, scipy, closed forms)."""

import numpy as np
import pytest
from scipy import stats

from beliefs.stats import fact_permutations, permutation_pvalues
from beliefs.stats.equivalence import (
    critical_value,
    mde_from_null,
    mde_planted,
    mean_diff_perm,
    mean_diff_se,
    tost_from_bootstrap,
    tost_from_interval,
)


def _t_interval(x, y):
    n1, n2 = len(x), len(y)
    df = n1 + n2 - 2
    sp = np.sqrt(((n1 - 1) * np.var(x, ddof=1) + (n2 - 1) * np.var(y, ddof=1)) / df)
    se = sp * np.sqrt(1 / n1 + 1 / n2)
    est = x.mean() - y.mean()
    q = stats.t.ppf(0.975, df)
    return est, est - q * se, est + q * se, df


@pytest.mark.parametrize("seed,shift,bound", [(0, 0.0, 0.5), (1, 0.3, 0.5), (2, -0.2, 0.3), (3, 0.0, 2.0)])
def test_tost_from_interval_matches_pingouin(seed, shift, bound):
    pingouin = pytest.importorskip("pingouin")
    rng = np.random.default_rng(seed)
    x, y = rng.normal(shift, 1, 40), rng.normal(0, 1, 50)
    est, lo, hi, df = _t_interval(x, y)
    ref = float(pingouin.tost(x, y, bound=bound, paired=False, correction=False)["pval"].iloc[0])
    assert tost_from_interval(est, lo, hi, -bound, bound, df=df) == pytest.approx(ref, rel=1e-9)


def test_tost_is_the_90_percent_interval_inside_the_bounds():
    est, se = 0.1, 0.1
    z90 = stats.norm.ppf(0.95)
    lo, hi = est - 1.96 * se, est + 1.96 * se
    # bound exactly at the 90% interval's upper end: p = 0.05
    bound = est + z90 * se
    assert tost_from_interval(est, lo, hi, -bound, bound, level=0.95) == pytest.approx(0.05, abs=2e-3)
    # one-sided (upper only) and an asymmetric interval: each side its own SE
    assert tost_from_interval(0.2, 0.0, 0.3, -np.inf, 0.5) == pytest.approx(
        stats.norm.sf((0.5 - 0.2) / (0.1 / stats.norm.ppf(0.975)))
    )
    assert np.isnan(tost_from_interval(0.5, np.nan, 1.0, -1, 1))
    assert np.isnan(tost_from_interval(2.0, 0.0, 1.0, -1, 1))  # estimate outside its interval


def test_tost_from_bootstrap():
    r = np.concatenate([np.full(90, 0.0), np.full(6, 0.6), np.full(4, -0.6)])
    assert tost_from_bootstrap(r, -0.5, 0.5) == pytest.approx(0.06)
    assert tost_from_bootstrap(np.zeros(99), -0.5, 0.5) == pytest.approx(0.01)  # never below 1/(B+1)


def test_critical_value_agrees_with_permutation_pvalues():
    rng = np.random.default_rng(0)
    null = rng.normal(size=1999)
    crit = critical_value(null, 0.05)
    below = np.max(null[null < crit])
    assert permutation_pvalues(np.concatenate([[crit], null]))[0] <= 0.05
    assert permutation_pvalues(np.concatenate([[below], null]))[0] > 0.05


def test_mde_from_null_normal():
    null = np.concatenate([[np.nan], stats.norm.ppf((np.arange(20000) + 0.5) / 20000)])
    # location-shift power of a one-sided z test: z_{0.95} + z_{0.80}
    assert mde_from_null(null) == pytest.approx(stats.norm.ppf(0.95) + stats.norm.ppf(0.8), abs=0.01)


def test_mde_planted_matches_the_two_sample_z_test():
    rng = np.random.default_rng(0)
    n = 200
    values = rng.normal(size=n)
    labels = (np.arange(n) % 2).astype(np.int8)
    perms = fact_permutations(labels, np.zeros(n), 999, rng)
    scale = mean_diff_se(values, labels)
    mde = mde_planted(values, perms, mean_diff_perm, scale, n_sim=300, n_null=199, seed=1)
    ref = (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * np.sqrt(2 / (n / 2))
    assert mde == pytest.approx(ref, rel=0.08)


def test_tost_size_and_power_in_simulation():
    """At the SESOI boundary TOST rejects at most α of the time; at no effect it has its power."""
    rng = np.random.default_rng(3)
    bound, n, reps = 0.4, 100, 600
    rejections = {}
    for true in (bound, 0.0):
        p = []
        for _ in range(reps):
            x, y = rng.normal(true, 1, n), rng.normal(0, 1, n)
            est, lo, hi, df = _t_interval(x, y)
            p.append(tost_from_interval(est, lo, hi, -bound, bound, df=df))
        rejections[true] = np.mean(np.array(p) <= 0.05)
    se = np.sqrt(2 / n)
    power = 2 * stats.norm.cdf(bound / se - stats.norm.ppf(0.95)) - 1
    assert rejections[bound] <= 0.05 + 2.5 * np.sqrt(0.05 * 0.95 / reps)
    assert rejections[0.0] == pytest.approx(power, abs=0.08)
