"""Where ``analyze`` runs its ``(model, analysis)`` tasks: forked local processes, or an existing engine.

``BELIEFS_ANALYZE_BACKEND`` picks it (:mod:`beliefs.settings`). ``local`` (the default) forks
``BELIEFS_ANALYZE_PROCESSES`` processes that inherit the context. ``loky``, ``dask`` and ``ray`` hand the
task groups to joblib's backend of that name, which ships the context to its workers and schedules them:
on a Dask cluster through its ``distributed`` client, on a Ray cluster through ``ray.init()``. No
scheduling is ours. Every analysis loops over models outermost and its correction families are per
model, so the merged tables equal a sequential run's on every backend.
"""

from __future__ import annotations

import contextlib
import copy
import multiprocessing
import os
import signal
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from beliefs.analyses.context import AnalysisContext, Output, _load_blas_users
from beliefs.analyses.registry import ANALYSES
from beliefs.errors import UsageError

Task = tuple[str, str]
"""``(model, analysis)``."""


def run_tasks(ctx: AnalysisContext, tasks: list[Task]) -> dict[Task, Output]:
    """Each task's output, run on the backend of ``BELIEFS_ANALYZE_BACKEND``."""
    from beliefs.settings import settings

    backend = settings().analyze_backend
    if backend == "local":
        parts = _run_local(ctx, _task_groups(ctx, tasks, _processes(len(tasks))))
    else:
        from joblib import Parallel, delayed

        with _engine(backend) as workers:
            groups = _task_groups(ctx, tasks, max(1, min(workers, len(tasks))))
            parts = Parallel(n_jobs=len(groups))(delayed(_run_remote)(ctx, group) for group in groups)
    return {key: output for part in parts for key, output in part.items()}


def _run_local(ctx: AnalysisContext, groups: list[list[Task]]) -> list[dict[Task, Output]]:
    if len(groups) == 1:
        return [_run_group(ctx, groups[0])]
    global _FORK_CTX
    _FORK_CTX = ctx
    try:
        with ProcessPoolExecutor(
            len(groups), mp_context=multiprocessing.get_context("fork"), initializer=_quiet_interrupt
        ) as pool:
            futures = [pool.submit(_run_forked, group) for group in groups]
            return [f.result() for f in futures]
    finally:
        _FORK_CTX = None


@contextlib.contextmanager
def _engine(backend: str) -> Iterator[int]:
    """joblib configured for ``backend``, yielding how many tasks it runs at once."""
    from joblib import parallel_config

    from beliefs.settings import settings

    if backend == "loky":
        n = settings().processes()
        with parallel_config(backend="loky", n_jobs=n):
            yield n
        return
    if backend == "dask":
        distributed = _need("distributed", "dask", "pip install 'beliefs[cluster]'")
        try:
            client, own = distributed.get_client(), False  # a client the caller opened (a notebook, a test)
        except ValueError:
            # connects to DASK_SCHEDULER_ADDRESS (dask's own configuration), else starts a local cluster
            client, own = distributed.Client(), True
        try:
            with parallel_config(backend="dask"):
                yield max(1, sum(client.nthreads().values()))
        finally:
            if own:
                client.close()
        return
    ray = _need("ray", "ray", "pip install ray")
    from ray.util.joblib import register_ray

    register_ray()
    ray.init(ignore_reinit_error=True)  # connects to RAY_ADDRESS, else starts a local one
    with parallel_config(backend="ray"):
        yield max(1, int(ray.cluster_resources().get("CPU", 1)))


def _need(module: str, backend: str, install: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise UsageError(
            f"BELIEFS_ANALYZE_BACKEND={backend} needs {module}, which is not installed: {install} "
            f"(or unset the variable to run locally)"
        ) from None


_FORK_CTX: AnalysisContext | None = None
"""The context a forked worker inherits (set only while a process pool is open)."""


def _processes(n_tasks: int) -> int:
    """Worker processes: ``BELIEFS_ANALYZE_PROCESSES``, else one per CPU up to 2, never more than tasks."""
    from beliefs.settings import settings

    wanted = settings().processes()
    if "fork" not in multiprocessing.get_all_start_methods():
        wanted = 1
    return max(1, min(wanted, n_tasks))


def _task_groups(ctx: AnalysisContext, tasks: list[Task], n: int) -> list[list[Task]]:
    """``(model, analysis)`` tasks split into ``n`` groups of similar estimated cost.

    A model's tasks stay in one group while that group is within its fair share, since each process
    reads and z-scores the states of every model it touches; the rest go to the least loaded group.
    Each group runs in run order (model by model), so its state cache serves all analyses of a model.
    """
    size = {m.name: m.n_layers * m.width for m in ctx.models}

    def cost(task: Task) -> float:
        return ANALYSES[task[1]].cost * size[task[0]]

    share = 1.02 * sum(cost(t) for t in tasks) / n
    bins: list[list[Task]] = [[] for _ in range(n)]
    load = [0.0] * n
    for task in sorted(tasks, key=lambda t: (-size[t[0]], t[0], -cost(t))):
        same = [
            i for i in range(n) if any(t[0] == task[0] for t in bins[i]) and load[i] + cost(task) <= share
        ]
        i = same[0] if same else load.index(min(load))
        bins[i].append(task)
        load[i] += cost(task)
    position = {t: i for i, t in enumerate(tasks)}
    return [sorted(b, key=position.__getitem__) for b in bins if b]


def _run_group(ctx: AnalysisContext, tasks: list[Task]) -> dict[Task, Output]:
    """Run each ``(model, analysis)`` task on a context whose state cache the group's tasks share."""
    shared = ctx.fork()
    out: dict[Task, Output] = {}
    for model, name in tasks:
        sub = copy.copy(shared)
        sub.models = [m for m in ctx.models if m.name == model]
        out[(model, name)] = ANALYSES[name].func(sub)
    return out


def _run_remote(ctx: AnalysisContext, tasks: list[Task]) -> dict[Task, Output]:
    """A task group in an engine's worker: one BLAS thread, as in ``analyze``'s own processes."""
    from threadpoolctl import threadpool_limits

    _load_blas_users()
    ctx = copy.copy(ctx)
    ctx.shared = {}  # the caches of one worker, as each forked process starts with (threads share ctx)
    with threadpool_limits(limits=1, user_api="blas"):
        return _run_group(ctx, tasks)


def _quiet_interrupt() -> None:
    """In a worker: Ctrl-C ends it silently (the parent says how to resume), not with a traceback."""
    signal.signal(signal.SIGINT, lambda *_: os._exit(130))


def _run_forked(tasks: list[Task]) -> dict[Task, Output]:
    assert _FORK_CTX is not None
    return _run_group(_FORK_CTX, tasks)
