"""``beliefs study``: the main job on a study file (by default the embedded core study)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from beliefs.cli._common import console, err_console, handle_errors, print_problems

DEFAULT_FACTS = Path("fact_sets")


def study(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="Study file (YAML). Default: the core fact sets in fact_sets/ on the embedded models."
        ),
    ] = None,
) -> None:
    """Run the main job: fact sets → probe → analyze → report.

    Extraction and statistics are not wired into the study yet: for now this validates the fact sets and
    conditions and prints their balance (the same as `beliefs facts validate` and `beliefs facts stats`).
    """
    from beliefs.facts import load_paths
    from beliefs.facts.stats import compute_stats

    with handle_errors():
        paths = [file] if file is not None else [DEFAULT_FACTS]
        found = load_paths(paths)
        print_problems(found.problems)
        if found.errors:
            raise typer.Exit(1)
        result = compute_stats(found.fact_sets)
    console.print(
        f"[bold]beliefs study[/bold]: {len(found.fact_sets)} fact set(s), {result.n_facts} facts, "
        f"{sum(len(c.conditions) for c in found.conditions)} conditions — valid."
    )
    for c in result.cells:
        console.print(
            f"  {c.domain:9} {c.kind:10} {c.n_facts:4d} facts, {c.n_support} support / {c.n_contradict} contradict "
            f"contexts, {c.words_mean:.1f} ± {c.words_sd:.1f} words",
            highlight=False,
        )
    for w in result.warnings:
        err_console.print(f"warning: {w}", style="yellow")
    console.print(
        "Extraction, analyses and the report are not part of `study` yet (see the README's status section)."
    )
