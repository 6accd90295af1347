"""The contract between measurements and analyses.

Extraction writes a run (``beliefs.store``); analyses read it only through :class:`RunData`, so that
they can be tested on :class:`MemoryRun` and run on anything that gives the same views.

Rows of every array are aligned with :meth:`RunData.facts`: row ``i`` of ``states(...)`` is fact ``i``.
A fact that has no prompt in a condition (a ``context`` condition and a fact without that context) has
NaN in its row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

FACT_COLUMNS = (
    "fact_set",
    "fact_id",
    "domain",
    "kind",
    "statement",
    "false_statement",
    "template",
    "pair",
    "tags",
)
"""Columns of :meth:`RunData.facts`, in this order (more may follow). ``template`` (the fact's sentence
frame), ``pair`` (the id of its matched fact in the same set) and ``tags`` (joined by ``;``) are ``""``
where the fact has none, and in runs written before they existed."""
OPTIONAL_FACT_COLUMNS = ("template", "pair", "tags")
"""The :data:`FACT_COLUMNS` that a fact may lack; filled with ``""`` by :func:`complete_facts`."""
MARGIN_COLUMNS = (
    "model",
    "fact_set",
    "fact_id",
    "domain",
    "kind",
    "condition",
    "logp_true",
    "logp_false",
    "margin",
    "n_tokens_true",
    "n_tokens_false",
)
"""Columns of ``margins.csv`` and of :meth:`RunData.margins`."""
FORMS = ("true", "false")
POOLINGS = ("last", "mean")


def complete_facts(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with the :data:`OPTIONAL_FACT_COLUMNS` it lacks added as ``""`` (missing values too), and
    :data:`FACT_COLUMNS` first."""
    out = table.copy()
    for col in OPTIONAL_FACT_COLUMNS:
        out[col] = out[col].fillna("").astype(str) if col in out else ""
    rest = [c for c in out.columns if c not in FACT_COLUMNS]
    return out[[c for c in FACT_COLUMNS if c in out] + rest]


@dataclass(frozen=True)
class ModelInfo:
    """What analyses need to know about a model in a run."""

    name: str
    """The name used in tables (``smollm2-135m``, ``smollm2-135m@random-init``)."""
    backend: str
    """``hf`` (causal LM: states and log-probs) or ``st`` (encoder: states only)."""
    n_layers: int
    """Number of hidden-state layers including the embedding output (layer 0)."""
    width: int
    control: str | None = None
    """``random-init`` for the control model, else None."""
    base: str | None = None
    """For a control, the name of the model it controls for."""


@runtime_checkable
class RunData(Protocol):
    """Read-only view of a run's measurements."""

    def models(self) -> list[ModelInfo]:
        """Models measured in the run, controls included."""
        ...

    def conditions(self) -> list[str]:
        """Condition names, ``empty`` first."""
        ...

    def facts(self) -> pd.DataFrame:
        """One row per fact, columns :data:`FACT_COLUMNS` first; defines the row order of every array."""
        ...

    def states(self, model: str, condition: str, form: str, pooling: str = "last") -> np.ndarray:
        """Hidden states, shape ``(n_facts, n_layers, width)``, float32; NaN rows where absent."""
        ...

    def margins(self) -> pd.DataFrame:
        """Log-probabilities and margins, columns :data:`MARGIN_COLUMNS`; causal LMs only."""
        ...


@dataclass
class MemoryRun:
    """A :class:`RunData` held in memory: for tests, notebooks and synthetic data."""

    model_infos: list[ModelInfo]
    condition_names: list[str]
    fact_table: pd.DataFrame
    arrays: dict[tuple[str, str, str, str], np.ndarray] = field(default_factory=dict)
    """``(model, condition, form, pooling) -> (n_facts, n_layers, width)``."""
    margin_table: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(MARGIN_COLUMNS)))

    def models(self) -> list[ModelInfo]:
        return list(self.model_infos)

    def conditions(self) -> list[str]:
        return list(self.condition_names)

    def __post_init__(self) -> None:
        self.fact_table = complete_facts(self.fact_table)

    def facts(self) -> pd.DataFrame:
        return self.fact_table

    def states(self, model: str, condition: str, form: str, pooling: str = "last") -> np.ndarray:
        try:
            return self.arrays[(model, condition, form, pooling)]
        except KeyError:
            raise KeyError(
                f"no states for model={model} condition={condition} form={form} pooling={pooling}"
            ) from None

    def margins(self) -> pd.DataFrame:
        return self.margin_table


class SubsetRun:
    """The facts of one fact set (or any row mask) of a run, as a :class:`RunData` of their own.

    Analyses see only the chosen facts, so a study can analyse each of its fact sets on its own (a
    matched set and a broad set answer different questions and are not pooled).
    """

    def __init__(self, run: RunData, fact_set: str) -> None:
        self.base = run
        self.fact_set = fact_set
        facts = run.facts()
        self._mask = (facts["fact_set"] == fact_set).to_numpy()
        if not self._mask.any():
            known = ", ".join(sorted(set(facts["fact_set"]))) or "none"
            raise KeyError(f"no facts of set '{fact_set}' in the run; sets: {known}")
        self._facts = facts[self._mask].reset_index(drop=True)

    @property
    def manifest(self) -> dict[str, object]:
        """The base run's manifest (when it has one), with only this fact set listed."""
        manifest = getattr(self.base, "manifest", None)
        if not isinstance(manifest, dict):
            return {}
        sets = manifest.get("fact_sets")
        out = dict(manifest)
        if isinstance(sets, dict):
            out["fact_sets"] = {k: v for k, v in sets.items() if k == self.fact_set}
        return out

    def models(self) -> list[ModelInfo]:
        return self.base.models()

    def conditions(self) -> list[str]:
        return self.base.conditions()

    def facts(self) -> pd.DataFrame:
        return self._facts

    def states(self, model: str, condition: str, form: str, pooling: str = "last") -> np.ndarray:
        return self.base.states(model, condition, form, pooling)[self._mask]

    def margins(self) -> pd.DataFrame:
        m = self.base.margins()
        return m[m["fact_set"] == self.fact_set].reset_index(drop=True) if len(m) else m
