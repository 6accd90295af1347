import json

import numpy as np
import pandas as pd
import pytest

from beliefs.analyses import ANALYSES, RESULT_COLUMNS, analyze, register, synthetic_run
from beliefs.errors import UsageError

PERMS = 199


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    run = synthetic_run(n_facts=60, effect=2.0, margin_effect=2.0, surface_effect=1.0, seed=1)
    out = tmp_path_factory.mktemp("planted")
    return analyze(run, out, permutations=PERMS, seed=0), out


@pytest.fixture(scope="module")
def null(tmp_path_factory):
    run = synthetic_run(n_facts=60, effect=0.0, seed=2, random_init_control=True)
    out = tmp_path_factory.mktemp("null")
    return analyze(run, out, analyses=["kind-probe", "kind-distance"], permutations=PERMS, seed=0), out


def _head(summary, analysis, condition="empty", statistic=None, model="toy"):
    for h in summary["headlines"]:
        same = h["analysis"] == analysis and h["condition"] == condition and h["model"] == model
        if same and (statistic is None or h["statistic"] == statistic):
            return h
    raise KeyError(analysis)


def test_registry_rejects_duplicates():
    assert set(ANALYSES) == {
        "surface",
        "kind-probe",
        "kind-distance",
        "default-belief",
        "robustness",
        "truth-geometry",
        "causal-trace",
        "hingeness",
        "ripple",
    }
    with pytest.raises(ValueError, match="already registered"):
        register("surface")(lambda ctx: None)


@pytest.mark.slow
def test_planted_difference_is_found(planted):
    summary, _ = planted
    assert _head(summary, "kind-probe")["p_value"] <= 0.01
    assert _head(summary, "kind-distance", statistic="energy")["p_value"] <= 0.01
    assert _head(summary, "kind-distance", statistic="centroid")["p_value"] <= 0.01
    assert _head(summary, "default-belief")["p_value"] <= 0.01
    assert _head(summary, "kind-probe")["surface_confound"] is True


@pytest.mark.slow
def test_random_labels_are_not_significant(null):
    summary, _ = null
    for h in summary["headlines"]:
        if h["condition"] == "empty":
            assert h["p_value"] > 0.05, h
    assert "random_init_p_value" in _head(summary, "kind-probe")


@pytest.mark.slow
def test_tables_have_stable_columns_and_counts(planted):
    summary, out = planted
    for name in ANALYSES:
        table = pd.read_csv(out / f"{name}.csv")
        assert tuple(table.columns) == RESULT_COLUMNS
        assert table["n_facts"].notna().all() and table["n_permutations"].notna().all()
        tested = table[table["p_value"].notna() & (table["n_permutations"] > 0)]
        assert (tested["p_value"] >= 1 / (PERMS + 1) - 1e-12).all()
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk["headlines"] == summary["headlines"]
    keys = [
        (h["analysis"], h["model"], h["condition"], h["statistic"], h["domain"]) for h in summary["headlines"]
    ]
    assert len(keys) == len(set(keys))
    for h in summary["headlines"]:
        assert {"estimate", "p_value", "n_facts", "n_permutations"} <= set(h)
        # the within-domain probe keeps no per-fact correctness: its per-domain headline has no plain interval
        if not (h["analysis"] == "kind-probe" and h["domain"]):
            assert {"ci_low", "ci_high"} <= set(h)


@pytest.mark.slow
def test_layer_families_are_adjusted(planted):
    _, out = planted
    table = pd.read_csv(out / "kind-distance.csv")
    assert (table["p_adjusted"] >= table["p_value"] - 1e-12).all()
    assert table["p_bh"].notna().all()


@pytest.mark.slow
def test_encoder_without_margins(tmp_path):
    run = synthetic_run(n_facts=24, models=(("enc", "st", 4, 8),), conditions=("empty", "fiction"), seed=3)
    summary = analyze(run, tmp_path, permutations=49)
    analyses = {h["analysis"] for h in summary["headlines"]}
    assert "default-belief" not in analyses and {"kind-probe", "robustness", "surface"} <= analyses


def test_unknown_analysis_raises(tmp_path):
    run = synthetic_run(n_facts=24, seed=0)
    with pytest.raises(UsageError, match="unknown analysis"):
        analyze(run, tmp_path, analyses=["nope"])


@pytest.mark.slow
def test_nan_absent_facts_are_left_out(planted):
    _, out = planted
    table = pd.read_csv(out / "kind-distance.csv")
    support = table[table["condition"] == "support"]["n_facts"].iloc[0]
    empty = table[table["condition"] == "empty"]["n_facts"].iloc[0]
    assert support < empty
    assert np.isfinite(table["estimate"]).all()


@pytest.mark.slow
def test_every_headline_has_a_verdict(planted):
    from beliefs.results.verdict import VERDICTS

    summary, _ = planted
    assert summary["verdict_definition"].startswith("differs:")
    for h in summary["headlines"]:
        assert h["verdict"] in VERDICTS, h
        assert {"sesoi", "p_equivalence", "mde_80"} <= set(h), h
    # the margins differ by planted kind, and no surface covariate explains it
    margin = _head(summary, "default-belief")
    assert margin["statistic"] == "margin_per_token_diff" and margin["p_beyond_surface"] <= 0.05
    assert margin["verdict"] == "differs" and margin["mde_80"] > 0
    # kind probe: found, but no beyond-surface key (yet) reads surface-explained
    probe = _head(summary, "kind-probe")
    if probe.get("p_beyond_surface") is None:
        assert probe["verdict"] == "surface-explained"
    truth = _head(summary, "truth-geometry")
    assert truth["statistic"] == "truth_direction_angle" and truth["sesoi"] == 10.0
    assert {h["statistic"] for h in summary["headlines"] if h["analysis"] == "robustness"} == {
        "shift_cliffs_delta",
        "delta_margin_per_token_diff",
    }
