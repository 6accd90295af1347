"""Assemble the report of a run: verdicts, per-layer curves, each analysis's own section (registered with
it), elicitation, balance, caveats, provenance."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from beliefs.fileio import atomic_write_text
from beliefs.report import figures
from beliefs.report.render import to_html, to_markdown
from beliefs.results.document import Block, Figure, Heading, Paragraph, Table
from beliefs.results.formats import fmt_number as _fmt
from beliefs.results.formats import fmt_p as _p
from beliefs.results.headline import Headline
from beliefs.results.verdict import ALPHA, VERDICT_DEFINITION, significant, verdict_label, verdict_word
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
    """The report's first table, and each section's headline table: per headline, the plain,
    beyond-surface and equivalence p and the verdict."""
    rows = []
    for h in headlines:
        rows.append(
            {
                "analysis": h["analysis"],
                "model": h["model"],  # a control is named model@control
                "condition": h["condition"],
                "statistic": h["statistic"],
                "estimate": h.get("estimate"),
                "95% CI": f"[{_fmt(h.get('ci_low'))}, {_fmt(h.get('ci_high'))}]",
                "p": _p(h.get("p_value")),
                "p beyond surface": _p(h.get("p_beyond_surface")),
                "p equivalence": _p(h.get("p_equivalence")),
                "SESOI": h.get("sesoi"),
                "MDE 80%": h.get("mde_80"),
                "verdict": verdict_label(h),
                "n_facts": h.get("n_facts"),
                "surface": h.get("surface_estimate"),
                "layer 0 (mean pooling)": h.get("layer0_estimate"),
            }
        )
    return pd.DataFrame(rows)


def _balance(run: RunData) -> pd.DataFrame:
    facts = run.facts()
    words = facts["statement"].map(lambda s: len(str(s).split()))
    grouped = facts.assign(words=words).groupby(["domain", "kind"], sort=True)["words"]
    table = grouped.agg(["count", "mean", "std"]).reset_index()
    return table.rename(columns={"count": "facts", "mean": "words mean", "std": "words SD"})


def _provenance(run: RunData, study: Any) -> pd.DataFrame:
    manifest = getattr(run, "manifest", None)
    manifest = manifest() if callable(manifest) else (manifest or {})
    rows: list[tuple[str, str]] = []
    for key in ("tool_version", "git_commit", "separator"):
        if key in manifest:
            rows.append((key, json.dumps(manifest[key])))
    for name, info in (manifest.get("models") or {}).items():
        detail = {
            k: info.get(k)
            for k in ("backend", "identity", "dtype", "device", "start_token")
            if info.get(k) is not None
        }
        rows.append((f"model {name}", json.dumps(_public(detail))))
    for name, info in (manifest.get("fact_sets") or {}).items():
        rows.append((f"fact set {name}", json.dumps(_public(info))))
    packages = manifest.get("packages") or {}
    if packages:
        rows.append(("packages", ", ".join(f"{k} {v}" for k, v in sorted(packages.items()))))
    if study is not None:
        rows.append(("seed", str(study.seed)))
        rows.append(("permutations", str(study.permutations)))
    return pd.DataFrame(rows, columns=["item", "value"])


def _public(value: Any) -> Any:
    """``value`` with every local path cut to its last part: a report is shared, the machine's folders
    (user names, home folders) are not part of it. File hashes say which file it was."""
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_public(v) for v in value]
    if isinstance(value, str) and (
        value.startswith(("/", "~", "./", "../")) or re.match(r"^[A-Za-z]:[\\/]", value)
    ):
        return Path(value).name
    return value


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
    """Headline by headline (same analysis, condition, statistic, control), whether two studies agree:
    the same verdict, and where both find a signed effect, in the same direction."""

    def index(s: dict[str, Any], m: str) -> dict[tuple[str, str, str, str], Headline]:
        return {
            (h["analysis"], h["condition"], h["statistic"], h.get("control") or ""): h
            for h in s.get("headlines", [])
            if h["model"].split("@")[0] == m
        }

    mine, theirs = index(summary, model), index(other, other_model)
    rows = []
    for key in [k for k in mine if k in theirs]:
        a, b = mine[key], theirs[key]
        word_a, word_b = verdict_word(a), verdict_word(b)
        agree = word_a == word_b
        if agree and significant(a.get("p_value"), alpha) and any(t in key[2] for t in SIGNED):
            est_a, est_b = a.get("estimate"), b.get("estimate")
            agree = est_a is not None and est_b is not None and (est_a > 0) == (est_b > 0)
        rows.append(
            {
                "analysis": key[0],
                "condition": key[1],
                "statistic": key[2],
                "control": key[3],
                model: f"{_fmt(a.get('estimate'))} (p {_p(a.get('p_value'))}, {word_a})",
                other_model: f"{_fmt(b.get('estimate'))} (p {_p(b.get('p_value'))}, {word_b})",
                "agree": "yes" if agree else "NO",
            }
        )
    return pd.DataFrame(rows)


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
    from beliefs.analyses.runner import check_run_data
    from beliefs.store.guard import check_output_dir

    check_run_data(run)
    results = Path(results)
    check_output_dir(results, "results", "results")  # as the CLI: never over a user's own files
    if tables_dir is None:
        tables_dir = results / "tables" if (results / "tables").is_dir() else results
    tables_dir = Path(tables_dir)
    fig_dir = results / "figures"
    if summary is None:
        summary = json.loads((tables_dir / "summary.json").read_text())
    tables = {p.stem: _read_table(p) for p in sorted(tables_dir.glob("*.csv"))}
    title = f"beliefs study: {study.name}" if study is not None else f"beliefs report: {results.name}"
    blocks: list[Block] = [Heading(title, 1)]
    if study is not None and study.description:
        blocks.append(Paragraph(" ".join(study.description.split())))
    models = run.models()
    blocks.append(
        Paragraph(
            f"{summary.get('n_facts')} facts; models: {', '.join(m.name for m in models)}; conditions: "
            f"{', '.join(run.conditions())}; {summary.get('n_permutations')} fact-level permutations; "
            f"seed {summary.get('seed')}. Headline of each analysis: {summary.get('headline_definition')}."
        )
    )
    blocks.append(Heading("Verdicts"))
    blocks.append(
        Table(
            _headline_table(summary.get("headlines", [])),
            "Every headline: p from the fact-level permutation null (observed counted), the beyond-surface "
            "test's p, the equivalence (TOST) p against the smallest effect of interest, the effect detectable "
            "with 80% power, and the verdict",
        )
    )
    blocks.append(
        Paragraph(f"Verdicts (α = {ALPHA}): {summary.get('verdict_definition') or VERDICT_DEFINITION}.")
    )
    for h in summary.get("headlines", []):
        if h["condition"] == "empty" and not h.get("control"):
            blocks.append(Paragraph(verdict(h)))
    if compare is not None and study is not None:
        other_name, other_model, other_path, other_summary = compare
        table = agreement(summary, study.models[0], other_summary, other_model)
        blocks.append(Heading(f"Agreement with the {other_name} study"))
        if table.empty:
            blocks.append(Paragraph(f"No headline of {study.models[0]} matches one of {other_model}."))
        else:
            n_agree = int((table["agree"] == "yes").sum())
            blocks.append(
                Paragraph(
                    f"{study.models[0]} (this study) against {other_model} ({_public(str(other_path))}): {n_agree} of "
                    f"{len(table)} headlines agree (the same verdict; signed effects found in the same "
                    "direction)."
                )
            )
            blocks.append(Table(table))
    blocks.append(Heading("Per-layer curves"))
    from beliefs.analyses import ANALYSES
    from beliefs.analyses.registry import SectionContext

    for name in (a.name for a in ANALYSES.values() if a.curve is not None):
        if name in tables:
            path = figures.layer_curves(tables[name], name, fig_dir / f"{name}-layers.png")
            if path:
                blocks.append(
                    Figure(path, f"{name} per layer and condition, 95% intervals, p_adj ≤ {ALPHA} marked")
                )
    # each analysis's own section, in registration order (``register(..., section=…)``)
    for analysis in ANALYSES.values():
        if analysis.section is not None:
            headlines = [h for h in summary.get("headlines", []) if h["analysis"] == analysis.name]
            context = SectionContext(analysis, run, tables, headlines, fig_dir, _headline_table)
            blocks.extend(analysis.section(context))
    elicited = results / "elicitation" / "salience.csv"
    if elicited.is_file():
        from beliefs.elicit import read_salience
        from beliefs.elicit.score import most_least_volunteered

        blocks.append(Heading("Elicitation: what the model volunteers"))
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
        rows = [h for h in summary.get("headlines", []) if h["analysis"] == "elicitation"]
        if rows:
            blocks.append(Table(_headline_table(rows), "hinge − contingent, per condition"))
        table = most_least_volunteered(read_salience(results / "elicitation"), condition="empty", k=3)
        keep = [
            c
            for c in ("cell", "rank", "fact_id", "statement", "salience_true", "example")
            if c in table.columns
        ]
        blocks.append(Table(table[keep], "facts most and least volunteered under the empty prompt, per cell"))
    blocks.append(Heading("Fact-set balance"))
    blocks.append(Table(_balance(run)))
    blocks.append(Heading("Caveats"))
    confounded = sorted({h["model"] for h in summary.get("headlines", []) if h.get("surface_confound")})
    blocks.append(
        Paragraph(
            f"n = {summary.get('n_facts')} facts: cross-validated accuracies at this size carry about ±10 points "
            "of error (Varoquaux 2018); chance level is read from the permutation null, not from 0.5. "
            "The surface baseline (token count, baseline log-probability, bag of words) separates the kinds "
            "too: whether the states add anything beyond it is the beyond-surface test, and a difference found "
            "without one reads 'surface-explained'. A large p-value alone is not evidence of no difference: "
            "'equivalent' needs the TOST against the smallest effect of interest."
            + (f" Surface confound flagged for: {', '.join(confounded)}." if confounded else "")
        )
    )
    blocks.append(
        Paragraph(
            "Intervals resample facts. Headline intervals are BCa; per-layer bands are percentile intervals. "
            "Distances and angles are inflated by resampling and by small samples: a headline shown with "
            "'–' for its interval is one whose bootstrap lay almost wholly on one side of the estimate, where "
            "no interval can be trusted; read it against the null mean. The layer-0 column is the "
            "embedding layer with mean pooling (with last pooling it would be the final '.' of every statement)."
        )
    )
    blocks.append(Heading("Provenance"))
    blocks.append(Table(_provenance(run, study)))
    atomic_write_text(results / "report.md", to_markdown(blocks, results))
    atomic_write_text(results / "report.html", to_html(blocks, title))
    return results / "report.md"
