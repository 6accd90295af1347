"""Per-fact summaries of a restoration profile: where recovery peaks, how spread it is, MLP vs attention."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from beliefs.trace.core import fixed
from beliefs.trace.engine import Restoration

HALF = 0.5
"""A layer "recovers" when restoring it brings back more than half of the clean margin."""
SUMMARIES = ("peak_layer_content", "peak_layer_last", "spread_content", "spread_last", "mlp_share")
"""Per-fact summaries (``RUN/trace/facts.csv``), each compared between kinds by ``causal-trace``."""
_SEARCHED = (
    "among the traced layers from 1 on (layer 0, the embeddings, recovers 1 at the content tokens and 0 at "
    "the last token by construction; the last layer's state at the content tokens reaches no scored "
    "output, so it is left out too)"
)
DEFINITIONS = {
    "peak_layer_content": f"layer whose residual state, restored at the content tokens, recovers most, {_SEARCHED}",
    "peak_layer_last": "layer whose residual state, restored at the last token before the difference, "
    f"recovers most, {_SEARCHED}",
    "spread_content": f"number of traced layers whose state restored at the content tokens recovers more "
    f"than {HALF:g} of the margin, {_SEARCHED}",
    "spread_last": f"number of traced layers whose state restored at the last token recovers more than "
    f"{HALF:g}, {_SEARCHED}",
    "mlp_share": "sum of positive MLP recovery / (positive MLP + positive attention recovery), over all "
    "traced windows and both positions",
    "peak_recovery": f"largest recovered fraction of any single-layer state restoration, {_SEARCHED}",
}


def searched(plan: Sequence[Restoration], n_layers: int) -> list[int]:
    """Indices of the single-layer state restorations that peaks and spreads are taken over: every one
    whose margin is not fixed by construction (:func:`beliefs.trace.core.fixed`), so never layer 0."""
    return [
        i
        for i, r in enumerate(plan)
        if r.component == "state" and len(r.layers) == 1 and r.layers[0] >= 1 and fixed(r, n_layers) is None
    ]


def summarise(fraction: np.ndarray, plan: Sequence[Restoration], n_layers: int) -> dict[str, float]:
    """Summaries of one fact's recovered fractions (one per restoration in ``plan``) in a model with
    ``n_layers`` hidden-state layers (embeddings included); see :data:`DEFINITIONS`."""
    out: dict[str, float] = {}
    states = searched(plan, n_layers)
    for position in ("content", "last"):
        idx = [i for i in states if plan[i].position == position]
        if not idx:
            out[f"peak_layer_{position}"] = out[f"spread_{position}"] = float("nan")
            continue
        values = fraction[idx]
        layers = np.array([plan[i].center for i in idx])
        out[f"peak_layer_{position}"] = float(layers[int(np.argmax(values))])
        out[f"spread_{position}"] = float(np.sum(values > HALF))
    mlp = sum(max(fraction[i], 0.0) for i, r in enumerate(plan) if r.component == "mlp")
    attn = sum(max(fraction[i], 0.0) for i, r in enumerate(plan) if r.component == "attn")
    out["mlp_share"] = float(mlp / (mlp + attn)) if mlp + attn > 0 else float("nan")
    state = [fraction[i] for i in states]
    out["peak_recovery"] = float(max(state)) if state else float("nan")
    return out
