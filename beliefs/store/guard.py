"""Write only into folders of this tool: a new or empty folder, a run, or a results folder."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from beliefs.errors import UsageError
from beliefs.results.columns import RESULT_COLUMNS

RUN_MARK = "manifest.json"
RESULTS_MARKS = ("summary.json", "tables/summary.json")
ELICITATION_MARK = "elicit.json"
ELICITATION_NAMES = frozenset({"samples.jsonl", "salience.csv", "elicitation.csv", ELICITATION_MARK})


def is_run(path: Path) -> bool:
    """A folder with a beliefs run manifest."""
    try:
        data = json.loads((path / RUN_MARK).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("kind") == "beliefs-run"


def is_results(path: Path) -> bool:
    """A folder with a beliefs summary (``summary.json`` from analyze, ``tables/summary.json`` from a study)."""
    for mark in RESULTS_MARKS:
        try:
            data = json.loads((path / mark).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and "headlines" in data and "schema_version" in data:
            return True
    return False


def _partial_results(path: Path, names: list[str]) -> bool:
    """An analyze interrupted before its summary: only CSV tables, the first with the result tables' header
    (the header is the mark: the store sits below the analyses and does not read their registry)."""
    tables = [n for n in names if n.endswith(".csv")]
    if not tables or len(tables) != len(names):
        return False
    try:
        with (path / tables[0]).open(encoding="utf-8") as f:
            return f.readline().strip() == ",".join(RESULT_COLUMNS)
    except (OSError, UnicodeDecodeError):
        return False


def check_output_dir(path: Path, kind: str, option: str, allow: Iterable[str] = ()) -> None:
    """Refuse to write into ``path`` (named ``option`` in the message) unless it is new, empty (names in
    ``allow`` aside, such as the study file beside its results), or already a ``run`` or ``results``
    folder of this tool: beliefs never overwrites files it did not make."""
    path = Path(path)
    if not path.exists():
        return
    if not path.is_dir():
        raise UsageError(f"{option} {path} is a file, not a folder")
    if (kind == "run" and is_run(path)) or (kind == "results" and is_results(path)):
        return
    if kind == "elicitation" and (path / ELICITATION_MARK).is_file():
        return
    allowed = set(allow)
    try:
        # names starting with "." are temporary files of an interrupted write, and locks
        others = sorted(n for n in os.listdir(path) if n not in allowed and not n.startswith("."))
    except OSError as exc:
        raise UsageError(f"{option} {path}: cannot read the folder ({exc.strerror})") from None
    if kind == "results" and _partial_results(path, others):
        return
    if kind == "elicitation" and "samples.jsonl" in others and set(others) <= ELICITATION_NAMES:
        return  # interrupted while sampling
    if others:
        shown = ", ".join(others[:3]) + (" …" if len(others) > 3 else "")
        what = {"run": "a beliefs run (no manifest.json)", "results": "a beliefs results folder"}.get(
            kind, f"a beliefs {kind} folder"
        )
        raise UsageError(
            f"{option} {path} is not empty and not {what}: it holds {shown}. beliefs does not write into "
            "folders it did not make; choose a new or empty folder"
        )
