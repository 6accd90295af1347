"""One error boundary: every user error is one line, exit 1 (bad input) or 2 (usage), never "internal
error" (3); arguments are checked before a model loads. Runs the real entry point, ``main()``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cli_run import run_main

FACTS = "schema_version: 1\nname: core\nfacts:\n" + "".join(
    f"  - {{id: f{i}, domain: {'logical' if i % 2 else 'physical'}, "
    f"kind: {'hinge' if (i // 2) % 2 else 'contingent'}, statement: The city {i} is in France., "
    f"false_statement: The city {i} is on the Moon., note: n}}\n"
    for i in range(8)
)
CONDITIONS = '- name: empty\n  prefix: ""\n'


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    facts, conditions = tmp_path / "core.yaml", tmp_path / "conditions.yaml"
    facts.write_text(FACTS)
    conditions.write_text(CONDITIONS)
    return facts, conditions


@pytest.fixture
def no_model_load(monkeypatch):
    """Fail the test if a model is loaded: the argument checks must come first."""
    import beliefs.models as models

    def refuse(*_a, **_k):
        raise AssertionError("a model was loaded before the arguments were checked")

    monkeypatch.setattr(models, "load_model", refuse)


def probe_args(inputs: tuple[Path, Path], out: Path, *extra: str) -> list[str]:
    facts, conditions = inputs
    return ["probe", "-m", "fake:llama", "-f", str(facts), "-c", str(conditions), "-o", str(out), *extra]


@pytest.mark.parametrize(
    ("extra", "code", "needle"),
    [
        (["--dtype", "float8"], 2, "float8"),
        (["--device", "tpu"], 2, "tpu"),
        (["--control", "shuffled"], 2, "shuffled"),
        (["--batch-size", "0"], 2, "--batch-size"),
        (["--seed", "-1"], 2, "--seed"),
        (["--layers", "0-1000000000"], 2, "--layers: layer numbers are at most 1024"),
        (["--layers", "4-2"], 2, "a range should go upwards"),
        (["--layers", "a-b"], 2, "--layers should look like"),
    ],
)
def test_probe_arguments_are_checked_before_loading(
    inputs, tmp_path, capsys, monkeypatch, no_model_load, extra, code, needle
):
    got, output = run_main(probe_args(inputs, tmp_path / "r", *extra), capsys, monkeypatch)
    assert got == code, output
    assert needle in output
    assert len(output) < 2000 and "Traceback" not in output


def test_probe_refuses_a_folder_that_is_not_a_run(inputs, tmp_path, capsys, monkeypatch, no_model_load):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "margins.csv").write_text("my own data\n")
    code, output = run_main(probe_args(inputs, out), capsys, monkeypatch)
    assert code == 2 and "is not empty and not a beliefs run" in output and "margins.csv" in output
    assert (out / "margins.csv").read_text() == "my own data\n"
    assert sorted(os.listdir(out)) == ["margins.csv"]


def test_probe_out_that_is_a_file(inputs, tmp_path, capsys, monkeypatch, no_model_load):
    out = tmp_path / "file"
    out.write_text("x")
    code, output = run_main(probe_args(inputs, out), capsys, monkeypatch)
    assert code == 2 and f"--out {out} is a file" in output


def test_probe_facts_fifo_is_refused(inputs, tmp_path, capsys, monkeypatch, no_model_load):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    code, output = run_main(probe_args((fifo, inputs[1]), tmp_path / "r"), capsys, monkeypatch)
    assert code == 2 and "is not a regular file" in output


def test_validate_fifo_is_refused(tmp_path, capsys, monkeypatch):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    code, output = run_main(["facts", "validate", str(fifo)], capsys, monkeypatch)
    assert code == 1 and "is not a regular file" in output


@pytest.fixture
def probed(inputs, tmp_path) -> Path:
    from beliefs.extract import probe

    probe("fake:llama", [inputs[0]], inputs[1], tmp_path / "run")
    return tmp_path / "run"


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--analyses", "nope"], "unknown analysis nope"),
        (["--permutations", "0"], "permutations should be between 1 and 100,000"),
        (["--permutations", "-5"], "permutations should be between 1 and 100,000"),
        (["--permutations", "10000000"], "permutations should be between 1 and 100,000"),
        (["--seed", "-1"], "seed should be between 0 and 2**32"),
        (["--seed", str(10**23)], "seed should be between 0 and 2**32"),
    ],
)
def test_analyze_arguments(tmp_path, capsys, monkeypatch, extra, needle):
    code, output = run_main(["analyze", str(tmp_path / "absent"), *extra], capsys, monkeypatch)
    assert code == 2, output
    assert needle in output


def test_analyze_missing_empty_and_file(tmp_path, capsys, monkeypatch):
    code, output = run_main(["analyze", str(tmp_path / "absent")], capsys, monkeypatch)
    assert code == 1 and "no such run directory" in output
    (tmp_path / "empty").mkdir()
    code, output = run_main(["analyze", str(tmp_path / "empty")], capsys, monkeypatch)
    assert code == 1 and "not a run directory (no manifest.json)" in output
    (tmp_path / "f").write_text("x")
    code, output = run_main(["analyze", str(tmp_path / "f")], capsys, monkeypatch)
    assert code == 1 and "it is a file" in output


def test_analyze_wrong_manifest_shape(tmp_path, capsys, monkeypatch):
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps({"schema_version": 1, "kind": "beliefs-run", "facts": 3}))
    code, output = run_main(["analyze", str(run)], capsys, monkeypatch)
    assert code == 1 and "'facts' should be a list" in output


def test_analyze_results_that_are_a_file_or_not_ours(probed, capsys, monkeypatch):
    (probed / "results").write_text("mine")
    code, output = run_main(["analyze", str(probed), "--permutations", "9"], capsys, monkeypatch)
    assert code == 2 and "is a file, not a folder" in output
    (probed / "results").unlink()
    (probed / "results").mkdir()
    (probed / "results" / "report.md").write_text("mine")
    code, output = run_main(["analyze", str(probed), "--permutations", "9"], capsys, monkeypatch)
    assert code == 2 and "not a beliefs results folder" in output
    assert (probed / "results" / "report.md").read_text() == "mine"


def test_analyze_too_small_run(probed, capsys, monkeypatch):
    from beliefs.extract import probe

    small = probed.parent / "small.yaml"
    small.write_text(FACTS.split("  - {id: f4")[0])
    probe("fake:llama", [small], probed.parent / "conditions.yaml", probed.parent / "small")
    code, output = run_main(
        ["analyze", str(probed.parent / "small"), "--permutations", "9"], capsys, monkeypatch
    )
    assert code == 2 and "too few facts for the statistics" in output and "logical/hinge: 1" in output


def test_unwritable_destination_is_a_message(tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, output = run_main(["facts", "new", "x", "--dir", str(blocker / "sub")], capsys, monkeypatch)
    assert code == 1 and str(blocker) in output and "internal error" not in output


def test_beliefs_home_that_is_a_file(tmp_path, capsys, monkeypatch):
    home = tmp_path / "home"
    home.write_text("x")
    monkeypatch.setenv("BELIEFS_HOME", str(home))
    code, output = run_main(["models", "pull", "smollm2-135m"], capsys, monkeypatch)
    assert code == 1 and str(home) in output and "internal error" not in output


def test_elicit_seed_and_embedder(inputs, tmp_path, capsys, monkeypatch, no_model_load):
    facts, conditions = inputs
    base = ["elicit", "-m", "fake:llama", "-f", str(facts), "-c", str(conditions), "-o", str(tmp_path / "e")]
    code, output = run_main([*base, "--seed", "-1"], capsys, monkeypatch)
    assert code == 2 and "--seed" in output
    code, output = run_main([*base, "--embedder", "smollm2-135m"], capsys, monkeypatch)
    assert code == 2 and "not a sentence-transformers model" in output
    code, output = run_main([*base, "--embedder", str(tmp_path / "nowhere")], capsys, monkeypatch)
    assert code == 2 and "not a sentence-transformers folder" in output


def test_keyboard_interrupt_prints_the_resume_hint(capsys, monkeypatch):
    import beliefs.cli.analyze as cli_analyze

    def interrupted(path):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_analyze, "_open_run", interrupted)
    code, output = run_main(["analyze", "somewhere"], capsys, monkeypatch)
    assert code == 130 and "interrupted; rerun the same command to resume." in output


def test_a_bug_is_exit_3_without_traceback(capsys, monkeypatch):
    import beliefs.cli.analyze as cli_analyze

    def bug(path):
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(cli_analyze, "_open_run", bug)
    monkeypatch.delenv("BELIEFS_DEBUG", raising=False)
    code, output = run_main(["analyze", "somewhere"], capsys, monkeypatch)
    assert code == 3 and "internal error: ZeroDivisionError: oops" in output and "Traceback" not in output


def test_a_worker_killed_for_memory_is_one_line_not_an_internal_error(inputs, tmp_path, capsys, monkeypatch):
    """At 5,000 facts the kernel killed an analysis worker for memory and analyze died with a bare
    BrokenProcessPool (benchmarks/bench_analyze.py); the CLI says what happened and what to do."""
    from concurrent.futures.process import BrokenProcessPool

    import beliefs.analyses as analyses

    code, _ = run_main(probe_args(inputs, tmp_path / "run"), capsys, monkeypatch)
    assert code == 0

    def killed(*_a, **_k):
        raise BrokenProcessPool("A process in the process pool was terminated abruptly")

    monkeypatch.setattr(analyses, "analyze", killed)
    code, out = run_main(["analyze", str(tmp_path / "run")], capsys, monkeypatch)
    assert code == 1
    assert "killed" in out and "BELIEFS_ANALYZE_PROCESSES=1" in out
    assert "internal error" not in out and "Traceback" not in out
