"""Assemble the report of a run: verdicts, per-layer curves, each analysis's own section (registered with
it), elicitation, balance, caveats, provenance."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd

from beliefs.fileio import atomic_write_text
from beliefs.report import figures, names
from beliefs.report.answer import answer_cards
from beliefs.report.links import report_links
from beliefs.report.numbers import finite
from beliefs.report.page import (
    HEADLINES_ATTR,
    AnswerCards,
    Page,
    Section,
    Text,
    figure_view,
    section_views,
    table_view,
    verdict_table,
)
from beliefs.report.render import to_html, to_markdown
from beliefs.report.rows import QUESTIONS, VerdictRow, question_of, verdict_rows
from beliefs.results.document import Block, Figure, Heading, Paragraph, Table
from beliefs.results.formats import fmt_number as _fmt
from beliefs.results.formats import fmt_p as _p
from beliefs.results.headline import Headline
from beliefs.results.verdict import ALPHA, VERDICT_DEFINITION, significant, verdict_label
from beliefs.rundata import RunData


def verdict(h: Headline, alpha: float = ALPHA) -> str:
    """One sentence with the verdict word and the figures behind a headline."""
    layers = h.get("layers") or []
    where = (
        f"layers {layers[0]}–{layers[-1]}" if len(layers) > 1 else (f"layer {layers[0]}" if layers else "")
    )
    ci = f"[{_fmt(h.get('ci_low'))}, {_fmt(h.get('ci_high'))}]"
    word = verdict_label(h)
    text = (
        f"{h['analysis']} ({h['statistic']}) on {h['model']}, condition {h['condition']}"
        f"{', ' + where if where else ''}: {_fmt(h.get('estimate'))} {ci}, p = {_p(h.get('p_value'))}"
    )
    if h.get("p_beyond_surface") is not None:
        text += f", beyond surface p = {_p(h['p_beyond_surface'])}"
    elif significant(h.get("p_value"), alpha):
        text += ", no beyond-surface test"
    if h.get("surface_estimate") is not None and h["analysis"] == "kind-probe":
        text += f"; surface baseline {_fmt(h['surface_estimate'])}"
    if h.get("sesoi") is not None:
        text += f"; SESOI {_fmt(h['sesoi'])}, equivalence p = {_p(h.get('p_equivalence'))}"
    if not significant(h.get("p_value"), alpha) and h.get("mde_80") is not None:
        text += f"; with {h.get('n_facts')} facts the test detects an effect of {_fmt(h['mde_80'])} with 80% power"
    return f"{word.upper()}: {text}."


def _headline_table(headlines: list[Headline]) -> pd.DataFrame:
    """An analysis section's headline table: the rows as the verdict tables print them; tagged so that the
    page links to the analysis's verdict table instead of repeating it."""
    frame = pd.DataFrame(
        [
            {
                "model": r.model_label,
                "condition": r.condition,
                "statistic": r.shown_statistic,
                "estimate": r.estimate,
                "95% CI": r.interval,
                "verdict": r.verdict,
                "decided by": r.decided_by,
            }
            for r in verdict_rows(headlines)
        ]
    )
    frame.attrs[HEADLINES_ATTR] = list(headlines)
    return frame


def _balance(run: RunData) -> pd.DataFrame:
    facts = run.facts()
    words = facts["statement"].map(lambda s: len(str(s).split()))
    grouped = facts.assign(words=words).groupby(["domain", "kind"], sort=True)["words"]
    table = grouped.agg(["count", "mean", "std"]).reset_index()
    return table.rename(columns={"count": "facts", "mean": "words mean", "std": "words SD"})


def _no_path(value: object) -> str:
    """A value as text with local paths cut to their file name."""
    text = str(value)
    return re.sub(r"(?:[A-Za-z]:)?[/\\~][^\s,;]*[/\\]([^/\\\s,;]+)", r"\1", text)


def _short(digest: object) -> str:
    return str(digest)[:12] if digest else "–"


