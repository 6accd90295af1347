"""Planted-difference check of the analyses on real data.

A set whose "hinge" facts are Geometry of Truth `larger_than` pairs and whose "contingent" facts are
`cities` pairs must give headline kind-probe and kind-distance p ≤ 0.01 and a high surface score (the
confound); the same `cities` facts with hinge/contingent assigned at random must give p > 0.05.

    python scripts/check_planted.py [--n 100] [--permutations 2000] [--out /tmp/beliefs-planted]

Needs ../shared/external (the team's datasets) and the embedded smollm2-135m.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

from beliefs.analyses import analyze
from beliefs.extract import probe
from beliefs.facts import load_fact_set
from beliefs.facts.importer import import_csv
from beliefs.schema import Condition, ConditionsFile, Fact, FactSet

EXTERNAL = Path(__file__).resolve().parents[2] / "shared" / "external" / "geometry_of_truth"
ANALYSES = ["surface", "kind-probe", "kind-distance"]


def _set(name: str, facts: list[Fact]) -> FactSet:
    return FactSet(schema_version=1, name=name, domains=["mixed"], facts=facts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="facts per kind")
    parser.add_argument("--permutations", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/beliefs-planted"))
    args = parser.parse_args()
    if not EXTERNAL.is_dir():
        print(f"{EXTERNAL} not found", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    larger = args.out / "larger.yaml"
    cities = args.out / "cities.yaml"
    import_csv(
        EXTERNAL / "larger_than.csv",
        name="larger",
        domain="mixed",
        kind="hinge",
        out=larger,
        pair_by=["n1", "n2"],
        unordered=True,
    )
    import_csv(
        EXTERNAL / "cities.csv",
        name="cities",
        domain="mixed",
        kind="contingent",
        out=cities,
        pair_by=["city"],
    )
    rng = random.Random(0)
    hinge = rng.sample(load_fact_set(larger).facts, args.n)
    city_facts = rng.sample(load_fact_set(cities).facts, 2 * args.n)
    planted = _set("planted", hinge + city_facts[: args.n])
    shuffled = [f.model_copy(update={"kind": rng.choice(["hinge", "contingent"])}) for f in city_facts]
    null = _set("null", shuffled)
    conditions = ConditionsFile(conditions=[Condition(name="empty", prefix="")])
    for name, fact_set in (("planted", planted), ("null", null)):
        start = time.perf_counter()
        run = probe("smollm2-135m", [fact_set], conditions, out=args.out / f"run-{name}")
        summary = analyze(
            run,
            args.out / f"run-{name}" / "results",
            analyses=ANALYSES,
            permutations=args.permutations,
            seed=0,
        )
        print(f"== {name}: {len(fact_set.facts)} facts ({time.perf_counter() - start:.0f} s)")
        for h in summary["headlines"]:
            print(
                f"  {h['analysis']:14} {h['statistic']:15} {h['estimate']:.3f} "
                f"[{h.get('ci_low') or float('nan'):.3f}, {h.get('ci_high') or float('nan'):.3f}] "
                f"p = {h['p_value']:.4f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
