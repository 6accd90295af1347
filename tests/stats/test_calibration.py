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


# Confounded null: kind tied to length, states encode only length and words. 16 datasets of 60 facts; the
# band is ± 3 Monte-Carlo SD (0.16) above 0.05: it catches a test that rejects like the plain one does.
@pytest.mark.parametrize("test", ["increment", "residual-energy"])
def test_beyond_surface_tests_hold_their_size_when_the_states_carry_only_wording(test):
    from beliefs.stats.calibration import beyond_rejection_rate

    assert beyond_rejection_rate(test, 0.0, 16, seed=21, n=60, permutations=49) <= 0.05 + 3 * 0.055


def test_the_confounded_null_fools_the_plain_probe_and_the_planted_signal_is_found():
    from beliefs.stats.calibration import beyond_rejection_rate

    assert beyond_rejection_rate("plain-probe", 0.0, 8, seed=22, n=60, permutations=49) >= 0.75
    assert beyond_rejection_rate("residual-energy", 1.5, 8, seed=23, n=60, permutations=49) >= 0.75
