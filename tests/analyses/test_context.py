"""The analysis context's design: nulls that swap kinds within declared pairs, bootstraps that resample
pairs whole."""

import numpy as np
from paired_runs import _paired_run

from beliefs.analyses.context import AnalysisContext, bootstrap_units, design_strata


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
