"""The hingeness report section: method, headlines, the per-fact strip and the per-layer figure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from beliefs.analyses.hingeness.components import FACT_TABLE
from beliefs.analyses.registry import SectionContext
from beliefs.plotting import KIND_COLORS, pyplot, save_figure
from beliefs.results.document import Block, Figure, Heading, Paragraph, Table
from beliefs.results.verdict import ALPHA

N_EXTREMES = 3
"""Facts named at the top and bottom of ``hingeness`` in the headline (and the terminal summary)."""


def extremes(table: pd.DataFrame, k: int = N_EXTREMES) -> tuple[list[str], list[str]]:
    """The ``k`` facts with the highest and the lowest ``hingeness`` (``fact_id (kind)``)."""
    ranked = table.dropna(subset=["hingeness"]).sort_values("hingeness", ascending=False, kind="stable")

    def names(part: pd.DataFrame) -> list[str]:
        return [f"{r.fact_id} ({r.kind})" for r in part.itertuples()]

    return names(ranked.head(k)), names(ranked.tail(k).iloc[::-1])


def _label_outliers(ax: Any, outliers: pd.DataFrame, values: pd.Series) -> None:
    """Fact ids beside their points, pushed apart vertically so that no two overlap (a thin line joins
    each label to its point)."""
    lo, hi = float(values.min()), float(values.max())
    gap = max(hi - lo, 1e-9) * 0.09
    for _, group in outliers.groupby("x"):
        x = float(group["x"].astype(float).iloc[0])
        placed: list[float] = []
        for value in group["hingeness"].astype(float).sort_values(ascending=False).tolist():
            y = value
            if placed and placed[-1] - y < gap:
                y = placed[-1] - gap
            placed.append(y)
            fact = group.loc[group["hingeness"].astype(float) == value, "fact_id"].iloc[0]
            ax.annotate(
                str(fact),
                (x, value),
                xytext=(x + 0.22, y),
                fontsize=7,
                va="center",
                arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "grey"},
            )


def hingeness_strip(facts: pd.DataFrame, out: Path, label: int = 3) -> Path | None:
    """Per-fact hingeness against the authors' kind, per model and domain, with the facts the model treats
    most and least as bedrock labelled on the other side (hinges it holds least, contingent facts it holds
    most)."""
    data = facts[np.isfinite(pd.to_numeric(facts["hingeness"], errors="coerce"))]
    if data.empty:
        return None
    plt = pyplot()
    models = list(dict.fromkeys(data["model"]))
    domains = sorted(set(data["domain"]))
    fig, axes = plt.subplots(
        len(models), len(domains), figsize=(4.6 * len(domains), 3.2 * len(models)), squeeze=False
    )
    rng = np.random.default_rng(0)
    for i, model in enumerate(models):
        for j, domain in enumerate(domains):
            ax = axes[i][j]
            rows = data[(data["model"] == model) & (data["domain"] == domain)]
            for x, kind, color in (
                (0, "hinge", KIND_COLORS["hinge"]),
                (1, "contingent", KIND_COLORS["contingent"]),
            ):
                sub = rows[rows["kind"] == kind]
                jitter = x + rng.uniform(-0.15, 0.15, len(sub))
                ax.scatter(jitter, sub["hingeness"], s=8, color=color, alpha=0.7)
            outliers = pd.concat(
                [
                    rows[rows["kind"] == "contingent"].nlargest(label, "hingeness").assign(x=1),
                    rows[rows["kind"] == "hinge"].nsmallest(label, "hingeness").assign(x=0),
                ]
            )
            _label_outliers(ax, outliers, rows["hingeness"])
            ax.set_xticks([0, 1], ["hinge", "contingent"])
            ax.set_xlim(-0.4, 1.9)
            ax.axhline(0, color="grey", lw=0.6, ls="--")
            ax.set_title(f"{model} · {domain}", fontsize=8)
            ax.set_ylabel("hingeness (mean z)")
    fig.suptitle("what the model treats as a hinge, against the authors' kind", fontsize=9)
    return save_figure(fig, out)


LAYER_CURVES = (
    ("rsa", ("rsa_hingeness", "rsa_kind"), "partial RSA (surface, layer 0, topic partialled)"),
    ("readout", ("readout_r2", "readout_increment_r2"), "ridge read-out of hingeness (out-of-fold R²)"),
)
"""The panels of :func:`hingeness_layers`: name, statistics drawn, y label."""


def hingeness_layers(table: pd.DataFrame, out: Path) -> Path | None:
    """``hingeness`` per layer: the partial RSA of hingeness beside the authors' kind, and the ridge
    read-out of hingeness from the states (alone, and its increment over the wording), one column per
    model, with the null's 95% band and dots where the max-statistic adjusted p ≤ α."""
    data = table[table["pooling"] == "last"].dropna(subset=["layer"])
    panels = [
        (name, stats, label) for name, stats, label in LAYER_CURVES if data["statistic"].isin(stats).any()
    ]
    if data.empty or not panels:
        return None
    plt = pyplot()
    models = list(dict.fromkeys(data["model"]))
    fig, axes = plt.subplots(
        len(panels), len(models), figsize=(4.2 * len(models), 2.9 * len(panels)), squeeze=False
    )
    for i, (_, stats, label) in enumerate(panels):
        for j, model in enumerate(models):
            ax = axes[i][j]
            for statistic in stats:
                rows = data[(data["model"] == model) & (data["statistic"] == statistic)].sort_values("layer")
                if rows.empty:
                    continue
                line = ax.plot(rows["layer"], rows["estimate"], lw=1.4, label=statistic)[0]
                if rows["null_low"].notna().any():
                    ax.fill_between(
                        rows["layer"], rows["null_low"], rows["null_high"], color=line.get_color(), alpha=0.12
                    )
                sig = rows[rows["p_adjusted"] <= ALPHA]
                ax.scatter(sig["layer"], sig["estimate"], color=line.get_color(), s=12, zorder=3)
            ax.axhline(0, color="grey", lw=0.6, ls="--")
            ax.set_title(model, fontsize=8)
            ax.set_xlabel("layer (0 = embeddings)")
            ax.set_ylabel(label, fontsize=7)
            ax.legend(fontsize=6, frameon=False, loc="best")
    fig.suptitle(f"hingeness per layer (bands: null 95%; dots: p_adj ≤ {ALPHA})", fontsize=9)
    return save_figure(fig, out)


