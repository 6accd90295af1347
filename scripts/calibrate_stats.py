"""Size and power of every permutation test in beliefs.stats, by simulation (slow: a few minutes).

Under a true null the rejection rate at α = 0.05 should lie within Monte-Carlo error of 0.05
(± 2·√(0.05·0.95/N)); under the planted effect it is the test's power.

The beyond-surface tests are run on the *confounded* null: the kind depends on a surface feature (length)
and the states encode only the surface (length and words), so the plain probe rejects while each
beyond-surface test should hold its size; their power is measured with a planted kind signal added.

    .venv/bin/python scripts/calibrate_stats.py [--datasets 400] [--permutations 199] [--facts 40] [--tests …]
    .venv/bin/python scripts/calibrate_stats.py --tests none --beyond-facts 120 --beyond-datasets 200
"""

from __future__ import annotations

import argparse
import math
import time

from threadpoolctl import threadpool_limits

from beliefs.stats.calibration import (
    BEYOND_POWER_EFFECT,
    BEYOND_TESTS,
    PAIR_IMBALANCES,
    PAIR_TESTS,
    POWER_EFFECT,
    TESTS,
    beyond_rejection_rate,
    pair_rejection_rate,
    rejection_rate,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=int, default=400)
    parser.add_argument("--permutations", type=int, default=199)
    parser.add_argument("--facts", type=int, default=40)
    parser.add_argument("--tests", nargs="+", choices=[*TESTS, "none"], default=list(TESTS))
    parser.add_argument("--beyond", nargs="+", choices=[*BEYOND_TESTS, "none"], default=list(BEYOND_TESTS))
    parser.add_argument("--beyond-datasets", type=int, default=200)
    parser.add_argument("--beyond-facts", type=int, default=120)
    parser.add_argument("--pairs", nargs="+", choices=[*PAIR_TESTS, "none"], default=list(PAIR_TESTS))
    parser.add_argument("--pair-datasets", type=int, default=200)
    parser.add_argument("--pair-count", type=int, default=80, help="pairs per simulated dataset")
    parser.add_argument(
        "--imbalances",
        type=float,
        nargs="+",
        default=list(PAIR_IMBALANCES),
        help="mean within-pair surface differences (hinge − contingent, in within-pair SDs) to simulate",
    )
    args = parser.parse_args()
    tests = [t for t in args.tests if t != "none"]
    beyond = [t for t in args.beyond if t != "none"]
    pairs = [t for t in args.pairs if t != "none"]
    with threadpool_limits(1):
        if tests:
            mc = 2 * math.sqrt(0.05 * 0.95 / args.datasets)
            print(f"{args.datasets} datasets per cell, {args.facts} facts, {args.permutations} permutations")
            print(f"acceptable size: 0.05 ± {mc:.3f}")
            print(f"{'test':16s} {'size':>6s} {'ok':>4s} {'effect':>7s} {'power':>6s} {'secs':>5s}")
            for test in tests:
                t = time.perf_counter()
                kw = {"n": args.facts, "permutations": args.permutations}
                size = rejection_rate(test, 0.0, args.datasets, seed=1, **kw)
                power = rejection_rate(test, POWER_EFFECT[test], args.datasets, seed=2, **kw)
                ok = "yes" if abs(size - 0.05) <= mc else "NO"
                print(
                    f"{test:16s} {size:6.3f} {ok:>4s} {POWER_EFFECT[test]:7.2f} {power:6.3f} "
                    f"{time.perf_counter() - t:5.0f}"
                )
        if beyond:
            n = args.beyond_datasets
            mc = 2 * math.sqrt(0.05 * 0.95 / n)
            print(
                f"\nconfounded null (kind tied to length; states carry length and words only): {n} datasets,"
            )
            print(
                f"{args.beyond_facts} facts, {args.permutations} permutations; acceptable size ≤ {0.05 + mc:.3f}"
            )
            print("plain-probe is the plain test: it should reject; the others should hold their size")
            print(f"{'test':18s} {'size':>6s} {'ok':>4s} {'effect':>7s} {'power':>6s} {'secs':>5s}")
            for test in beyond:
                t = time.perf_counter()
                kw = {"n": args.beyond_facts, "permutations": args.permutations}
                size = beyond_rejection_rate(test, 0.0, n, seed=1, **kw)
                power = beyond_rejection_rate(test, BEYOND_POWER_EFFECT, n, seed=2, **kw)
                ok = (
                    ("yes" if size >= 0.5 else "NO")
                    if test == "plain-probe"
                    else ("yes" if size <= 0.05 + mc else "NO")
                )
                print(
                    f"{test:18s} {size:6.3f} {ok:>4s} {BEYOND_POWER_EFFECT:7.2f} {power:6.3f} "
                    f"{time.perf_counter() - t:5.0f}"
                )
        if pairs:
            n = args.pair_datasets
            mc = 2 * math.sqrt(0.05 * 0.95 / n)
            print(
                f"\npaired null (one hinge and one contingent twin per pair; the hinge twin longer by the given "
                f"mean within-pair SDs; states carry length and words only): {n} datasets, {args.pair_count} "
                f"pairs, {args.permutations} permutations within pairs; acceptable size ≤ {0.05 + mc:.3f}"
            )
            print(
                f"{'test':16s} {'imbalance':>9s} {'size':>6s} {'ok':>4s} {'effect':>7s} {'power':>6s} {'secs':>5s}"
            )
            for test in pairs:
                for imbalance in args.imbalances:
                    t = time.perf_counter()
                    kw = {"n_pairs": args.pair_count, "permutations": args.permutations}
                    size = pair_rejection_rate(test, 0.0, n, seed=1, imbalance=imbalance, **kw)
                    power = pair_rejection_rate(
                        test, BEYOND_POWER_EFFECT, n, seed=2, imbalance=imbalance, **kw
                    )
                    ok = "yes" if size <= 0.05 + mc else "NO"
                    print(
                        f"{test:16s} {imbalance:9.2f} {size:6.3f} {ok:>4s} {BEYOND_POWER_EFFECT:7.2f} "
                        f"{power:6.3f} {time.perf_counter() - t:5.0f}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
