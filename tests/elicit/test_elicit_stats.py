import numpy as np
import pandas as pd
import pytest

from beliefs.elicit import elicitation_stats
from beliefs.results.columns import RESULT_COLUMNS
from beliefs.results.verdict import VERDICTS
from beliefs.stats import cliffs_delta


def table(n=40, effect=0.0, seed=0, conditions=("empty", "prompt"), rise=0.0):
    """Per-fact salience with hinge facts ``effect`` higher; ``prompt`` adds ``rise`` to hinge facts."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        domain = "logical" if i % 2 else "physical"
        kind = "hinge" if (i // 2) % 2 else "contingent"
        base = 0.3 + rng.normal(0, 0.05) + (effect if kind == "hinge" else 0.0)
        for cond in conditions:
            extra = rise if (cond != "empty" and kind == "hinge") else 0.0
            s_t = base + extra + rng.normal(0, 0.01)
            s_f = s_t - rng.normal(0.01, 0.02)
            rows.append(
                {
                    "fact_set": "s",
                    "fact_id": f"f{i}",
                    "domain": domain,
                    "kind": kind,
                    "condition": cond,
                    "salience_true": s_t,
                    "salience_false": s_f,
                    "endorsement": s_t - s_f,
                }
            )
    return pd.DataFrame(rows)


def pick(results, cond, stat, subset="pooled"):
    sel = results[
        (results["condition"] == cond) & (results["statistic"] == stat) & (results["subset"] == subset)
    ]
    assert len(sel) == 1
    return sel.iloc[0]


def test_columns_and_reference_values():
    t = table(effect=0.05)
    results, heads = elicitation_stats(t, ["empty", "prompt"], "m", permutations=199)
    assert list(results.columns) == list(RESULT_COLUMNS)
    assert set(results["analysis"]) == {"elicitation"}
    e = t[t["condition"] == "empty"]
    h, c = e[e["kind"] == "hinge"], e[e["kind"] == "contingent"]
    r = pick(results, "empty", "salience_diff")
    assert r["estimate"] == pytest.approx(h["salience_true"].mean() - c["salience_true"].mean())
    assert r["ci_low"] < r["estimate"] < r["ci_high"]
    assert r["n_permutations"] == 199 and r["n_facts"] == 40
    d = pick(results, "empty", "salience_cliffs_delta")
    assert d["estimate"] == pytest.approx(cliffs_delta(h["salience_true"], c["salience_true"]))
    share = pick(results, "empty", "share_endorsed", "logical/hinge")
    lh = e[(e["domain"] == "logical") & (e["kind"] == "hinge")]
    assert share["estimate"] == pytest.approx((lh["endorsement"] > 0).mean())
    assert {"delta_salience_diff", "delta_endorsement_diff"} <= set(
        results.loc[results["condition"] == "prompt", "statistic"]
    )
    assert "delta_salience_diff" not in set(results.loc[results["condition"] == "empty", "statistic"])
    (head,) = heads
    assert head["condition"] == "empty" and head["statistic"] == "salience_contrast_diff"
    # no salience_csls column: the raw salience stands in; contrast = empty − mean over detailed prompts
    p_ = t[t["condition"] == "prompt"].set_index("fact_id")["salience_true"]
    e_ = e.set_index("fact_id")
    c = e_["salience_true"] - p_.reindex(e_.index)
    ref = c[e_["kind"] == "hinge"].mean() - c[e_["kind"] == "contingent"].mean()
    assert head["estimate"] == pytest.approx(ref)
    assert head["p_beyond_surface"] == head["p_value"]
    assert head["verdict"] in VERDICTS and head["sesoi"] == pytest.approx(0.2 * head["contrast_sd"])
    for key in (
        "analysis",
        "model",
        "control",
        "condition",
        "statistic",
        "estimate",
        "ci_low",
        "ci_high",
        "p_value",
        "n_facts",
        "n_permutations",
        "share_endorsed",
    ):
        assert key in head


def test_uniform_advantage_cancels_and_empty_specific_one_is_found():
    """Hinges ahead by the same amount under every prompt (a hub effect): the contrast finds nothing;
    ahead under the prompt only: found, with the sign of empty − detailed."""
    results, heads = elicitation_stats(table(effect=0.08), ["empty", "prompt"], "m", permutations=499)
    assert pick(results, "empty", "salience_diff")["p_value"] <= 0.01  # the plain comparison rejects
    assert heads[0]["p_value"] > 0.05 and heads[0]["verdict"] in ("equivalent", "inconclusive")
    _results, heads = elicitation_stats(table(rise=0.1), ["empty", "prompt"], "m", permutations=499)
    assert heads[0]["p_value"] <= 0.01 and heads[0]["estimate"] == pytest.approx(-0.1, abs=0.02)
    assert heads[0]["verdict"] == "differs"


def test_crossed_bootstrap_widens_the_interval():
    t = table(effect=0.02)
    n = 40
    _r, (facts_only,) = elicitation_stats(t, ["empty", "prompt"], "m", permutations=99)
    rng = np.random.default_rng(0)
    noisy = {}
    for cond in ("empty", "prompt"):
        base = t[t["condition"] == cond]["salience_true"].to_numpy()
        noisy[cond] = base[None, :] + rng.normal(0, 0.05, (500, n))  # generation noise
    _r, (crossed,) = elicitation_stats(t, ["empty", "prompt"], "m", permutations=99, replicates=noisy)
    assert crossed["interval"].startswith("bootstrap crossing facts")
    assert crossed["estimate"] == facts_only["estimate"]
    assert crossed["ci_high"] - crossed["ci_low"] > facts_only["ci_high"] - facts_only["ci_low"]
    assert 0 < crossed["p_equivalence"] <= 1


def test_empty_only_headline_has_no_beyond_surface_test():
    _r, (head,) = elicitation_stats(table(effect=0.08), ["empty"], "m", permutations=199)
    assert head["statistic"] == "salience_csls_diff" and "p_beyond_surface" not in head
    assert head["p_value"] <= 0.01 and head["verdict"] == "surface-explained"


def test_null_is_not_found():
    p_null = [
        elicitation_stats(table(seed=s), ["empty"], "m", permutations=199, seed=s)[1][0]["p_value"]
        for s in range(20)
    ]
    assert 0.0 < np.mean(np.array(p_null) <= 0.05) <= 0.2
    assert np.mean(p_null) == pytest.approx(0.5, abs=0.2)


def test_adjusted_p_not_below_raw():
    results, _ = elicitation_stats(table(effect=0.02), ["empty", "prompt"], "m", permutations=99)
    tested = results.dropna(subset=["p_value"])
    assert (tested["p_adjusted"] >= tested["p_value"] - 1e-12).all()
    assert (tested["p_value"] >= 1 / 100).all()


def test_nan_facts_left_out():
    t = table()
    t.loc[(t["fact_id"] == "f0") & (t["condition"] == "empty"), ["salience_true", "endorsement"]] = np.nan
    results, _ = elicitation_stats(t, ["empty", "prompt"], "m", permutations=49)
    assert pick(results, "empty", "salience_diff")["n_facts"] == 39
    assert pick(results, "prompt", "delta_salience_diff")["n_facts"] == 39
    assert pick(results, "prompt", "salience_diff")["n_facts"] == 40


def test_bootstrap_inversion_p_and_interval_agree():
    """p ≤ α exactly when the 1 − α interval excludes 0; TOST p ≤ α exactly when the 1 − 2α interval lies
    inside the bounds; on replicates placed all around 0, 2,000 of them and a few."""
    from beliefs.elicit.stats import bootstrap_inversion, bootstrap_tost

    rng = np.random.default_rng(0)
    seen = set()
    for i in range(400):
        n = [1999, 2000, 199, 57][i % 4]
        reps = rng.normal(rng.uniform(-3.5, 3.5), 1.0, n)
        if i % 5 == 0:
            reps = np.round(reps, 1)  # ties, and replicates exactly at 0
        for alpha in (0.05, 0.10):
            p, low, high = bootstrap_inversion(reps, alpha)
            assert low <= np.median(reps) <= high
            assert (p <= alpha) == (low > 0 or high < 0), (i, n, alpha, p, low, high)
            seen.add(p <= alpha)
        bound = abs(rng.normal(2.0, 1.0))
        _p, low90, high90 = bootstrap_inversion(reps, 0.10)
        assert (bootstrap_tost(reps, -bound, bound) <= 0.05) == (-bound < low90 and high90 < bound)
    assert seen == {True, False}
    # the interval is the percentile interval (order statistics), the p the observed-counted share
    reps = rng.normal(0.3, 1.0, 1999)
    p, low, high = bootstrap_inversion(reps)
    assert (low, high) == pytest.approx(tuple(np.percentile(reps, [2.5, 97.5])), abs=0.02)
    assert p == pytest.approx(2 * (1 + np.sum(reps <= 0)) / 2000)
    assert np.isnan(bootstrap_inversion(np.full(5, np.nan))[0])


@pytest.mark.parametrize("crossed", [False, True])
def test_headline_p_and_interval_come_from_one_scheme(crossed):
    """On seeded examples either side of the threshold, the headline's p ≤ 0.05 exactly when its 95%
    interval excludes 0 (and its verdict reads "differs" exactly then)."""

    outcomes = set()
    for seed, rise in enumerate([0.0, 0.004, 0.008, 0.012, 0.02, 0.05]):
        t = table(n=40, seed=seed, rise=rise)
        reps = None
        if crossed:
            rng = np.random.default_rng(seed)
            reps = {
                c: t[t["condition"] == c]["salience_true"].to_numpy()[None, :]
                + rng.normal(0, 0.01, (500, 40))
                for c in ("empty", "prompt")
            }
        _r, (head,) = elicitation_stats(
            t, ["empty", "prompt"], "m", permutations=99, seed=seed, replicates=reps
        )
        excludes = head["ci_low"] > 0 or head["ci_high"] < 0
        assert (head["p_value"] <= 0.05) == excludes, head
        assert head["p_beyond_surface"] == head["p_value"]
        assert (head["verdict"] == "differs") == (head["p_value"] <= 0.05)
        assert head["interval"].startswith("bootstrap crossing" if crossed else "fact bootstrap")
        outcomes.add(excludes)
        lo, hi = head["equivalence_bounds"]
        assert head["p_equivalence"] <= 1 and lo < 0 < hi
    assert outcomes == {True, False}
