"""The report renders every figure, in Markdown and in self-contained HTML."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from beliefs.analyses import analyze, synthetic_run
from beliefs.report import verdict, write_report


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    run = synthetic_run()
    analyze(run, out / "tables", permutations=99, seed=0)
    write_report(run, out)
    return out


def test_markdown_and_html_have_the_same_figures(report_dir: Path) -> None:
    md = (report_dir / "report.md").read_text()
    html = (report_dir / "report.html").read_text()
    linked = re.findall(r"!\[[^\]]*\]\((figures/[^)]+\.png)\)", md)
    assert len(linked) >= 6
    for rel in linked:
        assert (report_dir / rel).read_bytes().startswith(b"\x89PNG")
    assert html.count("src='data:image/png;base64,") == len(linked)
    assert "<script" not in html and "http" not in html.split("<body>")[1]  # self-contained


def test_report_sections(report_dir: Path) -> None:
    md = (report_dir / "report.md").read_text()
    for section in (
        "## Verdicts",
        "## Per-layer curves",
        "## Default belief",
        "## Robustness",
        "## Geometry",
        "## Fact-set balance",
        "## Caveats",
        "## Provenance",
    ):
        assert section in md


def test_verdict_sentence_has_figures() -> None:
    h = {
        "analysis": "kind-probe",
        "statistic": "logistic_bacc",
        "model": "m",
        "condition": "empty",
        "layers": [9, 21],
        "estimate": 0.71,
        "ci_low": 0.64,
        "ci_high": 0.78,
        "p_value": 0.002,
        "surface_estimate": 0.55,
        "beats_surface": True,
    }
    text = verdict(h)
    assert text.startswith("FOUND: ")
    assert (
        "layers 9–21" in text and "0.710 [0.640, 0.780]" in text and "p = 0.0020" in text and "0.550" in text
    )
    missed = verdict({**h, "p_value": 0.3, "null_critical": 0.62, "null_mean": 0.5, "n_facts": 120})
    assert missed.startswith("not found: ")
    assert "with 120 facts an estimate above 0.620 (null mean 0.500) was needed for p ≤ 0.05" in missed


def test_agreement_between_studies() -> None:
    from beliefs.report.build import agreement

    def h(model: str, stat: str, est: float, p: float) -> dict[str, object]:
        return {
            "analysis": "a",
            "condition": "empty",
            "statistic": stat,
            "control": "",
            "model": model,
            "estimate": est,
            "p_value": p,
        }

    mine = {
        "headlines": [h("m1", "acc", 0.8, 0.001), h("m1", "margin_diff", 0.5, 0.01), h("m1", "x", 1, 0.5)]
    }
    other = {
        "headlines": [h("m2", "acc", 0.7, 0.002), h("m2", "margin_diff", -0.4, 0.02), h("m2", "x", 1, 0.01)]
    }
    table = agreement(mine, "m1", other, "m2").set_index("statistic")
    assert table.loc["acc", "agree"] == "yes"
    assert table.loc["margin_diff", "agree"] == "NO"  # both found, opposite directions
    assert table.loc["x", "agree"] == "NO"  # found in one only
