"""The report's own figure: each registered ``curve`` per layer. An analysis's other figures are drawn by its
report section, in its own module."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from beliefs.plotting import pyplot as _plt
from beliefs.plotting import save_figure as _save
from beliefs.results.verdict import ALPHA


def layer_curves(table: pd.DataFrame, analysis: str, out: Path) -> Path | None:
    """Estimate per layer with its interval band, one panel per model, one line per condition (the
    statistic and subset the analysis registered as its ``curve``)."""
    from beliefs.analyses import ANALYSES

    curve = ANALYSES[analysis].curve
    if curve is None:
        raise ValueError(f"analysis '{analysis}' registered no per-layer curve")
    statistic, subset, label = curve.statistic, curve.subset, curve.label
    data = table[
        (table["statistic"] == statistic) & (table["subset"] == subset) & (table["pooling"] == "last")
    ]
    data = data.dropna(subset=["layer"])
    if data.empty:
        return None
    plt = _plt()
    models = list(dict.fromkeys(data["model"]))  # a control's name says so already (model@random-init)
    data = data.assign(label=data["model"])
    fig, axes = plt.subplots(1, len(models), figsize=(4.2 * len(models), 3.2), squeeze=False)
    for ax, model in zip(axes[0], models, strict=True):
        sub = data[data["label"] == model]
        for condition, rows in sub.groupby("condition", sort=False):
            rows = rows.sort_values("layer")
            line = ax.plot(rows["layer"], rows["estimate"], label=str(condition), lw=1.4)[0]
            if rows["ci_low"].notna().any():
                ax.fill_between(
                    rows["layer"], rows["ci_low"], rows["ci_high"], color=line.get_color(), alpha=0.15
                )
            sig = rows[rows["p_adjusted"] <= ALPHA]
            ax.scatter(sig["layer"], sig["estimate"], color=line.get_color(), s=12, zorder=3)
        if "null_low" in sub.columns and sub["null_low"].notna().any():
            null = sub.groupby("layer")[["null_low", "null_high"]].mean()
            ax.fill_between(
                null.index, null["null_low"], null["null_high"], color="grey", alpha=0.2, label="null 95%"
            )
        ax.set_title(model)
        ax.set_xlabel("layer (0 = embeddings)")
        ax.set_ylabel(label)
    axes[0][-1].legend(fontsize=7, frameon=False, loc="best")
    fig.suptitle(
        f"{analysis}: {statistic} per layer (bands: 95% interval; dots: p_adj ≤ {ALPHA})", fontsize=9
    )
    return _save(fig, out)
