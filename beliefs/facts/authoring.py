"""Write fact sets: scaffold a new file, add a fact while keeping comments and layout."""

from __future__ import annotations

import io
import re
from pathlib import Path

from ruamel.yaml.comments import CommentedMap

from beliefs.errors import InvalidInputError, Problem, UsageError
from beliefs.facts.loader import LoadedFactSet, check_fact_set
from beliefs.facts.yamlio import parse_yaml, parse_yaml_bytes, round_trip_yaml
from beliefs.fileio import atomic_write_text
from beliefs.schema import SLUG_PATTERN, FactSet

TEMPLATE = """\
# A beliefs fact set (schema version 1). Validate with: beliefs facts validate {path}
schema_version: 1
name: {name}                  # lower-case slug, unique among the sets you load together
description: Describe what this set is for.
domains: [logical, physical]  # every fact's domain must be listed here
facts:
  # Each fact has a true and a false form in the same style (a negation or a substitution).
  - id: one-plus-one          # lower-case slug, unique in this set
    domain: logical           # logical (logic, arithmetic) or physical (the world, the speaker)
    kind: hinge               # hinge (framework certainty) or contingent (learned or calculated)
    statement: One plus one equals two.
    false_statement: One plus one equals three.
    contexts:                 # optional passages for the per-fact conditions
      support: A first-grade workbook shows a single apple placed next to another to make a pair.
      contradict: In the story, the wizard's abacus always adds an extra bead to every sum it shows.
    tags: [arithmetic]
    note: Basic arithmetic is presupposed by every count and measurement.  # why it is a hinge
"""


def new_fact_set(name: str, folder: str | Path = "fact_sets") -> Path:
    """Create ``<folder>/<name>.yaml``, a valid commented fact set with one example fact."""
    if not re.match(SLUG_PATTERN, name):
        raise UsageError(
            f"set name {name!r} is not a lower-case slug (letters a-z, digits and single hyphens)"
        )
    path = Path(folder) / f"{name}.yaml"
    if path.exists():
        raise UsageError(f"{path} already exists; choose another name or edit it")
    atomic_write_text(path, TEMPLATE.format(name=name, path=path))
    return path


def add_fact(
    path: str | Path,
    *,
    id: str,
    domain: str,
    kind: str,
    statement: str,
    false_statement: str,
    support: str | None = None,
    contradict: str | None = None,
    tags: list[str] | None = None,
    note: str | None = None,
    source: str | None = None,
) -> LoadedFactSet:
    """Append a fact to the set in ``path``; validates the whole result first, keeps comments and layout,
    writes atomically. Raises :class:`InvalidInputError` (nothing written) if the result is invalid."""
    path = Path(path)
    parsed = parse_yaml(path)
    existing, problems = check_fact_set(parsed)
    if existing is None:
        raise InvalidInputError(
            [p for p in problems if p.severity == "error"] or [Problem(path, "not a valid fact set")]
        )
    fact = CommentedMap()
    fact["id"] = id
    fact["domain"] = domain
    fact["kind"] = kind
    fact["statement"] = statement
    fact["false_statement"] = false_statement
    if support is not None or contradict is not None:
        ctx = CommentedMap()
        if support is not None:
            ctx["support"] = support
        if contradict is not None:
            ctx["contradict"] = contradict
        fact["contexts"] = ctx
    if tags:
        fact["tags"] = list(tags)
    if note is not None:
        fact["note"] = note
    if source is not None:
        fact["source"] = source
    data = parse_yaml_bytes(path, parsed.text.encode("utf-8"), round_trip=True).data  # comments kept
    data["facts"].append(fact)
    yaml = round_trip_yaml()
    buf = io.StringIO()
    yaml.dump(data, buf)
    text = buf.getvalue()
    candidate = parse_yaml_bytes(path, text.encode("utf-8"))
    loaded, problems = check_fact_set(candidate)
    errors = [p for p in problems if p.severity == "error"]
    if loaded is None or errors:
        raise InvalidInputError(errors)
    atomic_write_text(path, text)
    return loaded


def dump_fact_set(fact_set: FactSet) -> str:
    """A fact set as YAML text that loads back to an equal set."""
    data = fact_set.model_dump(mode="python", exclude_none=True)
    for fact in data["facts"]:
        if not fact.get("tags"):
            fact.pop("tags", None)
    buf = io.StringIO()
    round_trip_yaml().dump(data, buf)
    return buf.getvalue()
