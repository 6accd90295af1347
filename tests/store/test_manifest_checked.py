"""The manifest is checked, not trusted: facts edited in it after the probe are refused before any
analysis; the fact-set path is stored so that "changed since probed" works from any folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import beliefs
from beliefs.errors import StoreError

FACTS = "schema_version: 1\nname: core\nfacts:\n" + "".join(
    f"  - {{id: f{i}, domain: {'logical' if i % 2 else 'physical'}, "
    f"kind: {'hinge' if (i // 2) % 2 else 'contingent'}, statement: The city {i} is in France., "
    f"false_statement: The city {i} is on the Moon., note: n}}\n"
    for i in range(8)
)


@pytest.fixture
def probed(tmp_path, monkeypatch) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (work / "core.yaml").write_text(FACTS)
    (work / "conditions.yaml").write_text(
        '- name: empty\n  prefix: ""\n- name: enc\n  prefix: "From a book."\n'
    )
    monkeypatch.chdir(work)
    beliefs.probe("fake:llama", ["core.yaml"], "conditions.yaml", "run")  # relative paths, as a user types
    return work / "run"


def edit(run: Path, change) -> None:
    file = run / "manifest.json"
    data = json.loads(file.read_text())
    change(data)
    file.write_text(json.dumps(data))


def test_a_statement_edited_in_the_manifest_is_refused(probed, tmp_path):
    edit(probed, lambda m: m["facts"][3].update(statement="The city 3 is in Spain."))
    with pytest.raises(StoreError, match=r"the facts were changed after the probe"):
        beliefs.analyze(beliefs.open_run(probed), tmp_path / "out", permutations=9)
    assert not (tmp_path / "out").exists()


def test_without_the_digest_the_entries_still_catch_it(probed):
    def change(m):
        m.pop("facts_sha256")
        m["facts"][3]["false_statement"] = "The city 3 is on Mars."

    edit(probed, change)
    with pytest.raises(StoreError, match=r"fact 'core/f3', field false_statement"):
        beliefs.open_run(probed).check_complete()


def test_a_kind_edited_in_the_manifest_is_refused(probed):
    edit(
        probed,
        lambda m: m["facts"][0].update(
            kind="hinge" if m["facts"][0]["kind"] == "contingent" else "contingent"
        ),
    )
    with pytest.raises(StoreError, match="changed after the probe"):
        beliefs.open_run(probed).check_complete()


def test_the_cli_says_so_with_exit_1(probed, capsys, monkeypatch):
    import sys

    from beliefs.cli import main

    edit(probed, lambda m: m["facts"][3].update(statement="The city 3 is in Spain."))
    monkeypatch.setattr(sys, "argv", ["beliefs", "analyze", str(probed), "--permutations", "9"])
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 1 and "changed after the probe" in capsys.readouterr().err


def test_changed_since_probed_from_another_folder(probed, tmp_path, monkeypatch):
    run = beliefs.open_run(probed)
    assert run.changed_sources() == []
    (probed.parent / "core.yaml").write_text(FACTS.replace("city 0 is in France", "city 0 is in Italy"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    changed = beliefs.open_run(probed).changed_sources()
    assert len(changed) == 1 and "core.yaml" in changed[0]


def test_an_untouched_run_passes(probed):
    beliefs.open_run(probed).check_complete()
