"""Per-fact summaries of a restoration profile: where recovery peaks, how spread it is, MLP vs attention."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from beliefs.trace.engine import Restoration

HALF = 0.5
"""A layer "recovers" when restoring it brings back more than half of the clean margin."""
SUMMARIES = ("peak_layer_content", "peak_layer_last", "spread_content", "spread_last", "mlp_share")
"""Per-fact summaries (``RUN/trace/facts.csv``), each compared between kinds by ``causal-trace``."""
DEFINITIONS = {
    "peak_layer_content": "layer whose residual state, restored at the content tokens, recovers most",
    "peak_layer_last": "layer whose residual state, restored at the last token before the difference, "
    "recovers most",
    "spread_content": f"number of traced layers whose state restored at the content tokens recovers more "
    f"than {HALF:g} of the margin",
    "spread_last": f"number of traced layers whose state restored at the last token recovers more than {HALF:g}",
    "mlp_share": "sum of positive MLP recovery / (positive MLP + positive attention recovery), over all "
    "traced windows and both positions",
    "peak_recovery": "largest recovered fraction of any single-layer state restoration",
}


def summarise(fraction: np.ndarray, plan: Sequence[Restoration]) -> dict[str, float]:
    """Summaries of one fact's recovered fractions (one per restoration in ``plan``)."""
    out: dict[str, float] = {}
    for position in ("content", "last"):
        idx = [i for i, r in enumerate(plan) if r.component == "state" and r.position == position]
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
    state = [fraction[i] for i, r in enumerate(plan) if r.component == "state"]
    out["peak_recovery"] = float(max(state)) if state else float("nan")
    return out
