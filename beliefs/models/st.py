"""The ``st`` backend: sentence-transformers encoders; hidden states of every layer, no log-probs."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from beliefs.errors import ModelError
from beliefs.models.base import LoadedModel, LoadOptions, resolve_device, torch_dtype
from beliefs.models.hf import _folder_identity
from beliefs.models.registry import register_backend


@register_backend("st")
class STBackend:
    """Sentence-transformers models: the transformer inside, every layer's hidden states."""

    name = "st"

    def load(self, source: str, name: str, options: LoadOptions) -> LoadedModel:
        import torch
        from transformers import AutoModel
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        logging.getLogger("sentence_transformers").setLevel(logging.ERROR)
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise ModelError(f"the st backend needs sentence-transformers: {exc}") from exc
        device = resolve_device(options.device)
        path = Path(source).expanduser()
        local = path.is_dir()
        try:
            st = SentenceTransformer(
                str(path) if local else source,
                device="cpu",
                trust_remote_code=options.trust_remote_code,
                local_files_only=local,
            )
        except Exception as exc:
            from beliefs.models.hf import _pickle_refusal, refused_pickle

            if _pickle_refusal(exc):
                raise refused_pickle(source) from exc
            if isinstance(exc, OSError | ValueError | KeyError | RuntimeError):
                raise ModelError(f"cannot load sentence-transformers model '{source}': {exc}") from exc
            raise
        first = st[0]
        encoder = getattr(first, "auto_model", None)
        tokenizer = getattr(first, "tokenizer", None) or getattr(st, "tokenizer", None)
        if encoder is None or tokenizer is None:
            raise ModelError(
                f"'{source}': its first module has no transformer and tokenizer to read states from"
            )
        if not getattr(tokenizer, "is_fast", False):
            raise ModelError(f"'{source}': beliefs needs a fast tokenizer (token offsets), got a slow one")
        identity: dict[str, Any] = _folder_identity(path) if local else {"hub_id": source}
        if options.control == "random-init":
            torch.manual_seed(options.seed)
            encoder = AutoModel.from_config(encoder.config, trust_remote_code=options.trust_remote_code)
            identity["seed"] = options.seed
        encoder.to(device=device, dtype=torch_dtype(options.dtype))
        encoder.eval()
        config = encoder.config
        identity.update(dtype=options.dtype, control=options.control)
        return LoadedModel(
            name=name,
            backend="st",
            module=encoder,
            tokenizer=tokenizer,
            n_layers=int(config.num_hidden_layers) + 1,
            width=int(config.hidden_size),
            identity=identity,
            device=device,
            dtype=options.dtype,
            control=options.control,
            max_positions=getattr(config, "max_position_embeddings", None),
            info={"source": source, "architecture": type(encoder).__name__},
        )
