"""``causal-trace``: hinge vs contingent on causal-tracing profiles (``RUN/trace/``, from ``beliefs trace``).

Reads the stored per-fact profiles and summaries (it does not run the model; without ``RUN/trace/`` it
returns nothing). Per model × condition:

- **profiles**: for every component × position group × centre layer, the difference of mean recovered
  fraction (hinge − contingent), fact-level permutation p (kind permuted among traced facts within
  domain), max-statistic adjusted over the whole profile (``p_adjusted``) and BH beside it
  (``recovery_diff`` rows, subset ``component/position``; cells constant by construction are left out);
  kind means per cell (``recovery_mean`` rows);
- **summaries** (:data:`beliefs.trace.summary.SUMMARIES`, and ``state_recovery_mid``: mean state
  recovery over the middle third of layers, both positions): difference of means with its fact-bootstrap
  BCa interval and permutation p, Cliff's δ, Mann–Whitney; one headline each;
- **within pairs**, where the facts table has a ``pair`` column: hinge minus its contingent twin, sign
  flips (``<summary>_pair_diff`` rows, subset ``pairs``; ``pair_*`` keys in the headline; this plain
  within-pair test still sees what differs between the twins' wording); where every traced fact sits in a
  declared pair, each summary's ``p_beyond_surface`` is the within-pair test adjusted for the twins'
  surface differences (:func:`beliefs.analyses.surface.paired_surface_test`), else there is none;
- **counts**: traced and untraceable facts by reason and kind (``n_traced``, ``n_untraceable:<reason>``
  rows), also in each headline, so that a control whose facts are all untraceable says so.

Its report section (method, facts traced, headlines, heat maps and examples) reads the same stored trace.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from beliefs.analyses.context import AnalysisContext, Array, Output, fill_family, headline, row
from beliefs.analyses.registry import SectionContext, register
from beliefs.analyses.surface import NO_VALID_STRATA, PAIRED_TEST, paired_surface_test
from beliefs.results import columns as C
from beliefs.results.document import Block, Figure, Heading, Paragraph, Table
from beliefs.rundata import ModelInfo
from beliefs.stats import middle_third
from beliefs.trace.stats import pair_test, profile_test, summary_test
from beliefs.trace.summary import SUMMARIES

ANALYSIS = "causal-trace"
MID = "state_recovery_mid"
HEADLINE_SUMMARIES = (*SUMMARIES, MID)


def beyond_surface_pairs(ctx: AnalysisContext, model: ModelInfo, traced: np.ndarray) -> np.ndarray | None:
    """The declared pairs whose twins were both traced, for each summary's ``p_beyond_surface`` (the
    surface-adjusted within-pair test, :func:`beliefs.analyses.surface.paired_surface_test`). ``None``
    unless every traced fact sits in a declared pair: within templates or surface bins a plain difference
    of means still sees the surface inside each stratum, and no test of it holds its size
    (:func:`beliefs.analyses.surface.strata_hold_size`)."""
    from beliefs.analyses.surface import declared_pairs, describe_strata, strata_hold_size, surface_strata_for

    if traced.sum() < 4:
        return None
    strata = surface_strata_for(ctx, model)
    if not strata_hold_size(describe_strata(strata[traced])):
        return None
    pairs = declared_pairs(ctx, traced)
    return pairs if len(pairs) >= 4 else None


def _run_path(run: Any) -> Path | None:
    """The folder of a run; a study analyses each fact set on its own (a ``SubsetRun``): its base run's."""
    path = getattr(run, "path", None) or getattr(getattr(run, "base", None), "path", None)
    return Path(path) if path is not None else None


def _trace_tables(run: Any) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]] | None:
    """What ``beliefs trace`` stored for the run (``RUN/trace/``), None where it was not traced."""
    from beliefs.trace.run import read_trace

    path = _run_path(run)
    return None if path is None else read_trace(path)


