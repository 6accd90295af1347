"""The cost curve of ``analyze``: wall and CPU seconds over the number of facts.

Facts are Geometry of Truth statements (``../shared/external/geometry_of_truth``: cities, neg_cities,
larger_than, smaller_than, cities_cities_conj, cities_cities_disj, sp_en_trans; the i-th true and the i-th
false statement of each file paired), shuffled with a fixed seed, the first ``n`` taken, half hinge
and half contingent in each of two domains. The states are NOT a real model's: extracting real states for
5,000 facts would take hours on this machine, so each fact gets synthetic states of smollm2-135m's shape
(31 layers incl. the embeddings, width 576, ``last`` and ``mean`` pooling) with a planted kind direction
(``beliefs.analyses.synthetic``), and synthetic margins. Everything after that is the real ``analyze``
code path: one model, one condition (``empty``), every registered analysis, 2,000 permutations.

    .venv/bin/python benchmarks/bench_analyze.py [--sizes 250,500,1000,2000,5000] [--repeats 1]
        [--permutations 2000] [--analyses kind-probe,kind-distance] [--processes N] [--profile DIR]

Prints, per size, the wall and CPU seconds (CPU of this process and of the analysis worker processes),
the median and min–max where repeated, the peak resident memory (``getrusage`` ``maxrss`` of the process
that ran the size plus that of its largest analysis worker: each size runs in a fresh forked process, so
the figure is that size's; an upper bound, as forked workers share the parent's pages), the machine load before and after, and the growth exponent
between successive sizes (``log(t2/t1) / log(n2/n1)``, of wall and of CPU time: on a shared machine
the CPU figure is the steadier one).
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from beliefs.rundata import MemoryRun

EXTERNAL = Path(__file__).resolve().parents[2] / "shared" / "external" / "geometry_of_truth"
FILES = (
    ("cities.csv", "physical"),
    ("neg_cities.csv", "physical"),
    ("sp_en_trans.csv", "physical"),
    ("larger_than.csv", "logical"),
    ("smaller_than.csv", "logical"),
    ("cities_cities_conj.csv", "logical"),
    ("cities_cities_disj.csv", "logical"),
)
WIDTH, LAYERS = 576, 31
"""smollm2-135m's hidden width and number of hidden-state layers (embeddings included)."""


def got_pairs(folder: Path) -> list[tuple[str, str, str]]:
    """``(true statement, false statement, domain)`` from the Geometry of Truth files: in each file the
    i-th true row and the i-th false row make one fact (the importer's grouped pairing, with the whole
    file as one group)."""
    out: list[tuple[str, str, str]] = []
    for name, domain in FILES:
        path = folder / name
        if not path.is_file():
            continue
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = [(r["statement"].strip(), r["label"].strip()) for r in csv.DictReader(handle)]
        trues = list(dict.fromkeys(s for s, label in rows if label == "1"))
        falses = list(dict.fromkeys(s for s, label in rows if label == "0"))
        out.extend((t, f, domain) for t, f in zip(trues, falses, strict=False))
    return out


def build_run(pairs: list[tuple[str, str, str]], n: int, seed: int = 0) -> MemoryRun:
    """A one-model, one-condition run of ``n`` Geometry of Truth facts with planted synthetic states."""
    from beliefs.analyses.synthetic import synthetic_run

    rng = np.random.default_rng(seed)
    chosen = [pairs[i] for i in rng.permutation(len(pairs))[:n]]
    run = synthetic_run(
        n_facts=n,
        models=(("fake-smollm2-135m", "hf", LAYERS, WIDTH),),
        conditions=("empty",),
        effect=0.3,
        margin_effect=0.5,
        seed=seed,
    )
    facts = run.fact_table
    facts["fact_set"] = "got-cities"
    facts["statement"] = [p[0] for p in chosen]
    facts["false_statement"] = [p[1] for p in chosen]
    facts["domain"] = [p[2] for p in chosen]  # kinds alternate, so each domain holds both
    margins = run.margin_table
    margins["fact_set"] = "got-cities"
    margins["domain"] = margins["fact_id"].map(dict(zip(facts["fact_id"], facts["domain"], strict=True)))
    return run


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the analysis worker processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def load() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def spread(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:8.1f}"
    return f"{statistics.median(values):8.1f} ({min(values):.1f}–{max(values):.1f})"


