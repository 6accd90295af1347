"""Figures of causal tracing (matplotlib, Agg), for the report: call :func:`trace_figures`.

- ``causal_trace_heatmap_<model>_<condition>.png``: recovered fraction by layer (columns) and position
  group (rows), one row of panels per component (state, MLP, attention): mean over traced hinge facts,
  mean over traced contingent facts, and their difference;
- ``causal_trace_examples_<model>_<condition>.png``: the per-fact profiles of labelled examples
  (:data:`EXAMPLES`), one panel each, a line per component × position.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from beliefs.plotting import pyplot as report_plt
from beliefs.plotting import save_figure as _save
from beliefs.trace.engine import COMPONENTS
from beliefs.trace.prompts import POSITIONS
from beliefs.trace.run import read_trace

EXAMPLES = ("I am currently on Earth.", "101 is a prime number.")
"""Statements whose own profiles are drawn (both in fact_sets/core.yaml): a hinge and a contingent fact."""
LABELS = {"state": "residual state", "mlp": "MLP output", "attn": "attention output"}


def _plt() -> Any:
    return report_plt(font_size=8)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def kind_means(profiles: pd.DataFrame) -> dict[str, dict[str, np.ndarray]]:
    """Per kind (and ``difference``), per component: ``(len(POSITIONS), n_layers)`` mean fractions."""
    layers = sorted(profiles["layer"].unique())
    out: dict[str, dict[str, np.ndarray]] = {"hinge": {}, "contingent": {}}
    for kind in out:
        sub = profiles[profiles["kind"] == kind]
        for component in COMPONENTS:
            grid = sub[sub["component"] == component].pivot_table(
                index="position", columns="layer", values="fraction", aggfunc="mean"
            )
            out[kind][component] = grid.reindex(index=list(POSITIONS), columns=layers).to_numpy(dtype=float)
    out["difference"] = {c: out["hinge"][c] - out["contingent"][c] for c in COMPONENTS}
    return out


def heatmap(profiles: pd.DataFrame, title: str, path: Path) -> Path | None:
    """Hinge, contingent and difference heat maps (layer × position), one row per component."""
    if profiles.empty:
        return None
    plt = _plt()
    layers = sorted(profiles["layer"].unique())
    means = kind_means(profiles)
    n_h = profiles.loc[profiles["kind"] == "hinge", "fact_id"].nunique()
    n_c = profiles.loc[profiles["kind"] == "contingent", "fact_id"].nunique()
    seq = np.concatenate([means[k][c].ravel() for k in ("hinge", "contingent") for c in COMPONENTS])
    lo, hi = min(0.0, float(np.nanmin(seq))), max(1.0, float(np.nanmax(seq)))
    diff = np.concatenate([means["difference"][c].ravel() for c in COMPONENTS])
    dmax = max(float(np.nanmax(np.abs(diff))), 1e-6)
    fig, axes = plt.subplots(len(COMPONENTS), 3, figsize=(11, 1.2 + 1.1 * len(COMPONENTS)), squeeze=False)
    heads = (f"hinge (n = {n_h})", f"contingent (n = {n_c})", "hinge − contingent")
    for r, component in enumerate(COMPONENTS):
        for c, kind in enumerate(("hinge", "contingent", "difference")):
            ax = axes[r][c]
            grid = means[kind][component]
            if kind == "difference":
                im = ax.imshow(grid, aspect="auto", cmap="RdBu_r", vmin=-dmax, vmax=dmax)
            else:
                im = ax.imshow(grid, aspect="auto", cmap="viridis", vmin=lo, vmax=hi)
            ax.set_yticks(range(len(POSITIONS)), list(POSITIONS))
            ax.set_xticks(range(len(layers)), [str(x) for x in layers], fontsize=6)
            if r == 0:
                ax.set_title(heads[c])
            if c == 0:
                ax.set_ylabel(LABELS[component])
            if r == len(COMPONENTS) - 1:
                ax.set_xlabel("layer (centre of the restored window)")
            if c in (1, 2):
                label = "hinge − contingent" if c == 2 else "recovered fraction"
                fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02, label=label)
    fig.suptitle(title)
    return _save(fig, path)


def examples(
    profiles: pd.DataFrame, facts: pd.DataFrame, statements: Sequence[str], title: str, path: Path
) -> Path | None:
    """Per-fact profiles of the facts whose statement is in ``statements`` (those traced)."""
    chosen = facts[facts["statement"].isin(list(statements))]
    chosen = chosen.merge(profiles[["fact_set", "fact_id"]].drop_duplicates(), on=["fact_set", "fact_id"])
    if chosen.empty:
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, len(chosen), figsize=(4.6 * len(chosen), 3.0), squeeze=False)
    for ax, (_, fact) in zip(axes[0], chosen.iterrows(), strict=True):
        sub = profiles[(profiles["fact_set"] == fact["fact_set"]) & (profiles["fact_id"] == fact["fact_id"])]
        for component in COMPONENTS:
            for position, style in zip(POSITIONS, ("-", "--"), strict=True):
                line = sub[(sub["component"] == component) & (sub["position"] == position)].sort_values(
                    "layer"
                )
                ax.plot(
                    line["layer"], line["fraction"], style, lw=1.3, label=f"{LABELS[component]}, {position}"
                )
        ax.axhline(0, color="grey", lw=0.6)
        ax.axhline(1, color="grey", lw=0.6, ls=":")
        ax.set_title(f"{fact['statement']} ({fact['kind']})")
        ax.set_xlabel("layer")
        ax.set_ylabel("recovered fraction of the margin")
    axes[0][-1].legend(fontsize=6, loc="best")
    fig.suptitle(title)
    return _save(fig, path)


def trace_figures(
    run_path: str | Path,
    out_dir: str | Path,
    statements: Sequence[str] = EXAMPLES,
    fact_set: str | None = None,
) -> list[Path]:
    """Draw every tracing figure of the run's ``RUN/trace/`` into ``out_dir``; [] where it was not traced.

    One heat map and one examples figure per traced model × condition (a control whose facts were all
    untraceable has none: the report should say so from the ``causal-trace`` counts); with ``fact_set``,
    of that set's facts only.
    """
    tables = read_trace(run_path)
    if tables is None:
        return []
    fact_table, profiles, _ = tables
    manifest = json.loads((Path(run_path) / "manifest.json").read_text(encoding="utf-8"))
    facts = pd.DataFrame(manifest["facts"])
    if fact_set is not None:
        fact_table = fact_table[fact_table["fact_set"].astype(str) == fact_set]
        profiles = profiles[profiles["fact_set"].astype(str) == fact_set]
        facts = facts[facts["fact_set"].astype(str) == fact_set]
    out = Path(out_dir)
    paths: list[Path] = []
    for (model, cond), sub in profiles.groupby(["model", "condition"], sort=False):
        n = fact_table[(fact_table["model"] == model) & (fact_table["condition"] == cond)]
        traced = int((n["status"] == "traced").sum())
        title = f"causal tracing · {model} · {cond} · {traced}/{len(n)} facts traced"
        stem = f"{_slug(str(model))}_{_slug(str(cond))}"
        for p in (
            heatmap(sub, title, out / f"causal_trace_heatmap_{stem}.png"),
            examples(sub, facts, statements, title, out / f"causal_trace_examples_{stem}.png"),
        ):
            if p is not None:
                paths.append(p)
    return paths
