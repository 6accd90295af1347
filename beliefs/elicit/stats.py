"""Hinge vs contingent on elicitation scores, with the machinery of the analyses (see STATISTICS.md).

Per condition and per-fact value (``salience``, ``endorsement``, ``endorsed`` = endorsement > 0, and
for each detailed condition the change from ``empty``: ``delta_salience``, ``delta_endorsement``):

- ``<value>_diff``: mean(hinge) − mean(contingent); interval from a fact bootstrap within cells
  (domain × kind, :func:`beliefs.stats.fact_bootstrap_weights`); two-sided p from the fact-level
  permutation of the hinge/contingent labels within domain (:func:`beliefs.stats.fact_permutations`);
- ``<value>_cliffs_delta``: Cliff's δ with a p from the same permutations;
- ``mean_<value>`` per cell (``logical/hinge`` …) and pooled: descriptive means with bootstrap intervals.

Each comparison is made pooled and within each domain. ``p_adjusted`` (max-statistic) and ``p_bh`` are
taken over the conditions of one statistic and subset, as in the analyses.

The **headline** is the empty-prompt-specific contrast, ``salience_contrast_diff``: per fact, its
hub-corrected salience (``salience_csls``, :mod:`beliefs.elicit.score`) under ``empty`` minus its mean
under the detailed prompts, compared between kinds. Hinges beating contingent facts under *every* prompt
(a generic wording lies close to any text) cancels in it; what remains is what the model volunteers
without context more than with it. Being a within-fact contrast, the statement's wording is the same on
both sides: its p-value is also the headline's beyond-surface p. With ``empty`` as the only condition the
headline is ``salience_csls_diff``, without a beyond-surface test.

The headline's p-value, 95% interval and TOST all come from **one** set of bootstrap replicates of the
statistic (:func:`bootstrap_inversion`, :func:`bootstrap_tost`), so they cannot disagree: the p is the
inversion of the interval (p ≤ 0.05 exactly when the 95% interval excludes 0; TOST p ≤ 0.05 exactly when
the 90% interval lies inside the equivalence bounds). The replicates cross facts (resampled within
domain × kind) with generated samples (:func:`beliefs.elicit.score.sample_replicates`) where those are
given, facts alone otherwise. Why the bootstrap and not the fact-label permutation: the contrast is
within fact, so the wording cancels and no surface-matched null is needed; what is left is sampling
error, and it has two sources. Saliences are nearest-neighbour similarities of *one shared batch* of
generations to every fact, so generation noise is correlated across facts: a permutation of the kind
labels conditions on that batch and treats a kind difference that a different batch would not repeat as
real (its p was 0.018 where the crossed interval held 0). Sign flips do not fit either: the null is "the
contrast does not depend on kind", not "the contrast is zero" (hub effects shift every fact's contrast).
Only the crossed bootstrap carries both sources. The permutation p of the same statistic is still in the
result rows (``<value>_diff``, with its max-statistic and BH adjustments), as for every other value.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from beliefs.results import columns as C
from beliefs.results.verdict import ALPHA, attach_verdicts, sesoi_for
from beliefs.schema import EMPTY_CONDITION
from beliefs.stats import (
    bh_adjust,
    cliffs_delta_perm,
    fact_bootstrap_weights,
    fact_permutations,
    maxstat_adjust,
    percentile_interval,
    permutation_pvalues,
)
from beliefs.stats.equivalence import mde_planted, mean_diff_perm, mean_diff_se

Array = NDArray[np.float64]
ANALYSIS = "elicitation"
QUESTION = "Under the empty prompt the model volunteers hinges more than under detailed prompts"
"""The hypothesis the elicitation headlines test (the title of their table in ``beliefs study``)."""
N_BOOT = 2000
CONTRAST = "salience_contrast"


def _values(
    salience: pd.DataFrame, facts: pd.DataFrame, conditions: list[str]
) -> dict[str, dict[str, Array]]:
    """Per condition, per-fact arrays aligned with ``facts``."""
    index = pd.MultiIndex.from_frame(facts[["fact_set", "fact_id"]])
    out: dict[str, dict[str, Array]] = {}
    for cond in conditions:
        sel = salience[salience["condition"] == cond].set_index(["fact_set", "fact_id"]).reindex(index)
        sal = sel["salience_true"].to_numpy(dtype=float)
        endo = sel["endorsement"].to_numpy(dtype=float)
        out[cond] = {
            "salience": sal,
            # older salience tables have no hub-corrected column: the raw salience stands in
            "salience_csls": sel["salience_csls_true"].to_numpy(dtype=float)
            if "salience_csls_true" in sel.columns
            else sal,
            "endorsement": endo,
            "endorsed": np.where(np.isfinite(endo), (endo > 0).astype(float), np.nan),
        }
    if EMPTY_CONDITION in out:
        base = out[EMPTY_CONDITION]
        for cond in conditions:
            if cond != EMPTY_CONDITION:
                out[cond]["delta_salience"] = out[cond]["salience"] - base["salience"]
                out[cond]["delta_salience_csls"] = out[cond]["salience_csls"] - base["salience_csls"]
                out[cond]["delta_endorsement"] = out[cond]["endorsement"] - base["endorsement"]
    return out


def contrast(empty: Array, detailed: list[Array]) -> Array:
    """Per fact: ``empty`` minus the mean over the detailed prompts (NaN where either side is missing).

    Works on ``(n,)`` values or ``(B, n)`` bootstrap replicates alike."""
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a fact missing under every detailed prompt
        out: Array = empty - np.nanmean(np.stack(detailed), axis=0)
    return out


def _weighted_means(weights: Array, values: Array, mask: NDArray[np.bool_]) -> Array:
    w = weights[:, mask]
    with np.errstate(invalid="ignore", divide="ignore"):
        out: Array = w @ values[mask] / w.sum(axis=1)
    return out


def _compare(
    values: Array, labels: NDArray[np.int8], perms: NDArray[np.int8], boot: Array, subset: NDArray[np.bool_]
) -> dict[str, Any] | None:
    """Hinge vs contingent on ``values`` restricted to ``subset`` (NaN facts left out)."""
    ok = subset & np.isfinite(values)
    hinge, contingent = ok & (labels == 1), ok & (labels == 0)
    if hinge.sum() < 2 or contingent.sum() < 2:
        return None
    v = values[ok]
    lab = perms[:, ok].astype(np.float64)
    n1 = lab.sum(axis=1)
    diff_null = np.abs(lab @ v / n1 - (1.0 - lab) @ v / (ok.sum() - n1))
    delta_all = cliffs_delta_perm(values[ok], perms[:, ok])
    diff_boot = _weighted_means(boot, values, hinge) - _weighted_means(boot, values, contingent)
    low, high = percentile_interval(diff_boot[:, None])
    return {
        "n": int(ok.sum()),
        "diff": float(values[hinge].mean() - values[contingent].mean()),
        "diff_ci": (float(low[0]), float(high[0])),
        "diff_boot": diff_boot,
        "diff_null": diff_null,
        "delta": float(delta_all[0]),
        "delta_null": np.abs(delta_all),
        "mean_h": float(values[hinge].mean()),
        "mean_c": float(values[contingent].mean()),
    }


def _order_rank(n: int, alpha: float) -> int:
    """1-based rank ``k`` of the order statistic that bounds a ``1 − alpha`` interval of ``n`` replicates:
    the lower bound is the ``k``-th smallest, the upper the ``k``-th largest (0: unbounded)."""
    return int(np.floor(alpha / 2 * (n + 1) + 1e-9))


def bootstrap_inversion(replicates: ArrayLike, alpha: float = 0.05) -> tuple[float, float, float]:
    """``(p, low, high)`` from bootstrap replicates of a statistic (NaN ignored): the two-sided p of
    "the statistic is 0" and the ``1 − alpha`` interval, one the inversion of the other.

    ``p = min(1, 2 min((1 + #{r ≤ 0}) / (R + 1), (1 + #{r ≥ 0}) / (R + 1)))`` (the observed counted, as in
    the permutation p-values); the interval runs from the ``k``-th smallest to the ``k``-th largest
    replicate with ``k = ⌊alpha/2 · (R + 1)⌋``. Hence ``p ≤ alpha`` exactly when 0 lies outside the
    interval. Unbounded (±inf) where too few replicates; all NaN without any.
    """
    r = np.sort(np.asarray(replicates, dtype=float).ravel())
    r = r[np.isfinite(r)]
    n = r.size
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    side = min(1 + int(np.sum(r <= 0.0)), 1 + int(np.sum(r >= 0.0))) / (n + 1)
    k = _order_rank(n, alpha)
    low, high = (float(r[k - 1]), float(r[n - k])) if k >= 1 else (-np.inf, np.inf)
    return min(1.0, 2.0 * side), low, high


def bootstrap_tost(replicates: ArrayLike, lower: float, upper: float) -> float:
    """TOST p of "the statistic lies within ``(lower, upper)``" from the same replicates as
    :func:`bootstrap_inversion`: the larger of ``(1 + #{r ≤ lower}) / (R + 1)`` and
    ``(1 + #{r ≥ upper}) / (R + 1)``, so ``≤ alpha`` exactly when the ``1 − 2 alpha`` interval of
    :func:`bootstrap_inversion` lies strictly inside the bounds."""
    r = np.asarray(replicates, dtype=float).ravel()
    r = r[np.isfinite(r)]
    if r.size == 0:
        return float("nan")
    p_low = (1 + int(np.sum(r <= lower))) / (r.size + 1) if np.isfinite(lower) else 0.0
    p_high = (1 + int(np.sum(r >= upper))) / (r.size + 1) if np.isfinite(upper) else 0.0
    return max(p_low, p_high)


def _row(model: str, control: str, condition: str, statistic: str, **values: Any) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(C.RESULT_COLUMNS, np.nan)
    out.update(
        {
            C.ANALYSIS: ANALYSIS,
            C.MODEL: model,
            C.CONTROL: control,
            C.CONDITION: condition,
            C.SUBSET: "pooled",
            C.LAYER: "",
            C.POOLING: "",
            C.STATISTIC: statistic,
        }
    )
    out.update(values)
    return out


def _fill_families(pending: list[tuple[dict[str, Any], Array]]) -> None:
    """p-values per row; max-statistic and BH adjustment over the conditions of a statistic × subset."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i, (r, _) in enumerate(pending):
        groups.setdefault((r[C.STATISTIC], r[C.SUBSET]), []).append(i)
    for idx in groups.values():
        t = np.column_stack([pending[i][1] for i in idx])
        p, adj = permutation_pvalues(t), maxstat_adjust(t)
        bh = bh_adjust(p)
        for j, i in enumerate(idx):
            r = pending[i][0]
            r[C.P_VALUE], r[C.P_ADJUSTED], r[C.P_BH] = float(p[j]), float(adj[j]), float(bh[j])


def elicitation_stats(
    salience: pd.DataFrame,
    conditions: list[str],
    model: str,
    control: str = "",
    permutations: int = 2000,
    seed: int = 0,
    replicates: Mapping[str, Array] | None = None,
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Result rows (columns :data:`beliefs.results.columns.RESULT_COLUMNS`) and the headline (a list of
    one), with its verdict (:mod:`beliefs.results.verdict`).

    ``replicates``: per condition, ``(B, n_facts)`` ``salience_csls`` of the true forms on resampled
    generations (:func:`beliefs.elicit.score.sample_replicates`, facts in the order of ``salience``'s
    first appearance), for the headline's interval crossing facts and samples.
    """
    facts = salience[["fact_set", "fact_id", "domain", "kind"]].drop_duplicates(["fact_set", "fact_id"])
    facts = facts.reset_index(drop=True)
    labels = (facts["kind"].to_numpy() == "hinge").astype(np.int8)
    domains = facts["domain"].to_numpy().astype(str)
    cells = np.char.add(np.char.add(domains, "/"), facts["kind"].to_numpy().astype(str))
    streams = np.random.SeedSequence(seed).spawn(2)
    perms = fact_permutations(labels, domains, permutations, np.random.default_rng(streams[0]))
    boot = fact_bootstrap_weights(cells, N_BOOT, seed=int(streams[1].generate_state(1)[0]))
    values = _values(salience, facts, conditions)
    detailed = [c for c in conditions if c != EMPTY_CONDITION]
    if EMPTY_CONDITION in values and detailed:
        values[EMPTY_CONDITION][CONTRAST] = contrast(
            values[EMPTY_CONDITION]["salience_csls"], [values[c]["salience_csls"] for c in detailed]
        )
    subsets = [("pooled", np.ones(len(facts), dtype=bool))]
    subsets += [(str(d), domains == d) for d in sorted(set(domains))]
    rows: list[dict[str, Any]] = []
    pending: list[tuple[dict[str, Any], Array]] = []
    results: dict[tuple[str, str, str], dict[str, Any]] = {}
    for cond in conditions:
        for name, v in values[cond].items():
            for cell in [*sorted(set(cells)), "pooled"]:
                mask = np.isfinite(v) & ((cells == cell) if cell != "pooled" else True)
                stat = "share_endorsed" if name == "endorsed" else f"mean_{name}"
                r = _row(model, control, cond, stat, subset=cell, n_facts=int(mask.sum()), n_permutations=0)
                if mask.any():
                    r[C.ESTIMATE] = float(v[mask].mean())
                    r[C.CI_LOW], r[C.CI_HIGH] = (
                        float(x[0]) for x in percentile_interval(_weighted_means(boot, v, mask)[:, None])
                    )
                rows.append(r)
            for subset, smask in subsets:
                cmp = _compare(v, labels, perms, boot, smask)
                if cmp is None:
                    continue
                results[(cond, name, subset)] = cmp
                base = {C.SUBSET: subset, C.N_FACTS: cmp["n"], C.N_PERMUTATIONS: permutations}
                r1 = _row(model, control, cond, f"{name}_diff", estimate=cmp["diff"], **base)
                r1[C.CI_LOW], r1[C.CI_HIGH] = cmp["diff_ci"]
                r2 = _row(model, control, cond, f"{name}_cliffs_delta", estimate=cmp["delta"], **base)
                pending += [(r1, cmp["diff_null"]), (r2, cmp["delta_null"])]
                rows += [r1, r2]
    _fill_families(pending)
    headlines = []
    head = _headline(values, results, facts, labels, perms, boot, detailed, replicates, model, control, seed)
    if head is not None:
        headlines.append(head)
    return pd.DataFrame(rows, columns=list(C.RESULT_COLUMNS)), headlines


def _crossed(
    replicates: Mapping[str, Array], detailed: list[str], boot: Array, labels: NDArray[np.int8]
) -> Array:
    """Hinge − contingent mean contrast on each crossed replicate: fact weights from the fact bootstrap,
    saliences from the same-numbered resample of the generations."""
    n_rep = min(len(replicates[EMPTY_CONDITION]), boot.shape[0])
    c = contrast(replicates[EMPTY_CONDITION][:n_rep], [replicates[d][:n_rep] for d in detailed])
    w = boot[:n_rep] * np.isfinite(c)
    c = np.where(np.isfinite(c), c, 0.0)
    h, k = w * labels, w * (1 - labels)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: Array = (h * c).sum(axis=1) / h.sum(axis=1) - (k * c).sum(axis=1) / k.sum(axis=1)
    return out


def _headline(
    values: dict[str, dict[str, Array]],
    results: dict[tuple[str, str, str], dict[str, Any]],
    facts: pd.DataFrame,
    labels: NDArray[np.int8],
    perms: NDArray[np.int8],
    boot: Array,
    detailed: list[str],
    replicates: Mapping[str, Array] | None,
    model: str,
    control: str,
    seed: int,
) -> dict[str, Any] | None:
    main = CONTRAST if detailed else "salience_csls"
    m = results.get((EMPTY_CONDITION, main, "pooled"))
    if m is None:
        return None
    v = values[EMPTY_CONDITION][main]
    if replicates is not None and detailed and all(c in replicates for c in (EMPTY_CONDITION, *detailed)):
        reps = _crossed(replicates, detailed, boot, labels)
        interval = "bootstrap crossing facts (within domain x kind) and generated samples"
    else:
        reps = m["diff_boot"]
        interval = "fact bootstrap within domain x kind"
    p, low, high = bootstrap_inversion(reps, ALPHA)
    ok = np.isfinite(v)
    resid = v[ok] - np.where(labels[ok] == 1, m["mean_h"], m["mean_c"])
    out: dict[str, Any] = {
        C.ANALYSIS: ANALYSIS,
        C.MODEL: model,
        C.CONTROL: control,
        C.CONDITION: EMPTY_CONDITION,
        C.STATISTIC: f"{main}_diff",
        C.ESTIMATE: m["diff"],
        C.CI_LOW: low,
        C.CI_HIGH: high,
        C.P_VALUE: p,
        "contrast_sd": float(np.sqrt(np.sum(resid**2) / max(resid.size - 2, 1))),
        "interval": interval,
        "p_method": (
            "inversion of the interval's bootstrap: twice the smaller share of replicates at or beyond 0 "
            "(observed counted); p <= 0.05 exactly when the 95% interval excludes 0"
        ),
        "n_bootstrap": int(np.isfinite(reps).sum()),
        "cliffs_delta": m["delta"],
        f"mean_{main}_hinge": m["mean_h"],
        f"mean_{main}_contingent": m["mean_c"],
        "mde_80": mde_planted(
            v, perms, mean_diff_perm, mean_diff_se(v, labels), seed=seed, n_sim=100, n_null=99
        ),
        "mde_method": "planted shifts of the per-fact values against the permutation null",
    }
    if detailed:
        out["p_beyond_surface"] = p
        out["beyond_surface_test"] = (
            "within-fact contrast: the statement's wording is the same under both prompts"
        )
        out["detailed_conditions"] = detailed
    for key, (cond, name) in {
        "salience_diff_empty": (EMPTY_CONDITION, "salience"),
        "salience_csls_diff_empty": (EMPTY_CONDITION, "salience_csls"),
        "endorsement_diff_empty": (EMPTY_CONDITION, "endorsement"),
        **{f"salience_csls_diff_{d}": (d, "salience_csls") for d in detailed},
    }.items():
        r = results.get((cond, name, "pooled"))
        if r is not None:
            out[key] = r["diff"]
            out[f"{key}_p_value"] = float(permutation_pvalues(r["diff_null"])[0])
    share = results.get((EMPTY_CONDITION, "endorsed", "pooled"))
    if share is not None:
        out["share_endorsed_hinge"] = share["mean_h"]
        out["share_endorsed_contingent"] = share["mean_c"]
    endorsed = values[EMPTY_CONDITION]["endorsed"]
    if np.isfinite(endorsed).any():
        out["share_endorsed"] = float(np.nanmean(endorsed))
    delta = sesoi_for(out)
    if delta is not None:
        # the same replicates: TOST p <= 0.05 exactly when the 90% interval lies inside the bounds
        out["p_equivalence"] = bootstrap_tost(reps, -delta, delta)
        out["equivalence_bounds"] = [-delta, delta]
    out[C.N_FACTS] = m["n"]
    out[C.N_PERMUTATIONS] = perms.shape[0] - 1
    out = {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in out.items()}
    attach_verdicts([out])
    return out
