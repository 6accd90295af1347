"""Facts without a context are left out of that condition's analyses, counted; a condition with too few
facts for the statistics is left out with a message (instead of "1 is not in list" in the kind analyses)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from beliefs.analyses import analyze, synthetic_run
from beliefs.cli import app
from beliefs.extract import probe
from beliefs.schema import Condition, Contexts, Fact


def facts(n: int, with_context) -> list:
    return [
        (
            "core",
            Fact(
                id=f"f{i}",
                domain="physical" if i % 2 else "logical",
                kind="hinge" if (i // 2) % 2 else "contingent",
                statement=f"The city {i} is in France.",
                false_statement=f"The city {i} is on the Moon.",
                contexts=Contexts(support=f"Story {i}: we are on Earth.") if with_context(i) else None,
            ),
        )
        for i in range(n)
    ]


CONDITIONS = [Condition(name="empty", prefix=""), Condition(name="support", context="support")]


@pytest.mark.slow
def test_no_fact_has_the_context(tmp_path):
    probe("fake:llama", facts(8, lambda i: False), CONDITIONS, tmp_path / "run")
    result = CliRunner().invoke(app, ["analyze", str(tmp_path / "run"), "--permutations", "9"])
    assert result.exit_code == 0, result.output
    assert "condition 'support' left out: 0 of 8 facts have a prompt in it" in result.output
    summary = json.loads((tmp_path / "run" / "results" / "summary.json").read_text())
    assert {h["condition"] for h in summary["headlines"]} == {"empty"}
    assert "support" in summary["conditions_left_out"]


def test_some_facts_have_the_context(tmp_path):
    run = probe("fake:llama", facts(16, lambda i: i < 8), CONDITIONS, tmp_path / "run")
    summary = analyze(run, tmp_path / "out", analyses=["kind-probe"], permutations=9)
    n = {h["condition"]: h["n_facts"] for h in summary["headlines"] if not h.get("domain")}
    assert n == {"empty": 16, "support": 8}
    assert "conditions_left_out" not in summary


def test_kind_probe_with_a_domain_absent_from_a_condition(tmp_path):
    """kind-probe: the cross-domain transfer is skipped where one domain has no prompt (was "1 is not in list")."""
    run = synthetic_run(n_facts=24, conditions=("empty", "support"), absent_share=0.0, seed=2)
    physical = run.fact_table["domain"].to_numpy() == "physical"
    for key, states in run.arrays.items():
        if key[1] == "support":
            states = states.copy()
            states[physical] = np.nan
            run.arrays[key] = states
    summary = analyze(run, tmp_path / "out", analyses=["kind-probe"], permutations=9)
    support = [h for h in summary["headlines"] if h["condition"] == "support"]
    assert support and all(h["n_facts"] == int((~physical).sum()) for h in support)
