"""The registry of analyses: a dict and a decorator; a duplicate name raises."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from beliefs.analyses.context import AnalysisContext, Output


@dataclass(frozen=True)
class Analysis:
    """A registered analysis: computes result rows and headlines from an :class:`AnalysisContext`."""

    name: str
    func: Callable[[AnalysisContext], Output]
    description: str


ANALYSES: dict[str, Analysis] = {}


def register(
    name: str,
) -> Callable[[Callable[[AnalysisContext], Output]], Callable[[AnalysisContext], Output]]:
    """Register ``func`` under ``name``; a name already taken raises ``ValueError``."""

    def decorator(func: Callable[[AnalysisContext], Output]) -> Callable[[AnalysisContext], Output]:
        if name in ANALYSES:
            raise ValueError(f"analysis '{name}' is already registered")
        ANALYSES[name] = Analysis(
            name, func, (func.__doc__ or "").strip().splitlines()[0] if func.__doc__ else ""
        )
        return func

    return decorator
