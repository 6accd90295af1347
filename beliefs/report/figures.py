"""Figures of the report, drawn with matplotlib (Agg) from the result tables and the run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from beliefs.plotting import pyplot as _plt
from beliefs.plotting import save_figure as _save
from beliefs.results.verdict import ALPHA
from beliefs.rundata import RunData
from beliefs.schema import CLAIM_SIGN


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


def default_belief_bars(table: pd.DataFrame, out: Path) -> Path | None:
    """Share of facts whose true form wins under the empty prompt, per cell, with intervals."""
    data = table[
        (table["statistic"] == "share_true_wins")
        & (table["control"].fillna("") == "")
        & (table["condition"] == "empty")
    ]
    if data.empty:
        return None
    plt = _plt()
    models = list(dict.fromkeys(data["model"]))
    fig, axes = plt.subplots(1, len(models), figsize=(4.2 * len(models), 3.0), squeeze=False)
    for ax, model in zip(axes[0], models, strict=True):
        rows = data[data["model"] == model]
        x = np.arange(len(rows))
        colors = ["#c0504d" if "hinge" in s else "#4f81bd" for s in rows["subset"]]
        err = np.vstack([rows["estimate"] - rows["ci_low"], rows["ci_high"] - rows["estimate"]]).clip(0)
        ax.bar(x, rows["estimate"], color=colors, yerr=err, capsize=3)
        ax.axhline(0.5, color="grey", lw=0.8, ls="--")
        ax.set_xticks(x, rows["subset"], rotation=20, fontsize=7)
        ax.set_ylim(0, 1)
        ax.set_title(model)
        ax.set_ylabel("share of facts whose true form wins")
    fig.suptitle("default belief under the empty prompt (95% fact-bootstrap interval)", fontsize=9)
    return _save(fig, out)


def robustness_boxes(run: RunData, out: Path) -> Path | None:
    """Δmargin from empty, signed toward each context's claim, per cell and condition (causal LMs)."""
    margins = run.margins()
    if margins.empty:
        return None
    plt = _plt()
    controls = {m.name for m in run.models() if m.control}
    margins = margins[~margins["model"].isin(controls)]
    models = list(dict.fromkeys(margins["model"]))
    conditions = [c for c in run.conditions() if c != "empty"]
    if not models or not conditions:
        return None
    fig, axes = plt.subplots(
        len(models), 1, figsize=(1.6 * len(conditions) + 3, 3.0 * len(models)), squeeze=False
    )
    for ax, model in zip(axes[:, 0], models, strict=True):
        m = margins[margins["model"] == model]
        base = m[m["condition"] == "empty"].set_index(["fact_set", "fact_id"])["margin"]
        boxes, labels, colors = [], [], []
        for condition in conditions:
            rows = m[m["condition"] == condition].set_index(["fact_set", "fact_id"])
            sign = CLAIM_SIGN.get(condition, 1.0)
            delta = sign * (rows["margin"] - base.reindex(rows.index))
            for cell, values in delta.groupby(rows["domain"] + "/" + rows["kind"]):
                boxes.append(values.dropna().to_numpy())
                labels.append(f"{condition}\n{cell}")
                colors.append("#c0504d" if "hinge" in cell else "#4f81bd")
        parts = ax.boxplot(boxes, patch_artist=True, showfliers=False)
        for patch, color in zip(parts["boxes"], colors, strict=True):
            patch.set_facecolor(color)
            patch.set_alpha(0.6)
        ax.set_xticks(range(1, len(labels) + 1), labels, fontsize=6, rotation=90)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_ylabel("Δmargin toward the context (nats)")
        ax.set_title(model)
    fig.suptitle(
        "robustness: change of margin from the empty prompt (contradict: toward the false form)", fontsize=9
    )
    return _save(fig, out)


def projection(run: RunData, model: str, layer: int, out: Path) -> Path | None:
    """PCA of the empty-prompt states at ``layer``, coloured by kind, domain and truth."""
    facts = run.facts()
    try:
        true = run.states(model, "empty", "true", "last")[:, layer]
        false = run.states(model, "empty", "false", "last")[:, layer]
    except (KeyError, IndexError):
        return None
    x = np.vstack([true, false]).astype(np.float64)
    keep = ~np.isnan(x).any(axis=1)
    x = (x - x[keep].mean(0)) / (x[keep].std(0) + 1e-8)
    _, _, vt = np.linalg.svd(x[keep], full_matrices=False)
    xy = x @ vt[:2].T
    kind = np.concatenate([facts["kind"].to_numpy()] * 2)
    domain = np.concatenate([facts["domain"].to_numpy()] * 2)
    truth = np.array(["true"] * len(facts) + ["false"] * len(facts))
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4))
    for ax, (title, labels) in zip(axes, (("kind", kind), ("domain", domain), ("truth", truth)), strict=True):
        for value in sorted(set(labels)):
            sel = keep & (labels == value)
            ax.scatter(xy[sel, 0], xy[sel, 1], s=6, alpha=0.6, label=value)
        ax.set_title(f"coloured by {title}")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.legend(fontsize=7, frameon=False, markerscale=2)
    fig.suptitle(
        f"{model}, layer {layer}, empty prompt: first two principal components (z-scored)", fontsize=9
    )
    return _save(fig, out)


