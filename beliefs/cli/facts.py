"""``beliefs facts``: validate, summarise, scaffold, add to, import and export fact sets."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from beliefs.cli._common import console, err_console, handle_errors, print_problems, progress_bar
from beliefs.errors import UsageError
from beliefs.facts import load_fact_set, load_paths

if TYPE_CHECKING:
    from beliefs.facts.stats import Stats

app = typer.Typer(
    help="Author and check fact sets: validate, stats, new, add, import, export.", no_args_is_help=True
)

PathsArg = Annotated[
    list[Path], typer.Argument(help="Fact-set or conditions files, or folders searched recursively.")
]


class StatsFormat(StrEnum):
    table = "table"
    json = "json"


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"


def check_destination(out: Path, inputs: list[Path], force: bool) -> None:
    """See :func:`beliefs.fileio.check_destination` (the library applies the same rules)."""
    from beliefs.fileio import check_destination as check

    check(out, inputs, force)


@app.command()
def validate(paths: PathsArg) -> None:
    """Check fact sets and conditions files (told apart by content); list every problem with file and line.

    Exit code 0 when valid (warnings allowed), 1 when any file is invalid, 2 on a usage error.
    """
    from beliefs.facts.special import condition_special_warnings, special_token_warnings

    with handle_errors():
        found = load_paths(paths)
        found.problems += special_token_warnings(found.fact_sets)
        found.problems += condition_special_warnings(found.conditions)
        print_problems(found.problems)
        if not found.files:
            raise UsageError("no .yaml or .yml files under the given paths")
        n_facts = sum(len(s.facts) for s in found.fact_sets)
        summary = (
            f"{found.files} file{'s' if found.files != 1 else ''}: {len(found.fact_sets)} fact set(s) with "
            f"{n_facts} facts, {len(found.conditions)} conditions file(s); "
            f"{len(found.errors)} error(s), {len(found.warnings)} warning(s)."
        )
        if found.errors:
            err_console.print(summary, style="bold red", highlight=False)
            raise typer.Exit(1)
        console.print(summary, style="green", highlight=False)


@app.command()
def stats(
    paths: PathsArg,
    format: Annotated[
        StatsFormat, typer.Option("--format", "-f", help="table (for people) or json.")
    ] = StatsFormat.table,
    tokenizer: Annotated[
        str | None,
        typer.Option(
            help="Also count tokens with this model's tokenizer (embedded name, hub id or local path)."
        ),
    ] = None,
    near_duplicates: Annotated[
        float | None,
        typer.Option(
            "--near-duplicates",
            help="List statement pairs whose minilm-l6 embeddings have cosine ≥ this (e.g. 0.95).",
            min=0.0,
            max=1.0,
        ),
    ] = None,
) -> None:
    """Balance per domain × kind cell: facts, contexts, statement length (mean, SD); warns when hinge and
    contingent differ in length by a standardized difference over 0.5 within a domain.

    Per domain also: the balanced accuracy of a surface classifier (logistic regression on word 1-2-grams,
    character 2-4-grams and lengths of both forms) with folds that leave whole templates out (single facts
    where facts have no template; the output says which), with a 95% interval resampling templates; the
    hinge − contingent length difference within pairs (words; tokens with --tokenizer); and the share of
    each kind's statements with a negation, the first person, digits, or a named entity (a capitalised
    word not opening a sentence, other than "I": a crude heuristic). --format json carries all of it.
    """
    from beliefs.facts.stats import compute_stats
    from beliefs.facts.stats import near_duplicates as find_near_duplicates

    with handle_errors():
        with progress_bar() as bar:
            task = bar.add_task("reading fact sets", total=1, rate="")
            found = load_paths(paths)
            bar.update(task, completed=1)
        if found.errors:
            print_problems(found.errors)
            raise typer.Exit(1)
        if not found.fact_sets:
            raise UsageError("no fact sets under the given paths")
        count_tokens = None
        if tokenizer is not None:
            from beliefs.facts.tokens import load_tokenizer

            tok = load_tokenizer(tokenizer)

            def count_tokens(text: str) -> int:
                return len(tok(text, add_special_tokens=False)["input_ids"])

        with progress_bar() as bar:
            task = bar.add_task("stats", total=None, rate="")

            def advance(what: str, done: int, total: int) -> None:
                bar.update(task, description=what, completed=done, total=total)

            result = compute_stats(found.fact_sets, count_tokens, tokenizer, progress=advance)
        if near_duplicates is not None:
            from beliefs.facts.tokens import embed_texts

            result.near_duplicates = find_near_duplicates(found.fact_sets, embed_texts, near_duplicates)
    if format is StatsFormat.json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    table = Table(title=f"{', '.join(result.sets)}: {result.n_facts} facts")
    for col in ("domain", "kind", "facts", "support", "contradict", "notes", "words mean", "words SD"):
        table.add_column(col, justify="left" if col in ("domain", "kind") else "right")
    if result.tokenizer:
        table.add_column("tokens mean", justify="right")
        table.add_column("tokens SD", justify="right")
    for c in result.cells:
        row = [c.domain, c.kind, str(c.n_facts), str(c.n_support), str(c.n_contradict), str(c.n_note)]
        row += [f"{c.words_mean:.2f}", f"{c.words_sd:.2f}"]
        if result.tokenizer:
            row += [f"{c.tokens_mean:.2f}", f"{c.tokens_sd:.2f}"]
        table.add_row(*row)
    console.print(table)
    for check in result.length_checks:
        console.print(
            f"{check.domain}: hinge − contingent length d = {check.standardized_difference:+.2f} {check.unit} "
            f"({check.hinge_mean:.2f} vs {check.contingent_mean:.2f})",
            highlight=False,
        )
    _print_surface(result)
    for warning in result.warnings:
        err_console.print(f"warning: {warning}", style="yellow", highlight=False)
    for dup in result.near_duplicates:
        console.print(f"near duplicate: {dup.a} ~ {dup.b} (cosine {dup.cosine:.3f})", highlight=False)


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _print_surface(result: Stats) -> None:
    """The surface classifier, pair lengths and markers, one row per domain (markers per kind)."""
    table = Table(title="surface: can the wording alone tell the kinds apart?")
    cols = (
        "domain",
        "surface bacc [95% CI]",
        "folds leave out",
        "pairs",
        "Δ words (mean; max |Δ|)",
        "Δ tokens",
    )
    for col in cols:
        table.add_column(col, justify="left" if col in ("domain", "folds leave out") else "right")
    for check in result.surface:
        if check.balanced_accuracy is None:
            bacc = "—"
        else:
            bacc = f"{check.balanced_accuracy:.2f} [{check.ci_low:.2f}, {check.ci_high:.2f}]"
        groups = {
            "template": "templates",
            "fact": "facts (no templates)",
            "template+fact": "templates, facts",
        }
        folds = f"{groups[check.grouping]} ({check.n_groups}, {check.n_folds} folds)"
        lengths = {
            p.unit: f"{p.mean_difference:+.2f}; {p.max_abs_difference:.0f}"
            for p in result.pair_lengths
            if p.domain == check.domain and p.form == "statement"
        }
        n_pairs = next((p.n_pairs for p in result.pair_lengths if p.domain == check.domain), 0)
        row = [check.domain, bacc, folds, str(n_pairs), lengths.get("words", "—"), lengths.get("tokens", "—")]
        table.add_row(*row)
    console.print(table)
    table = Table(title="markers: share of statements")
    for col in ("domain", "kind", "facts", "negation", "first person", "digits", "named entity"):
        table.add_column(col, justify="left" if col in ("domain", "kind") else "right")
    for m in result.markers:
        shares = [_pct(m.negation), _pct(m.first_person), _pct(m.digits), _pct(m.named_entities)]
        table.add_row(m.domain, m.kind, str(m.n_facts), *shares)
    console.print(table)


@app.command()
def new(
    name: Annotated[str, typer.Argument(help="Set name, a lower-case slug; the file is <dir>/<name>.yaml.")],
    dir: Annotated[Path, typer.Option("--dir", help="Folder to create the file in.")] = Path("fact_sets"),
) -> None:
    """Scaffold a valid, commented fact set with one example fact."""
    from beliefs.facts.authoring import new_fact_set

    with handle_errors():
        path = new_fact_set(name, dir)
    console.print(f"created {path}", highlight=False)


@app.command()
def add(
    file: Annotated[Path, typer.Argument(help="The fact-set file to add to.")],
    id: Annotated[str, typer.Option("--id", help="Fact id, a lower-case slug unique in the set.")],
    domain: Annotated[str, typer.Option(help="logical or physical (or another declared domain).")],
    kind: Annotated[str, typer.Option(help="hinge or contingent.")],
    statement: Annotated[str, typer.Option(help="The true form.")],
    false_statement: Annotated[str, typer.Option(help="The false form, in the same style.")],
    support: Annotated[str | None, typer.Option(help="A passage in which the statement holds.")] = None,
    contradict: Annotated[
        str | None, typer.Option(help="A passage in which the false statement holds.")
    ] = None,
    tag: Annotated[list[str] | None, typer.Option(help="A tag; repeat for several.")] = None,
    note: Annotated[
        str | None, typer.Option(help="Why the fact is of its kind (expected for hinges).")
    ] = None,
    source: Annotated[str | None, typer.Option(help="Where the fact comes from.")] = None,
) -> None:
    """Add a fact; validates the whole file first, keeps its comments and layout, writes atomically."""
    from beliefs.facts.authoring import add_fact

    with handle_errors():
        if not file.exists():
            raise UsageError(f"{file} does not exist (create it with: beliefs facts new NAME)")
        loaded = add_fact(
            file,
            id=id,
            domain=domain,
            kind=kind,
            statement=statement,
            false_statement=false_statement,
            support=support,
            contradict=contradict,
            tags=tag,
            note=note,
            source=source,
        )
        print_problems([w for w in loaded.warnings if w.fact_id == id])
    console.print(f"added {loaded.name}/{id} to {file} ({len(loaded.facts)} facts)", highlight=False)


@app.command("import")
def import_(
    csv_file: Annotated[Path, typer.Argument(metavar="CSV", help="A CSV of true and false statements.")],
    name: Annotated[str, typer.Option(help="Name of the new set (a lower-case slug).")],
    domain: Annotated[str, typer.Option(help="Domain of every fact.")],
    kind: Annotated[str, typer.Option(help="hinge or contingent, for every fact.")],
    out: Annotated[Path, typer.Option(help="Fact-set file to write.")],
    statement_col: Annotated[str, typer.Option(help="Column holding the statement.")] = "statement",
    label_col: Annotated[
        str, typer.Option(help="Column holding the truth label (1/0, true/false).")
    ] = "label",
    pair_by: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated key columns: one true and one false row with the same key make a fact. "
            "Without it, adjacent rows with opposite labels are paired."
        ),
    ] = None,
    unordered: Annotated[
        bool, typer.Option(help="Treat the key as a set (n1=51,n2=52 pairs with n1=52,n2=51).")
    ] = False,
    limit: Annotated[int | None, typer.Option(help="Keep at most this many facts.", min=1)] = None,
    force: Annotated[bool, typer.Option(help="Overwrite OUT if it exists.")] = False,
) -> None:
    """Turn a true/false statement CSV into a fact set, pairing one true and one false row per fact."""
    from beliefs.facts.importer import import_csv

    with handle_errors():
        check_destination(out, [csv_file], force)
        keys = [c.strip() for c in pair_by.split(",") if c.strip()] if pair_by else None
        report = import_csv(
            csv_file,
            name=name,
            domain=domain,
            kind=kind,
            out=out,
            statement_col=statement_col,
            label_col=label_col,
            pair_by=keys,
            unordered=unordered,
            limit=limit,
            force=force,
        )
    console.print(f"wrote {report.n_facts} facts from {report.n_rows} rows to {out}", highlight=False)
    for reason, n in sorted(report.unpaired.items()):
        err_console.print(f"{n} row(s) not paired: {reason}", style="yellow", highlight=False)


@app.command()
def export(
    paths: PathsArg,
    format: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="jsonl or csv.")
    ] = ExportFormat.jsonl,
    out: Annotated[Path | None, typer.Option(help="Write here instead of standard output.")] = None,
    force: Annotated[bool, typer.Option(help="Replace OUT if it exists.")] = False,
) -> None:
    """One row per statement: set, fact_id, domain, kind, form (true/false), text."""
    from beliefs.facts.export import export_text
    from beliefs.fileio import atomic_write_text

    with handle_errors():
        if out is not None:
            check_destination(out, paths, force)
        found = load_paths(paths)
        if found.errors:
            print_problems(found.errors)
            raise typer.Exit(1)
        text = export_text(found.fact_sets, format.value)
    if out is None:
        typer.echo(text, nl=False)
    else:
        with handle_errors():
            atomic_write_text(out, text)
        console.print(f"wrote {out}", highlight=False)


__all__ = ["app", "load_fact_set"]
