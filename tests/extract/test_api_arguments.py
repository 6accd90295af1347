"""``beliefs.probe`` checks its arguments and raises the project's errors, saying what was expected and
what came (not a TypeError from deep inside)."""

from __future__ import annotations

import pytest

import beliefs
from beliefs.errors import UsageError
from beliefs.schema import Condition

FACTS = (
    "schema_version: 1\nname: core\nfacts:\n"
    "  - {id: f0, domain: logical, kind: hinge, statement: A is A., false_statement: A is B., note: n}\n"
)
CONDITIONS = [Condition(name="empty", prefix="")]


@pytest.mark.parametrize(
    ("model", "facts", "conditions", "needle"),
    [
        (123, "F", CONDITIONS, "model should be a model name.* but got int 123"),
        ([], "F", CONDITIONS, "model should be a model name.* but got list"),
        (["fake:llama", 5], "F", CONDITIONS, "model should be a model name"),
        ("fake:llama", None, CONDITIONS, "facts should be a fact-set path.* but got None"),
        ("fake:llama", [], CONDITIONS, "facts should be a fact-set path"),
        ("fake:llama", [42], CONDITIONS, "facts should be paths, fact sets or .* but got int 42"),
        ("fake:llama", "F", None, "conditions should be a conditions file path.* but got NoneType"),
        ("fake:llama", "F", 7, "conditions should be .* but got int 7"),
    ],
)
def test_probe_arguments(tmp_path, model, facts, conditions, needle):
    path = tmp_path / "core.yaml"
    path.write_text(FACTS)
    facts = path if facts == "F" else facts
    with pytest.raises(UsageError, match=needle):
        beliefs.probe(model, facts, conditions, tmp_path / "run")
