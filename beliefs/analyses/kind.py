"""``kind-probe`` and ``kind-distance``: do hinge and contingent states differ, layer by layer?"""

from __future__ import annotations

from typing import Any

import numpy as np

from beliefs.analyses import columns as C
from beliefs.analyses.context import AnalysisContext, Array, Output, aggregate, fill_family, headline, row
from beliefs.analyses.registry import register
from beliefs.rundata import POOLINGS
from beliefs.stats import (
    GramProbe,
    bootstrap_ci,
    centroid_distance_perm,
    collapse,
    energy_distance_perm,
    gram_distances,
    logistic_cv,
    membership,
    middle_third,
    percentile_interval,
    permutation_pvalues,
)

DOMAINS = ("logical", "physical")


def _families(rows: list[dict[str, Any]], nulls: list[Array], keys: tuple[str, ...]) -> None:
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault(tuple(r[k] for k in keys), []).append(i)
    for idx in groups.values():
        fill_family([rows[i] for i in idx], [nulls[i] for i in idx])


def _bacc_ci(ctx: AnalysisContext, correct: Array, rows: Array, labels: np.ndarray) -> tuple[float, float]:
    """Fact-bootstrap interval of a balanced accuracy from per-fact correct counts ``(n, k)`` (mean over k)."""
    pos = labels.astype(bool)

    def stat(index: np.ndarray, axis: int = -1) -> np.ndarray:
        idx = index.astype(np.intp)
        c, r, p = correct[idx], rows[idx], pos[idx]
        tpr = (c * p[..., None]).sum(axis=-2) / (r * p).sum(axis=-1)[..., None]
        tnr = (c * ~p[..., None]).sum(axis=-2) / (r * ~p).sum(axis=-1)[..., None]
        return np.asarray((0.5 * (tpr + tnr)).mean(axis=-1))

    facts = np.flatnonzero(rows > 0).astype(np.float64)
    return bootstrap_ci((facts,), stat, n_resamples=2000, seed=ctx.seed)


def _basic_interval(estimate: float, boot: Array) -> tuple[float, float]:
    """Basic (reverse-percentile) bootstrap interval: corrects the upward bias of distances under resampling."""
    if not np.isfinite(boot).any():
        return float("nan"), float("nan")
    lo, hi = percentile_interval(boot[:, None])
    return 2 * estimate - float(hi[0]), 2 * estimate - float(lo[0])


def _per_fact(values: Array, row_fact: np.ndarray, n: int) -> Array:
    out = np.zeros(n)
    np.add.at(out, row_fact, values)
    return out


@register("kind-probe")
def kind_probe(ctx: AnalysisContext) -> Output:
    """Cross-validated linear probe hinge vs contingent per layer: pooled, within domain, across domains."""
    out = Output()
    nulls: list[Array] = []
    domain_masks = {d: ctx.domains == d for d in DOMAINS if (ctx.domains == d).any()}
    for model in ctx.models:
        logit_ci, logit_est = (np.nan, np.nan), np.nan
        for condition in ctx.conditions:
            for pooling in POOLINGS:
                data = ctx.states(model.name, condition, pooling)
                n_layers = len(data.z)
                mid = set(middle_third(n_layers).tolist())
                n_present = int(np.unique(data.row_fact).size)
                agg_layers: list[Array] = []
                logistic: dict[int, tuple[Array, Array]] = {}
                seed_est: dict[int, float] = {}
                mm_correct: dict[int, Array] = {}
                for layer, z in enumerate(data.z):
                    probe = GramProbe(None, data.row_fact, ctx.n_facts, gram=data.gram(layer))
                    base = {C.LAYER: layer, C.POOLING: pooling, C.N_PERMUTATIONS: ctx.n_permutations}
                    null = probe.cv_balanced_accuracy(ctx.perms, ctx.fold_sets[0])
                    seeds = [null[0]] + [
                        float(probe.cv_balanced_accuracy(ctx.perms[:1], f)[0]) for f in ctx.fold_sets[1:]
                    ]
                    est = float(np.mean(seeds))
                    seed_est[layer] = est
                    if pooling == "last" and layer in mid:
                        mm_correct[layer] = _per_fact(
                            probe.cv_correct(ctx.labels, ctx.fold_sets[0]), data.row_fact, ctx.n_facts
                        )
                    r = row("kind-probe", model, condition, "massmean_bacc", **base)
                    r.update(
                        {C.ESTIMATE: est, C.CI_LOW: min(seeds), C.CI_HIGH: max(seeds), C.N_FACTS: n_present}
                    )
                    out.rows.append(r)
                    nulls.append(null)
                    agg_layers.append(null)
                    # Within-domain and transfer probes on the headline pooling only (time budget).
                    for d, mask in domain_masks.items() if pooling == "last" else ():
                        sub = probe.cv_balanced_accuracy(ctx.perms, ctx.fold_sets[0], mask)
                        r = row("kind-probe", model, condition, "massmean_bacc", **base)
                        n_sub = int(np.unique(data.row_fact[mask[data.row_fact]]).size)
                        r.update({C.SUBSET: d, C.ESTIMATE: float(sub[0]), C.N_FACTS: n_sub})
                        out.rows.append(r)
                        nulls.append(sub)
                        other = next((o for o in domain_masks if o != d), None)
                        if other is None:
                            continue
                        tr = probe.transfer_balanced_accuracy(ctx.perms, mask)
                        r = row("kind-probe", model, condition, "massmean_bacc", **base)
                        r.update({C.SUBSET: f"{d}->{other}", C.ESTIMATE: float(tr[0]), C.N_FACTS: n_present})
                        out.rows.append(r)
                        nulls.append(tr)
                    if pooling == "last" and layer in mid and condition == ctx.conditions[0]:
                        y = ctx.labels[data.row_fact]
                        accs, correct = logistic_cv(z, y, data.row_fact, ctx.fold_sets)
                        logistic[layer] = (accs, _per_fact(correct, data.row_fact, ctx.n_facts))
                        r = row("kind-probe", model, condition, "logistic_bacc", **base)
                        r.update({C.ESTIMATE: float(accs.mean()), C.N_FACTS: n_present, C.N_PERMUTATIONS: 0})
                        r[C.CI_LOW], r[C.CI_HIGH] = float(accs.min()), float(accs.max())
                        out.rows.append(r)
                        nulls.append(np.full(ctx.n_rows_null, np.nan))
                if pooling != "last":
                    continue
                agg = aggregate(agg_layers, n_layers)
                layers = middle_third(n_layers)
                rows_per_fact = _per_fact(np.ones(data.row_fact.size), data.row_fact, ctx.n_facts)
                if logistic:
                    correct = np.column_stack([logistic[i][1] for i in layers])
                    logit_ci = _bacc_ci(ctx, correct, rows_per_fact, ctx.labels)
                    logit_est = float(np.mean([logistic[i][0].mean() for i in layers]))
                lo, hi = _bacc_ci(
                    ctx, np.column_stack([mm_correct[i] for i in layers]), rows_per_fact, ctx.labels
                )
                p0 = permutation_pvalues(agg_layers[0])[0]
                out.headlines.append(
                    headline(
                        "kind-probe",
                        model,
                        condition,
                        "massmean_bacc",
                        n_layers,
                        estimate=float(np.mean([seed_est[i] for i in layers])),
                        ci_low=lo,
                        ci_high=hi,
                        p_value=float(permutation_pvalues(agg)[0]),
                        null=agg,
                        logistic_estimate=logit_est,
                        logistic_ci_low=logit_ci[0],
                        logistic_ci_high=logit_ci[1],
                        logistic_condition=ctx.conditions[0],
                        n_facts=n_present,
                        n_permutations=ctx.n_permutations,
                        layer0_estimate=float(agg_layers[0][0]),
                        layer0_p_value=float(p0),
                    )
                )
    _families(out.rows, nulls, (C.MODEL, C.POOLING, C.STATISTIC, C.SUBSET))
    return out


