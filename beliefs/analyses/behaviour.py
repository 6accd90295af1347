"""``default-belief`` and ``robustness``: margins and representation shifts, hinge vs contingent.

Margins are compared **per token** (``logp_true / n_true − logp_false / n_false``, nats per token), so
that a longer statement's larger sums do not count as a stronger belief. Each headline's beyond-surface
reading is the hinge term of a Freedman–Lane permutation regression of the per-fact values on the
surface covariates (:func:`_surface_covariates`): the kinds differ beyond domain, length and, for the
effect of a context, the baseline margin (a fact held near the ceiling cannot move far).

Each has its report section here: the share of true-form wins under the empty prompt per cell, and the
change of margin under each detailed prompt.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from beliefs.analyses.context import AnalysisContext, Array, Output, fill_family, headline, row
from beliefs.analyses.kind.common import _families
from beliefs.analyses.registry import SectionContext, register
from beliefs.plotting import KIND_COLORS, pyplot, save_figure
from beliefs.results import columns as C
from beliefs.results.document import Block, Figure, Heading
from beliefs.rundata import POOLINGS, ModelInfo, RunData
from beliefs.schema import CLAIM_SIGN
from beliefs.stats import (
    FreedmanLane,
    cliffs_delta,
    cliffs_delta_perm,
    delta_ci,
    diff_ci,
    freedman_lane,
    mannwhitney,
    mean_ci,
    middle_third,
    permutation_pvalues,
)
from beliefs.stats.equivalence import mde_planted, mean_diff_perm, mean_diff_se
from beliefs.stats.shift import centred_displacement


def _diff_null(values: Array, perms: np.ndarray) -> Array:
    """|mean(class 1) − mean(class 0)| for each labelling (NaN values left out)."""
    ok = np.isfinite(values)
    lab = perms[:, ok].astype(np.float64)
    v = values[ok]
    n1 = lab.sum(axis=1)
    out: Array = np.abs(lab @ v / n1 - (1.0 - lab) @ v / (ok.sum() - n1))
    return out


def _compare(ctx: AnalysisContext, values: Array, subset: np.ndarray | None = None) -> dict[str, Any]:
    """Hinge vs contingent on per-fact ``values``: difference of means, Cliff's δ, Mann–Whitney, CIs."""
    mask = np.isfinite(values) if subset is None else np.isfinite(values) & subset
    v = np.where(mask, values, np.nan)
    h, c = v[mask & (ctx.labels == 1)], v[mask & (ctx.labels == 0)]
    if h.size < 2 or c.size < 2:
        return {"n": int(mask.sum()), "ok": False}
    diff_null = _diff_null(v, ctx.perms)
    delta_null = np.abs(cliffs_delta_perm(v, ctx.perms))
    _, p_mw = mannwhitney(h, c)
    return {
        "ok": True,
        "n": int(mask.sum()),
        "diff": float(h.mean() - c.mean()),
        "diff_ci": diff_ci(h, c, seed=ctx.seed),
        "diff_null": diff_null,
        "delta": float(cliffs_delta(h, c)),
        "delta_ci": delta_ci(h, c, seed=ctx.seed),
        "delta_null": delta_null,
        "p_mw": p_mw,
        "mean_h": float(h.mean()),
        "mean_c": float(c.mean()),
    }


def _compare_rows(
    analysis: str, model: ModelInfo, cond: str, name: str, cmp: dict[str, Any], **extra: Any
) -> list[tuple[dict[str, Any], Array]]:
    base = {C.N_FACTS: cmp["n"], C.N_PERMUTATIONS: len(cmp["diff_null"]) - 1, **extra}
    r1 = row(analysis, model, cond, f"{name}_diff", estimate=cmp["diff"], **base)
    r1[C.CI_LOW], r1[C.CI_HIGH] = cmp["diff_ci"]
    r2 = row(analysis, model, cond, f"{name}_cliffs_delta", estimate=cmp["delta"], **base)
    r2[C.CI_LOW], r2[C.CI_HIGH] = cmp["delta_ci"]
    r3 = row(
        analysis, model, cond, f"{name}_mannwhitney_p", estimate=cmp["p_mw"], p_value=cmp["p_mw"], **base
    )
    r3[C.N_PERMUTATIONS] = 0
    return [(r1, cmp["diff_null"]), (r2, cmp["delta_null"]), (r3, np.full(len(cmp["diff_null"]), np.nan))]


