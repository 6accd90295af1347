"""``kind-probe`` and ``kind-distance``: do hinge and contingent states differ, layer by layer, beyond wording?

Plain tests: the fact-level permutation null (kind shuffled within domain). Beyond-surface tests
(:mod:`beliefs.analyses.beyond`) run on the headline pooling (``last``) and the headline layers (the middle
third) only, and use the *conditional* permutation null (kind shuffled within label-free surface strata).

Pre-registered beyond-surface tests (each headline's ``p_beyond_surface``):

- ``kind-probe``: the **incremental probe** (surface → surface + states, same ridge probe and folds; the
  mean per-fact reduction in out-of-fold Brier score). It asks the question directly: do the states
  predict the kind better than the wording does? A probe on residualised states or a conditional null
  alone answers it only partly (a residualised probe can lose kind signal that the surface shares, and a
  conditional null alone does not stop the probe from reading the wording within a stratum);
- ``kind-distance``: the same distance (energy or centroid) on **cross-fitted surface residuals** of the
  states, against the conditional null: a distance has no "surface-only" model to compare against, so
  the wording is removed from the states (out of fold) and what remains is tested.

``p_beyond_lexical`` repeats the pre-registered test with the lexical set (surface + layer-0 states, mean
pooling) in place of the surface set. Both are corrected across layers like ``p_value``: the headline is
the mean over the middle third of layers, tested against the null of that mean.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from beliefs.analyses.beyond import INCREMENT_CI, INCREMENT_STATISTIC, RESIDUAL_STATISTIC, Beyond
from beliefs.analyses.context import (
    LAYER0_POOLING,
    AnalysisContext,
    Array,
    Output,
    aggregate,
    attach_layer0,
    bacc_ci,
    fill_family,
    headline,
    row,
)
from beliefs.analyses.registry import Curve, register
from beliefs.analyses.surface import surface_features
from beliefs.results import columns as C
from beliefs.rundata import POOLINGS, ModelInfo
from beliefs.stats import (
    CVPlan,
    GramProbe,
    bootstrap_ci,
    centroid_distance_perm,
    energy_distance_perm,
    gram_distances,
    logistic_cv,
    middle_third,
    percentile_interval,
    permutation_pvalues,
)
from beliefs.stats.effects import unit_mean_ci
from beliefs.stats.geometry import Classes, class_weights, collapse_rows, fact_row_sums
from beliefs.stats.probes import factored


def _families(rows: list[dict[str, Any]], nulls: list[Array], keys: tuple[str, ...]) -> None:
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault(tuple(r[k] for k in keys), []).append(i)
    for idx in groups.values():
        fill_family([rows[i] for i in idx], [nulls[i] for i in idx])


_bacc_ci = bacc_ci  # the name other modules imported


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

    The design's units are resampled: on a paired set its pairs whole (:attr:`AnalysisContext.units`; a
    fact whose twin is absent is a unit of its own), on a set without pairs hinge and contingent facts
    separately (their counts are fixed by the set);
    ``stat(labels, weights)`` gets ``(B, n_facts)`` labels and multiplicities and returns ``(B,)``.
    Headlines of distances and angles use this: resampling inflates them (duplicated facts, small-sample
    bias), which BCa corrects. When nearly every resample exceeds the estimate (a distance at its
    small-sample floor, as in a random-init control) BCa is undefined, and a percentile interval would
    lie wholly above the estimate: no interval is reported then; the null mean gives the chance level.
    """
    n = ctx.n_facts
    units = ctx.units
    ok = np.append(present, False)[units]  # the -1 pad reads False
    units = np.where(ok, units, n)  # absent twins and pads point at the dummy fact n (weight dropped)
    used = ok.any(axis=1)
    paired = used & ok.all(axis=1)
    groups: list[Array]
    if paired.any():  # a paired design: its units (pairs, and any fact whose twin is absent) in one group
        groups = [np.flatnonzero(used).astype(np.float64)]
    else:  # unpaired facts: the kinds resampled separately (the set fixes their counts)
        first_label = np.append(ctx.labels, -1)[units[:, 0]]
        groups = [np.flatnonzero(used & (first_label == k)).astype(np.float64) for k in (1, 0)]

    def batched(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
        idx = np.concatenate([np.asarray(g) for g in samples], axis=-1).astype(np.intp)
        facts = units[idx].reshape(*idx.shape[:-1], -1)
        flat = facts.reshape(-1, facts.shape[-1])
        offsets = np.arange(flat.shape[0])[:, None] * (n + 1) + flat
        w = np.bincount(offsets.ravel(), minlength=flat.shape[0] * (n + 1)).reshape(-1, n + 1)[:, :n]
        values = stat(np.broadcast_to(ctx.labels, w.shape), w.astype(np.float64))
        return np.asarray(values).reshape(idx.shape[:-1])

    return bootstrap_ci(tuple(groups), batched, n_resamples=2000, seed=ctx.seed, fallback=False)


def _per_fact(values: Array, row_fact: np.ndarray, n: int) -> Array:
    out = np.zeros(n)
    np.add.at(out, row_fact, values)
    return out


def _distance_stat(
    name: str, mats: list[Array], rows_per_fact: Array, width: int, thin: bool = False
) -> Callable[[np.ndarray, Array], Array]:
    """The headline distance (mean over the given layers' fact-level matrices) for weighted facts.

    The energy distance is linear in the distance matrix for given weights (its denominators depend on the
    weights only), so the mean over layers is the energy distance of the layers' mean matrix: one product
    per resample instead of one per layer (equal up to rounding)."""
    mean_d = np.mean(mats, axis=0) if name == "energy" and mats else None

    def stat(labels: np.ndarray, weights: Array) -> Array:
        if mean_d is not None:
            return energy_distance_perm(mean_d, labels, rows_per_fact, weights)
        if name == "energy":
            values = [energy_distance_perm(m, labels, rows_per_fact, weights) for m in mats]
        else:
            values = [_centroid(m, labels, rows_per_fact, width, thin, weights) for m in mats]
        return np.asarray(np.mean(values, axis=0))

    return stat


def _centroid(
    mat: Array,
    labels: np.ndarray,
    rows_per_fact: Array,
    width: int,
    thin: bool,
    weights: Array | None = None,
    classes: Classes | None = None,
) -> Array:
    """Centroid distances from the fact-level Gram matrix, or (``thin``) from the fact-summed features."""
    if thin:
        return centroid_distance_perm(
            None, labels, rows_per_fact, width, weights, features=mat, classes=classes
        )
    return centroid_distance_perm(mat, labels, rows_per_fact, width, weights, classes=classes)


def _fact_sums(z: Array, row_fact: np.ndarray, n: int) -> Array:
    """``Mᵀ z``: each fact's rows summed (its Gram matrix is the fact-collapsed ``collapse(z zᵀ, M)``)."""
    return fact_row_sums(z, row_fact, n)


def _boot_band(ctx: AnalysisContext, correct: Array, rows_per_fact: Array) -> tuple[float, float]:
    """95% percentile band of a balanced accuracy over the context's fact-bootstrap weights.

    From per-fact out-of-fold correct counts: the probe is not refitted on each resample."""
    pos = ctx.labels.astype(np.float64)
    w = ctx.boot
    with np.errstate(invalid="ignore", divide="ignore"):
        bacc = 0.5 * (
            (w @ (correct * pos)) / (w @ (rows_per_fact * pos))
            + (w @ (correct * (1 - pos))) / (w @ (rows_per_fact * (1 - pos)))
        )
    return _percentile(np.asarray(bacc))


def _domain_folds(domain_masks: dict[str, np.ndarray], n: int) -> np.ndarray:
    fold = np.full(n, -1, dtype=np.intp)
    for j, mask in enumerate(domain_masks.values()):
        fold[mask] = j
    return fold


def _surface_transfer(
    ctx: AnalysisContext,
    model: ModelInfo,
    domain_masks: dict[str, np.ndarray],
    out: Output,
    nulls: list[Array],
) -> float:
    """Rows of the surface features' own cross-domain transfer (mass-mean probe); returns its mean."""
    if len(domain_masks) != 2:
        return float("nan")
    x = surface_features(ctx, model).matrix()
    rf = np.arange(ctx.n_facts)
    dom_fold = _domain_folds(domain_masks, ctx.n_facts)
    plan = CVPlan(ctx.perms, dom_fold, rf, np.ones(ctx.n_facts), dom_fold >= 0)
    per_fold = GramProbe(x, rf, ctx.n_facts).cv_accuracy_plan(plan, per_fold=True)
    names = list(domain_masks)
    values = []
    for i, tested in enumerate(plan.fold_ids):
        trained = names[1 - tested]
        r = row("kind-probe", model, "empty", "surface_massmean_bacc")
        r.update(
            {
                C.SUBSET: f"{trained}->{names[tested]}",
                C.ESTIMATE: float(per_fold[i][0]),
                C.N_FACTS: ctx.n_facts,
                C.N_PERMUTATIONS: ctx.n_permutations,
            }
        )
        out.rows.append(r)
        nulls.append(per_fold[i])
        values.append(float(per_fold[i][0]))
    return float(np.mean(values))


def _mean_p(nulls: list[Array]) -> tuple[float, float]:
    """Estimate and p-value of the mean over layers of per-layer nulls (NaN when there are none)."""
    if not nulls:
        return float("nan"), float("nan")
    agg = np.mean(np.column_stack(nulls), axis=1)
    return float(agg[0]), float(permutation_pvalues(agg)[0])


def _null_mean(nulls: list[Array]) -> float:
    """Mean of the permutation null of the mean over layers (the statistic's chance level)."""
    if not nulls:
        return float("nan")
    return float(np.nanmean(np.mean(np.column_stack(nulls), axis=1)[1:]))


@register(
    "kind-probe",
    question="Hinge vs contingent decodable from hidden states (cross-validated probe)",
    cost=22.0,
    controls=("surface",),
    curve=Curve("massmean_bacc", "pooled", "balanced accuracy (hinge vs contingent)"),
)
def kind_probe(ctx: AnalysisContext) -> Output:
    """Cross-validated linear probe hinge vs contingent per layer: pooled, within domain, across domains,
    and beyond surface (incremental probe, residualised states, conditional null, leave-template-out)."""
    out = Output()
    nulls: list[Array] = []
    domain_masks = {d: ctx.domains == d for d in ctx.domain_names}
    layer0: dict[tuple[str, str, str], Array] = {}
    for model in ctx.models:
        logit_ci, logit_est = (np.nan, np.nan), np.nan
        surface_transfer = _surface_transfer(ctx, model, domain_masks, out, nulls)
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
                domain_plans = {
                    d: CVPlan(ctx.perms, ctx.fold_sets[0], data.row_fact, rows_per_fact, mask)
                    for d, mask in (domain_masks.items() if pooling == "last" else ())
                }
                # transfer: the domains as two folds, so each fold's accuracy is "train on the other"
                transfer_plan = None
                if domain_plans and len(domain_masks) == 2:
                    dom_fold = _domain_folds(domain_masks, ctx.n_facts)
                    transfer_plan = CVPlan(ctx.perms, dom_fold, data.row_fact, rows_per_fact, dom_fold >= 0)
                beyond = Beyond.shared(ctx, model, condition, data) if pooling == "last" else None
                cplan = gplan = None
                if beyond is not None:
                    cplan = CVPlan(beyond.perms, ctx.fold_sets[0], data.row_fact, rows_per_fact)
                    if ctx.group_folds is not None:
                        gplan = CVPlan(ctx.perms, ctx.group_folds, data.row_fact, rows_per_fact)
                extra: dict[str, list[Array]] = {}
                domain_nulls: dict[str, list[Array]] = {}
                diffs: dict[str, list[Array]] = {"surface": [], "lexical": []}
                transfers: list[Array] = []
                logistic: dict[int, tuple[Array, Array]] = {}
                mm_correct: dict[int, Array] = {}
                for layer, z in enumerate(data.z):
                    # with more facts than twice the width, the probes and the increments work from the
                    # states, not the rows × rows Gram matrix: it is formed only where something needs it
                    thin = factored(z.shape[1], n_present)
                    gram = None if thin else data.gram(layer)
                    probe = GramProbe(z, data.row_fact, ctx.n_facts, gram=gram)
                    base = {C.LAYER: layer, C.POOLING: pooling, C.N_PERMUTATIONS: ctx.n_permutations}
                    null = probe.cv_accuracy_plan(plan)
                    correct = _per_fact(
                        probe.cv_correct(ctx.labels, ctx.fold_sets[0]), data.row_fact, ctx.n_facts
                    )
                    if pooling == "last" and layer in mid:
                        mm_correct[layer] = correct
                    lo, hi = _boot_band(ctx, correct, rows_per_fact)
                    r = row("kind-probe", model, condition, "massmean_bacc", **base)
                    r.update({C.ESTIMATE: float(null[0]), C.CI_LOW: lo, C.CI_HIGH: hi, C.N_FACTS: n_present})
                    out.rows.append(r)
                    nulls.append(null)
                    agg_layers.append(null)
                    # Within-domain and transfer probes on the headline pooling only (time budget).
                    transfer = probe.cv_accuracy_plan(transfer_plan, per_fold=True) if transfer_plan else None
                    if transfer is not None and layer in mid and len(transfer) == 2:
                        transfers.append(np.mean(transfer, axis=0))
                    for d, mask in domain_masks.items() if pooling == "last" else ():
                        sub = probe.cv_accuracy_plan(domain_plans[d])
                        if layer in mid:
                            domain_nulls.setdefault(d, []).append(sub)
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
                        if tested not in transfer_plan.fold_ids:  # no present facts of that domain
                            continue
                        tr = transfer[transfer_plan.fold_ids.index(tested)]
                        r = row("kind-probe", model, condition, "massmean_bacc", **base)
                        r.update({C.SUBSET: f"{d}->{other}", C.ESTIMATE: float(tr[0]), C.N_FACTS: n_present})
                        out.rows.append(r)
                        nulls.append(tr)
                    if beyond is not None and cplan is not None and layer in mid:
                        tests: list[tuple[str, str, Array | None]] = []
                        # Beyond.increments reads the Gram matrix only where factored() is False (the
                        # same test on the same present facts); an empty one fails loudly if it ever did
                        incs = beyond.increments(np.empty((0, 0)) if gram is None else gram, z, domain_masks)
                        for which in ("surface", "lexical"):
                            tests.append(("increment_brier", f"beyond-{which}", incs[which][0]))
                            diffs[which].append(incs[which][1])
                        for d in domain_masks:
                            if f"surface:{d}" in incs:
                                tests.append(
                                    ("increment_brier", f"beyond-surface:{d}", incs[f"surface:{d}"][0])
                                )
                        tests.append(("massmean_bacc", "conditional", probe.cv_accuracy_plan(cplan)))
                        residual = GramProbe(beyond.residual(z), data.row_fact, ctx.n_facts)
                        tests.append(("massmean_bacc", "surface-residual", residual.cv_accuracy_plan(cplan)))
                        if gplan is not None:
                            tests.append(("massmean_bacc", ctx.group_kind, probe.cv_accuracy_plan(gplan)))
                        for stat, subset, t in tests:
                            if t is None:
                                continue
                            r = row("kind-probe", model, condition, stat, **base)
                            r.update({C.SUBSET: subset, C.ESTIMATE: float(t[0]), C.N_FACTS: n_present})
                            out.rows.append(r)
                            nulls.append(t)
                            extra.setdefault(subset, []).append(t)
                    if pooling == "last" and layer in mid and condition == ctx.conditions[0]:
                        y = ctx.labels[data.row_fact]
                        accs, lcorrect = logistic_cv(z, y, data.row_fact, ctx.fold_sets)
                        logistic[layer] = (accs, _per_fact(lcorrect, data.row_fact, ctx.n_facts))
                        r = row("kind-probe", model, condition, "logistic_bacc", **base)
                        r.update({C.ESTIMATE: float(accs.mean()), C.N_FACTS: n_present, C.N_PERMUTATIONS: 0})
                        r[C.CI_LOW], r[C.CI_HIGH] = _boot_band(ctx, logistic[layer][1], rows_per_fact)
                        out.rows.append(r)
                        nulls.append(np.full(ctx.n_rows_null, np.nan))
                if pooling == LAYER0_POOLING:
                    layer0[(model.name, condition, "massmean_bacc")] = agg_layers[0]
                if pooling != "last" or beyond is None:
                    continue
                agg = aggregate(agg_layers, n_layers)
                layers = middle_third(n_layers)
                if logistic:
                    lc = np.column_stack([logistic[i][1] for i in layers])
                    logit_ci = bacc_ci(ctx, lc, rows_per_fact, ctx.labels)
                    logit_est = float(np.mean([logistic[i][0].mean() for i in layers]))
                lo, hi = bacc_ci(
                    ctx, np.column_stack([mm_correct[i] for i in layers]), rows_per_fact, ctx.labels
                )
                keys = _beyond_keys(ctx, beyond, extra, diffs)
                keys["transfer_estimate"], keys["transfer_p_value"] = _mean_p(transfers)
                keys["surface_transfer_estimate"] = surface_transfer
                out.headlines.append(
                    headline(
                        "kind-probe",
                        model,
                        condition,
                        "massmean_bacc",
                        n_layers,
                        estimate=float(agg[0]),
                        ci_low=lo,
                        ci_high=hi,
                        ci_method="fact bootstrap (BCa) of out-of-fold correctness, probes not refitted",
                        p_value=float(permutation_pvalues(agg)[0]),
                        null=agg,
                        **keys,
                        logistic_estimate=logit_est,
                        logistic_ci_low=logit_ci[0],
                        logistic_ci_high=logit_ci[1],
                        logistic_condition=ctx.conditions[0],
                        n_facts=n_present,
                        n_permutations=ctx.n_permutations,
                    )
                )
                out.headlines.extend(
                    _domain_headlines(
                        ctx, model, condition, n_layers, domain_masks, domain_nulls, extra, diffs
                    )
                )
    attach_layer0(out.headlines, layer0)
    _families(out.rows, nulls, (C.MODEL, C.POOLING, C.STATISTIC, C.SUBSET))
    return out


def _domain_headlines(
    ctx: AnalysisContext,
    model: ModelInfo,
    condition: str,
    n_layers: int,
    domain_masks: dict[str, np.ndarray],
    domain_nulls: dict[str, list[Array]],
    extra: dict[str, list[Array]],
    diffs: dict[str, list[Array]],
) -> list[dict[str, Any]]:
    """Per-domain kind-probe headlines: the within-domain probe (plain) and the pooled incremental probe's
    per-fact Brier reductions averaged over the domain's facts (beyond surface), each against its own null
    (the same labellings: kind swapped within pairs, else within the domain)."""
    found: list[dict[str, Any]] = []
    for d, mask in domain_masks.items():
        plain = domain_nulls.get(d, [])
        inc = extra.get(f"beyond-surface:{d}", [])
        if not plain or not inc:
            continue
        agg = np.mean(np.column_stack(plain), axis=1)
        est, p_inc = _mean_p(inc)
        keys: dict[str, Any] = {
            "p_beyond_surface": p_inc,
            "increment_estimate": est,
            "increment_null_mean": _null_mean(inc),
            "increment_statistic": INCREMENT_STATISTIC,
            "increment_ci_method": INCREMENT_CI + "; the domain's facts only (pairs resampled whole)",
        }
        if diffs["surface"]:
            dm = np.column_stack(diffs["surface"])
            dm = np.where(np.isfinite(dm).all(axis=1) & mask, dm.mean(axis=1), np.nan)
            keys["increment_ci_low"], keys["increment_ci_high"] = unit_mean_ci(dm, ctx.units, seed=ctx.seed)
            n_d = int(np.isfinite(dm).sum())
        else:
            n_d = int(mask.sum())
        found.append(
            headline(
                "kind-probe",
                model,
                condition,
                "massmean_bacc",
                n_layers,
                subset=d,
                domain=d,
                estimate=float(agg[0]),
                p_value=float(permutation_pvalues(agg)[0]),
                null=agg,
                **keys,
                n_facts=n_d,
                n_permutations=ctx.n_permutations,
            )
        )
    return found


def _beyond_keys(
    ctx: AnalysisContext, beyond: Beyond, extra: dict[str, list[Array]], diffs: dict[str, list[Array]]
) -> dict[str, Any]:
    """Headline keys of the kind-probe's beyond-surface tests (mean over the headline layers)."""
    keys: dict[str, Any] = {}
    est, keys["p_beyond_surface"] = _mean_p(extra.get("beyond-surface", []))
    keys["increment_estimate"] = est
    keys["increment_null_mean"] = _null_mean(extra.get("beyond-surface", []))
    if diffs["surface"]:
        d = np.column_stack(diffs["surface"])
        d = np.where(np.isfinite(d).all(axis=1), d.mean(axis=1), np.nan)  # NaN: facts absent in these rows
        keys["increment_ci_low"], keys["increment_ci_high"] = unit_mean_ci(d, ctx.units, seed=ctx.seed)
    keys["increment_statistic"] = INCREMENT_STATISTIC
    keys["increment_ci_method"] = INCREMENT_CI
    keys["lexical_increment_estimate"], keys["p_beyond_lexical"] = _mean_p(extra.get("beyond-lexical", []))
    keys["conditional_strata"] = beyond.strata
    keys["conditional_estimate"], keys["p_conditional"] = _mean_p(extra.get("conditional", []))
    keys["residual_estimate"], keys["p_residualised"] = _mean_p(extra.get("surface-residual", []))
    if ctx.group_folds is not None:
        keys["leave_group_folds"] = ctx.group_kind
        keys["leave_group_estimate"], keys["leave_group_p_value"] = _mean_p(extra.get(ctx.group_kind, []))
    return keys


@register(
    "kind-distance",
    question="Hinge and contingent states differ in distribution (energy / centroid distance)",
    cost=7.5,
    controls=("surface",),
    curve=Curve("energy", "pooled", "energy distance (z-scored states)"),
)
def kind_distance(ctx: AnalysisContext) -> Output:
    """Energy and centroid distance between hinge and contingent states per layer (z-scored features), and
    the same distances on cross-fitted surface (and lexical) residuals against the conditional null."""
    out = Output()
    nulls: list[Array] = []
    layer0: dict[tuple[str, str, str], Array] = {}
    for model in ctx.models:
        for condition in ctx.conditions:
            for pooling in POOLINGS:
                data = ctx.states(model.name, condition, pooling)
                n_layers = len(data.z)
                rows_per_fact = np.bincount(data.row_fact, minlength=ctx.n_facts).astype(np.float64)
                n_present = int((rows_per_fact > 0).sum())
                rows = (data.row_fact, ctx.n_facts)
                per_stat: dict[str, list[Array]] = {"energy": [], "centroid": []}
                boot_labels = np.broadcast_to(ctx.labels, ctx.boot.shape)
                mid = set(middle_third(n_layers).tolist())
                mats: dict[str, list[Array]] = {"energy": [], "centroid": []}
                beyond = Beyond.shared(ctx, model, condition, data) if pooling == "last" else None
                extra: dict[tuple[str, str], list[Array]] = {}
                res_mats: dict[str, list[Array]] = {"energy": [], "centroid": []}
                # more facts than the width: centroid distances from the fact-summed states (``P·n·width``
                # operations per null instead of ``P·n²``)
                thin = data.z[0].shape[1] < n_present if data.z else False
                # the class weights of each stack of labellings, shared by every layer and both distances
                cw = class_weights(ctx.perms, rows_per_fact)
                cw_boot = class_weights(boot_labels, rows_per_fact, ctx.boot) if pooling == "last" else None
                cw_cond = class_weights(beyond.perms, rows_per_fact) if beyond is not None else None
                domain_rows = (
                    {d: rows_per_fact * (ctx.domains == d) for d in ctx.domain_names}
                    if beyond is not None and len(ctx.domain_names) > 1
                    else {}
                )
                domain_classes = {
                    d: (class_weights(ctx.perms, r_d), class_weights(beyond.perms, r_d))
                    for d, r_d in domain_rows.items()
                    if beyond is not None
                }
                dom_extra: dict[tuple[str, str, str], list[Array]] = {}
                for layer, z in enumerate(data.z):
                    k = data.gram(layer)
                    k_ff = _fact_sums(z, data.row_fact, ctx.n_facts) if thin else collapse_rows(k, *rows)
                    d_ff = collapse_rows(gram_distances(k), *rows)
                    width = z.shape[1]
                    want_boot = pooling == "last"  # intervals for the headline pooling only (time budget)
                    nan = np.full(ctx.boot.shape[0], np.nan)
                    stats = {
                        "energy": (
                            energy_distance_perm(d_ff, ctx.perms, rows_per_fact, classes=cw),
                            energy_distance_perm(d_ff, boot_labels, rows_per_fact, ctx.boot, cw_boot)
                            if want_boot
                            else nan,
                        ),
                        "centroid": (
                            _centroid(k_ff, ctx.perms, rows_per_fact, width, thin, classes=cw),
                            _centroid(k_ff, boot_labels, rows_per_fact, width, thin, ctx.boot, cw_boot)
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
                    if beyond is None or layer not in mid:
                        continue
                    tests = {
                        ("energy", "conditional"): energy_distance_perm(
                            d_ff, beyond.perms, rows_per_fact, classes=cw_cond
                        ),
                        ("centroid", "conditional"): _centroid(
                            k_ff, beyond.perms, rows_per_fact, width, thin, classes=cw_cond
                        ),
                    }
                    for which in ("surface", "lexical"):
                        rz = beyond.residual(z, which)
                        kr = rz @ rz.T
                        kr_ff = (
                            _fact_sums(rz, data.row_fact, ctx.n_facts) if thin else collapse_rows(kr, *rows)
                        )
                        dr_ff = collapse_rows(gram_distances(kr), *rows)
                        tests[("energy", f"{which}-residual")] = energy_distance_perm(
                            dr_ff, beyond.perms, rows_per_fact, classes=cw_cond
                        )
                        tests[("centroid", f"{which}-residual")] = _centroid(
                            kr_ff, beyond.perms, rows_per_fact, width, thin, classes=cw_cond
                        )
                        if which == "surface":
                            res_mats["energy"].append(dr_ff)
                            res_mats["centroid"].append(kr_ff)
                    # per domain: the plain and the surface-residual distances among that domain's facts
                    for d, rpf_d in domain_rows.items():
                        ff = {
                            "energy": (d_ff, res_mats["energy"][-1]),
                            "centroid": (k_ff, res_mats["centroid"][-1]),
                        }
                        for name, (plain_m, res_m) in ff.items():
                            cw_d, cwc_d = domain_classes[d]
                            if name == "energy":
                                pl = energy_distance_perm(plain_m, ctx.perms, rpf_d, classes=cw_d)
                                rs = energy_distance_perm(res_m, beyond.perms, rpf_d, classes=cwc_d)
                            else:
                                pl = _centroid(plain_m, ctx.perms, rpf_d, width, thin, classes=cw_d)
                                rs = _centroid(res_m, beyond.perms, rpf_d, width, thin, classes=cwc_d)
                            dom_extra.setdefault((name, d, "plain"), []).append(pl)
                            dom_extra.setdefault((name, d, "residual"), []).append(rs)
                    for (name, subset), t in tests.items():
                        r = row("kind-distance", model, condition, name, layer=layer, pooling=pooling)
                        r.update(
                            {
                                C.SUBSET: subset,
                                C.ESTIMATE: float(t[0]),
                                C.N_FACTS: n_present,
                                C.N_PERMUTATIONS: ctx.n_permutations,
                            }
                        )
                        out.rows.append(r)
                        nulls.append(t)
                        extra.setdefault((name, subset), []).append(t)
                if pooling == LAYER0_POOLING:
                    for name in ("energy", "centroid"):
                        layer0[(model.name, condition, name)] = per_stat[name][0]
                if pooling != "last" or beyond is None:
                    continue
                for name in ("energy", "centroid"):
                    agg = aggregate(per_stat[name], n_layers)
                    lo, hi = weighted_ci(
                        ctx, rows_per_fact > 0, _distance_stat(name, mats[name], rows_per_fact, width, thin)
                    )
                    inc, p_bs = _mean_p(extra.get((name, "surface-residual"), []))
                    inc_lo, inc_hi = weighted_ci(
                        ctx,
                        rows_per_fact > 0,
                        _distance_stat(name, res_mats[name], rows_per_fact, width, thin),
                    )
                    lex, p_bl = _mean_p(extra.get((name, "lexical-residual"), []))
                    cond, p_cond = _mean_p(extra.get((name, "conditional"), []))
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
                            p_beyond_surface=p_bs,
                            p_beyond_lexical=p_bl,
                            increment_estimate=inc,
                            increment_ci_low=inc_lo,
                            increment_ci_high=inc_hi,
                            increment_null_mean=_null_mean(extra.get((name, "surface-residual"), [])),
                            increment_statistic=RESIDUAL_STATISTIC.format(name=name),
                            increment_ci_method="fact bootstrap (BCa) of the residual distance; the "
                            "residualisation is not refitted on each resample",
                            lexical_increment_estimate=lex,
                            conditional_strata=beyond.strata,
                            conditional_estimate=cond,
                            p_conditional=p_cond,
                            n_facts=n_present,
                            n_permutations=ctx.n_permutations,
                        )
                    )
                    for d, rpf_d in domain_rows.items():
                        plain = np.mean(np.column_stack(dom_extra[(name, d, "plain")]), axis=1)
                        d_lo, d_hi = weighted_ci(
                            ctx, rpf_d > 0, _distance_stat(name, mats[name], rpf_d, width, thin)
                        )
                        d_inc, d_p = _mean_p(dom_extra[(name, d, "residual")])
                        d_inc_lo, d_inc_hi = weighted_ci(
                            ctx, rpf_d > 0, _distance_stat(name, res_mats[name], rpf_d, width, thin)
                        )
                        out.headlines.append(
                            headline(
                                "kind-distance",
                                model,
                                condition,
                                name,
                                n_layers,
                                subset=d,
                                domain=d,
                                estimate=float(plain[0]),
                                ci_low=d_lo,
                                ci_high=d_hi,
                                p_value=float(permutation_pvalues(plain)[0]),
                                null=plain,
                                p_beyond_surface=d_p,
                                increment_estimate=d_inc,
                                increment_ci_low=d_inc_lo,
                                increment_ci_high=d_inc_hi,
                                increment_null_mean=_null_mean(dom_extra[(name, d, "residual")]),
                                increment_statistic=RESIDUAL_STATISTIC.format(name=name)
                                + f", {d} facts only",
                                increment_ci_method="fact bootstrap (BCa) of the residual distance, the "
                                "domain's facts only; the residualisation is not refitted on each resample",
                                conditional_strata=beyond.strata,
                                n_facts=int((rpf_d > 0).sum()),
                                n_permutations=ctx.n_permutations,
                            )
                        )
    attach_layer0(out.headlines, layer0)
    _families(out.rows, nulls, (C.MODEL, C.POOLING, C.STATISTIC, C.SUBSET))
    return out
