"""Steering: add a vector to the residual stream at one layer over a statement's tokens, read the margin.

Built on the tracer's packed passes (:class:`beliefs.trace.engine.Tracer`): a fact's two forms go
through as one packed row, so one row gives ``logp(true) − logp(false)`` directly, and rows are
right-padded with a mask that keeps them apart (batched = one at a time). Layer numbers follow the
hidden states: layer 0 is the embedding output, layer ``k`` the output of block ``k − 1``.

Steering at layer ``k`` adds ``delta`` to the residual state at the statement's *shared* tokens
(``[start, diff)``, the tokens the two forms have in common, so the same push reaches both forms).
Where the model allows a pass to start at a middle block (checked numerically by the tracer), a steered
pass starts at block ``k`` from the clean pass's stored state with ``delta`` added; otherwise the whole
pass runs and block ``k − 1``'s output at those positions is overwritten with clean state + ``delta``,
which is the same thing since nothing upstream changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from beliefs.errors import UsageError
from beliefs.models.base import LoadedModel
from beliefs.trace.engine import Tracer, _Row
from beliefs.trace.prompts import PairPrompt


@dataclass
class Base:
    """A fact's unsteered pass: its margin and every residual state of its packed row."""

    margin: float
    states: Any
    """``(L + 1, n_packed, W)`` float32: layer 0 = embeddings, layer k = output of block k − 1."""


def steer_positions(pair: PairPrompt) -> tuple[int, ...]:
    """Where a statement is steered: its tokens shared by both forms, ``[start, diff)``."""
    return tuple(range(pair.start, pair.diff))


class Steerer:
    """Unsteered and steered margins of one causal LM."""

    def __init__(self, model: LoadedModel, batch_size: int = 64, allow_entry: bool = True) -> None:
        self.tracer = Tracer(model, batch_size=batch_size, allow_entry=allow_entry)
        self.torch = self.tracer.torch
        self.n_layers = self.tracer.n_blocks + 1

    def base(self, pairs: Sequence[PairPrompt]) -> list[Base]:
        """Margins and residual states of the unsteered packed rows."""
        tracer = self.tracer
        rows = [_Row(i, tracer.embeds(p.packed().ids)) for i, p in enumerate(pairs)]
        margins, captured = tracer._passes(pairs, rows, entry=0, capture=("out",))
        return [
            Base(margins[i], self.torch.cat([rows[i].embeds[None], captured["out"][i]], 0))
            for i in range(len(pairs))
        ]

    def steered(
        self,
        pairs: Sequence[PairPrompt],
        bases: Sequence[Base],
        layer: int,
        jobs: Sequence[tuple[int, Any]],
        advance: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Margins of steered passes, one per job ``(pair index, delta)``; ``delta`` is ``(W,)`` (the
        same vector at every steered position) or ``(n_positions, W)``.

        Jobs are run in chunks of a few batches so that ``advance`` can report progress."""
        if not 0 <= layer < self.n_layers:
            raise UsageError(f"layer should be between 0 and {self.n_layers - 1}, but got {layer}")
        tracer = self.tracer
        entry = layer if tracer.arch.entry_ok else 0
        out = np.full(len(jobs), np.nan)
        chunk = tracer.batch_size * 4
        for lo in range(0, len(jobs), chunk):
            part = jobs[lo : lo + chunk]
            rows = [self._row(pairs[i], i, bases[i], layer, entry, delta) for i, delta in part]
            margins, _ = tracer._passes(pairs, rows, entry=entry)
            out[lo : lo + len(part)] = margins
            if advance is not None:
                advance(len(part))
        return out

    def _row(self, pair: PairPrompt, i: int, base: Base, layer: int, entry: int, delta: Any) -> _Row:
        pos = list(steer_positions(pair))
        delta = self.torch.as_tensor(delta, dtype=self.torch.float32)
        if entry == layer:
            embeds = base.states[layer].clone()
            embeds[pos] += delta
            return _Row(i, embeds)
        values = base.states[layer][pos] + delta
        return _Row(i, base.states[0], (("out", layer - 1, tuple(pos), values),))


def bands(n_layers: int) -> dict[str, int]:
    """One layer per band: early, middle and late (a quarter, a half and three quarters of the blocks)."""
    n_blocks = n_layers - 1
    return {"early": round(n_blocks * 0.25), "middle": round(n_blocks * 0.5), "late": round(n_blocks * 0.75)}
