"""Links between the reports of one study's fact sets, and to and from the study it is compared with."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from beliefs.report.page import Link


def _rel(target: Path, start: Path) -> str:
    return Path(os.path.relpath(target, start)).as_posix()


def report_links(results: Path, study: Any, fact_set: str, compare_with: str | None) -> list[Link]:
    """The study's reports (one per fact set, this one marked current), then the reports of the study
    this one is compared with and of the studies that compare themselves with this one, where they exist.

    A study with several fact sets writes each set's report to ``<study results>/<set>``; the results of
    two studies are found relative to each other as their study files are (``results: .``)."""
    if study is None:
        return []
    sets = [Path(p).stem for p in study.fact_sets]
    root = results.parent if len(sets) > 1 else results
    links = [
        Link(
            f"{study.name} · {name}",
            _rel(root / name / "report.html", results) if len(sets) > 1 else "report.html",
            name == fact_set,
        )
        for name in sets
    ]
    others: list[tuple[str, Path]] = []
    if compare_with:
        folder = (root / compare_with).resolve()
        others.append((folder.name, folder))
    try:
        siblings = sorted(p for p in root.resolve().parent.iterdir() if (p / "study.yaml").is_file())
    except OSError:
        siblings = []
    for folder in siblings:
        if folder == root.resolve():
            continue
        try:  # the report sits below the study layer: read the two keys it needs, nothing more
            from beliefs.facts.yamlio import parse_yaml_bytes

            path = folder / "study.yaml"
            data = parse_yaml_bytes(path, path.read_bytes()).data
        except Exception:  # a neighbour's broken study file is not this report's error
            continue
        if not isinstance(data, dict):
            continue
        name, other_compare = data.get("name"), data.get("compare_with")
        if (
            isinstance(name, str)
            and isinstance(other_compare, str)
            and (folder / other_compare).resolve() == root.resolve()
        ):
            others.append((name, folder))
    for name, folder in others:
        for target in (folder / fact_set / "report.html", folder / "report.html"):
            if target.is_file() or (target.parent / "tables" / "summary.json").is_file():
                links.append(Link(f"{name} · {fact_set}", _rel(target, results)))
                break
    return links
