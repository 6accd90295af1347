"""``analyze``: run the registered analyses on a run and write tidy tables and the headline summary."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from beliefs.analyses.context import AnalysisContext, Output
from beliefs.analyses.engine import _processes, run_tasks
from beliefs.analyses.memory import check_memory
from beliefs.analyses.registry import ANALYSES, with_control
from beliefs.errors import UsageError
from beliefs.fileio import atomic_write_text
from beliefs.results import columns as C
from beliefs.results.verdict import (
    FAMILY_DEFINITION,
    PRIMARY,
    VERDICT_DEFINITION,
    attach_verdicts,
    significant,
)
from beliefs.rundata import RunData


def analyze(
    run: RunData,
    out_dir: str | Path,
    analyses: list[str] | None = None,
    permutations: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """Run ``analyses`` (default: all registered) and write ``<out_dir>/<analysis>.csv`` and ``summary.json``.

    Returns the summary: one headline per analysis × model × condition (the mean over the middle third of
    layers with ``last`` pooling where the statistic has layers), with estimate, 95% interval, p-value,
    and the verdict step's ``sesoi``, ``p_equivalence``, ``mde_80`` and ``verdict``
    (:mod:`beliefs.results.verdict`).
    """
    names = check_arguments(analyses, permutations, seed)
    check_run_data(run)
    if not isinstance(out_dir, str | Path) or not str(out_dir).strip():
        raise UsageError(f"out_dir should be a folder path, but got {type(out_dir).__name__} {out_dir!r}")
    from beliefs.store.guard import check_output_dir

    # the CLI's rule, here so that a notebook keeps it too: write only into a new or empty folder or one
    # that already holds beliefs results, never over a user's own files
    check_output_dir(Path(out_dir), "results", "out_dir")
    check = getattr(run, "check_complete", None)
    if callable(check):  # a stored run: refuse one with absent or damaged measurements
        check()
    check_size(run)
    left_out = conditions_left_out(run)
    if left_out:
        run = _WithoutConditions(run, set(left_out))
    out = Path(out_dir)
    from threadpoolctl import threadpool_limits

    ctx = AnalysisContext(run, permutations=permutations, seed=seed)
    ctx.elicitation_dir = out.parent / "elicitation"
    headlines: list[dict[str, Any]] = []
    # Many small matrix products: BLAS threads cost far more than they save (7 s vs 35-48 s measured).
    # Instead the models are split over processes (or an engine's workers, BELIEFS_ANALYZE_BACKEND):
    # every analysis loops over models outermost and its correction families are per model, so the merged
    # tables equal a sequential run's, row for row.
    tasks = [(m.name, name) for m in ctx.models for name in names]
    from beliefs.settings import settings

    if settings().analyze_backend == "local":  # an engine's workers are other machines' memory
        check_memory(ctx, names, _processes(len(tasks)))
    out.mkdir(parents=True, exist_ok=True)
    with threadpool_limits(limits=1, user_api="blas"):
        done = run_tasks(ctx, tasks)
    order = {m.name: i for i, m in enumerate(ctx.models)}
    results = [_merge([done[(m.name, name)] for m in ctx.models], order) for name in names]
    for name, result in zip(names, results, strict=True):
        table = pd.DataFrame(result.rows, columns=list(C.RESULT_COLUMNS))
        atomic_write_text(out / f"{name}.csv", table.to_csv(index=False))
        for extra, frame in result.tables.items():
            atomic_write_text(out / f"{extra}.csv", frame.to_csv(index=False))
        headlines.extend(result.headlines)
    _attach_controls(headlines)
    attach_verdicts(headlines, {m.name: m.width for m in ctx.models})
    summary = {
        "schema_version": C.SUMMARY_SCHEMA_VERSION,
        "n_facts": ctx.n_facts,
        "n_permutations": permutations,
        "seed": seed,
        "analyses": names,
        "headline_definition": "mean over the middle third of layers, last pooling; p from the fact-level "
        "permutation null of that mean (observed counted)",
        "verdict_definition": VERDICT_DEFINITION,
        "verdict_families": FAMILY_DEFINITION,
        "primary_headline": dict(zip(("analysis", "statistic", "condition"), PRIMARY, strict=True)),
        "headlines": [_clean(h) for h in headlines],
    }
    if left_out:
        summary["conditions_left_out"] = left_out
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2, allow_nan=False))
    return summary


MAX_PERMUTATIONS = 100_000
"""Ceiling on ``permutations``: the null distributions take memory in proportion (2,000 is the default;
100,000 resolves p-values to 1e-5 and takes about 50 times the default's time and memory)."""
MAX_SEED = 2**32 - 1
"""Seeds are passed to scikit-learn, whose ``random_state`` takes 0 … 2**32 − 1."""
MIN_PER_CELL = 2
"""Cross-validation folds are stratified by domain × kind: every cell needs two facts."""


RUN_METHODS = ("facts", "models", "conditions", "states", "margins")
"""What ``analyze`` reads from a run (:class:`~beliefs.rundata.RunData`)."""


def check_run_data(run: object) -> None:
    """A :class:`UsageError` unless ``run`` is a run (:func:`beliefs.open_run`, a ``MemoryRun``)."""
    missing = [m for m in RUN_METHODS if not callable(getattr(run, m, None))]
    if missing:
        hint = " (open it first: beliefs.open_run(path))" if isinstance(run, str | Path) else ""
        raise UsageError(
            f"run should be a run opened with beliefs.open_run or a RunData, but got "
            f"{type(run).__name__} {repr(run)[:60]}{hint}"
        )


def check_arguments(analyses: list[str] | None, permutations: int, seed: int) -> list[str]:
    """The analyses to run; a :class:`UsageError` naming the argument when one is out of range."""
    if analyses is not None and (
        not isinstance(analyses, list | tuple) or not all(isinstance(a, str) for a in analyses)
    ):
        raise UsageError(
            f"analyses should be a list of analysis names, but got {type(analyses).__name__} {analyses!r}"
        )
    for name, value in (("permutations", permutations), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise UsageError(f"{name} should be a whole number, but got {type(value).__name__} {value!r}")
    names = list(ANALYSES) if analyses is None else list(analyses)
    unknown = [n for n in names if n not in ANALYSES]
    if unknown:
        raise UsageError(f"unknown analysis {', '.join(unknown)}; expected one of {', '.join(ANALYSES)}")
    if not names:
        raise UsageError("no analyses to run")
    if not 1 <= permutations <= MAX_PERMUTATIONS:
        raise UsageError(f"permutations should be between 1 and {MAX_PERMUTATIONS:,}, but got {permutations}")
    if not 0 <= seed <= MAX_SEED:
        raise UsageError(f"seed should be between 0 and 2**32 − 1 ({MAX_SEED}), but got {seed}")
    return names


def check_size(run: RunData) -> None:
    """Refuse a run too small for the statistics, saying what is short (instead of a library's error)."""
    facts = run.facts()
    sizes = facts.groupby(["domain", "kind"]).size()
    counts = {"/".join(map(str, cell)): int(n) for cell, n in zip(sizes.index, sizes.to_numpy(), strict=True)}
    kinds = set(facts["kind"])
    if len(kinds) < 2 or min(counts.values(), default=0) < MIN_PER_CELL:
        have = ", ".join(f"{cell}: {n}" for cell, n in counts.items()) or "no facts"
        raise UsageError(
            f"too few facts for the statistics: they need hinge and contingent facts, at least "
            f"{MIN_PER_CELL} in every domain × kind cell (cross-validation folds), but the run has {have}"
        )


def conditions_left_out(run: RunData) -> dict[str, str]:
    """Conditions whose facts with a prompt are too few for the statistics -> why. A condition that places
    a fact's own context has no prompt for a fact without one: such facts are left out of it, counted."""
    present = getattr(run, "facts_in", None)
    if not callable(present):
        return {}
    facts = run.facts()
    out: dict[str, str] = {}
    for condition in run.conditions():
        mask = np.asarray(present(condition), dtype=bool)
        counts = (
            facts[mask]
            .groupby(["domain", "kind"])
            .size()
            .reindex(facts.groupby(["domain", "kind"]).size().index, fill_value=0)
        )
        if len(set(facts[mask]["kind"])) < 2 or (counts < MIN_PER_CELL).any():
            out[condition] = (
                f"{int(mask.sum())} of {len(facts)} facts have a prompt in it (the others lack its context); "
                f"the statistics need at least {MIN_PER_CELL} in every domain × kind cell"
            )
    return out


class _WithoutConditions:
    """A :class:`RunData` view without some conditions."""

    def __init__(self, run: RunData, drop: set[str]) -> None:
        self._run, self._drop = run, drop

    def models(self) -> list[Any]:
        return self._run.models()

    def conditions(self) -> list[str]:
        return [c for c in self._run.conditions() if c not in self._drop]

    def facts(self) -> pd.DataFrame:
        return self._run.facts()

    def states(self, model: str, condition: str, form: str, pooling: str = "last") -> Any:
        return self._run.states(model, condition, form, pooling)

    def margins(self) -> pd.DataFrame:
        m = self._run.margins()
        return m[~m["condition"].isin(self._drop)].reset_index(drop=True)


def _merge(outputs: list[Output], order: dict[str, int]) -> Output:
    """Rows and headlines of one analysis from several model groups, in the run's model order (a stable
    sort: within a model, the order the analysis produced)."""
    merged = Output()
    merged.rows = sorted((r for o in outputs for r in o.rows), key=lambda r: order[r[C.MODEL]])
    merged.headlines = sorted((h for o in outputs for h in o.headlines), key=lambda h: order[h[C.MODEL]])
    for name in dict.fromkeys(k for o in outputs for k in o.tables):
        frames = [o.tables[name] for o in outputs if name in o.tables]
        merged.tables[name] = pd.concat(frames, ignore_index=True).sort_values(
            "model", key=lambda s: s.map(order), kind="stable"
        )
    return merged


def _attach_controls(headlines: list[dict[str, Any]]) -> None:
    """Put the surface baseline and the random-init control beside each model's headlines."""
    surface = {h[C.MODEL]: h for h in headlines if h[C.ANALYSIS] == "surface"}
    index = {
        (h[C.ANALYSIS], h[C.MODEL], h[C.CONDITION], h[C.STATISTIC], h.get("domain") or ""): h
        for h in headlines
    }
    beside_surface = set(with_control("surface"))
    for h in headlines:
        s = surface.get(h[C.MODEL])
        if h[C.ANALYSIS] in beside_surface and s is not None:
            h["surface_estimate"] = s[C.ESTIMATE]
            h["surface_p_value"] = s[C.P_VALUE]
            h["surface_confound"] = significant(s[C.P_VALUE])
    for h in headlines:
        if h[C.CONTROL] != "random-init":
            continue
        base = h[C.MODEL].split("@")[0]
        target = index.get((h[C.ANALYSIS], base, h[C.CONDITION], h[C.STATISTIC], h.get("domain") or ""))
        if target is not None:
            target["random_init_estimate"] = h[C.ESTIMATE]
            target["random_init_p_value"] = h[C.P_VALUE]


def _clean(h: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in h.items():
        if isinstance(v, float) and not math.isfinite(v):
            out[k] = None
        elif hasattr(v, "item"):
            out[k] = v.item()
        else:
            out[k] = v
    return out
