"""The `beliefs facts` commands through typer's CliRunner."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from beliefs.cli import app
from beliefs.facts import load_fact_set

FIXTURES = Path(__file__).parents[1] / "facts" / "fixtures"
INVALID = FIXTURES / "invalid"
runner = CliRunner()

INDEPENDENT = """\
# Written by hand, independently of the tool's own templates.
schema_version: 1
name: independent
description: A small set to check the counts of facts stats.
facts:
  - {id: h1, domain: logical, kind: hinge, statement: Two and two make four., false_statement: Two and two make five., note: arithmetic}
  - {id: h2, domain: logical, kind: hinge, statement: A thing is itself., false_statement: A thing is not itself., note: identity}
  - {id: h3, domain: physical, kind: hinge, statement: I have a body., false_statement: I have no body., note: body,
     contexts: {support: Doctors examined me today.}}
  - {id: c1, domain: logical, kind: contingent, statement: Thirteen is a prime number., false_statement: Thirteen is a composite number.}
  - {id: c2, domain: physical, kind: contingent, statement: Lima is in Peru., false_statement: Lima is in Chile.,
     contexts: {support: The travel guide covered South America., contradict: "In the atlas of the novel, borders moved."}}
  - {id: c3, domain: physical, kind: contingent, statement: Copper conducts electricity well., false_statement: Copper does not conduct electricity.}
  - {id: c4, domain: physical, kind: contingent, statement: Gold is a metal., false_statement: Gold is a gas.}
