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
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from beliefs.analyses import columns as C
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

Array = NDArray[np.float64]
ANALYSIS = "elicitation"
N_BOOT = 2000
VALUES = ("salience", "endorsement", "endorsed")
DELTAS = ("delta_salience", "delta_endorsement")


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
            "endorsement": endo,
            "endorsed": np.where(np.isfinite(endo), (endo > 0).astype(float), np.nan),
        }
    if EMPTY_CONDITION in out:
        base = out[EMPTY_CONDITION]
        for cond in conditions:
            if cond != EMPTY_CONDITION:
                out[cond]["delta_salience"] = out[cond]["salience"] - base["salience"]
                out[cond]["delta_endorsement"] = out[cond]["endorsement"] - base["endorsement"]
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
        "diff_null": diff_null,
        "delta": float(delta_all[0]),
        "delta_null": np.abs(delta_all),
        "mean_h": float(values[hinge].mean()),
        "mean_c": float(values[contingent].mean()),
    }


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
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Result rows (columns :data:`beliefs.analyses.columns.RESULT_COLUMNS`) and one headline per condition.

    The headline under ``empty`` is ``salience_diff`` (hinge − contingent mean salience); under a
    detailed condition ``delta_salience_diff`` (hinge − contingent mean rise from ``empty``). Each
    carries the endorsement figures beside it.
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
    subsets = [("pooled", np.ones(len(facts), dtype=bool))]
    subsets += [(str(d), domains == d) for d in sorted(set(domains))]
    rows: list[dict[str, Any]] = []
    pending: list[tuple[dict[str, Any], Array]] = []
    headlines: list[dict[str, Any]] = []
    for cond in conditions:
        results: dict[tuple[str, str], dict[str, Any]] = {}
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
                results[(name, subset)] = cmp
                base = {C.SUBSET: subset, C.N_FACTS: cmp["n"], C.N_PERMUTATIONS: permutations}
                r1 = _row(model, control, cond, f"{name}_diff", estimate=cmp["diff"], **base)
                r1[C.CI_LOW], r1[C.CI_HIGH] = cmp["diff_ci"]
                r2 = _row(model, control, cond, f"{name}_cliffs_delta", estimate=cmp["delta"], **base)
                pending += [(r1, cmp["diff_null"]), (r2, cmp["delta_null"])]
                rows += [r1, r2]
        headline = _headline(cond, model, control, results, permutations)
        if headline is not None:
            endorsed = values[cond]["endorsed"]
            if np.isfinite(endorsed).any():
                headline["share_endorsed"] = float(np.nanmean(endorsed))
            headlines.append(headline)
    _fill_families(pending)
    return pd.DataFrame(rows, columns=list(C.RESULT_COLUMNS)), headlines


def _headline(
    cond: str, model: str, control: str, results: dict[tuple[str, str], dict[str, Any]], permutations: int
) -> dict[str, Any] | None:
    main = "salience" if cond == EMPTY_CONDITION else "delta_salience"
    m = results.get((main, "pooled"))
    if m is None:
        return None
    p = float(permutation_pvalues(m["diff_null"])[0])
    out: dict[str, Any] = {
        C.ANALYSIS: ANALYSIS,
        C.MODEL: model,
        C.CONTROL: control,
        C.CONDITION: cond,
        C.STATISTIC: f"{main}_diff",
        C.ESTIMATE: m["diff"],
        C.CI_LOW: m["diff_ci"][0],
        C.CI_HIGH: m["diff_ci"][1],
        C.P_VALUE: p,
        "cliffs_delta": m["delta"],
        f"mean_{main}_hinge": m["mean_h"],
        f"mean_{main}_contingent": m["mean_c"],
    }
    endo = "endorsement" if cond == EMPTY_CONDITION else "delta_endorsement"
    e = results.get((endo, "pooled"))
    if e is not None:
        out[f"{endo}_diff"] = e["diff"]
        out[f"{endo}_p_value"] = float(permutation_pvalues(e["diff_null"])[0])
    share = results.get(("endorsed", "pooled"))
    if share is not None:
        out["share_endorsed_hinge"] = share["mean_h"]
        out["share_endorsed_contingent"] = share["mean_c"]
    out[C.N_FACTS] = m["n"]
    out[C.N_PERMUTATIONS] = permutations
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in out.items()}
