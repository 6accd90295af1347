"""On a fully paired set the behavioural beyond-surface test and its interval follow the pairs: one
within-pair regression gives both, so a rejection comes with an interval that excludes zero."""

import numpy as np
from paired_runs import _paired_run

from beliefs.analyses.behaviour import _beyond_surface
from beliefs.analyses.context import AnalysisContext


def test_a_within_pair_effect_is_tested_and_bounded_within_pairs():
    run, _ = _paired_run(n_pairs=40, singles=0)
    rng = np.random.default_rng(0)
    ctx = AnalysisContext(run, permutations=499, seed=0)
    n = ctx.n_facts
    frame = np.repeat(rng.normal(0, 3.0, n // 2), 2)  # a large shared frame effect per pair
    length = rng.normal(0, 1, n)
    values = frame + 0.5 * length + 0.6 * ctx.labels + rng.normal(0, 0.3, n)
    keys, fl = _beyond_surface(ctx, values, length[:, None], "length")
    assert keys["beyond_surface_test"].startswith("within-pair test")
    assert fl.n == n and fl.p_value <= 0.01
    assert 0.3 < keys["adjusted_hinge_coef"] < 0.9
    assert keys["adjusted_hinge_coef_ci_low"] > 0  # the interval follows the pairs: the frame is removed
    # no kind effect: no rejection, and an interval around zero
    null_values = frame + 0.5 * length + rng.normal(0, 0.3, n)
    keys0, fl0 = _beyond_surface(ctx, null_values, length[:, None], "length")
    assert fl0.p_value > 0.05
    assert keys0["adjusted_hinge_coef_ci_low"] < 0 < keys0["adjusted_hinge_coef_ci_high"]
