"""Never touch files that are not the tool's; text a model would misread is caught by validate."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from beliefs.cli import app
from beliefs.facts import load_fact_set
from beliefs.fileio import atomic_write_text, safe_filename

runner = CliRunner()
SET = (
    "schema_version: 1\nname: core\nfacts:\n"
    "  - {id: one, domain: logical, kind: hinge, statement: 1 + 1 = 2., false_statement: 1 + 1 = 3., note: n}\n"
)


@pytest.fixture
def fact_set(tmp_path: Path) -> Path:
    path = tmp_path / "core.yaml"
    path.write_text(SET)
    return path


def test_atomic_writes_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
        assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644
        os.umask(0o002)
        atomic_write_text(tmp_path / "b.txt", "x")
        assert stat.S_IMODE((tmp_path / "b.txt").stat().st_mode) == 0o664
    finally:
        os.umask(old)


def test_replacing_keeps_the_mode_and_refuses_read_only(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("x")
    path.chmod(0o640)
    atomic_write_text(path, "y")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640 and path.read_text() == "y"
    path.chmod(0o444)
    if os.access(path, os.W_OK):  # root may write anything: the check follows os.access
        pytest.skip("running as a user who can write read-only files")
    with pytest.raises(PermissionError, match="read-only"):
        atomic_write_text(path, "z")
    assert path.read_text() == "y"


def test_new_fact_set_is_readable_by_the_group(tmp_path):
    old = os.umask(0o022)
    try:
        result = runner.invoke(app, ["facts", "new", "demo", "--dir", str(tmp_path)])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE((tmp_path / "demo.yaml").stat().st_mode) == 0o644


def test_export_needs_force_and_never_replaces_its_input(fact_set, tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("mine")
    result = runner.invoke(app, ["facts", "export", str(fact_set), "--out", str(out)])
    assert result.exit_code == 2 and "pass --force" in result.output
    assert out.read_text() == "mine"
    result = runner.invoke(app, ["facts", "export", str(fact_set), "--out", str(out), "--force"])
    assert result.exit_code == 0 and '"fact_id": "one"' in out.read_text()
    result = runner.invoke(app, ["facts", "export", str(fact_set), "--out", str(fact_set), "--force"])
    assert result.exit_code == 2 and "is an input of this command" in result.output
    assert fact_set.read_text() == SET
    result = runner.invoke(app, ["facts", "export", str(tmp_path), "--out", str(fact_set), "--force"])
    assert result.exit_code == 2 and "is an input of this command" in result.output


def test_import_never_replaces_its_csv(tmp_path):
    csv = tmp_path / "data.csv"
    csv.write_text("statement,label\nThe sky is blue.,1\nThe sky is green.,0\n")
    args = ["facts", "import", str(csv), "--name", "x", "--domain", "physical", "--kind", "contingent"]
    result = runner.invoke(app, [*args, "--out", str(csv), "--force"])
    assert result.exit_code == 2 and "is an input of this command" in result.output
    assert csv.read_text().startswith("statement,label")


def test_import_field_over_the_csv_limit_is_a_message(tmp_path):
    csv = tmp_path / "data.csv"
    csv.write_text("statement,label\n" + "a" * 200_000 + ",1\nThe sky is green.,0\n")
    args = ["facts", "import", str(csv), "--name", "x", "--domain", "physical", "--kind", "contingent"]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "x.yaml")])
    assert result.exit_code == 1 and "malformed CSV: field larger than field limit" in result.output
    assert f"{csv}:2" in result.output


def test_add_refuses_a_read_only_file(fact_set):
    fact_set.chmod(0o444)
    if os.access(fact_set, os.W_OK):
        pytest.skip("running as a user who can write read-only files")
    result = runner.invoke(
        app,
        ["facts", "add", str(fact_set), "--id", "two", "--domain", "logical", "--kind", "contingent",
         "--statement", "2 + 2 = 4.", "--false-statement", "2 + 2 = 5."],
    )  # fmt: skip
    assert result.exit_code == 1 and "read-only" in result.output
    assert fact_set.read_text() == SET


def test_safe_filename():
    assert safe_filename("../../etc/passwd") == "etc_passwd"
    assert safe_filename("HuggingFaceTB/SmolLM2-135M@random-init") == "HuggingFaceTB_SmolLM2-135M@random-init"
    assert "/" not in safe_filename("/abs/path/model") and ".." not in safe_filename("a/../b")
    assert safe_filename("..") == "model"


def test_validate_warns_on_special_tokens_and_refuses_zero_width(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "schema_version: 1\nname: s\nfacts:\n"
        "  - {id: one, domain: logical, kind: hinge, statement: 'Text <|endoftext|> here.', "
        "false_statement: Text there., note: n}\n"
    )
    result = runner.invoke(app, ["facts", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert (
        "fact 'one', field 'statement': warning: '<|endoftext|>' looks like a special token" in result.output
    )
    path.write_text(
        "schema_version: 1\nname: s\nfacts:\n"
        '  - {id: one, domain: logical, kind: hinge, statement: "\\u200b\\u200b", '
        "false_statement: Text there., note: n}\n"
    )
    result = runner.invoke(app, ["facts", "validate", str(path)])
    assert result.exit_code == 1 and "no visible character" in result.output


def test_loaded_set_still_loads(fact_set):
    assert load_fact_set(fact_set).facts[0].id == "one"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("".join(" " * i + f"k{i}:\n" for i in range(3000)) + " " * 3000 + "x: 1\n", None),
        ("[" * 20000 + "]" * 20000 + "\n", 1),
        ("schema_version: 1\nname: x\nfacts: " + "[" * 50 + "]" * 50 + "\n", 3),
    ],
    ids=["3000-deep-mapping", "20000-brackets", "50-brackets"],
)
def test_deep_nesting_is_an_input_problem_with_its_place(tmp_path, text, line):
    import time

    from beliefs import load_fact_set
    from beliefs.errors import InvalidInputError

    path = tmp_path / "deep.yaml"
    path.write_text(text)
    started = time.monotonic()
    with pytest.raises(InvalidInputError) as info:
        load_fact_set(path)
    assert time.monotonic() - started < 5
    problem = info.value.problems[0]
    assert "nested more than" in problem.message and problem.line is not None
    if line is not None:
        assert problem.line == line
