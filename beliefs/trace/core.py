"""Tracing a list of prompt pairs on one model: which restorations, seeds, and the recovered fractions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from beliefs.errors import UsageError
from beliefs.trace.engine import COMPONENTS, Restoration, Tracer
from beliefs.trace.prompts import POSITIONS, PairPrompt

MIN_GAP = 0.5
"""Smallest ``|clean − corrupted|`` margin (nats, corrupted averaged over noise seeds) that is traced.
Below it the recovered fraction divides by little more than noise: such facts are recorded as
``small-gap``."""
SMALL_GAP = "small-gap"
DEFAULT_WINDOW = 5
DEFAULT_SEEDS = 2


def centers(n_layers: int, stride: int) -> list[int]:
    """Every ``stride``-th layer from 0, and the last one."""
    if stride < 1:
        raise UsageError(f"layer stride should be at least 1, but got {stride}")
    out = list(range(0, n_layers, stride))
    if out[-1] != n_layers - 1:
        out.append(n_layers - 1)
    return out


def restorations(n_layers: int, layers: Sequence[int], window: int) -> list[Restoration]:
    """The restorations of a trace: for each centre layer ``k`` and position group, the residual state of
    layer ``k`` alone, and the MLP and attention outputs of the ``window`` layers centred on ``k``
    (clipped to 1..L), as in Meng et al. 2022."""
    if window < 1:
        raise UsageError(f"window should be at least 1 layer, but got {window}")
    bad = [k for k in layers if not 0 <= k < n_layers]
    if bad:
        raise UsageError(f"layers should be in 0..{n_layers - 1}, but got {bad}")
    out = []
    lo_off = (window - 1) // 2
    for k in sorted(set(layers)):
        span = tuple(j for j in range(k - lo_off, k - lo_off + window) if 1 <= j < n_layers)
        for position in POSITIONS:
            out.append(Restoration("state", (k,), position, k))
            if span:
                out.append(Restoration("mlp", span, position, k))
                out.append(Restoration("attn", span, position, k))
    return out


CLEAN, CORRUPT = "clean", "corrupt"


def fixed(r: Restoration, n_layers: int) -> str | None:
    """Whether a restoration's margin is known without running it, and which: ``clean`` for the
    embeddings restored at the content tokens (they are all that the noise touched), ``corrupt`` for the
    embedding at the last token (never noised) and for the last layer's state at the content tokens
    (it reaches no scored output). None for every other restoration."""
    if r.component != "state" or len(r.layers) != 1:
        return None
    layer = r.layers[0]
    if layer == 0:
        return CLEAN if r.position == "content" else CORRUPT if r.position == "last" else None
    if layer == n_layers - 1 and r.position == "content":
        return CORRUPT
    return None


@dataclass
class PairTrace:
    """The trace of one prompt pair: margins, and the recovered fraction of each restoration."""

    pair: PairPrompt
    reason: str | None
    """Why it is untraceable (``differs-at-first-token``, ``one-shared-token``, ``small-gap``), or None."""
    clean: float = float("nan")
    corrupt: float = float("nan")
    """Mean over noise seeds."""
    corrupt_sd: float = float("nan")
    """SD over noise seeds."""
    restored: np.ndarray | None = None
    """Mean over noise seeds, one per restoration."""

    @property
    def gap(self) -> float:
        return self.clean - self.corrupt

    @property
    def fraction(self) -> np.ndarray | None:
        if self.restored is None or self.reason is not None:
            return None
        return (self.restored - self.corrupt) / self.gap


def trace_pairs(
    tracer: Tracer,
    pairs: Sequence[PairPrompt],
    plan: Sequence[Restoration],
    seeds: Sequence[int],
    min_gap: float = MIN_GAP,
    chunk: int = 32,
    advance: Callable[[int], None] | None = None,
) -> list[PairTrace]:
    """Trace each pair: clean pass, corrupted passes per seed, then every restoration per seed (only for
    pairs whose gap reaches ``min_gap``). Restorations whose margin is fixed by construction
    (:func:`fixed`) are filled in, not run. Pairs go through in chunks of ``chunk`` to bound memory."""
    if not seeds:
        raise UsageError("at least one noise seed is needed")
    out: list[PairTrace] = []
    for lo in range(0, len(pairs), chunk):
        part = list(pairs[lo : lo + chunk])
        traces = [PairTrace(p, p.reason) for p in part]
        live = [i for i, t in enumerate(traces) if t.reason is None]
        if live:
            sub = [part[i] for i in live]
            clean = tracer.clean(sub)
            corrupt = [tracer.corrupt(sub, s) for s in seeds]
            for k, i in enumerate(live):
                t = traces[i]
                t.clean = clean[k].margin
                margins = np.array([c[k].margin for c in corrupt])
                t.corrupt, t.corrupt_sd = float(margins.mean()), float(margins.std())
                if abs(t.gap) < min_gap:
                    t.reason = SMALL_GAP
            keep = [k for k, i in enumerate(live) if traces[i].reason is None]
            if keep and plan:
                kept = [sub[k] for k in keep]
                known = [fixed(r, tracer.n_blocks + 1) for r in plan]
                run = [j for j, f in enumerate(known) if f is None]
                total = np.zeros((len(keep), len(plan)))
                for c in corrupt:
                    if run:
                        total[:, run] += tracer.restored(
                            kept, [clean[k] for k in keep], [c[k] for k in keep], [plan[j] for j in run]
                        )
                    for j, f in enumerate(known):
                        if f is not None:
                            total[:, j] += [(clean if f == CLEAN else c)[k].margin for k in keep]
                for m, k in enumerate(keep):
                    traces[live[k]].restored = total[m] / len(seeds)
        out += traces
        if advance is not None:
            advance(len(part))
    return out


__all__ = ["COMPONENTS", "MIN_GAP", "PairTrace", "centers", "fixed", "restorations", "trace_pairs"]
