"""The ``beliefs`` command line: a thin layer over the library."""

from __future__ import annotations

import os
import sys

import typer

from beliefs.cli import facts, intervene, models
from beliefs.cli._common import handle_errors, report_error
from beliefs.cli.analyze import analyze_command
from beliefs.cli.compare import compare_command
from beliefs.cli.elicit import elicit_command
from beliefs.cli.probe import probe_command
from beliefs.cli.study import report, study
from beliefs.cli.trace import trace_command

app = typer.Typer(
    name="beliefs",
    help="What does a language model believe, and how are those beliefs encoded? "
    "Author fact sets, probe models under prompt conditions, and test hinge vs contingent beliefs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(facts.app, name="facts")
app.add_typer(models.app, name="models")
app.add_typer(intervene.app, name="intervene")
app.command("probe")(probe_command)
app.command("analyze")(analyze_command)
app.command("elicit")(elicit_command)
app.command("study")(study)
app.command("trace")(trace_command)
app.command("report")(report)
app.command("compare")(compare_command)


def _print_version(value: bool) -> None:
    if value:
        from beliefs import __version__

        typer.echo(f"beliefs {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", is_eager=True, callback=_print_version
    ),
) -> None:
    """Check every BELIEFS_ environment variable before any command runs (a usage error names it)."""
    from beliefs.settings import settings

    with handle_errors():
        settings()


def _debug() -> bool:
    """BELIEFS_DEBUG, read leniently here: an invalid value was already reported as a usage error."""
    from beliefs.settings import settings

    try:
        return settings().debug
    except Exception:
        return bool(os.environ.get("BELIEFS_DEBUG"))


INTERRUPTED = 130
"""Exit code after Ctrl-C (typer turns KeyboardInterrupt into it)."""


def main() -> None:
    """Console-script entry point and the one error boundary of every command: a user error is one line
    and exit 1 (bad input) or 2 (usage); Ctrl-C says how to resume (130); anything else is a bug, shown
    without a traceback unless BELIEFS_DEBUG=1 (exit 3)."""
    try:
        app()
    except SystemExit as exc:
        if exc.code == INTERRUPTED:
            typer.echo("interrupted; rerun the same command to resume.", err=True)
        raise
    except KeyboardInterrupt:
        typer.echo("interrupted; rerun the same command to resume.", err=True)
        sys.exit(INTERRUPTED)
    except Exception as exc:
        code = report_error(exc)
        if code is not None:
            sys.exit(code)
        if _debug():
            raise
        typer.echo(
            f"internal error: {type(exc).__name__}: {exc}\n(set BELIEFS_DEBUG=1 for a traceback and please report it)",
            err=True,
        )
        sys.exit(3)


__all__ = ["app", "main"]
