"""On a fully paired set the behavioural beyond-surface test and its interval follow the pairs: one
within-pair regression gives both, so a rejection comes with an interval that excludes zero."""

import numpy as np
import pandas as pd

from beliefs.analyses.behaviour import _beyond_surface
from beliefs.analyses.context import AnalysisContext
from beliefs.rundata import MemoryRun, ModelInfo


def _run(n_pairs=40, seed=0):
    rng = np.random.default_rng(seed)
    n = 2 * n_pairs
    ids = [f"f{i}" for i in range(n)]
    pair = [ids[i + 1] if i % 2 == 0 else ids[i - 1] for i in range(n)]
    kinds = [k for _ in range(n_pairs) for k in ("hinge", "contingent")]
    facts = pd.DataFrame(
        {
            "fact_set": "toy",
            "fact_id": ids,
            "domain": ["logical" if i < n_pairs else "physical" for i in range(n)],
            "kind": kinds,
            "statement": [f"s{i} is so." for i in range(n)],
            "false_statement": [f"s{i} is not so." for i in range(n)],
            "pair": pair,
        }
    )
    run = MemoryRun([ModelInfo("toy", "st", 3, 8)], ["empty"], facts)
    for pooling in ("last", "mean"):
        for form in ("true", "false"):
            run.arrays[("toy", "empty", form, pooling)] = rng.standard_normal((n, 3, 8)).astype(np.float32)
    return run, rng


def test_a_within_pair_effect_is_tested_and_bounded_within_pairs():
    run, rng = _run()
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