def margin_per_token(m: Any) -> Array:
    """``logp_true / n_tokens_true − logp_false / n_tokens_false`` of a margins frame (nats per token)."""
    out: Array = (
        m["logp_true"] / m["n_tokens_true"].clip(lower=1)
        - m["logp_false"] / m["n_tokens_false"].clip(lower=1)
    ).to_numpy(dtype=float)
    return out


def _surface_covariates(ctx: AnalysisContext, model: ModelInfo, baseline: bool) -> tuple[Array, str]:
    """Per-fact surface covariates and their description: the domain and the statement's length (token
    counts of both forms for causal LMs, words otherwise), plus, with ``baseline``, the empty-prompt
    margin per token."""
    # one indicator per domain but the last (the reference): with two domains, "is the first"
    domain = [(ctx.domains == d).astype(float) for d in ctx.domain_names[:-1]]
    if ctx.has_margins(model):
        m = ctx.margins(model.name, "empty")
        cols = [*domain, m["n_tokens_true"].to_numpy(float), m["n_tokens_false"].to_numpy(float)]
        names = "domain + token counts"
        if baseline:
            cols.append(margin_per_token(m))
            names += " + baseline margin per token"
        return np.column_stack(cols), names
    words = ctx.facts["statement"].astype(str).map(lambda t: len(t.split())).to_numpy(float)
    return np.column_stack([*domain, words]), "domain + word count"


def _beyond_surface(
    ctx: AnalysisContext, values: Array, cov: Array, names: str
) -> tuple[dict[str, Any], Any]:
    """Freedman–Lane test of the hinge term adjusted for ``cov``: the headline's beyond-surface keys.

    Covariates that do not vary (every statement one token long, say) are left out."""
    with np.errstate(invalid="ignore"):
        varies = np.nanstd(cov, axis=0) > 0
    cov = cov[:, varies]
    paired = _paired_within(ctx, values, cov)
    if paired is not None:
        fl, test = (
            paired,
            (
                "within-pair test: hinge - contingent twin differences regressed on the twins' differences in "
                f"{names}, intercept tested by sign flips of the reduced model's residuals (t, OLS SE); its "
                "interval from the same regression"
            ),
        )
    else:
        with warnings.catch_warnings():  # collinear covariates (equal token counts): pinv copes
            warnings.simplefilter("ignore")
            # residuals exchanged within the plain null's strata (the domain)
            fl = freedman_lane(values, ctx.labels, cov, ctx.null_strata, ctx.n_permutations, ctx.seed)
        test = f"Freedman-Lane permutation test of the hinge term (HC3-studentised), adjusted for {names}"
    keys = {
        "p_beyond_surface": fl.p_value,
        "beyond_surface_test": test,
        "adjusted_hinge_coef": fl.estimate,
        "adjusted_hinge_coef_ci_low": fl.ci_low,
        "adjusted_hinge_coef_ci_high": fl.ci_high,
    }
    return keys, fl


def _paired_within(ctx: AnalysisContext, values: Array, cov: Array) -> FreedmanLane | None:
    """On a set whose facts all sit in declared hinge/contingent pairs, the hinge effect at equal surface
    within pairs (:func:`beliefs.stats.paired.paired_adjusted`): the test and the interval of one
    regression, both following the paired design (a Freedman-Lane fit over facts would give an unpaired
    interval beside a within-pair test). None elsewhere, or with fewer than 4 usable pairs."""
    from scipy.stats import t as student_t

    from beliefs.analyses.surface import declared_pairs
    from beliefs.stats.paired import pair_differences, paired_adjusted

    pairs = declared_pairs(ctx)
    if 2 * len(pairs) != ctx.n_facts or len(pairs) > ctx.flips.shape[1]:
        return None
    found = paired_adjusted(pair_differences(values, pairs), pair_differences(cov, pairs), ctx.flips)
    if found.n_pairs < 4 or not np.isfinite(found.t) or found.t == 0:
        return None
    se = abs(found.estimate / found.t)
    half = float(student_t.ppf(0.975, found.n_pairs - found.n_covariates - 1)) * se
    p = float(permutation_pvalues(np.abs(found.null))[0])
    return FreedmanLane(
        found.estimate,
        found.estimate - half,
        found.estimate + half,
        found.t,
        p,
        2 * found.n_pairs,
        ctx.n_permutations,
    )


