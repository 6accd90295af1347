"""Facts and conditions as a caller gives them (paths, loaded files, objects), checked and in order."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from beliefs.errors import UsageError
from beliefs.schema import EMPTY_CONDITION, Condition, Fact, FactSet
from beliefs.store.run import fact_ref


def as_facts(
    facts: Any, places: dict[str, tuple[Path | None, int | None]] | None = None
) -> tuple[list[tuple[str, Fact]], dict[str, dict[str, Any]]]:
    """Accept paths, loaded fact sets, :class:`FactSet` objects or ``(set_name, Fact)`` pairs. With
    ``places``, fill it with each fact's file and line where known (by ``set/id``), for messages."""
    if facts is None or (isinstance(facts, list | tuple) and not facts):
        raise UsageError(
            "facts should be a fact-set path, a loaded fact set or a non-empty list of them, "
            f"but got {facts!r}"
        )
    items = facts if isinstance(facts, list | tuple) else [facts]
    pairs: list[tuple[str, Fact]] = []
    sets: dict[str, dict[str, Any]] = {}
    for item in items:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Fact):
            pairs.append((str(item[0]), item[1]))
            sets.setdefault(str(item[0]), {"sha256": None, "path": None})
            continue
        if isinstance(item, str | Path):
            from beliefs.facts import load_fact_set

            item = load_fact_set(Path(item))
        if isinstance(item, FactSet) or hasattr(item, "facts"):
            name = str(item.name)
            sets[name] = {
                "sha256": getattr(item, "sha256", None),
                "path": _absolute(getattr(item, "path", None)),
                "n_facts": len(item.facts),
            }
            pairs.extend((name, f) for f in item.facts)
            if places is not None:
                where = getattr(item, "path", None)
                lines = getattr(item, "lines", {}) or {}
                for f in item.facts:
                    places[fact_ref(name, f.id)] = (Path(where) if where else None, lines.get(f.id))
            continue
        raise UsageError(
            f"facts should be paths, fact sets or (set, Fact) pairs, but got {type(item).__name__} "
            f"{repr(item)[:60]}"
        )
    refs = [fact_ref(s, f.id) for s, f in pairs]
    dupes = sorted({r for r in refs if refs.count(r) > 1})
    if dupes:
        raise UsageError(f"facts given twice: {', '.join(dupes[:5])}")
    return pairs, sets


def _absolute(path: Any) -> str | None:
    """A fact set's file as an absolute path, so that "changed since probed" works from any folder."""
    if not path or not str(path):
        return None
    return str(Path(path).absolute())


def fact_rows(pairs: Sequence[tuple[str, Fact]]) -> list[dict[str, str]]:
    """One dict per fact with the :data:`beliefs.rundata.FACT_COLUMNS`, in the order of ``pairs``."""
    return [
        {
            "fact_set": s,
            "fact_id": f.id,
            "domain": f.domain,
            "kind": f.kind,
            "statement": f.statement,
            "false_statement": f.false_statement,
            "template": f.template or "",
            "pair": f.pair or "",
            "tags": ";".join(f.tags),
        }
        for s, f in pairs
    ]


def as_conditions(conditions: Any) -> tuple[list[Condition], str | None]:
    sha = None
    if isinstance(conditions, str | Path):
        from beliefs.facts import load_conditions

        conditions = load_conditions(Path(conditions))
    if hasattr(conditions, "conditions"):
        sha = getattr(conditions, "sha256", None)
        conditions = conditions.conditions
    conds = list(conditions) if isinstance(conditions, list | tuple) else []
    if not conds or not all(isinstance(c, Condition) for c in conds):
        raise UsageError(
            "conditions should be a conditions file path, loaded conditions or a non-empty list of "
            f"Condition objects, but got {type(conditions).__name__} {repr(conditions)[:60]}"
        )
    names = [c.name for c in conds]
    if len(set(names)) != len(names):
        raise UsageError(f"condition names should be unique, but got {names}")
    return sorted(conds, key=lambda c: c.name != EMPTY_CONDITION), sha
