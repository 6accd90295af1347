"""A whole study, fact set to report, on the in-process fake models (no download)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from beliefs.cli import app
from beliefs.errors import InvalidInputError
from beliefs.study import load_study
from beliefs.study.runner import run_study

REPO = Path(__file__).parents[2]


def _study(tmp_path: Path, extra: str = "") -> Path:
    facts = tmp_path / "facts.yaml"
    lines = ["schema_version: 1", "name: mini", "facts:"]
    for i in range(12):
        kind = "hinge" if i % 2 == 0 else "contingent"
        domain = "logical" if i < 6 else "physical"
        lines.append(
            f"  - {{id: f{i}, domain: {domain}, kind: {kind}, statement: Statement number {i} holds., "
            f"false_statement: Statement number {i} fails., note: n, "
            f"contexts: {{support: Context for {i} says yes., contradict: Context for {i} says no.}}}}"
        )
    facts.write_text("\n".join(lines) + "\n", encoding="utf-8")
    study = tmp_path / "study.yaml"
    study.write_text(
        "schema_version: 1\nname: mini\nmodels: ['fake:gpt2']\ncontrols: [random-init]\n"
        f"fact_sets: [facts.yaml]\nconditions: {REPO / 'fact_sets' / 'conditions.yaml'}\n"
        "permutations: 49\nseed: 3\nstore: store\nresults: results\n" + extra,
        encoding="utf-8",
    )
    return study


@pytest.mark.slow
def test_study_end_to_end_and_rerun_is_identical(tmp_path: Path) -> None:
    study = _study(tmp_path)
    first = run_study(study)
    results = tmp_path / "results"
    assert (results / "report.md").is_file() and (results / "report.html").is_file()
    assert (results / "tables" / "summary.json").is_file()
    names = {
        m["name"] if isinstance(m, dict) else m
        for m in json.loads((tmp_path / "store" / "manifest.json").read_text())["models"]
    }
    assert any("random-init" in n for n in names)
    tables = {p.name: p.read_bytes() for p in (results / "tables").glob("*.csv")}
    second = run_study(study)
    assert {p.name: p.read_bytes() for p in (results / "tables").glob("*.csv")} == tables
    assert second.summary == first.summary


@pytest.mark.slow
def test_study_cli_prints_summary(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["study", str(_study(tmp_path)), "--no-report"])
    assert result.exit_code == 0, result.output
    assert "kind-probe" in result.output and "tables:" in result.output


def test_bad_study_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "schema_version: 1\nname: x\nmodel: [a]\nfact_sets: []\nconditions: c.yaml\n", encoding="utf-8"
    )
    with pytest.raises(InvalidInputError) as info:
        load_study(bad)
    text = str(info.value)
    assert "unknown field 'model' — did you mean 'models'?" in text
    result = CliRunner().invoke(app, ["study", str(bad)])
    assert result.exit_code == 1 and "bad.yaml:3" in result.output


def test_default_study_file_is_valid() -> None:
    study = load_study(REPO / "analyses" / "default" / "study.yaml")
    assert study.models == ["smollm2-135m", "minilm-l6"] and study.permutations == 2000


@pytest.mark.slow
def test_analyze_and_report_commands_on_a_probed_run(tmp_path: Path) -> None:
    run_study(_study(tmp_path), report=False)
    store = tmp_path / "store"
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "analyze",
            str(store),
            "--permutations",
            "19",
            "--analyses",
            "kind-probe",
            "--analyses",
            "default-belief",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (store / "results" / "kind-probe.csv").is_file()
    result = runner.invoke(app, ["report", str(store)])
    assert result.exit_code == 0, result.output
    assert (store / "results" / "report.html").is_file()
    assert runner.invoke(app, ["report", str(tmp_path)]).exit_code != 0  # not a run: a message, no traceback


@pytest.mark.slow
def test_study_with_two_sets_analyses_each_on_its_own(tmp_path: Path) -> None:
    study = _study(tmp_path)
    second = (tmp_path / "facts.yaml").read_text(encoding="utf-8").replace("name: mini", "name: other")
    second = second.replace("id: f", "id: g").replace("Statement number", "Claim number")
    (tmp_path / "other.yaml").write_text(second, encoding="utf-8")
    text = study.read_text(encoding="utf-8").replace(
        "fact_sets: [facts.yaml]", "fact_sets: [other.yaml, facts.yaml]"
    )
    study.write_text(
        text.replace("seed: 3", "seed: 3\nanalyses: [kind-probe, default-belief]"), encoding="utf-8"
    )
    result = run_study(study)
    assert [p.fact_set for p in result.parts] == ["other", "mini"]
    for name in ("other", "mini"):
        summary = json.loads((tmp_path / "results" / name / "tables" / "summary.json").read_text())
        assert summary["n_facts"] == 12 and summary["fact_set"] == name
        assert (tmp_path / "results" / name / "report.md").is_file()
    assert result.summary == result.parts[0].summary


def test_fingerprint_follows_the_elicitation_salience(tmp_path: Path) -> None:
    from beliefs.study.runner import inputs_fingerprint

    study = load_study(REPO / "analyses" / "default" / "study.yaml")
    manifest: dict[str, object] = {"models": {}, "facts": [], "conditions": []}
    folder = tmp_path / "elicitation"
    none = inputs_fingerprint(manifest, study, folder)
    assert none == inputs_fingerprint(manifest, study)  # no elicitation: as before
    folder.mkdir()
    (folder / "salience.csv").write_text("fact_set,fact_id\na,b\n")
    first = inputs_fingerprint(manifest, study, folder)
    (folder / "salience.csv").write_text("fact_set,fact_id\na,c\n")
    assert len({none, first, inputs_fingerprint(manifest, study, folder)}) == 3


@pytest.mark.slow
def test_study_traces_when_asked_and_reuses_the_trace(tmp_path: Path) -> None:
    """``trace:`` runs causal tracing after probing; each set's causal-trace analysis and report read it;
    a rerun with the same inputs reuses it; other settings change the analyses' fingerprint."""
    from beliefs.store import open_run
    from beliefs.study import load_study as load
    from beliefs.study.runner import inputs_fingerprint
    from beliefs.trace.run import read_trace

    study = _study(tmp_path)
    second = (tmp_path / "facts.yaml").read_text(encoding="utf-8").replace("name: mini", "name: other")
    (tmp_path / "other.yaml").write_text(second.replace("id: f", "id: g"), encoding="utf-8")
    text = study.read_text(encoding="utf-8").replace(
        "fact_sets: [facts.yaml]", "fact_sets: [other.yaml, facts.yaml]"
    )
    study.write_text(
        text.replace("seed: 3", "seed: 3\nanalyses: [causal-trace]")
        + "trace: {noise_seeds: 1, window: 3, stride: 2, min_gap: 0.0}\n",
        encoding="utf-8",
    )
    run_study(study)
    facts, profiles, record = read_trace(tmp_path / "store")  # type: ignore[misc]
    assert set(facts["fact_set"]) == {"mini", "other"} and len(profiles) > 0
    assert record["settings"]["noise_seeds"] == 1 and record["inputs_sha256"]
    for name in ("other", "mini"):
        summary = json.loads((tmp_path / "results" / name / "tables" / "summary.json").read_text())
        heads = [h for h in summary["headlines"] if h["analysis"] == "causal-trace"]
        assert {h["model"] for h in heads} == {"gpt2", "gpt2@random-init"}
        assert all(h["n_traced"] <= 12 for h in heads)
        report = (tmp_path / "results" / name / "report.md").read_text(encoding="utf-8")
        assert "Causal tracing" in report and "causal_trace_heatmap_gpt2_empty.png" in report
    stamp = (tmp_path / "store" / "trace" / "trace.json").stat().st_mtime_ns
    run_study(study)
    assert (tmp_path / "store" / "trace" / "trace.json").stat().st_mtime_ns == stamp
    manifest = open_run(tmp_path / "store").manifest
    before = inputs_fingerprint(manifest, load(study))
    study.write_text(study.read_text(encoding="utf-8").replace("noise_seeds: 1", "noise_seeds: 2"))
    assert inputs_fingerprint(manifest, load(study)) != before
