"""``beliefs probe``: measure models on fact sets under conditions into a run directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress

from beliefs.cli._common import console, handle_errors, progress_bar
from beliefs.errors import UsageError


def rich_hook(progress: Progress) -> Any:
    """A :class:`ProgressHook` that draws a rich bar (statements, tokens/s, ETA)."""
    from beliefs.extract.probe import ProgressHook

    class _RichHook(ProgressHook):
        def __init__(self, progress: Progress) -> None:
            self.progress = progress
            self.task: Any = None
            self.tokens = 0

        def message(self, text: str) -> None:
            self.progress.console.print(f"[dim]{text}[/dim]")

        def start(self, model: str, statements: int, tokens: int, done: int) -> None:
            self.task = self.progress.add_task(model, total=statements, completed=done, rate="")
            self.tokens = 0
            self._t0 = self.progress.get_time()

        def advance(self, statements: int, tokens: int) -> None:
            self.tokens += tokens
            elapsed = max(self.progress.get_time() - self._t0, 1e-9)
            self.progress.update(self.task, advance=statements, rate=f"{self.tokens / elapsed:,.0f} tok/s")

    return _RichHook(progress)


def _layers(text: str | None) -> list[int] | None:
    if not text:
        return None
    try:
        out: list[int] = []
        for part in text.split(","):
            a, sep, b = part.partition("-") if not part.startswith("-") else (part, "", "")
            out.extend(range(int(a), int(b) + 1) if sep else [int(a)])
        return out
    except ValueError:
        raise UsageError(f"--layers should look like '0,4,8-12' or '-1', but got '{text}'") from None


def probe_command(
    model: Annotated[
        list[str],
        typer.Option("--model", "-m", help="Embedded name, hub id, local folder or .gguf; repeatable."),
    ],
    facts: Annotated[list[Path], typer.Option("--facts", "-f", help="Fact-set YAML file; repeatable.")],
    conditions: Annotated[Path, typer.Option("--conditions", "-c", help="Conditions YAML file.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run directory (created; rerun to resume).")],
    control: Annotated[
        str | None,
        typer.Option(help="Also measure a control: 'random-init' (same architecture, seeded weights)."),
    ] = None,
    layers: Annotated[
        str | None, typer.Option(help="Layers to keep, e.g. '0,4,8-12' (default: all).")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Statements per batch.")] = 16,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or mps.")] = "auto",
    dtype: Annotated[str, typer.Option(help="float32, bfloat16 or float16.")] = "float32",
    device_map: Annotated[
        str | None, typer.Option(help="'auto' spreads a model over several devices (accelerate).")
    ] = None,
    start_token: Annotated[
        str | None, typer.Option(help="Override the start-of-document token (default: the model's own).")
    ] = None,
    trust_remote_code: Annotated[bool, typer.Option(help="Allow a model's own code to run.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the random-init control.")] = 0,
) -> None:
    """Hidden states of every layer and statement log-probs for every fact, form and condition."""
    from beliefs.extract import probe

    with handle_errors(), progress_bar() as progress:
        run = probe(
            model,
            [Path(p) for p in facts],
            conditions,
            out,
            control=control,
            layers=_layers(layers),
            batch_size=batch_size,
            device=device,
            dtype=dtype,
            start_token=start_token,
            device_map=device_map,
            trust_remote_code=trust_remote_code,
            seed=seed,
            progress=rich_hook(progress),
        )
    names = ", ".join(m.name for m in run.models())
    console.print(f"results in {run.path} (models: {names}; margins in {run.path / 'margins.csv'})")
