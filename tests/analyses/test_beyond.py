"""Beyond-surface tests of kind-probe and kind-distance on runs whose states carry only wording, or more."""

import numpy as np
import pandas as pd
import pytest

from beliefs.analyses import analyze
from beliefs.analyses.context import AnalysisContext
from beliefs.rundata import MemoryRun, ModelInfo

WORDS = np.array(
    [
        "stone",
        "river",
        "cloud",
        "seven",
        "prime",
        "earth",
        "moon",
        "water",
        "fire",
        "number",
        "tree",
        "road",
        "hill",
        "lake",
    ]
)
KEYS = ("p_beyond_surface", "p_beyond_lexical", "increment_estimate", "increment_ci_low", "increment_ci_high")


def _run(n=80, effect=0.0, seed=0, matched=False, layers=4, width=16):
    """Kinds drawn with a probability that rises with length; states encode the length (and ``effect``×kind).

    ``matched``: facts come in pairs of opposite kind on one template, with tags."""
    rng = np.random.default_rng(seed)
    n_words = rng.integers(3, 14, n)
    if matched:
        n_words = np.repeat(n_words[: n // 2], 2)
        kinds = np.tile(["hinge", "contingent"], n // 2)
    else:
        zlen = (n_words - n_words.mean()) / n_words.std()
        kinds = np.where(rng.random(n) < 1 / (1 + np.exp(-2.5 * zlen)), "hinge", "contingent")
    statements = [f"s{i} " + " ".join(rng.choice(WORDS, k)) + "." for i, k in enumerate(n_words)]
    facts = pd.DataFrame(
        {
            "fact_set": "toy",
            "fact_id": [f"f{i}" for i in range(n)],
            "domain": np.repeat(["logical", "physical"], n // 2),
            "kind": kinds,
            "statement": statements,
            "false_statement": [s.replace(".", " not.") for s in statements],
        }
    )
    if matched:
        facts["template"] = [f"t{i // 4}" for i in range(n)]
        facts["pair"] = [f"f{i + 1}" if i % 2 == 0 else f"f{i - 1}" for i in range(n)]
        facts["tags"] = [f"topic{i // 8};x" for i in range(n)]
    hinge = (kinds == "hinge").astype(float)
    zlen = (n_words - n_words.mean()) / n_words.std()
    run = MemoryRun([ModelInfo("toy", "st", layers, width)], ["empty"], facts)
    length_dir, kind_dir = rng.standard_normal(width), rng.standard_normal(width)
    latent = (
        rng.standard_normal((n, width))
        + 2.0 * zlen[:, None] * length_dir
        + effect * hinge[:, None] * kind_dir
    )
    for pooling in ("last", "mean"):
        for form in ("true", "false"):
            noise = 0.5 * rng.standard_normal((n, layers, width))
            run.arrays[("toy", "empty", form, pooling)] = (latent[:, None, :] + noise).astype(np.float32)
    return run


def _head(summary, analysis, statistic):
    return next(h for h in summary["headlines"] if h["analysis"] == analysis and h["statistic"] == statistic)


@pytest.fixture(scope="module")
def confounded(tmp_path_factory):
    out = tmp_path_factory.mktemp("confounded")
    return analyze(_run(seed=3), out, ["kind-probe", "kind-distance"], permutations=199, seed=0), out


def test_wording_alone_rejects_plainly_but_not_beyond_surface(confounded):
    summary, _ = confounded
    for stat in ("massmean_bacc",):
        h = _head(summary, "kind-probe", stat)
        assert h["p_value"] <= 0.01 and h["p_beyond_surface"] > 0.05
    for stat in ("energy", "centroid"):
        h = _head(summary, "kind-distance", stat)
        assert h["p_value"] <= 0.01 and h["p_beyond_surface"] > 0.05
    for h in summary["headlines"]:
        if h["domain"]:  # per-domain headlines: their own beyond-surface test, no lexical variant
            assert h["p_beyond_surface"] is not None and h["increment_statistic"]
            assert h["p_beyond_surface_family"] >= h["p_beyond_surface"]
        else:
            assert set(KEYS) <= set(h) and h["increment_statistic"]
    domains = {(h["analysis"], h["statistic"], h["domain"]) for h in summary["headlines"]}
    for analysis, stat in (("kind-probe", "massmean_bacc"), ("kind-distance", "energy")):
        assert {(analysis, stat, d) for d in ("", "logical", "physical")} <= domains


def test_a_kind_signal_beyond_wording_is_found(tmp_path):
    summary = analyze(_run(seed=3, effect=1.5), tmp_path, ["kind-probe", "kind-distance"], permutations=199)
    for analysis, stat in (("kind-probe", "massmean_bacc"), ("kind-distance", "energy")):
        h = _head(summary, analysis, stat)
        assert h["p_beyond_surface"] <= 0.05, h
        assert h["increment_ci_low"] > 0


def test_beyond_surface_rows_are_corrected_like_the_others(confounded):
    _, out = confounded
    table = pd.read_csv(out / "kind-probe.csv")
    inc = table[table["statistic"] == "increment_brier"]
    assert set(inc["subset"]) == {
        "beyond-surface",
        "beyond-lexical",
        "beyond-surface:logical",
        "beyond-surface:physical",
    }
    assert set(inc["layer"]) == {1}  # the middle third of 4 layers
    assert (inc["p_adjusted"] >= inc["p_value"] - 1e-12).all() and inc["p_bh"].notna().all()
    # the per-layer estimate is the tested statistic (row 0 of its null), bands from the fact bootstrap
    mm = table[(table["statistic"] == "massmean_bacc") & (table["subset"] == "pooled")]
    assert (mm["ci_low"] <= mm["estimate"] + 1e-9).all() and (mm["ci_high"] >= mm["estimate"] - 1e-9).all()


def test_matched_sets_use_pairs_templates_and_tags(tmp_path):
    run = _run(seed=4, matched=True, effect=1.5)
    ctx = AnalysisContext(run, permutations=19)
    for folds in ctx.fold_sets:
        assert (folds[0::2] == folds[1::2]).all()  # twins share a fold
    assert ctx.group_kind == "leave-template-out"
    for t in np.unique(ctx.templates):
        assert np.unique(ctx.group_folds[ctx.templates == t]).size == 1
    summary = analyze(run, tmp_path, ["kind-probe", "kind-distance"], permutations=199)
    h = _head(summary, "kind-probe", "massmean_bacc")
    assert h["conditional_strata"] == "pairs"
    assert h["leave_group_folds"] == "leave-template-out"
    assert "p_within_pair" not in h  # no within-pair probe test: it does not hold its size (beyond.py)
    assert h["p_beyond_surface"] <= 0.05
    table = pd.read_csv(tmp_path / "kind-probe.csv")
    assert "leave-template-out" in set(table["subset"])
    assert "within-pair" not in set(table["subset"])


def test_matched_null_without_a_kind_difference(tmp_path):
    summary = analyze(_run(seed=5, matched=True), tmp_path, ["kind-probe"], permutations=199)
    h = _head(summary, "kind-probe", "massmean_bacc")
    assert h["p_beyond_surface"] > 0.05


def test_conditional_permutations_keep_strata_and_are_reproducible():
    from beliefs.analyses.surface import conditional_permutations_for

    run = _run(seed=6)
    a, b = AnalysisContext(run, permutations=49, seed=2), AnalysisContext(run, permutations=49, seed=2)
    model = run.models()[0]
    pa, strata = conditional_permutations_for(a, model)
    pb, _ = conditional_permutations_for(b, model)
    np.testing.assert_array_equal(pa, pb)
    assert strata == "domain x surface bins"
    np.testing.assert_array_equal(pa[0], a.labels)
