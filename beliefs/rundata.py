"""The contract between measurements and analyses.

Extraction writes a run (``beliefs.store``); analyses read it only through :class:`RunData`, so that
they can be tested on :class:`MemoryRun` and run on anything that gives the same views.

Rows of every array are aligned with :meth:`RunData.facts`: row ``i`` of ``states(...)`` is fact ``i``.
A fact that has no prompt in a condition (a ``context`` condition and a fact without that context) has
NaN in its row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
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


def redraw_kinds(facts: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Kinds re-drawn at random under the null that they carry no meaning, for calibrating the tests on
    real states (the stored states stay as they are; only the labels move).

    Each declared pair (both twins present in ``facts``, naming each other, of different kinds) keeps one
    hinge and one contingent twin: its kinds are swapped with probability 1/2, independently per pair.
    Every other fact's kind is permuted at random among the other unpaired facts of its fact set and
    domain, so every set × domain keeps its count of each kind. Pairs are drawn in row order of their first
    twin, then set × domain groups in sorted order: the same ``rng`` state gives the same kinds.
    Returns one kind per row of ``facts`` (an object array)."""
    kinds = facts["kind"].astype(str).to_numpy(dtype=object)
    ids = facts["fact_id"].astype(str).to_numpy()
    sets = facts["fact_set"].astype(str).to_numpy()
    pairs = facts["pair"].fillna("").astype(str).to_numpy() if "pair" in facts else np.full(len(facts), "")
    row = {(s, i): n for n, (s, i) in enumerate(zip(sets, ids, strict=True))}
    twins: list[tuple[int, int]] = []
    paired = np.zeros(len(facts), dtype=bool)
    for i in range(len(facts)):
        j = row.get((sets[i], pairs[i])) if pairs[i] else None
        if j is None or j == i or paired[i] or pairs[j] != ids[i] or kinds[i] == kinds[j]:
            continue
        twins.append((i, j))
        paired[i] = paired[j] = True
    out = kinds.copy()
    swap = rng.random(len(twins)) < 0.5
    for (i, j), s in zip(twins, swap, strict=True):
        if s:
            out[i], out[j] = kinds[j], kinds[i]
    domains = facts["domain"].astype(str).to_numpy()
    for key in sorted({(s, d) for s, d, p in zip(sets, domains, paired, strict=True) if not p}):
        rows = np.flatnonzero((sets == key[0]) & (domains == key[1]) & ~paired)
        out[rows] = kinds[rng.permutation(rows)]
    return out


class RelabelledRun:
    """A :class:`RunData` whose facts carry other kinds: the base run's states and margins as they are,
    ``kind`` replaced in :meth:`facts` and :meth:`margins` (and, optionally, only some of its models).

    Nothing is written anywhere: a stored run stays as it was. ``path`` and ``fact_set`` are the base
    run's (through a :class:`SubsetRun`), so analyses that read what is stored beside a run (its causal
    trace) still find it; ``facts_in`` is the base run's where it has one."""

    def __init__(
        self, run: RunData, kinds: Sequence[str] | np.ndarray, models: Sequence[str] | None = None
    ) -> None:
        self.base = run
        facts = run.facts()
        new = np.asarray(kinds, dtype=object)
        if new.shape != (len(facts),):
            raise ValueError(f"one kind per fact expected ({len(facts)}), but got shape {new.shape}")
        allowed = set(facts["kind"].astype(str))
        odd = sorted({str(k) for k in new} - allowed)
        if odd:
            raise ValueError(f"kinds should be among the run's ({', '.join(sorted(allowed))}), but got {odd}")
        self._facts = facts.copy()
        self._facts["kind"] = new.astype(str)
        known = [m.name for m in run.models()]
        unknown = [m for m in models or [] if m not in known]
        if unknown:
            raise KeyError(f"no model {', '.join(unknown)} in the run; models: {', '.join(known) or 'none'}")
        self._models = None if models is None else set(models)
        self._margins: pd.DataFrame | None = None
        self.fact_set: str | None = getattr(run, "fact_set", None)
        self.path = _path_of(run)
        found = getattr(run, "facts_in", None)
        self.facts_in: Callable[[str], list[bool]] | None = found if callable(found) else None

    def models(self) -> list[ModelInfo]:
        return [m for m in self.base.models() if self._models is None or m.name in self._models]

    def conditions(self) -> list[str]:
        return self.base.conditions()

    def facts(self) -> pd.DataFrame:
        return self._facts

    def states(self, model: str, condition: str, form: str, pooling: str = "last") -> np.ndarray:
        return self.base.states(model, condition, form, pooling)

    def margins(self) -> pd.DataFrame:
        if self._margins is None:
            m = self.base.margins()
            if self._models is not None and len(m):
                m = m[m["model"].isin(self._models)]
            m = m.reset_index(drop=True)
            if len(m):
                index = pd.MultiIndex.from_frame(self._facts[["fact_set", "fact_id"]].astype(str))
                kind = pd.Series(self._facts["kind"].to_numpy(), index=index)
                keys = pd.MultiIndex.from_frame(m[["fact_set", "fact_id"]].astype(str))
                m = m.assign(kind=kind.reindex(keys).to_numpy())
            self._margins = m
        return self._margins


def _path_of(run: object) -> Path | None:
    """The folder of a run, through the views (``base``) wrapped around it; None for a run in memory."""
    for _ in range(8):
        path = getattr(run, "path", None)
        if path is not None:
            return Path(path)
        run = getattr(run, "base", None)
        if run is None:
            return None
    return None
