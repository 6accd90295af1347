import typer
from typer.testing import CliRunner

from beliefs.cli.models import app as models_app
from beliefs.cli.probe import _layers, probe_command

runner = CliRunner()


def test_models_list():
    result = runner.invoke(models_app, ["list"])
    assert result.exit_code == 0, result.output
    assert "smollm2-135m" in result.output and "minilm-l6" in result.output


def test_models_pull_unknown_is_a_message():
    result = runner.invoke(models_app, ["pull", "nope"])
    assert result.exit_code == 1
    assert "unknown embedded model" in result.output


def test_layers_parsing():
    assert _layers("0,2-4,-1") == [0, 2, 3, 4, -1]
    assert _layers(None) is None


def test_probe_command_runs(tmp_path):
    facts = tmp_path / "core.yaml"
    facts.write_text(
        "schema_version: 1\nname: core\nfacts:\n"
        "  - id: one\n    domain: logical\n    kind: hinge\n    statement: 1 + 1 = 2.\n"
        "    false_statement: 1 + 1 = 3.\n    note: arithmetic\n"
    )
    conds = tmp_path / "conditions.yaml"
    conds.write_text('- name: empty\n  prefix: ""\n- name: enc\n  prefix: "From the encyclopedia:"\n')
    app = typer.Typer()
    app.command()(probe_command)
    args = [
        "--model",
        "fake:llama",
        "--facts",
        str(facts),
        "--conditions",
        str(conds),
        "--out",
        str(tmp_path / "r"),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "results in" in result.output
    assert (tmp_path / "r" / "margins.csv").exists()
