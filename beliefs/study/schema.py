"""The study file (YAML, ``schema_version: 1``): what ``beliefs study`` runs."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from beliefs.schema import Slug


class TraceSettings(BaseModel):
    """Causal tracing of a study's causal LMs (``beliefs trace``), run after probing; see docs/statistics.md."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, use_attribute_docstrings=True)

    conditions: list[str] = Field(default_factory=lambda: ["empty"], min_length=1)
    """Conditions traced (names from the conditions file)."""
    noise_seeds: int = Field(default=2, ge=1, le=64)
    """Noise draws per fact (the same noise for its true and false form)."""
    window: int = Field(default=5, ge=1, le=64)
    """Layers of MLP/attention outputs restored around each centre layer."""
    stride: int = Field(default=5, ge=1, le=1024)
    """Spacing of the centre layers (the last layer is added)."""
    min_gap: float = Field(default=0.5, ge=0.0)
    """Smallest |clean − corrupted| margin (nats) traced; smaller is recorded as ``small-gap``."""
    batch_size: int = Field(default=32, ge=1, le=4096)
    """Packed rows (fact × restoration) per forward pass."""
    controls: bool = True
    """Trace the random-init control too (its facts are mostly ``small-gap``)."""


class Study(BaseModel):
    """A study: models × fact sets × conditions → analyses → report. Paths are relative to the file."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, use_attribute_docstrings=True)

    schema_version: Literal[1]
    """Format version; 1 is the only one so far."""
    name: Slug
    """Lower-case slug naming the study."""
    description: str | None = None
    """What the study asks."""
    models: list[str] = Field(min_length=1)
    """Models to probe: embedded names (smollm2-135m, minilm-l6, gemma3-270m), hub ids or local paths."""
    controls: list[Literal["random-init"]] = Field(
        default_factory=lambda: list[Literal["random-init"]](["random-init"])
    )
    """Controls measured beside each causal LM: ``random-init`` (same architecture, seeded random weights)."""
    fact_sets: list[str] = Field(min_length=1)
    """Fact-set files or folders."""
    conditions: str
    """The conditions file."""
    analyses: list[str] | None = None
    """Analyses to run (default: all registered, and ``elicitation``)."""
    permutations: int = Field(default=2000, ge=1, le=100_000)
    """Permutations of every permutation test."""
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    """Seed of permutations, bootstraps, splits and the random-init control."""
    store: str = "runs/default"
    """Folder of the activation store (large; not committed)."""
    results: str = "."
    """Folder the tables, figures and report are written to (committed for the project's own studies)."""
    batch_size: int = Field(default=32, ge=1, le=4096)
    """Statements per forward pass."""
    trace: TraceSettings | None = None
    """Causal tracing after probing (``trace: {}`` for the defaults); absent: not traced."""
    compare_with: str | None = None
    """Another study's results folder whose headlines the report compares with (replication)."""
