"""Registries of model backends and embedded models: a dict and a decorator; a duplicate name raises."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from beliefs.models.base import Backend
    from beliefs.models.embedded import EmbeddedModel

T = TypeVar("T")

BACKENDS: dict[str, Backend] = {}
"""Backend name (``hf``, ``st``) -> backend."""
EMBEDDED: dict[str, EmbeddedModel] = {}
"""Embedded model name (``smollm2-135m``) -> how to find and prepare it."""


def _register(table: dict[str, T], kind: str, name: str, item: T) -> T:
    if name in table:
        raise ValueError(f"{kind} '{name}' is already registered")
    table[name] = item
    return item


def register_backend(name: str) -> Callable[[type[T]], type[T]]:
    """Class decorator: register an instance of the decorated backend class under ``name``."""

    def decorate(cls: type[T]) -> type[T]:
        instance: Any = cls()
        _register(BACKENDS, "backend", name, instance)
        return cls

    return decorate


def register_embedded(model: EmbeddedModel) -> EmbeddedModel:
    """Register an embedded model under its ``name``."""
    return _register(EMBEDDED, "embedded model", model.name, model)


def get_backend(name: str) -> Backend:
    """The backend called ``name``."""
    from beliefs.errors import ModelError

    try:
        return BACKENDS[name]
    except KeyError:
        raise ModelError(f"unknown backend '{name}'; known: {', '.join(sorted(BACKENDS))}") from None
