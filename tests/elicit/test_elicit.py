import json

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

import beliefs.elicit as elicit_pkg
from beliefs.cli.elicit import elicit_command
from beliefs.elicit import elicit, most_least_volunteered, read_salience
from beliefs.models import load_model
from beliefs.results.columns import RESULT_COLUMNS
from beliefs.results.verdict import VERDICTS
from beliefs.schema import Condition


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


# -- scores are reused when their inputs are unchanged (elicit.json records the inputs' hash) --


class CountingEmbedder:
    """The bag-of-words embedder, counting its calls (a reused score never embeds)."""

    __name__ = "counting-bag-of-words"

    def __init__(self, embed):
        self.embed = embed
        self.calls = 0

    def __call__(self, texts):
        self.calls += 1
        return self.embed(texts)


def _outputs(out):
    return {name: (out / name).read_bytes() for name in ("salience.csv", "elicitation.csv", "elicit.json")}


def _run(model, facts, conditions, out, embedder, **kw):
    args = {"samples": 4, "max_new_tokens": 12, "permutations": 99, **kw}
    return elicit(model, facts, conditions, out, embedder=embedder, **args)


def test_same_inputs_reuse_scores_without_embedding(tmp_path, facts, conditions, embed):
    model = load_model("fake:llama")
    out = tmp_path / "el"
    counting = CountingEmbedder(embed)
    first = _run(model, facts, conditions, out, counting)
    assert counting.calls > 0 and not first.reused_scores
    manifest = json.loads((out / "elicit.json").read_text())
    assert len(manifest["inputs_sha256"]) == 64
    assert set(manifest["outputs_sha256"]) == {"salience.csv", "elicitation.csv"}
    before = _outputs(out)
    counting.calls = 0
    again = _run(model, facts, conditions, out, counting)
    assert counting.calls == 0 and again.reused_scores and again.generated == 0
    assert _outputs(out) == before  # nothing rewritten
    pd.testing.assert_frame_equal(again.salience, first.salience, check_exact=True)
    assert again.results.to_csv(index=False) == first.results.to_csv(index=False)
    assert again.headlines == json.loads(json.dumps(first.headlines, default=str))
    assert again.skipped_conditions == first.skipped_conditions


def _changed_statement(facts):
    (set_name, f0), *rest = facts
    return [(set_name, f0.model_copy(update={"statement": "One plus one makes two."})), *rest]


@pytest.mark.parametrize(
    "change",
    [
        {"k": 2},
        {"permutations": 49},
        {"facts": "statement"},
        {"conditions": "prefix"},
        {"samples": 5},
        {"seed": 1},
        {"embedder": "renamed"},
    ],
    ids=lambda c: next(iter(c)),
)
def test_changed_input_recomputes(tmp_path, facts, conditions, embed, change):
    model = load_model("fake:llama")
    out = tmp_path / "el"
    counting = CountingEmbedder(embed)
    _run(model, facts, conditions, out, counting)
    counting.calls = 0
    kw = dict(change)
    if kw.pop("facts", None):
        facts = _changed_statement(facts)
    if kw.pop("conditions", None):
        conditions = [
            conditions[0],
            Condition(name="city", prefix="The city of Rome is in Italy."),
            conditions[2],
        ]
    if kw.pop("embedder", None):
        counting.__name__ = "another-embedder"
    again = _run(model, facts, conditions, out, counting, **kw)
    assert counting.calls > 0 and not again.reused_scores
    manifest = json.loads((out / "elicit.json").read_text())
    assert (
        manifest["inputs_sha256"] != "" and _run(model, facts, conditions, out, counting, **kw).reused_scores
    )


def test_changed_code_or_damaged_table_recomputes(tmp_path, facts, conditions, embed, monkeypatch):
    model = load_model("fake:llama")
    out = tmp_path / "el"
    counting = CountingEmbedder(embed)
    _run(model, facts, conditions, out, counting)
    before = _outputs(out)
    # a table edited (or half written) after elicit.json was: recomputed and rewritten
    (out / "salience.csv").write_text((out / "salience.csv").read_text().replace("0.", "1.", 1))
    counting.calls = 0
    assert not _run(model, facts, conditions, out, counting).reused_scores and counting.calls > 0
    assert _outputs(out)["salience.csv"] == before["salience.csv"]
    # an elicit.json from before inputs were recorded: recomputed
    manifest = json.loads((out / "elicit.json").read_text())
    del manifest["inputs_sha256"]
    (out / "elicit.json").write_text(json.dumps(manifest))
    assert not _run(model, facts, conditions, out, counting).reused_scores
    # the scoring code changed
    monkeypatch.setattr(elicit_pkg, "sources_sha256", lambda *subs: "another version of the code")
    counting.calls = 0
    assert not _run(model, facts, conditions, out, counting).reused_scores and counting.calls > 0
