"""What every command shares: consoles, and turning library errors into messages and exit codes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from beliefs.errors import BeliefsError, InvalidInputError, Problem

console = Console()
err_console = Console(stderr=True)


def print_problems(problems: list[Problem]) -> None:
    """Errors in red, warnings in yellow, one per line, on stderr."""
    for p in problems:
        style = "yellow" if p.severity == "warning" else "red"
        err_console.print(str(p), style=style, markup=False, highlight=False, soft_wrap=True)


@contextmanager
def handle_errors() -> Iterator[None]:
    """Print a :class:`BeliefsError` as a message and exit with its code (1 input, 2 usage)."""
    try:
        yield
    except InvalidInputError as exc:
        print_problems(exc.problems)
        n = sum(1 for p in exc.problems if p.severity == "error")
        err_console.print(f"{n} error{'s' if n != 1 else ''}.", style="bold red", highlight=False)
        raise typer.Exit(exc.exit_code) from None
    except BeliefsError as exc:
        err_console.print(f"error: {exc}", style="red", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None


def progress_bar() -> Progress:
    """The bar every long command draws on stderr: description, bar, done/total, a rate field, ETA."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    )


def fmt_value(value: Any, digits: int = 3) -> str:
    """A figure for a terminal table: "–" for a missing one, small values in significant digits."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e-3 and value != 0 else f"{value:.{digits}f}"
    return str(value)
