"""``hingeness``: what the model itself treats as a hinge, and whether its states are organised by it.

The hinge/contingent labels are the authors'. This analysis asks the model instead: per fact, from the
margins that ``probe`` stores (and the salience that ``elicit`` stores, where present), how much it holds
the fact by default and against context. Definitions (per token throughout: ``mpt = logp_true /
n_tokens_true − logp_false / n_tokens_false``, the true-vs-false margin per token; ``lpt = logp_true /
n_tokens_true``, the statement's own log-probability per token):

- ``default`` = mpt(``empty``) − mean over the general detailed prompts g of mpt(g): how much more firmly
  the fact is held with no prompt at all than with a prompt;
- ``entrenchment`` = how little the fact's own contexts move it: ``(Δ_contradict − Δ_support) / 2`` with
  Δ_c = mpt(c) − mpt(``empty``) minus the same Δ in the model's random-init control (movement that a model
  with random weights shows too is the words of the context, not belief), residualised on the baseline
  mpt(``empty``) across facts (a fact the model barely holds cannot move far);
- ``prior`` = lpt(``empty``) − mean over g of lpt(g): how much more probable the statement itself is
  under the empty prompt than under a detailed one ("the facts the model would think of when prompted with
  the empty string");
- ``salience`` = the hubness-corrected (CSLS) elicitation salience of the true form under ``empty`` minus
  its mean under the general detailed prompts, read from ``salience.csv`` of an elicitation of the same
  model and facts (``OUT/../elicitation``, where ``beliefs study`` writes it); it enters the index only
  where its sample-to-sample reliability (below) reaches :data:`SALIENCE_MIN_RELIABILITY` (an older
  elicitation without sample halves cannot show it, and an absent one gives no salience): otherwise it
  is reported (column, AUROC, reliability) but left out;
- the **model index** = the mean of the available components' z-scores (z over the facts of the model).

What the trained model adds. A random-init control's index replicates almost as well as the trained
model's (its values are fixed by the tokens: length, token identity), so the raw index is largely not
belief. Each component of a model with a random-init control is therefore also taken **relative to the
control**: its residual on the control's value of the same component (least squares, where the control
has it) and, cross-fitted (ridge, out of fold, folds of the probes), on the wording features
(:func:`wording_features`: the surface features of :mod:`beliefs.analyses.surface` without the
log-probabilities under ``empty``, which are the model's own behaviour and the components' raw material):
what neither the words nor an untrained network of the same architecture predict. The **contrast
index** is the mean of these residuals' z-scores. ``hingeness`` (the column and the score every analysis
below uses) is the contrast index for a model with a control, and the model index otherwise (the control
itself): a reliable raw index could be the tokens, a reliable contrast index is what training added.

Reliability (``reliability_*`` rows, and the ``reliability_index_*`` fields of the AUROC headline): the
components that rest on the general prompts are recomputed on each split of those prompts into two halves
(the control's and the contrast's too); the Spearman–Brown corrected correlation of the halves, averaged
over splits. Entrenchment rests on one passage per fact and has no split; it is left out of the index's
split-half so as not to inflate it. Salience is sampled: where the elicitation stored saliences on two
disjoint halves of its samples (``salience_csls_true_half1``/``_half2``), each prompt half takes one
sample half (else both the full salience, and the ``empty`` term's sampling noise counts as reliable),
and ``reliability_salience_samples`` is the Spearman–Brown corrected correlation of the salience
component on the two sample halves alone (the sample-to-sample reliability).

Analyses, each with a fact-level null (permutations within domain):
- agreement of each score with the authors' labels: AUROC (hinge = positive; ``(Cliff's δ + 1) / 2``),
  per domain and pooled, with a fact-bootstrap interval (kinds resampled separately); the headline's
  ``p_beyond_surface`` permutes kind within label-free surface strata (declared pairs, templates or bins);
- ``surface_r2``: how well the wording features alone predict the model index (``surface_r2_hingeness``:
  the contrast index, <= 0 by construction) (cross-validated ridge R²,
  :func:`beliefs.stats.increment.ridge_operator`);
- ``readout_*``: a cross-validated ridge read-out of ``hingeness`` from each layer's states (``last``
  pooling, ``empty``, each fact the mean of its two forms; folds leave whole templates out where declared,
  else keep pairs together): R² from the states alone (null: hingeness permuted within domain). The
  contrast index is the wording's residual already, so its read-out is beyond the wording by
  construction; the increment in R² of wording + states over wording alone (the incremental probe of
  :class:`beliefs.stats.increment.IncrementalProbe`, states residualised on the wording inside each
  training fold; Freedman–Lane null: the wording's out-of-fold prediction plus its residuals permuted
  within domain) is tested where the wording is a real competitor: on the model index
  (``readout_model_*`` rows for a model with a control, ``readout_increment_r2`` for the control);
  ``readout_transfer_r2``: the states' read-out trained on the other domains and tested
  on each (R² within the held-out domain, averaged; the wording's own transfer R² beside it in the
  headline: across domains it is poor, so an increment over it would count a less bad fit as one);
  max-statistic correction over layers, headline the mean over the middle third;
- representational similarity per layer (``last`` pooling, true forms, ``empty``): the partial correlation
  between the states' fact-by-fact Euclidean distances and the facts' hingeness differences, partialling
  the wording-feature distance, the layer-0 (``mean`` pooling) distance and same-domain / same-template
  indicators (RDM regression); the same for the authors' labels; max-statistic correction over layers;
  the headline is the mean over the middle third of layers. The test is one-sided: states organised by
  hingeness put facts of similar hingeness close together (a positive partial correlation).

Its report section (:func:`_section`): the method, the headlines, the per-fact strip and the per-layer
figure, the components' split-half reliability and the facts each model treats most and least as bedrock.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
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
from beliefs.analyses.registry import SectionContext, register
from beliefs.errors import InvalidInputError, Problem
from beliefs.plotting import KIND_COLORS, pyplot, save_figure
from beliefs.results import columns as C
from beliefs.results.document import Block, Figure, Heading, Paragraph, Table
from beliefs.results.verdict import ALPHA
from beliefs.rundata import ModelInfo
from beliefs.stats import bootstrap_ci, cliffs_delta, cliffs_delta_perm, middle_third, permutation_pvalues

CONTEXT_CONDITIONS = ("support", "contradict")
COMPONENTS = ("default", "entrenchment", "prior", "salience")
SPLIT_COMPONENTS = ("default", "prior", "salience")
"""Components that rest on the general prompts, recomputed on each half of them."""
FACT_TABLE = "hingeness_facts"
"""Name of the per-fact table (``RUN/results/hingeness_facts.csv``)."""
SALIENCE_FILE = "salience.csv"
ELICIT_MANIFEST = "elicit.json"
SALIENCE_HALVES = ("salience_csls_true_half1", "salience_csls_true_half2")
PERM_BLOCK = 250
"""Permutations handled at once in the RSA null (bounds memory: pairs × block floats)."""
SALIENCE_MIN_RELIABILITY = 0.5
"""Sample-to-sample reliability (Spearman–Brown, two halves of the samples) that salience needs to enter
the index: below it, a component mostly of sampling noise would dilute the index (it is still reported)."""
READOUT_PERMUTATIONS = 999
"""Permutations of the ridge read-out's nulls at most (each is one matrix product per layer)."""
N_EXTREMES = 3
"""Facts named at the top and bottom of ``hingeness`` in the headline (and the terminal summary)."""


