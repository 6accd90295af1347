"""The answer card: per model, one sentence per question with its verdict and size against the SESOI, and
the flag of a random-init control that "differs" too."""

from __future__ import annotations

from dataclasses import dataclass

from beliefs.report import names
from beliefs.report.rows import VerdictRow


@dataclass(frozen=True)
class Sentence:
    question: str
    anchor: str
    """Where the evidence is (an id in the page)."""
    verdict: str
    """The verdict word (``differs``, … ``not measured``), for styling."""
    label: str
    """The verdict as printed."""
    text: str
    flag: str = ""
    """A warning shown beside the sentence (a control that differs too)."""


@dataclass(frozen=True)
class Card:
    model: str
    sentences: list[Sentence]


def _control_of(row: VerdictRow, rows: list[VerdictRow]) -> VerdictRow | None:
    base = row.model.split("@")[0]
    return next(
        (
            r
            for r in rows
            if r.control
            and r.model.split("@")[0] == base
            and (r.analysis, r.statistic, r.condition, r.domain)
            == (row.analysis, row.statistic, row.condition, row.domain)
        ),
        None,
    )


def _sentence(question: str, anchor: str, row: VerdictRow, rows: list[VerdictRow]) -> Sentence:
    size = f"{names.statistic_name(row.shown_statistic)} {row.estimate}"
    if row.interval != "–":
        size += f" {row.interval}"
    if row.sesoi:
        size += f" against a SESOI of {row.sesoi}"
    text = f"{size}; {row.decided_by}." if row.decided_by != "–" else f"{size}."
    flag = ""
    control = _control_of(row, rows)
    if control is not None:
        if control.verdict_word == "differs":
            flag = f"the random-init control differs too ({control.estimate} {control.interval})"
        else:
            text += f" Random-init control: {control.verdict}."
    return Sentence(question, anchor, row.verdict_word, row.verdict, text, flag)


def _kind_rows(model_rows: list[VerdictRow]) -> list[VerdictRow]:
    """The primary headline (pooled) and the same test per domain (secondary headlines, possibly withheld
    by the primary's gate), pooled first."""
    primary = [r for r in model_rows if r.family == "primary" and r.counts]
    keys = {(r.analysis, r.statistic, r.condition) for r in primary}
    if primary:
        rows = primary + [
            r
            for r in model_rows
            if r.domain and (r.analysis, r.statistic, r.condition) in keys and r.status in ("tested", "gated")
        ]
    else:
        rows = [r for r in model_rows if r.analysis == "kind-probe" and r.condition == "empty" and r.counts]
    return sorted(rows, key=lambda r: (r.domain != "", r.domain))


def answer_cards(rows: list[VerdictRow], models: list[str]) -> list[Card]:
    """One card per model (controls excluded), in ``models`` order."""
    cards = []
    for model in models:
        mine = [r for r in rows if r.model == model and not r.control]
        sentences: list[Sentence] = []
        kind = _kind_rows(mine)
        for r in kind:
            where = f" ({r.domain})" if r.domain else (" (pooled)" if any(k.domain for k in kind) else "")
            sentences.append(_sentence(f"Kind beyond the wording{where}", "q-kind", r, rows))
        if not kind:
            sentences.append(Sentence("Kind beyond the wording", "q-kind", "none", "not measured", ""))
        for question, anchor, analysis, statistic in (
            ("Default belief", "q-default", "default-belief", "margin_per_token_diff"),
            ("Hingeness matches the labels", "q-hingeness", "hingeness", "hingeness_auroc"),
        ):
            found = next(
                (
                    r
                    for r in mine
                    if r.analysis == analysis
                    and r.statistic == statistic
                    and r.condition == "empty"
                    and r.counts
                ),
                None,
            )
            if found is None:
                sentences.append(Sentence(question, anchor, "none", "not measured", "for this model."))
            else:
                sentences.append(_sentence(question, anchor, found, rows))
        traced = [r for r in mine if r.analysis == "causal-trace" and r.counts]
        if not traced:
            sentences.append(
                Sentence("Localisation", "q-localisation", "none", "not measured", "for this model.")
            )
        else:
            differ = [r for r in traced if r.verdict_word == "differs"]
            lead = differ[0] if differ else traced[0]
            words = sorted({r.verdict for r in traced})
            text = (
                f"{len(differ)} of {len(traced)} causal-tracing statistics differ"
                + (f" (verdicts: {', '.join(words)})" if not differ else f"; e.g. {lead.statistic}")
                + "."
            )
            sentences.append(
                Sentence(
                    "Localisation",
                    "q-localisation",
                    "differs" if differ else lead.verdict_word,
                    lead.verdict
                    if differ
                    else ("no difference found" if lead.verdict_word != "equivalent" else "equivalent"),
                    text,
                )
            )
        cards.append(Card(model, sentences))
    return cards
