"""What every backend gives the extractor: a loaded model, its tokenizer and what identifies its weights."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from beliefs.errors import ModelError, UsageError

DTYPES = ("float32", "bfloat16", "float16")
DEVICES = ("auto", "cpu", "cuda", "mps")
CONTROLS = ("random-init",)
DEFAULT_SEED = 0
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class LoadOptions:
    """How to load a model. Pure values: nothing is touched until a backend loads."""

    device: str = "auto"
    dtype: str = "float32"
    device_map: str | None = None
    """``auto`` spreads a model too large for one device over several (accelerate)."""
    trust_remote_code: bool = False
    control: str | None = None
    """``random-init``: the same architecture with seeded random weights."""
    seed: int = DEFAULT_SEED
    weights: bool = True
    """False: a backend that can loads the tokenizer and configuration only (``module`` is None), for
    a caller that may find everything already measured (``probe`` on a complete store). Backends that
    cannot load the model anyway."""

    def __post_init__(self) -> None:
        if not 0 <= self.seed <= MAX_SEED:
            raise UsageError(f"seed should be between 0 and 2**32 − 1, but got {self.seed}")
        if self.dtype not in DTYPES:
            raise UsageError(f"dtype should be one of {', '.join(DTYPES)}, but got '{self.dtype}'")
        if self.device not in DEVICES and not self.device.startswith("cuda:"):
            raise UsageError(f"device should be one of {', '.join(DEVICES)}, but got '{self.device}'")
        if self.control is not None and self.control not in CONTROLS:
            raise UsageError(f"control should be one of {', '.join(CONTROLS)}, but got '{self.control}'")
        if self.device_map not in (None, "auto"):
            raise UsageError(f"device_map should be 'auto' or absent, but got '{self.device_map}'")


@dataclass
class LoadedModel:
    """A model ready for extraction."""

    name: str
    """Name in tables: ``smollm2-135m``, ``smollm2-135m@random-init``, or the id/path given."""
    backend: str
    """``hf`` (causal LM: states and log-probs) or ``st`` (encoder: states only)."""
    module: Any
    """The torch module: a ``*ForCausalLM`` for ``hf``, the transformer encoder for ``st``; None if loaded
    with ``LoadOptions(weights=False)``."""
    tokenizer: Any
    """A fast (Rust) Hugging Face tokenizer: offsets are needed to locate statements."""
    n_layers: int
    """Hidden-state layers including the embedding output."""
    width: int
    identity: dict[str, Any]
    """Everything that changes the model's outputs (weights hash or revision, control, seed, dtype)."""
    device: str
    dtype: str
    control: str | None = None
    base: str | None = None
    max_positions: int | None = None
    info: dict[str, Any] = field(default_factory=dict)
    """Provenance for the manifest (source path, file sha256, package version...)."""

    @property
    def causal(self) -> bool:
        return self.backend == "hf"


class Backend(Protocol):
    """Loads models of one family."""

    name: str

    def load(self, source: str, name: str, options: LoadOptions) -> LoadedModel:
        """Load ``source`` (an id or path) under the table name ``name``."""
        ...


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` if available, else ``mps``, else ``cpu``; checks an explicit choice exists."""
    import torch

    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelError(f"device '{device}' was asked for, but CUDA is not available here")
    if device == "mps" and not torch.backends.mps.is_available():
        raise ModelError("device 'mps' was asked for, but MPS is not available here")
    return device


def torch_dtype(dtype: str) -> Any:
    import torch

    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]


def control_name(name: str, control: str | None) -> str:
    """The table name of a model or of its control."""
    return f"{name}@{control}" if control else name
