"""The per-fact components of hingeness (default, entrenchment, prior, salience), the model index
and the contrast index relative to the random-init control and the wording."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from beliefs.analyses.context import (
    AnalysisContext,
    Array,
)
from beliefs.errors import InvalidInputError, Problem
from beliefs.rundata import ModelInfo

CONTEXT_CONDITIONS = ("support", "contradict")
COMPONENTS = ("default", "entrenchment", "prior", "salience")
SPLIT_COMPONENTS = ("default", "prior", "salience")
"""Components that rest on the general prompts, recomputed on each half of them."""
FACT_TABLE = "hingeness_facts"
"""Name of the per-fact table (``RUN/results/hingeness_facts.csv``)."""
SALIENCE_FILE = "salience.csv"
ELICIT_MANIFEST = "elicit.json"
SALIENCE_HALVES = ("salience_csls_true_half1", "salience_csls_true_half2")
SALIENCE_MIN_RELIABILITY = 0.5
"""Sample-to-sample reliability (Spearman–Brown, two halves of the samples) that salience needs to enter
the index: below it, a component mostly of sampling noise would dilute the index (it is still reported)."""


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
