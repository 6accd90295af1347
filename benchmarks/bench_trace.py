"""Causal-tracing speed on smollm2-135m and its random-init control (prints figures; not a timed test).

    .venv/bin/python benchmarks/bench_trace.py [--facts fact_sets/core.yaml] [--sample 48] [--repeats 3]
        [--noise-seeds 2] [--stride 5] [--window 5] [--batch-size 64] [--matched 330]

Traces a fixed random sample of the set's facts (all of them, untraceable ones included, so the mix is
the real one) under the empty condition ``--repeats`` times for the model and once per repeat for its
control, and prints facts/s with its spread and the projected time of the traced default study: the
whole set plus ``--matched`` more facts assumed alike, for the model and its control. The float32
matmul rate is printed beside it: the machine is shared, so compare it with a quiet moment's.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from beliefs.extract.prompts import resolve_start_token
from beliefs.facts import load_fact_set
from beliefs.models import LoadOptions, load_model
from beliefs.trace.core import DEFAULT_SEEDS, DEFAULT_WINDOW, centers, restorations, trace_pairs
from beliefs.trace.engine import Tracer
from beliefs.trace.prompts import pair_prompt
from beliefs.trace.run import DEFAULT_STRIDE


def matmul_rate() -> float:
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    for _ in range(3):
        a @ b
    t0, n = time.perf_counter(), 20
    for _ in range(n):
        a @ b
    return 2 * 1024**3 * n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--facts", default="fact_sets/core.yaml")
    ap.add_argument("--sample", type=int, default=48)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--noise-seeds", type=int, default=DEFAULT_SEEDS)
    ap.add_argument("--stride", type=int, default=DEFAULT_STRIDE)
    ap.add_argument("--window", type=int, default=DEFAULT_WINDOW)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--matched", type=int, default=330)
    args = ap.parse_args()
    fs = load_fact_set(Path(args.facts))
    rng = np.random.default_rng(0)
    sample = [
        fs.facts[i] for i in sorted(rng.choice(len(fs.facts), min(args.sample, len(fs.facts)), replace=False))
    ]
    total = len(fs.facts) + args.matched
    print(f"torch threads {torch.get_num_threads()}, float32 matmul {matmul_rate() / 1e9:.1f} GFLOP/s")
    projected = 0.0
    spread = [0.0, 0.0]
    for control in (None, "random-init"):
        lm = load_model("smollm2-135m", LoadOptions(control=control))
        tracer = Tracer(lm, batch_size=args.batch_size)
        start = resolve_start_token(lm.tokenizer)
        pairs = [pair_prompt(lm.tokenizer, start, None, f.id, f.statement, f.false_statement) for f in sample]
        plan = restorations(lm.n_layers, centers(lm.n_layers, args.stride), args.window)
        seeds = list(range(args.noise_seeds))
        rates = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            traces = trace_pairs(tracer, pairs, plan, seeds)
            rates.append(len(pairs) / (time.perf_counter() - t0))
        traced = sum(t.reason is None for t in traces)
        mean = statistics.mean(rates)
        sd = statistics.stdev(rates) if len(rates) > 1 else 0.0
        print(
            f"{lm.name}: {len(pairs)} facts ({traced} traced), {len(plan)} restorations x {len(seeds)} seeds, "
            f"starts mid-model: {tracer.arch.entry_ok}; {mean:.3f} ± {sd:.3f} facts/s "
            f"(runs: {', '.join(f'{r:.3f}' for r in rates)})"
        )
        projected += total / mean
        spread[0] += total / max(rates)
        spread[1] += total / min(rates)
    print(
        f"projected traced study ({total} facts, model + control, empty condition): "
        f"{projected / 60:.1f} min (fastest-slowest run: {spread[0] / 60:.1f}-{spread[1] / 60:.1f} min)"
    )


if __name__ == "__main__":
    main()
