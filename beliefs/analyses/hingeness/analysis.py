"""The registered ``hingeness`` analysis: components, reliability, agreement, read-out and RSA per model."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from beliefs.analyses.context import (
    AnalysisContext,
    Array,
    Output,
    fill_family,
    headline,
    row,
)
from beliefs.analyses.hingeness.agreement import _auroc_ci, auroc_null
from beliefs.analyses.hingeness.components import (
    COMPONENTS,
    FACT_TABLE,
    SALIENCE_MIN_RELIABILITY,
    _components,
    _control_of,
    _salience_contrast,
    contrast_components,
    general_conditions,
    index_of,
    read_salience,
    wording_features,
)
from beliefs.analyses.hingeness.readout import _readout, _surface_r2
from beliefs.analyses.hingeness.reliability import salience_sample_reliability, split_half
from beliefs.analyses.hingeness.rsa import _rsa
from beliefs.analyses.hingeness.section import _section, extremes
from beliefs.analyses.registry import register
from beliefs.results import columns as C
from beliefs.stats import permutation_pvalues


@register(
    "hingeness",
    question="What the model itself treats as a hinge (beyond its random-init control) matches the labels "
    "and is read out from, or organises, the states beyond surface",
    cost=6.0,
    section=_section,
)
def hingeness(ctx: AnalysisContext) -> Output:
    """What the model treats as a hinge (default, entrenchment, prior, salience; relative to its random-init
    control), its agreement with the authors' labels, its ridge read-out from the states beyond surface,
    and whether the states' geometry follows it beyond surface (RSA)."""
    from beliefs.analyses.surface import (
        NO_VALID_STRATA,
        PAIRED_TEST,
        conditional_permutations_for,
        declared_pairs,
        paired_surface_test,
        strata_hold_size,
    )

    out = Output()
    general = general_conditions(ctx.conditions)
    fact_rows: list[pd.DataFrame] = []
    for model in ctx.models:
        if not ctx.has_margins(model):
            continue
        control = _control_of(ctx, model)
        control_name = control.name if control is not None and ctx.has_margins(control) else None
        elicited = read_salience(ctx, model.name)
        sample_rel = salience_sample_reliability(elicited, general)
        # salience enters the index only where it replicates between halves of the samples
        in_index = sample_rel is not None and sample_rel >= SALIENCE_MIN_RELIABILITY
        salience = elicited if in_index else None
        control_salience = read_salience(ctx, control_name) if control_name and in_index else None
        comps = _components(ctx, model.name, control_name, general, (salience or {}).get("all"))
        if not comps:
            continue
        raw = index_of(comps)
        table = ctx.facts[["fact_set", "fact_id", "domain", "kind"]].copy()
        for name in COMPONENTS:
            table[name] = comps.get(name, np.full(ctx.n_facts, np.nan))
        salience_column = _salience_contrast(elicited["all"], general) if elicited else None
        if salience_column is not None:
            table["salience"] = salience_column
        table["hingeness_model"] = raw
        if control_name is not None:
            ctrl = _components(ctx, control_name, None, general, (control_salience or {}).get("all"))
            contrast = contrast_components(ctx, model, comps, ctrl)
            for name in COMPONENTS:
                table[f"{name}_contrast"] = contrast.get(name, np.full(ctx.n_facts, np.nan))
            score = index_of(contrast)
            table["hingeness_contrast"] = score
            used = "contrast"
        else:
            score, used = raw, "model"
        table["hingeness"] = score
        table.insert(0, "model", model.name)
        fact_rows.append(table)
        cond = "empty"
        n_ok = int(np.isfinite(score).sum())
        base = {C.N_PERMUTATIONS: ctx.n_permutations}

        # reliability
        reliability = split_half(ctx, model, control_name, general, salience, control_salience)
        if sample_rel is not None:
            reliability["salience_samples"] = sample_rel
        for name, value in reliability.items():
            out.rows.append(
                row("hingeness", model, cond, f"reliability_{name}", estimate=value, n_facts=n_ok)
            )

        # agreement with the authors' labels
        agreement: list[tuple[dict[str, Any], Array]] = []
        subsets = [("pooled", np.ones(ctx.n_facts, bool))] + [
            (d, ctx.domains == d) for d in sorted(set(ctx.domains))
        ]
        headline_auroc: dict[str, Any] = {}
        scores = [("hingeness", score)]
        if used == "contrast":
            scores.append(("hingeness_model", raw))
        scores += [(n, comps[n]) for n in COMPONENTS if n in comps]
        if salience_column is not None and "salience" not in comps:
            scores.append(("salience", salience_column))
        for name, values in scores:
            for subset, mask in subsets:
                ok = mask & np.isfinite(values)
                null = auroc_null(values, ctx.perms, ok)
                if not np.isfinite(null[0]):
                    continue
                lo, hi = _auroc_ci(values, ctx.labels, mask, ctx.seed)
                r = row("hingeness", model, cond, f"{name}_auroc", subset=subset, estimate=float(null[0]))
                r.update({C.CI_LOW: lo, C.CI_HIGH: hi, C.N_FACTS: int(ok.sum())})
                r.update(base)
                agreement.append((r, np.abs(null - 0.5)))
                if name == "hingeness" and subset == "pooled":
                    headline_auroc = {"estimate": float(null[0]), "ci_low": lo, "ci_high": hi, "null": null}
        for r, null in agreement:
            fill_family([r], [null])
            out.rows.append(r)
        if headline_auroc:
            null = headline_auroc.pop("null")
            # beyond surface: within declared pairs, the hinge twin's index against its contingent twin's,
            # adjusted for the twins' surface differences (no valid test without pairs)
            _perms, strata = conditional_permutations_for(ctx, model)
            paired = (
                paired_surface_test(ctx, model, score, declared_pairs(ctx))
                if strata_hold_size(strata)
                else None
            )
            if paired is not None:
                headline_auroc["p_beyond_surface"] = paired[0]
                headline_auroc["beyond_surface_test"] = PAIRED_TEST
                headline_auroc["pair_adjusted_estimate"] = paired[1]
                headline_auroc["n_pairs"] = paired[2]
            else:
                headline_auroc["p_beyond_surface"] = None
                headline_auroc["beyond_surface_test"] = NO_VALID_STRATA
            top, bottom = extremes(table)
            h = headline(
                "hingeness",
                model,
                cond,
                "hingeness_auroc",
                None,
                p_value=float(permutation_pvalues(np.abs(null - 0.5))[0]),
                null=null,
                n_facts=n_ok,
                n_permutations=ctx.n_permutations,
                components=[n for n in COMPONENTS if n in comps],
                salience_in_index=bool(in_index),
                index=used,
                reliability_index_model=reliability.get("index"),
                reliability_index_control=reliability.get("index_control"),
                reliability_index_contrast=reliability.get("index_contrast"),
                reliability_salience_samples=reliability.get("salience_samples"),
                top_facts=top,
                bottom_facts=bottom,
                **headline_auroc,
            )
            out.headlines.append(h)

        # how much of the model index and of hingeness the surface features predict
        x = wording_features(ctx, model)
        # (the contrast index is the wording's cross-fitted residual: its surface_r2_hingeness is <= 0 by
        # construction, a check; surface_r2 is the model index's)
        for name, values in [("surface_r2", raw)] + (
            [("surface_r2_hingeness", score)] if used == "contrast" else []
        ):
            out.rows.append(_surface_r2(ctx, model, x @ x.T, values, name))

        # ridge read-out from the states, beyond surface, and across domains
        out.rows.extend(_readout(ctx, model, score, raw if used == "contrast" else None, out))

        # representational similarity, per layer
        ok = np.isfinite(score)
        out.rows.extend(_rsa(ctx, model, score, x[ok], ok, out))
    if fact_rows:
        out.tables[FACT_TABLE] = pd.concat(fact_rows, ignore_index=True)
    return out
