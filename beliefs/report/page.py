"""The report's data model: one :class:`Page` that the HTML and the Markdown templates both render.

The analyses' own sections arrive as blocks (:mod:`beliefs.results.document`); :func:`section_views`
turns them into the views below: a level-2 heading opens a section, tables get formatted cells, figures a
"what to look for" line."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from beliefs.report import names
from beliefs.report.answer import Card
from beliefs.report.numbers import finite, num
from beliefs.report.rows import VerdictRow
from beliefs.results.document import Block, Figure, Heading, Paragraph, Table

HEADLINES_ATTR = "beliefs_headlines"
"""Set in ``DataFrame.attrs`` by the report's headline table: such a table is shown as a link to the
analysis's verdict table, not repeated."""

LOOK_FOR: dict[str, str] = {
    "forest": "Points right of the grey band are effects larger than the smallest of interest; a red "
    "diamond is a random-init control that differs too, which would make the model's difference suspect.",
    "kind-probe-layers": "Where the curve rises above the grey null band, the kinds are separable at that "
    "layer; compare the conditions' curves for prompt dependence.",
    "kind-distance-layers": "Distances above the null band separate the kinds beyond the small-sample floor.",
    "truth-geometry-layers": "An angle near 0° means one truth direction serves both kinds.",
    "hingeness-layers": "Partial RSA above 0 (outside the null band) means the states organise by "
    "hingeness or kind beyond the wording.",
    "hingeness": "Hinges (red) above contingent facts (blue) means what the model treats as bedrock agrees "
    "with the authors' labels; labelled points are the exceptions.",
    "default-belief": "Bars above 0.5: the true form is preferred; compare hinge (red) with contingent (blue).",
    "robustness": "Boxes above 0: the margin moves toward what the context claims; compare the kinds.",
    "truth-transfer": "Off-diagonal cells as bright as the diagonal mean a truth probe transfers between kinds.",
    "projection": "Separation of red and blue points in the left panel is the kind difference a probe can use.",
    "causal": "Where restoring the states recovers the margin, by layer and position; the right column is "
    "hinge − contingent.",
}


@dataclass(frozen=True)
class Link:
    label: str
    href: str
    current: bool = False


@dataclass(frozen=True)
class Text:
    text: str
    kind: str = "text"


@dataclass(frozen=True)
class Subheading:
    text: str
    id: str
    kind: str = "subheading"


@dataclass(frozen=True)
class TableView:
    columns: list[str]
    rows: list[list[str]]
    caption: str = ""
    tips: dict[str, str] = field(default_factory=dict)
    """Column → its code name, shown as a tooltip."""
    kind: str = "table"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    tip: str = ""


@dataclass(frozen=True)
class VerdictTable:
    id: str
    title: str
    analysis: str
    csv: str | None
    columns: list[Column]
    rows: list[VerdictRow]
    note: str = ""
    kind: str = "verdicts"

    def cell(self, row: VerdictRow, key: str) -> str:
        return _verdict_cell(row, key)


@dataclass(frozen=True)
class FigureView:
    src: str
    """Path relative to the report (the full-size file)."""
    data: str
    """The image as a data URI (the HTML is self-contained)."""
    caption: str
    look_for: str
    kind: str = "figure"


@dataclass(frozen=True)
class SeeVerdicts:
    analysis: str
    anchor: str
    kind: str = "see"


Item = Text | Subheading | TableView | VerdictTable | FigureView | SeeVerdicts


@dataclass
class Section:
    id: str
    title: str
    items: list[Item] = field(default_factory=list)
    children: list[Section] = field(default_factory=list)


@dataclass(frozen=True)
class AnswerCards:
    cards: list[Card]
    forest: FigureView | None
    basis: str
    """One line on what the sentences are based on."""


@dataclass
class Page:
    title: str
    study: str
    fact_set: str
    subtitle: str
    links: list[Link]
    answer: AnswerCards
    sections: list[Section]
    glossary: list[tuple[str, str]]


def slug(text: str) -> str:
    out = "".join(c.lower() if c.isalnum() else "-" for c in text)
    return "-".join(p for p in out.split("-") if p)[:60] or "section"


def figure_view(fig: Figure, base: Path) -> FigureView:
    stem = fig.path.stem
    key = next((k for k in sorted(LOOK_FOR, key=len, reverse=True) if stem.startswith(k)), "")
    data = "data:image/png;base64," + base64.b64encode(fig.path.read_bytes()).decode("ascii")
    try:
        src = fig.path.relative_to(base).as_posix()
    except ValueError:
        src = fig.path.name
    return FigureView(src, data, fig.caption, LOOK_FOR.get(key, ""))


