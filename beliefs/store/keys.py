"""Content-hash keys: they hash everything that changes a stored value and nothing else."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from beliefs.rundata import POOLINGS

FORMAT_VERSION = 1
"""Version of the stored entries; part of every key."""


def _digest(payload: Any, n: int = 32) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def model_key(identity: dict[str, Any], start_ids: list[int], layers: list[int]) -> str:
    """The model's weights (hash or revision), control and seed, dtype, start token and layers kept."""
    return _digest({"format": FORMAT_VERSION, "model": identity, "start": start_ids, "layers": layers})


def entry_key(model: str, before: str, statement: str, separator: str) -> str:
    """One (model, condition text, statement) measurement, both poolings; not batch size or order."""
    return _digest(
        {
            "format": FORMAT_VERSION,
            "model": model,
            "before": before,
            "statement": statement,
            "separator": separator,
            "poolings": list(POOLINGS),
        }
    )
