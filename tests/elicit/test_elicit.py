import json

import pandas as pd
import typer
from typer.testing import CliRunner

import beliefs.elicit as elicit_pkg
from beliefs.cli.elicit import elicit_command
from beliefs.elicit import elicit, most_least_volunteered, read_salience
from beliefs.models import load_model
from beliefs.results.columns import RESULT_COLUMNS
from beliefs.results.verdict import VERDICTS


def test_end_to_end_files_and_resume(tmp_path, facts, conditions, embed):
    model = load_model("fake:llama")
    out = tmp_path / "el"
    result = elicit(
        model, facts, conditions, out, samples=4, max_new_tokens=12, embedder=embed, permutations=99
    )
    assert result.skipped_conditions == ["support"]
    assert result.generated == 8
    for name in ("samples.jsonl", "salience.csv", "elicitation.csv", "elicit.json"):
        assert (out / name).is_file()
    lines = [json.loads(x) for x in (out / "samples.jsonl").read_text().splitlines()]
    assert {(r["condition"], r["sample"]) for r in lines} == {
        (c, i) for c in ("empty", "city") for i in range(4)
    }
    sal = read_salience(out)
    assert len(sal) == len(facts) * 2
    assert {
        "fact_set",
        "fact_id",
        "domain",
        "kind",
        "condition",
        "salience_true",
        "salience_false",
        "endorsement",
        "nearest_true",
    } <= set(sal.columns)
    table = pd.read_csv(out / "elicitation.csv")
    assert list(table.columns) == list(RESULT_COLUMNS)
    (head,) = result.headlines
    assert head["statistic"] == "salience_contrast_diff" and head["detailed_conditions"] == ["city"]
    assert head["interval"].startswith("bootstrap crossing facts") and head["verdict"] in VERDICTS
    assert {"salience_csls_true", "salience_csls_false"} <= set(sal.columns)
    manifest = json.loads((out / "elicit.json").read_text())
    assert manifest["schema_version"] == 1 and manifest["skipped_conditions"] == ["support"]
    assert manifest["settings"]["samples"] == 4

    again = elicit(
        model, facts, conditions, out, samples=4, max_new_tokens=12, embedder=embed, permutations=99
    )
    assert again.generated == 0
    assert again.samples["text"].tolist() == result.samples["text"].tolist()
    pd.testing.assert_frame_equal(again.salience, result.salience)
    assert len(most_least_volunteered(sal, k=1)) == 8


def test_needs_empty_condition(tmp_path, facts, conditions, embed):
    import pytest

    from beliefs.errors import UsageError

    with pytest.raises(UsageError, match="empty"):
        elicit(load_model("fake:llama"), facts, conditions[1:], tmp_path, samples=1, embedder=embed)


def test_cli(tmp_path, monkeypatch, embed):
    monkeypatch.setattr(elicit_pkg, "sentence_embedder", lambda name: embed)
    facts = tmp_path / "core.yaml"
    facts.write_text(
        "schema_version: 1\nname: core\nfacts:\n"
        + "".join(
            f"  - id: f{i}\n    domain: {'logical' if i % 2 else 'physical'}\n"
            f"    kind: {'hinge' if i % 4 < 2 else 'contingent'}\n"
            f"    statement: Statement number {i} is true.\n    false_statement: Statement number {i} is false.\n"
            f"    note: n\n"
            for i in range(8)
        )
    )
    conds = tmp_path / "conditions.yaml"
    conds.write_text(
        '- name: empty\n  prefix: ""\n- name: enc\n  prefix: "From the encyclopedia:"\n'
        "- name: support\n  context: support\n"
    )
    app = typer.Typer()
    app.command()(elicit_command)
    args = [
        "--model",
        "fake:gpt2",
        "--facts",
        str(facts),
        "--conditions",
        str(conds),
        "--out",
        str(tmp_path / "o"),
        "--samples",
        "3",
        "--max-new-tokens",
        "8",
        "--permutations",
        "49",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "skipped (per-fact contexts): support" in result.output
    assert "empty: salience_contrast_diff" in result.output
    assert (tmp_path / "o" / "elicitation.csv").is_file()
    bad = CliRunner().invoke(app, [*args[:-4], "--samples", "0"])
    assert bad.exit_code == 2 and "samples should be at least 1" in bad.output