def _per_token(m: pd.DataFrame) -> tuple[Array, Array]:
    nt = np.maximum(m["n_tokens_true"].to_numpy(float), 1.0)
    nf = np.maximum(m["n_tokens_false"].to_numpy(float), 1.0)
    lpt = m["logp_true"].to_numpy(float) / nt
    return lpt - m["logp_false"].to_numpy(float) / nf, lpt


def _per_token_of(ctx: AnalysisContext, model: str, condition: str) -> tuple[Array, Array]:
    """:func:`_per_token` of ``ctx.margins(model, condition)``, kept in ``ctx.shared``: the components
    are recomputed on every split of the general prompts, and reading the margins is the costly part."""
    cache = ctx.shared.setdefault("hingeness.per_token", {})
    key = (model, condition)
    if key not in cache:
        mpt, lpt = _per_token(ctx.margins(model, condition))
        mpt.flags.writeable = lpt.flags.writeable = False  # shared: never modified in place
        cache[key] = (mpt, lpt)
    found: tuple[Array, Array] = cache[key]
    return found


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


Salience = dict[str, dict[str, Array]]
"""``{"all" | "half1" | "half2": {condition: per-fact CSLS salience of the true form (NaN where absent)}}``."""


def read_salience(ctx: AnalysisContext, model: str) -> Salience | None:
    """The stored elicitation's per-fact saliences of ``model`` (None where there is none for it).

    Looks in ``ctx.elicitation_dir`` (set by ``analyze`` to ``OUT/../elicitation``): ``elicit.json`` must
    name ``model``; ``salience.csv`` rows are matched to the run's facts by ``fact_set`` and ``fact_id``."""
    folder = getattr(ctx, "elicitation_dir", None)
    if folder is None:
        return None
    folder = Path(folder)
    path, manifest = folder / SALIENCE_FILE, folder / ELICIT_MANIFEST
    if not (path.is_file() and manifest.is_file()):
        return None
    try:
        if json.loads(manifest.read_text(encoding="utf-8")).get("model") != model:
            return None
        table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    except (OSError, ValueError) as err:
        raise InvalidInputError([Problem(path, f"cannot read the elicitation's salience ({err})")]) from err
    need = {"fact_set", "fact_id", "condition", "salience_csls_true"}
    if need - set(table.columns):
        missing = ", ".join(sorted(need - set(table.columns)))
        raise InvalidInputError(
            [Problem(path, f"missing column(s) {missing} (an elicitation's salience table)")]
        )
    index = pd.MultiIndex.from_frame(ctx.facts[["fact_set", "fact_id"]].astype(str))
    out: Salience = {}
    for key, column in (
        ("all", "salience_csls_true"),
        ("half1", SALIENCE_HALVES[0]),
        ("half2", SALIENCE_HALVES[1]),
    ):
        if column not in table.columns:
            continue
        out[key] = {}
        for cond, sel in table.groupby("condition", sort=False):
            s = sel.assign(fact_set=sel["fact_set"].astype(str), fact_id=sel["fact_id"].astype(str))
            s = s.drop_duplicates(["fact_set", "fact_id"]).set_index(["fact_set", "fact_id"])
            out[key][str(cond)] = pd.to_numeric(s[column], errors="coerce").reindex(index).to_numpy(float)
    return out if "empty" in out.get("all", {}) else None


