"""``hingeness``: per-fact scores, their agreement with the labels, and the partial RSA."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from beliefs.analyses import AnalysisContext, synthetic_run
from beliefs.analyses.hingeness import (
    _domain_perms,
    auroc_null,
    extremes,
    general_conditions,
    hingeness,
    index_of,
    r2_null,
    rsa_null,
)
from beliefs.cli.study import hingeness_lines
from beliefs.errors import InvalidInputError
from beliefs.stats.increment import PROBE_RIDGE, IncrementalProbe


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
    null = auroc_null(values, perms, np.ones(40, bool))
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


@pytest.mark.slow
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
    assert {"hingeness_auroc", "rsa_hingeness", "rsa_kind", "readout_r2"} <= {
        h["statistic"] for h in out.headlines
    }
    rsa = table[table["statistic"] == "rsa_kind"]
    assert rsa["p_adjusted"].notna().all()
    assert (rsa["p_adjusted"] >= rsa["p_value"] - 1e-12).all()


@pytest.mark.slow
def test_no_effect_gives_chance_agreement() -> None:
    ps = []
    for seed in range(4):
        ctx = AnalysisContext(_run(seed=seed), permutations=99, seed=seed)
        head = next(h for h in hingeness(ctx).headlines if h["statistic"] == "hingeness_auroc")
        ps.append(head["p_value"])
        assert 0.2 < head["estimate"] < 0.8
    assert max(ps) > 0.05


def _plant_empty_preference(run, model: str = "toy", per_token: float = 1.5) -> None:
    m = run.margin_table
    sel = (m["kind"] == "hinge") & (m["condition"] == "empty") & (m["model"] == model)
    m.loc[sel, "logp_true"] += per_token * m.loc[sel, "n_tokens_true"]


def test_contrast_index_removes_what_the_control_shares() -> None:
    run = _run()
    m = run.margin_table
    rng = np.random.default_rng(5)
    shared = pd.Series(rng.normal(0, 2, 60), index=[f"fact-{i}" for i in range(60)])
    empty = m["condition"] == "empty"  # the same per-fact shift in the model and its control: the tokens
    m.loc[empty, "logp_true"] += shared[m.loc[empty, "fact_id"]].to_numpy() * m.loc[empty, "n_tokens_true"]
    out = hingeness(AnalysisContext(run, permutations=49, seed=0))
    toy = out.tables["hingeness_facts"].query("model == 'toy'")
    x = shared[toy["fact_id"]].to_numpy()
    assert np.corrcoef(toy["hingeness_model"], x)[0, 1] > 0.8
    assert abs(np.corrcoef(toy["hingeness"], x)[0, 1]) < 0.3
    assert toy["hingeness"].to_numpy() == pytest.approx(toy["hingeness_contrast"].to_numpy())
    head = next(h for h in out.headlines if h["statistic"] == "hingeness_auroc" and h["model"] == "toy")
    assert head["index"] == "contrast"
    assert head["reliability_index_model"] > 0.8 and head["reliability_index_control"] > 0.8
    assert head["reliability_index_contrast"] < head["reliability_index_model"]


def _write_elicitation(
    folder, facts: pd.DataFrame, model: str, values: dict, noise: float, seed: int = 0
) -> None:
    rng = np.random.default_rng(seed)
    rows = []
    for cond, v in values.items():
        for i, f in enumerate(facts.itertuples()):
            rows.append(
                {
                    "fact_set": f.fact_set,
                    "fact_id": f.fact_id,
                    "domain": f.domain,
                    "kind": f.kind,
                    "condition": cond,
                    "salience_csls_true": v[i],
                    "salience_csls_true_half1": v[i] + rng.normal(0, noise),
                    "salience_csls_true_half2": v[i] + rng.normal(0, noise),
                }
            )
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(folder / "salience.csv", index=False)
    (folder / "elicit.json").write_text(json.dumps({"model": model}))


def test_salience_comes_from_the_stored_elicitation(tmp_path) -> None:
    run = _run()
    ctx = AnalysisContext(run, permutations=49, seed=0)
    rng = np.random.default_rng(3)
    values = {c: rng.normal(size=ctx.n_facts) for c in ("empty", "encyclopedia", "fiction")}
    _write_elicitation(tmp_path / "elicitation", ctx.facts, "toy", values, noise=0.5)
    ctx.elicitation_dir = tmp_path / "elicitation"
    out = hingeness(ctx)
    table = out.tables["hingeness_facts"]
    toy = table.query("model == 'toy'")
    want = values["empty"] - (values["encyclopedia"] + values["fiction"]) / 2
    assert toy["salience"].to_numpy() == pytest.approx(want)
    assert table.query("model != 'toy'")["salience"].isna().all()  # elicited for the model only
    rows = pd.DataFrame(out.rows)
    rel = rows[(rows["statistic"] == "reliability_salience_samples") & (rows["model"] == "toy")]
    # halves = value + N(0, 0.5²) on each of three conditions: the contrast's noise variance is 0.375
    # against a signal variance of 1.5, so the stepped-up reliability is about 0.89
    assert len(rel) == 1 and 0.75 < rel["estimate"].iloc[0] < 0.97
    head = next(h for h in out.headlines if h["statistic"] == "hingeness_auroc" and h["model"] == "toy")
    assert "salience" in head["components"] and head["salience_in_index"]


def test_salience_that_does_not_replicate_stays_out_of_the_index(tmp_path) -> None:
    run = _run()
    ctx = AnalysisContext(run, permutations=19, seed=0)
    rng = np.random.default_rng(3)
    values = {c: rng.normal(size=ctx.n_facts) for c in ("empty", "encyclopedia", "fiction")}
    _write_elicitation(tmp_path / "elicitation", ctx.facts, "toy", values, noise=5.0)
    ctx.elicitation_dir = tmp_path / "elicitation"
    out = hingeness(ctx)
    toy = out.tables["hingeness_facts"].query("model == 'toy'")
    assert toy["salience"].notna().all()  # reported
    head = next(h for h in out.headlines if h["statistic"] == "hingeness_auroc" and h["model"] == "toy")
    assert "salience" not in head["components"] and not head["salience_in_index"]
    assert head["reliability_salience_samples"] < 0.5
    assert "salience_auroc" in set(pd.DataFrame(out.rows)["statistic"])


def test_no_elicitation_leaves_salience_out(tmp_path) -> None:
    ctx = AnalysisContext(_run(), permutations=19, seed=0)
    ctx.elicitation_dir = tmp_path / "absent"
    out = hingeness(ctx)
    assert out.tables["hingeness_facts"]["salience"].isna().all()
    head = next(h for h in out.headlines if h["statistic"] == "hingeness_auroc")
    assert "salience" not in head["components"]


def test_malformed_salience_is_a_clear_error(tmp_path) -> None:
    ctx = AnalysisContext(_run(), permutations=19, seed=0)
    folder = tmp_path / "elicitation"
    folder.mkdir()
    (folder / "salience.csv").write_text("fact_set,fact_id\nsynthetic,fact-0\n")
    (folder / "elicit.json").write_text(json.dumps({"model": "toy"}))
    ctx.elicitation_dir = folder
    with pytest.raises(InvalidInputError, match=r"salience\.csv: missing column"):
        hingeness(ctx)


def test_ridge_operator_r2_matches_sklearn() -> None:
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(4)
    x = rng.normal(size=(50, 8))
    y = x @ rng.normal(size=8) + rng.normal(size=50)
    folds = np.arange(50) % 5
    probe = IncrementalProbe(x @ x.T, folds, np.zeros((1, 50), np.int8))
    pred = np.empty(50)
    for f in range(5):
        te = folds == f
        pred[te] = Ridge(alpha=PROBE_RIDGE * (~te).sum()).fit(x[~te], y[~te]).predict(x[te])
    want = 1 - ((y - pred) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    assert r2_null(probe.operator(x @ x.T), y[None, :])[0] == pytest.approx(want)


def test_readout_finds_hingeness_the_states_carry() -> None:
    run = synthetic_run(
        n_facts=60,
        conditions=("empty", "encyclopedia", "fiction", "support", "contradict"),
        effect=3.0,
        random_init_control=True,
        absent_share=0.0,
        seed=1,
    )
    _plant_empty_preference(run)
    out = hingeness(AnalysisContext(run, permutations=99, seed=0))
    heads = {(h["model"], h["statistic"]): h for h in out.headlines}
    model, control = heads[("toy", "readout_r2")], heads[("toy@random-init", "readout_r2")]
    assert model["estimate"] > 0.2 and model["p_value"] <= 0.02
    assert model["p_beyond_surface"] <= 0.05 and "increment_estimate" not in model  # beyond by construction
    assert model["model_index_r2"] > 0.2 and model["model_index_p_beyond_surface"] <= 0.05
    assert control["p_value"] > 0.01 and control["increment_statistic"] == "delta_r2"
    assert "transfer_r2" in model
    rows = pd.DataFrame(out.rows)
    per_layer = rows[rows["statistic"] == "readout_r2"]
    assert (
        per_layer["layer"].notna().all() and (per_layer["p_adjusted"] >= per_layer["p_value"] - 1e-12).all()
    )


def test_extremes_and_terminal_lines_name_the_facts() -> None:
    table = pd.DataFrame(
        {
            "fact_id": list("abcdef"),
            "kind": ["hinge", "contingent"] * 3,
            "hingeness": [3, 2, 1, np.nan, -1, -2],
        }
    )
    top, bottom = extremes(table, k=2)
    assert top == ["a (hinge)", "b (contingent)"] and bottom == ["f (contingent)", "e (hinge)"]
    lines = hingeness_lines(
        [
            {
                "analysis": "hingeness",
                "statistic": "hingeness_auroc",
                "model": "m",
                "index": "contrast",
                "top_facts": top,
                "bottom_facts": bottom,
                "reliability_index_model": 0.9,
                "reliability_index_control": 0.8,
                "reliability_index_contrast": 0.3,
            }
        ]
    )
    assert "a (hinge)" in lines[0] and "f (contingent)" in lines[1] and "contrast 0.3" in lines[2]
