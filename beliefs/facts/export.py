"""Export fact sets as one row per statement."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence

from beliefs.facts.loader import LoadedFactSet

EXPORT_COLUMNS = ("set", "fact_id", "domain", "kind", "form", "text")


def rows(sets: Sequence[LoadedFactSet]) -> Iterator[dict[str, str]]:
    """One dict per statement: the true form, then the false form, of each fact."""
    for s in sets:
        for f in s.facts:
            for form, text in (("true", f.statement), ("false", f.false_statement)):
                yield {
                    "set": s.name,
                    "fact_id": f.id,
                    "domain": f.domain,
                    "kind": f.kind,
                    "form": form,
                    "text": text,
                }


def export_text(sets: Sequence[LoadedFactSet], fmt: str) -> str:
    """The rows as JSON lines (``jsonl``) or CSV with a header (``csv``)."""
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows(sets))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(EXPORT_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows(sets))
    return buf.getvalue()
