"""Ridge read-out of hingeness from the states (R², increment over the wording, transfer across
domains) and how much of it the wording predicts."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from beliefs.analyses.context import (
    AnalysisContext,
    Array,
    Output,
    aggregate,
    fill_family,
    headline,
    row,
)
from beliefs.analyses.hingeness.agreement import _domain_perms
from beliefs.analyses.hingeness.components import wording_kernel
from beliefs.results import columns as C
from beliefs.rundata import ModelInfo
from beliefs.stats import bootstrap_ci, middle_third, permutation_pvalues

READOUT_PERMUTATIONS = 999
"""Permutations of the ridge read-out's nulls at most (each is one matrix product per layer)."""


def r2_null(a: Array, y: Array, groups: NDArray[np.intp] | None = None) -> Array:
    """Out-of-fold R² of the predictions ``y @ aᵀ`` for every row of targets ``y`` ``(P, n)``.

    With ``groups`` (one id per fact), R² within each group (against the group's own mean; the transfer
    read-out), averaged over groups."""
    pred = y @ a.T
    ids = [None] if groups is None else list(np.unique(groups))
    found = []
    for g in ids:
        if g is None:  # every fact: no copies, the residuals overwrite the predictions
            yy, res = y, np.subtract(y, pred, out=pred)
        else:
            m = groups == g
            yy = y[:, m]
            res = yy - pred[:, m]
        sse = np.square(res, out=res).sum(axis=1)
        dev = yy - yy.mean(axis=1, keepdims=True)
        sst = np.square(dev, out=dev).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            found.append(1.0 - sse / sst)
    return np.asarray(np.mean(found, axis=0))


def _surface_r2(
    ctx: AnalysisContext, model: ModelInfo, k_s: Array, values: Array, name: str
) -> dict[str, Any]:
    from beliefs.stats.increment import PROBE_RIDGE, ridge_operator

    ok = np.isfinite(values)
    a = ridge_operator(k_s[np.ix_(ok, ok)], ctx.fold_sets[0][ok], PROBE_RIDGE * ok.sum())
    perms = _domain_perms(ctx.domains[ok], min(ctx.n_permutations, READOUT_PERMUTATIONS), ctx.seed + 11)
    null = r2_null(a, values[ok][perms])
    r = row("hingeness", model, "empty", name, estimate=float(null[0]), n_facts=int(ok.sum()))
    r[C.N_PERMUTATIONS] = perms.shape[0] - 1
    fill_family([r], [null])
    return r


