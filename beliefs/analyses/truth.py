"""``truth-geometry``: true-vs-false probes within each kind, transfer between kinds, angle between them."""

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
    headline,
    row,
)
from beliefs.analyses.kind import _families, _percentile, weighted_ci
from beliefs.analyses.registry import register
from beliefs.rundata import POOLINGS
from beliefs.stats import TruthProbe, middle_third, permutation_pvalues


@register("truth-geometry")
def truth_geometry(ctx: AnalysisContext) -> Output:
    """Truth probes per kind (sign-flip null), transfer between kinds, angle between truth directions."""
    out = Output()
    rows: list[dict[str, Any]] = []
    nulls: list[Array] = []
    layer0: dict[tuple[str, str, str], Array] = {}
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
                boot = ctx.boot[:, facts]
                per: dict[str, list[Array]] = {}
                mid = set(middle_third(len(data.z)).tolist())
                mid_probes: list[TruthProbe] = []
                for layer in range(len(data.z)):
                    k = data.gram(layer)
                    probe = TruthProbe.from_gram(k, rt, rf)
                    stats = {
                        "truth_acc_hinge": TruthProbe.from_gram(k, rt[hinge], rf[hinge]).cv_accuracy(
                            flips[:, hinge], folds[hinge]
                        ),
                        "truth_acc_contingent": TruthProbe.from_gram(k, rt[~hinge], rf[~hinge]).cv_accuracy(
                            flips[:, ~hinge], folds[~hinge]
                        ),
                        "truth_transfer_hinge->contingent": probe.transfer_accuracy(flips, hinge),
                        "truth_transfer_contingent->hinge": probe.transfer_accuracy(flips, ~hinge),
                        "truth_angle_degrees": probe.angle_degrees(perms),
                    }
                    angle_boot = (
                        probe.angle_degrees(np.broadcast_to(perms[0], boot.shape), boot)
                        if pooling == "last"
                        else np.full(boot.shape[0], np.nan)
                    )
                    if pooling == "last" and layer in mid:
                        mid_probes.append(probe)
                    for name, null in stats.items():
                        r = row("truth-geometry", model, cond, name, layer=layer, pooling=pooling)
                        r.update(
                            {
                                C.ESTIMATE: float(null[0]),
                                C.N_FACTS: int(facts.size),
                                C.N_PERMUTATIONS: ctx.n_permutations,
                            }
                        )
                        if name == "truth_angle_degrees" and pooling == "last":
                            r[C.CI_LOW], r[C.CI_HIGH] = _percentile(angle_boot)
                        rows.append(r)
                        nulls.append(null)
                        per.setdefault(name, []).append(null)
                if pooling == LAYER0_POOLING:
                    layer0[(model.name, cond, "truth_angle_degrees")] = per["truth_angle_degrees"][0]
                if pooling != "last":
                    continue
                n_layers = len(data.z)
                agg = {name: aggregate(v, n_layers) for name, v in per.items()}
                present = np.zeros(ctx.n_facts, dtype=bool)
                present[facts] = True
                lo, hi = weighted_ci(ctx, present, _angle_stat(mid_probes, facts))
                extras = {}
                for name, a in agg.items():
                    if name != "truth_angle_degrees":
                        extras[name] = float(a[0])
                        extras[f"{name}_p_value"] = float(permutation_pvalues(a)[0])
                angle = agg["truth_angle_degrees"]
                out.headlines.append(
                    headline(
                        "truth-geometry",
                        model,
                        cond,
                        "truth_angle_degrees",
                        n_layers,
                        estimate=float(angle[0]),
                        ci_low=lo,
                        ci_high=hi,
                        p_value=float(permutation_pvalues(angle)[0]),
                        null=angle,
                        n_facts=int(facts.size),
                        n_permutations=ctx.n_permutations,
                        **extras,
                    )
                )
    attach_layer0(out.headlines, layer0)
    _families(rows, nulls, (C.MODEL, C.POOLING, C.STATISTIC, C.SUBSET))
    out.rows = rows
    return out


def _angle_stat(probes: list[TruthProbe], facts: np.ndarray) -> Callable[[np.ndarray, Array], Array]:
    """The headline angle (mean over the middle layers' probes) for weighted facts."""

    def stat(labels: np.ndarray, weights: Array) -> Array:
        lab, w = labels[:, facts], weights[:, facts]
        return np.asarray(np.mean([p.angle_degrees(lab, w) for p in probes], axis=0))

    return stat
