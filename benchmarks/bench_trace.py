"""Causal-tracing speed of the default study's settings (prints figures; not a timed test).

    .venv/bin/python benchmarks/bench_trace.py [--model smollm2-135m] [--facts fact_sets/matched.yaml
        fact_sets/core.yaml] [--sample 32] [--repeats 3] [--noise-seeds N] [--stride S] [--window W]
        [--batch-size B] [--no-control]

Traces a fixed random sample of the sets' facts (untraceable ones included, so the mix is the real one)
under the empty condition ``--repeats`` times, the model warm (one untimed pass first), for the model
and its random-init control, and prints facts/s (wall clock) with its spread over repeats, the process
CPU seconds per fact (robust to other processes on a shared machine, not to their cache and memory
traffic), and the projected time of tracing every fact of the sets on the model and its control.
The load average and the float32 matmul rate are printed beside them: compare with a quiet moment's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from beliefs.facts import load_fact_set
from beliefs.inputs.prompts import resolve_start_token
from beliefs.models import LoadOptions, load_model
from beliefs.trace.core import DEFAULT_SEEDS, DEFAULT_WINDOW, centers, restorations, trace_pairs
from beliefs.trace.engine import Tracer
from beliefs.trace.prompts import pair_prompt
from beliefs.trace.run import DEFAULT_BATCH, DEFAULT_STRIDE


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
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--facts", nargs="+", default=["fact_sets/matched.yaml", "fact_sets/core.yaml"])
    ap.add_argument("--sample", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--noise-seeds", type=int, default=DEFAULT_SEEDS)
    ap.add_argument("--stride", type=int, default=DEFAULT_STRIDE)
    ap.add_argument("--window", type=int, default=DEFAULT_WINDOW)
    ap.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
    ap.add_argument("--no-control", action="store_true", help="Leave out the random-init control.")
    args = ap.parse_args()
    facts = [f for path in args.facts for f in load_fact_set(Path(path)).facts]
    rng = np.random.default_rng(0)
    sample = [facts[i] for i in sorted(rng.choice(len(facts), min(args.sample, len(facts)), replace=False))]
    total = len(facts)
    print(
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, torch threads "
        f"{torch.get_num_threads()}, float32 matmul {matmul_rate() / 1e9:.1f} GFLOP/s"
    )
    projected = [0.0, 0.0, 0.0]
    cpu_total = 0.0
    for control in (None,) if args.no_control else (None, "random-init"):
        lm = load_model(args.model, LoadOptions(control=control))
        tracer = Tracer(lm, batch_size=args.batch_size)
        start = resolve_start_token(lm.tokenizer)
        pairs = [pair_prompt(lm.tokenizer, start, None, f.id, f.statement, f.false_statement) for f in sample]
        plan = restorations(lm.n_layers, centers(lm.n_layers, args.stride), args.window)
        seeds = list(range(args.noise_seeds))
        trace_pairs(tracer, pairs[:4], plan, seeds)  # warm
        rates, cpu = [], []
        for _ in range(args.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            traces = trace_pairs(tracer, pairs, plan, seeds)
            rates.append(len(pairs) / (time.perf_counter() - t0))
            cpu.append((time.process_time() - c0) / len(pairs))
        traced = sum(t.reason is None for t in traces)
        mean = statistics.mean(rates)
        sd = statistics.stdev(rates) if len(rates) > 1 else 0.0
        print(
            f"{lm.name}: {len(pairs)} facts ({traced} traced), {len(plan)} restorations x {len(seeds)} seeds, "
            f"starts mid-model: {tracer.arch.entry_ok}; {mean:.3f} ± {sd:.3f} facts/s "
            f"(runs: {', '.join(f'{r:.3f}' for r in rates)}); CPU {statistics.mean(cpu):.2f} s/fact"
        )
        projected[0] += total / mean
        projected[1] += total / max(rates)
        projected[2] += total / min(rates)
        cpu_total += total * statistics.mean(cpu)
    print(
        f"projected tracing of {total} facts (model{'' if args.no_control else ' + control'}, empty "
        f"condition): {projected[0] / 60:.1f} min wall (fastest-slowest run: {projected[1] / 60:.1f}-"
        f"{projected[2] / 60:.1f} min), {cpu_total / 60:.1f} CPU-min; load average now "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


if __name__ == "__main__":
    main()
