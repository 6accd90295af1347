"""``kind-probe`` and ``kind-distance``: do hinge and contingent states differ, layer by layer?"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from beliefs.analyses import columns as C
from beliefs.analyses.context import (
    LAYER0_POOLING,
    AnalysisContext,
    Array,
    Output,
    aggregate,
    attach_layer0,
    fill_family,
    headline,
    row,
)
from beliefs.analyses.registry import register
from beliefs.rundata import POOLINGS
from beliefs.stats import (
    CVPlan,
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


def _percentile(boot: Array) -> tuple[float, float]:
    """Percentile interval of per-layer bootstrap replicates (NaN when there are none)."""
    if not np.isfinite(boot).any():
        return float("nan"), float("nan")
    lo, hi = percentile_interval(boot[:, None])
    return float(lo[0]), float(hi[0])


def weighted_ci(
    ctx: AnalysisContext, present: np.ndarray, stat: Callable[[np.ndarray, Array], Array]
) -> tuple[float, float]:
    """BCa fact-bootstrap interval of a statistic of fact weights (NaN where BCa fails).

    Hinge and contingent facts among ``present`` are resampled separately (scipy ``bootstrap``);
    ``stat(labels, weights)`` gets ``(B, n_facts)`` labels and multiplicities and returns ``(B,)``.
    Headlines of distances and angles use this: resampling inflates them (duplicated facts, small-sample
    bias), which BCa corrects. When nearly every resample exceeds the estimate (a distance at its
    small-sample floor, as in a random-init control) BCa is undefined, and a percentile interval would
    lie wholly above the estimate: no interval is reported then; the null mean gives the chance level.
    """
    n = ctx.n_facts
    groups = [np.flatnonzero(present & (ctx.labels == k)).astype(np.float64) for k in (1, 0)]

    def batched(h: np.ndarray, c: np.ndarray, axis: int = -1) -> np.ndarray:
        idx = np.concatenate([np.asarray(h), np.asarray(c)], axis=-1).astype(np.intp)
        flat = idx.reshape(-1, idx.shape[-1])
        offsets = np.arange(flat.shape[0])[:, None] * n + flat
        w = np.bincount(offsets.ravel(), minlength=flat.shape[0] * n).reshape(-1, n).astype(np.float64)
        values = stat(np.broadcast_to(ctx.labels, w.shape), w)
        return np.asarray(values).reshape(idx.shape[:-1])

    return bootstrap_ci((groups[0], groups[1]), batched, n_resamples=2000, seed=ctx.seed, fallback=False)


def _per_fact(values: Array, row_fact: np.ndarray, n: int) -> Array:
    out = np.zeros(n)
    np.add.at(out, row_fact, values)
    return out


def _distance_stat(
    name: str, mats: list[Array], rows_per_fact: Array, width: int
) -> Callable[[np.ndarray, Array], Array]:
    """The headline distance (mean over the given layers' fact-level matrices) for weighted facts."""

    def stat(labels: np.ndarray, weights: Array) -> Array:
        if name == "energy":
            values = [energy_distance_perm(m, labels, rows_per_fact, weights) for m in mats]
        else:
            values = [centroid_distance_perm(m, labels, rows_per_fact, width, weights) for m in mats]
        return np.asarray(np.mean(values, axis=0))

    return stat


@register("kind-probe")
def kind_probe(ctx: AnalysisContext) -> Output:
    """Cross-validated linear probe hinge vs contingent per layer: pooled, within domain, across domains."""
    out = Output()
    nulls: list[Array] = []
    domain_masks = {d: ctx.domains == d for d in DOMAINS if (ctx.domains == d).any()}
    layer0: dict[tuple[str, str, str], Array] = {}
    for model in ctx.models:
        logit_ci, logit_est = (np.nan, np.nan), np.nan
        for condition in ctx.conditions:
            for pooling in POOLINGS:
                data = ctx.states(model.name, condition, pooling)
                n_layers = len(data.z)
                mid = set(middle_third(n_layers).tolist())
                n_present = int(np.unique(data.row_fact).size)
                agg_layers: list[Array] = []
                # label-dependent parts of the CV probes, shared by every layer of these rows
                rows_per_fact = _per_fact(np.ones(data.row_fact.size), data.row_fact, ctx.n_facts)
                plan = CVPlan(ctx.perms, ctx.fold_sets[0], data.row_fact, rows_per_fact)
                seed_plans = [
                    CVPlan(ctx.perms[:1], f, data.row_fact, rows_per_fact) for f in ctx.fold_sets[1:]
                ]
                domain_plans = {
                    d: CVPlan(ctx.perms, ctx.fold_sets[0], data.row_fact, rows_per_fact, mask)
                    for d, mask in (domain_masks.items() if pooling == "last" else ())
                }
                # transfer: the domains as two folds, so each fold's accuracy is "train on the other"
                transfer_plan = None
                if domain_plans and len(domain_masks) == 2:
                    dom_fold = np.full(ctx.n_facts, -1, dtype=np.intp)
                    for j, mask in enumerate(domain_masks.values()):
                        dom_fold[mask] = j
                    transfer_plan = CVPlan(ctx.perms, dom_fold, data.row_fact, rows_per_fact, dom_fold >= 0)
                logistic: dict[int, tuple[Array, Array]] = {}
                seed_est: dict[int, float] = {}
                mm_correct: dict[int, Array] = {}
                for layer, z in enumerate(data.z):
                    probe = GramProbe(None, data.row_fact, ctx.n_facts, gram=data.gram(layer))
                    base = {C.LAYER: layer, C.POOLING: pooling, C.N_PERMUTATIONS: ctx.n_permutations}
                    null = probe.cv_accuracy_plan(plan)
                    seeds = [null[0]] + [float(probe.cv_accuracy_plan(sp)[0]) for sp in seed_plans]
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
                    transfer = probe.cv_accuracy_plan(transfer_plan, per_fold=True) if transfer_plan else None
                    for d, mask in domain_masks.items() if pooling == "last" else ():
                        sub = probe.cv_accuracy_plan(domain_plans[d])
                        r = row("kind-probe", model, condition, "massmean_bacc", **base)
                        n_sub = int(np.unique(data.row_fact[mask[data.row_fact]]).size)
                        r.update({C.SUBSET: d, C.ESTIMATE: float(sub[0]), C.N_FACTS: n_sub})
                        out.rows.append(r)
                        nulls.append(sub)
                        other = next((o for o in domain_masks if o != d), None)
                        if other is None or transfer is None or transfer_plan is None:
                            continue
                        if list(domain_masks).index(other) not in transfer_plan.fold_ids:
                            continue  # no fact of that domain has a prompt in this condition
                        tested = list(domain_masks).index(other)
                        tr = transfer[transfer_plan.fold_ids.index(tested)]
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
                if pooling == LAYER0_POOLING:
                    layer0[(model.name, condition, "massmean_bacc")] = agg_layers[0]
                if pooling != "last":
                    continue
                agg = aggregate(agg_layers, n_layers)
                layers = middle_third(n_layers)
                if logistic:
                    correct = np.column_stack([logistic[i][1] for i in layers])
                    logit_ci = _bacc_ci(ctx, correct, rows_per_fact, ctx.labels)
                    logit_est = float(np.mean([logistic[i][0].mean() for i in layers]))
                lo, hi = _bacc_ci(
                    ctx, np.column_stack([mm_correct[i] for i in layers]), rows_per_fact, ctx.labels
                )
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
                    )
                )
    attach_layer0(out.headlines, layer0)
    _families(out.rows, nulls, (C.MODEL, C.POOLING, C.STATISTIC, C.SUBSET))
    return out