def _salience_contrast(per_condition: dict[str, Array], general: list[str]) -> Array | None:
    detailed = [per_condition[g] for g in general if g in per_condition]
    if "empty" not in per_condition or not detailed:
        return None
    with np.errstate(invalid="ignore"):
        out: Array = per_condition["empty"] - np.mean(detailed, axis=0)
    return out


def _components(
    ctx: AnalysisContext,
    model: str,
    control: str | None,
    general: list[str],
    salience: dict[str, Array] | None = None,
) -> dict[str, Array]:
    mpt_e, lpt_e = _per_token_of(ctx, model, "empty")
    per_g = [_per_token_of(ctx, model, g) for g in general]
    out: dict[str, Array] = {}
    if per_g:
        out["default"] = mpt_e - np.mean([g[0] for g in per_g], axis=0)
    if all(c in ctx.conditions for c in CONTEXT_CONDITIONS):
        delta = {c: _per_token_of(ctx, model, c)[0] - mpt_e for c in CONTEXT_CONDITIONS}
        if control is not None:
            ctrl_e = _per_token_of(ctx, control, "empty")[0]
            for c in CONTEXT_CONDITIONS:
                delta[c] = delta[c] - (_per_token_of(ctx, control, c)[0] - ctrl_e)
        out["entrenchment"] = _residualise((delta["contradict"] - delta["support"]) / 2.0, mpt_e)
    if per_g:
        out["prior"] = lpt_e - np.mean([g[1] for g in per_g], axis=0)
    if salience is not None:
        s = _salience_contrast(salience, general)
        if s is not None:
            out["salience"] = s
    return out


def index_of(components: dict[str, Array]) -> Array:
    """Hingeness: the mean of the components' z-scores (NaN where every component is missing)."""
    z = np.column_stack([_zscore(v) for v in components.values()])
    with np.errstate(invalid="ignore"):
        counts = np.isfinite(z).sum(axis=1)
        total = np.nansum(z, axis=1)
    return np.where(counts > 0, total / np.maximum(counts, 1), np.nan)


