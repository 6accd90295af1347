"""``kind-probe``: hinge vs contingent decodable from the states (cross-validated probes), beyond the
surface by the incremental probe."""

from __future__ import annotations

import numpy as np

from beliefs.analyses.beyond import Beyond
from beliefs.analyses.context import (
    LAYER0_POOLING,
    AnalysisContext,
    Array,
    Output,
    aggregate,
    attach_layer0,
    bacc_ci,
    headline,
    row,
)
from beliefs.analyses.kind.common import (
    _beyond_keys,
    _domain_headlines,
    _families,
    _mean_p,
    _per_fact,
    _percentile,
)
from beliefs.analyses.registry import Curve, register
from beliefs.analyses.surface import surface_features
from beliefs.results import columns as C
from beliefs.rundata import POOLINGS, ModelInfo
from beliefs.stats import (
    CVPlan,
    GramProbe,
    logistic_cv,
    middle_third,
    permutation_pvalues,
)
from beliefs.stats.probes import factored


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
