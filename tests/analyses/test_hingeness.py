"""``hingeness``: per-fact scores, their agreement with the labels, and the partial RSA."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from beliefs.analyses import AnalysisContext, synthetic_run
from beliefs.analyses.hingeness import (
    _auroc_null,
    _domain_perms,
    general_conditions,
    hingeness,
    index_of,
    rsa_null,
)


def _run(margin_effect: float = 0.0, seed: int = 0):
    return synthetic_run(
        n_facts=60,
        conditions=("empty", "encyclopedia", "fiction", "support", "contradict"),
        margin_effect=margin_effect,
        random_init_control=True,
        absent_share=0.0,
        seed=seed,
    )


def test_general_conditions_leave_out_empty_and_contexts() -> None:
    assert general_conditions(["empty", "fiction", "support", "contradict", "spacecraft"]) == [
        "fiction",
        "spacecraft",
    ]


def test_auroc_null_matches_sklearn_with_ties() -> None:
    rng = np.random.default_rng(1)
    values = np.round(rng.normal(size=40), 1)  # ties
    labels = rng.integers(0, 2, size=40)
    perms = np.vstack([labels, rng.permutation(labels)])
    null = _auroc_null(values, perms, np.ones(40, bool))
    assert null[0] == pytest.approx(roc_auc_score(labels, values))
    assert null[1] == pytest.approx(roc_auc_score(perms[1], values))


def test_domain_perms_stay_within_domain() -> None:
    domains = np.array(["a"] * 5 + ["b"] * 7)
    idx = _domain_perms(domains, 50, seed=3)
    assert (idx[0] == np.arange(12)).all()
    assert (domains[idx] == domains).all()
    assert all(sorted(r) == list(range(12)) for r in idx)


def test_index_is_mean_of_zscores() -> None:
    a = np.array([1.0, 2.0, 3.0, np.nan])
    b = np.array([3.0, 1.0, 2.0, 5.0])
    z = lambda v: (v - np.nanmean(v)) / np.nanstd(v)  # noqa: E731
    got = index_of({"a": a, "b": b})
    assert got[:3] == pytest.approx((z(a)[:3] + z(b)[:3]) / 2)
    assert got[3] == pytest.approx(z(b)[3])


def test_rsa_null_equals_partial_correlation_by_regression() -> None:
    rng = np.random.default_rng(2)
    n_pairs = 300
    cov = rng.normal(size=(n_pairs, 2))
    layers = [rng.normal(size=n_pairs) + cov[:, 0] for _ in range(3)]
    models = rng.normal(size=(n_pairs, 4)) + cov[:, [1]]
    got = rsa_null(layers, models, cov)
    design = np.column_stack([np.ones(n_pairs), cov])

    def resid(v: np.ndarray) -> np.ndarray:
        beta, *_ = np.linalg.lstsq(design, v, rcond=None)
        return v - design @ beta

    for k in range(4):
        for layer in range(3):
            want = np.corrcoef(resid(layers[layer]), resid(models[:, k]))[0, 1]
            assert got[k, layer] == pytest.approx(want, abs=1e-10)


def test_planted_empty_prompt_preference_is_found() -> None:
    run = _run()
    m = run.margin_table
    hinge_empty = (m["kind"] == "hinge") & (m["condition"] == "empty") & (m["model"] == "toy")
    m.loc[hinge_empty, "logp_true"] += 1.5 * m.loc[hinge_empty, "n_tokens_true"]
    ctx = AnalysisContext(run, permutations=99, seed=0)
    out = hingeness(ctx)
    facts = out.tables["hingeness_facts"]
    assert set(facts.columns) >= {"model", "fact_id", "kind", "default", "entrenchment", "prior", "hingeness"}
    assert len(facts) == 120  # the model and its random-init control, one row per fact each
    heads = [h for h in out.headlines if h["statistic"] == "hingeness_auroc"]
    model = next(h for h in heads if h["model"] == "toy")
    control = next(h for h in heads if h["model"] == "toy@random-init")
    assert model["estimate"] > 0.9 and model["p_value"] <= 0.02
    assert control["p_value"] > 0.01
    table = pd.DataFrame(out.rows)
    heads = {h["statistic"]: h for h in out.headlines}
    assert {"hingeness_auroc", "rsa_hingeness", "rsa_kind"} <= set(heads)
    rsa = table[table["statistic"] == "rsa_kind"]
    assert rsa["p_adjusted"].notna().all()
    assert (rsa["p_adjusted"] >= rsa["p_value"] - 1e-12).all()


def test_no_effect_gives_chance_agreement() -> None:
    ps = []
    for seed in range(4):
        ctx = AnalysisContext(_run(seed=seed), permutations=99, seed=seed)
        head = next(h for h in hingeness(ctx).headlines if h["statistic"] == "hingeness_auroc")
        ps.append(head["p_value"])
        assert 0.2 < head["estimate"] < 0.8
    assert max(ps) > 0.05
