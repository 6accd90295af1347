"""The registry of analyses: each analysis registers itself, with everything the rest of the package
needs to know about it, in its own module; a duplicate name raises.

``register(name, question=…, cost=…, controls=…, curve=…, section=…)`` puts in one place what the CLI (the
question printed above its table), the runner (its cost, for spreading the work over processes; the
baselines attached beside its headlines) and the report (its per-layer figure and its own section) read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from beliefs.results.document import Block

if TYPE_CHECKING:
    import pandas as pd

    from beliefs.analyses.context import AnalysisContext, Output
    from beliefs.results.headline import Headline
    from beliefs.rundata import RunData

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
class SectionContext:
    """What the report gives an analysis's ``section``: the run, the result tables, the analysis's headlines
    and where to draw figures. The section returns its blocks (:mod:`beliefs.results.document`), ``[]``
    for none; the report puts them after the per-layer curves, in registration order."""

    analysis: Analysis
    run: RunData
    tables: Mapping[str, pd.DataFrame]
    """Every table of the results folder by file stem (``kind-probe``, ``hingeness_facts``, …)."""
    headlines: list[Headline]
    """The summary's headlines of this analysis (controls included)."""
    fig_dir: Path
    """The report's figure folder (a figure's file name should start with the analysis's name)."""
    headline_table: Callable[[list[Headline]], pd.DataFrame]
    """Headlines as the report's verdict table renders them (estimate, interval, the three p, verdict)."""

    @property
    def table(self) -> pd.DataFrame | None:
        """The analysis's own table (``<name>.csv``), None where it was not run."""
        return self.tables.get(self.analysis.name)


Section = Callable[["SectionContext"], list[Block]]
"""An analysis's report section: blocks from a :class:`SectionContext`."""


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
    section: Section | None = None
    """Its own section of the report, if any."""


ANALYSES: dict[str, Analysis] = {}


def register(
    name: str,
    *,
    question: str | None = None,
    cost: float = DEFAULT_COST,
    controls: tuple[str, ...] = (),
    curve: Curve | None = None,
    section: Section | None = None,
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
        ANALYSES[name] = Analysis(name, func, description, question, cost, tuple(controls), curve, section)
        return func

    return decorator


def with_control(control: str) -> list[str]:
    """Names of the analyses that asked for ``control`` beside their headlines, in registration order."""
    return [a.name for a in ANALYSES.values() if control in a.controls]
