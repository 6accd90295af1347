"""The registry of analyses: each analysis registers itself, with everything the rest of the package
needs to know about it, in its own module; a duplicate name raises.

``register(name, question=…, cost=…, controls=…, curve=…)`` puts in one place what the CLI (the question
printed above its table), the runner (its cost, for spreading the work over processes; the baselines
attached beside its headlines) and the report (its per-layer figure) read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from beliefs.analyses.context import AnalysisContext, Output

DEFAULT_COST = 0.2
"""Relative cost of an analysis that declares none."""
CONTROLS = ("surface",)
"""Baselines an analysis may ask to have beside its headlines: ``surface`` (the surface-feature probe's
estimate, p-value and whether it is significant: ``surface_estimate``, ``surface_p_value``,
``surface_confound``). The random-init control is put beside every analysis's headlines."""


@dataclass(frozen=True)
class Curve:
    """The per-layer figure of an analysis: which statistic and subset of its table, and the y label."""

    statistic: str
    subset: str
    label: str


@dataclass(frozen=True)
class Analysis:
    """A registered analysis: computes result rows and headlines from an :class:`AnalysisContext`."""

    name: str
    func: Callable[[AnalysisContext], Output]
    description: str
    question: str | None = None
    """The hypothesis it tests, in one line (the title of its table in ``beliefs study``); None: not
    printed there."""
    cost: float = DEFAULT_COST
    """Relative cost per layer × width of a model (seconds on the default run)."""
    controls: tuple[str, ...] = ()
    """Baselines put beside its headlines (see :data:`CONTROLS`)."""
    curve: Curve | None = None
    """Its per-layer figure in the report, if any."""


ANALYSES: dict[str, Analysis] = {}


def register(
    name: str,
    *,
    question: str | None = None,
    cost: float = DEFAULT_COST,
    controls: tuple[str, ...] = (),
    curve: Curve | None = None,
) -> Callable[[Callable[[AnalysisContext], Output]], Callable[[AnalysisContext], Output]]:
    """Register ``func`` under ``name`` with its metadata; a name already taken or an unknown control
    raises ``ValueError``."""
    unknown = sorted(set(controls) - set(CONTROLS))
    if unknown:
        raise ValueError(f"analysis '{name}': unknown controls {unknown}; known: {list(CONTROLS)}")

    def decorator(func: Callable[[AnalysisContext], Output]) -> Callable[[AnalysisContext], Output]:
        if name in ANALYSES:
            raise ValueError(f"analysis '{name}' is already registered")
        description = (func.__doc__ or "").strip().splitlines()[0] if func.__doc__ else ""
        ANALYSES[name] = Analysis(name, func, description, question, cost, tuple(controls), curve)
        return func

    return decorator


def with_control(control: str) -> list[str]:
    """Names of the analyses that asked for ``control`` beside their headlines, in registration order."""
    return [a.name for a in ANALYSES.values() if control in a.controls]
