"""Time ``analyze`` on a run the size of the core study.

≈200 facts × 2 forms × 6 conditions, a smollm2-135m-like causal LM (31 layers, width 576) with its
random-init control, and a minilm-l6-like encoder (7 layers, width 384); 2,000 permutations.

    .venv/bin/python benchmarks/bench_analyze.py [--permutations 2000] [--facts 200]
"""

from __future__ import annotations

import argparse
import tempfile
import time

from beliefs.analyses import ANALYSES, analyze, synthetic_run
from beliefs.analyses.synthetic import DEFAULT_CONDITIONS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--permutations", type=int, default=2000)
    parser.add_argument("--facts", type=int, default=200)
    parser.add_argument("--per-analysis", action="store_true", help="time each analysis on its own too")
    args = parser.parse_args()
    t0 = time.perf_counter()
    run = synthetic_run(
        n_facts=args.facts,
        models=(("smollm2-like", "hf", 31, 576), ("minilm-like", "st", 7, 384)),
        conditions=DEFAULT_CONDITIONS,
        effect=0.3,
        margin_effect=0.5,
        random_init_control=True,
    )
    print(f"built synthetic run in {time.perf_counter() - t0:.1f} s")
    with tempfile.TemporaryDirectory() as out:
        if args.per_analysis:
            for name in ANALYSES:
                t = time.perf_counter()
                analyze(run, out, analyses=[name], permutations=args.permutations)
                print(f"  {name:16s} {time.perf_counter() - t:6.1f} s")
        t = time.perf_counter()
        summary = analyze(run, out, permutations=args.permutations)
        elapsed = time.perf_counter() - t
    print(
        f"analyze: {len(summary['headlines'])} headlines, {args.permutations} permutations, {elapsed:.1f} s"
    )


if __name__ == "__main__":
    main()