def _provenance(run: RunData, study: Any) -> pd.DataFrame:
    """What produced the report, one item a row: versions, models (backend, weights hash, dtype, start
    token), fact sets (file, facts, hash), packages, seed; no local paths."""
    manifest = getattr(run, "manifest", None)
    manifest = manifest() if callable(manifest) else (manifest or {})
    rows: list[tuple[str, str]] = []
    if "tool_version" in manifest:
        rows.append(("beliefs version", str(manifest["tool_version"])))
    if "git_commit" in manifest:
        rows.append(("git commit", _short(manifest["git_commit"])))
    if "separator" in manifest:
        rows.append(("separator before a statement", repr(manifest["separator"]).strip("'")))
    for name, info in (manifest.get("models") or {}).items():
        identity = info.get("identity") or {}
        weights = (
            f"weights sha256 {_short(identity['sha256'])}"
            if identity.get("sha256")
            else f"{len(identity.get('files') or {})} files hashed"
        )
        start = (info.get("start_token") or {}).get("text")
        parts = [
            str(info.get("backend", "")),
            weights,
            str(info.get("dtype", "")),
            f"on {info.get('device')}" if info.get("device") else "",
            f"start token {start}" if start else "",
            f"control {identity['control']} (seed {identity.get('seed', 0)})"
            if identity.get("control")
            else "",
        ]
        rows.append((f"model {name}", "; ".join(p for p in parts if p)))
    for name, info in (manifest.get("fact_sets") or {}).items():
        file = Path(str(info.get("path", ""))).name
        rows.append(
            (
                f"fact set {name}",
                f"{file}; {info.get('n_facts', '?')} facts; sha256 {_short(info.get('sha256'))}",
            )
        )
    packages = manifest.get("packages") or {}
    if packages:
        rows.append(("packages", ", ".join(f"{k} {v}" for k, v in sorted(packages.items()))))
    if study is not None:
        rows.append(("seed", str(study.seed)))
        rows.append(("permutations", f"{study.permutations:,}"))
    return pd.DataFrame([(k, _no_path(v)) for k, v in rows], columns=["item", "value"])


def _read_table(path: Path) -> pd.DataFrame:
    table = pd.read_csv(path)
    for col in ("model", "control", "condition", "subset", "pooling", "statistic"):
        if col in table.columns:
            table[col] = table[col].astype(object).where(table[col].notna(), "").astype(str)
    return table


SIGNED = ("diff", "delta", "coef")
"""Statistics whose sign carries the direction of an effect (hinge minus contingent)."""


def agreement(
    summary: dict[str, Any], model: str, other: dict[str, Any], other_model: str, alpha: float = ALPHA
) -> pd.DataFrame:
    """Headline by headline (same analysis, condition, domain, statistic, control), whether two studies
    agree: the same verdict, and where both find a signed effect, in the same direction. Only findings are
    compared: baselines, degenerate and untested rows of either study are left out (``attrs["left_out"]``
    counts them)."""

    def index(s: dict[str, Any], m: str) -> dict[tuple[str, str, str, str, str], VerdictRow]:
        rows = verdict_rows(
            [h for h in s.get("headlines", []) if str(h["model"]).split("@")[0] == m], s.get("n_permutations")
        )
        return {(r.analysis, r.condition, r.domain, r.statistic, r.control): r for r in rows}

    mine, theirs = index(summary, model), index(other, other_model)
    rows, left_out = [], 0
    for key in [k for k in mine if k in theirs]:
        a, b = mine[key], theirs[key]
        if not (a.counts and b.counts):
            left_out += 1
            continue
        agree = a.verdict_word == b.verdict_word
        if agree and significant(a.headline.get("p_value"), alpha) and any(t in key[3] for t in SIGNED):
            est_a, est_b = finite(a.headline.get("estimate")), finite(b.headline.get("estimate"))
            agree = est_a is not None and est_b is not None and (est_a > 0) == (est_b > 0)
        rows.append(
            {
                "analysis": names.analysis_name(key[0]),
                "condition": key[1],
                "domain": key[2],
                "statistic": names.statistic_name(a.shown_statistic),
                "control": key[4],
                model: f"{a.estimate} ({a.decided_by if a.decided_by != '–' else 'plain p ' + a.p_value}; {a.verdict})",
                other_model: f"{b.estimate} ({b.decided_by if b.decided_by != '–' else 'plain p ' + b.p_value}; {b.verdict})",
                "agree": "yes" if agree else "NO",
            }
        )
    frame = pd.DataFrame(rows)
    if not frame.empty and (frame["domain"] == "").all():
        frame = frame.drop(columns="domain")
    frame.attrs["left_out"] = left_out
    return frame


SET_ROLES = {
    "matched": "the primary test: hinge/contingent pairs on shared sentence frames",
    "core": "the broad set",
}
"""What each curated fact set is for, shown under the title."""


def _csv(path: Path, results: Path) -> str | None:
    return Path(os.path.relpath(path, results)).as_posix() if path.is_file() else None


