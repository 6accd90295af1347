"""The errors beliefs raises. The CLI turns each into a message and an exit code in one place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file: where it is, and what is wrong."""

    path: Path
    message: str
    line: int | None = None
    """1-based line, where known."""
    column: int | None = None
    """1-based column, where known."""
    fact_id: str | None = None
    field: str | None = None
    severity: str = "error"
    """``error`` or ``warning``."""
    subject: str = "fact"
    """What ``fact_id`` names: ``fact``, or ``condition`` in a conditions file."""

    def __str__(self) -> str:
        where = str(self.path)
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        parts = [where]
        if self.fact_id:
            parts.append(f"{self.subject} '{self.fact_id}'")
        if self.field:
            parts.append(f"field '{self.field}'")
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{', '.join(parts)}: {prefix}{self.message}"


class BeliefsError(Exception):
    """Base class of every error beliefs raises on purpose. Exit code 1 at the CLI."""

    exit_code = 1


class UsageError(BeliefsError):
    """The command was called wrongly (missing or contradictory arguments). Exit code 2."""

    exit_code = 2


class InvalidInputError(BeliefsError):
    """An input file is malformed. Carries every problem found in it."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        n = sum(1 for p in problems if p.severity == "error")
        lines = "\n".join(str(p) for p in problems)
        super().__init__(f"{n} problem{'s' if n != 1 else ''} found:\n{lines}")


class ModelError(BeliefsError):
    """A model cannot be found, downloaded, verified or loaded."""


class StoreError(BeliefsError):
    """An activation store or run directory is missing, incomplete or incompatible."""
