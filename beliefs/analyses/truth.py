"""``truth-geometry``: true-vs-false probes within each kind, transfer between kinds, and whether the two
kinds share one truth direction (a strength-invariant test: :mod:`beliefs.stats.directions`).

Its report section, "Geometry": each model's empty-prompt states projected on their first two principal
components at the middle layer, and the truth-transfer matrix (train on one kind, test on the other)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from beliefs.analyses.context import (
    LAYER0_POOLING,
    AnalysisContext,
    Array,
    Output,
    aggregate,
    headline,
    row,
)
from beliefs.analyses.kind.common import _families, weighted_ci
from beliefs.analyses.registry import Curve, SectionContext, register
from beliefs.fileio import safe_filename
from beliefs.plotting import KIND_COLORS, pyplot, save_figure
from beliefs.results import columns as C
from beliefs.results.document import Block, Figure, Heading
from beliefs.rundata import POOLINGS, RunData
from beliefs.stats import TruthProbe, middle_third, permutation_pvalues
from beliefs.stats.directions import TruthDirections, angle, plain_angle_degrees
from beliefs.stats.equivalence import mde_from_null

ANGLE = "truth_direction_angle"
"""The headline: angle between the kinds' truth directions, corrected for estimation noise and blind to
the strength of each kind's truth signal; its p comes from the studentised statistic's permutations."""


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
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4))
    for ax, (title, labels) in zip(axes, (("kind", kind), ("domain", domain), ("truth", truth)), strict=True):
        for value in sorted(set(labels)):
            sel = keep & (labels == value)
            color = KIND_COLORS.get(str(value)) if title == "kind" else None
            ax.scatter(xy[sel, 0], xy[sel, 1], s=6, alpha=0.6, label=value, color=color)
        ax.set_title(f"coloured by {title}")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.legend(fontsize=7, frameon=False, markerscale=2)
    fig.suptitle(
        f"{model}, layer {layer}, empty prompt: first two principal components (z-scored)", fontsize=9
    )
    return save_figure(fig, out)


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
    plt = pyplot()
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
                ax.text(j, i, f"{mat[i, j]:.3g}", ha="center", va="center", color="white", fontsize=9)
        ax.set_xticks([0, 1], list(kinds))
        ax.set_yticks([0, 1], list(kinds))
        ax.set_xlabel("tested on")
        ax.set_ylabel("trained on")
        ax.set_title(model)
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label="truth-probe accuracy")
    fig.suptitle("truth-probe transfer between kinds (empty prompt, middle third of layers)", fontsize=9)
    return save_figure(fig, out)


def _section(s: SectionContext) -> list[Block]:
    """Geometry: each model's states projected at its middle layer, and the truth-transfer matrix."""
    blocks: list[Block] = [Heading("Geometry")]
    for m in s.run.models():
        if m.control:
            continue
        layer = m.n_layers // 2
        path = projection(s.run, m.name, layer, s.fig_dir / f"projection-{safe_filename(m.name)}.png")
        if path:
            blocks.append(Figure(path, f"{m.name}: PCA of the empty-prompt states at layer {layer}"))
    if s.table is not None:
        path = truth_transfer_matrix(s.table, s.fig_dir / "truth-transfer.png")
        if path:
            blocks.append(Figure(path, "truth-probe accuracy: train on one kind, test on the other"))
    return blocks


