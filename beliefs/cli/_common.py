"""What every command shares: consoles, and turning library errors into messages and exit codes."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from beliefs.errors import BeliefsError, InvalidInputError, Problem
from beliefs.results.formats import fmt_number

console = Console()
err_console = Console(stderr=True)


def print_problems(problems: list[Problem]) -> None:
    """Errors in red, warnings in yellow, one per line, on stderr."""
    for p in problems:
        style = "yellow" if p.severity == "warning" else "red"
        err_console.print(str(p), style=style, markup=False, highlight=False, soft_wrap=True)


def report_error(exc: BaseException) -> int | None:
    """Print a user error as one message on stderr and return its exit code (1 bad input, 2 usage);
    None if ``exc`` is not a user error (a bug). An :class:`OSError` on a named file (unwritable, a file
    where a folder is needed, a full disk) is the user's environment, so exit 1 naming the file."""
    if isinstance(exc, InvalidInputError):
        print_problems(exc.problems)
        n = sum(1 for p in exc.problems if p.severity == "error")
        err_console.print(f"{n} error{'s' if n != 1 else ''}.", style="bold red", highlight=False)
        return exc.exit_code
    if isinstance(exc, BeliefsError):
        message = f"error: {exc}"
    elif isinstance(exc, OSError) and (exc.filename is not None or exc.strerror):
        where = f"{exc.filename}: " if exc.filename is not None else ""
        message = f"error: {where}{exc.strerror or exc}"
    elif isinstance(exc, BrokenProcessPool):
        message = (
            "error: an analysis worker process was killed before it finished, most likely for memory (the "
            "system's out-of-memory killer); rerun with BELIEFS_ANALYZE_PROCESSES=1 (one worker, one copy of "
            "the states), with fewer facts or models, or on a machine with more memory"
        )
    else:
        return None
    err_console.print(message, style="red", markup=False, highlight=False, soft_wrap=True)
    return exc.exit_code if isinstance(exc, BeliefsError) else 1


@contextmanager
def handle_errors() -> Iterator[None]:
    """Print a user error as a message and exit with its code (1 input, 2 usage). ``main()`` does the
    same for every command; this keeps the behaviour when a command is invoked without it (tests)."""
    try:
        yield
    except (BeliefsError, OSError, BrokenProcessPool) as exc:
        code = report_error(exc)
        if code is None:
            raise
        raise typer.Exit(code) from None


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
    return fmt_number(value, f".{digits}f", small_spec=f".{digits}g")