WORDING_LEFT_OUT = ("logp",)
"""Surface blocks that are not wording: the log-probabilities under ``empty`` are the model's own
behaviour (``default`` and ``prior`` are made of them), so partialling them would remove the belief."""


def wording_features(ctx: AnalysisContext, model: ModelInfo) -> Array:
    """The surface features (:func:`beliefs.analyses.surface.surface_features`) without
    :data:`WORDING_LEFT_OUT`: words, tokens, lengths, negation, template and tags, each block unit-scaled."""
    from beliefs.analyses.surface import surface_features

    blocks = [b for name, b in surface_features(ctx, model).blocks.items() if name not in WORDING_LEFT_OUT]
    return np.column_stack(blocks) if blocks else np.zeros((ctx.n_facts, 1))


def wording_kernel(ctx: AnalysisContext, model: ModelInfo) -> Array:
    """``X Xᵀ`` of :func:`wording_features` (the sum of the blocks' unit kernels)."""
    x = wording_features(ctx, model)
    out: Array = x @ x.T
    return out


def contrast_components(
    ctx: AnalysisContext, model: ModelInfo, comps: dict[str, Array], control: dict[str, Array]
) -> dict[str, Array]:
    """Each component's residual on the control's same component and the wording features.

    Frisch–Waugh: the component and the wording kernel are first projected off ``[1, control value]``
    (least squares, unpenalised: a penalised slope would leave a shrunken copy of the control in the
    residual, which z-scoring then magnifies); then the cross-fitted residual on the wording, with the
    shared out-of-fold ridge operator (:func:`beliefs.stats.increment.ridge_operator`, penalty
    :data:`~beliefs.stats.increment.RESIDUAL_RIDGE` as for the states' residualisation, the probes' folds)."""
    from beliefs.stats.increment import RESIDUAL_RIDGE, ridge_operator

    k_s = wording_kernel(ctx, model)
    folds = ctx.fold_sets[0]
    out: dict[str, Array] = {}
    for name, y in comps.items():
        c = control.get(name)
        ok = np.isfinite(y) & (np.isfinite(c) if c is not None else True)
        res = np.full(ctx.n_facts, np.nan)
        if ok.sum() >= 6:
            design = np.ones((int(ok.sum()), 1)) if c is None else np.column_stack([np.ones(ok.sum()), c[ok]])
            q, _ = np.linalg.qr(design)
            m = np.eye(q.shape[0]) - q @ q.T
            y1 = m @ y[ok]
            a = ridge_operator(m @ k_s[np.ix_(ok, ok)] @ m, folds[ok], RESIDUAL_RIDGE)
            res[ok] = y1 - a @ y1
        out[name] = res
    return out


def _corr(a: Array, b: Array) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.std(a[ok]) == 0 or np.std(b[ok]) == 0:
        return float("nan")
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def spearman_brown(r: float) -> float:
    """Split-half correlation stepped up to the full length: ``2r / (1 + r)``."""
    return 2 * r / (1 + r) if np.isfinite(r) and r > -1 else float("nan")


