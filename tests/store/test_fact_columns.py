"""``template``, ``pair`` and ``tags`` in a run's fact table: written by probe, "" in older manifests, and
no part of any cache key."""

from __future__ import annotations

import json
from pathlib import Path

from beliefs.extract import probe
from beliefs.rundata import FACT_COLUMNS
from beliefs.schema import Condition, Fact
from beliefs.store import open_run

CONDITIONS = [
    Condition(name="empty", prefix=""),
    Condition(name="encyclopedia", prefix="From the encyclopedia:"),
]


def _facts(matched: bool) -> list[tuple[str, Fact]]:
    facts = []
    for i in range(6):
        extra = {}
        if matched:
            extra = {"template": f"t{i // 2}", "pair": f"f{i ^ 1}", "tags": ["a", f"b{i}"] if i % 3 else []}
        fact = Fact(
            id=f"f{i}",
            domain="logical",
            kind="hinge" if i % 2 else "contingent",
            statement=f"Number {i} is small.",
            false_statement=f"Number {i} is large.",
            **extra,
        )
        facts.append(("s", fact))
    return facts


def test_probe_writes_template_pair_and_tags(tmp_path: Path) -> None:
    run = probe("fake:llama", _facts(True), CONDITIONS, tmp_path / "run", batch_size=4)
    facts = run.facts()
    assert tuple(facts.columns) == FACT_COLUMNS
    assert facts["template"].tolist() == ["t0", "t0", "t1", "t1", "t2", "t2"]
    assert facts["pair"].tolist() == ["f1", "f0", "f3", "f2", "f5", "f4"]
    assert facts["tags"].tolist() == ["", "a;b1", "a;b2", "", "a;b4", "a;b5"]


def test_older_manifests_read_as_empty_strings(tmp_path: Path) -> None:
    probe("fake:llama", _facts(True), CONDITIONS, tmp_path / "run", batch_size=4)
    file = tmp_path / "run" / "manifest.json"
    manifest = json.loads(file.read_text())
    for row in manifest["facts"]:
        for key in ("template", "pair", "tags"):
            del row[key]
    file.write_text(json.dumps(manifest))
    facts = open_run(tmp_path / "run").facts()
    assert tuple(facts.columns) == FACT_COLUMNS
    assert (facts[["template", "pair", "tags"]] == "").all().all()
    assert facts["statement"].tolist() == [f"Number {i} is small." for i in range(6)]


def test_templates_and_pairs_change_no_cache_key(tmp_path: Path) -> None:
    plain = probe("fake:llama", _facts(False), CONDITIONS, tmp_path / "a", batch_size=4)
    matched = probe("fake:llama", _facts(True), CONDITIONS, tmp_path / "b", batch_size=4)
    assert plain.manifest["models"]["llama"]["entries"] == matched.manifest["models"]["llama"]["entries"]
    # a run measured before the facts had templates is complete for the same facts with templates
    again = probe("fake:llama", _facts(True), CONDITIONS, tmp_path / "a", batch_size=4)
    assert again.missing() == 0
    assert again.facts()["template"].tolist() == ["t0", "t0", "t1", "t1", "t2", "t2"]
