"""Size and power of every permutation test in beliefs.stats, by simulation (slow: a few minutes).

Under a true null the rejection rate at α = 0.05 should lie within Monte-Carlo error of 0.05
(± 2·√(0.05·0.95/N)); under the planted effect it is the test's power.

    .venv/bin/python scripts/calibrate_stats.py [--datasets 400] [--permutations 199] [--facts 40] [--tests …]
"""

from __future__ import annotations

import argparse
import math
import time

from threadpoolctl import threadpool_limits

from beliefs.stats.calibration import POWER_EFFECT, TESTS, rejection_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=int, default=400)
    parser.add_argument("--permutations", type=int, default=199)
    parser.add_argument("--facts", type=int, default=40)
    parser.add_argument("--tests", nargs="+", choices=TESTS, default=list(TESTS), help="the tests to run")
    args = parser.parse_args()
    mc = 2 * math.sqrt(0.05 * 0.95 / args.datasets)
    print(f"{args.datasets} datasets per cell, {args.facts} facts, {args.permutations} permutations")
    print(f"acceptable size: 0.05 ± {mc:.3f}")
    print(f"{'test':16s} {'size':>6s} {'ok':>4s} {'effect':>7s} {'power':>6s} {'secs':>5s}")
    with threadpool_limits(1):
        for test in args.tests:
            t = time.perf_counter()
            kw = {"n": args.facts, "permutations": args.permutations}
            size = rejection_rate(test, 0.0, args.datasets, seed=1, **kw)
            power = rejection_rate(test, POWER_EFFECT[test], args.datasets, seed=2, **kw)
            ok = "yes" if abs(size - 0.05) <= mc else "NO"
            print(
                f"{test:16s} {size:6.3f} {ok:>4s} {POWER_EFFECT[test]:7.2f} {power:6.3f} {time.perf_counter() - t:5.0f}"
            )


if __name__ == "__main__":
    main()
