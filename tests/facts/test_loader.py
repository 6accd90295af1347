"""Every error kind has a fixture file and an expected message with its line."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from beliefs.errors import InvalidInputError
from beliefs.facts import load_conditions, load_fact_set, load_paths

FIXTURES = Path(__file__).parent / "fixtures"
INVALID = FIXTURES / "invalid"

# file -> (line or None, column or None, fact id or None, substring of the message)
EXPECTED: dict[str, tuple[int | None, int | None, str | None, str]] = {
    "syntax.yaml": (11, 1, None, "YAML syntax error"),
    "top_scalar.yaml": (1, None, None, "neither a fact set"),
    "top_list_fact_set.yaml": (1, 3, None, "expected a mapping, got str 'schema_version'"),
    "missing_schema_version.yaml": (1, None, None, "missing 'schema_version'"),
    "unsupported_schema_version.yaml": (
        1,
        1,
        None,
        "unsupported schema_version 2 — this version of beliefs reads 1",
    ),
    "no_facts.yaml": (3, 1, None, "the set has no facts"),
    "missing_id.yaml": (10, 5, None, "missing required field 'id'"),
    "malformed_id.yaml": (4, 5, "Seven Odd", "id 'Seven Odd' is not a lower-case slug"),
    "malformed_set_name.yaml": (2, 1, None, "name 'My Set' is not a lower-case slug"),
    "duplicate_id.yaml": (10, 5, "one-plus-one", "duplicate id (first at line 4)"),
    "duplicate_statement.yaml": (13, 5, "again", "duplicate statement: 'One plus one equals two.'"),
    "duplicate_key.yaml": (10, 5, None, "duplicate key 'kind' (first at line 6)"),
    "false_equals_statement.yaml": (8, 5, "x", "false_statement is the same as statement"),
    "blank_text.yaml": (8, 5, "x", "text is empty or blank"),
    "bad_kind.yaml": (6, 5, "x", "kind 'hinged' — expected hinge or contingent — did you mean 'hinge'?"),
    "undeclared_domain.yaml": (
        5,
        5,
        "x",
        "domain 'physcal' is not declared (declared: logical, physical) — did you mean 'physical'?",
    ),
    "unknown_context_key.yaml": (10, 7, "x", "unknown field 'suport' — did you mean 'support'?"),
    "unknown_field.yaml": (9, 5, "x", "unknown field 'statment' — did you mean 'statement'?"),
    "non_string.yaml": (7, 5, "x", "expected text, got int 101"),
    "non_utf8.yaml": (7, 19, None, "not valid UTF-8: byte 0xe9"),
    "nul_character.yaml": (7, 21, None, "NUL character"),
    "object_tag.yaml": (9, 11, None, "tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed"),
    "billion_laughs.yaml": (1, None, None, "refusing a possible alias bomb"),
    "conditions_no_empty.yaml": (1, None, None, "no 'empty' condition"),
    "conditions_both.yaml": (5, 5, "mixed", "exactly one of 'prefix' or 'context'"),
    "conditions_neither.yaml": (5, 5, "nothing", "exactly one of 'prefix' or 'context'"),
    "conditions_duplicate_name.yaml": (5, 5, "empty", "duplicate condition name (first at line 3)"),
    "conditions_bad_context.yaml": (
        6,
        5,
        "supportive",
        "context 'suport' — expected support or contradict — did you mean 'support'?",
    ),
    "conditions_empty_not_empty.yaml": (1, 3, "empty", "the 'empty' condition must have prefix: \"\""),
}


def test_every_fixture_has_an_expectation() -> None:
    assert sorted(p.name for p in INVALID.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_invalid_fixture_gives_expected_problem(name: str) -> None:
    line, column, fact_id, message = EXPECTED[name]
    found = load_paths([INVALID / name])
    assert found.errors, f"{name} was accepted"
    assert not found.fact_sets and not found.conditions
    matching = [p for p in found.errors if message in p.message]
    assert matching, [str(p) for p in found.errors]
    problem = matching[0]
    assert problem.path == INVALID / name
    assert (problem.line, problem.column, problem.fact_id) == (line, column, fact_id), str(problem)


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "many.yaml"
    path.write_text(
        "schema_version: 1\nname: many\nfacts:\n"
        "  - id: a\n    domain: logical\n    kind: hinged\n    statment: x\n    false_statement: y\n"
        "  - id: a\n    domain: physcal\n    kind: hinge\n    statement: 3\n    false_statement: ' '\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInputError) as info:
        load_fact_set(path)
    messages = [p.message for p in info.value.problems]
    assert len(messages) >= 6, messages
    assert [p.line for p in info.value.problems] == sorted(p.line or 0 for p in info.value.problems)


def test_object_tag_is_not_executed(tmp_path: Path) -> None:
    marker = Path("/tmp/beliefs-pwned")
    marker.unlink(missing_ok=True)
    load_paths([INVALID / "object_tag.yaml"])
    assert not marker.exists()


def test_billion_laughs_is_refused_quickly_without_memory() -> None:
    tracemalloc.start()
    start = time.perf_counter()
    found = load_paths([INVALID / "billion_laughs.yaml"])
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert found.errors
    assert elapsed < 2.0
    assert peak < 50 * 2**20


def test_valid_minimal_and_conditions_list() -> None:
    fs = load_fact_set(FIXTURES / "valid" / "minimal.yaml")
    assert fs.name == "fixture" and len(fs.facts) == 1 and fs.lines["one-plus-one"] == 5
    cond = load_conditions(FIXTURES / "valid" / "conditions_list.yaml")
    assert [c.name for c in cond.conditions] == ["empty", "support"]
    assert cond.conditions[0].is_empty


def test_wrong_loader_for_file_kind() -> None:
    with pytest.raises(InvalidInputError, match="must be a mapping"):
        load_fact_set(FIXTURES / "valid" / "conditions_list.yaml")


def test_cross_set_checks(tmp_path: Path) -> None:
    text = (FIXTURES / "valid" / "minimal.yaml").read_text()
    (tmp_path / "a.yaml").write_text(text)
    (tmp_path / "b.yaml").write_text(text)
    (tmp_path / "c.yaml").write_text(text.replace("name: fixture", "name: other"))
    found = load_paths([tmp_path])
    assert any("duplicate set name 'fixture'" in p.message for p in found.errors)
    assert any("statement also in fixture/one-plus-one" in p.message for p in found.warnings)


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    found = load_paths([tmp_path / "nope.yaml"])
    assert found.errors and "no such file" in found.errors[0].message


def test_hinge_without_note_and_context_with_statement_warn(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(
        "schema_version: 1\nname: w\nfacts:\n"
        "  - id: a\n    domain: logical\n    kind: hinge\n    statement: Two is even.\n"
        "    false_statement: Two is odd.\n    contexts:\n      support: We know that two is even in all cases.\n",
        encoding="utf-8",
    )
    fs = load_fact_set(path)
    messages = [w.message for w in fs.warnings]
    assert any("hinge without a note" in m for m in messages)
    assert any("contains 'Two is even.' verbatim" in m for m in messages)


def test_empty_domains_is_an_error(tmp_path):
    import pytest

    from beliefs.errors import InvalidInputError
    from beliefs.facts import load_fact_set

    path = tmp_path / "x.yaml"
    path.write_text(
        "schema_version: 1\nname: x\ndomains: []\nfacts:\n"
        "  - {id: a, domain: logical, kind: hinge, statement: A is A., false_statement: A is B., note: n}\n"
    )
    with pytest.raises(InvalidInputError) as info:
        load_fact_set(path)
    problem = info.value.problems[0]
    assert problem.field == "domains" and problem.line == 3 and "no domains listed" in problem.message
