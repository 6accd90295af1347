"""``beliefs probe``: measure models on fact sets under conditions into a run directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress

from beliefs.cli._common import console, handle_errors, progress_bar
from beliefs.errors import UsageError
from beliefs.models.base import CONTROLS, DEVICES, DTYPES


def _check_control(value: str | None) -> str | None:
    if value is not None and value not in CONTROLS:
        raise typer.BadParameter(f"should be one of {', '.join(CONTROLS)}, but got '{value}'")
    return value


def _check_dtype(value: str) -> str:
    if value not in DTYPES:
        raise typer.BadParameter(f"should be one of {', '.join(DTYPES)}, but got '{value}'")
    return value


def _check_device(value: str) -> str:
    if value not in DEVICES and not (value.startswith("cuda:") and value[5:].isdigit()):
        raise typer.BadParameter(f"should be one of {', '.join(DEVICES)} or cuda:N, but got '{value}'")
    return value


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


MAX_LAYER = 1024
"""Ceiling on a layer number in ``--layers`` (the largest models have under 200 layers)."""
MAX_BATCH = 4096
SEED_MAX = 2**32 - 1


def _layers(text: str | None) -> list[int] | None:
    if not text:
        return None
    shown = text if len(text) <= 40 else text[:40] + "…"
    try:
        out: list[int] = []
        for part in text.split(","):
            a, sep, b = part.partition("-") if not part.startswith("-") else (part, "", "")
            lo, hi = int(a), int(b) if sep else int(a)
            if max(abs(lo), abs(hi)) > MAX_LAYER:
                raise UsageError(f"--layers: layer numbers are at most {MAX_LAYER}, but got '{shown}'")
            if hi < lo:
                raise UsageError(f"--layers: a range should go upwards, but got '{part[:40]}'")
            out.extend(range(lo, hi + 1))
        return out
    except ValueError:
        raise UsageError(f"--layers should look like '0,4,8-12' or '-1', but got '{shown}'") from None


def _shard(text: str | None) -> tuple[int, int] | None:
    """``--shard I/N`` as ``(I, N)``; the range is checked by the library (one message for both)."""
    if text is None:
        return None
    i, sep, n = text.partition("/")
    try:
        if not sep:
            raise ValueError
        return int(i), int(n)
    except ValueError:
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise UsageError(f"--shard should look like '2/8' (part I of N, from 1), but got '{shown}'") from None


def check_inputs(facts: list[Path], conditions: Path) -> None:
    """Input files exist and are regular files (a FIFO would block forever); before any model loads."""
    from beliefs.fileio import not_regular

    for option, path in [*(("--facts", f) for f in facts), ("--conditions", conditions)]:
        if not path.exists():
            raise UsageError(f"{option} {path}: no such file")
        why = not_regular(path)
        if why is not None and not (option == "--facts" and path.is_dir()):
            raise UsageError(f"{option} {path} {why}")


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
        typer.Option(
            help="Also measure a control: 'random-init' (same architecture, seeded weights).",
            callback=_check_control,
        ),
    ] = None,
    layers: Annotated[
        str | None, typer.Option(help="Layers to keep, e.g. '0,4,8-12' (default: all).")
    ] = None,
    batch_size: Annotated[
        int, typer.Option(help="Statements per batch (1 to 4096).", min=1, max=MAX_BATCH)
    ] = 16,
    device: Annotated[
        str, typer.Option(help="auto, cpu, cuda, cuda:N or mps.", callback=_check_device)
    ] = "auto",
    dtype: Annotated[
        str, typer.Option(help="float32, bfloat16 or float16.", callback=_check_dtype)
    ] = "float32",
    device_map: Annotated[
        str | None, typer.Option(help="'auto' spreads a model over several devices (accelerate).")
    ] = None,
    start_token: Annotated[
        str | None, typer.Option(help="Override the start-of-document token (default: the model's own).")
    ] = None,
    trust_remote_code: Annotated[bool, typer.Option(help="Allow a model's own code to run.")] = False,
    seed: Annotated[
        int, typer.Option(help="Seed of the random-init control (0 to 2**32 − 1).", min=0, max=SEED_MAX)
    ] = 0,
    shard: Annotated[
        str | None,
        typer.Option(
            help="Compute only part I of N (e.g. '2/8') of each model's batches, so that N processes, "
            "machines or array jobs with otherwise identical arguments fill one --out between them.",
        ),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Measure nothing: rewrite margins.csv from all stored entries and check that --out holds "
            "every model, fact, form and condition given (run it after the --shard jobs); exit 1 naming "
            "what is missing.",
        ),
    ] = False,
) -> None:
    """Hidden states of every layer and statement log-probs for every fact, form and condition.

    OUT is created, or resumed if it is a run: what is stored is not recomputed. A folder that is not a
    run is refused unless empty. Probing a changed fact set into a run replaces that set's facts: facts
    it no longer has are dropped from the run, edited facts are measured again, and other models in the
    run must then be probed again before `beliefs analyze` accepts it (their stored entries are reused).
    The run's conditions become those of --conditions.

    Scale-out: N jobs with the same arguments and --shard 1/N … N/N fill one OUT (on a shared file
    system) between them, each computing every N-th batch; the store equals one process's. Then the same
    command with --check instead of --shard merges margins.csv and confirms nothing is missing.
    """
    from beliefs.extract import check_run, probe

    with handle_errors():
        layer_list = _layers(layers)
        part = _shard(shard)
        check_inputs(facts, conditions)
        if check and part is not None:
            raise UsageError("--check checks the whole run: give it without --shard")
        if check:
            done = check_run(model, [Path(p) for p in facts], conditions, out, control=control)
            n = sum(1 for _ in done.needed())
            console.print(
                f"{done.path} is complete: {len(done.models())} model(s), {len(done.facts())} facts, "
                f"{len(done.conditions())} condition(s), {2 * n} entries; margins in {done.path / 'margins.csv'}"
            )
            return
    with handle_errors(), progress_bar() as progress:
        run = probe(
            model,
            [Path(p) for p in facts],
            conditions,
            out,
            control=control,
            layers=layer_list,
            batch_size=batch_size,
            device=device,
            dtype=dtype,
            start_token=start_token,
            device_map=device_map,
            trust_remote_code=trust_remote_code,
            seed=seed,
            progress=rich_hook(progress),
            shard=part,
        )
    names = ", ".join(m.name for m in run.models())
    if part is not None:
        console.print(
            f"shard {part[0]}/{part[1]} done in {run.path} (models: {names}); once every shard is done, "
            "run the same command with --check instead of --shard"
        )
        return
    console.print(f"results in {run.path} (models: {names}; margins in {run.path / 'margins.csv'})")
