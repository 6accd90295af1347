"""Batched extraction: per-layer hidden states pooled over the statement, and its log-probability.

Causal LMs: each batch computes its distinct prefixes once (left-padded), keeps their KV cache, and
runs the statements (padded on either side) on top of it with a 2-D key mask (the model adds
causality; None where nothing is padded) and explicit positions. A general condition has one prefix for
every statement, computed once and reused for every batch; per-fact contexts put a fact's true and
false forms on the same cached prefix. The output projection runs only where a log-probability is
needed (the prefix's last token, the statement's tokens but its last), not over the whole vocabulary
at every position; the pooled states are taken on the device, so only ``(batch, layers, width)``
arrays come back.
Encoders (no cache, bidirectional) run each prompt whole. The result equals one-at-a-time full
computation up to float rounding (tested).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from beliefs.errors import ModelError
from beliefs.inputs.prompts import Prompt
from beliefs.models.base import LoadedModel


@dataclass(frozen=True)
class Measurement:
    """What one prompt gives: pooled states per layer and the statement's log-probability."""

    last: np.ndarray
    """``(n_layers, width)`` float32: the statement's last token."""
    mean: np.ndarray
    """``(n_layers, width)`` float32: mean over the statement's tokens."""
    logp: float | None
    """Summed log-probability of the statement's tokens given what precedes them (None for encoders)."""
    n_tokens: int


@dataclass(frozen=True)
class Row:
    key: str
    prompt: Prompt


@dataclass(frozen=True)
class Batch:
    """Rows computed together; rows with the same prefix share one cached prefix computation."""

    prefixes: tuple[tuple[int, ...], ...]
    rows: tuple[Row, ...]
    which: tuple[int, ...]
    """Index into ``prefixes`` of each row."""

    @property
    def n_tokens(self) -> int:
        return sum(len(r.prompt.statement) for r in self.rows)


def plan(rows: Iterable[Row], batch_size: int) -> list[Batch]:
    """Batches by prefix and length; deterministic in the rows (not in what is already stored)."""
    if batch_size < 1:
        raise ModelError(f"batch size should be at least 1, but got {batch_size}")
    groups: dict[tuple[int, ...], list[Row]] = {}
    seen: set[str] = set()
    for row in rows:
        if row.key in seen:
            continue
        seen.add(row.key)
        groups.setdefault(row.prompt.prefix, []).append(row)
    batches: list[Batch] = []
    small: list[tuple[tuple[int, ...], list[Row]]] = []
    for prefix, members in groups.items():
        members.sort(key=lambda r: (len(r.prompt.ids), r.key))
        if len(members) * 2 > batch_size:
            for i in range(0, len(members), batch_size):
                chunk = tuple(members[i : i + batch_size])
                batches.append(Batch((prefix,), chunk, (0,) * len(chunk)))
        else:
            small.append((prefix, members))
    small.sort(key=lambda g: (len(g[0]), len(g[1][0].prompt.ids), g[1][0].key))
    prefixes: list[tuple[int, ...]] = []
    packed: list[Row] = []
    which: list[int] = []
    for prefix, members in small:
        if packed and len(packed) + len(members) > batch_size:
            batches.append(Batch(tuple(prefixes), tuple(packed), tuple(which)))
            prefixes, packed, which = [], [], []
        prefixes.append(prefix)
        packed.extend(members)
        which.extend([len(prefixes) - 1] * len(members))
    if packed:
        batches.append(Batch(tuple(prefixes), tuple(packed), tuple(which)))
    return batches


def kept_layers(model: LoadedModel, layers: Sequence[int] | None = None) -> list[int]:
    """The hidden-state layers kept: all of them, or ``layers`` (negative counts from the end)."""
    n = model.n_layers
    kept = list(range(n)) if layers is None else [i if i >= 0 else n + i for i in layers]
    bad = [i for i in kept if not 0 <= i < n]
    if bad:
        raise ModelError(f"layers should be in 0..{n - 1} for {model.name}, but got {bad}")
    return kept


