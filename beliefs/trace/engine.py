"""Clean, corrupted and restored forward passes, batched.

Every pass feeds ``inputs_embeds`` to the model's body and scores the traced tokens with the model's
own head. A fact's two forms go through as **one** packed sequence (:class:`beliefs.trace.prompts.Packed`:
the shared part once, then each form's tail, with an attention mask that keeps the tails apart and
per-form position ids), so one row gives the margin directly. Rows are right-padded and the mask keeps
every real token off the pads, so a row's result does not depend on the batch it is in (tested: batched
= one at a time). A restoration is a set of *patches* — the clean value written over a residual state,
an MLP output or an attention output at chosen positions — applied with forward hooks. Where the model
allows it (checked numerically, :meth:`Tracer._check_entry`), a restored pass starts at the lowest
patched block from the corrupted run's stored residual state, since everything below is unchanged.
At the first scored position both forms are scored from the same output, so the log-normaliser
cancels and only the two tokens' logits are computed there.

Layer numbers follow the run's hidden states: layer 0 is the embedding output, layer ``k`` the output of
block ``k − 1``. The MLP and attention "of layer ``k``" are those of block ``k − 1``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from beliefs.errors import ModelError
from beliefs.models.base import LoadedModel
from beliefs.trace.arch import Arch, architecture, first
from beliefs.trace.prompts import Packed, PairPrompt

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
    """A fact's corrupted pass for one noise seed: margin and every residual state of the packed row."""

    margin: float
    states: Any
    """``(L + 1, n_packed, W)``, the residual states a later pass may start from."""


