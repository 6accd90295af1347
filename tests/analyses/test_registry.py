"""An analysis is one file: its question, cost, controls, per-layer figure and report section are registered
with it and read from the registry by the runner, the CLI and the report."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from beliefs.analyses import ANALYSES, AnalysisContext, Output, analyze, register, synthetic_run
from beliefs.analyses.context import headline, row
from beliefs.analyses.engine import _task_groups
from beliefs.analyses.registry import DEFAULT_COST, Curve, SectionContext, with_control
from beliefs.cli.study import hypotheses
from beliefs.report import write_report
from beliefs.results.document import Block, Figure, Heading, Table
from beliefs.stats import permutation_pvalues


def test_metadata_lives_with_each_analysis():
    assert ANALYSES["kind-probe"].cost == 22.0
    assert ANALYSES["surface"].cost == DEFAULT_COST
    assert with_control("surface") == ["kind-probe", "kind-distance"]
    curves = [a.name for a in ANALYSES.values() if a.curve is not None]
    assert curves == ["kind-probe", "kind-distance", "truth-geometry"]
    questions = hypotheses()
    assert list(questions)[-1] == "elicitation"
    assert "causal-trace" not in questions  # no question: not printed by ``beliefs study``
    assert questions["surface"].startswith("Surface features alone")


@pytest.fixture
def new_analysis():
    """A new analysis, registered the way a new module would register it; removed afterwards."""

    @register(
        "toy-analysis",
        question="A toy question",
        cost=50.0,
        controls=("surface",),
        curve=Curve("toy", "pooled", "toy statistic"),
    )
    def toy(ctx) -> Output:
        """A toy analysis."""
        return Output()

    yield ANALYSES["toy-analysis"]
    del ANALYSES["toy-analysis"]


def test_a_new_analysis_is_read_everywhere(new_analysis):
    assert new_analysis.description == "A toy analysis."
    assert hypotheses()["toy-analysis"] == "A toy question"
    assert "toy-analysis" in with_control("surface")

    ctx = SimpleNamespace(models=[SimpleNamespace(name=m, n_layers=2, width=2) for m in ("a", "b")])
    # the expensive new analysis gets a process of its own
    groups = _task_groups(ctx, [("a", "toy-analysis"), ("a", "surface"), ("b", "surface")], 2)
    assert [("a", "toy-analysis")] in groups


def test_register_refuses_duplicates_and_unknown_controls():
    with pytest.raises(ValueError, match="already registered"):
        register("kind-probe")(lambda ctx: Output())
    with pytest.raises(ValueError, match="unknown controls"):
        register("other", controls=("random-init",))
    assert "other" not in ANALYSES


MARGIN_GAP = "margin-gap"
MARGIN_GAP_QUESTION = "Under the empty prompt, hinge facts have larger margins than contingent ones"


def _margin_gap_section(s: SectionContext) -> list[Block]:
    """The new analysis's report section: its question, its table, its headlines and a figure."""
    from beliefs.plotting import pyplot, save_figure

    assert s.analysis.question is not None
    blocks: list[Block] = [Heading(s.analysis.question)]
    if s.table is None:
        return blocks
    blocks.append(Table(s.table[["model", "statistic", "estimate", "p_value"]], "margin gap per model"))
    blocks.append(Table(s.headline_table(s.headlines), "margin-gap headlines"))
    plt = pyplot()
    fig, ax = plt.subplots()
    ax.bar(s.table["model"], s.table["estimate"])
    blocks.append(Figure(save_figure(fig, s.fig_dir / f"{MARGIN_GAP}.png"), "hinge − contingent margin"))
    return blocks


def _margin_gap(ctx: AnalysisContext) -> Output:
    """Hinge − contingent mean margin under the empty prompt, with a fact-level permutation p."""
    out = Output()
    for model in (m for m in ctx.models if ctx.has_margins(m)):
        values = ctx.margins(model.name, "empty")["margin"].to_numpy()
        ok = np.isfinite(values)
        null = np.array([values[ok & (p == 1)].mean() - values[ok & (p == 0)].mean() for p in ctx.perms])
        p_value = float(permutation_pvalues(np.abs(null))[0])
        found = {"estimate": float(null[0]), "p_value": p_value, "n_facts": int(ok.sum())}
        out.rows.append(row(MARGIN_GAP, model, "empty", "margin_diff", **found))
        out.headlines.append(
            headline(MARGIN_GAP, model, "empty", "margin_diff", None, n_permutations=len(null) - 1, **found)
        )
    return out


@pytest.fixture
def margin_gap():
    """A new analysis with its own report section, registered here as a new module would register it;
    removed afterwards so that the other tests see the package's analyses only."""
    register(MARGIN_GAP, question=MARGIN_GAP_QUESTION, cost=0.5, section=_margin_gap_section)(_margin_gap)
    try:
        yield ANALYSES[MARGIN_GAP]
    finally:
        del ANALYSES[MARGIN_GAP]


def test_a_new_analysis_is_one_file(margin_gap, tmp_path):
    """Registered in one place (here), it is run, printed by the CLI and given its section by the report."""
    run = synthetic_run(n_facts=40, margin_effect=3.0)
    summary = analyze(run, tmp_path / "tables", analyses=[MARGIN_GAP], permutations=99, seed=0)
    assert hypotheses()[MARGIN_GAP] == MARGIN_GAP_QUESTION  # ``beliefs study`` prints it above its table

    table = pd.read_csv(tmp_path / "tables" / f"{MARGIN_GAP}.csv")
    margins = run.margins()
    empty = margins[margins["condition"] == "empty"]
    expected = empty.groupby("kind")["margin"].mean()
    assert table["estimate"].iloc[0] == pytest.approx(expected["hinge"] - expected["contingent"])
    assert table["p_value"].iloc[0] < 0.05  # the synthetic run's margins carry an effect

    md = write_report(run, tmp_path).read_text()
    section = md.split(f"## {MARGIN_GAP_QUESTION}\n", 1)
    assert len(section) == 2, "the report has no section for the new analysis"
    # after the per-layer curves and the package's own sections (registration order), before the generic tail
    heading = f"## {MARGIN_GAP_QUESTION}\n"
    assert md.index("## Geometry") < md.index(heading) < md.index("## Fact-set balance")
    body = section[1].split("\n## ", 1)[0]
    assert "*margin gap per model*" in body and f"{table['estimate'].iloc[0]:.3g}" in body
    assert f"![hinge − contingent margin](figures/{MARGIN_GAP}.png)" in body
    assert (tmp_path / "figures" / f"{MARGIN_GAP}.png").read_bytes().startswith(b"\x89PNG")
    verdicts = md.split("## Verdicts", 1)[1].split("\n## ", 1)[0]
    assert f"#### {MARGIN_GAP}" in verdicts and "statistic: margin diff" in verdicts  # its verdict table
    assert len(summary["headlines"]) == 1
    html = (tmp_path / "report.html").read_text()
    assert f'<h2>{MARGIN_GAP_QUESTION} <a class="anchor"' in html


def test_sections_of_the_package_are_registered_with_their_analyses():
    sections = [a.name for a in ANALYSES.values() if a.section is not None]
    assert sections == ["default-belief", "robustness", "causal-trace", "hingeness", "truth-geometry"]