def _mde(ctx: AnalysisContext, values: Array, delta: bool) -> float:
    """80%-power MDE of the headline's permutation test by planted shifts (Cliff's δ or mean difference)."""
    scale = mean_diff_se(values, ctx.labels)
    if delta:  # ranks are recomputed for every planted shift: fewer simulated studies (time budget)
        grid = (1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0)
        return mde_planted(
            values, ctx.perms, cliffs_delta_perm, scale, seed=ctx.seed, n_sim=50, n_null=49, grid=grid
        )
    return mde_planted(values, ctx.perms, mean_diff_perm, scale, seed=ctx.seed, n_sim=100, n_null=99)


def default_belief_bars(table: pd.DataFrame, out: Path) -> Path | None:
    """Share of facts whose true form wins under the empty prompt, per cell, with intervals."""
    data = table[
        (table["statistic"] == "share_true_wins")
        & (table["control"].fillna("") == "")
        & (table["condition"] == "empty")
    ]
    if data.empty:
        return None
    plt = pyplot()
    models = list(dict.fromkeys(data["model"]))
    fig, axes = plt.subplots(1, len(models), figsize=(4.2 * len(models), 3.0), squeeze=False)
    for ax, model in zip(axes[0], models, strict=True):
        rows = data[data["model"] == model]
        x = np.arange(len(rows))
        colors = [KIND_COLORS["hinge"] if "hinge" in s else KIND_COLORS["contingent"] for s in rows["subset"]]
        err = np.vstack([rows["estimate"] - rows["ci_low"], rows["ci_high"] - rows["estimate"]]).clip(0)
        ax.bar(x, rows["estimate"], color=colors, yerr=err, capsize=3)
        ax.axhline(0.5, color="grey", lw=0.8, ls="--")
        ax.set_xticks(x, rows["subset"], rotation=20, fontsize=7)
        ax.set_ylim(0, 1)
        ax.set_title(model)
        ax.set_ylabel("share of facts whose true form wins")
    fig.suptitle("default belief under the empty prompt (95% fact-bootstrap interval)", fontsize=9)
    return save_figure(fig, out)


def _default_belief_section(s: SectionContext) -> list[Block]:
    """The share of true-form wins under the empty prompt, per cell."""
    blocks: list[Block] = [Heading("Default belief under the empty prompt")]
    path = None if s.table is None else default_belief_bars(s.table, s.fig_dir / "default-belief.png")
    if path:
        blocks.append(Figure(path, "share of facts whose true form has the higher log-probability, per cell"))
    return blocks


