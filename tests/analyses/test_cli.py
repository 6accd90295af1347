import typer
from typer.testing import CliRunner

from beliefs.analyses import synthetic_run
from beliefs.cli import analyze as cli_analyze


def test_analyze_command_prints_headlines(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    run = synthetic_run(n_facts=24, seed=0)
    monkeypatch.setattr(cli_analyze, "_open_run", lambda path: run)
    app = typer.Typer()
    app.command()(cli_analyze.analyze_command)
    app.command("noop")(lambda: None)
    result = CliRunner().invoke(
        app, ["analyze-command", str(tmp_path), "--permutations", "19", "--analyses", "surface"]
    )
    assert result.exit_code == 0, result.output
    assert "surface" in result.output
    assert (tmp_path / "results" / "summary.json").exists()
    assert "verdict" in result.output and "Verdicts: differs:" in result.output
    assert any(w in result.output for w in ("surface-explained", "equivalent", "inconclusive"))
