"""A study checks its arguments and folders before probing; it may list elicitation among its analyses."""

from __future__ import annotations

from pathlib import Path

import pytest

from beliefs.errors import InvalidInputError, UsageError
from beliefs.study.runner import run_study

REPO = Path(__file__).parents[2]


def _study(tmp_path: Path, extra: str = "") -> Path:
    """Twelve facts with contexts on fake:gpt2 (as in test_study.py)."""
    lines = ["schema_version: 1", "name: mini", "facts:"]
    for i in range(12):
        kind = "hinge" if i % 2 == 0 else "contingent"
        domain = "logical" if i < 6 else "physical"
        lines.append(
            f"  - {{id: f{i}, domain: {domain}, kind: {kind}, statement: Statement number {i} holds., "
            f"false_statement: Statement number {i} fails., note: n, "
            f"contexts: {{support: Context for {i} says yes., contradict: Context for {i} says no.}}}}"
        )
    (tmp_path / "facts.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    study = tmp_path / "study.yaml"
    study.write_text(
        "schema_version: 1\nname: mini\nmodels: ['fake:gpt2']\ncontrols: [random-init]\n"
        f"fact_sets: [facts.yaml]\nconditions: {REPO / 'fact_sets' / 'conditions.yaml'}\n"
        "permutations: 49\nseed: 3\nstore: store\nresults: results\n" + extra,
        encoding="utf-8",
    )
    return study


@pytest.fixture
def no_probe(monkeypatch):
    import beliefs.extract as extract

    def refuse(*_a, **_k):
        raise AssertionError("probed before the study's arguments were checked")

    monkeypatch.setattr(extract, "probe", refuse)


def test_huge_seed_is_refused_before_probing(tmp_path: Path, no_probe) -> None:
    study = _study(tmp_path)
    study.write_text(study.read_text().replace("seed: 3", f"seed: {10**23}"))
    with pytest.raises(InvalidInputError, match="seed"):
        run_study(study)


def test_unknown_analysis_is_refused_before_probing(tmp_path: Path, no_probe) -> None:
    with pytest.raises(UsageError, match="unknown analysis nope"):
        run_study(_study(tmp_path, "analyses: [elicitation, nope]\n"))


def test_store_that_is_not_a_run_is_refused(tmp_path: Path, no_probe) -> None:
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "notes.txt").write_text("mine")
    with pytest.raises(
        UsageError,
        match=r"store .* is not empty and not a beliefs run \(no manifest\.json\): it holds notes\.txt",
    ):
        run_study(_study(tmp_path))


def test_results_that_are_not_ours_are_refused(tmp_path: Path, no_probe) -> None:
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "report.md").write_text("mine")
    with pytest.raises(UsageError, match=r"results .* not a beliefs results folder"):
        run_study(_study(tmp_path))
    assert (tmp_path / "results" / "report.md").read_text() == "mine"


def test_results_beside_the_study_file_are_allowed(tmp_path: Path, no_probe) -> None:
    study = _study(tmp_path)
    study.write_text(study.read_text().replace("results: results", "results: ."))
    with pytest.raises(UsageError, match=r"not a beliefs results folder: it holds facts\.yaml"):
        run_study(study)  # the fact set is a user file beside it: refused
    (tmp_path / "sub").mkdir()
    moved = tmp_path / "sub" / "study.yaml"
    moved.write_text(study.read_text().replace("fact_sets: [facts.yaml]", "fact_sets: [../facts.yaml]")
                     .replace("store: store", "store: ../store"))  # fmt: skip
    with pytest.raises(AssertionError, match="probed before"):
        run_study(moved)  # only the study file: accepted, and the study goes on to probe


@pytest.mark.slow
def test_study_may_list_elicitation(tmp_path: Path) -> None:
    result = run_study(_study(tmp_path, "analyses: [default-belief, elicitation]\n"), report=False)
    analyses = {h["analysis"] for h in result.summary["headlines"]}
    assert "default-belief" in analyses and any("elicit" in a or "salience" in a for a in analyses), analyses
