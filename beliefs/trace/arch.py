"""Where a causal LM's hook points are: its blocks, their attention and MLP, the embedding and the head.

Two families are known: Llama/Gemma/Qwen-style (``module.model.layers[i].self_attn`` / ``.mlp``) and
GPT-2-style (``module.transformer.h[i].attn`` / ``.mlp``). Anything else raises a one-line
:class:`ModelError`. Whether a forward pass may *start* at a middle block (feeding a stored residual
state as ``inputs_embeds`` to the remaining blocks, which saves computing the blocks below a restored
layer) is not assumed from the family but checked numerically once per model (:func:`check_entry`):
GPT-2 adds position embeddings to ``inputs_embeds`` and Gemma 2 rescales them, so both fail the check
and run whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from beliefs.errors import ModelError


@dataclass
class Arch:
    """Hook points of one causal LM."""

    body: Any
    """The transformer without its head (``module.model``, ``module.transformer``)."""
    layers_attr: str
    """Name of the blocks' ``ModuleList`` on ``body``."""
    attn_attr: str
    mlp_attr: str
    embed: Any
    head: Any
    softcap: float | None
    """Gemma-style final logit soft-capping, applied like the model's own head does."""
    entry_ok: bool = False
    """True once :func:`check_entry` showed that a pass may start at any block."""

    @property
    def layers(self) -> Any:
        return getattr(self.body, self.layers_attr)

    @property
    def n_blocks(self) -> int:
        return len(self.layers)

    def block(self, b: int) -> Any:
        return self.layers[b]

    def attn(self, b: int) -> Any:
        return getattr(self.layers[b], self.attn_attr)

    def mlp(self, b: int) -> Any:
        return getattr(self.layers[b], self.mlp_attr)

    def logits(self, hidden: Any) -> Any:
        """Logits from final (normed) hidden states, as the model's own head computes them."""
        out = self.head(hidden).float()
        if self.softcap:
            import torch

            out = torch.tanh(out / self.softcap) * self.softcap
        return out

    def token_logits(self, hidden: Any, tokens: Any) -> Any:
        """The logits of chosen tokens only: ``hidden`` ``(n, W)``, ``tokens`` ``(n, k)`` → ``(n, k)``
        (equal to :meth:`logits` at those tokens, without computing the rest of the vocabulary)."""
        import torch

        weight = self.head.weight[tokens]
        out = torch.einsum("nw,nkw->nk", hidden, weight).float()
        bias = getattr(self.head, "bias", None)
        if bias is not None:
            out = out + bias[tokens].float()
        if self.softcap:
            out = torch.tanh(out / self.softcap) * self.softcap
        return out

    @contextmanager
    def starting_at(self, entry: int) -> Iterator[None]:
        """Run only blocks ``entry..`` while inside (the blocks are the same modules, so hooks stay)."""
        if entry == 0:
            yield
            return
        import torch

        full = self.layers
        # Gemma 3 picks each block's mask and rotary embedding by its index in ``config.layer_types``
        config: Any = getattr(self.body, "config", None)
        types = getattr(config, "layer_types", None)
        self.body._modules[self.layers_attr] = torch.nn.ModuleList(list(full)[entry:])
        if isinstance(types, list):
            config.layer_types = types[entry:]
        try:
            yield
        finally:
            self.body._modules[self.layers_attr] = full
            if isinstance(types, list):
                config.layer_types = types


def architecture(module: Any) -> Arch:
    """The hook points of ``module`` (a ``*ForCausalLM``), or a :class:`ModelError` naming what is missing."""
    config = module.config.get_text_config() if hasattr(module.config, "get_text_config") else module.config
    softcap = getattr(config, "final_logit_softcapping", None)
    body = getattr(module, "model", None)
    if body is not None and hasattr(body, "layers"):
        block = body.layers[0]
        if hasattr(block, "self_attn") and hasattr(block, "mlp"):
            return Arch(
                body, "layers", "self_attn", "mlp", module.get_input_embeddings(), module.lm_head, softcap
            )
    body = getattr(module, "transformer", None)
    if body is not None and hasattr(body, "h"):
        block = body.h[0]
        if hasattr(block, "attn") and hasattr(block, "mlp"):
            return Arch(body, "h", "attn", "mlp", module.get_input_embeddings(), module.lm_head, softcap)
    raise ModelError(
        f"causal tracing needs Llama-style (model.layers[i].self_attn/.mlp) or GPT-2-style "
        f"(transformer.h[i].attn/.mlp) blocks, but {type(module).__name__} has neither"
    )


def first(output: Any) -> Any:
    """The hidden-state tensor of a module's output (blocks and attention may return tuples)."""
    return output[0] if isinstance(output, tuple) else output
