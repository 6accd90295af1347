"""``beliefs compare``: figures within a tolerance, differences listed, verdict changes named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from beliefs.analyses import analyze, synthetic_run
from beliefs.cli import app
from beliefs.compare import compare_results
from beliefs.errors import UsageError


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("a") / "results"
    analyze(
        synthetic_run(n_facts=24, seed=1, effect=0.8),
        out,
        analyses=["surface", "default-belief"],
        permutations=49,
    )
    return out


def copy(results: Path, tmp_path: Path) -> Path:
    other = tmp_path / "b"
    shutil.copytree(results, other)
    return other


def edit_table(folder: Path, name: str, row: int, column: str, change) -> tuple[float, float]:
    table = pd.read_csv(folder / f"{name}.csv")
    before = float(table.loc[row, column])
    table.loc[row, column] = change(before)
    table.to_csv(folder / f"{name}.csv", index=False)
    return before, float(table.loc[row, column])


def test_identical_folders_agree(results, tmp_path):
    result = compare_results(results, copy(results, tmp_path))
    assert result.agrees and result.max_abs == 0 and result.n_figures > 100
    n_values = sum(
        pd.read_csv(p)
        .drop(
            columns=["analysis", "model", "control", "condition", "subset", "pooling", "statistic", "layer"]
        )
        .size
        for p in results.glob("*.csv")
    )
    assert result.n_figures >= n_values


def test_a_small_difference_is_within_the_tolerance(results, tmp_path):
    other = copy(results, tmp_path)
    edit_table(other, "surface", 0, "estimate", lambda v: v + 4e-4)
    result = compare_results(results, other)
    assert result.agrees and result.max_abs == pytest.approx(4e-4, abs=1e-9)


def test_a_large_difference_is_listed(results, tmp_path):
    other = copy(results, tmp_path)
    edit_table(other, "surface", 0, "estimate", lambda v: v + 0.05)
    result = compare_results(results, other)
    assert not result.agrees and len(result.differences) == 1
    d = result.differences[0]
    assert d.column == "estimate" and d.where.startswith("surface[") and d.delta == pytest.approx(0.05)
    assert compare_results(results, other, atol=0.1).agrees


def test_a_changed_verdict_is_named(results, tmp_path):
    """Without a ``verdict`` key (older summaries), a change of p across 0.05 is the verdict change."""
    base, other = copy(results, tmp_path / "a"), copy(results, tmp_path / "b")
    for folder in (base, other):
        summary = json.loads((folder / "summary.json").read_text())
        for head in summary["headlines"]:
            for key in [k for k in head if k == "verdict" or k.endswith("_family") or k == "decided_by"]:
                head.pop(key)
        (folder / "summary.json").write_text(json.dumps(summary))
    summary = json.loads((other / "summary.json").read_text())
    h = summary["headlines"][0]
    h["p_value"] = 0.01 if (h["p_value"] or 1) > 0.05 else 0.5
    (other / "summary.json").write_text(json.dumps(summary))
    result = compare_results(base, other, atol=1.0)
    assert result.differences == [] and len(result.verdicts) == 1
    assert h["analysis"] in result.verdicts[0] and "→" in result.verdicts[0]


def test_an_explicit_verdict_key_is_compared(results, tmp_path):
    a, b = copy(results, tmp_path / "x"), copy(results, tmp_path / "y")
    for folder, verdict in ((a, "supported"), (b, "not supported")):
        summary = json.loads((folder / "summary.json").read_text())
        summary["headlines"][1]["verdict"] = verdict
        (folder / "summary.json").write_text(json.dumps(summary))
    result = compare_results(a, b)
    assert result.verdicts and "supported → not supported" in result.verdicts[0]


def test_cli_exit_codes(results, tmp_path):
    other = copy(results, tmp_path)
    runner = CliRunner()
    ok = runner.invoke(app, ["compare", str(results), str(other)])
    assert ok.exit_code == 0 and "agree within the tolerance" in ok.output
    edit_table(other, "surface", 0, "estimate", lambda v: v + 0.5)
    bad = runner.invoke(app, ["compare", str(results), str(other)])
    assert bad.exit_code == 1 and "1 figures differ beyond the tolerance" in bad.output
    missing = runner.invoke(app, ["compare", str(results), str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "no summary.json" in missing.output


def test_negative_tolerance_is_refused(results):
    with pytest.raises(UsageError):
        compare_results(results, results, atol=-1)