def _section(s: SectionContext) -> list[Block]:
    """Causal tracing: method, facts traced (and why the others were not), cost, headlines with verdicts,
    heat maps and labelled examples; [] where the run was not traced or the analysis not run."""
    from beliefs.trace.figures import EXAMPLES, trace_figures

    path = _run_path(s.run)
    tables = _trace_tables(s.run)
    if s.table is None or path is None or tables is None:
        return []
    facts, _profiles, record = tables
    fact_set = getattr(s.run, "fact_set", None)
    if fact_set is not None:
        facts = facts[facts["fact_set"].astype(str) == fact_set]
    settings = record.get("settings", {})
    blocks: list[Block] = [Heading("Causal tracing: where the preference for the true form is computed")]
    blocks.append(
        Paragraph(
            "Causal tracing (Meng et al. 2022) on each causal LM: the statement's shared content tokens (all "
            "tokens the true and false form share but the last) get Gaussian noise on their embeddings "
            f"({settings.get('noise_factor', 3):g}× the embedding SD, {settings.get('noise_seeds')} noise "
            "draw(s) per fact, the same for both forms); then the clean residual state of one layer, or the "
            f"clean MLP or attention outputs of {settings.get('window')} layers around it, is put back at "
            "the content tokens or at the last token before the forms differ, and the recovered fraction "
            "(restored − corrupted) / (clean − corrupted) of the true-vs-false margin is recorded. Layer 0 "
            "is the embeddings: restoring it at the content tokens gives 1 and at the last token 0 by "
            "construction, so peaks and spreads are taken from layer 1 on. Facts whose forms differ at the "
            "first token, share one token, or whose margin the noise moves by less than "
            f"{settings.get('min_gap')} nats are untraceable and counted, not dropped."
        )
    )
    rows = []
    for (model, cond), part in facts.groupby(["model", "condition"], sort=False):
        traced = part[part["status"] == "traced"]
        why = part.loc[part["status"] != "traced", "reason"].fillna("").value_counts()
        seconds = (record.get("models", {}).get(str(model), {}).get("seconds") or {}).get(str(cond))
        rows.append(
            {
                "model": model,
                "condition": cond,
                "facts": len(part),
                "traced hinge": int((traced["kind"] == "hinge").sum()),
                "traced contingent": int((traced["kind"] == "contingent").sum()),
                "untraceable": ", ".join(f"{k} {v}" for k, v in why.items()) or "none",
                "median gap (nats)": float(traced["gap"].median()) if len(traced) else float("nan"),
                "seconds (all sets)": seconds,
            }
        )
    if rows:
        blocks.append(Table(pd.DataFrame(rows), "facts traced and why the others were not"))
    if s.headlines:
        blocks.append(
            Table(
                s.headline_table(s.headlines),
                "hinge − contingent on the per-fact summaries: peak layer and spread (layers recovering more "
                "than half) at the content and last token, MLP share of the window recoveries, mean state "
                "recovery over the middle third of layers",
            )
        )
    for p in trace_figures(path, s.fig_dir, EXAMPLES, fact_set=fact_set):
        what = (
            "mean recovered fraction by layer and restored position, per kind, and hinge − contingent"
            if "heatmap" in p.name
            else f"per-fact profiles of labelled examples ({'; '.join(EXAMPLES)} where in this set)"
        )
        blocks.append(Figure(p, what))
    return blocks


def _pairs(ctx: AnalysisContext) -> list[tuple[int, int]]:
    """(hinge index, twin index) for each declared pair whose twin is in the run (optional ``pair`` column)."""
    from beliefs.analyses.surface import declared_pairs

    return [(int(i), int(j)) for i, j in declared_pairs(ctx)]


@register(ANALYSIS, section=_section)
def causal_trace(ctx: AnalysisContext) -> Output:
    """Causal tracing (RUN/trace/, from `beliefs trace`): restoration profiles and summaries, hinge vs contingent."""
    out = Output()
    tables = _trace_tables(ctx.run)
    if tables is None:
        return out
    fact_table, profiles, record = tables
    fact_table = fact_table.assign(
        control=fact_table["control"].fillna(""), reason=fact_table["reason"].fillna("")
    )
    index = pd.MultiIndex.from_frame(ctx.facts[["fact_set", "fact_id"]].astype(str))
    pairs = _pairs(ctx)
    for model in ctx.models:
        mine = fact_table[fact_table["model"] == model.name]
        for cond in dict.fromkeys(mine["condition"]):
            ft = mine[mine["condition"] == cond].astype({"fact_set": str, "fact_id": str})
            ft = ft.drop_duplicates(["fact_set", "fact_id"]).set_index(["fact_set", "fact_id"]).reindex(index)
            n_layers = int(record.get("models", {}).get(model.name, {}).get("n_layers", model.n_layers))
            _model_condition(ctx, out, model, str(cond), ft, profiles, n_layers, pairs)
    return out