@dataclass(frozen=True)
class _Row:
    """One sequence of one pass."""

    pair: int
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
        rows = [_Row(i, self.embeds(p.packed().ids)) for i, p in enumerate(pairs)]
        margins, captured = self._passes(pairs, rows, entry=0, capture=("out", "mlp", "attn"))
        out = []
        for i, p in enumerate(pairs):
            states = self.torch.cat([rows[i].embeds[None, : p.diff], captured["out"][i][:, : p.diff]], 0)
            out.append(
                Clean(
                    margin=margins[i],
                    states=states,
                    mlp=captured["mlp"][i][:, : p.diff],
                    attn=captured["attn"][i][:, : p.diff],
                )
            )
        return out

    def corrupt(self, pairs: Sequence[PairPrompt], seed: int) -> list[Corrupt]:
        """Margins with the content tokens' embeddings noised, and every residual state of the packed row."""
        rows = []
        for i, p in enumerate(pairs):
            e = self.embeds(p.packed().ids).clone()
            e[list(p.content)] += self.noise(p, seed).to(e.device)
            rows.append(_Row(i, e))
        margins, captured = self._passes(pairs, rows, entry=0, capture=("out",))
        return [
            Corrupt(margins[i], self.torch.cat([rows[i].embeds[None], captured["out"][i]], 0))
            for i in range(len(pairs))
        ]

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
            rows = [
                self._restored_row(pairs[i], i, clean[i], corrupt[i], restorations[j], entry) for i, j in jobs
            ]
            margins, _ = self._passes(pairs, rows, entry=entry)
            for k, (i, j) in enumerate(jobs):
                out[i, j] = margins[k]
        return out

    def _restored_row(
        self, pair: PairPrompt, i: int, clean: Clean, corrupt: Corrupt, r: Restoration, entry: int
    ) -> _Row:
        pos = pair.positions(r.position)
        embeds = corrupt.states[entry]
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
        return _Row(i, embeds, tuple(patches))

    # -- the forward pass ---------------------------------------------------------------------------
    def _passes(
        self, pairs: Sequence[PairPrompt], rows: Sequence[_Row], entry: int, capture: tuple[str, ...] = ()
    ) -> tuple[list[float], dict[str, list[Any]]]:
        """Run ``rows`` in batches; the traced margin of each row, and captured outputs per row
        (``(n_blocks - entry, n_packed, W)`` each)."""
        # batches of similar length waste less on padding; results go back in the rows' order
        order = sorted(range(len(rows)), key=lambda i: rows[i].embeds.shape[0])
        margins: list[float] = [0.0] * len(rows)
        captured: dict[str, list[Any]] = {k: [None] * len(rows) for k in capture}
        for lo in range(0, len(rows), self.batch_size):
            idx = order[lo : lo + self.batch_size]
            chunk = [rows[i] for i in idx]
            m, cap = self._batch([pairs[r.pair] for r in chunk], chunk, entry, capture)
            for j, i in enumerate(idx):
                margins[i] = m[j]
                for k in capture:
                    captured[k][i] = cap[k][j]
        return margins, captured

    def _batch(
        self, pairs: Sequence[PairPrompt], rows: Sequence[_Row], entry: int, capture: tuple[str, ...]
    ) -> tuple[list[float], dict[str, list[Any]]]:
        torch = self.torch
        packs = [p.packed() for p in pairs]
        lengths = [r.embeds.shape[0] for r in rows]
        s = max(lengths)
        width = rows[0].embeds.shape[1]
        dtype = next(self.model.module.parameters()).dtype
        x = torch.zeros((len(rows), s, width), dtype=torch.float32)
        segments = torch.full((len(rows), s), -1, dtype=torch.long)
        positions = torch.zeros((len(rows), s), dtype=torch.long)
        for b, (r, pk) in enumerate(zip(rows, packs, strict=True)):
            x[b, : lengths[b]] = r.embeds.cpu()
            segments[b, : lengths[b]] = torch.tensor(pk.segments)
            positions[b, : lengths[b]] = torch.tensor(pk.positions)
        # a token sees earlier tokens of the shared part and of its own segment (pads see pads)
        causal = torch.ones((s, s), dtype=torch.bool).tril()
        seen = (segments[:, None, :] == 0) | (segments[:, None, :] == segments[:, :, None])
        mask = torch.zeros((len(rows), 1, s, s), dtype=dtype).masked_fill_(
            ~(causal & seen)[:, None], torch.finfo(dtype).min
        )
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
                hidden = self.arch.body(
                    inputs_embeds=x.to(device=self.device, dtype=dtype),
                    attention_mask=mask.to(self.device),
                    position_ids=positions.to(self.device),
                    use_cache=False,
                    return_dict=True,
                ).last_hidden_state
                margins = self._score(hidden, packs)
        finally:
            for h in hooks:
                h.remove()
        captured: dict[str, list[Any]] = {}
        for kind in capture:
            stacked = torch.stack([store[(kind, block)] for block in range(entry, self.n_blocks)], 1)
            captured[kind] = [stacked[b, :, : lengths[b]].float().cpu() for b in range(len(rows))]
        return margins, captured

    def _score(self, hidden: Any, packs: Sequence[Packed]) -> list[float]:
        """``logp(true) − logp(false)`` of each packed row from the body's final (normed) states.

        Where both forms are scored from the same output (the shared last position, whose context is
        the same), the normaliser cancels: only the two tokens' logits are computed there. Every other
        scored output goes through the whole head for its log-normaliser."""
        torch = self.torch
        pair_rows: list[int] = []
        pair_at: list[int] = []
        pair_tok: list[tuple[int, int]] = []
        full_rows: list[int] = []
        full_at: list[int] = []
        full_tok: list[int] = []
        full_sign: list[float] = []
        for b, pk in enumerate(packs):
            t, f = list(pk.true), list(pk.false)
            if t and f and t[0][0] == f[0][0]:
                pair_rows.append(b)
                pair_at.append(t[0][0])
                pair_tok.append((t[0][1], f[0][1]))
                t, f = t[1:], f[1:]
            for scored, sign in ((t, 1.0), (f, -1.0)):
                for at, tok in scored:
                    full_rows.append(b)
                    full_at.append(at)
                    full_tok.append(tok)
                    full_sign.append(sign)
        sums = torch.zeros(len(packs), dtype=torch.float64)
        if pair_rows:
            h = hidden[torch.tensor(pair_rows), torch.tensor(pair_at)]
            toks = torch.tensor(pair_tok, device=h.device)
            logits = self.arch.token_logits(h, toks)
            sums.index_add_(0, torch.tensor(pair_rows), (logits[:, 0] - logits[:, 1]).double().cpu())
        if full_rows:
            logits = self.arch.logits(hidden[torch.tensor(full_rows), torch.tensor(full_at)])
            tok = torch.tensor(full_tok, device=logits.device)
            lp = (logits.gather(-1, tok[:, None])[:, 0] - torch.logsumexp(logits, dim=-1)).double().cpu()
            sums.index_add_(0, torch.tensor(full_rows), lp * torch.tensor(full_sign, dtype=torch.float64))
        return [float(v) for v in sums]

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
        row = _Row(0, self.embeds(probe.packed().ids))
        full, cap = self._batch([probe], [row], entry=0, capture=("out",))
        states = torch.cat([row.embeds[None], cap["out"][0]], 0)
        for entry in {1, self.n_blocks // 2, self.n_blocks}:
            part, _ = self._batch([probe], [_Row(0, states[entry])], entry=entry, capture=())
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
