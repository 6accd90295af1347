"""``beliefs facts import`` on a small hand-written CSV in the Geometry of Truth layout (statement, label,
key columns), so that the importer is tested where ``../shared/external`` is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from beliefs.errors import InvalidInputError, UsageError
from beliefs.facts import load_fact_set
from beliefs.facts.importer import import_csv

TOWNS = Path(__file__).parent / "fixtures" / "import" / "towns.csv"


def test_pairs_by_key_column(tmp_path: Path) -> None:
    out = tmp_path / "towns.yaml"
    report = import_csv(TOWNS, name="towns", domain="geography", kind="contingent", out=out, pair_by=["town"])
    assert (report.n_rows, report.n_facts, report.out) == (8, 3, out)
    assert report.unpaired == {
        "no false row with the same town": 1,
        "label 'maybe' not one of 0, 1, f, false, n, no, t, true, y, yes": 1,
    }
    fs = load_fact_set(out)
    assert [f.id for f in fs.facts] == ["lyon", "porto", "graz"]
    graz = fs.facts[2]
    assert (graz.statement, graz.false_statement) == (
        "The town of Graz is in Austria.",
        "The town of Graz is in Chile.",
    )
    assert {f.domain for f in fs.facts} == {"geography"} and {f.kind for f in fs.facts} == {"contingent"}
    assert fs.model.domains == ["geography", "logical", "physical"]
    again = tmp_path / "again.yaml"
    import_csv(TOWNS, name="towns", domain="geography", kind="contingent", out=again, pair_by=["town"])
    assert again.read_bytes() == out.read_bytes()  # ids and order are stable


def test_pairs_adjacent_rows_without_a_key(tmp_path: Path) -> None:
    out = tmp_path / "towns.yaml"
    report = import_csv(TOWNS, name="towns", domain="physical", kind="hinge", out=out, limit=2)
    assert report.n_facts == 2
    assert report.unpaired["next row does not have the opposite label (use --pair-by)"] == 1
    fs = load_fact_set(out)
    assert [f.statement for f in fs.facts] == [
        "The town of Lyon is in France.",
        "The town of Porto is in Portugal.",
    ]
    assert all(f.id.startswith("the-town-of-") for f in fs.facts)


def test_missing_column_names_it(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as err:
        import_csv(
            TOWNS, name="t", domain="physical", kind="hinge", out=tmp_path / "t.yaml", pair_by=["city"]
        )
    problem = err.value.problems[0]
    assert problem.line == 1 and "no column 'city'" in problem.message and "town" in problem.message
    assert not (tmp_path / "t.yaml").exists()


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "in.csv"
    path.write_text(text)
    return path


def test_unrecognised_labels_are_named(tmp_path: Path) -> None:
    path = _csv(tmp_path, "statement,label\nA is B.,1.0\nA is C.,0.0\n")
    with pytest.raises(InvalidInputError) as err:
        import_csv(path, name="t", domain="physical", kind="hinge", out=tmp_path / "t.yaml")
    message = err.value.problems[0].message
    assert "'1.0' (line 2)" in message and "'0.0' (line 3)" in message and "expected one of" in message


def test_a_duplicated_false_row_is_called_so(tmp_path: Path) -> None:
    path = _csv(tmp_path, "statement,label,k\nA is B.,1,a\nA is C.,0,a\nA is C.,0,a\n")
    report = import_csv(
        path, name="t", domain="physical", kind="hinge", out=tmp_path / "t.yaml", pair_by=["k"]
    )
    assert report.unpaired == {"more false rows than true rows with the same k (a duplicated false row?)": 1}


def test_a_nul_byte_is_located_in_the_csv(tmp_path: Path) -> None:
    path = _csv(tmp_path, "statement,label\nA is B.,1\nA is\x00 C.,0\n")
    out = tmp_path / "t.yaml"
    with pytest.raises(InvalidInputError) as err:
        import_csv(path, name="t", domain="physical", kind="hinge", out=out)
    problem = err.value.problems[0]
    assert (problem.path, problem.line, problem.column) == (path, 3, 5) and "NUL" in problem.message
    assert not out.exists()


def test_the_library_keeps_an_existing_file_without_force(tmp_path: Path) -> None:
    out = tmp_path / "mine.yaml"
    out.write_text("my notes")
    with pytest.raises(UsageError, match="pass --force"):
        import_csv(TOWNS, name="towns", domain="geography", kind="contingent", out=out, pair_by=["town"])
    assert out.read_text() == "my notes"
    import_csv(
        TOWNS, name="towns", domain="geography", kind="contingent", out=out, pair_by=["town"], force=True
    )
    assert "towns" in out.read_text()


def test_a_read_only_file_is_kept_even_with_force_and_for_root(tmp_path: Path, monkeypatch) -> None:
    import os

    out = tmp_path / "ro.yaml"
    out.write_text("keep me")
    out.chmod(0o444)
    monkeypatch.setattr(os, "access", lambda *_a, **_k: True)  # as root: access() allows everything
    with pytest.raises(PermissionError, match="read-only"):
        import_csv(
            TOWNS, name="towns", domain="geography", kind="contingent", out=out, pair_by=["town"], force=True
        )
    assert out.read_text() == "keep me"