def _format(value: Any) -> str:
    if isinstance(value, float):
        return num(value) if finite(value) is not None else "–"
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    return str(value)


def table_view(table: Table) -> TableView:
    frame = table.frame
    columns = [str(c) for c in frame.columns]
    plain = [names.STATISTICS.get(c, names.ANALYSES.get(c, c)).replace("_", " ") for c in columns]
    tips = {p: c for p, c in zip(plain, columns, strict=True) if p != c}
    rows = [[_format(v) for v in row] for row in frame.itertuples(index=False)]
    rows = [[names.statistic_name(v) if v in names.STATISTICS else v for v in row] for row in rows]
    return TableView(plain, rows, table.caption, tips)


def section_views(blocks: list[Block], base: Path, taken: set[str]) -> list[Section]:
    """The analyses' blocks as sections: each level-2 heading opens one; a level-3 heading is a subheading;
    a headline table becomes a link to the analysis's verdict table."""
    sections: list[Section] = []
    for b in blocks:
        if isinstance(b, Heading) and b.level <= 2:
            ident = _unique(slug(b.text), taken)
            sections.append(Section(ident, b.text))
            continue
        if not sections:
            sections.append(Section(_unique("section", taken), "Details"))
        current = sections[-1]
        if isinstance(b, Heading):
            current.items.append(Subheading(b.text, _unique(slug(b.text), taken)))
        elif isinstance(b, Paragraph):
            current.items.append(Text(b.text))
        elif isinstance(b, Table):
            headlines = b.frame.attrs.get(HEADLINES_ATTR)
            if headlines:
                analysis = str(headlines[0].get("analysis"))
                current.items.append(SeeVerdicts(names.analysis_name(analysis), f"v-{analysis}"))
            else:
                current.items.append(table_view(b))
        else:
            current.items.append(figure_view(b, base))
    return sections


def _unique(ident: str, taken: set[str]) -> str:
    out, n = ident, 2
    while out in taken:
        out, n = f"{ident}-{n}", n + 1
    taken.add(out)
    return out


VERDICT_COLUMNS = (
    Column("model", "model"),
    Column("condition", "condition"),
    Column("domain", "domain"),
    Column("statistic", "statistic"),
    Column(
        "estimate", "estimate [95% CI]", "the statistic behind the verdict and its fact-bootstrap interval"
    ),
    Column("sesoi", "SESOI", "smallest effect size of interest"),
    Column("verdict", "verdict"),
    Column("decided_by", "decided by", "the p-value that decided the verdict"),
    Column("p_value", "plain p", "p_value: fact-level permutation test"),
    Column("p_beyond_surface", "beyond-surface p", "p_beyond_surface: the test of kind given the wording"),
    Column("p_family", "family-adjusted p", "p_family: Holm-adjusted within the headline's family"),
    Column("p_equivalence", "TOST p", "p_equivalence: two one-sided tests against ±SESOI"),
    Column("mde", "MDE 80%", "effect detectable with 80% power"),
)


def _verdict_cell(row: VerdictRow, key: str) -> str:
    if key == "model":
        return row.model_label
    if key == "statistic":
        return names.statistic_name(row.shown_statistic)
    if key == "estimate":
        return row.estimate if row.interval == "–" else f"{row.estimate} {row.interval}"
    return str(getattr(row, key))


def verdict_table(analysis: str, rows: list[VerdictRow], csv: str | None) -> VerdictTable:
    """One analysis's rows, with only the columns that apply to them (a column empty in every row, or a
    condition, domain or statistic that is the same in every row, is left out)."""

    def varies(key: str) -> bool:
        return len({_verdict_cell(r, key) for r in rows}) > 1

    keep = []
    for col in VERDICT_COLUMNS:
        if col.key in ("condition", "domain", "statistic") and not varies(col.key):
            continue
        if col.key not in ("model", "verdict", "estimate") and all(
            _verdict_cell(r, col.key) in ("", "–") for r in rows
        ):
            continue
        keep.append(col)
    stats = {names.statistic_name(r.shown_statistic) for r in rows}
    note = ""
    if not varies("statistic") and stats:
        note = f"statistic: {stats.pop()}"
    return VerdictTable(f"v-{analysis}", names.analysis_name(analysis), analysis, csv, keep, rows, note=note)
