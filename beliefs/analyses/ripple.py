"""``ripple``: hinge vs contingent on how far a fact's contradicting passage drags the other facts.

Reads ``RUN/intervene/ripple_facts.csv`` (written by ``beliefs intervene ripple RUN``; it does not run
the model; without the file it returns nothing). Per model, for each fact A's spillover (mean
``|Δmargin|`` of the other facts read under A's contradicting passage against a neutral passage of the
same length) and its signed spillover (mean move of the others toward their false forms):

- hinge − contingent difference of means with its bootstrap interval, fact-level permutation p (kind
  permuted within the null's strata: within declared pairs where the set declares them, else within
  domain), Cliff's δ, Mann–Whitney (``<stat>_diff``, ``<stat>_cliffs_delta``, ``<stat>_mannwhitney_p``);
- beyond surface (``<stat>_hinge_coef``): the hinge coefficient adjusted for the domain, both forms'
  token counts and A's own baseline margin per token (a belief held by a larger margin may carry a
  different passage), Freedman–Lane permutation test within the same strata.

Rows only, no headline: these results are not (yet) among the verdicts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from beliefs.analyses.behaviour import _beyond_surface, _compare, _compare_rows, _finish, _surface_covariates
from beliefs.analyses.context import AnalysisContext, Array, Output, row
from beliefs.analyses.registry import register
from beliefs.intervene.run import FACTS_FILE, OUT_DIR
from beliefs.results import columns as C

ANALYSIS = "ripple"
CONDITION = "contradict"
"""The condition column of the rows: the passages are the facts' ``contradict`` contexts."""
STATISTICS = ("spillover", "spillover_signed")


def ripple_table(run: Any) -> pd.DataFrame | None:
    """``RUN/intervene/ripple_facts.csv`` of the run (a study's subset run: its base run's), or None."""
    path = getattr(run, "path", None) or getattr(getattr(run, "base", None), "path", None)
    if path is None:
        return None
    file = Path(path) / OUT_DIR / FACTS_FILE
    return pd.read_csv(file) if file.is_file() else None


def per_fact(ctx: AnalysisContext, table: pd.DataFrame, model: str, stat: str) -> Array:
    """The statistic for each fact of the run, in the run's order (NaN for a fact with no passage)."""
    part = table[table["model"].astype(str) == model]
    refs = ctx.facts["fact_set"].astype(str) + "/" + ctx.facts["fact_id"].astype(str)
    values = refs.map(part.set_index("fact_a")[stat]) if len(part) else pd.Series(np.nan, index=refs.index)
    return np.asarray(values.to_numpy(dtype=float))


@register(ANALYSIS, cost=0.05)
def ripple_kind(ctx: AnalysisContext) -> Output:
    """Hinge vs contingent on the spillover of contradicting passages (beyond surface and baseline margin)."""
    out = Output()
    table = ripple_table(ctx.run)
    if table is None:
        return out
    pending: list[tuple[dict[str, Any], Array]] = []
    for model in ctx.models:
        if not (table["model"].astype(str) == model.name).any():
            continue
        cov, names = _surface_covariates(ctx, model, baseline=True)
        for stat in STATISTICS:
            values = per_fact(ctx, table, model.name, stat)
            cmp = _compare(ctx, values)
            if not cmp["ok"]:
                continue
            pending += _compare_rows(ANALYSIS, model, CONDITION, stat, cmp)
            _, fl = _beyond_surface(ctx, values, cov, names)
            r = row(ANALYSIS, model, CONDITION, f"{stat}_hinge_coef", estimate=fl.estimate)
            r.update({C.CI_LOW: fl.ci_low, C.CI_HIGH: fl.ci_high, C.P_VALUE: fl.p_value})
            r.update({C.N_FACTS: fl.n, C.N_PERMUTATIONS: fl.n_permutations})
            out.rows.append(r)
    _finish(out, pending)
    return out
