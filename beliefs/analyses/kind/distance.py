"""``kind-distance``: energy and centroid distances between the kinds' states, beyond the surface on
cross-fitted surface residuals."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from beliefs.analyses.beyond import RESIDUAL_STATISTIC, Beyond
from beliefs.analyses.context import (
    LAYER0_POOLING,
    AnalysisContext,
    Array,
    Output,
    aggregate,
    attach_layer0,
    gram_bytes,
    headline,
    row,
)
from beliefs.analyses.kind.common import (
    _families,
    _mean_p,
    _null_mean,
    _percentile,
    fact_distances,
    weighted_ci,
)
from beliefs.analyses.registry import Curve, register
from beliefs.results import columns as C
from beliefs.rundata import POOLINGS
from beliefs.stats import (
    centroid_distance_perm,
    energy_distance_perm,
    middle_third,
    permutation_pvalues,
)
from beliefs.stats.geometry import Classes, class_weights, collapse_rows, fact_row_sums


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


def _add(total: list[Array], matrix: Array) -> None:
    """Add ``matrix`` to the running sum held as ``total[0]`` (layer by layer, as ``np.mean`` over a stack
    adds them)."""
    if total:
        total[0] += matrix
    else:
        total.append(matrix.copy())


def _fact_sums(z: Array, row_fact: np.ndarray, n: int) -> Array:
    """``Mᵀ z``: each fact's rows summed (its Gram matrix is the fact-collapsed ``collapse(z zᵀ, M)``)."""
    return fact_row_sums(z, row_fact, n)


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
                # the headline layers' matrices: the energy distance needs only their mean (a running sum
                # here, not one fact × fact matrix per layer); the centroid's are no larger than the states
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
                # the class weights of a domain's facts only: the distance sums run over every fact's
                # collapsed distances, so the other domain's facts are weighted out, not just uncounted
                domain_weights = {d: (ctx.domains == d).astype(np.float64)[None, :] for d in domain_rows}
                domain_classes = {
                    d: (
                        class_weights(ctx.perms, r_d, domain_weights[d]),
                        class_weights(beyond.perms, r_d, domain_weights[d]),
                    )
                    for d, r_d in domain_rows.items()
                    if beyond is not None
                }
                dom_extra: dict[tuple[str, str, str], list[Array]] = {}
                for layer, z in enumerate(data.z):
                    k_ff = (
                        _fact_sums(z, data.row_fact, ctx.n_facts)
                        if thin
                        else collapse_rows(data.gram(layer), *rows)
                    )
                    d_ff = fact_distances(z, data.row_fact, ctx.n_facts, gram_bytes(), data.kept_gram(layer))
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
                        _add(mats["energy"], d_ff)
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
                        kr_ff = (
                            _fact_sums(rz, data.row_fact, ctx.n_facts)
                            if thin
                            else collapse_rows(rz @ rz.T, *rows)
                        )
                        dr_ff = fact_distances(rz, data.row_fact, ctx.n_facts, gram_bytes())
                        tests[("energy", f"{which}-residual")] = energy_distance_perm(
                            dr_ff, beyond.perms, rows_per_fact, classes=cw_cond
                        )
                        tests[("centroid", f"{which}-residual")] = _centroid(
                            kr_ff, beyond.perms, rows_per_fact, width, thin, classes=cw_cond
                        )
                        if which == "surface":
                            _add(res_mats["energy"], dr_ff)
                            res_mats["centroid"].append(kr_ff)
                            res_last = (dr_ff, kr_ff)
                    # per domain: the plain and the surface-residual distances among that domain's facts
                    for d, rpf_d in domain_rows.items():
                        ff = {
                            "energy": (d_ff, res_last[0]),
                            "centroid": (k_ff, res_last[1]),
                        }
                        for name, (plain_m, res_m) in ff.items():
                            cw_d, cwc_d = domain_classes[d]
                            wd = domain_weights[d]  # the other domain's facts weighted out of every sum
                            if name == "energy":
                                pl = energy_distance_perm(plain_m, ctx.perms, rpf_d, wd, classes=cw_d)
                                rs = energy_distance_perm(res_m, beyond.perms, rpf_d, wd, classes=cwc_d)
                            else:
                                pl = _centroid(plain_m, ctx.perms, rpf_d, width, thin, wd, classes=cw_d)
                                rs = _centroid(res_m, beyond.perms, rpf_d, width, thin, wd, classes=cwc_d)
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
                for kept in (mats, res_mats):  # the running sums' mean: what np.mean of the list gave
                    kept["energy"] = [kept["energy"][0] / len(mid)] if kept["energy"] else []
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