def _readout_fits(
    ctx: AnalysisContext,
    model: ModelInfo,
    target: Array,
    prefix: str,
    increment: bool,
    transfer: bool,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per-layer ridge read-out rows of ``target`` (``<prefix>_r2``, with ``increment`` also
    ``<prefix>_increment_r2`` over the wording; with ``transfer`` also ``<prefix>_transfer_r2``) and the
    headline's figures (empty where too few facts)."""
    from beliefs.analyses.surface import fact_mean_kernel
    from beliefs.stats.increment import IncrementalProbe, unit_kernel

    data = ctx.states(model.name, "empty", "last")
    present = np.zeros(ctx.n_facts, bool)
    present[data.row_fact] = True
    facts = np.flatnonzero(present & np.isfinite(target))
    if facts.size < 12:
        return [], {}
    ix = np.ix_(facts, facts)
    k_s = wording_kernel(ctx, model)[ix]
    group_folds = ctx.group_folds if ctx.group_folds is not None else ctx.fold_sets[0]
    domains = ctx.domains[facts]
    domain_folds = np.unique(domains, return_inverse=True)[1].astype(np.intp)
    n_perm = min(ctx.n_permutations, READOUT_PERMUTATIONS)
    idx = _domain_perms(domains, n_perm, ctx.seed + 17)
    y = target[facts]
    y_perm = y[idx]
    n_layers = len(data.z)
    plans: list[tuple[str, NDArray[np.intp], NDArray[np.intp] | None]] = [(prefix, group_folds[facts], None)]
    if transfer and np.unique(domains).size > 1:
        plans.append((f"{prefix}_transfer", domain_folds, domain_folds))
    rows: list[dict[str, Any]] = []
    summary: dict[str, Any] = {"n_facts": int(facts.size), "n_permutations": n_perm, "n_layers": n_layers}
    dummy = np.zeros((1, facts.size), np.int8)  # the probe's Brier losses are not used here
    for name_prefix, folds, groups in plans:
        probe = IncrementalProbe(k_s, folds, dummy)
        a_s = probe.operator(k_s)
        # Freedman–Lane: the wording's out-of-fold prediction plus its residuals permuted within domain
        fit = a_s @ y
        y_fl = fit[None, :] + (y - fit)[idx]
        base_fl = r2_null(a_s, y_fl, groups)
        # across domains the wording's own read-out is poor, so "wording + states − wording" would count a
        # less bad fit as an increment: the transfer read-out is from the states alone
        names = ("r2", "increment_r2") if increment and groups is None else ("r2",)
        fam: dict[str, tuple[list[dict[str, Any]], list[Array]]] = {name: ([], []) for name in names}
        per_fact_sse: list[Array] = []
        for layer in range(n_layers):
            k_z = unit_kernel(fact_mean_kernel(data.gram(layer), data.row_fact, ctx.n_facts)[ix])
            a_z = probe.operator(k_z)
            nulls_of = {"r2": r2_null(a_z, y_perm, groups)}
            if "increment_r2" in fam:
                nulls_of["increment_r2"] = r2_null(probe.full_operator(k_z), y_fl, groups) - base_fl
            per_fact_sse.append((y - a_z @ y) ** 2)
            for name, null in nulls_of.items():
                r = row("hingeness", model, "empty", f"{name_prefix}_{name}", layer=layer, pooling="last")
                r.update({C.ESTIMATE: float(null[0]), C.N_FACTS: int(facts.size), C.N_PERMUTATIONS: n_perm})
                fam[name][0].append(r)
                fam[name][1].append(null)
        for name, (family_rows, nulls) in fam.items():
            fill_family(family_rows, nulls)
            rows.extend(family_rows)
            summary[f"{name_prefix}_{name}"] = aggregate(nulls, n_layers)
        summary[f"{name_prefix}_surface_r2"] = float(base_fl[0])
        summary[f"{name_prefix}_sse"] = np.mean([per_fact_sse[i] for i in middle_third(n_layers)], axis=0)
    summary["y"] = y
    return rows, summary


def _readout(
    ctx: AnalysisContext, model: ModelInfo, score: Array, raw: Array | None, out: Output
) -> list[dict[str, Any]]:
    """Ridge read-out of ``score`` from each layer's states, across domains too; beside it, for a model with
    a control, the read-out of its model index ``raw`` with the increment of wording + states over wording.

    The contrast index is already the wording's cross-fitted residual, so the wording alone predicts it
    worse than its mean (negative R²) and "wording + states − wording" would count a less bad fit as an
    increment: its read-out from the states is beyond the wording by construction, and the increment test
    is run on the model index, where the wording is a real competitor."""
    from beliefs.stats.increment import PROBE_RIDGE

    rows, fits = _readout_fits(ctx, model, score, "readout", increment=raw is None, transfer=True)
    if not fits:
        return []
    extra: dict[str, Any] = {}
    beyond: dict[str, Any]
    if raw is not None:
        model_rows, model_fits = _readout_fits(
            ctx, model, raw, "readout_model", increment=True, transfer=False
        )
        rows += model_rows
        if model_fits:
            r2m, incm = model_fits["readout_model_r2"], model_fits["readout_model_increment_r2"]
            extra = {
                "model_index_r2": float(r2m[0]),
                "model_index_p_value": float(permutation_pvalues(r2m)[0]),
                "model_index_surface_r2": model_fits["readout_model_surface_r2"],
                "model_index_increment_r2": float(incm[0]),
                "model_index_p_beyond_surface": float(permutation_pvalues(incm)[0]),
            }
        p_beyond = float(permutation_pvalues(fits["readout_r2"])[0])
        beyond = {
            "beyond_surface_test": "the target (contrast index) is the wording's cross-fitted residual: the "
            "states' read-out is beyond the wording by construction",
        }
    else:
        inc = fits["readout_increment_r2"]
        p_beyond = float(permutation_pvalues(inc)[0])
        beyond = {
            "beyond_surface_test": "Freedman–Lane permutation of the wording residuals within domain",
            "increment_statistic": "delta_r2",
            "increment_estimate": float(inc[0]),
            "increment_null_mean": float(np.nanmean(inc[1:])),
        }
    if "readout_transfer_r2" in fits:
        t = fits["readout_transfer_r2"]
        extra.update(
            {
                "transfer_r2": float(t[0]),
                "transfer_p_value": float(permutation_pvalues(t)[0]),
                "transfer_surface_r2": fits["readout_transfer_surface_r2"],
            }
        )
    agg, y, sse = fits["readout_r2"], fits["y"], fits["readout_sse"]
    dev = (y - y.mean()) ** 2

    def stat(index: np.ndarray, axis: int = -1) -> np.ndarray:
        i = index.astype(np.intp)
        return np.asarray(1.0 - sse[i].sum(axis=axis) / dev[i].sum(axis=axis))

    lo, hi = bootstrap_ci((np.arange(y.size).astype(np.float64),), stat, n_resamples=1000, seed=ctx.seed)
    out.headlines.append(
        headline(
            "hingeness",
            model,
            "empty",
            "readout_r2",
            fits["n_layers"],
            estimate=float(agg[0]),
            ci_low=lo,
            ci_high=hi,
            ci_method="fact bootstrap (BCa) of out-of-fold squared errors, mean over the headline layers; "
            "probe not refitted",
            p_value=float(permutation_pvalues(agg)[0]),
            null=agg,
            p_beyond_surface=p_beyond,
            surface_r2=fits["readout_surface_r2"],
            folds=ctx.group_kind or "pairs kept together",
            ridge=f"{PROBE_RIDGE} x n_train on unit kernels",
            n_facts=fits["n_facts"],
            n_permutations=fits["n_permutations"],
            **beyond,
            **extra,
        )
    )
    return rows
