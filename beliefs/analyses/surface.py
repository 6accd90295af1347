"""``surface``: can token counts, baseline log-probabilities and bag-of-words tell the kinds apart?"""

from __future__ import annotations

import numpy as np

from beliefs.analyses import columns as C
from beliefs.analyses.context import AnalysisContext, Array, Output, headline, row
from beliefs.analyses.kind import _bacc_ci
from beliefs.analyses.registry import register
from beliefs.stats import GramProbe, logistic_cv, permutation_pvalues, zscore


def surface_features(ctx: AnalysisContext, model: str | None) -> Array:
    """Per-fact surface features: lengths, (the model's) empty-prompt log-probs, bag-of-words."""
    from sklearn.feature_extraction.text import CountVectorizer

    text = (ctx.facts["statement"].astype(str) + " " + ctx.facts["false_statement"].astype(str)).tolist()
    bow = CountVectorizer(binary=True, min_df=2).fit_transform(text).toarray().astype(float)
    lengths = np.column_stack(
        [
            ctx.facts["statement"].astype(str).map(lambda t: len(t.split())),
            ctx.facts["statement"].astype(str).str.len(),
            ctx.facts["false_statement"].astype(str).str.len(),
        ]
    ).astype(float)
    parts = [lengths, bow]
    if model is not None:
        m = ctx.margins(model, "empty")
        numeric = m[["logp_true", "logp_false", "n_tokens_true", "n_tokens_false"]].to_numpy()
        per_token = numeric[:, :2] / np.maximum(numeric[:, 2:], 1.0)
        block = np.column_stack([numeric, per_token])
        block = np.where(np.isfinite(block), block, np.nanmean(block, axis=0))
        parts.insert(0, block)
    return zscore(np.column_stack(parts))


@register("surface")
def surface(ctx: AnalysisContext) -> Output:
    """Hinge vs contingent from surface features alone, with the probes' folds: the baseline to beat."""
    out = Output()
    rf = np.arange(ctx.n_facts)
    for model in ctx.models:
        x = surface_features(ctx, model.name if ctx.has_margins(model) else None)
        accs, correct = logistic_cv(x, ctx.labels, rf, ctx.fold_sets)
        null = GramProbe(x, rf, ctx.n_facts).cv_balanced_accuracy(ctx.perms, ctx.fold_sets[0])
        p = float(permutation_pvalues(null)[0])
        lo, hi = _bacc_ci(ctx, correct[:, None], np.ones(ctx.n_facts), ctx.labels)
        stat = "logistic_bacc"
        r = row("surface", model, "empty", stat, estimate=float(accs.mean()), ci_low=lo, ci_high=hi)
        r.update({C.P_VALUE: p, C.N_FACTS: ctx.n_facts, C.N_PERMUTATIONS: ctx.n_permutations})
        out.rows.append(r)
        r = row("surface", model, "empty", "massmean_bacc", estimate=float(null[0]), p_value=p)
        r.update({C.N_FACTS: ctx.n_facts, C.N_PERMUTATIONS: ctx.n_permutations})
        out.rows.append(r)
        out.headlines.append(
            headline(
                "surface",
                model,
                "empty",
                stat,
                None,
                estimate=float(accs.mean()),
                ci_low=lo,
                ci_high=hi,
                p_value=p,
                test_statistic="massmean_bacc",
                n_facts=ctx.n_facts,
                n_permutations=ctx.n_permutations,
                features="lengths+logp+bag-of-words" if ctx.has_margins(model) else "lengths+bag-of-words",
            )
        )
    return out