def profile(path: Path, run: MemoryRun, out: str, analyses: list[str] | None, permutations: int) -> None:
    """``analyze`` under cProfile: the profile written to ``path``, the 20 costliest functions printed."""
    import cProfile
    import pstats

    from beliefs.analyses import analyze

    path.parent.mkdir(parents=True, exist_ok=True)
    profiler = cProfile.Profile()
    profiler.runcall(analyze, run, out, analyses=analyses, permutations=permutations)
    profiler.dump_stats(path)
    pstats.Stats(str(path)).sort_stats("tottime").print_stats(20)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="250,500,1000,2000,5000", help="numbers of facts, comma-separated")
    parser.add_argument("--repeats", type=int, default=1, help="runs per size (median and min–max printed)")
    parser.add_argument("--permutations", type=int, default=2000, help="permutations of every null")
    parser.add_argument("--analyses", default=None, help="comma-separated analyses (default: all registered)")
    parser.add_argument(
        "--processes", type=int, default=None, help="analysis worker processes (BELIEFS_ANALYZE_PROCESSES)"
    )
    parser.add_argument("--external", type=Path, default=EXTERNAL, help="the Geometry of Truth folder")
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="write a cProfile of each size to DIR/analyze-N.prof and print its 20 costliest functions "
        "(use with --processes 1: the profile sees only this process)",
    )
    args = parser.parse_args()
    if args.processes is not None:
        os.environ["BELIEFS_ANALYZE_PROCESSES"] = str(args.processes)

    pairs = got_pairs(args.external)
    if not pairs:
        sys.exit(f"no Geometry of Truth files in {args.external}")
    sizes = [int(s) for s in args.sizes.split(",")]
    if max(sizes) > len(pairs):
        sys.exit(f"only {len(pairs)} Geometry of Truth facts in {args.external}; sizes up to that")
    analyses = args.analyses.split(",") if args.analyses else None
    print(
        f"analyze cost curve: {len(pairs)} Geometry of Truth facts available; states: SYNTHETIC, shaped like "
        f"smollm2-135m ({LAYERS} layers × {WIDTH}, last+mean pooling, planted kind direction), one condition "
        f"(empty), {args.permutations} permutations, analyses: {', '.join(analyses or ['all'])}, "
        f"{os.environ.get('BELIEFS_ANALYZE_PROCESSES', 'default')} worker processes, {os.cpu_count()} CPUs"
    )
    print(
        f"{'facts':>6} {'wall s':>22} {'cpu s':>22}  {'peak RSS GB (self+worker)':>26}  exponent wall/cpu  "
        "load before → after"
    )
    previous: tuple[int, float, float] | None = None
    for n in sizes:
        before = load()
        walls, cpus, rss = _in_child(_measure, pairs, n, args, analyses)
        wall, cpu = statistics.median(walls), statistics.median(cpus)
        exponent = "     –"
        if previous is not None:
            step = math.log(n / previous[0])
            exponent = f"{math.log(wall / previous[1]) / step:.2f}/{math.log(cpu / previous[2]) / step:.2f}"
        peak = f"{(rss[0] + rss[1]) / 2**30:.2f} ({rss[0] / 2**30:.2f}+{rss[1] / 2**30:.2f})"
        print(
            f"{n:6d} {spread(walls):>22} {spread(cpus):>22}  {peak:>26}  {exponent:>17}  {before} → {load()}",
            flush=True,
        )
        previous = (n, wall, cpu)


def _measure(
    pairs: list[tuple[str, str, str]], n: int, args: argparse.Namespace, analyses: list[str] | None
) -> tuple[list[float], list[float], tuple[int, int]]:
    """One size's runs (in a forked child): wall and CPU seconds per repeat, and the peak RSS in bytes of
    this process and of its largest analysis worker."""
    from beliefs.analyses import analyze

    run = build_run(pairs, n)
    walls, cpus = [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as out:
            c, t = cpu_seconds(), time.perf_counter()
            if args.profile is None:
                analyze(run, out, analyses=analyses, permutations=args.permutations)
            else:
                profile(args.profile / f"analyze-{n}.prof", run, out, analyses, args.permutations)
            walls.append(time.perf_counter() - t)
            cpus.append(cpu_seconds() - c)
    kib = 1024  # Linux reports maxrss in KiB
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * kib
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * kib
    return walls, cpus, (own, kids)


def _in_child(func: Any, *args: Any) -> Any:
    """``func(*args)`` in a forked process (not a daemon: it forks analysis workers), so that its peak
    memory is its own; its result comes back through a pipe."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_send, args=(send, func, args))
    child.start()
    send.close()
    try:
        result = receive.recv()
    except EOFError:
        result = None
    child.join()
    if result is None:
        sys.exit(f"the measuring process ended with exit code {child.exitcode}")
    return result


def _send(connection: Any, func: Any, args: tuple[Any, ...]) -> None:
    connection.send(func(*args))
    connection.close()


if __name__ == "__main__":
    main()
