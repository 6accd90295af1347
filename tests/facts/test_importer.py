"""``beliefs facts import`` on a small hand-written CSV in the Geometry of Truth layout (statement, label,
key columns), so that the importer is tested where ``../shared/external`` is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from beliefs.errors import InvalidInputError
from beliefs.facts import load_fact_set
from beliefs.facts.importer import import_csv

TOWNS = Path(__file__).parent / "fixtures" / "import" / "towns.csv"


def test_pairs_by_key_column(tmp_path: Path) -> None:
    out = tmp_path / "towns.yaml"
    report = import_csv(TOWNS, name="towns", domain="geography", kind="contingent", out=out, pair_by=["town"])
    assert (report.n_rows, report.n_facts, report.out) == (8, 3, out)
    assert report.unpaired == {
        "no false row with the same town": 1,
        "label not one of ['0', '1', 'f', 'false', 'n', 'no', 't', 'true', 'y', 'yes']": 1,
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
