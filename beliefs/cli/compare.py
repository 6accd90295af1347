"""``beliefs compare A B``: do two results agree within a tolerance, and does any verdict change?"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from beliefs.cli._common import console, handle_errors
from beliefs.compare import ATOL, RTOL

SHOWN = 20


def compare_command(
    a: Annotated[Path, typer.Argument(help="Results folder, a study's results, or a run (A).")],
    b: Annotated[Path, typer.Argument(help="The same for B (compared against A).")],
    atol: Annotated[float, typer.Option(help="Absolute tolerance.", min=0.0)] = ATOL,
    rtol: Annotated[float, typer.Option(help="Relative tolerance (of B's value).", min=0.0)] = RTOL,
) -> None:
    """Compare every table figure and headline of A and B within |a − b| ≤ atol + rtol·|b|, and list
    every verdict that changes. Exit 0 when they agree, 1 when anything differs (as diff does)."""
    from beliefs.compare import compare_results

    with handle_errors():
        result = compare_results(a, b, atol=atol, rtol=rtol)
    console.print(
        f"compared {result.n_figures:,} figures ({len(result.tables)} tables and the headlines); "
        f"largest difference {result.max_abs:.3g}; tolerance {atol:g} + {rtol:g}·|B|",
        highlight=False,
        soft_wrap=True,
    )
    for line in result.missing:
        console.print(f"only one side: {line}", highlight=False, markup=False, soft_wrap=True)
    if result.differences:
        console.print(
            f"{len(result.differences):,} figures differ beyond the tolerance:",
            highlight=False,
            soft_wrap=True,
        )
        for d in sorted(result.differences, key=lambda d: -d.delta)[:SHOWN]:
            console.print(f"  {d}", highlight=False, markup=False, soft_wrap=True)
        if len(result.differences) > SHOWN:
            console.print(
                f"  … and {len(result.differences) - SHOWN:,} more", highlight=False, soft_wrap=True
            )
    if result.verdicts:
        console.print(
            f"{len(result.verdicts)} verdict(s) change:", style="bold", highlight=False, soft_wrap=True
        )
        for line in result.verdicts:
            console.print(f"  {line}", highlight=False, markup=False, soft_wrap=True)
    else:
        console.print("no verdict changes", highlight=False, soft_wrap=True)
    if result.agrees:
        console.print("A and B agree within the tolerance", style="green", highlight=False, soft_wrap=True)
    raise typer.Exit(0 if result.agrees else 1)
