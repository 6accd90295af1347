"""Run a study: probe every model (with its controls), analyze, and write the report."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from beliefs.errors import InvalidInputError, UsageError
from beliefs.facts import load_conditions, load_paths
from beliefs.fileio import atomic_write_text, sources_sha256
from beliefs.rundata import SubsetRun
from beliefs.study.loader import load_study
from beliefs.study.schema import Study

DEFAULT_STUDY = Path("analyses/default/study.yaml")
ELICITATION = "elicitation"
"""Not a registered analysis (it samples from the model): the study runs it itself."""


@dataclass
class StudyResult:
    """Where a study's outputs went and how long each stage took."""

    study: Study
    store: Path
    results: Path
    summary: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    report: Path | None = None
    parts: list[StudyPart] = field(default_factory=list)
    """One per fact set, in the study file's order (the first is the primary test)."""


@dataclass
class StudyPart:
    """The analyses, elicitation and report of one fact set of a study."""

    fact_set: str
    results: Path
    summary: dict[str, Any]
    report: Path | None = None


def resolve(base: Path, value: str) -> Path:
    """``value`` relative to the study file's folder (absolute paths are kept)."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def inputs_fingerprint(manifest: dict[str, Any], study: Study, elicitation: Path | None = None) -> str:
    """Hash of what the analyses' results depend on: the code of the analyses, statistics, causal
    tracing and verdict rules (``analyses``, ``stats``, ``trace``, ``results``), the stored measurements
    (by their content keys), the facts, the conditions, the study's analyses, permutations, seed and
    tracing settings, and the elicitation's ``salience.csv`` in
    ``elicitation`` (``hingeness`` reads it). Not timestamps."""
    models = {
        name: {"model_key": info.get("model_key"), "entries": info.get("entries")}
        for name, info in sorted((manifest.get("models") or {}).items())
    }
    payload = {
        "code": sources_sha256("analyses", "stats", "trace", "results"),
        "models": models,
        "facts": manifest.get("facts"),
        "conditions": manifest.get("conditions"),
        "analyses": study.analyses,
        "permutations": study.permutations,
        "seed": study.seed,
        "trace": study.trace.model_dump() if study.trace is not None else None,
    }
    salience = None if elicitation is None else elicitation / "salience.csv"
    if salience is not None and salience.is_file():
        payload["salience"] = hashlib.sha256(salience.read_bytes()).hexdigest()
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def _cached_summary(tables: Path, fingerprint: str) -> dict[str, Any] | None:
    try:
        summary: dict[str, Any] = json.loads((tables / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return summary if summary.get("inputs_sha256") == fingerprint else None


def _comparison(
    base: Path, study: Study, fact_set: str | None = None
) -> tuple[str, str, str, dict[str, Any]] | None:
    """(name, first model, folder, summary) of the study named by ``compare_with``, if it has results
    (for ``fact_set``, where that study analysed several sets)."""
    if study.compare_with is None:
        return None
    folder = resolve(base, study.compare_with)
    try:
        other = load_study(folder / "study.yaml")
        other_results = resolve(folder, other.results)
        if fact_set is not None and (other_results / fact_set / "tables").is_dir():
            other_results = other_results / fact_set
        summary = json.loads((other_results / "tables" / "summary.json").read_text("utf-8"))
    except (OSError, ValueError, InvalidInputError):
        return None
    return other.name, other.models[0], study.compare_with, summary


def run_study(
    path: str | Path = DEFAULT_STUDY,
    progress: Any = None,
    message: Callable[[str], None] | None = None,
    report: bool = True,
    reanalyze: bool = False,
    trace_progress: Any = None,
) -> StudyResult:
    """Run the study in ``path``: probe (resuming from the store), trace (when the study asks; reused when
    its inputs are unchanged), analyze, report. ``trace_progress`` is a
    :class:`beliefs.trace.run.TraceProgress`."""
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
        raise InvalidInputError(found.errors)
    conditions = load_conditions(resolve(base, study.conditions))
    store = resolve(base, study.store)
    results = resolve(base, study.results)
    from beliefs.analyses.runner import check_arguments
    from beliefs.models.base import CONTROLS
    from beliefs.store.guard import check_output_dir

    # every argument is checked before a model loads
    registered = None if study.analyses is None else [a for a in study.analyses if a != ELICITATION]
    if registered != []:
        check_arguments(registered, study.permutations, study.seed)
    bad_controls = [c for c in study.controls if c not in CONTROLS]
    if bad_controls:
        raise UsageError(
            f"{path}: unknown control(s) {', '.join(bad_controls)}; known: {', '.join(CONTROLS)}"
        )
    check_output_dir(store, "run", f"{path}: store")
    set_names = [fs.name for fs in found.fact_sets]
    if len(set_names) == 1:
        check_output_dir(results, "results", f"{path}: results", allow={path.name} if results == base else ())
    else:  # one results folder per set inside ``results``
        allow = {*set_names, *([path.name] if results == base else [])}
        check_output_dir(results, "results", f"{path}: results", allow=allow)
        for name in set_names:
            check_output_dir(results / name, "results", f"{path}: results/{name}")
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
    if study.trace is not None:
        from beliefs.trace.run import trace_run

        start = time.perf_counter()
        say(f"causal tracing ({', '.join(study.trace.conditions)}; {study.trace.noise_seeds} noise seeds)")
        trace_run(
            store,
            conditions=study.trace.conditions,
            noise_seeds=study.trace.noise_seeds,
            window=study.trace.window,
            stride=study.trace.stride,
            batch_size=study.trace.batch_size,
            min_gap=study.trace.min_gap,
            seed=study.seed,
            controls=study.trace.controls,
            reuse=True,
            progress=trace_progress,
        )
        timings["trace"] = time.perf_counter() - start
    names = [fs.name for fs in found.fact_sets]
    parts: list[StudyPart] = []
    for fact_set in found.fact_sets:
        # One set: results go straight to the results folder. Several: each set is analysed on its own
        # (a matched set and a broad set answer different questions) into results/<set>/.
        folder = results if len(names) == 1 else results / fact_set.name
        sub: Any = run if len(names) == 1 else SubsetRun(run, fact_set.name)
        label = "" if len(names) == 1 else f" [{fact_set.name}]"
        part = StudyPart(fact_set.name, folder, {})
        # Elicitation first: the hingeness analysis reads its per-fact salience (folder/elicitation).
        elicited_headlines: list[dict[str, Any]] = []
        start = time.perf_counter()
        if study.analyses is None or ELICITATION in study.analyses:
            causal = [spec for spec in study.models if resolve_model(spec)[1] != "st"]
            if causal:
                from beliefs.elicit import elicit

                say(f"elicitation{label}: sampling from {causal[0]} under each prompt condition")
                elicited = elicit(
                    causal[0],
                    [fact_set],
                    conditions,
                    folder / "elicitation",
                    seed=study.seed,
                    permutations=study.permutations,
                )
                elicited_headlines = elicited.headlines
            timings[f"elicitation{label}"] = time.perf_counter() - start
        start = time.perf_counter()
        tables = folder / "tables"
        manifest = sub.manifest if len(names) > 1 else run.manifest
        if len(names) > 1:
            manifest = {
                **manifest,
                "facts": [f for f in run.manifest.get("facts", []) if f.get("fact_set") == fact_set.name],
            }
        fingerprint = inputs_fingerprint(manifest, study, folder / "elicitation")
        summary = None if reanalyze else _cached_summary(tables, fingerprint)
        if registered == []:  # elicitation only
            from beliefs.results.columns import SUMMARY_SCHEMA_VERSION

            summary = {
                "schema_version": SUMMARY_SCHEMA_VERSION,
                "n_facts": len(sub.facts()),
                "analyses": [],
                "headlines": [],
            }
        if summary is None:
            say(f"analyzing{label} ({study.permutations} permutations)")
            summary = analyze(
                sub, tables, analyses=registered, permutations=study.permutations, seed=study.seed
            )
            summary["inputs_sha256"] = fingerprint
            summary["fact_set"] = fact_set.name
            atomic_write_text(tables / "summary.json", json.dumps(summary, indent=2, allow_nan=False))
        else:
            say(
                f"analyses{label} up to date (same measurements, analyses, permutations and seed): reusing the tables"
            )
        timings[f"analyze{label}"] = time.perf_counter() - start
        if elicited_headlines:
            summary = {**summary, "headlines": [*summary.get("headlines", []), *elicited_headlines]}
        part.summary = summary
        if report:
            from beliefs.report import write_report

            start = time.perf_counter()
            part.report = write_report(
                sub, folder, study=study, summary=summary, compare=_comparison(base, study, fact_set.name)
            )
            timings[f"report{label}"] = time.perf_counter() - start
        parts.append(part)
    first = parts[0]
    return StudyResult(study, store, results, first.summary, timings, first.report, parts)
