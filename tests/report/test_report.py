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


@pytest.mark.slow
def test_markdown_and_html_have_the_same_figures(report_dir: Path) -> None:
    md = (report_dir / "report.md").read_text()
    html = (report_dir / "report.html").read_text()
    linked = re.findall(r"!\[[^\]]*\]\((figures/[^)]+\.png)\)", md)
    assert len(linked) >= 6
    for rel in linked:
        assert (report_dir / rel).read_bytes().startswith(b"\x89PNG")
        assert f'<a href="{rel}" title="open full size">' in html  # full size on click
    assert html.count('src="data:image/png;base64,') == len(linked)
    assert "<script" not in html and "http" not in html.split("<body>")[1]  # self-contained


@pytest.mark.slow
def test_report_sections(report_dir: Path) -> None:
    md = (report_dir / "report.md").read_text()
    for section in (
        "## The answer",
        "## Verdicts by question",
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
        "p_beyond_surface": 0.01,
        "surface_estimate": 0.55,
        "sesoi": 0.03,
        "p_equivalence": 0.9,
    }
    text = verdict(h)
    assert text.startswith("DIFFERS: ")
    assert "layers 9–21" in text and "0.710 [0.640, 0.780]" in text and "p = 0.0020" in text
    assert "beyond surface p = 0.0100" in text and "0.550" in text and "equivalence p = 0.9000" in text
    assert verdict({**h, "p_beyond_surface": 0.3}).startswith("SURFACE-EXPLAINED: ")
    plain = verdict({k: v for k, v in h.items() if k != "p_beyond_surface"})
    assert plain.startswith("SURFACE-EXPLAINED: ") and "no beyond-surface test" in plain
    missed = verdict({**h, "p_value": 0.3, "p_beyond_surface": 0.3, "mde_80": 0.12, "n_facts": 120})
    assert missed.startswith("INCONCLUSIVE: ")
    assert "with 120 facts the test detects an effect of 0.120 with 80% power" in missed
    assert verdict({**h, "p_value": 0.3, "p_beyond_surface": 0.3, "p_equivalence": 0.01}).startswith(
        "EQUIVALENT: "
    )
    assert verdict({**h, "p_value": 0.3}).startswith("DIFFERS: ")  # beyond surface only
    assert verdict({**h, "p_equivalence": 0.01}).startswith("DIFFERS (NEGLIGIBLE): ")
    # a stored verdict is shown as it is
    assert verdict({**h, "verdict": "inconclusive"}).startswith("INCONCLUSIVE: ")


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
            "p_equivalence": 0.5,
        }

    mine = {
        "headlines": [h("m1", "acc", 0.8, 0.001), h("m1", "margin_diff", 0.5, 0.01), h("m1", "x", 1, 0.5)]
    }
    other = {
        "headlines": [h("m2", "acc", 0.7, 0.002), h("m2", "margin_diff", -0.4, 0.02), h("m2", "x", 1, 0.01)]
    }
    table = agreement(mine, "m1", other, "m2")
    table = table.set_index(table["statistic"].str.replace(" ", "_"))
    assert table.loc["acc", "agree"] == "yes"
    assert table.attrs["left_out"] == 0
    assert table.loc["margin_diff", "agree"] == "NO"  # both found, opposite directions
    assert table.loc["x", "agree"] == "NO"  # found in one only
    assert (
        "found; no beyond-surface test" in table.loc["acc", "m1"] and "inconclusive" in table.loc["x", "m1"]
    )


@pytest.mark.slow
def test_verdict_tables_have_the_deciding_p_and_how(report_dir: Path) -> None:
    md = (report_dir / "report.md").read_text()
    heads = [line for line in md.splitlines() if line.startswith("| model ") and "| verdict |" in line]
    for col in ("| verdict |", "| plain p |", "| how this verdict was reached |"):
        assert all(col in head for head in heads)
    assert any("| decided by |" in head for head in heads)  # only where some verdict was decided
    words = re.findall(r"\| (differs|surface-explained|equivalent|inconclusive)( \(negligible\))? \|", md)
    assert len(words) >= 10
    html = (report_dir / "report.html").read_text()
    assert html.count("<summary>how this verdict was reached</summary>") >= 10


def test_hingeness_section_renders(tmp_path: Path) -> None:
    run = synthetic_run(
        n_facts=40,
        conditions=("empty", "encyclopedia", "fiction", "support", "contradict"),
        random_init_control=True,
        absent_share=0.0,
    )
    analyze(run, tmp_path / "tables", analyses=["hingeness"], permutations=49, seed=0)
    write_report(run, tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert "What the model treats as a hinge" in md
    for png in ("figures/hingeness.png", "figures/hingeness-layers.png"):
        assert f"]({png})" in md and (tmp_path / png).read_bytes().startswith(b"\x89PNG")
    assert "reliability_index_contrast" in md and "readout_r2" in md


def test_report_keeps_the_users_folder_and_names_no_local_path(tmp_path: Path) -> None:
    import beliefs
    from beliefs.errors import UsageError

    facts = tmp_path / "core.yaml"
    facts.write_text(
        "schema_version: 1\nname: core\nfacts:\n"
        + "".join(
            f"  - {{id: f{i}, domain: {'logical' if i % 2 else 'physical'}, "
            f"kind: {'hinge' if (i // 2) % 2 else 'contingent'}, statement: The city {i} is in France., "
            f"false_statement: The city {i} is on the Moon., note: n}}\n"
            for i in range(8)
        )
    )
    (tmp_path / "c.yaml").write_text('- name: empty\n  prefix: ""\n')
    run = beliefs.probe("fake:llama", [facts], tmp_path / "c.yaml", tmp_path / "run")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes")
    with pytest.raises(UsageError, match="not a beliefs results folder"):
        write_report(run, mine)
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    out = tmp_path / "results"
    analyze(run, out, analyses=["kind-probe"], permutations=9)
    write_report(run, out)
    for name in ("report.md", "report.html"):
        text = (out / name).read_text()
        assert str(tmp_path) not in text and "core.yaml" in text
