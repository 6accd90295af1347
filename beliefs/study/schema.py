"""The study file (YAML, ``schema_version: 1``): what ``beliefs study`` runs."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from beliefs.schema import Slug


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
    compare_with: str | None = None
    """Another study's results folder whose headlines the report compares with (replication)."""
