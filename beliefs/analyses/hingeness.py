"""``hingeness``: what the model itself treats as a hinge, and whether its states are organised by it.

The hinge/contingent labels are the authors'. This analysis asks the model instead: per fact, from the
margins that ``probe`` stores, how much it holds the fact by default and against context. Definitions
(per token throughout: ``mpt = logp_true / n_tokens_true − logp_false / n_tokens_false``, the true-vs-false
margin per token; ``lpt = logp_true / n_tokens_true``, the statement's own log-probability per token):

- ``default`` = mpt(``empty``) − mean over the general detailed prompts g of mpt(g): how much more firmly
  the fact is held with no prompt at all than with a prompt;
- ``entrenchment`` = how little the fact's own contexts move it: ``(Δ_contradict − Δ_support) / 2`` with
  Δ_c = mpt(c) − mpt(``empty``) minus the same Δ in the model's random-init control (movement that a model
  with random weights shows too is the words of the context, not belief), residualised on the baseline
  mpt(``empty``) across facts (a fact the model barely holds cannot move far);
- ``prior`` = lpt(``empty``) − mean over g of lpt(g): how much more probable the statement itself is
  under the empty prompt than under a detailed one ("the facts the model would think of when prompted with
  the empty string");
- ``hingeness`` = the mean of the available components' z-scores (z over the facts of the model).

The general detailed prompts are the run's conditions other than ``empty`` and the per-fact context
conditions (``support``, ``contradict``). Reliability: the components that rest on the general prompts
are recomputed on each split of those prompts into two halves; the Spearman–Brown corrected correlation
of the halves, averaged over splits, is reported (``reliability_*`` rows). Entrenchment rests on one
passage per fact and has no split; it is left out of the index's split-half so as not to inflate it.

Analyses, each with a fact-level null (permutations within domain):
- agreement of each score with the authors' labels: AUROC (hinge = positive), per domain and pooled,
  with a fact-bootstrap interval (kinds resampled separately); the headline's ``p_beyond_surface``
  permutes kind within label-free surface strata (declared pairs, templates or surface bins);
- ``surface_r2``: how well the surface features alone predict hingeness (cross-validated ridge R²);
- representational similarity per layer (``last`` pooling, true forms, ``empty``): the partial correlation
  between the states' fact-by-fact Euclidean distances and the facts' hingeness differences, partialling
  the surface-feature distance, the layer-0 (``mean`` pooling) distance and same-domain / same-template
  indicators (RDM regression); the same for the authors' labels; max-statistic correction over layers;
  the headline is the mean over the middle third of layers. The test is one-sided: states organised by
  hingeness put facts of similar hingeness close together (a positive partial correlation).
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from beliefs.analyses import columns as C
from beliefs.analyses.context import (
    AnalysisContext,
    Array,
    Output,
    aggregate,
    fill_family,
    headline,
    row,
)
from beliefs.analyses.registry import register
from beliefs.rundata import ModelInfo
from beliefs.stats import permutation_pvalues

CONTEXT_CONDITIONS = ("support", "contradict")
COMPONENTS = ("default", "entrenchment", "prior")
FACT_TABLE = "hingeness_facts"
"""Name of the per-fact table (``RUN/results/hingeness_facts.csv``)."""
PERM_BLOCK = 250
"""Permutations handled at once in the RSA null (bounds memory: pairs × block floats)."""


def _per_token(m: pd.DataFrame) -> tuple[Array, Array]:
    nt = np.maximum(m["n_tokens_true"].to_numpy(float), 1.0)
    nf = np.maximum(m["n_tokens_false"].to_numpy(float), 1.0)
    lpt = m["logp_true"].to_numpy(float) / nt
    return lpt - m["logp_false"].to_numpy(float) / nf, lpt


def _zscore(v: Array) -> Array:
    ok = np.isfinite(v)
    out = np.full_like(v, np.nan)
    if ok.sum() > 1 and np.std(v[ok]) > 0:
        out[ok] = (v[ok] - v[ok].mean()) / v[ok].std()
    return out


def _residualise(y: Array, x: Array) -> Array:
    """Residual of ``y`` on ``[1, x]`` over the facts where both are finite (NaN elsewhere)."""
    ok = np.isfinite(y) & np.isfinite(x)
    out = np.full_like(y, np.nan)
    if ok.sum() < 3:
        return out
    design = np.column_stack([np.ones(ok.sum()), x[ok]])
    beta, *_ = np.linalg.lstsq(design, y[ok], rcond=None)
    out[ok] = y[ok] - design @ beta
    return out


def general_conditions(conditions: list[str]) -> list[str]:
    """The general detailed prompts: every condition but ``empty`` and the per-fact contexts."""
    return [c for c in conditions if c != "empty" and c not in CONTEXT_CONDITIONS]


def _control_of(ctx: AnalysisContext, model: ModelInfo) -> ModelInfo | None:
    for m in ctx.run.models():
        if m.control == "random-init" and m.base == model.name:
            return m
    return None


def _components(
    ctx: AnalysisContext, model: str, control: str | None, general: list[str]
) -> dict[str, Array]:
    mpt_e, lpt_e = _per_token(ctx.margins(model, "empty"))
    per_g = [_per_token(ctx.margins(model, g)) for g in general]
    out: dict[str, Array] = {}
    if per_g:
        out["default"] = mpt_e - np.mean([g[0] for g in per_g], axis=0)
        out["prior"] = lpt_e - np.mean([g[1] for g in per_g], axis=0)
    if all(c in ctx.conditions for c in CONTEXT_CONDITIONS):
        delta = {c: _per_token(ctx.margins(model, c))[0] - mpt_e for c in CONTEXT_CONDITIONS}
        if control is not None:
            ctrl_e = _per_token(ctx.margins(control, "empty"))[0]
            for c in CONTEXT_CONDITIONS:
                delta[c] = delta[c] - (_per_token(ctx.margins(control, c))[0] - ctrl_e)
        out["entrenchment"] = _residualise((delta["contradict"] - delta["support"]) / 2.0, mpt_e)
    return out


def index_of(components: dict[str, Array]) -> Array:
    """Hingeness: the mean of the components' z-scores (NaN where every component is missing)."""
    z = np.column_stack([_zscore(v) for v in components.values()])
    with np.errstate(invalid="ignore"):
        counts = np.isfinite(z).sum(axis=1)
        total = np.nansum(z, axis=1)
    return np.where(counts > 0, total / np.maximum(counts, 1), np.nan)