def _verdict_section(rows: list[VerdictRow], tables_dir: Path, results: Path, permutations: Any) -> Section:
    floor = (
        f" p shown as ≤ 1/{int(permutations) + 1:,} is the smallest a test with B = {int(permutations):,} permutations can give."
        if permutations
        else ""
    )
    section = Section(
        "verdicts",
        "Verdicts by question",
        [
            Text(
                f"One table per analysis, one row per test (α = {ALPHA}). The estimate is the statistic behind "
                "the verdict (for a beyond-surface verdict, the increment over the wording), with its 95% "
                "fact-bootstrap interval; 'decided by' is the p that decided it. Rows marked baseline, "
                "degenerate or not tested are not findings and are left out of agreement counts." + floor
            ),
            Text(f"Rule: {VERDICT_DEFINITION}."),
        ],
    )
    for anchor, question, analyses in QUESTIONS:
        child = Section(f"q-{anchor}", question)
        for analysis in analyses:
            mine = [r for r in rows if r.analysis == analysis]
            if not mine:
                continue
            mine.sort(key=lambda r: bool(r.control))
            csv = _csv(tables_dir / f"{analysis}.csv", results) or _csv(
                results / "elicitation" / f"{analysis}.csv", results
            )
            child.items.append(verdict_table(analysis, mine, csv))
        if child.items:
            section.children.append(child)
    rest = [r for r in rows if question_of(r.analysis) == "other"]
    if rest:
        child = Section("q-other", "Other analyses")
        for analysis in dict.fromkeys(r.analysis for r in rest):
            child.items.append(verdict_table(analysis, [r for r in rest if r.analysis == analysis], None))
        section.children.append(child)
    return section


def write_report(
    run: RunData,
    results: str | Path,
    study: Any = None,
    summary: dict[str, Any] | None = None,
    tables_dir: str | Path | None = None,
    compare: tuple[str, str, str, dict[str, Any]] | None = None,
) -> Path:
    """Write ``report.md``, ``report.html`` and ``figures/*.png`` under ``results``, from the tables in
    ``tables_dir`` (default: ``results/tables`` where it exists, else ``results``); with ``compare`` (another
    study's name, first model, folder and summary), a section on whether the two agree."""
    from beliefs.analyses import ANALYSES
    from beliefs.analyses.registry import SectionContext
    from beliefs.store.guard import check_output_dir

    results = Path(results)
    check_output_dir(results, "results", "results")  # as the CLI: never over a user's own files
    if tables_dir is None:
        tables_dir = results / "tables" if (results / "tables").is_dir() else results
    tables_dir = Path(tables_dir)
    fig_dir = results / "figures"
    if summary is None:
        summary = json.loads((tables_dir / "summary.json").read_text())
    tables = {p.stem: _read_table(p) for p in sorted(tables_dir.glob("*.csv"))}
    headlines = summary.get("headlines", [])
    permutations = summary.get("n_permutations")
    rows = verdict_rows(headlines, permutations)
    infos = run.models()
    models = [m.name for m in infos if not m.control]
    fact_set = str(summary.get("fact_set") or (results.name if study is not None else ""))
    if study is not None:
        title = f"beliefs study “{study.name}”" + (f": {fact_set} set" if fact_set else "")
    else:
        title = f"beliefs report: {results.name}"
    role = SET_ROLES.get(fact_set, "")
    subtitle = (
        (f"{role[0].upper()}{role[1:]}. " if role else "")
        + f"{summary.get('n_facts')} facts; models {', '.join(m.name for m in infos)}; conditions "
        f"{', '.join(run.conditions())}; {_count(permutations)} fact-level permutations; seed {summary.get('seed')}."
    )
    taken = {"top", "answer", "contents", "glossary"}
    forest_path = figures.forest(rows, models, fig_dir / "forest.png")
    forest = None
    if forest_path is not None:
        forest = figure_view(
            Figure(
                forest_path,
                "Kind headlines under the empty prompt: the statistic behind each verdict and its 95% interval, "
                "in units of its SESOI, with the random-init control (diamond) and the surface baseline (square)",
            ),
            results,
        )
    answer = AnswerCards(
        answer_cards(rows, models),
        forest,
        "Under the empty prompt (the start-of-text token alone); each question links to its evidence. "
        "Sizes are the statistic behind the verdict against its smallest effect of interest (SESOI).",
    )
    sections = [_verdict_section(rows, tables_dir, results, permutations)]
    for s in sections[0].children:
        taken.add(s.id)
    taken.add("verdicts")
    if compare is not None and study is not None:
        sections.append(_agreement_section(summary, study, compare))
        taken.add("agreement")
    blocks: list[Block] = [Heading("Per-layer curves")]
    for name in (a.name for a in ANALYSES.values() if a.curve is not None):
        if name in tables:
            path = figures.layer_curves(tables[name], name, fig_dir / f"{name}-layers.png")
            if path:
                blocks.append(
                    Figure(
                        path,
                        f"{names.analysis_name(name)} (`{name}`) per layer and condition: 95% intervals, "
                        f"layers with a max-statistic-adjusted p ≤ {ALPHA} marked",
                    )
                )
    for analysis in ANALYSES.values():
        if analysis.section is not None:
            mine = [h for h in headlines if h["analysis"] == analysis.name]
            context = SectionContext(analysis, run, tables, mine, fig_dir, _headline_table)
            blocks.extend(analysis.section(context))
    blocks.extend(_elicitation_blocks(results, headlines))
    blocks.append(Heading("Fact-set balance"))
    blocks.append(Table(_balance(run)))
    blocks.extend(_caveats(summary))
    if study is not None and study.description:
        blocks.append(Heading("About this study"))
        blocks.append(Paragraph(" ".join(study.description.split())))
        blocks.append(Paragraph(f"Headline of each analysis: {summary.get('headline_definition')}."))
    blocks.append(Heading("Provenance"))
    blocks.append(Table(_provenance(run, study)))
    sections.extend(section_views(blocks, results, taken))
    codes = {r.analysis for r in rows} | {r.shown_statistic for r in rows} | set(names.P_VALUES)
    page = Page(
        title,
        study.name if study is not None else "",
        fact_set,
        subtitle,
        report_links(results, study, fact_set, getattr(study, "compare_with", None)),
        answer,
        sections,
        names.glossary(codes),
    )
    atomic_write_text(results / "report.md", to_markdown(page))
    atomic_write_text(results / "report.html", to_html(page))
    return results / "report.md"


