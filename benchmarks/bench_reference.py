"""Reference check of the embedded causal LMs: Geometry of Truth ``cities`` pairwise accuracy.

    .venv/bin/python benchmarks/bench_reference.py [-m smollm2-135m -m qwen2.5-0.5b] [--pairs 200]

The first ``--pairs`` cities with both a true and a false statement (``cities.csv`` from
``../shared/external/geometry_of_truth`` beside the repository, or ``--cities``), probed through
``beliefs.probe`` under the ``empty`` condition; printed per model: the share of facts whose true form
has the higher log-probability (margin > 0), the mean margin, and the seconds the probe took (model
preparation and loading included). A sanity check that a model is loaded and scored correctly, not a
result: a model that reads the statements at all should be far above 0.5.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_extract import CITIES, city_facts

from beliefs.extract import probe
from beliefs.schema import Condition


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-m", "--model", action="append", help="embedded model or spec (repeatable)")
    ap.add_argument("--pairs", type=int, default=200)
    ap.add_argument("--cities", type=Path, default=CITIES, help="Geometry of Truth cities.csv")
    ap.add_argument("--batch-size", type=int, default=16)
    args = ap.parse_args()
    models = args.model or ["smollm2-135m"]
    facts = city_facts(args.pairs, args.cities)
    print(f"{len(facts)} Geometry of Truth city pairs, condition empty")
    print(f"{'model':16s} {'accuracy':>8s} {'mean margin':>12s} {'seconds':>8s}")
    with tempfile.TemporaryDirectory(prefix="bench-reference-") as tmp:
        for i, model in enumerate(models):
            t0 = time.perf_counter()
            run = probe(
                model,
                facts,
                [Condition(name="empty", prefix="")],
                out=Path(tmp) / f"run{i}",
                batch_size=args.batch_size,
                device="cpu",
            )
            seconds = time.perf_counter() - t0
            m = run.margins()
            if len(m) != len(facts):
                raise SystemExit(f"{model}: {len(m)} margins for {len(facts)} facts")
            acc = float((m["margin"] > 0).mean())
            print(f"{model:16s} {acc:8.3f} {m['margin'].mean():12.3f} {seconds:8.1f}")


if __name__ == "__main__":
    main()
