"""The registry of model backends: a dict and a decorator; a duplicate name raises. (Embedded models
are registered in :mod:`beliefs.models.embedded` with :func:`add_unique`.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from beliefs.models.base import Backend

T = TypeVar("T")

BACKENDS: dict[str, Backend] = {}
"""Backend name (``hf``, ``st``) -> backend."""


def add_unique(table: dict[str, T], kind: str, name: str, item: T) -> T:
    """Add ``item`` to a registry ``table`` under ``name``; a name already there raises ValueError."""
    if name in table:
        raise ValueError(f"{kind} '{name}' is already registered")
    table[name] = item
    return item


def register_backend(name: str) -> Callable[[type[T]], type[T]]:
    """Class decorator: register an instance of the decorated backend class under ``name``."""

    def decorate(cls: type[T]) -> type[T]:
        instance: Any = cls()
        add_unique(BACKENDS, "backend", name, instance)
        return cls

    return decorate


def get_backend(name: str) -> Backend:
    """The backend called ``name``."""
    from beliefs.errors import ModelError

    try:
        return BACKENDS[name]
    except KeyError:
        raise ModelError(f"unknown backend '{name}'; known: {', '.join(sorted(BACKENDS))}") from None