@register(
    "truth-geometry",
    question="Truth is encoded along different directions for the two kinds (strength-invariant)",
    cost=11.0,
    curve=Curve(
        "truth_direction_angle", "pooled", "angle between truth directions, noise-corrected (degrees)"
    ),
    section=_section,
)
def truth_geometry(ctx: AnalysisContext) -> Output:
    """Truth probes per kind (sign-flip null), transfer between kinds, shared truth direction (angle)."""
    out = Output()
    rows: list[dict[str, Any]] = []
    nulls: list[Array] = []
    bands: list[tuple[dict[str, Any], Array]] = []
    layer0: dict[tuple[str, str], tuple[float, Array]] = {}
    for model in ctx.models:
        for cond in ctx.conditions:
            for pooling in POOLINGS:
                data = ctx.states(model.name, cond, pooling)
                t_idx = {f: i for i, f in enumerate(data.row_fact[data.form == 1])}
                f_idx = {f: i for i, f in enumerate(data.row_fact[data.form == 0])}
                facts = np.array(sorted(set(t_idx) & set(f_idx)), dtype=np.intp)
                rt = np.flatnonzero(data.form == 1)[[t_idx[f] for f in facts]]
                rf = np.flatnonzero(data.form == 0)[[f_idx[f] for f in facts]]
                hinge = ctx.labels[facts] == 1
                if hinge.sum() < 4 or (~hinge).sum() < 4:
                    continue
                flips = ctx.flips[:, facts]
                perms = ctx.perms[:, facts]
                folds = ctx.fold_sets[0][facts]
                # the kinds' rows, flips and folds, gathered once for every layer
                rt_h, rf_h, rt_c, rf_c = rt[hinge], rf[hinge], rt[~hinge], rf[~hinge]
                flips_h, flips_c = flips[:, hinge], flips[:, ~hinge]
                folds_h, folds_c = folds[hinge], folds[~hinge]
                per: dict[str, list[Array]] = {}
                mid = set(middle_third(len(data.z)).tolist())
                g_mid = np.zeros((facts.size, facts.size))
                for layer in range(len(data.z)):
                    k = data.gram(layer)
                    probe = TruthProbe.from_gram(k, rt, rf)
                    directions = TruthDirections(probe.g_dd)
                    # the angle's permutation null on the headline pooling and the layer-0 reference only
                    # (time budget); other poolings carry the estimate
                    tested = pooling == "last" or (pooling == LAYER0_POOLING and layer == 0)
                    rho, t = directions.rho(perms if tested else perms[:1])
                    if not tested:
                        rho = np.concatenate([rho, np.full(perms.shape[0] - 1, np.nan)])
                        t = np.full(perms.shape[0], np.nan)
                    angles = angle(rho)
                    stats = {
                        "truth_acc_hinge": TruthProbe.from_gram(k, rt_h, rf_h).cv_accuracy(flips_h, folds_h),
                        "truth_acc_contingent": TruthProbe.from_gram(k, rt_c, rf_c).cv_accuracy(
                            flips_c, folds_c
                        ),
                        "truth_transfer_hinge->contingent": probe.transfer_accuracy(flips, hinge),
                        "truth_transfer_contingent->hinge": probe.transfer_accuracy(flips, ~hinge),
                        ANGLE: _null_t(t),
                    }
                    if pooling == "last" and layer in mid:
                        g_mid += probe.g_dd
                    for name, null in stats.items():
                        r = row("truth-geometry", model, cond, name, layer=layer, pooling=pooling)
                        r.update(
                            {
                                C.ESTIMATE: float(angles[0] if name == ANGLE else null[0]),
                                C.N_FACTS: int(facts.size),
                                C.N_PERMUTATIONS: ctx.n_permutations,
                            }
                        )
                        rows.append(r)
                        nulls.append(null)
                        if name == ANGLE:
                            bands.append((r, angles))
                        per.setdefault(name, []).append(null)
                if pooling == LAYER0_POOLING:
                    layer0[(model.name, cond)] = (float(bands[-len(data.z)][1][0]), per[ANGLE][0])
                if pooling != "last":
                    continue
                n_layers = len(data.z)
                out.headlines.append(_headline(ctx, model, cond, n_layers, facts, g_mid, per))
    for h in out.headlines:  # the layer-0 (lexical) reference: its angle, and the p of its t
        ref = layer0.get((h[C.MODEL], h[C.CONDITION]))
        if ref is not None:
            h["layer0_estimate"], h["layer0_p_value"] = ref[0], float(permutation_pvalues(ref[1])[0])
            h["layer0_pooling"] = LAYER0_POOLING
    _families(rows, nulls, (C.MODEL, C.POOLING, C.STATISTIC, C.SUBSET))
    for r, angles in bands:  # the chance band of the angle rows in degrees (their p-values come from t)
        null = angles[1:]
        r[C.NULL_LOW], r[C.NULL_HIGH] = (
            (float(v) for v in np.nanpercentile(null, [2.5, 97.5]))
            if np.isfinite(null).any()
            else (np.nan, np.nan)
        )
    out.rows = rows
    return out


def _null_t(t: Array) -> Array:
    """The studentised statistic with undefined permutations (a pseudo-kind without truth signal, whose
    direction cannot be compared) read as no difference (0); the observed value is kept as it is."""
    out = t.copy()
    out[1:] = np.where(np.isfinite(t[1:]), t[1:], 0.0)
    return out


def _headline(
    ctx: AnalysisContext,
    model: Any,
    cond: str,
    n_layers: int,
    facts: np.ndarray,
    g_mid: Array,
    per: dict[str, list[Array]],
) -> dict[str, Any]:
    """The headline angle from the middle third's layers concatenated (their Gram matrices summed)."""
    perms = ctx.perms[:, facts]
    directions = TruthDirections(g_mid)
    rho, t = directions.rho(perms)
    angles = angle(rho)
    present = np.zeros(ctx.n_facts, dtype=bool)
    present[facts] = True

    def stat(labels: np.ndarray, weights: Array) -> Array:
        return directions.angle_degrees(labels[:, facts], weights[:, facts])

    lo, hi = weighted_ci(ctx, present, stat)
    extras: dict[str, Any] = {}
    for name, nl in per.items():
        if name != ANGLE:
            a = aggregate(nl, n_layers)
            extras[name] = float(a[0])
            extras[f"{name}_p_value"] = float(permutation_pvalues(a)[0])
    return headline(
        "truth-geometry",
        model,
        cond,
        ANGLE,
        n_layers,
        estimate=float(angles[0]),
        ci_low=lo,
        ci_high=hi,
        p_value=float(permutation_pvalues(_null_t(t))[0]),
        null=angles,
        mde_80=mde_from_null(angles),
        mde_method="location shift of the angle's permutation null",
        cosine=float(rho[0]),
        # the kinds' truth directions estimated as identical beyond noise (rho >= 1, e.g. twins sharing
        # their wording across kinds): the noise-corrected angle is clipped at 0 and is not a finding
        degenerate=bool(not np.isfinite(rho[0]) or rho[0] >= 1.0),
        plain_angle_degrees=float(plain_angle_degrees(g_mid, perms[:1])[0]),
        test_statistic="studentised sqrt(B*D) - A (beliefs.stats.directions)",
        n_facts=int(facts.size),
        n_permutations=ctx.n_permutations,
        **extras,
    )
