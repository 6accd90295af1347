"""``beliefs study`` and ``beliefs report``: the main job end to end, and rebuilding a report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from beliefs.cli._common import console, fmt_value, handle_errors, progress_bar
from beliefs.results.headline import Headline


def hypotheses() -> dict[str, str]:
    """Headline source → the question it answers: each registered analysis that states one, then the
    elicitation."""
    from beliefs.analyses import ANALYSES
    from beliefs.elicit.stats import ANALYSIS as ELICITATION
    from beliefs.elicit.stats import QUESTION as ELICITATION_QUESTION

    out = {a.name: a.question for a in ANALYSES.values() if a.question is not None}
    return {**out, ELICITATION: ELICITATION_QUESTION}


VERDICT_STYLE = {
    "differs": "bold green",
    "surface-explained": "yellow",
    "equivalent": "cyan",
    "inconclusive": "dim",
}


def verdict_markup(h: Headline) -> str:
    """The headline's verdict word, coloured (recomputed with the one rule for older summaries)."""
    from beliefs.results.verdict import verdict_label, verdict_word

    word = verdict_word(h)
    style = VERDICT_STYLE.get(word, "")
    label = verdict_label(h)
    return f"[{style}]{label}[/{style}]" if style else label


def print_summary(summary: dict[str, Any]) -> None:
    """One table per hypothesis with the figures behind every verdict (see beliefs.results.verdict)."""
    from beliefs.report import verdict

    headlines: list[Headline] = summary.get("headlines", [])
    for analysis, question in hypotheses().items():
        rows = [h for h in headlines if h["analysis"] == analysis]
        if not rows:
            continue
        table = Table(title=f"{analysis}: {question}", title_justify="left", show_lines=False)
        for col in (
            "model",
            "condition",
            "statistic",
            "estimate [95% CI]",
            "p",
            "p beyond surface",
            "p family",
            "verdict",
        ):
            table.add_column(col, overflow="fold")
        for h in rows:
            model = h["model"]  # a control is named model@random-init
            est = h.get("estimate")
            # an interval can be absent (None): see the headline definition in docs/formats.md (Result tables)
            ci = (
                f"{fmt_value(est)} [{fmt_value(h.get('ci_low'))}, {fmt_value(h.get('ci_high'))}]"
                if est is not None
                else "–"
            )
            table.add_row(
                model,
                h["condition"] + (f" · {h['domain']}" if h.get("domain") else ""),
                h["statistic"] + (" (primary)" if h.get("family") == "primary" else ""),
                ci,
                fmt_value(h.get("p_value"), 4),
                fmt_value(h.get("p_beyond_surface"), 4),
                fmt_value(h.get("p_family"), 4),
                verdict_markup(h),
            )
        console.print(table)
        for h in rows:
            if h["condition"] == "empty" and not h.get("control"):
                console.print("  " + verdict(h), highlight=False, markup=False)
        for line in hingeness_lines(rows):
            console.print("  " + line, highlight=False, markup=False)
    for line in primary_lines(headlines):
        console.print(line, highlight=False, markup=False)


def primary_lines(headlines: Sequence[Mapping[str, Any]]) -> list[str]:
    """Per model, the primary headline's verdict and how it was reached, and, beside it, the per-domain
    verdicts of the same test (empty where no headline is primary)."""
    out = []
    for h in headlines:
        if h.get("family") != "primary":
            continue
        from beliefs.results.verdict import verdict_label

        out.append(f"primary · {h['model']}: {h.get('how', verdict_label(h))}")
        for d in headlines:
            if (
                d.get("domain")
                and d["model"] == h["model"]
                and d["analysis"] == h["analysis"]
                and d["statistic"] == h["statistic"]
                and d["condition"] == h["condition"]
            ):
                out.append(f"  {d['domain']}: {d.get('how', verdict_label(d))}")
    return out


def hingeness_lines(headlines: Sequence[Mapping[str, Any]]) -> list[str]:
    """Per model, the facts it treats most and least as a hinge and the index's reliabilities, from the
    ``hingeness_auroc`` headlines (empty where there are none)."""
    out = []
    for h in headlines:
        if (
            h.get("analysis") != "hingeness"
            or h.get("statistic") != "hingeness_auroc"
            or not h.get("top_facts")
        ):
            continue
        rel = ", ".join(
            f"{name} {fmt_value(h.get(f'reliability_index_{name}'))}"
            for name in ("model", "control", "contrast")
            if h.get(f"reliability_index_{name}") is not None
        )
        out.append(
            f"{h['model']}: most a hinge ({h.get('index', 'model')} index): {'; '.join(h['top_facts'])}"
        )
        out.append(f"{h['model']}: least a hinge: {'; '.join(h.get('bottom_facts') or [])}")
        if rel:
            out.append(f"{h['model']}: split-half reliability of the index: {rel}")
    return out


def study(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="Study file (YAML). Default: analyses/default/study.yaml (matched and core sets, embedded models)."
        ),
    ] = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="Stop after the analyses.")] = False,
    reanalyze: Annotated[
        bool,
        typer.Option(
            "--reanalyze",
            help="Recompute the analyses even when their inputs are unchanged (to verify tables).",
        ),
    ] = False,
) -> None:
    """Run the main job: fact sets → probe → analyze → report, reusing what is already computed.

    With no FILE it runs analyses/default/study.yaml: the matched fact set (the primary test) and the core
    set (the broad one), each analysed on its own, on smollm2-135m, minilm-l6 and the random-init control.
    The activation store goes where the study says (runs/…); tables, figures, report.md and report.html go
    to its results folder (one subfolder per fact set when the study names several).
    """
    from beliefs.cli.probe import rich_hook
    from beliefs.cli.trace import rich_trace_hook
    from beliefs.study.runner import DEFAULT_STUDY, run_study

    with handle_errors(), progress_bar() as progress:
        result = run_study(
            file or DEFAULT_STUDY,
            progress=rich_hook(progress),
            message=lambda m: progress.console.print(f"[bold]{escape(m)}[/bold]"),
            report=not no_report,
            reanalyze=reanalyze,
            trace_progress=rich_trace_hook(progress),
        )
    for part in result.parts:
        if len(result.parts) > 1:
            console.rule(f"fact set {part.fact_set}")
        print_summary(part.summary)
    times = ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items())
    console.print(f"store: {result.store} ({times})", highlight=False)
    for part in result.parts:
        console.print(f"tables: {part.results / 'tables'}", highlight=False)
        if part.report is not None:
            console.print(f"report: {part.report} and {part.report.with_suffix('.html')}", highlight=False)


def report(
    run: Annotated[Path, typer.Argument(help="Run directory (with results/ from beliefs analyze).")],
    results: Annotated[
        Path | None,
        typer.Option(
            help="Folder holding the result tables (default: RUN/results); the report is written there."
        ),
    ] = None,
) -> None:
    """Rebuild report.md, report.html and the figures from a run and its result tables."""
    from beliefs.report import write_report
    from beliefs.store import open_run

    with handle_errors():
        opened = open_run(run)
        folder = results or run / "results"
        if not (folder / "summary.json").is_file() and not (folder / "tables" / "summary.json").is_file():
            from beliefs.errors import UsageError

            raise UsageError(f"no summary.json in {folder}: run beliefs analyze {run} first")
        from beliefs.store.guard import check_output_dir

        check_output_dir(folder, "results", "--results")
        path = write_report(opened, folder)
    console.print(f"report: {path} and {path.with_suffix('.html')}", highlight=False)
