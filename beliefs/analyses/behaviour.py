"""``default-belief`` and ``robustness``: margins and representation shifts, hinge vs contingent."""

from __future__ import annotations

from typing import Any

import numpy as np

from beliefs.analyses import columns as C
from beliefs.analyses.context import AnalysisContext, Array, Output, fill_family, headline, row
from beliefs.analyses.kind import DOMAINS, _families
from beliefs.analyses.registry import register
from beliefs.rundata import POOLINGS, ModelInfo
from beliefs.stats import (
    cliffs_delta,
    cliffs_delta_perm,
    delta_ci,
    diff_ci,
    freedman_lane,
    mannwhitney,
    mean_centred_cosine_shift,
    mean_ci,
    middle_third,
    permutation_pvalues,
)

CLAIM_SIGN = {"support": 1.0, "contradict": -1.0}
"""Δmargin is multiplied by this so that movement toward the context's claim is positive."""


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


@register("default-belief")
def default_belief(ctx: AnalysisContext) -> Output:
    """Margins per condition (the empty prompt first): share of true-form wins and mean margin, by kind."""
    out = Output()
    pending: list[tuple[dict[str, Any], Array]] = []
    for model in (m for m in ctx.models if ctx.has_margins(m)):
        for cond in ctx.conditions:
            margin = ctx.margins(model.name, cond)["margin"].to_numpy()
            for d in DOMAINS:
                for k, kname in ((1, "hinge"), (0, "contingent")):
                    sel = (ctx.domains == d) & (ctx.labels == k) & np.isfinite(margin)
                    for stat, vals in (
                        ("share_true_wins", (margin[sel] > 0).astype(float)),
                        ("mean_margin", margin[sel]),
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
            for subset, mask in (("pooled", None), *((d, ctx.domains == d) for d in DOMAINS)):
                for name, vals in (
                    ("margin", margin),
                    ("true_wins", np.where(np.isfinite(margin), margin > 0, np.nan)),
                ):
                    cmp = _compare(ctx, vals.astype(float), mask)
                    if not cmp["ok"]:
                        continue
                    pending += _compare_rows("default-belief", model, cond, name, cmp, subset=subset)
                    results[(subset, name)] = cmp
            if ("pooled", "margin") in results:
                m, w = results[("pooled", "margin")], results.get(("pooled", "true_wins"), {})
                out.headlines.append(
                    headline(
                        "default-belief",
                        model,
                        cond,
                        "margin_diff",
                        None,
                        estimate=m["diff"],
                        ci_low=m["diff_ci"][0],
                        ci_high=m["diff_ci"][1],
                        p_value=float(permutation_pvalues(m["diff_null"])[0]),
                        cliffs_delta=m["delta"],
                        mannwhitney_p=m["p_mw"],
                        mean_margin_hinge=m["mean_h"],
                        mean_margin_contingent=m["mean_c"],
                        share_true_wins_hinge=w.get("mean_h", np.nan),
                        share_true_wins_contingent=w.get("mean_c", np.nan),
                        n_facts=m["n"],
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


def _covariates(ctx: AnalysisContext, model: ModelInfo) -> Array:
    """Baseline margin and token count (causal LMs), statement length otherwise, plus the domain."""
    domain = (ctx.domains == DOMAINS[0]).astype(float)
    if ctx.has_margins(model):
        m = ctx.margins(model.name, "empty")
        return np.column_stack([domain, m["margin"], m["n_tokens_true"]])
    return np.column_stack(
        [domain, ctx.facts["statement"].astype(str).map(lambda t: len(t.split())).astype(float)]
    )


@register("robustness")
def robustness(ctx: AnalysisContext) -> Output:
    """How far each detailed condition moves states (shift) and margins (Δmargin), hinge vs contingent."""
    out = Output()
    pending: list[tuple[dict[str, Any], Array]] = []
    for model in ctx.models:
        cov = _covariates(ctx, model)
        for cond in ctx.conditions[1:]:
            head: dict[str, Any] = {}
            for pooling in POOLINGS:
                empty = ctx.run.states(model.name, "empty", "true", pooling)
                other = ctx.run.states(model.name, cond, "true", pooling)
                ok = np.all(np.isfinite(other), axis=(1, 2)) & np.all(np.isfinite(empty), axis=(1, 2))
                n_layers = empty.shape[1]
                shifts = np.full((ctx.n_facts, n_layers), np.nan)
                for layer in range(n_layers):
                    shifts[ok, layer] = mean_centred_cosine_shift(empty[ok, layer], other[ok, layer])
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
                        fl = freedman_lane(agg, ctx.labels, cov, ctx.domains, ctx.n_permutations, ctx.seed)
                        out.rows.append(_fl_row(model, cond, "shift_mid_hinge_coef", fl))
            dm_cmp: dict[str, Any] = {"ok": False}
            if ctx.has_margins(model):
                sign = CLAIM_SIGN.get(cond, 1.0)
                dm = (
                    sign
                    * (
                        ctx.margins(model.name, cond)["margin"] - ctx.margins(model.name, "empty")["margin"]
                    ).to_numpy()
                )
                name = "delta_margin_toward_claim" if cond in CLAIM_SIGN else "delta_margin"
                dm_cmp = _compare(ctx, dm)
                if dm_cmp["ok"]:
                    pending += _compare_rows("robustness", model, cond, name, dm_cmp)
                    fl = freedman_lane(dm, ctx.labels, cov, ctx.domains, ctx.n_permutations, ctx.seed)
                    out.rows.append(_fl_row(model, cond, f"{name}_hinge_coef", fl))
            shift = head.get("shift", {"ok": False})
            if shift["ok"]:
                extra = {}
                if dm_cmp["ok"]:
                    extra = {
                        "delta_margin_cliffs_delta": dm_cmp["delta"],
                        "delta_margin_p_value": float(permutation_pvalues(dm_cmp["delta_null"])[0]),
                        "delta_margin_mean_hinge": dm_cmp["mean_h"],
                        "delta_margin_mean_contingent": dm_cmp["mean_c"],
                    }
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
                        mannwhitney_p=shift["p_mw"],
                        shift_mean_hinge=shift["mean_h"],
                        shift_mean_contingent=shift["mean_c"],
                        n_facts=shift["n"],
                        n_permutations=ctx.n_permutations,
                        **extra,
                    )
                )
    _finish(out, pending)
    return out


def _fl_row(model: ModelInfo, cond: str, stat: str, fl: Any) -> dict[str, Any]:
    r = row("robustness", model, cond, stat, estimate=fl.estimate, ci_low=fl.ci_low, ci_high=fl.ci_high)
    r.update({C.P_VALUE: fl.p_value, C.N_FACTS: fl.n, C.N_PERMUTATIONS: fl.n_permutations})
    return r


__all__ = ["default_belief", "fill_family", "robustness"]
