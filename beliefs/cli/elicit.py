"""``beliefs elicit``: what a model volunteers under the empty prompt and detailed prompts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress

from beliefs.cli._common import console, handle_errors, progress_bar
from beliefs.errors import UsageError
from beliefs.results.formats import fmt_number


def rich_elicit_hook(progress: Progress) -> Any:
    """An :class:`ElicitProgress` that draws one bar per condition (samples, tokens/s, ETA)."""
    from beliefs.elicit.generate import ElicitProgress

    class _RichHook(ElicitProgress):
        def __init__(self) -> None:
            self.task: Any = None
            self.tokens = 0
            self.t0 = 0.0

        def message(self, text: str) -> None:
            progress.console.print(f"[dim]{text}[/dim]")

        def start(self, condition: str, total: int, done: int) -> None:
            self.task = progress.add_task(condition, total=total, completed=done, rate="")
            self.tokens = 0
            self.t0 = progress.get_time()

        def advance(self, samples: int, tokens: int) -> None:
            self.tokens += tokens
            elapsed = max(progress.get_time() - self.t0, 1e-9)
            progress.update(self.task, advance=samples, rate=f"{self.tokens / elapsed:,.0f} tok/s")

    return _RichHook()


def check_embedder(name: str) -> None:
    """The embedder is a sentence-transformers model: an embedded one, a local folder or a hub id."""
    from beliefs.models import EMBEDDED

    if name in EMBEDDED:
        if EMBEDDED[name].backend != "st":
            st = ", ".join(n for n, m in EMBEDDED.items() if m.backend == "st")
            raise UsageError(f"--embedder {name} is not a sentence-transformers model; embedded ones: {st}")
        return
    path = Path(name).expanduser()
    looks_local = name.startswith((".", "/", "~")) or path.exists() or name.count("/") > 1
    if looks_local and not (path / "modules.json").is_file():
        raise UsageError(f"--embedder {name}: not a sentence-transformers folder (no modules.json)")


def elicit_command(
    model: Annotated[
        str, typer.Option("--model", "-m", help="Causal LM: embedded name, hub id, local folder or .gguf.")
    ],
    facts: Annotated[list[Path], typer.Option("--facts", "-f", help="Fact-set YAML file; repeatable.")],
    conditions: Annotated[
        Path,
        typer.Option(
            "--conditions", "-c", help="Conditions YAML file (per-fact context conditions are skipped)."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (created; rerun to resume).")],
    samples: Annotated[int, typer.Option(help="Continuations sampled per condition (1 to 100,000).")] = 64,
    max_new_tokens: Annotated[int, typer.Option(help="Tokens per continuation, at most (1 to 4096).")] = 48,
    temperature: Annotated[float, typer.Option(help="Sampling temperature (0 = greedy).")] = 1.0,
    seed: Annotated[
        int, typer.Option(help="Seed of the sampling and of the permutations.", min=0, max=2**32 - 1)
    ] = 0,
    embedder: Annotated[
        str, typer.Option(help="Sentence-transformers model that embeds sentences and statements.")
    ] = "minilm-l6",
    permutations: Annotated[
        int, typer.Option(help="Fact-level permutations for p-values (1 to 100,000).")
    ] = 2000,
    batch_size: Annotated[int, typer.Option(help="Samples generated together (1 to 4096).")] = 64,
    start_token: Annotated[
        str | None, typer.Option(help="Override the start-of-document token (default: the model's own).")
    ] = None,
) -> None:
    """Sample what the model says under each prompt condition and score which facts it volunteers."""
    from beliefs.cli.probe import check_inputs
    from beliefs.elicit import elicit
    from beliefs.store.guard import check_output_dir

    with handle_errors():
        for option, value, low, high in (
            ("samples", samples, 1, 100_000),
            ("max_new_tokens", max_new_tokens, 1, 4096),
            ("permutations", permutations, 1, 100_000),
            ("batch_size", batch_size, 1, 4096),
            ("temperature", temperature, 0, 100),
        ):
            if value < low:
                raise UsageError(f"{option} should be at least {low}, but got {value}")
            if value > high:
                raise UsageError(f"{option} should be at most {high:,}, but got {value}")
        check_inputs(facts, conditions)
        check_embedder(embedder)
        check_output_dir(out, "elicitation", "--out")
    with handle_errors(), progress_bar() as progress:
        result = elicit(
            model,
            [Path(p) for p in facts],
            conditions,
            out,
            samples=samples,
            max_new_tokens=max_new_tokens,
            temperature=temperature,
            seed=seed,
            embedder=embedder,
            permutations=permutations,
            batch_size=batch_size,
            start_token=start_token,
            progress=rich_elicit_hook(progress),
        )
    if result.skipped_conditions:
        console.print(f"skipped (per-fact contexts): {', '.join(result.skipped_conditions)}")
    for h in result.headlines:
        est, lo, hi = (fmt_number(h.get(k), "+.4f", missing="n/a") for k in ("estimate", "ci_low", "ci_high"))
        console.print(
            f"{h['condition']}: {h['statistic']} = {est} [{lo}, {hi}], "
            f"p = {fmt_number(h['p_value'], '.3g', missing='n/a')}; "
            f"share endorsed {fmt_number(h.get('share_endorsed'), '.2f', missing='n/a')}",
            highlight=False,
        )
    console.print(f"results in {result.out} (salience.csv, elicitation.csv, samples.jsonl)")