def truth_transfer_matrix(table: pd.DataFrame, out: Path) -> Path | None:
    """Truth-probe accuracy, train kind × test kind, averaged over the middle third of layers (empty)."""
    data = table[(table["condition"] == "empty") & (table["control"].fillna("") == "")]
    names = {
        ("hinge", "hinge"): "truth_acc_hinge",
        ("contingent", "contingent"): "truth_acc_contingent",
        ("hinge", "contingent"): "truth_transfer_hinge->contingent",
        ("contingent", "hinge"): "truth_transfer_contingent->hinge",
    }
    models = list(dict.fromkeys(data["model"]))
    if data.empty or not models:
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, len(models), figsize=(3.4 * len(models), 3.0), squeeze=False)
    kinds = ("hinge", "contingent")
    for ax, model in zip(axes[0], models, strict=True):
        rows = data[data["model"] == model]
        layers = sorted(rows["layer"].dropna().unique())
        if not layers:
            continue
        n = len(layers)
        mid = layers[n // 3 : max(n // 3 + 1, 2 * n // 3)]
        mat = np.full((2, 2), np.nan)
        for i, train in enumerate(kinds):
            for j, test in enumerate(kinds):
                sel = rows[(rows["statistic"] == names[(train, test)]) & rows["layer"].isin(mid)]
                mat[i, j] = sel["estimate"].mean() if not sel.empty else np.nan
        im = ax.imshow(mat, vmin=0.5, vmax=1.0, cmap="viridis")
        for i in range(2):
            for j in range(2):
                ax.text(j, i, f"{mat[i, j]:.2f}", ha="center", va="center", color="white", fontsize=9)
        ax.set_xticks([0, 1], [f"test {k}" for k in kinds])
        ax.set_yticks([0, 1], [f"train {k}" for k in kinds])
        ax.set_title(model)
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label="accuracy")
    fig.suptitle("truth-probe transfer between kinds (empty prompt, middle third of layers)", fontsize=9)
    return _save(fig, out)


def hingeness_strip(facts: pd.DataFrame, out: Path, label: int = 3) -> Path | None:
    """Per-fact hingeness against the authors' kind, per model and domain, with the facts the model treats
    most and least as bedrock labelled on the other side (hinges it holds least, contingent facts it holds
    most)."""
    data = facts[np.isfinite(pd.to_numeric(facts["hingeness"], errors="coerce"))]
    if data.empty:
        return None
    plt = _plt()
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
            for x, kind, color in ((0, "hinge", "#c0504d"), (1, "contingent", "#4f81bd")):
                sub = rows[rows["kind"] == kind]
                jitter = x + rng.uniform(-0.15, 0.15, len(sub))
                ax.scatter(jitter, sub["hingeness"], s=8, color=color, alpha=0.7)
            outliers = pd.concat(
                [
                    rows[rows["kind"] == "contingent"].nlargest(label, "hingeness").assign(x=1),
                    rows[rows["kind"] == "hinge"].nsmallest(label, "hingeness").assign(x=0),
                ]
            )
            for _, r in outliers.iterrows():
                ax.annotate(
                    str(r["fact_id"]),
                    (r["x"], r["hingeness"]),
                    fontsize=5,
                    xytext=(4, 0),
                    textcoords="offset points",
                )
            ax.set_xticks([0, 1], ["hinge", "contingent"])
            ax.axhline(0, color="grey", lw=0.6, ls="--")
            ax.set_title(f"{model} · {domain}", fontsize=8)
            ax.set_ylabel("hingeness (mean z)")
    fig.suptitle("what the model treats as a hinge, against the authors' kind", fontsize=9)
    return _save(fig, out)


HINGENESS_CURVES = (
    ("rsa", ("rsa_hingeness", "rsa_kind"), "partial RSA (surface, layer 0, topic partialled)"),
    ("readout", ("readout_r2", "readout_increment_r2"), "ridge read-out of hingeness (out-of-fold R²)"),
)


def hingeness_layers(table: pd.DataFrame, out: Path) -> Path | None:
    """``hingeness`` per layer: the partial RSA of hingeness beside the authors' kind, and the ridge
    read-out of hingeness from the states (alone, and its increment over the wording), one column per
    model, with the null's 95% band and dots where the max-statistic adjusted p ≤ α."""
    data = table[table["pooling"] == "last"].dropna(subset=["layer"])
    panels = [
        (name, stats, label) for name, stats, label in HINGENESS_CURVES if data["statistic"].isin(stats).any()
    ]
    if data.empty or not panels:
        return None
    plt = _plt()
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
    fig.tight_layout()
    return _save(fig, out)
