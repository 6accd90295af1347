"""``beliefs intervene ripple``: what else moves when a fact's contradicting passage is read."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from beliefs.cli._common import console, handle_errors, progress_bar

app = typer.Typer(
    help="Interventions on a causal LM: the ripple of contradicting passages.", no_args_is_help=True
)


@app.command("ripple")
def ripple_command(
    sources: Annotated[
        list[Path],
        typer.Argument(help="A run directory (its fact sets), or fact-set files with 'contradict' passages."),
    ],
    model: Annotated[str, typer.Option("--model", "-m", help="A causal LM (embedded name, hub id or path).")],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output folder; default RUN/intervene/ for a run directory."),
    ] = None,
    same_cap: Annotated[
        int, typer.Option(help="At most this many facts of A's template (or domain) read under A's passage.")
    ] = 5,
    random_k: Annotated[
        int, typer.Option("--random", help="A fixed seeded sample of this many other facts read under it.")
    ] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the template and random samples.")] = 0,
    limit: Annotated[
        int | None, typer.Option(help="Only the first N facts A (every fact stays a candidate B).")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Statements per forward pass after a cached passage.")] = 32,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or mps.")] = "auto",
) -> None:
    """Read other facts' margins with each fact's contradicting passage as prefix, against a neutral
    passage of the same length, and write per-pair and per-fact spillover (ripple_pairs.csv,
    ripple_facts.csv, ripple.json)."""
    from beliefs.intervene.run import ripple_run

    with handle_errors(), progress_bar() as progress:
        task = progress.add_task("ripple", total=None, rate="")

        def start(n: int) -> None:
            progress.update(task, total=n)

        def advance(n: int) -> None:
            progress.update(task, advance=n)

        path, _, facts, manifest = ripple_run(
            sources,
            model,
            out=out,
            same_cap=same_cap,
            k_random=random_k,
            seed=seed,
            batch_size=batch_size,
            device=device,
            limit=limit,
            start=start,
            advance=advance,
        )
    console.print(
        f"{manifest['model']}: {len(facts)} passages; mean spillover {facts['spillover'].mean():.3f} nats "
        f"(signed toward false {facts['spillover_signed'].mean():+.3f}); own Δmargin "
        f"{facts['self_delta'].mean():+.3f}; {manifest['seconds']['ripple']:.0f} s",
        highlight=False,
    )
    console.print(f"results in {path} (ripple_pairs.csv, ripple_facts.csv, ripple.json)", highlight=False)