def _counts(
    ctx: AnalysisContext, model: ModelInfo, cond: str, ft: pd.DataFrame
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    rows = []
    status = ft["status"].fillna("").to_numpy()
    reason = ft["reason"].fillna("").to_numpy()
    summary: dict[str, Any] = {"n_traced": int((status == "traced").sum()), "untraceable": {}}
    for k, kname in ((1, "hinge"), (0, "contingent")):
        sel = ctx.labels == k
        r = row(
            ANALYSIS, model, cond, "n_traced", subset=kname, estimate=float((status[sel] == "traced").sum())
        )
        r.update({C.N_FACTS: int(sel.sum()), C.N_PERMUTATIONS: 0})
        rows.append(r)
        summary[f"n_traced_{kname}"] = int((status[sel] == "traced").sum())
        for why in sorted({x for x in reason[sel & (status == "untraceable")]}):
            n = int(((reason == why) & sel & (status == "untraceable")).sum())
            r = row(ANALYSIS, model, cond, f"n_untraceable:{why}", subset=kname, estimate=float(n))
            r.update({C.N_FACTS: int(sel.sum()), C.N_PERMUTATIONS: 0})
            rows.append(r)
            summary["untraceable"][why] = summary["untraceable"].get(why, 0) + n
    summary["n_not_in_trace"] = int((status == "").sum())
    return rows, summary


def _model_condition(
    ctx: AnalysisContext,
    out: Output,
    model: ModelInfo,
    cond: str,
    ft: pd.DataFrame,
    profiles: pd.DataFrame,
    n_layers: int,
    pairs: list[tuple[int, int]],
) -> None:
    count_rows, counts = _counts(ctx, model, cond, ft)
    out.rows.extend(count_rows)
    traced = (ft["status"] == "traced").to_numpy()
    seed = ctx.seed
    B = ctx.n_permutations
    # -- profiles: one family per model × condition ----------------------------------------------------
    prof = profiles[(profiles["model"] == model.name) & (profiles["condition"] == cond)]
    per_fact: dict[str, Array] = {}
    if len(prof) and traced.sum() >= 4:
        wide = prof.astype({"fact_set": str, "fact_id": str}).pivot_table(
            index=["fact_set", "fact_id"], columns=["component", "position", "layer"], values="fraction"
        )
        wide = wide.reindex(pd.MultiIndex.from_frame(ft.reset_index()[["fact_set", "fact_id"]]))
        grid = wide.to_numpy(dtype=float)
        cells: list[tuple[Any, ...]] = [tuple(c) for c in wide.columns.to_list()]
        ok = traced & np.all(np.isfinite(grid), axis=1)
        labels, domains = ctx.labels[ok], ctx.domains[ok]
        # cells fixed by construction (the state at layer 0 recovers exactly 1 at the content tokens and 0 at
        # the uncorrupted last token) would test float rounding: left out of the family
        varying = np.std(grid[ok], axis=0) > 1e-4 if ok.any() else np.zeros(len(cells), dtype=bool)
        if min((labels == 1).sum(), (labels == 0).sum()) >= 2 and varying.any():
            tested = [c for c, v in zip(cells, varying, strict=True) if v]
            ptest = profile_test(grid[ok][:, varying], labels, domains, B, seed)
            family: list[dict[str, Any]] = []
            nulls: list[Array] = []
            for m, (component, position, layer) in enumerate(tested):
                base = {C.SUBSET: f"{component}/{position}", C.LAYER: int(layer), C.N_FACTS: ptest.n}
                r = row(ANALYSIS, model, cond, "recovery_diff", estimate=float(ptest.diff[m]), **base)
                r.update(
                    {
                        C.CI_LOW: float(ptest.ci_low[m]),
                        C.CI_HIGH: float(ptest.ci_high[m]),
                        C.N_PERMUTATIONS: B,
                    }
                )
                family.append(r)
                nulls.append(ptest.null[:, m])
                for kname, mean in (("hinge", ptest.mean_hinge[m]), ("contingent", ptest.mean_contingent[m])):
                    r = row(ANALYSIS, model, cond, "recovery_mean", estimate=float(mean), **base)
                    r.update({C.SUBSET: f"{component}/{position}/{kname}", C.N_PERMUTATIONS: 0})
                    out.rows.append(r)
            fill_family(family, nulls)
            out.rows.extend(family)
        mid = set(int(x) for x in middle_third(n_layers))
        cols = [
            m for m, (component, _p, layer) in enumerate(cells) if component == "state" and int(layer) in mid
        ]
        if cols:
            mean_mid = np.full(len(ok), np.nan)
            mean_mid[ok] = grid[ok][:, cols].mean(axis=1)
            per_fact[MID] = mean_mid
    for s in SUMMARIES:
        per_fact[s] = np.where(traced, pd.to_numeric(ft[s], errors="coerce").to_numpy(dtype=float), np.nan)
    # -- summaries: one headline each -------------------------------------------------------------------
    beyond = beyond_surface_pairs(ctx, model, traced)
    for name in HEADLINE_SUMMARIES:
        values = per_fact.get(name)
        test = None if values is None else summary_test(values, ctx.labels, ctx.domains, B, seed)
        extra: dict[str, Any] = {
            **counts,
            "p_beyond_surface": None,
            "beyond_surface_test": PAIRED_TEST if beyond is not None else NO_VALID_STRATA,
        }
        if name == MID:
            mid_layers = middle_third(n_layers)
            extra["layers"] = [int(mid_layers[0]), int(mid_layers[-1])]
        found: dict[str, Any]
        if test is None:
            nan = float("nan")
            found = {
                "estimate": nan,
                "ci_low": nan,
                "ci_high": nan,
                "p_value": nan,
                "n_facts": int(np.isfinite(values).sum()) if values is not None else 0,
                "n_permutations": B,
                "note": "too few traced facts of each kind to compare",
            }
        else:
            assert values is not None
            found = {
                "estimate": test.diff,
                "ci_low": test.ci_low,
                "ci_high": test.ci_high,
                "p_value": test.p_value,
                "n_facts": test.n_hinge + test.n_contingent,
                "n_permutations": B,
            }
            r = row(ANALYSIS, model, cond, f"{name}_diff", **found)
            if np.isfinite(test.null[1:]).any():
                r[C.NULL_LOW], r[C.NULL_HIGH] = (float(v) for v in np.percentile(test.null[1:], [2.5, 97.5]))
            out.rows.append(r)
            paired = None if beyond is None else paired_surface_test(ctx, model, values, beyond)
            if paired is not None:
                extra["p_beyond_surface"] = paired[0]
                extra["pair_adjusted_estimate"] = paired[1]
            elif beyond is not None:
                extra["beyond_surface_test"] = NO_VALID_STRATA
            pt = pair_test(values, pairs, B, seed) if pairs else None
            if pt is not None:
                pr = row(ANALYSIS, model, cond, f"{name}_pair_diff", subset="pairs", estimate=pt.mean)
                pr.update({C.P_VALUE: pt.p_value, C.N_FACTS: 2 * pt.n_pairs, C.N_PERMUTATIONS: B})
                out.rows.append(pr)
                extra.update(pair_estimate=pt.mean, pair_p_value=pt.p_value, n_pairs=pt.n_pairs)
            found.update(
                null=test.null,
                mean_hinge=test.mean_hinge,
                mean_contingent=test.mean_contingent,
                cliffs_delta=test.cliffs_delta,
                cliffs_delta_p_value=test.delta_p_value,
                mannwhitney_p=test.mannwhitney_p,
            )
        out.headlines.append(headline(ANALYSIS, model, cond, f"{name}_diff", None, **found, **extra))


__all__ = ["beyond_surface_pairs", "causal_trace"]
