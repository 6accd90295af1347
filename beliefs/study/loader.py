"""Loading a study file: YAML with located errors, validated as :class:`beliefs.study.schema.Study`."""

from __future__ import annotations

from pathlib import Path

from beliefs.errors import InvalidInputError, Problem
from beliefs.facts.loader import pydantic_problems
from beliefs.facts.yamlio import parse_yaml, to_plain
from beliefs.study.schema import Study

_STUDY_FIELDS = {"study": list(Study.model_fields)}


def load_study(path: str | Path) -> Study:
    """Load a study file; raise :class:`InvalidInputError` listing every problem."""
    parsed = parse_yaml(Path(path))
    problems = list(parsed.problems)
    if parsed.data is not None and not isinstance(parsed.data, dict):
        problems.append(
            Problem(parsed.path, "a study file must be a mapping with 'schema_version', 'name', 'models'", 1)
        )
    elif parsed.data is not None:
        model, errors = pydantic_problems(
            parsed.path, parsed.data, Study, to_plain(parsed.data), "study", "models", _STUDY_FIELDS
        )
        problems += errors
        if model is not None and not problems:
            assert isinstance(model, Study)
            return model
    raise InvalidInputError(problems or [Problem(parsed.path, "not a valid study file")])