@register("kind-distance")
def kind_distance(ctx: AnalysisContext) -> Output:
    """Energy and centroid distance between hinge and contingent states per layer (z-scored features)."""
    out = Output()
    nulls: list[Array] = []
    layer0: dict[tuple[str, str, str], Array] = {}
    for model in ctx.models:
        for condition in ctx.conditions:
            for pooling in POOLINGS:
                data = ctx.states(model.name, condition, pooling)
                n_layers = len(data.z)
                member = membership(data.row_fact, ctx.n_facts)
                rows_per_fact = member.sum(axis=0)
                n_present = int((rows_per_fact > 0).sum())
                per_stat: dict[str, list[Array]] = {"energy": [], "centroid": []}
                boot_labels = np.broadcast_to(ctx.labels, ctx.boot.shape)
                mid = set(middle_third(n_layers).tolist())
                mats: dict[str, list[Array]] = {"energy": [], "centroid": []}
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
                        lo, hi = _percentile(boot)
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
                        per_stat[name].append(null)
                    if want_boot and layer in mid:
                        mats["energy"].append(d_ff)
                        mats["centroid"].append(k_ff)
                if pooling == LAYER0_POOLING:
                    for name in ("energy", "centroid"):
                        layer0[(model.name, condition, name)] = per_stat[name][0]
                if pooling != "last":
                    continue
                for name in ("energy", "centroid"):
                    agg = aggregate(per_stat[name], n_layers)
                    lo, hi = weighted_ci(
                        ctx, rows_per_fact > 0, _distance_stat(name, mats[name], rows_per_fact, width)
                    )
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
                        )
                    )
    attach_layer0(out.headlines, layer0)
    _families(out.rows, nulls, (C.MODEL, C.POOLING, C.STATISTIC, C.SUBSET))
    return out