@register("kind-distance")
def kind_distance(ctx: AnalysisContext) -> Output:
    """Energy and centroid distance between hinge and contingent states per layer (z-scored features)."""
    out = Output()
    nulls: list[Array] = []
    for model in ctx.models:
        for condition in ctx.conditions:
            for pooling in POOLINGS:
                data = ctx.states(model.name, condition, pooling)
                n_layers = len(data.z)
                member = membership(data.row_fact, ctx.n_facts)
                rows_per_fact = member.sum(axis=0)
                n_present = int((rows_per_fact > 0).sum())
                per_stat: dict[str, tuple[list[Array], list[Array]]] = {
                    "energy": ([], []),
                    "centroid": ([], []),
                }
                boot_labels = np.broadcast_to(ctx.labels, ctx.boot.shape)
                for layer, z in enumerate(data.z):
                    k = data.gram(layer)
                    k_ff = collapse(k, member)
                    d_ff = collapse(gram_distances(k), member)
                    width = z.shape[1]
                    want_boot = pooling == "last"  # intervals for the headline pooling only (time budget)
                    nan = np.full(ctx.boot.shape[0], np.nan)
                    stats = {
                        "energy": (
                            energy_distance_perm(d_ff, ctx.perms, rows_per_fact),
                            energy_distance_perm(d_ff, boot_labels, rows_per_fact, ctx.boot)
                            if want_boot
                            else nan,
                        ),
                        "centroid": (
                            centroid_distance_perm(k_ff, ctx.perms, rows_per_fact, width),
                            centroid_distance_perm(k_ff, boot_labels, rows_per_fact, width, ctx.boot)
                            if want_boot
                            else nan,
                        ),
                    }
                    for name, (null, boot) in stats.items():
                        lo, hi = _basic_interval(float(null[0]), boot)
                        r = row("kind-distance", model, condition, name, layer=layer, pooling=pooling)
                        r.update(
                            {
                                C.ESTIMATE: float(null[0]),
                                C.CI_LOW: lo,
                                C.CI_HIGH: hi,
                                C.N_FACTS: n_present,
                                C.N_PERMUTATIONS: ctx.n_permutations,
                            }
                        )
                        out.rows.append(r)
                        nulls.append(null)
                        per_stat[name][0].append(null)
                        per_stat[name][1].append(boot)
                if pooling != "last":
                    continue
                for name in ("energy", "centroid"):
                    agg = aggregate(per_stat[name][0], n_layers)
                    lo, hi = _basic_interval(float(agg[0]), aggregate(per_stat[name][1], n_layers))
                    null0 = per_stat[name][0][0]
                    out.headlines.append(
                        headline(
                            "kind-distance",
                            model,
                            condition,
                            name,
                            n_layers,
                            estimate=float(agg[0]),
                            ci_low=lo,
                            ci_high=hi,
                            p_value=float(permutation_pvalues(agg)[0]),
                            null=agg,
                            n_facts=n_present,
                            n_permutations=ctx.n_permutations,
                            layer0_estimate=float(null0[0]),
                            layer0_p_value=float(permutation_pvalues(null0)[0]),
                        )
                    )
    _families(out.rows, nulls, (C.MODEL, C.POOLING, C.STATISTIC, C.SUBSET))
    return out
