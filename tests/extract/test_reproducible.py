"""Reproducibility on one machine: two fresh probes and two analyses give bit-identical results."""

from __future__ import annotations

import numpy as np
import pytest

from beliefs.analyses import analyze
from beliefs.extract import probe
from beliefs.schema import Condition, Contexts, Fact

FACTS = [
    (
        "core",
        Fact(
            id=f"f{i}",
            domain="physical" if i % 2 else "logical",
            kind="hinge" if (i // 2) % 2 else "contingent",
            statement=f"The city {i} is in France.",
            false_statement=f"The city {i} is on the Moon.",
            contexts=Contexts(support=f"Story {i}: we are on Earth."),
        ),
    )
    for i in range(8)
]
CONDITIONS = [Condition(name="empty", prefix=""), Condition(name="support", context="support")]


@pytest.mark.slow
def test_fresh_probes_and_analyses_are_bit_identical(tmp_path, monkeypatch):
    runs = [probe("fake:llama", FACTS, CONDITIONS, tmp_path / f"r{i}", batch_size=3) for i in range(2)]
    m = runs[0].models()[0].name
    for condition in runs[0].conditions():
        for form in ("true", "false"):
            a, b = (r.states(m, condition, form, "mean") for r in runs)
            assert np.array_equal(a, b)
    assert (runs[0].path / "margins.csv").read_bytes() == (runs[1].path / "margins.csv").read_bytes()
    assert runs[0].manifest["models"][m]["extraction"]["deterministic_algorithms"] is True
    tables = []
    for i, processes in enumerate(("1", "2")):
        monkeypatch.setenv("BELIEFS_ANALYZE_PROCESSES", processes)
        out = tmp_path / f"out{i}"
        analyze(runs[i], out, analyses=["kind-probe", "default-belief"], permutations=19)
        tables.append({p.name: p.read_bytes() for p in sorted(out.glob("*"))})
    assert tables[0] == tables[1]


def test_threads_setting_is_checked(tmp_path, monkeypatch):
    from beliefs.errors import UsageError

    monkeypatch.setenv("BELIEFS_THREADS", "zero")
    with pytest.raises(UsageError, match="BELIEFS_THREADS should be a whole number"):
        probe("fake:llama", FACTS, CONDITIONS, tmp_path / "r")
