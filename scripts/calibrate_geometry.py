"""Size and power of the geometry and equivalence tests of the verdict step, by simulation.

- truth direction: one shared direction at different strengths (the null; the plain angle test
  rejected it 96% of the time in the review's simulation), and two directions 30° / 60° apart;
- robustness: every fact moved by one vector plus noise while hinges sit nearer the centroid (the null;
  1 − cos around a pooled mean made this a large effect), and hinges moved further (power);
- TOST: a true difference at the SESOI (size, should be ≤ 0.05) and none (power, against the closed form);
  and the power at the MDE that ``mde_planted`` reports (should be ≈ 0.80).

    .venv/bin/python scripts/calibrate_geometry.py [--datasets 200] [--permutations 199] [--facts 200]
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable

import numpy as np
from scipy import stats
from threadpoolctl import threadpool_limits

from beliefs.stats import cliffs_delta_perm, fact_permutations, permutation_pvalues
from beliefs.stats.directions import TruthDirections, plain_angle_degrees
from beliefs.stats.equivalence import mde_planted, mean_diff_perm, mean_diff_se, tost_from_interval
from beliefs.stats.geometry import mean_centred_cosine_shift
from beliefs.stats.shift import centred_displacement


def _labels(n: int) -> tuple[np.ndarray, np.ndarray]:
    lab = (np.arange(n) % 2).astype(np.int8)
    return lab, np.where(np.arange(n) % 4 < 2, "logical", "physical")


def truth_directions(
    seed: int, n: int, perms: int, s_c: float, degrees: float, dim: int = 32
) -> tuple[bool, bool]:
    """(new test rejects, plain angle test rejects) on one dataset: hinge strength 1, contingent ``s_c``."""
    rng = np.random.default_rng(seed)
    lab, dom = _labels(n)
    u = np.eye(dim)[0]
    v = math.cos(math.radians(degrees)) * u + math.sin(math.radians(degrees)) * np.eye(dim)[1]
    d = np.where(lab[:, None] == 1, u, s_c * v) + rng.normal(0, 1.0, (n, dim))
    g = d @ d.T
    labels = fact_permutations(lab, dom, perms, rng)
    t = TruthDirections(g).t_statistic(labels)
    t[1:] = np.where(np.isfinite(t[1:]), t[1:], 0.0)
    return permutation_pvalues(t)[0] <= 0.05, permutation_pvalues(plain_angle_degrees(g, labels))[0] <= 0.05


def robustness(seed: int, n: int, perms: int, extra: float, dim: int = 32) -> tuple[bool, bool]:
    """(displacement test rejects, 1 − cos test rejects): hinges nearer the centroid, every fact moved by
    one vector plus noise, hinges by ``extra`` more noise."""
    rng = np.random.default_rng(seed)
    lab, dom = _labels(n)
    x = rng.normal(size=(n, dim))
    x[lab == 1] *= 0.5
    noise = rng.normal(0, 0.3, (n, dim)) * np.where(lab[:, None] == 1, 1.0 + extra, 1.0)
    y = x + 2.0 * rng.normal(size=dim) + noise
    labels = fact_permutations(lab, dom, perms, rng)
    out = []
    for shift in (centred_displacement(x, y), mean_centred_cosine_shift(x, y)):
        out.append(permutation_pvalues(np.abs(cliffs_delta_perm(shift, labels)))[0] <= 0.05)
    return out[0], out[1]


def tost(seed: int, n: int, true: float, bound: float) -> bool:
    """TOST (Student t interval of a two-sample mean difference) rejects "|diff| ≥ bound"."""
    rng = np.random.default_rng(seed)
    x, y = rng.normal(true, 1, n // 2), rng.normal(0, 1, n // 2)
    df = n - 2
    se = math.sqrt((np.var(x, ddof=1) + np.var(y, ddof=1)) / 2) * math.sqrt(4 / n)
    est = float(x.mean() - y.mean())
    q = float(stats.t.ppf(0.975, df))
    return tost_from_interval(est, est - q * se, est + q * se, -bound, bound, df=df) <= 0.05


def mde_power(seed: int, n: int, perms: int, reps: int) -> tuple[float, float]:
    """The MDE ``mde_planted`` reports on one dataset, and the power of the permutation test at it."""
    rng = np.random.default_rng(seed)
    lab, dom = _labels(n)
    values = rng.normal(size=n)
    labels = fact_permutations(lab, dom, perms, rng)
    scale = mean_diff_se(values, lab)
    mde = mde_planted(values, labels, mean_diff_perm, scale, n_sim=100, n_null=99, seed=seed)
    hits = []
    for r in range(reps):
        v = rng.normal(size=n) + mde * lab
        null = fact_permutations(lab, dom, perms, np.random.default_rng(r))
        hits.append(permutation_pvalues(np.abs(mean_diff_perm(v, null)))[0] <= 0.05)
    return mde, float(np.mean(hits))


def _rate(fn: Callable[[int], object], reps: int) -> np.ndarray:
    return np.array([fn(seed) for seed in range(reps)], dtype=float)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=int, default=200)
    parser.add_argument("--permutations", type=int, default=199)
    parser.add_argument("--facts", type=int, default=200)
    args = parser.parse_args()
    n, p, reps = args.facts, args.permutations, args.datasets
    mc = 2 * math.sqrt(0.05 * 0.95 / reps)
    print(f"{reps} datasets per row, {n} facts, {p} permutations; acceptable size 0.05 ± {mc:.3f}")
    print(f"{'test':15s} {'setting':40s} {'new':>6s} {'old':>6s} {'secs':>5s}")
    with threadpool_limits(1):
        for s_c, deg, what in (
            (1.0, 0.0, "null: shared direction, strengths 1:1"),
            (0.5, 0.0, "null: shared direction, strengths 2:1"),
            (0.3, 0.0, "null: shared direction, strengths 10:3"),
            (1.0, 30.0, "power: directions 30° apart, 1:1"),
            (0.5, 60.0, "power: directions 60° apart, 2:1"),
        ):
            t = time.perf_counter()
            r = _rate(lambda s, s_c=s_c, deg=deg: truth_directions(s, n, p, s_c, deg), reps)
            print(f"{'truth-direction':15s} {what:40s} {r[:, 0].mean():6.3f} {r[:, 1].mean():6.3f} "
                  f"{time.perf_counter() - t:5.0f}")  # fmt: skip
        for extra, what in ((0.0, "null: identical movement, typicality"), (0.5, "power: hinges move 1.5x")):
            t = time.perf_counter()
            r = _rate(lambda s, extra=extra: robustness(s, n, p, extra), reps)
            print(f"{'robustness':15s} {what:40s} {r[:, 0].mean():6.3f} {r[:, 1].mean():6.3f} "
                  f"{time.perf_counter() - t:5.0f}")  # fmt: skip
        bound = 0.4
        se = math.sqrt(4 / n)
        closed = max(0.0, 2 * stats.norm.cdf(bound / se - stats.norm.ppf(0.95)) - 1)
        for true, what in (
            (bound, f"size: true diff = SESOI {bound}"),
            (0.0, f"power: no diff (closed {closed:.3f})"),
        ):
            t = time.perf_counter()
            r = _rate(lambda s, true=true: tost(s, n, true, bound), reps * 5)
            print(f"{'TOST':15s} {what:40s} {r.mean():6.3f} {'':>6s} {time.perf_counter() - t:5.0f}")
        t = time.perf_counter()
        mde, power = mde_power(0, n, p, reps)
        print(f"{'MDE 80%':15s} {f'power at the reported MDE {mde:.3f} SD':40s} {power:6.3f} {'':>6s} "
              f"{time.perf_counter() - t:5.0f}")  # fmt: skip
    print("new: the tests of the verdict step; old: plain angle between mass-mean directions, 1 − cos shift")


if __name__ == "__main__":
    main()
