"""``analyze``: run the registered analyses on a run and write tidy tables and the headline summary."""

from __future__ import annotations

import json
import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

from beliefs.analyses import columns as C
from beliefs.analyses.context import AnalysisContext
from beliefs.analyses.registry import ANALYSES
from beliefs.errors import UsageError
from beliefs.rundata import RunData

SURFACE_MARGIN = 0.05
"""A probe "beats" the surface baseline when its headline exceeds the surface interval's upper end."""


def analyze(
    run: RunData,
    out_dir: str | Path,
    analyses: list[str] | None = None,
    permutations: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """Run ``analyses`` (default: all registered) and write ``<out_dir>/<analysis>.csv`` and ``summary.json``.

    Returns the summary: one headline per analysis × model × condition (the mean over the middle third of
    layers with ``last`` pooling where the statistic has layers), with estimate, 95% interval and p-value.
    """
    names = list(ANALYSES) if analyses is None else list(analyses)
    unknown = [n for n in names if n not in ANALYSES]
    if unknown:
        raise UsageError(f"unknown analysis {', '.join(unknown)}; expected one of {', '.join(ANALYSES)}")
    if permutations < 1:
        raise UsageError(f"permutations should be at least 1, but got {permutations}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    from threadpoolctl import threadpool_limits

    ctx = AnalysisContext(run, permutations=permutations, seed=seed)
    workers = max(1, min(int(os.environ.get("BELIEFS_ANALYZE_THREADS", "1")), len(names)))
    headlines: list[dict[str, Any]] = []
    # Many small matrix products: BLAS threads cost far more than they save (7 s vs 35-48 s measured);
    # instead two analyses run at once in threads (numpy releases the GIL in its kernels).
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(ANALYSES[name].func, ctx.fork()) for name in names]
        results = [f.result() for f in futures]
    for name, result in zip(names, results, strict=True):
        table = pd.DataFrame(result.rows, columns=list(C.RESULT_COLUMNS))
        tmp = out / f".{name}.csv.tmp"
        table.to_csv(tmp, index=False)
        tmp.replace(out / f"{name}.csv")
        headlines.extend(result.headlines)
    _attach_controls(headlines)
    summary = {
        "schema_version": C.SUMMARY_SCHEMA_VERSION,
        "n_facts": ctx.n_facts,
        "n_permutations": permutations,
        "seed": seed,
        "analyses": names,
        "headline_definition": "mean over the middle third of layers, last pooling; p from the fact-level "
        "permutation null of that mean (observed counted)",
        "headlines": [_clean(h) for h in headlines],
    }
    tmp = out / ".summary.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2, allow_nan=False))
    tmp.replace(out / "summary.json")
    return summary


def _attach_controls(headlines: list[dict[str, Any]]) -> None:
    """Put the surface baseline and the random-init control beside each model's headlines."""
    surface = {h[C.MODEL]: h for h in headlines if h[C.ANALYSIS] == "surface"}
    index = {(h[C.ANALYSIS], h[C.MODEL], h[C.CONDITION], h[C.STATISTIC]): h for h in headlines}
    for h in headlines:
        s = surface.get(h[C.MODEL])
        if h[C.ANALYSIS] in ("kind-probe", "kind-distance") and s is not None:
            h["surface_estimate"] = s[C.ESTIMATE]
            h["surface_p_value"] = s[C.P_VALUE]
            h["surface_confound"] = bool(s[C.P_VALUE] <= 0.05)
            if h[C.ANALYSIS] == "kind-probe":
                h["beats_surface"] = bool(h[C.ESTIMATE] > s[C.CI_HIGH])
    for h in headlines:
        if h[C.CONTROL] != "random-init":
            continue
        base = h[C.MODEL].split("@")[0]
        target = index.get((h[C.ANALYSIS], base, h[C.CONDITION], h[C.STATISTIC]))
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
