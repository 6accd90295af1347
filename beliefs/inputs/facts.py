"""Facts and conditions as a caller gives them (paths, loaded files, objects), checked and in order."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from beliefs.errors import UsageError
from beliefs.schema import EMPTY_CONDITION, Condition, Fact, FactSet
from beliefs.store.run import fact_ref


def as_facts(facts: Any) -> tuple[list[tuple[str, Fact]], dict[str, dict[str, Any]]]:
    """Accept paths, loaded fact sets, :class:`FactSet` objects or ``(set_name, Fact)`` pairs."""
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
                "path": str(getattr(item, "path", "")) or None,
                "n_facts": len(item.facts),
            }
            pairs.extend((name, f) for f in item.facts)
            continue
        raise UsageError(
            f"facts should be paths, fact sets or (set, Fact) pairs, but got {type(item).__name__}"
        )
    refs = [fact_ref(s, f.id) for s, f in pairs]
    dupes = sorted({r for r in refs if refs.count(r) > 1})
    if dupes:
        raise UsageError(f"facts given twice: {', '.join(dupes[:5])}")
    return pairs, sets


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
    conds = list(conditions)
    if not conds or not all(isinstance(c, Condition) for c in conds):
        raise UsageError("conditions should be a conditions file or a non-empty list of Condition objects")
    names = [c.name for c in conds]
    if len(set(names)) != len(names):
        raise UsageError(f"condition names should be unique, but got {names}")
    return sorted(conds, key=lambda c: c.name != EMPTY_CONDITION), sha