def _count(n: Any) -> str:
    x = finite(n)
    return f"{int(x):,}" if x is not None else "?"


def _agreement_section(
    summary: dict[str, Any], study: Any, compare: tuple[str, str, str, dict[str, Any]]
) -> Section:
    other_name, other_model, _, other_summary = compare
    table = agreement(summary, study.models[0], other_summary, other_model)
    section = Section("agreement", f"Agreement with the {other_name} study")
    if table.empty:
        section.items.append(Text(f"No finding of {study.models[0]} matches one of {other_model}."))
        return section
    n_agree = int((table["agree"] == "yes").sum())
    left = table.attrs.get("left_out", 0)
    section.items.append(
        Text(
            f"{study.models[0]} (this study) against {other_model} (the {other_name} study): **{n_agree} of "
            f"{len(table)}** findings agree (the same verdict; signed effects found in the same direction). "
            f"Left out: {left} headline pairs that are a baseline, degenerate or untested in either study."
        )
    )
    section.items.append(table_view(Table(table)))
    return section


def _elicitation_blocks(results: Path, headlines: list[Headline]) -> list[Block]:
    elicited = results / "elicitation" / "salience.csv"
    if not elicited.is_file():
        return []
    from beliefs.elicit import read_salience
    from beliefs.elicit.score import most_least_volunteered

    blocks: list[Block] = [Heading("Elicitation: what the model volunteers")]
    blocks.append(
        Paragraph(
            "The model's own continuations under each prompt condition (for `empty`, the start-of-text "
            "token alone), split into sentences and matched to the facts with minilm-l6. Salience: mean "
            "cosine of a statement to its 3 nearest generated sentences, corrected for hubness (CSLS: "
            "sentences close to every statement count for less); endorsement: salience of the true form "
            "minus that of the false form. The headline is the within-fact contrast of salience under "
            "`empty` against the detailed prompts, so that a fact close to any text gains nothing; its "
            "interval resamples facts and generated samples together."
        )
    )
    rows = [h for h in headlines if h["analysis"] == "elicitation"]
    if rows:
        blocks.append(Table(_headline_table(rows), "hinge − contingent, per condition"))
    table = most_least_volunteered(read_salience(results / "elicitation"), condition="empty", k=3)
    keep = [
        c for c in ("cell", "rank", "fact_id", "statement", "salience_true", "example") if c in table.columns
    ]
    blocks.append(Table(table[keep], "facts most and least volunteered under the empty prompt, per cell"))
    return blocks


def _caveats(summary: dict[str, Any]) -> list[Block]:
    confounded = sorted({h["model"] for h in summary.get("headlines", []) if h.get("surface_confound")})
    return [
        Heading("Caveats"),
        Paragraph(
            f"n = {summary.get('n_facts')} facts: cross-validated accuracies at this size carry about ±10 points "
            "of error (Varoquaux 2018); chance level is read from the permutation null, not from 0.5. "
            "The surface baseline (token count, baseline log-probability, bag of words) separates the kinds "
            "too: whether the states add anything beyond it is the beyond-surface test, and a difference found "
            "without one reads 'surface-explained'. A large p-value alone is not evidence of no difference: "
            "'equivalent' needs the TOST against the smallest effect of interest."
            + (f" Surface confound flagged for: {', '.join(confounded)}." if confounded else "")
        ),
        Paragraph(
            "Intervals resample facts. Headline intervals are BCa; per-layer bands are percentile intervals. "
            "Distances and angles are inflated by resampling and by small samples: a headline shown with "
            "'–' for its interval is one whose bootstrap lay almost wholly on one side of the estimate, where "
            "no interval can be trusted; read it against the null mean. The layer-0 column is the "
            "embedding layer with mean pooling (with last pooling it would be the final '.' of every statement)."
        ),
    ]
