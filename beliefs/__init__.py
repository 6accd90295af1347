"""beliefs: what a language model believes, and how those beliefs are encoded.

A notebook needs ``import beliefs`` only::

    import beliefs
    core = beliefs.load_fact_set("fact_sets/core.yaml")
"""

from beliefs.errors import BeliefsError, InvalidInputError, Problem
from beliefs.facts import LoadedConditions, LoadedFactSet, load_conditions, load_fact_set, load_paths
from beliefs.schema import Condition, ConditionsFile, Fact, FactSet

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
    "Problem",
    "__version__",
    "load_conditions",
    "load_fact_set",
    "load_paths",
]
