"""``beliefs trace RUN``: causal tracing of a probed run's causal LMs (and their controls)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress

from beliefs.cli._common import console, handle_errors, progress_bar


def rich_trace_hook(progress: Progress) -> Any:
    """A :class:`TraceProgress` that draws one bar per model × condition (facts, facts/s, ETA)."""
    from beliefs.trace.run import TraceProgress

    class _RichHook(TraceProgress):
        def __init__(self) -> None:
            self.task: Any = None
            self.t0 = 0.0
            self.done = 0

        def message(self, text: str) -> None:
            progress.console.print(f"[dim]{text}[/dim]")

        def start(self, label: str, total: int) -> None:
            self.task = progress.add_task(label, total=total, rate="")
            self.t0 = progress.get_time()
            self.done = 0

        def advance(self, n: int) -> None:
            self.done += n
            elapsed = max(progress.get_time() - self.t0, 1e-9)
            progress.update(self.task, advance=n, rate=f"{self.done / elapsed:.2f} facts/s")

    return _RichHook()


def trace_command(
    run: Annotated[Path, typer.Argument(help="Run directory written by `beliefs probe` or `beliefs study`.")],
    conditions: Annotated[
        list[str] | None,
        typer.Option("--conditions", "-c", help="Conditions to trace (repeat the option); default: empty."),
    ] = None,
    noise_seeds: Annotated[
        int, typer.Option(help="Noise draws per fact (the same noise for its true and false form).")
    ] = 2,
    window: Annotated[
        int, typer.Option(help="Layers of MLP/attention outputs restored around each centre.")
    ] = 5,
    layers: Annotated[
        list[int] | None,
        typer.Option(
            "--layers", "-l", help="Centre layers (repeat; 0 = embeddings); default: every --stride-th."
        ),
    ] = None,
    stride: Annotated[
        int, typer.Option(help="Spacing of the default centre layers (the last layer is added).")
    ] = 5,
    batch_size: Annotated[
        int, typer.Option(help="Packed rows (one per fact × restoration, both forms) per forward pass.")
    ] = 32,
    models: Annotated[
        list[str] | None,
        typer.Option(
            "--model", "-m", help="Trace only this model of the run (repeat); default: every causal LM."
        ),
    ] = None,
    min_gap: Annotated[
        float, typer.Option(help="Smallest |clean − corrupted| margin (nats) traced; smaller is 'small-gap'.")
    ] = 0.5,
    seed: Annotated[
        int, typer.Option(help="The seed the run was probed with (random-init control weights).")
    ] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or mps.")] = "auto",
) -> None:
    """Corrupt each statement's shared content tokens, restore one layer or component at a time, and
    write how much of the true-vs-false margin comes back to RUN/trace/ (then `beliefs analyze RUN`)."""
    from beliefs.trace.run import trace_run

    with handle_errors(), progress_bar() as progress:
        result = trace_run(
            run,
            conditions=conditions or ["empty"],
            noise_seeds=noise_seeds,
            window=window,
            layers=layers,
            stride=stride,
            batch_size=batch_size,
            models=models,
            min_gap=min_gap,
            device=device,
            seed=seed,
            progress=rich_trace_hook(progress),
        )
    facts = result.facts
    for (model, cond), part in facts.groupby(["model", "condition"], sort=False):
        traced = part[part["status"] == "traced"]
        reasons = part.loc[part["status"] != "traced", "reason"].value_counts()
        why = ", ".join(f"{k} {v}" for k, v in reasons.items()) or "none"
        line = f"{model} · {cond}: {len(traced)}/{len(part)} traced (untraceable: {why})"
        for kind, k in traced.groupby("kind"):
            line += (
                f"; {kind}: peak layer {k['peak_layer_content'].median():.0f} (content) / "
                f"{k['peak_layer_last'].median():.0f} (last), MLP share {k['mlp_share'].mean():.2f}"
            )
        console.print(line, highlight=False)
    console.print(
        f"results in {result.out} (facts.csv, profiles.csv, trace.json); now run `beliefs analyze {run}`"
    )
