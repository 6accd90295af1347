"""Running the analyses on an engine's workers (joblib's loky, a Dask cluster) gives the tables of one
local process, byte for byte; an engine that is not installed is a usage error naming the install."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import pytest

from beliefs.analyses import analyze, synthetic_run
from beliefs.errors import UsageError


def _run() -> Any:
    return synthetic_run(
        n_facts=40, models=(("lm", "hf", 5, 16), ("enc", "st", 3, 8)), random_init_control=True, seed=2
    )


def _same(left: Path, right: Path) -> None:
    tables = sorted(left.glob("*.csv"))
    assert tables
    assert sorted(t.name for t in right.glob("*.csv")) == [t.name for t in tables]
    for table in tables:
        assert table.read_bytes() == (right / table.name).read_bytes(), table.name
    assert (left / "summary.json").read_bytes() == (right / "summary.json").read_bytes()


@pytest.mark.slow
def test_dask_cluster_writes_the_tables_of_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    distributed = pytest.importorskip("distributed")
    run = _run()
    monkeypatch.setenv("BELIEFS_ANALYZE_PROCESSES", "1")
    local = analyze(run, tmp_path / "local", permutations=19, seed=1)
    monkeypatch.setenv("BELIEFS_ANALYZE_BACKEND", "dask")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        on_cluster = analyze(run, tmp_path / "dask", permutations=19, seed=1)
        # the tasks ran in the cluster's worker processes, not here
        ran = client.run(lambda dask_worker: len(dask_worker.data) + dask_worker.state.transition_counter)
        assert len(ran) == 2 and all(n > 0 for n in ran.values())
    assert on_cluster == local
    _same(tmp_path / "local", tmp_path / "dask")


@pytest.mark.slow
def test_loky_writes_the_tables_of_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = _run()
    monkeypatch.setenv("BELIEFS_ANALYZE_PROCESSES", "1")
    local = analyze(run, tmp_path / "local", permutations=19, seed=1)
    monkeypatch.setenv("BELIEFS_ANALYZE_BACKEND", "loky")
    monkeypatch.setenv("BELIEFS_ANALYZE_PROCESSES", "2")
    assert analyze(run, tmp_path / "loky", permutations=19, seed=1) == local
    _same(tmp_path / "local", tmp_path / "loky")


def test_an_engine_not_installed_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_ray(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "ray" or name.startswith("ray."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    monkeypatch.setenv("BELIEFS_ANALYZE_BACKEND", "ray")
    with pytest.raises(UsageError, match=r"BELIEFS_ANALYZE_BACKEND=ray needs ray.*pip install ray"):
        analyze(synthetic_run(n_facts=24, seed=0), tmp_path / "out", permutations=9, analyses=["surface"])
