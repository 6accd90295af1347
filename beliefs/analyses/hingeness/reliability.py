"""Split-half reliability of the hingeness components and indices, and salience's sample-to-sample
reliability."""

from __future__ import annotations

from itertools import combinations

import numpy as np

from beliefs.analyses.context import (
    AnalysisContext,
    Array,
)
from beliefs.analyses.hingeness.components import (
    SPLIT_COMPONENTS,
    Salience,
    _components,
    _salience_contrast,
    contrast_components,
    index_of,
)
from beliefs.rundata import ModelInfo


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