@register(
    "default-belief",
    question="Under the empty prompt, hinge and contingent facts differ in margin",
    cost=1.0,
    section=_default_belief_section,
)
def default_belief(ctx: AnalysisContext) -> Output:
    """Margins per condition (the empty prompt first): share of true-form wins and margin per token, by kind."""
    out = Output()
    pending: list[tuple[dict[str, Any], Array]] = []
    for model in (m for m in ctx.models if ctx.has_margins(m)):
        cov, names = _surface_covariates(ctx, model, baseline=False)
        for cond in ctx.conditions:
            frame = ctx.margins(model.name, cond)
            margin = frame["margin"].to_numpy()
            per_token = margin_per_token(frame)
            for d in ctx.domain_names:
                for k, kname in ((1, "hinge"), (0, "contingent")):
                    sel = (ctx.domains == d) & (ctx.labels == k) & np.isfinite(margin)
                    for stat, vals in (
                        ("share_true_wins", (margin[sel] > 0).astype(float)),
                        ("mean_margin", margin[sel]),
                        ("mean_margin_per_token", per_token[sel]),
                    ):
                        r = row(
                            "default-belief",
                            model,
                            cond,
                            stat,
                            subset=f"{d}/{kname}",
                            n_facts=int(sel.sum()),
                            n_permutations=0,
                        )
                        r[C.ESTIMATE] = float(vals.mean()) if vals.size else np.nan
                        r[C.CI_LOW], r[C.CI_HIGH] = mean_ci(vals, seed=ctx.seed)
                        out.rows.append(r)
            results = {}
            for subset, mask in (("pooled", None), *((d, ctx.domains == d) for d in ctx.domain_names)):
                for name, vals in (
                    ("margin_per_token", per_token),
                    ("margin", margin),
                    ("true_wins", np.where(np.isfinite(margin), margin > 0, np.nan)),
                ):
                    cmp = _compare(ctx, vals.astype(float), mask)
                    if not cmp["ok"]:
                        continue
                    pending += _compare_rows("default-belief", model, cond, name, cmp, subset=subset)
                    results[(subset, name)] = cmp
            if ("pooled", "margin_per_token") in results:
                m = results[("pooled", "margin_per_token")]
                total = results.get(("pooled", "margin"), {})
                w = results.get(("pooled", "true_wins"), {})
                beyond, _ = _beyond_surface(ctx, per_token, cov, names)
                out.headlines.append(
                    headline(
                        "default-belief",
                        model,
                        cond,
                        "margin_per_token_diff",
                        None,
                        estimate=m["diff"],
                        ci_low=m["diff_ci"][0],
                        ci_high=m["diff_ci"][1],
                        p_value=float(permutation_pvalues(m["diff_null"])[0]),
                        **beyond,
                        mde_80=_mde(ctx, per_token, delta=False),
                        mde_method="planted shifts of the per-fact values against the permutation null",
                        cliffs_delta=m["delta"],
                        mannwhitney_p=m["p_mw"],
                        mean_margin_per_token_hinge=m["mean_h"],
                        mean_margin_per_token_contingent=m["mean_c"],
                        margin_diff=total.get("diff", np.nan),
                        margin_diff_p_value=float(permutation_pvalues(total["diff_null"])[0])
                        if total
                        else np.nan,
                        share_true_wins_hinge=w.get("mean_h", np.nan),
                        share_true_wins_contingent=w.get("mean_c", np.nan),
                        n_facts=m["n"],
                        n_permutations=ctx.n_permutations,
                    )
                )
                for d in ctx.domain_names if len(ctx.domain_names) > 1 else ():
                    md = results.get((d, "margin_per_token"))
                    if md is None:
                        continue
                    in_d = np.where(ctx.domains == d, per_token, np.nan)
                    beyond_d, _ = _beyond_surface(ctx, in_d, cov, names)
                    out.headlines.append(
                        headline(
                            "default-belief",
                            model,
                            cond,
                            "margin_per_token_diff",
                            None,
                            subset=d,
                            domain=d,
                            estimate=md["diff"],
                            ci_low=md["diff_ci"][0],
                            ci_high=md["diff_ci"][1],
                            p_value=float(permutation_pvalues(md["diff_null"])[0]),
                            **beyond_d,
                            cliffs_delta=md["delta"],
                            mean_margin_per_token_hinge=md["mean_h"],
                            mean_margin_per_token_contingent=md["mean_c"],
                            n_facts=md["n"],
                            n_permutations=ctx.n_permutations,
                        )
                    )
    _finish(out, pending)
    return out


def _finish(out: Output, pending: list[tuple[dict[str, Any], Array]]) -> None:
    rows = [r for r, _ in pending]
    nulls = [n for _, n in pending]
    tested = [i for i, r in enumerate(rows) if not r[C.STATISTIC].endswith("_mannwhitney_p")]
    _families(
        [rows[i] for i in tested], [nulls[i] for i in tested], (C.MODEL, C.POOLING, C.STATISTIC, C.SUBSET)
    )
    out.rows.extend(rows)


def robustness_boxes(run: RunData, out: Path) -> Path | None:
    """Δmargin from empty, signed toward each context's claim, per cell and condition (causal LMs)."""
    margins = run.margins()
    if margins.empty:
        return None
    plt = pyplot()
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
                colors.append(KIND_COLORS["hinge"] if "hinge" in cell else KIND_COLORS["contingent"])
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
    return save_figure(fig, out)


def _robustness_section(s: SectionContext) -> list[Block]:
    """How far the detailed prompts move each cell's margins (read from the run's margins)."""
    blocks: list[Block] = [Heading("Robustness to detailed prompts")]
    path = robustness_boxes(s.run, s.fig_dir / "robustness.png")
    if path:
        blocks.append(Figure(path, "Δmargin from the empty prompt per cell and condition"))
    return blocks