"""


def test_help_for_every_command() -> None:
    for args in [["--help"], ["facts", "--help"], ["study", "--help"]] + [
        ["facts", c, "--help"] for c in ("validate", "stats", "new", "add", "import", "export")
    ]:
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
        assert "Usage" in result.output


@pytest.mark.parametrize("name", sorted(p.name for p in INVALID.iterdir()))
def test_validate_refuses_cleanly(name: str) -> None:
    result = runner.invoke(app, ["facts", "validate", str(INVALID / name)])
    assert result.exit_code == 1, result.output
    assert name in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_validate_usage_error_exit_2(tmp_path: Path) -> None:
    assert runner.invoke(app, ["facts", "validate"]).exit_code == 2
    assert runner.invoke(app, ["facts", "validate", str(tmp_path)]).exit_code == 2  # folder without YAML


@pytest.mark.slow
def test_validate_repository_fact_sets() -> None:
    repo = Path(__file__).parents[2]
    result = runner.invoke(app, ["facts", "validate", str(repo / "fact_sets")])
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output


def test_stats_json_counts_an_independent_set(tmp_path: Path) -> None:
    path = tmp_path / "independent.yaml"
    path.write_text(INDEPENDENT, encoding="utf-8")
    result = runner.invoke(app, ["facts", "stats", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    cells = {(c["domain"], c["kind"]): c for c in data["cells"]}
    assert {k: c["n_facts"] for k, c in cells.items()} == {
        ("logical", "hinge"): 2,
        ("logical", "contingent"): 1,
        ("physical", "hinge"): 1,
        ("physical", "contingent"): 3,
    }
    assert cells[("physical", "contingent")]["n_support"] == 1
    assert cells[("physical", "contingent")]["n_contradict"] == 1
    assert cells[("physical", "hinge")]["n_support"] == 1
    assert cells[("logical", "hinge")]["words_mean"] == pytest.approx((5 + 4) / 2)
    assert cells[("physical", "contingent")]["words_mean"] == pytest.approx((4 + 4 + 4) / 3)
    assert data["n_facts"] == 7


def test_stats_length_warning(tmp_path: Path) -> None:
    facts = []
    for i in range(6):
        facts.append(
            f"  - {{id: h{i}, domain: logical, kind: hinge, statement: Fact h{i} ok., false_statement: Not h{i}., note: n}}"
        )
        long = " ".join(["word"] * (12 + i))
        facts.append(
            f"  - {{id: c{i}, domain: logical, kind: contingent, statement: C{i} {long}., false_statement: Not c{i} {long}.}}"
        )
    path = tmp_path / "unbalanced.yaml"
    path.write_text(
        "schema_version: 1\nname: unbalanced\nfacts:\n" + "\n".join(facts) + "\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["facts", "stats", str(path)])
    assert result.exit_code == 0
    assert "differ in length" in result.output
    data = json.loads(runner.invoke(app, ["facts", "stats", str(path), "-f", "json"]).stdout)
    assert data["warnings"] and data["length_checks"][0]["standardized_difference"] < -0.5


def test_new_then_add_keeps_comments(tmp_path: Path) -> None:
    result = runner.invoke(app, ["facts", "new", "mine", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    path = tmp_path / "mine.yaml"
    assert load_fact_set(path).name == "mine"
    args = [
        "facts",
        "add",
        str(path),
        "--id",
        "lima-peru",
        "--domain",
        "physical",
        "--kind",
        "contingent",
        "--statement",
        "Lima is the capital of Peru.",
        "--false-statement",
        "Lima is the capital of Chile.",
        "--support",
        "The guidebook describes Peru's coastal capital.",
        "--tag",
        "geography",
        "--tag",
        "capitals",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = path.read_text()
    assert "# A beliefs fact set" in text and "# why it is a hinge" in text
    fs = load_fact_set(path)
    assert [f.id for f in fs.facts] == ["one-plus-one", "lima-peru"]
    assert fs.facts[1].tags == ["geography", "capitals"]
    # a duplicate is refused and the file is left untouched
    before = path.read_bytes()
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "duplicate id" in result.output
    assert path.read_bytes() == before
    bad = runner.invoke(app, [*args[:3], "--id", "x", *args[5:7], "--kind", "hinged", *args[9:13]])
    assert bad.exit_code == 1 and "did you mean 'hinge'" in bad.output
    assert path.read_bytes() == before


def test_new_refuses_existing_and_bad_name(tmp_path: Path) -> None:
    assert runner.invoke(app, ["facts", "new", "a", "--dir", str(tmp_path)]).exit_code == 0
    assert runner.invoke(app, ["facts", "new", "a", "--dir", str(tmp_path)]).exit_code == 2
    assert runner.invoke(app, ["facts", "new", "Bad Name", "--dir", str(tmp_path)]).exit_code == 2


def test_import_geometry_of_truth_cities(external: Path, tmp_path: Path) -> None:
    out = tmp_path / "cities.yaml"
    result = runner.invoke(
        app,
        [
            "facts",
            "import",
            str(external / "geometry_of_truth" / "cities.csv"),
            "--name",
            "cities",
            "--domain",
            "physical",
            "--kind",
            "contingent",
            "--out",
            str(out),
            "--pair-by",
            "city",
        ],
    )
    assert result.exit_code == 0, result.output
    fs = load_fact_set(out)
    assert len(fs.facts) == 748
    first = fs.facts[0]
    assert first.id == "krasnodar"
    assert first.statement == "The city of Krasnodar is in Russia."
    assert first.false_statement == "The city of Krasnodar is in South Africa."
    # ids are stable: importing again gives the same file
    again = tmp_path / "again.yaml"
    runner.invoke(
        app,
        [
            "facts",
            "import",
            str(external / "geometry_of_truth" / "cities.csv"),
            "--name",
            "cities",
            "--domain",
            "physical",
            "--kind",
            "contingent",
            "--out",
            str(again),
            "--pair-by",
            "city",
        ],
    )
    assert again.read_text() == out.read_text()


def test_import_larger_than_unordered(external: Path, tmp_path: Path) -> None:
    out = tmp_path / "larger.yaml"
    result = runner.invoke(
        app,
        [
            "facts",
            "import",
            str(external / "geometry_of_truth" / "larger_than.csv"),
            "--name",
            "larger",
            "--domain",
            "logical",
            "--kind",
            "hinge",
            "--out",
            str(out),
            "--pair-by",
            "n1,n2",
            "--unordered",
            "--limit",
            "50",
        ],
    )
    assert result.exit_code == 0, result.output
    fs = load_fact_set(out)
    assert len(fs.facts) == 50
    assert fs.facts[0].statement == "Fifty-two is larger than fifty-one."
    assert fs.facts[0].false_statement == "Fifty-one is larger than fifty-two."


def test_import_reports_unpaired_rows(external: Path, tmp_path: Path) -> None:
    out = tmp_path / "capitals.yaml"
    result = runner.invoke(
        app,
        [
            "facts",
            "import",
            str(external / "azaria_mitchell_true_false" / "capitals_true_false.csv"),
            "--name",
            "capitals",
            "--domain",
            "physical",
            "--kind",
            "contingent",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "not paired" in result.output
    assert load_fact_set(out).facts


def test_import_missing_column_and_existing_out(external: Path, tmp_path: Path) -> None:
    csv_path = str(external / "geometry_of_truth" / "cities.csv")
    result = runner.invoke(
        app,
        [
            "facts",
            "import",
            csv_path,
            "--name",
            "c",
            "--domain",
            "physical",
            "--kind",
            "contingent",
            "--out",
            str(tmp_path / "c.yaml"),
            "--pair-by",
            "town",
        ],
    )
    assert result.exit_code == 1 and "no column 'town'" in result.output
    (tmp_path / "c.yaml").write_text("keep me")
    result = runner.invoke(
        app,
        [
            "facts",
            "import",
            csv_path,
            "--name",
            "c",
            "--domain",
            "physical",
            "--kind",
            "contingent",
            "--out",
            str(tmp_path / "c.yaml"),
            "--pair-by",
            "city",
        ],
    )
    assert result.exit_code == 2 and (tmp_path / "c.yaml").read_text() == "keep me"


def test_export_jsonl_and_csv(tmp_path: Path) -> None:
    src = FIXTURES / "valid" / "minimal.yaml"
    result = runner.invoke(app, ["facts", "export", str(src), "--format", "jsonl"])
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows == [
        {
            "set": "fixture",
            "fact_id": "one-plus-one",
            "domain": "logical",
            "kind": "hinge",
            "form": "true",
            "text": "One plus one equals two.",
        },
        {
            "set": "fixture",
            "fact_id": "one-plus-one",
            "domain": "logical",
            "kind": "hinge",
            "form": "false",
            "text": "One plus one equals three.",
        },
    ]
    out = tmp_path / "x.csv"
    result = runner.invoke(app, ["facts", "export", str(src), "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0
    assert out.read_text().splitlines()[0] == "set,fact_id,domain,kind,form,text"


@pytest.mark.slow
def test_validate_does_not_import_torch() -> None:
    code = (
        "import sys; from typer.testing import CliRunner; from beliefs.cli import app; "
        "r = CliRunner().invoke(app, ['facts', 'validate', 'fact_sets']); "
        "assert r.exit_code == 0, r.output; "
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, 'heavy import'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


@pytest.mark.slow
def test_console_script_never_shows_traceback(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "beliefs"
    for name in ("billion_laughs.yaml", "non_utf8.yaml", "object_tag.yaml"):
        proc = subprocess.run(
            [str(exe), "facts", "validate", str(INVALID / name)], capture_output=True, text=True
        )
        assert proc.returncode == 1
        assert "Traceback" not in proc.stderr + proc.stdout


MATCHED = Path(__file__).parents[1] / "facts" / "fixtures" / "valid" / "matched.yaml"


def test_stats_json_carries_surface_pairs_and_markers() -> None:
    from beliefs.facts.stats import compute_stats

    result = runner.invoke(app, ["facts", "stats", str(MATCHED), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    expected = compute_stats([load_fact_set(MATCHED)]).to_dict()
    for key in ("surface", "pair_lengths", "markers"):
        assert data[key] == json.loads(json.dumps(expected[key])), key
    assert [(s["domain"], s["grouping"], s["n_groups"]) for s in data["surface"]] == [
        ("logical", "template", 4),
        ("physical", "template", 4),
    ]
    assert {p["n_pairs"] for p in data["pair_lengths"]} == {12}
    assert {(p["form"], p["unit"]) for p in data["pair_lengths"]} == {
        ("statement", "words"),
        ("false_statement", "words"),
    }


def test_stats_table_says_when_folds_leave_facts_out(tmp_path: Path) -> None:
    path = tmp_path / "independent.yaml"
    path.write_text(INDEPENDENT, encoding="utf-8")
    result = runner.invoke(app, ["facts", "stats", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "facts (no templates)" in result.output
    assert "named entity" in result.output
    data = json.loads(runner.invoke(app, ["facts", "stats", str(path), "-f", "json"]).stdout)
    assert {s["grouping"] for s in data["surface"]} == {"fact"} and data["pair_lengths"] == []
    physical_hinge = next(m for m in data["markers"] if (m["domain"], m["kind"]) == ("physical", "hinge"))
    assert physical_hinge["first_person"] == 1.0  # "I have a body."
    matched = runner.invoke(app, ["facts", "stats", str(MATCHED)], env={"COLUMNS": "200"})
    assert "templates (4, 4 folds)" in matched.output
