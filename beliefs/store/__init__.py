"""The activation store: run directories with a manifest, safetensors entries and ``margins.csv``."""

from __future__ import annotations

from beliefs.store.keys import FORMAT_VERSION, entry_key, model_key
from beliefs.store.run import MANIFEST, MARGINS, SCHEMA_VERSION, Run, open_run

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST",
    "MARGINS",
    "SCHEMA_VERSION",
    "Run",
    "entry_key",
    "model_key",
    "open_run",
]
