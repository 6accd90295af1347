"""Splitting the models over processes gives the same tables as one process, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from beliefs.analyses import analyze, synthetic_run


@pytest.mark.slow
def test_one_and_two_processes_write_identical_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = synthetic_run(
        n_facts=40, models=(("lm", "hf", 5, 16), ("enc", "st", 3, 8)), random_init_control=True, seed=2
    )
    assert len(run.models()) == 3
    summaries = {}
    for n in (1, 2):
        monkeypatch.setenv("BELIEFS_ANALYZE_PROCESSES", str(n))
        summaries[n] = analyze(run, tmp_path / str(n), permutations=19, seed=1)
    assert summaries[1] == summaries[2]
    for table in sorted((tmp_path / "1").glob("*.csv")):
        assert table.read_bytes() == (tmp_path / "2" / table.name).read_bytes(), table.name
