"""``analyze`` estimates its memory before it starts and refuses, naming the figures, a run that cannot
fit."""

from __future__ import annotations

from pathlib import Path

import pytest

from beliefs.analyses import AnalysisContext, analyze, synthetic_run
from beliefs.analyses import memory as M
from beliefs.errors import UsageError


def test_a_run_that_cannot_fit_is_refused_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = synthetic_run(n_facts=40, seed=1)
    monkeypatch.setattr(M, "available_bytes", lambda: 2**20)  # a megabyte free
    out = tmp_path / "results"
    with pytest.raises(UsageError, match=r"would need about [\d.]+ GB of memory .* 40 facts") as e:
        analyze(run, out, permutations=99)
    assert "0.0 GB is available" in str(e.value) and "BELIEFS_ANALYZE_CACHE_GB" in str(e.value)
    assert not out.exists()


def test_two_processes_that_do_not_fit_where_one_does_suggest_one(monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = AnalysisContext(synthetic_run(n_facts=40, seed=1), permutations=99)
    need = M.estimate(ctx, ["kind-distance"]).total
    monkeypatch.setattr(M, "available_bytes", lambda: int(1.5 * need))
    with pytest.raises(UsageError, match="BELIEFS_ANALYZE_PROCESSES=1"):
        M.check_memory(ctx, ["kind-distance"], processes=2)
    assert M.check_memory(ctx, ["kind-distance"], processes=1).total == need


def test_the_estimate_grows_with_the_facts_squared() -> None:
    small = M.estimate(AnalysisContext(synthetic_run(n_facts=40, seed=1), permutations=9), ["kind-probe"])
    large = M.estimate(AnalysisContext(synthetic_run(n_facts=400, seed=1), permutations=9), ["kind-probe"])
    grown = large.floor - M.BASE, small.floor - M.BASE
    assert 10 < grown[0] / grown[1] < 100
