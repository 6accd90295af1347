"""Tokenizers and embeddings for ``facts stats`` (loaded lazily: this pulls in transformers)."""

from __future__ import annotations

from typing import Any

import numpy as np

from beliefs.errors import ModelError


def load_tokenizer(name: str) -> Any:
    """The tokenizer of an embedded model (``smollm2-135m``…), a hub id or a local folder."""
    from beliefs.models import get_tokenizer

    try:
        return get_tokenizer(name)
    except KeyError:
        pass  # not an embedded name: a hub id or a local folder
    from transformers import AutoTokenizer

    try:
        # never the model folder's own code, and never a [y/N] question on stdin
        return AutoTokenizer.from_pretrained(name, trust_remote_code=False)
    except Exception as exc:
        raise ModelError(f"cannot load a tokenizer for {name!r}: {exc}") from None


def embed_texts(texts: list[str]) -> np.ndarray:
    """Embeddings of ``texts`` with the embedded sentence-transformers model (minilm-l6)."""
    from beliefs.models import load_sentence_encoder

    model = load_sentence_encoder("minilm-l6")
    return np.asarray(model.encode(texts, batch_size=64, convert_to_numpy=True, show_progress_bar=False))
