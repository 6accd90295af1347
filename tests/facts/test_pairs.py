"""``template`` and ``pair``: every pair problem has a fixture and an expected, located message."""

from __future__ import annotations

from pathlib import Path

import pytest

from beliefs.facts import load_fact_set, load_paths

FIXTURES = Path(__file__).parent / "fixtures"
PAIRS = FIXTURES / "pairs"

# file -> (line, column, fact id, field, substring of the message)
EXPECTED: dict[str, tuple[int, int, str, str, str]] = {
    "unknown.yaml": (
        11,
        5,
        "one-plus-one",
        "pair",
        "pair 'seventeen-plus-nin' is not a fact id in this set — did you mean 'seventeen-plus-nine'?",
    ),
    "self.yaml": (11, 5, "one-plus-one", "pair", "pair names the fact itself"),
    "not_reciprocal.yaml": (
        11,
        5,
        "one-plus-one",
        "pair",
        "pair 'seventeen-plus-nine' (line 12) does not name this fact back (it has no pair)",
    ),
    "same_kind.yaml": (
        19,
        5,
        "seventeen-plus-nine",
        "pair",
        "pair 'one-plus-one' (line 4) is also a hinge fact",
    ),
    "other_domain.yaml": (
        19,
        5,
        "seventeen-plus-nine",
        "pair",
        "pair 'one-plus-one' (line 4) is in domain 'logical', this fact in 'physical'",
    ),
    "other_template.yaml": (
        18,
        5,
        "seventeen-plus-nine",
        "template",
        "pair 'one-plus-one' (line 4) has template 'x-plus-y-equals-z', this fact template 'x-and-y-make-z'",
    ),
    "claimed_twice.yaml": (
        27,
        5,
        "two-plus-two",
        "pair",
        "fact 'seventeen-plus-nine' (line 12) is already the pair of 'one-plus-one'",
    ),
    "bad_template.yaml": (
        18,
        5,
        "seventeen-plus-nine",
        "template",
        "template 'X plus Y' is not a lower-case slug",
    ),
}


def test_every_pair_fixture_has_an_expectation() -> None:
    assert sorted(p.name for p in PAIRS.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_pair_fixture_gives_expected_problem(name: str) -> None:
    line, column, fact_id, field, message = EXPECTED[name]
    found = load_paths([PAIRS / name])
    assert not found.fact_sets, f"{name} was accepted"
    matching = [p for p in found.errors if message in p.message]
    assert matching, [str(p) for p in found.errors]
    problem = matching[0]
    assert (problem.path, problem.line, problem.column) == (PAIRS / name, line, column), str(problem)
    assert (problem.fact_id, problem.field) == (fact_id, field), str(problem)
    assert str(problem).startswith(f"{PAIRS / name}:{line}:{column}, fact '{fact_id}', field '{field}': ")


def test_a_problem_between_reciprocal_facts_is_reported_once(tmp_path: Path) -> None:
    text = (PAIRS / "same_kind.yaml").read_text()
    second = "    domain: logical\n    kind: hinge\n    statement: Sev"
    assert text.count(second) == 1
    path = tmp_path / "twice.yaml"
    path.write_text(text.replace(second, second.replace("logical", "physical")), encoding="utf-8")
    errors = load_paths([path]).errors
    assert sorted(p.message.split(";")[0] for p in errors) == [
        "pair 'one-plus-one' (line 4) is also a hinge fact",
        "pair 'one-plus-one' (line 4) is in domain 'logical', this fact in 'physical'",
    ]
    assert {p.fact_id for p in errors} == {"seventeen-plus-nine"}


def test_matched_fixture_loads_with_templates_and_pairs() -> None:
    fs = load_fact_set(FIXTURES / "valid" / "matched.yaml")
    by_id = {f.id: f for f in fs.facts}
    assert len(by_id) == 48 and not [w for w in fs.warnings if w.severity == "error"]
    for fact in fs.facts:
        assert fact.pair is not None and fact.template is not None
        twin = by_id[fact.pair]
        assert twin.pair == fact.id and twin.kind != fact.kind
        assert (twin.domain, twin.template) == (fact.domain, fact.template)
    assert len({f.template for f in fs.facts if f.domain == "logical"}) == 4


def test_template_without_pair_and_no_fields_stay_valid(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "schema_version: 1\nname: t\nfacts:\n"
        "  - {id: a, domain: logical, kind: hinge, statement: Two is even., false_statement: Two is odd., "
        "note: n, template: n-is-even}\n"
        "  - {id: b, domain: logical, kind: contingent, statement: Nine is odd., false_statement: Nine is even.}\n",
        encoding="utf-8",
    )
    fs = load_fact_set(path)
    assert [(f.template, f.pair) for f in fs.facts] == [("n-is-even", None), (None, None)]
