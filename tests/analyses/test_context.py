"""The analysis context's design: nulls that swap kinds within declared pairs, bootstraps that resample
pairs whole."""

import numpy as np
import pandas as pd

from beliefs.analyses.context import AnalysisContext, bootstrap_units, design_strata
from beliefs.rundata import MemoryRun, ModelInfo


def _paired_run(n_pairs=12, singles=4, seed=0):
    rng = np.random.default_rng(seed)
    n = 2 * n_pairs + singles
    ids = [f"f{i}" for i in range(n)]
    pair = [ids[i + 1] if i % 2 == 0 else ids[i - 1] for i in range(2 * n_pairs)] + [""] * singles
    kinds = [
        k
        for _ in range(n_pairs)
        for k in (("hinge", "contingent") if rng.random() < 0.5 else ("contingent", "hinge"))
    ]
    kinds += ["hinge", "contingent"] * (singles // 2)
    domain = ["logical" if i < n_pairs else "physical" for i in range(2 * n_pairs)] + ["physical"] * singles
    facts = pd.DataFrame(
        {
            "fact_set": "toy",
            "fact_id": ids,
            "domain": domain,
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
    return run, facts


def test_the_plain_null_swaps_kinds_within_pairs_only():
    run, facts = _paired_run()
    ctx = AnalysisContext(run, permutations=200, seed=1)
    pairs = ctx.units[ctx.units[:, 1] >= 0]
    assert pairs.shape == (12, 2)
    hinge_per_pair = ctx.perms[:, pairs[:, 0]] + ctx.perms[:, pairs[:, 1]]
    assert (hinge_per_pair == 1).all()  # every labelling keeps one hinge in every pair
    swapped = ctx.perms[1:, pairs[:, 0]] != ctx.perms[0, pairs[:, 0]]
    assert 0.4 < swapped.mean() < 0.6  # each pair swapped about half the time
    singles = np.flatnonzero(facts["pair"].to_numpy() == "")
    assert (ctx.perms[:, singles].sum(axis=1) == ctx.labels[singles].sum()).all()
    assert (ctx.perms[1:, singles] != ctx.perms[0, singles]).any()


def test_design_strata_and_units():
    keys = np.array(["a+b", "a+b", "", "c+d", "", "c+d"])
    dom = np.array(["x", "x", "x", "y", "y", "y"])
    assert design_strata(dom, keys).tolist() == [
        "x|pair:a+b",
        "x|pair:a+b",
        "x",
        "y|pair:c+d",
        "y",
        "y|pair:c+d",
    ]
    assert bootstrap_units(keys).tolist() == [[0, 1], [2, -1], [3, 5], [4, -1]]


def test_the_bootstrap_draws_twins_together():
    run, facts = _paired_run()
    ctx = AnalysisContext(run, permutations=9, seed=0)
    pairs = ctx.units[ctx.units[:, 1] >= 0]
    assert np.array_equal(ctx.boot[:, pairs[:, 0]], ctx.boot[:, pairs[:, 1]])
    # the number of draws per domain is fixed: logical has 6 pairs (12 facts)
    logical = facts["domain"].to_numpy() == "logical"
    assert (ctx.boot[:, logical].sum(axis=1) == 12).all()
