"""The causal-tracing section of a report: method, cost, headlines with verdicts, heat maps, examples.

It lives with the report (it renders blocks) and reads what `beliefs.trace` wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from beliefs.report.render import Block, Figure, Heading, Paragraph, Table
from beliefs.trace.figures import EXAMPLES, trace_figures
from beliefs.trace.run import read_trace

ANALYSIS = "causal-trace"


def run_path(run: Any) -> Path | None:
    """The folder of a run (or of the run a fact-set subset is taken from)."""
    path = getattr(run, "path", None) or getattr(getattr(run, "base", None), "path", None)
    return Path(path) if path is not None else None


def trace_section(run: Any, summary: dict[str, Any], fig_dir: Path, headline_table: Any) -> list[Block]:
    """Blocks of the section, or [] where the run was not traced. ``headline_table`` renders headlines
    (the report's own, so the columns and verdicts read as everywhere else)."""
    path = run_path(run)
    tables = read_trace(path) if path is not None else None
    if path is None or tables is None:
        return []
    facts, _profiles, record = tables
    fact_set = getattr(run, "fact_set", None)
    if fact_set is not None:
        facts = facts[facts["fact_set"].astype(str) == fact_set]
    settings = record.get("settings", {})
    blocks: list[Block] = [Heading("Causal tracing: where the preference for the true form is computed")]
    blocks.append(
        Paragraph(
            "Causal tracing (Meng et al. 2022) on each causal LM: the statement's shared content tokens (all "
            "tokens the true and false form share but the last) get Gaussian noise on their embeddings "
            f"({settings.get('noise_factor', 3):g}× the embedding SD, {settings.get('noise_seeds')} noise "
            "draw(s) per fact, the same for both forms); then the clean residual state of one layer, or the "
            f"clean MLP or attention outputs of {settings.get('window')} layers around it, is put back at "
            "the content tokens or at the last token before the forms differ, and the recovered fraction "
            "(restored − corrupted) / (clean − corrupted) of the true-vs-false margin is recorded. Layer 0 "
            "is the embeddings: restoring it at the content tokens gives 1 and at the last token 0 by "
            "construction, so peaks and spreads are taken from layer 1 on. Facts whose forms differ at the "
            "first token, share one token, or whose margin the noise moves by less than "
            f"{settings.get('min_gap')} nats are untraceable and counted, not dropped."
        )
    )
    rows = []
    for (model, cond), part in facts.groupby(["model", "condition"], sort=False):
        traced = part[part["status"] == "traced"]
        why = part.loc[part["status"] != "traced", "reason"].fillna("").value_counts()
        seconds = (record.get("models", {}).get(str(model), {}).get("seconds") or {}).get(str(cond))
        rows.append(
            {
                "model": model,
                "condition": cond,
                "facts": len(part),
                "traced hinge": int((traced["kind"] == "hinge").sum()),
                "traced contingent": int((traced["kind"] == "contingent").sum()),
                "untraceable": ", ".join(f"{k} {v}" for k, v in why.items()) or "none",
                "median gap (nats)": float(traced["gap"].median()) if len(traced) else float("nan"),
                "seconds (all sets)": seconds,
            }
        )
    if rows:
        blocks.append(Table(pd.DataFrame(rows), "facts traced and why the others were not"))
    heads = [h for h in summary.get("headlines", []) if h["analysis"] == ANALYSIS]
    if heads:
        blocks.append(
            Table(
                headline_table({"headlines": heads}),
                "hinge − contingent on the per-fact summaries: peak layer and spread (layers recovering more "
                "than half) at the content and last token, MLP share of the window recoveries, mean state "
                "recovery over the middle third of layers",
            )
        )
    for p in trace_figures(path, fig_dir, EXAMPLES, fact_set=fact_set):
        what = (
            "mean recovered fraction by layer and restored position, per kind, and hinge − contingent"
            if "heatmap" in p.name
            else f"per-fact profiles of labelled examples ({'; '.join(EXAMPLES)} where in this set)"
        )
        blocks.append(Figure(p, what))
    return blocks