class Extractor:
    """Runs batches on one loaded model."""

    def __init__(self, model: LoadedModel, layers: Sequence[int] | None = None, padding_side: str = "right"):
        import torch

        self.model = model
        self.torch = torch
        self.layers = kept_layers(model, layers)
        if padding_side not in ("left", "right"):
            raise ModelError(f"padding side should be left or right, but got {padding_side}")
        self.padding_side = padding_side
        self.device = torch.device(model.device)
        self.dtype = next(model.module.parameters()).dtype
        params = inspect.signature(model.module.forward).parameters
        self.cache_arg = "cache" if "cache" in params else "past_key_values"
        self._prefix_memo: tuple[tuple[tuple[int, ...], ...], Any] | None = None
        # Logits only where needed: the model returns them at its last position alone, and the output
        # projection (plus any final soft-capping) is applied here to the positions that are scored.
        # Checked once against the model's own logits; a model that disagrees keeps full logits.
        self.keep_arg = next((a for a in ("logits_to_keep", "num_logits_to_keep") if a in params), None)
        head = model.module.get_output_embeddings() if model.causal else None
        self.head = head if callable(head) else None
        config = getattr(model.module, "config", None)
        text = getattr(config, "get_text_config", lambda: config)()
        self.softcap = getattr(text, "final_logit_softcapping", None)
        self._head_ok: bool | None = None if (self.keep_arg and self.head is not None) else False

    def run(self, batch: Batch) -> list[Measurement]:
        longest = max(len(r.prompt.ids) for r in batch.rows)
        if self.model.max_positions is not None and longest > self.model.max_positions:
            raise ModelError(
                f"a prompt has {longest} tokens, more than {self.model.name} takes ({self.model.max_positions})"
            )
        with self.torch.inference_mode():
            if self.model.causal:
                return self._run_causal(batch)
            return self._run_encoder(batch)

    # -- causal LMs ---------------------------------------------------------------------------------
    def _prefix_state(self, prefixes: tuple[tuple[int, ...], ...]) -> Any:
        if self._prefix_memo is not None and self._prefix_memo[0] == prefixes:
            return self._prefix_memo[1]
        torch = self.torch
        u, p = len(prefixes), max(len(x) for x in prefixes)
        ids = torch.zeros((u, p), dtype=torch.long)
        valid = torch.zeros((u, p), dtype=torch.bool)
        for i, x in enumerate(prefixes):
            ids[i, p - len(x) :] = torch.tensor(x)
            valid[i, p - len(x) :] = True
        positions = (valid.long().cumsum(-1) - 1).clamp(min=0)
        keep = {self.keep_arg: 1} if self.keep_arg else {}
        out = self.model.module(
            input_ids=ids.to(self.device),
            attention_mask=self._mask(valid),
            position_ids=positions.to(self.device),
            use_cache=True,
            **keep,
        )
        cache = getattr(out, self.cache_arg, None)
        if cache is None:
            cache = getattr(out, "past_key_values", None) or getattr(out, "cache", None)
        kv = _cache_tensors(cache)
        last_logprobs = torch.log_softmax(out.logits[:, -1, :].float(), dim=-1)
        state = (kv, valid, torch.tensor([len(x) for x in prefixes]), last_logprobs)
        self._prefix_memo = (prefixes, state)
        return state

    def _mask(self, valid: Any) -> Any:
        """The 2-D key mask ``(B, K)`` the model combines with causality, or None if nothing is padded."""
        if bool(valid.all()):
            return None
        return valid.long().to(self.device)

    def _logits(self, hidden: Any) -> Any:
        """The model's output projection (and final soft-capping, if it has one) of final states."""
        logits = self.head(hidden)  # type: ignore[misc]
        if self.softcap:
            logits = self.torch.tanh(logits / self.softcap) * self.softcap
        return logits

    def _run_causal(self, batch: Batch) -> list[Measurement]:
        torch = self.torch
        kv, pre_valid, pre_len, pre_logprobs = self._prefix_state(batch.prefixes)
        which = torch.tensor(batch.which)
        stmts = [r.prompt.statement for r in batch.rows]
        s = max(len(x) for x in stmts)
        ids, valid, offset = self._pad(stmts, s)
        positions = pre_len[which][:, None] + (torch.arange(s)[None, :] - offset[:, None]).clamp(min=0)
        cache = _make_cache([(k[which.to(k.device)], v[which.to(v.device)]) for k, v in kv])
        full = not self._head_ok
        out = self._forward_causal(ids, torch.cat([pre_valid[which], valid], dim=-1), positions, cache, full)
        final = out.hidden_states[-1]
        if self._head_ok is None:  # first batch: does our projection reproduce the model's logits?
            mine = self._logits(final[:, -1:, :]).float()
            theirs = out.logits[:, -1:, :].float()
            self._head_ok = bool(
                torch.allclose(mine, theirs, rtol=1e-4, atol=1e-4 * float(theirs.abs().max()))
            )
            if not self._head_ok:
                cache = _make_cache([(k[which.to(k.device)], v[which.to(v.device)]) for k, v in kv])
                out = self._forward_causal(
                    ids, torch.cat([pre_valid[which], valid], dim=-1), positions, cache, True
                )
                final = out.hidden_states[-1]
        lengths = torch.tensor([len(x) for x in stmts])
        last, mean = self._pool(out.hidden_states, valid, offset + lengths - 1, lengths)
        # scored positions: each statement token after its first is predicted from the position before it
        rows = torch.repeat_interleave(torch.arange(len(stmts)), lengths - 1)
        at = torch.cat(
            [torch.arange(n - 1) + o for n, o in zip(lengths.tolist(), offset.tolist(), strict=True)]
        )
        targets = torch.cat([torch.tensor(x[1:], dtype=torch.long) for x in stmts])
        source = final if self._head_ok else out.logits  # on the last device under --device-map
        picked = source[rows.to(source.device), at.to(source.device)]
        logits = (self._logits(picked) if self._head_ok else picked).float()
        scored = torch.log_softmax(logits, dim=-1).gather(-1, targets[:, None].to(logits.device))[:, 0]
        rest = [part.sum() for part in torch.split(scored.cpu(), (lengths - 1).tolist())]
        first = pre_logprobs[which, torch.tensor([x[0] for x in stmts])].cpu()
        return [
            Measurement(last=last[i], mean=mean[i], logp=float(first[i] + rest[i]), n_tokens=len(stmt))
            for i, stmt in enumerate(stmts)
        ]

    def _forward_causal(self, ids: Any, valid: Any, positions: Any, cache: Any, full: bool) -> Any:
        keep = {self.keep_arg: 1} if self.keep_arg and not full else {}
        return self.model.module(
            input_ids=ids.to(self.device),
            attention_mask=self._mask(valid),
            position_ids=positions.to(self.device),
            output_hidden_states=True,
            use_cache=True,
            **{self.cache_arg: cache},
            **keep,
        )

    def _pool(self, hidden_states: Any, valid: Any, end: Any, lengths: Any) -> tuple[Any, Any]:
        """Each kept layer's state at ``end`` and its mean over ``valid`` positions, taken on the device:
        ``(B, layers, width)`` float32 numpy arrays."""
        torch = self.torch
        rows = torch.arange(len(end))
        lasts, means = [], []
        for i in self.layers:
            h = hidden_states[i]
            inside = valid.to(h.device)[:, :, None]
            lasts.append(h[rows.to(h.device), end.to(h.device)].float().cpu())  # layers may sit apart
            total = torch.where(inside, h.float(), 0.0).sum(dim=1)
            means.append((total / lengths.to(h.device, torch.float32)[:, None]).cpu())
        last = torch.stack(lasts, dim=1).numpy()
        mean = torch.stack(means, dim=1).numpy()
        return last, mean

    def _pad(self, seqs: Sequence[Sequence[int]], width: int) -> tuple[Any, Any, Any]:
        """Pad to ``width`` on the configured side; returns ids, validity and each row's start offset."""
        torch = self.torch
        ids = torch.zeros((len(seqs), width), dtype=torch.long)
        valid = torch.zeros((len(seqs), width), dtype=torch.bool)
        offset = torch.zeros(len(seqs), dtype=torch.long)
        for i, x in enumerate(seqs):
            o = width - len(x) if self.padding_side == "left" else 0
            ids[i, o : o + len(x)] = torch.tensor(x)
            valid[i, o : o + len(x)] = True
            offset[i] = o
        return ids, valid, offset

    # -- encoders -----------------------------------------------------------------------------------
    def _run_encoder(self, batch: Batch) -> list[Measurement]:
        torch = self.torch
        prompts = [r.prompt for r in batch.rows]
        s = max(len(pr.ids) for pr in prompts)
        ids, valid, offset = self._pad([pr.ids for pr in prompts], s)
        out = self.model.module(
            input_ids=ids.to(self.device),
            attention_mask=valid.long().to(self.device),
            token_type_ids=torch.zeros_like(ids).to(self.device),
            position_ids=(torch.arange(s)[None, :] - offset[:, None]).clamp(min=0).to(self.device),
            output_hidden_states=True,
        )
        hidden = torch.stack([out.hidden_states[i] for i in self.layers], dim=1).float().cpu()
        results = []
        for i, pr in enumerate(prompts):
            pos = torch.arange(pr.start, pr.end) + offset[i]
            states = hidden[i][:, pos, :]
            results.append(
                Measurement(
                    states[:, -1, :].numpy().copy(), states.mean(dim=1).numpy(), None, pr.end - pr.start
                )
            )
        return results


def _cache_tensors(cache: Any) -> list[tuple[Any, Any]]:
    if cache is None:
        raise ModelError("the model returned no KV cache; it cannot reuse prefixes")
    if hasattr(cache, "layers"):
        return [(layer.keys, layer.values) for layer in cache.layers]
    if hasattr(cache, "to_legacy_cache"):
        return [(k, v) for k, v, *_ in cache.to_legacy_cache()]
    return [(k, v) for k, v, *_ in cache]


def _make_cache(kv: list[tuple[Any, Any]]) -> Any:
    from transformers import DynamicCache

    try:
        return DynamicCache(ddp_cache_data=kv)
    except TypeError:  # older transformers
        return DynamicCache.from_legacy_cache(tuple(kv))  # type: ignore[attr-defined]