@register(
    "robustness",
    question="Detailed prompts move hinge and contingent facts differently",
    cost=2.0,
    section=_robustness_section,
)
def robustness(ctx: AnalysisContext) -> Output:
    """How far each detailed condition moves states (displacement) and margins per token, by kind."""
    out = Output()
    pending: list[tuple[dict[str, Any], Array]] = []
    for model in ctx.models:
        cov, names = _surface_covariates(ctx, model, baseline=True)
        for cond in ctx.conditions[1:]:
            head: dict[str, Any] = {}
            for pooling in POOLINGS:
                empty = ctx.run.states(model.name, "empty", "true", pooling)
                other = ctx.run.states(model.name, cond, "true", pooling)
                ok = np.all(np.isfinite(other), axis=(1, 2)) & np.all(np.isfinite(empty), axis=(1, 2))
                n_layers = empty.shape[1]
                shifts = np.full((ctx.n_facts, n_layers), np.nan)
                for layer in range(n_layers):
                    shifts[ok, layer] = centred_displacement(empty[ok, layer], other[ok, layer])
                    null = np.abs(cliffs_delta_perm(shifts[:, layer], ctx.perms))
                    r = row("robustness", model, cond, "shift_cliffs_delta", layer=layer, pooling=pooling)
                    r.update({C.ESTIMATE: float(cliffs_delta_perm(shifts[:, layer], ctx.perms[:1])[0])})
                    r.update({C.N_FACTS: int(ok.sum()), C.N_PERMUTATIONS: ctx.n_permutations})
                    pending.append((r, null))
                if pooling == "last":
                    agg = shifts[:, middle_third(n_layers)].mean(axis=1)
                    cmp = _compare(ctx, agg)
                    head = {"shift": cmp, "agg": agg, "n_layers": n_layers}
                    if cmp["ok"]:
                        pending += _compare_rows("robustness", model, cond, "shift_mid", cmp, pooling=pooling)
                        head["beyond"], fl = _beyond_surface(ctx, agg, cov, names)
                        out.rows.append(_fl_row(model, cond, "shift_mid_hinge_coef", fl))
            shift = head.get("shift", {"ok": False})
            if shift["ok"]:
                out.headlines.append(
                    headline(
                        "robustness",
                        model,
                        cond,
                        "shift_cliffs_delta",
                        head["n_layers"],
                        estimate=shift["delta"],
                        ci_low=shift["delta_ci"][0],
                        ci_high=shift["delta_ci"][1],
                        p_value=float(permutation_pvalues(shift["delta_null"])[0]),
                        **head["beyond"],
                        mde_80=_mde(ctx, head["agg"], delta=True),
                        mde_method="planted shifts of the per-fact values against the permutation null",
                        mannwhitney_p=shift["p_mw"],
                        shift_mean_hinge=shift["mean_h"],
                        shift_mean_contingent=shift["mean_c"],
                        n_facts=shift["n"],
                        n_permutations=ctx.n_permutations,
                    )
                )
            if ctx.has_margins(model):
                _margin_shift(ctx, model, cond, cov, names, out, pending)
    _finish(out, pending)
    return out


def _margin_shift(
    ctx: AnalysisContext,
    model: ModelInfo,
    cond: str,
    cov: Array,
    names: str,
    out: Output,
    pending: list[tuple[dict[str, Any], Array]],
) -> None:
    """Δmargin per token from ``empty`` to ``cond`` (signed toward the context's claim), hinge vs contingent."""
    sign = CLAIM_SIGN.get(cond, 1.0)
    base = margin_per_token(ctx.margins(model.name, "empty"))
    dm = sign * (margin_per_token(ctx.margins(model.name, cond)) - base)
    name = "delta_margin_per_token"
    cmp = _compare(ctx, dm)
    if not cmp["ok"]:
        return
    pending += _compare_rows("robustness", model, cond, name, cmp)
    beyond, fl = _beyond_surface(ctx, dm, cov, names)
    out.rows.append(_fl_row(model, cond, f"{name}_hinge_coef", fl))
    out.headlines.append(
        headline(
            "robustness",
            model,
            cond,
            f"{name}_diff",
            None,
            estimate=cmp["diff"],
            ci_low=cmp["diff_ci"][0],
            ci_high=cmp["diff_ci"][1],
            p_value=float(permutation_pvalues(cmp["diff_null"])[0]),
            **beyond,
            mde_80=_mde(ctx, dm, delta=False),
            mde_method="planted shifts of the per-fact values against the permutation null",
            toward_claim=cond in CLAIM_SIGN,
            cliffs_delta=cmp["delta"],
            mean_hinge=cmp["mean_h"],
            mean_contingent=cmp["mean_c"],
            n_facts=cmp["n"],
            n_permutations=ctx.n_permutations,
        )
    )


def _fl_row(model: ModelInfo, cond: str, stat: str, fl: Any) -> dict[str, Any]:
    r = row("robustness", model, cond, stat, estimate=fl.estimate, ci_low=fl.ci_low, ci_high=fl.ci_high)
    r.update({C.P_VALUE: fl.p_value, C.N_FACTS: fl.n, C.N_PERMUTATIONS: fl.n_permutations})
    return r


__all__ = ["default_belief", "fill_family", "margin_per_token", "robustness"]
