"""beliefs: what a language model believes, and how those beliefs are encoded.

A notebook needs ``import beliefs`` only::

    import beliefs
    core = beliefs.load_fact_set("fact_sets/core.yaml")
"""

from typing import TYPE_CHECKING, Any

from beliefs.errors import BeliefsError, InvalidInputError, Problem
from beliefs.facts import LoadedConditions, LoadedFactSet, load_conditions, load_fact_set, load_paths
from beliefs.schema import Condition, ConditionsFile, Fact, FactSet

if TYPE_CHECKING:  # the heavy parts load on first use (PEP 562), so the CLI starts fast
    from beliefs.analyses import analyze
    from beliefs.extract import probe
    from beliefs.rundata import MemoryRun, ModelInfo, RunData
    from beliefs.store import open_run

_LAZY = {
    "probe": "beliefs.extract",
    "analyze": "beliefs.analyses",
    "open_run": "beliefs.store",
    "MemoryRun": "beliefs.rundata",
    "ModelInfo": "beliefs.rundata",
    "RunData": "beliefs.rundata",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'beliefs' has no attribute {name!r}")


__version__ = "0.1.0"

__all__ = [
    "BeliefsError",
    "Condition",
    "ConditionsFile",
    "Fact",
    "FactSet",
    "InvalidInputError",
    "LoadedConditions",
    "LoadedFactSet",
    "MemoryRun",
    "ModelInfo",
    "Problem",
    "RunData",
    "__version__",
    "analyze",
    "load_conditions",
    "load_fact_set",
    "load_paths",
    "open_run",
    "probe",
]
