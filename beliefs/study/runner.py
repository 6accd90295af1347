"""Run a study: probe every model (with its controls), analyze, and write the report."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from beliefs.errors import UsageError
from beliefs.facts import load_conditions, load_paths
from beliefs.facts.loader import load_study
from beliefs.study.schema import Study

DEFAULT_STUDY = Path("analyses/default/study.yaml")


@dataclass
class StudyResult:
    """Where a study's outputs went and how long each stage took."""

    study: Study
    store: Path
    results: Path
    summary: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    report: Path | None = None


def resolve(base: Path, value: str) -> Path:
    """``value`` relative to the study file's folder (absolute paths are kept)."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def run_study(
    path: str | Path = DEFAULT_STUDY,
    progress: Any = None,
    message: Callable[[str], None] | None = None,
    report: bool = True,
) -> StudyResult:
    """Run the study in ``path``: probe (resuming from the store), analyze, report."""
    from beliefs.analyses import analyze
    from beliefs.extract import probe
    from beliefs.models import resolve as resolve_model

    say = message or (lambda _msg: None)
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"study file {path} not found (run from the repository root, or pass a study file)")
    study = load_study(path)
    base = path.parent.resolve()
    found = load_paths([resolve(base, p) for p in study.fact_sets])
    if found.errors:
        from beliefs.errors import InvalidInputError

        raise InvalidInputError(found.errors)
    conditions = load_conditions(resolve(base, study.conditions))
    store = resolve(base, study.store)
    results = resolve(base, study.results)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    run = None
    for spec in study.models:
        backend = resolve_model(spec)[1]
        control = study.controls[0] if study.controls and backend != "st" else None
        say(f"probing {spec}{' and its ' + control + ' control' if control else ''}")
        run = probe(
            spec,
            found.fact_sets,
            conditions,
            out=store,
            control=control,
            batch_size=study.batch_size,
            seed=study.seed,
            progress=progress,
        )
    timings["probe"] = time.perf_counter() - start
    assert run is not None
    say(f"analyzing ({study.permutations} permutations)")
    start = time.perf_counter()
    summary = analyze(
        run, results / "tables", analyses=study.analyses, permutations=study.permutations, seed=study.seed
    )
    timings["analyze"] = time.perf_counter() - start
    result = StudyResult(study, store, results, summary, timings)
    if report:
        from beliefs.report import write_report

        start = time.perf_counter()
        result.report = write_report(run, results, study=study, summary=summary)
        timings["report"] = time.perf_counter() - start
    return result
