"""Clean, corrupted and restored forward passes, batched.

Every pass feeds ``inputs_embeds`` to the model's body and scores the traced tokens with the model's
own head. Rows are right-padded: in a causal LM no real token attends to a later pad, so no attention
mask is needed and a row's result does not depend on the batch it is in (tested: batched = one at a
time). A restoration is a set of *patches* — the clean value written over a residual state, an MLP
output or an attention output at chosen positions — applied with forward hooks. Where the model allows
it (checked numerically, :func:`beliefs.trace.arch.check_entry`), a restored pass starts at the lowest
patched block from the corrupted run's stored residual state, since everything below is unchanged.

Layer numbers follow the run's hidden states: layer 0 is the embedding output, layer ``k`` the output of
block ``k − 1``. The MLP and attention "of layer ``k``" are those of block ``k − 1``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from beliefs.errors import ModelError
from beliefs.models.base import LoadedModel
from beliefs.trace.arch import Arch, architecture, first
from beliefs.trace.prompts import PairPrompt

COMPONENTS = ("state", "mlp", "attn")
NOISE_FACTOR = 3.0
"""Noise SD in units of the embedding SD (Meng et al. 2022 use 3× the SD of subject embeddings)."""
FORMS = ("true", "false")


@dataclass(frozen=True)
class Restoration:
    """What one restored pass puts back: a component at some layers, at a position group."""

    component: str
    """``state`` (the residual stream), ``mlp`` or ``attn``."""
    layers: tuple[int, ...]
    """Hidden-state layer numbers (state: 0..L; mlp/attn: 1..L)."""
    position: str
    """``content``, ``last`` or ``all`` (:meth:`PairPrompt.positions`)."""
    center: int = -1
    """The layer a profile files this under (the window's centre)."""

    def entry(self) -> int:
        """The lowest block whose input or output changes."""
        if not self.layers:
            return 0
        low = min(self.layers)
        return low if self.component == "state" else low - 1


@dataclass
class Clean:
    """A fact's clean pass: margin, and states at its shared positions (kept to restore from)."""

    margin: float
    states: Any
    """``(L + 1, diff, W)``: layer 0 = embeddings, layer k = output of block k − 1."""
    mlp: Any
    """``(L, diff, W)``: output of each block's MLP."""
    attn: Any


@dataclass
class Corrupt:
    """A fact's corrupted passes for one noise seed: margin and every residual state of both forms."""

    margin: float
    states: dict[str, Any] = field(default_factory=dict)
    """Per form ``(L + 1, n_tokens, W)``, the residual states a later pass may start from."""


@dataclass(frozen=True)
class _Row:
    """One sequence of one pass."""

    pair: int
    form: str
    embeds: Any
    """``(n_tokens, W)`` input of the first block run."""
    patches: tuple[tuple[str, int, tuple[int, ...], Any], ...] = ()
    """``(kind, block, positions, values)``; kind ``out`` (block output), ``mlp`` or ``attn``."""


def noise_seed(ref: str, seed: int) -> int:
    """A seed per (fact, noise seed) that does not depend on the order or batch of facts."""
    return int.from_bytes(hashlib.sha256(f"{seed}|{ref}".encode()).digest()[:8], "little") & (2**63 - 1)


class Tracer:
    """Runs clean, corrupted and restored passes of one causal LM."""

    def __init__(self, model: LoadedModel, batch_size: int = 64, allow_entry: bool = True) -> None:
        import torch

        if not model.causal:
            raise ModelError(f"{model.name}: causal tracing needs a causal LM, not a {model.backend} encoder")
        if batch_size < 1:
            raise ModelError(f"batch size should be at least 1, but got {batch_size}")
        self.torch = torch
        self.model = model
        self.arch: Arch = architecture(model.module)
        self.n_blocks = self.arch.n_blocks
        self.batch_size = batch_size
        self.device = torch.device(model.device)
        with torch.inference_mode():
            weight = self.arch.embed.weight
            ids = torch.arange(weight.shape[0], device=weight.device)
            sd = torch.cat(
                [self.arch.embed(ids[i : i + 4096]).float().flatten() for i in range(0, len(ids), 4096)]
            )
            self.embed_sd = float(sd.std())
        self.noise_sd = NOISE_FACTOR * self.embed_sd
        self.arch.entry_ok = allow_entry and self._check_entry()

    # -- passes -------------------------------------------------------------------------------------
    def embeds(self, ids: Sequence[int]) -> Any:
        with self.torch.inference_mode():
            return self.arch.embed(self.torch.tensor([list(ids)], device=self.device))[0].float()

    def noise(self, pair: PairPrompt, seed: int) -> Any:
        """The noise added to the content tokens' embeddings (the same for both forms)."""
        gen = self.torch.Generator().manual_seed(noise_seed(pair.ref, seed))
        width = self.model.width
        return self.torch.randn((len(pair.content), width), generator=gen) * self.noise_sd

    def clean(self, pairs: Sequence[PairPrompt]) -> list[Clean]:
        """Clean margins, and the clean states, MLP and attention outputs at each pair's shared positions."""
        rows = [_Row(i, form, self.embeds(p.ids(form))) for i, p in enumerate(pairs) for form in FORMS]
        logp, captured = self._passes(pairs, rows, entry=0, capture=("out", "mlp", "attn"))
        out = []
        for i, p in enumerate(pairs):
            t = 2 * i
            states = self.torch.cat([rows[t].embeds[None, : p.diff], captured["out"][t][:, : p.diff]], 0)
            out.append(
                Clean(
                    margin=logp[t] - logp[t + 1],
                    states=states,
                    mlp=captured["mlp"][t][:, : p.diff],
                    attn=captured["attn"][t][:, : p.diff],
                )
            )
        return out

    def corrupt(self, pairs: Sequence[PairPrompt], seed: int) -> list[Corrupt]:
        """Margins with the content tokens' embeddings noised, and every residual state of both forms."""
        rows = []
        for i, p in enumerate(pairs):
            noise = self.noise(p, seed)
            for form in FORMS:
                e = self.embeds(p.ids(form)).clone()
                e[list(p.content)] += noise.to(e.device)
                rows.append(_Row(i, form, e))
        logp, captured = self._passes(pairs, rows, entry=0, capture=("out",))
        out = []
        for i in range(len(pairs)):
            c = Corrupt(margin=logp[2 * i] - logp[2 * i + 1])
            for j, form in enumerate(FORMS):
                r = 2 * i + j
                c.states[form] = self.torch.cat([rows[r].embeds[None], captured["out"][r]], 0)
            out.append(c)
        return out

    def restored(
        self,
        pairs: Sequence[PairPrompt],
        clean: Sequence[Clean],
        corrupt: Sequence[Corrupt],
        restorations: Sequence[Restoration],
    ) -> np.ndarray:
        """Margins ``(n_pairs, n_restorations)`` of the corrupted passes with each restoration applied.

        Rows are grouped by the block they start at, then batched.
        """
        by_entry: dict[int, list[tuple[int, int]]] = {}
        for i in range(len(pairs)):
            for j, r in enumerate(restorations):
                entry = r.entry() if self.arch.entry_ok else 0
                by_entry.setdefault(entry, []).append((i, j))
        out = np.full((len(pairs), len(restorations)), np.nan)
        for entry, jobs in sorted(by_entry.items()):
            rows = []
            for i, j in jobs:
                for form in FORMS:
                    rows.append(
                        self._restored_row(pairs[i], i, form, clean[i], corrupt[i], restorations[j], entry)
                    )
            logp, _ = self._passes(pairs, rows, entry=entry)
            for k, (i, j) in enumerate(jobs):
                out[i, j] = logp[2 * k] - logp[2 * k + 1]
        return out

    def _restored_row(
        self, pair: PairPrompt, i: int, form: str, clean: Clean, corrupt: Corrupt, r: Restoration, entry: int
    ) -> _Row:
        pos = pair.positions(r.position)
        embeds = corrupt.states[form][entry]
        patches = []
        for layer in r.layers:
            if r.component == "state" and layer == entry:
                embeds = embeds.clone()
                embeds[list(pos)] = clean.states[layer][list(pos)]
            elif r.component == "state":
                patches.append(("out", layer - 1, pos, clean.states[layer][list(pos)]))
            else:
                values = (clean.mlp if r.component == "mlp" else clean.attn)[layer - 1][list(pos)]
                patches.append((r.component, layer - 1, pos, values))
        return _Row(i, form, embeds, tuple(patches))

    # -- the forward pass ---------------------------------------------------------------------------
    def _passes(
        self, pairs: Sequence[PairPrompt], rows: Sequence[_Row], entry: int, capture: tuple[str, ...] = ()
    ) -> tuple[list[float], dict[str, list[Any]]]:
        """Run ``rows`` in batches; the traced log-probability of each row, and captured outputs per row
        (``(n_blocks, n_tokens, W)`` each)."""
        # batches of similar length waste less on padding; results go back in the rows' order
        order = sorted(range(len(rows)), key=lambda i: rows[i].embeds.shape[0])
        logp: list[float] = [0.0] * len(rows)
        captured: dict[str, list[Any]] = {k: [None] * len(rows) for k in capture}
        for lo in range(0, len(rows), self.batch_size):
            idx = order[lo : lo + self.batch_size]
            chunk = [rows[i] for i in idx]
            lp, cap = self._batch([pairs[r.pair] for r in chunk], chunk, entry, capture)
            for j, i in enumerate(idx):
                logp[i] = lp[j]
                for k in capture:
                    captured[k][i] = cap[k][j]
        return logp, captured

    def _batch(
        self, pairs: Sequence[PairPrompt], rows: Sequence[_Row], entry: int, capture: tuple[str, ...]
    ) -> tuple[list[float], dict[str, list[Any]]]:
        torch = self.torch
        lengths = [r.embeds.shape[0] for r in rows]
        s = max(lengths)
        width = rows[0].embeds.shape[1]
        dtype = next(self.model.module.parameters()).dtype
        x = torch.zeros((len(rows), s, width), dtype=torch.float32)
        for b, r in enumerate(rows):
            x[b, : lengths[b]] = r.embeds.cpu()
        hooks = []
        store: dict[tuple[str, int], Any] = {}
        # patches, gathered per hook point
        points: dict[tuple[str, int], tuple[list[int], list[int], list[Any]]] = {}
        for b, r in enumerate(rows):
            for kind, block, pos, values in r.patches:
                rr, pp, vv = points.setdefault((kind, block), ([], [], []))
                rr += [b] * len(pos)
                pp += list(pos)
                vv.append(values)
        try:
            for (kind, block), (rr, pp, vv) in points.items():
                if block < entry:
                    raise ModelError(f"internal: a patch at block {block} below the entry block {entry}")
                module = self._module(kind, block)
                index = (torch.tensor(rr, device=self.device), torch.tensor(pp, device=self.device))
                values = torch.cat(vv, 0).to(device=self.device, dtype=dtype)
                hooks.append(module.register_forward_hook(_patcher(index, values)))
            for kind in capture:
                for block in range(entry, self.n_blocks):
                    hooks.append(
                        self._module(kind, block).register_forward_hook(_capturer(store, (kind, block)))
                    )
            with torch.inference_mode(), self.arch.starting_at(entry):
                out = self.arch.body(
                    inputs_embeds=x.to(device=self.device, dtype=dtype),
                    use_cache=False,
                    return_dict=True,
                )
                hidden = out.last_hidden_state
                # every row's scored positions through the head at once (the head's weight is read once)
                rows_i: list[int] = []
                pos_i: list[int] = []
                targets: list[int] = []
                for b, r in enumerate(rows):
                    p = pairs[b]
                    ids = p.ids(r.form)
                    rows_i += [b] * (len(ids) - p.diff)
                    pos_i += list(range(p.diff - 1, len(ids) - 1))
                    targets += list(ids[p.diff :])
                logits = self.arch.logits(hidden[torch.tensor(rows_i), torch.tensor(pos_i)])
                tok = torch.tensor(targets, device=logits.device)
                lp = (logits.gather(-1, tok[:, None])[:, 0] - torch.logsumexp(logits, dim=-1)).double().cpu()
                sums = torch.zeros(len(rows), dtype=torch.float64).index_add_(0, torch.tensor(rows_i), lp)
                logp = [float(v) for v in sums]
        finally:
            for h in hooks:
                h.remove()
        captured: dict[str, list[Any]] = {}
        for kind in capture:
            stacked = torch.stack([store[(kind, block)] for block in range(entry, self.n_blocks)], 1)
            captured[kind] = [stacked[b, :, : lengths[b]].float().cpu() for b in range(len(rows))]
        return logp, captured

    def _module(self, kind: str, block: int) -> Any:
        if kind == "out":
            return self.arch.block(block)
        if kind == "mlp":
            return self.arch.mlp(block)
        if kind == "attn":
            return self.arch.attn(block)
        raise ValueError(kind)

    def _check_entry(self) -> bool:
        """Whether starting at a middle block from a stored residual state reproduces the full pass."""
        torch = self.torch
        ids = tuple(range(1, 9))
        probe = PairPrompt("check", ids, (*ids[:-2], ids[-1], ids[-2]), 1, 6)
        row = _Row(0, "true", self.embeds(ids))
        full, cap = self._batch([probe], [row], entry=0, capture=("out",))
        states = torch.cat([row.embeds[None], cap["out"][0]], 0)
        for entry in {1, self.n_blocks // 2, self.n_blocks}:
            part, _ = self._batch([probe], [_Row(0, "true", states[entry])], entry=entry, capture=())
            if not np.isclose(part[0], full[0], rtol=1e-4, atol=1e-4):
                return False
        return True


def _patcher(index: tuple[Any, Any], values: Any) -> Any:
    def hook(_module: Any, _inputs: Any, output: Any) -> Any:
        first(output)[index] = values
        return output

    return hook


def _capturer(store: dict[tuple[str, int], Any], key: tuple[str, int]) -> Any:
    def hook(_module: Any, _inputs: Any, output: Any) -> None:
        store[key] = first(output).detach()

    return hook
