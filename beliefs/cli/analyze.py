"""``beliefs analyze RUN``: run the statistical analyses on a run and print the headlines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from beliefs.cli._common import err_console, fmt_value, handle_errors
from beliefs.errors import StoreError
from beliefs.results.headline import Headline


def _open_run(path: Path) -> Any:
    from beliefs.store import open_run

    if not path.exists():
        raise StoreError(f"{path}: no such run directory")
    if not path.is_dir():
        raise StoreError(f"{path}: not a run directory (it is a file)")
    return open_run(path)


def analyze_command(
    run: Annotated[Path, typer.Argument(help="Run directory written by `beliefs probe` or `beliefs study`.")],
    permutations: Annotated[
        int, typer.Option(help="Fact-level permutations per test (observed counted); 1 to 100,000.")
    ] = 2000,
    seed: Annotated[
        int, typer.Option(help="Seed of permutations, folds and bootstraps; 0 to 2**32 − 1.")
    ] = 0,
    analyses: Annotated[
        list[str] | None,
        typer.Option("--analyses", help="Analyses to run (repeat the option); default: all registered."),
    ] = None,
) -> None:
    """Run the analyses on RUN; write RUN/results/<analysis>.csv and summary.json; print the headlines."""
    from rich.console import Console
    from rich.table import Table

    from beliefs.analyses import analyze
    from beliefs.analyses.runner import check_arguments
    from beliefs.cli.study import hingeness_lines, primary_lines, verdict_markup
    from beliefs.store.guard import check_output_dir

    with handle_errors():
        check_arguments(analyses, permutations, seed)
        data = _open_run(run)
        check_output_dir(run / "results", "results", "RUN/results")
        for source in data.changed_sources() if hasattr(data, "changed_sources") else []:
            err_console.print(
                f"warning: {source} changed since it was probed; the run holds the version probed "
                "(probe again into this run to update it)",
                style="yellow",
                highlight=False,
                soft_wrap=True,
            )
        summary = analyze(data, run / "results", analyses=analyses, permutations=permutations, seed=seed)
    for condition, why in summary.get("conditions_left_out", {}).items():
        err_console.print(f"condition '{condition}' left out: {why}", style="yellow", highlight=False)
    table = Table(title=f"beliefs analyze · {summary['n_facts']} facts · {permutations} permutations")
    numeric = ("estimate", "95% CI", "p", "p beyond surface", "p family", "n")
    columns = ("analysis", "model", "condition", "statistic", *numeric[:-1], "verdict", "n")
    for col in columns:
        table.add_column(col, justify="right" if col in numeric else "left")
    headlines: list[Headline] = summary["headlines"]
    for h in headlines:
        flag = " ⚠ surface" if h.get("surface_confound") else ""
        table.add_row(
            h["analysis"],
            h["model"],
            h["condition"] + (f" · {h['domain']}" if h.get("domain") else ""),
            h["statistic"] + flag + (" (primary)" if h.get("family") == "primary" else ""),
            fmt_value(h.get("estimate")),
            f"[{fmt_value(h.get('ci_low'))}, {fmt_value(h.get('ci_high'))}]",
            fmt_value(h.get("p_value")),
            fmt_value(h.get("p_beyond_surface")),
            fmt_value(h.get("p_family")),
            verdict_markup(h),
            str(h.get("n_facts", "")),
        )
    console = Console()
    console.print(table)
    for line in hingeness_lines(summary["headlines"]):
        console.print(line, highlight=False, markup=False)
    for line in primary_lines(headlines):
        console.print(line, highlight=False, markup=False)
    console.print(f"Verdicts: {summary['verdict_definition']}", highlight=False)
    if summary.get("verdict_families"):
        console.print(f"Families: {summary['verdict_families']}", highlight=False)
    console.print(f"Tables and summary.json written to {run / 'results'}")
