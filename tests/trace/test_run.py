"""``trace_run`` on a probed fake run, the ``causal-trace`` analysis, and ``beliefs trace``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from beliefs.analyses import analyze
from beliefs.cli import app
from beliefs.errors import UsageError
from beliefs.results.columns import RESULT_COLUMNS
from beliefs.store import open_run
from beliefs.trace.run import FACT_COLUMNS, PROFILE_COLUMNS, read_trace, trace_run


@pytest.fixture(scope="module")
def traced(fake_run):
    result = trace_run(fake_run, conditions=["empty"], noise_seeds=2, window=3, stride=1, min_gap=0.1)
    return fake_run, result


def test_trace_files_and_untraceable_facts(traced, trace_facts):
    run, _ = traced
    facts, profiles, record = read_trace(run)
    assert list(facts.columns) == list(FACT_COLUMNS) and list(profiles.columns) == list(PROFILE_COLUMNS)
    # every fact of every causal model is there, traced or with its reason
    assert len(facts) == 2 * len(trace_facts)
    assert set(facts["model"]) == {"llama", "llama@random-init"}
    un = facts[facts["status"] == "untraceable"]
    assert (un["reason"] != "").all()
    assert "differs-at-first-token" in set(un["reason"])  # canberra/sydney
    assert set(facts.loc[facts["fact_id"] == "canberra", "reason"]) == {"differs-at-first-token"}
    traced_ids = facts.loc[facts["status"] == "traced", ["model", "fact_id"]]
    assert len(traced_ids) > 0
    n_plan = record["models"]["llama"]["n_restorations"]
    per_fact = profiles.groupby(["model", "fact_id"]).size()
    assert (per_fact == n_plan).all()
    assert len(per_fact) == len(traced_ids)
    assert record["settings"]["noise_seeds"] == 2 and record["schema_version"] == 1
    # the fraction is what its definition says
    f = facts.set_index(["model", "fact_id"])
    p = profiles.iloc[0]
    g = f.loc[(p["model"], p["fact_id"])]
    assert p["fraction"] == pytest.approx(
        (p["margin"] - g["corrupt_margin"]) / (g["clean_margin"] - g["corrupt_margin"])
    )


def test_clean_traced_margin_equals_the_probed_margin(traced):
    """The shared tokens score the same in both forms, so the traced margin is the whole margin that
    ``probe`` stored (computed by the extractor, prefix-cached, independently of the tracer)."""
    run, result = traced
    margins = open_run(run).margins()
    probed = margins[margins["condition"] == "empty"].set_index(["model", "fact_id"])["margin"]
    facts = result.facts[result.facts["clean_margin"].notna()].set_index(["model", "fact_id"])
    assert len(facts) > 10
    np.testing.assert_allclose(facts["clean_margin"], probed.reindex(facts.index), atol=2e-3)


def test_causal_trace_analysis(traced, tmp_path):
    run, _ = traced
    summary = analyze(open_run(run), tmp_path, analyses=["causal-trace"], permutations=99)
    table = pd.read_csv(tmp_path / "causal-trace.csv")
    assert list(table.columns) == list(RESULT_COLUMNS)
    diffs = table[table["statistic"] == "recovery_diff"]
    assert len(diffs) and diffs["p_adjusted"].notna().all()
    assert (diffs["p_adjusted"] >= diffs["p_value"] - 1e-12).all()
    heads = [h for h in summary["headlines"] if h["analysis"] == "causal-trace"]
    assert {h["model"] for h in heads} == {"llama", "llama@random-init"}
    for h in heads:
        for key in ("estimate", "ci_low", "ci_high", "p_value", "n_facts", "n_permutations", "statistic"):
            assert key in h
        assert "p_beyond_surface" in h and "untraceable" in h
    counts = table[table["statistic"].str.startswith("n_untraceable")]
    assert counts["estimate"].sum() >= 2  # canberra for each model at least
    json.dumps(summary)


def test_analysis_without_trace_is_empty(fake_run, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(fake_run, copy, ignore=shutil.ignore_patterns("trace"))
    summary = analyze(open_run(copy), tmp_path / "res", analyses=["causal-trace"], permutations=9)
    assert summary["headlines"] == []


def test_errors_are_messages(fake_run):
    with pytest.raises(UsageError, match="condition nope"):
        trace_run(fake_run, conditions=["nope"])
    with pytest.raises(UsageError, match="model other"):
        trace_run(fake_run, models=["other"])
    result = CliRunner().invoke(app, ["trace", str(fake_run), "--conditions", "nope"])
    assert result.exit_code == 2 and "condition nope" in result.output


def test_cli_traces_one_model(fake_run, tmp_path):
    import shutil

    copy = tmp_path / "cli"
    shutil.copytree(fake_run, copy, ignore=shutil.ignore_patterns("trace"))
    result = CliRunner().invoke(
        app,
        [
            "trace",
            str(copy),
            "-m",
            "llama",
            "-c",
            "city",
            "--noise-seeds",
            "1",
            "-l",
            "0",
            "-l",
            "2",
            "--window",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "traced" in result.output
    facts, profiles, _ = read_trace(copy)
    assert set(facts["model"]) == {"llama"} and set(facts["condition"]) == {"city"}
    assert set(profiles["layer"]) <= {0, 2}
    assert np.isfinite(profiles["fraction"]).all()


def test_figures(traced, tmp_path):
    from beliefs.trace.figures import kind_means, trace_figures

    run, result = traced
    paths = trace_figures(run, tmp_path, statements=["I am currently on Earth.", "101 is a prime number."])
    names = {p.name for p in paths}
    assert "causal_trace_heatmap_llama_empty.png" in names
    assert all(p.stat().st_size > 1000 for p in paths)
    means = kind_means(result.profiles[result.profiles["model"] == "llama"])
    sub = result.profiles[(result.profiles["model"] == "llama") & (result.profiles["kind"] == "hinge")]
    cell = sub[(sub["component"] == "mlp") & (sub["position"] == "last") & (sub["layer"] == 1)][
        "fraction"
    ].mean()
    assert means["hinge"]["mlp"][1, 1] == pytest.approx(cell)
    np.testing.assert_allclose(
        means["difference"]["state"], means["hinge"]["state"] - means["contingent"]["state"]
    )
