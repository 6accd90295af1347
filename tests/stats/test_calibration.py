"""Fast versions of scripts/calibrate_stats.py: size near 0.05 under the null, power under an effect."""

import pytest

from beliefs.stats.calibration import POWER_EFFECT, rejection_rate

# 200 datasets: Monte-Carlo SD of a 0.05 rate is 0.015; the band is ± 3 SD (conservative tests allowed).
FAST = ("energy", "centroid", "cliffs-delta", "freedman-lane", "maxstat-fwer")


@pytest.mark.parametrize("test", FAST)
def test_size_within_monte_carlo_error(test):
    size = rejection_rate(test, 0.0, 200, seed=11, n=30, permutations=99)
    assert 0.0 <= size <= 0.05 + 3 * 0.0154


@pytest.mark.parametrize("test", FAST)
def test_power_under_planted_effect(test):
    assert rejection_rate(test, 2 * POWER_EFFECT[test], 60, seed=12, n=30, permutations=99) >= 0.7


@pytest.mark.parametrize("test", ["massmean-probe", "truth-probe"])
def test_probe_nulls_are_not_anticonservative(test):
    assert rejection_rate(test, 0.0, 60, seed=13, n=30, permutations=49) <= 0.05 + 3 * 0.028