def _corr(a: Array, b: Array) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.std(a[ok]) == 0 or np.std(b[ok]) == 0:
        return float("nan")
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def split_half(ctx: AnalysisContext, model: str, control: str | None, general: list[str]) -> dict[str, float]:
    """Spearman–Brown corrected split-half reliability over the general prompts, averaged over splits."""
    if len(general) < 2:
        return {}
    found: dict[str, list[float]] = {}
    for k in range(1, len(general) // 2 + 1):
        for half in combinations(general, k):
            rest = [g for g in general if g not in half]
            a = _components(ctx, model, control, list(half))
            b = _components(ctx, model, control, rest)
            pairs = {name: (a[name], b[name]) for name in ("default", "prior")}
            pairs["index"] = (
                index_of({n: a[n] for n in ("default", "prior")}),
                index_of({n: b[n] for n in ("default", "prior")}),
            )
            for name, (x, y) in pairs.items():
                r = _corr(x, y)
                found.setdefault(name, []).append(2 * r / (1 + r) if np.isfinite(r) and r > -1 else np.nan)
    return {name: float(np.nanmean(v)) for name, v in found.items()}


def _auroc_null(values: Array, perms: np.ndarray, mask: np.ndarray) -> Array:
    """AUROC of ``values`` (positive = label 1) for every labelling, from mid-ranks (ties count half)."""
    from scipy.stats import rankdata

    ok = mask & np.isfinite(values)
    ranks = rankdata(values[ok])
    lab = perms[:, ok].astype(np.float64)
    n1 = lab.sum(axis=1)
    n0 = ok.sum() - n1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray((lab @ ranks - n1 * (n1 + 1) / 2) / (n1 * n0))


def _auroc_ci(values: Array, labels: np.ndarray, mask: np.ndarray, seed: int) -> tuple[float, float]:
    from beliefs.stats import bootstrap_ci

    ok = mask & np.isfinite(values)
    h, c = values[ok & (labels == 1)], values[ok & (labels == 0)]
    if h.size < 2 or c.size < 2:
        return float("nan"), float("nan")

    def stat(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        diff = x[..., :, None] - y[..., None, :]
        return np.asarray(((diff > 0) + 0.5 * (diff == 0)).mean(axis=(-1, -2)))

    return bootstrap_ci((h, c), stat, n_resamples=1000, seed=seed)


def _domain_perms(domains: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``(n + 1, n_facts)`` index permutations within domain (row 0 the identity)."""
    rng = np.random.default_rng(seed)
    out = np.tile(np.arange(domains.size), (n + 1, 1))
    for d in np.unique(domains):
        idx = np.flatnonzero(domains == d)
        out[1:, idx] = idx[rng.permuted(np.broadcast_to(np.arange(idx.size), (n, idx.size)), axis=1)]
    return out


def _ridge_r2(x: Array, y: Array, folds: np.ndarray, alpha: float = 10.0) -> float:
    """Out-of-fold R² of a ridge regression (folds: one id per row)."""
    from sklearn.linear_model import Ridge

    pred = np.empty_like(y)
    for f in np.unique(folds):
        test = folds == f
        pred[test] = Ridge(alpha=alpha).fit(x[~test], y[~test]).predict(x[test])
    return float(1.0 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2))


def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    i, j = np.triu_indices(n, k=1)
    return i, j


def _unit(v: Array) -> Array:
    v = v - v.mean(axis=0)
    norm = np.linalg.norm(v, axis=0)
    return np.asarray(v / np.where(norm > 0, norm, 1.0))


def rsa_null(state_rdms: list[Array], model_rdms: Array, covariates: Array) -> Array:
    """Partial correlations ``(n_labellings, n_layers)`` between each layer's state RDM and each of the
    ``model_rdms`` columns (one per labelling, row 0 observed), both residualised on ``covariates``
    (pairs × k, intercept added)."""
    z = np.column_stack([np.ones(covariates.shape[0]), covariates])
    q, _ = np.linalg.qr(z)

    def resid(v: Array) -> Array:
        return np.asarray(v - q @ (q.T @ v))

    s = _unit(resid(np.column_stack(state_rdms)))  # pairs × layers
    out = np.empty((model_rdms.shape[1], s.shape[1]))
    for start in range(0, model_rdms.shape[1], PERM_BLOCK):
        block = _unit(resid(model_rdms[:, start : start + PERM_BLOCK]))
        out[start : start + block.shape[1]] = block.T @ s
    return out


@register("hingeness")
def hingeness(ctx: AnalysisContext) -> Output:
    """What the model treats as a hinge (default, entrenchment, prior), its agreement with the authors'
    labels, and whether the states' geometry follows it beyond surface (RSA)."""
    from beliefs.analyses.surface import conditional_permutations_for, surface_features

    out = Output()
    general = general_conditions(ctx.conditions)
    fact_rows: list[pd.DataFrame] = []
    for model in ctx.models:
        if not ctx.has_margins(model):
            continue
        control = _control_of(ctx, model)
        control_name = control.name if control is not None and ctx.has_margins(control) else None
        comps = _components(ctx, model.name, control_name, general)
        if not comps:
            continue
        score = index_of(comps)
        table = ctx.facts[["fact_set", "fact_id", "domain", "kind"]].copy()
        for name in COMPONENTS:
            table[name] = comps.get(name, np.full(ctx.n_facts, np.nan))
        table["hingeness"] = score
        table.insert(0, "model", model.name)
        fact_rows.append(table)
        cond = "empty"
        n_ok = int(np.isfinite(score).sum())
        base = {C.N_PERMUTATIONS: ctx.n_permutations}

        # reliability
        for name, value in split_half(ctx, model.name, control_name, general).items():
            out.rows.append(
                row("hingeness", model, cond, f"reliability_{name}", estimate=value, n_facts=n_ok)
            )

        # agreement with the authors' labels
        agreement: list[tuple[dict[str, Any], Array]] = []
        subsets = [("pooled", np.ones(ctx.n_facts, bool))] + [
            (d, ctx.domains == d) for d in sorted(set(ctx.domains))
        ]
        headline_auroc: dict[str, Any] = {}
        for name, values in [("hingeness", score)] + [(n, comps[n]) for n in COMPONENTS if n in comps]:
            for subset, mask in subsets:
                null = _auroc_null(values, ctx.perms, mask)
                if not np.isfinite(null[0]):
                    continue
                lo, hi = _auroc_ci(values, ctx.labels, mask, ctx.seed)
                r = row("hingeness", model, cond, f"{name}_auroc", subset=subset, estimate=float(null[0]))
                r.update({C.CI_LOW: lo, C.CI_HIGH: hi, C.N_FACTS: int((mask & np.isfinite(values)).sum())})
                r.update(base)
                agreement.append((r, np.abs(null - 0.5)))
                if name == "hingeness" and subset == "pooled":
                    headline_auroc = {"estimate": float(null[0]), "ci_low": lo, "ci_high": hi, "null": null}
        for r, null in agreement:
            fill_family([r], [null])
            out.rows.append(r)
        if headline_auroc:
            null = headline_auroc.pop("null")
            # beyond surface: kind permuted within label-free surface strata (pairs, templates or bins)
            cond_perms, strata = conditional_permutations_for(ctx, model)
            cond_null = _auroc_null(score, cond_perms, np.ones(ctx.n_facts, bool))
            headline_auroc["p_beyond_surface"] = float(permutation_pvalues(np.abs(cond_null - 0.5))[0])
            headline_auroc["beyond_surface_test"] = f"conditional permutation within {strata}"
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
                **headline_auroc,
            )
            out.headlines.append(h)

        # how much of hingeness the surface features predict
        ok = np.isfinite(score)
        x = surface_features(ctx, model).matrix()[ok]
        y = score[ok]
        folds = ctx.fold_sets[0][ok]
        perms = _domain_perms(ctx.domains[ok], min(ctx.n_permutations, 199), ctx.seed + 11)
        r2 = np.array([_ridge_r2(x, y[p], folds) for p in perms])
        r = row("hingeness", model, cond, "surface_r2", estimate=float(r2[0]), n_facts=int(ok.sum()))
        r[C.N_PERMUTATIONS] = perms.shape[0] - 1
        fill_family([r], [r2])
        out.rows.append(r)

        # representational similarity, per layer
        out.rows.extend(_rsa(ctx, model, score, x, ok, out))
    if fact_rows:
        out.tables[FACT_TABLE] = pd.concat(fact_rows, ignore_index=True)
    return out


def _rsa(
    ctx: AnalysisContext, model: ModelInfo, score: Array, surface: Array, ok: np.ndarray, out: Output
) -> list[dict[str, Any]]:
    """Partial-RSA rows per layer for hingeness and for the authors' labels (appends headlines to ``out``)."""
    data = ctx.states(model.name, "empty", "last")
    lex = ctx.states(model.name, "empty", "mean")
    facts = np.flatnonzero(ok)
    pos = {f: i for f, i in zip(data.row_fact[data.form == 1], np.flatnonzero(data.form == 1), strict=True)}
    pos0 = {f: i for f, i in zip(lex.row_fact[lex.form == 1], np.flatnonzero(lex.form == 1), strict=True)}
    keep = np.array([f in pos and f in pos0 for f in facts])
    facts = facts[keep]
    surface = surface[keep]
    if facts.size < 6:
        return []
    rows_s = np.array([pos[f] for f in facts])
    rows_0 = np.array([pos0[f] for f in facts])
    i, j = _pairs(facts.size)

    def dist(z: Array) -> Array:
        d = ((z[i] - z[j]) ** 2).sum(axis=1)
        return np.asarray(np.sqrt(np.maximum(d, 0.0)))

    cov = [dist(surface), dist(lex.z[0][rows_0])]
    dom = ctx.domains[facts]
    cov.append((dom[i] == dom[j]).astype(float))
    if "template" in ctx.facts:
        tpl = ctx.facts["template"].fillna("").astype(str).to_numpy()[facts]
        same = ((tpl[i] == tpl[j]) & (tpl[i] != "")).astype(float)
        if same.any():
            cov.append(same)
    covariates = np.column_stack(cov)
    n_layers = len(data.z)
    state_rdms = [dist(z[rows_s]) for z in data.z]
    n_perm = ctx.n_permutations
    idx = _domain_perms(dom, n_perm, ctx.seed + 13)
    h = score[facts]
    hp = h[idx]  # (P+1, n)
    hinge_rdm = np.abs(hp[:, i] - hp[:, j]).T
    labels = ctx.perms[:, facts].astype(float)
    label_rdm = (labels[:, i] != labels[:, j]).astype(float).T
    rows: list[dict[str, Any]] = []
    for name, rdms in (("rsa_hingeness", hinge_rdm), ("rsa_kind", label_rdm)):
        null = rsa_null(state_rdms, rdms, covariates)
        family_rows: list[dict[str, Any]] = []
        nulls: list[Array] = []
        for layer in range(n_layers):
            r = row("hingeness", model, "empty", name, layer=layer, pooling="last")
            r.update(
                {C.ESTIMATE: float(null[0, layer]), C.N_FACTS: int(facts.size), C.N_PERMUTATIONS: n_perm}
            )
            family_rows.append(r)
            nulls.append(null[:, layer])
        fill_family(family_rows, nulls)
        rows.extend(family_rows)
        agg = aggregate(nulls, n_layers)
        out.headlines.append(
            headline(
                "hingeness",
                model,
                "empty",
                name,
                n_layers,
                estimate=float(agg[0]),
                ci_low=float("nan"),
                ci_high=float("nan"),
                p_value=float(permutation_pvalues(agg)[0]),
                # the surface, layer 0 and topic are partialled out: the test is beyond surface itself
                p_beyond_surface=float(permutation_pvalues(agg)[0]),
                null=agg,
                n_facts=int(facts.size),
                n_permutations=n_perm,
                partialled=["surface", "layer0", "same-domain"]
                + (["same-template"] if covariates.shape[1] > 3 else []),
            )
        )
    return rows