SECTION_TEXT = (
    "Per fact: `default` (margin per token under `empty` minus under the general detailed "
    "prompts), `entrenchment` (how little the fact's own contexts move it, against the random-init "
    "control and adjusted for its baseline margin), `prior` (the statement's own log-probability "
    "per token under `empty` minus under the detailed prompts) and, where the study elicited, "
    "`salience` (hub-corrected elicitation salience under `empty` minus under the detailed "
    "prompts). The model index is the mean of their z-scores; because a random-init control's "
    "index replicates almost as well (it is fixed by the tokens), `hingeness` is the contrast "
    "index: each component's cross-fitted residual on the wording features and on the control's "
    "same component, z-scored and averaged: what training added. The headlines give its "
    "agreement with the authors' labels (AUROC), its ridge read-out from the states beyond the "
    "wording, and whether the states' geometry follows it beyond surface, layer 0 and topic "
    "(partial RSA)."
)
RANKED_COLUMNS = (
    "model",
    "fact_id",
    "domain",
    "kind",
    "hingeness",
    "hingeness_model",
    "default",
    "entrenchment",
    "prior",
    "salience",
)
"""The per-fact columns of the report's table of the facts most and least treated as bedrock."""


def _section(s: SectionContext) -> list[Block]:
    """What the model treats as a hinge: the method, the headlines, per-fact and per-layer figures, the
    components' reliability, and the facts each model treats most and least as bedrock."""
    hf = s.tables.get(FACT_TABLE)
    if hf is None:
        return []
    blocks: list[Block] = [Heading("What the model treats as a hinge"), Paragraph(SECTION_TEXT)]
    if s.headlines:
        blocks.append(Table(s.headline_table(s.headlines), "hingeness headlines"))
    path = hingeness_strip(hf, s.fig_dir / "hingeness.png")
    if path is not None:
        blocks.append(
            Figure(
                path,
                "per-fact hingeness by the authors' kind; labelled: the hinges the model "
                "holds least and the contingent facts it holds most",
            )
        )
    if s.table is not None:
        path = hingeness_layers(s.table, s.fig_dir / "hingeness-layers.png")
        if path is not None:
            blocks.append(
                Figure(path, "hingeness per layer: partial RSA (hingeness and kind) and ridge read-out")
            )
        rel = s.table[s.table["statistic"].astype(str).str.startswith("reliability_")]
        if not rel.empty:
            blocks.append(
                Table(
                    rel.pivot_table(
                        index="statistic", columns="model", values="estimate", sort=False
                    ).reset_index(),
                    "split-half reliability over the general prompts (Spearman–Brown; "
                    "`salience_samples`: over halves of the elicitation's samples)",
                )
            )
    main = hf[~hf["model"].astype(str).str.contains("@")]
    ranked = main.dropna(subset=["hingeness"]).sort_values("hingeness", ascending=False)
    keep = [c for c in RANKED_COLUMNS if c in ranked.columns]
    if not ranked.empty:
        blocks.append(
            Table(
                pd.concat([ranked.head(5), ranked.tail(5)])[keep],
                "the five facts each model treats most and least as bedrock",
            )
        )
    return blocks
