"""What ``analyze`` holds in memory, estimated from the run's shape before it starts, and the refusal of
a run that cannot fit.

The estimate adds, for the largest model, the matrices one analysis process must hold at once whatever
``BELIEFS_ANALYZE_CACHE_GB`` says (one ``(model, condition, pooling)``'s z-scored states while they are
read, one row Gram matrix, the beyond-surface machinery of one condition, the fact × fact matrices of
``kind-distance``, the stacks of labellings) and the caches that ``BELIEFS_ANALYZE_CACHE_GB`` bounds
(states and Gram matrices, beyond-surface operators), plus the interpreter and its libraries. Worker
processes each hold their own. Checked against ``benchmarks/bench_analyze.py``'s measured peaks
(``kind-distance``, 200 permutations, one process): 1,000 facts 1.61 GB measured, 2.09 GB estimated;
2,000 facts 3.25 GB measured, 4.15 GB estimated.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from beliefs.analyses.beyond import INCREMENT_SPLITS
from beliefs.analyses.context import N_BOOT, AnalysisContext, cache_bytes
from beliefs.errors import UsageError
from beliefs.stats import middle_third

FLOAT = 8
BASE = 2**28
"""The interpreter, numpy, scipy, scikit-learn, pandas and statsmodels (about 200 MB resident measured)."""
FOLDS = 5
"""Folds of every cross-validation (``fact_folds``' default)."""
BEYOND_ANALYSES = frozenset({"kind-probe", "kind-distance"})
"""Analyses that build the beyond-surface machinery (:class:`~beliefs.analyses.beyond.Beyond`)."""
LABELLING_STACKS = 12
"""``(P + 1) × n`` float arrays alive at once: class weights of the plain, conditional and bootstrap
labellings (two each), per-domain class weights, nulls of the increment."""
DISTANCE_MATRICES = 6
"""Fact × fact matrices of ``kind-distance`` alive at once: plain and residual distances, their running
sums, a collapsed Gram matrix and the one being formed."""


@dataclass(frozen=True)
class Estimate:
    """Bytes one analysis process needs: ``floor`` whatever the cache setting, ``cache`` what the cache
    setting lets it keep besides."""

    floor: int
    cache: int

    @property
    def total(self) -> int:
        return self.floor + self.cache


def estimate(ctx: AnalysisContext, names: list[str]) -> Estimate:
    """The peak of one analysis process on ``ctx``'s run (its largest model), see the module's text."""
    n = ctx.n_facts
    rows = 2 * n
    labellings = ctx.n_permutations + 1
    floor, cache = BASE, 0
    for model in ctx.models:
        states = rows * model.width * model.n_layers * FLOAT
        f = BASE + 2 * states  # the stored states read as float64, and their z-scored layers
        f += rows * rows * FLOAT  # one row Gram matrix (surface, truth-geometry, probes below the width)
        f += LABELLING_STACKS * max(labellings, N_BOOT) * n * FLOAT
        if BEYOND_ANALYSES.intersection(names):
            probes = INCREMENT_SPLITS + 1  # the surface increment's splits and the lexical one
            f += probes * (FOLDS * n * n + labellings * n) * FLOAT  # per-fold residualising projections
            f += 2 * rows * rows * FLOAT  # the row-level surface and lexical ridge operators
        if "kind-distance" in names:
            mid = len(middle_third(model.n_layers))
            f += DISTANCE_MATRICES * n * n * FLOAT
            f += 2 * mid * min(n, model.width) * n * FLOAT  # the headline layers' centroid matrices
        keys = max(1, len(ctx.conditions)) * 2  # poolings
        c = min(cache_bytes(), (keys - 1) * states)  # states beyond the one in use
        c += min(cache_bytes() // 4, model.n_layers * rows * rows * FLOAT)  # Gram matrices kept
        floor, cache = max(floor, f), max(cache, c)
    return Estimate(floor, cache)


def available_bytes() -> int | None:
    """Memory the kernel says is available for new work (``MemAvailable``), or None where unknown."""
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return None


def check_memory(ctx: AnalysisContext, names: list[str], processes: int) -> Estimate:
    """Refuse (a :class:`UsageError` naming the figures) a run whose analysis processes would need more
    memory than is available; return the estimate."""
    need = estimate(ctx, names)
    have = available_bytes()
    if have is not None and processes * need.total > have:
        gb = 2**30
        fix = (
            f"set BELIEFS_ANALYZE_PROCESSES=1 (one process: {need.total / gb:.1f} GB), "
            if processes > 1 and need.total <= have
            else ""
        )
        raise UsageError(
            f"analyze would need about {processes * need.total / gb:.1f} GB of memory ({processes} "
            f"process{'es' if processes > 1 else ''} × {need.floor / gb:.1f} GB for {ctx.n_facts:,} facts "
            f"with {ctx.n_permutations:,} permutations, + {need.cache / gb:.1f} GB of caches under "
            f"BELIEFS_ANALYZE_CACHE_GB), but {have / gb:.1f} GB is available: {fix}lower "
            f"BELIEFS_ANALYZE_CACHE_GB, run fewer analyses (--analyses) or fewer permutations, or split the "
            f"facts into smaller sets"
        )
    return need
