"""Ctrl-C during a forked analyze: the resume hint, exit 130, no worker traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from beliefs.extract import probe
from beliefs.schema import Condition, Fact


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="process groups and fork")
def test_ctrl_c_in_forked_analyze(tmp_path):
    facts = [
        (
            "core",
            Fact(
                id=f"f{i}",
                domain="physical" if i % 2 else "logical",
                kind="hinge" if (i // 2) % 2 else "contingent",
                statement=f"The city {i} is in France.",
                false_statement=f"The city {i} is on the Moon.",
            ),
        )
        for i in range(40)
    ]
    probe("fake:llama", facts, [Condition(name="empty", prefix="")], tmp_path / "run")
    # enough work that the workers are still busy a second after they start (about 8 s on 2 cores; with
    # 16 facts and 5,000 permutations the faster analyses sometimes ended first, and the Ctrl-C then
    # landed in the interpreter's exit, outside the command's error boundary)
    env = {**os.environ, "BELIEFS_ANALYZE_PROCESSES": "2", "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from beliefs.cli import main; main()", "analyze", str(tmp_path / "run"),
         "--permutations", "100000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    start = time.monotonic()
    children: list[str] = []
    while time.monotonic() - start < 120 and len(children) < 2 and proc.poll() is None:
        children = subprocess.run(
            ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True
        ).stdout.split()
        time.sleep(0.2)
    if len(children) < 2:
        proc.kill()
        pytest.skip("the analysis ended before its workers could be interrupted")
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal does on Ctrl-C: the whole foreground group
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted; rerun the same command to resume." in err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