def split_half(
    ctx: AnalysisContext,
    model: ModelInfo,
    control: str | None,
    general: list[str],
    salience: Salience | None = None,
    control_salience: Salience | None = None,
) -> dict[str, float]:
    """Spearman–Brown corrected split-half reliability over the general prompts, averaged over splits.

    Keys: each split component, ``index`` (the model index of those components), and for a model with a
    control ``<component>_contrast``, ``index_contrast`` (:func:`contrast_components` on each half, the
    control's halves the same prompts) and ``index_control`` (the control's own model index)."""
    if len(general) < 2:
        return {}
    found: dict[str, list[float]] = {}
    # salience is sampled: the two halves take the two disjoint halves of the samples where stored, so that
    # sampling noise in the shared `empty` term does not count as reliable
    sal = [(salience or {}).get(h, (salience or {}).get("all")) for h in ("half1", "half2")]
    csal = [(control_salience or {}).get(h, (control_salience or {}).get("all")) for h in ("half1", "half2")]

    def split(comps: dict[str, Array]) -> dict[str, Array]:
        return {n: comps[n] for n in SPLIT_COMPONENTS if n in comps}

    for k in range(1, len(general) // 2 + 1):
        for half in combinations(general, k):
            rest = [g for g in general if g not in half]
            halves = []
            for n_part, part in enumerate((list(half), rest)):
                comps = split(_components(ctx, model.name, control, part, sal[n_part]))
                found_part = {**comps, "index": index_of(comps)}
                if control is not None:
                    ctrl = split(_components(ctx, control, None, part, csal[n_part]))
                    contrast = contrast_components(ctx, model, comps, ctrl)
                    found_part.update({f"{n}_contrast": v for n, v in contrast.items()})
                    found_part["index_contrast"] = index_of(contrast)
                    found_part["index_control"] = index_of(ctrl)
                halves.append(found_part)
            for name in halves[0].keys() & halves[1].keys():
                found.setdefault(name, []).append(spearman_brown(_corr(halves[0][name], halves[1][name])))
    return {name: float(np.nanmean(v)) for name, v in sorted(found.items()) if np.isfinite(v).any()}


def salience_sample_reliability(salience: Salience | None, general: list[str]) -> float | None:
    """Spearman–Brown corrected correlation of the salience component computed on two disjoint halves of
    the elicitation's samples (None where the elicitation did not store halves)."""
    if not salience or "half1" not in salience or "half2" not in salience:
        return None
    a = _salience_contrast(salience["half1"], general)
    b = _salience_contrast(salience["half2"], general)
    if a is None or b is None:
        return None
    return spearman_brown(_corr(a, b))


def auroc_null(values: Array, perms: np.ndarray, mask: np.ndarray) -> Array:
    """AUROC of ``values`` (positive = label 1) for every labelling ``(P, n)`` over ``mask`` (NaN left out):
    ``(Cliff's δ + 1) / 2`` (:func:`beliefs.stats.cliffs_delta_perm`, mid-ranks: ties count half)."""
    return np.asarray((cliffs_delta_perm(values[mask], perms[:, mask]) + 1.0) / 2.0)


def _auroc_ci(values: Array, labels: np.ndarray, mask: np.ndarray, seed: int) -> tuple[float, float]:
    ok = mask & np.isfinite(values)
    h, c = values[ok & (labels == 1)], values[ok & (labels == 0)]
    if h.size < 2 or c.size < 2:
        return float("nan"), float("nan")

    def stat(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.asarray((np.asarray(cliffs_delta(x, y, axis=axis)) + 1.0) / 2.0)

    return bootstrap_ci((h, c), stat, n_resamples=1000, seed=seed)


def _domain_perms(domains: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``(n + 1, n_facts)`` index permutations within domain (row 0 the identity)."""
    rng = np.random.default_rng(seed)
    out = np.tile(np.arange(domains.size), (n + 1, 1))
    for d in np.unique(domains):
        idx = np.flatnonzero(domains == d)
        out[1:, idx] = idx[rng.permuted(np.broadcast_to(np.arange(idx.size), (n, idx.size)), axis=1)]
    return out


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


def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    i, j = np.triu_indices(n, k=1)
    return i, j


def _unit(v: Array) -> Array:
    v = v - v.mean(axis=0)
    norm = np.linalg.norm(v, axis=0)
    return np.asarray(v / np.where(norm > 0, norm, 1.0))


def rsa_null(
    state_rdms: list[Array], model_rdms: Array | Callable[[int, int], Array], covariates: Array, n: int = 0
) -> Array:
    """Partial correlations ``(n_labellings, n_layers)`` between each layer's state RDM and each of the
    ``model_rdms`` columns (one per labelling, row 0 observed), both residualised on ``covariates``
    (pairs × k, intercept added).

    ``model_rdms`` is either the ``(pairs, n_labellings)`` matrix or, to bound memory, a function giving
    the rows ``start:stop`` of its transpose (``(stop − start, pairs)``) for ``n`` labellings: each block
    of :data:`PERM_BLOCK` labellings is built, residualised and correlated in turn."""
    z = np.column_stack([np.ones(covariates.shape[0]), covariates])
    q, _ = np.linalg.qr(z)
    if callable(model_rdms):
        block_of = model_rdms
    else:
        n = model_rdms.shape[1]

        def block_of(start: int, stop: int) -> Array:
            return np.ascontiguousarray(model_rdms[:, start:stop].T)

    states = np.column_stack(state_rdms)
    s = _unit(states - q @ (q.T @ states))  # pairs × layers
    qs, s_sum = q.T @ s, s.sum(axis=0)
    n_pairs = q.shape[0]
    out = np.empty((n, s.shape[1]))
    for start in range(0, n, PERM_BLOCK):
        # labellings × pairs, row-major. The residual r = m − (m q) qᵀ is never formed: with q orthonormal,
        # r·s = m·s − (m q)(qᵀ s) and ‖r‖² = ‖m‖² − ‖m q‖²; then r is centred (its mean is 0 up to rounding,
        # q holding the intercept) and scaled to unit length, as _unit does
        m = np.asarray(block_of(start, min(start + PERM_BLOCK, n)), dtype=np.float64)
        mq = m @ q
        mean = (m.sum(axis=1) - mq @ q.sum(axis=0)) / n_pairs
        total = np.einsum("pi,pi->p", m, m)
        ss = total - np.einsum("pk,pk->p", mq, mq) - n_pairs * mean**2
        dot = m @ s - mq @ qs - mean[:, None] * s_sum[None, :]
        # a labelling the covariates explain entirely has no residual (and no correlation): 0
        some = ss > 1e-12 * total
        out[start : start + m.shape[0]] = (
            np.where(some[:, None], dot, 0.0) / np.sqrt(np.where(some, ss, 1.0))[:, None]
        )
    return out


def extremes(table: pd.DataFrame, k: int = N_EXTREMES) -> tuple[list[str], list[str]]:
    """The ``k`` facts with the highest and the lowest ``hingeness`` (``fact_id (kind)``)."""
    ranked = table.dropna(subset=["hingeness"]).sort_values("hingeness", ascending=False, kind="stable")

    def names(part: pd.DataFrame) -> list[str]:
        return [f"{r.fact_id} ({r.kind})" for r in part.itertuples()]

    return names(ranked.head(k)), names(ranked.tail(k).iloc[::-1])


def _label_outliers(ax: Any, outliers: pd.DataFrame, values: pd.Series) -> None:
    """Fact ids beside their points, pushed apart vertically so that no two overlap (a thin line joins
    each label to its point)."""
    lo, hi = float(values.min()), float(values.max())
    gap = max(hi - lo, 1e-9) * 0.09
    for _, group in outliers.groupby("x"):
        x = float(group["x"].astype(float).iloc[0])
        placed: list[float] = []
        for value in group["hingeness"].astype(float).sort_values(ascending=False).tolist():
            y = value
            if placed and placed[-1] - y < gap:
                y = placed[-1] - gap
            placed.append(y)
            fact = group.loc[group["hingeness"].astype(float) == value, "fact_id"].iloc[0]
            ax.annotate(
                str(fact),
                (x, value),
                xytext=(x + 0.22, y),
                fontsize=7,
                va="center",
                arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "grey"},
            )


def hingeness_strip(facts: pd.DataFrame, out: Path, label: int = 3) -> Path | None:
    """Per-fact hingeness against the authors' kind, per model and domain, with the facts the model treats
    most and least as bedrock labelled on the other side (hinges it holds least, contingent facts it holds
    most)."""
    data = facts[np.isfinite(pd.to_numeric(facts["hingeness"], errors="coerce"))]
    if data.empty:
        return None
    plt = pyplot()
    models = list(dict.fromkeys(data["model"]))
    domains = sorted(set(data["domain"]))
    fig, axes = plt.subplots(
        len(models), len(domains), figsize=(4.6 * len(domains), 3.2 * len(models)), squeeze=False
    )
    rng = np.random.default_rng(0)
    for i, model in enumerate(models):
        for j, domain in enumerate(domains):
            ax = axes[i][j]
            rows = data[(data["model"] == model) & (data["domain"] == domain)]
            for x, kind, color in (
                (0, "hinge", KIND_COLORS["hinge"]),
                (1, "contingent", KIND_COLORS["contingent"]),
            ):
                sub = rows[rows["kind"] == kind]
                jitter = x + rng.uniform(-0.15, 0.15, len(sub))
                ax.scatter(jitter, sub["hingeness"], s=8, color=color, alpha=0.7)
            outliers = pd.concat(
                [
                    rows[rows["kind"] == "contingent"].nlargest(label, "hingeness").assign(x=1),
                    rows[rows["kind"] == "hinge"].nsmallest(label, "hingeness").assign(x=0),
                ]
            )
            _label_outliers(ax, outliers, rows["hingeness"])
            ax.set_xticks([0, 1], ["hinge", "contingent"])
            ax.set_xlim(-0.4, 1.9)
            ax.axhline(0, color="grey", lw=0.6, ls="--")
            ax.set_title(f"{model} · {domain}", fontsize=8)
            ax.set_ylabel("hingeness (mean z)")
    fig.suptitle("what the model treats as a hinge, against the authors' kind", fontsize=9)
    return save_figure(fig, out)


LAYER_CURVES = (
    ("rsa", ("rsa_hingeness", "rsa_kind"), "partial RSA (surface, layer 0, topic partialled)"),
    ("readout", ("readout_r2", "readout_increment_r2"), "ridge read-out of hingeness (out-of-fold R²)"),
)
"""The panels of :func:`hingeness_layers`: name, statistics drawn, y label."""


def hingeness_layers(table: pd.DataFrame, out: Path) -> Path | None:
    """``hingeness`` per layer: the partial RSA of hingeness beside the authors' kind, and the ridge
    read-out of hingeness from the states (alone, and its increment over the wording), one column per
    model, with the null's 95% band and dots where the max-statistic adjusted p ≤ α."""
    data = table[table["pooling"] == "last"].dropna(subset=["layer"])
    panels = [
        (name, stats, label) for name, stats, label in LAYER_CURVES if data["statistic"].isin(stats).any()
    ]
    if data.empty or not panels:
        return None
    plt = pyplot()
    models = list(dict.fromkeys(data["model"]))
    fig, axes = plt.subplots(
        len(panels), len(models), figsize=(4.2 * len(models), 2.9 * len(panels)), squeeze=False
    )
    for i, (_, stats, label) in enumerate(panels):
        for j, model in enumerate(models):
            ax = axes[i][j]
            for statistic in stats:
                rows = data[(data["model"] == model) & (data["statistic"] == statistic)].sort_values("layer")
                if rows.empty:
                    continue
                line = ax.plot(rows["layer"], rows["estimate"], lw=1.4, label=statistic)[0]
                if rows["null_low"].notna().any():
                    ax.fill_between(
                        rows["layer"], rows["null_low"], rows["null_high"], color=line.get_color(), alpha=0.12
                    )
                sig = rows[rows["p_adjusted"] <= ALPHA]
                ax.scatter(sig["layer"], sig["estimate"], color=line.get_color(), s=12, zorder=3)
            ax.axhline(0, color="grey", lw=0.6, ls="--")
            ax.set_title(model, fontsize=8)
            ax.set_xlabel("layer (0 = embeddings)")
            ax.set_ylabel(label, fontsize=7)
            ax.legend(fontsize=6, frameon=False, loc="best")
    fig.suptitle(f"hingeness per layer (bands: null 95%; dots: p_adj ≤ {ALPHA})", fontsize=9)
    return save_figure(fig, out)


SECTION_TEXT = (
    "Per fact: `default` (margin per token under `empty` minus under the general detailed "
    "prompts), `entrenchment` (how little the fact's own contexts move it, against the random-init "
    "control and adjusted for its baseline margin), `prior` (the statement's own log-probability "
    "per token under `empty` minus under the detailed prompts) and, where the study elicited, "
    "`salience` (hub-corrected elicitation salience under `empty` minus under the detailed "
    "prompts). The model index is the mean of their z-scores; because a random-init control's "
    "index replicates almost as well (it is fixed by the tokens), `hingeness` is the contrast "
    "index: each component's cross-fitted residual on the wording features and on the control's "
    "same component, z-scored and averaged: what training added. The headlines give its "
    "agreement with the authors' labels (AUROC), its ridge read-out from the states beyond the "
    "wording, and whether the states' geometry follows it beyond surface, layer 0 and topic "
    "(partial RSA)."
)
RANKED_COLUMNS = (
    "model",
    "fact_id",
    "domain",
    "kind",
    "hingeness",
    "hingeness_model",
    "default",
    "entrenchment",
    "prior",
    "salience",
)
"""The per-fact columns of the report's table of the facts most and least treated as bedrock."""


def _section(s: SectionContext) -> list[Block]:
    """What the model treats as a hinge: the method, the headlines, per-fact and per-layer figures, the
    components' reliability, and the facts each model treats most and least as bedrock."""
    hf = s.tables.get(FACT_TABLE)
    if hf is None:
        return []
    blocks: list[Block] = [Heading("What the model treats as a hinge"), Paragraph(SECTION_TEXT)]
    if s.headlines:
        blocks.append(Table(s.headline_table(s.headlines), "hingeness headlines"))
    path = hingeness_strip(hf, s.fig_dir / "hingeness.png")
    if path is not None:
        blocks.append(
            Figure(
                path,
                "per-fact hingeness by the authors' kind; labelled: the hinges the model "
                "holds least and the contingent facts it holds most",
            )
        )
    if s.table is not None:
        path = hingeness_layers(s.table, s.fig_dir / "hingeness-layers.png")
        if path is not None:
            blocks.append(
                Figure(path, "hingeness per layer: partial RSA (hingeness and kind) and ridge read-out")
            )
        rel = s.table[s.table["statistic"].astype(str).str.startswith("reliability_")]
        if not rel.empty:
            blocks.append(
                Table(
                    rel.pivot_table(
                        index="statistic", columns="model", values="estimate", sort=False
                    ).reset_index(),
                    "split-half reliability over the general prompts (Spearman–Brown; "
                    "`salience_samples`: over halves of the elicitation's samples)",
                )
            )
    main = hf[~hf["model"].astype(str).str.contains("@")]
    ranked = main.dropna(subset=["hingeness"]).sort_values("hingeness", ascending=False)
    keep = [c for c in RANKED_COLUMNS if c in ranked.columns]
    if not ranked.empty:
        blocks.append(
            Table(
                pd.concat([ranked.head(5), ranked.tail(5)])[keep],
                "the five facts each model treats most and least as bedrock",
            )
        )
    return blocks


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


def _rsa(
    ctx: AnalysisContext, model: ModelInfo, score: Array, surface: Array, ok: np.ndarray, out: Output
) -> list[dict[str, Any]]:
    """Partial-RSA rows per layer for hingeness and for the authors' labels (appends headlines to ``out``)."""
    from scipy.spatial.distance import pdist

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

    def dist(z: Array) -> Array:  # Euclidean distances of the pairs (i, j), i < j, in _pairs' order
        return np.asarray(pdist(np.asarray(z, dtype=np.float64)))

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
    labels = ctx.perms[:, facts]
    paired = bool((ctx.pair_keys[facts] != "").all())  # every label exchanged within its pair only

    def hinge_rdm(start: int, stop: int) -> Array:  # |h_i − h_j| of each permuted hingeness, a block
        hp = h[idx[start:stop]]
        return np.abs(hp[:, i] - hp[:, j])

    def label_rdm(start: int, stop: int) -> Array:  # 1 where the (permuted) labels differ
        lab = labels[start:stop]
        return (lab[:, i] != lab[:, j]).astype(np.float64)

    rows: list[dict[str, Any]] = []
    for name, rdms in (("rsa_hingeness", hinge_rdm), ("rsa_kind", label_rdm)):
        null = rsa_null(state_rdms, rdms, covariates, idx.shape[0])
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
                # The surface, layer 0 and topic are partialled out, but partialling alone does not make a
                # Mantel test beyond surface: with labels (or hingeness) permuted across a domain it
                # rejects on surface-only nulls. Only rsa_kind on a fully paired set, whose labels are
                # exchanged within pairs (twins matched on wording), has a beyond-surface test.
                p_beyond_surface=float(permutation_pvalues(agg)[0])
                if name == "rsa_kind" and paired
                else None,
                beyond_surface_test=(
                    "partial Mantel test, kind swapped within declared pairs (surface, layer 0 and topic "
                    "partialled)"
                    if name == "rsa_kind" and paired
                    else "none: a partial Mantel test permuted across a domain does not hold its size on "
                    "surface-only nulls"
                ),
                null=agg,
                n_facts=int(facts.size),
                n_permutations=n_perm,
                partialled=["surface", "layer0", "same-domain"]
                + (["same-template"] if covariates.shape[1] > 3 else []),
            )
        )
    return rows
