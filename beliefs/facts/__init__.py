"""Fact sets: loading, validation, statistics, authoring, import and export."""

from beliefs.facts.loader import (
    Collection,
    LoadedConditions,
    LoadedFactSet,
    expand_paths,
    load_conditions,
    load_fact_set,
    load_paths,
)

__all__ = [
    "Collection",
    "LoadedConditions",
    "LoadedFactSet",
    "expand_paths",
    "load_conditions",
    "load_fact_set",
    "load_paths",
]
