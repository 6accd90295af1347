"""Done-when checks of the beyond-surface tests on real smollm2-135m states, `empty` only.

1. **Kinds tied to length only.** ``--n`` city statements from Geometry of Truth ``cities.csv``; in each of
   ``--seeds`` seeds the kind is drawn with P(hinge) = sigmoid(slope × z(characters)), so the states know
   the kind only through the wording. Expected: the plain kind tests reject, ``p_beyond_surface`` stays
   above 0.05 in most seeds.
2. **Meaning without telling words.** One city per country, kind = its country is in Asia (vs Africa).
   Facts are paired, an Asian with an African city; both false forms of a pair name one European or
   American country used by no other pair, so every word occurs in one fact of each kind or in one fact
   only: no word that tells the kinds apart occurs in two facts. The twins are declared as ``pair``s in a
   second analysis. Expected: ``p_beyond_surface`` ≤ 0.05.

    python scripts/check_beyond.py [--n 160] [--seeds 10] [--permutations 999] [--out /tmp/beliefs-beyond]

The states are extracted once per set (the kinds of set 1 are redrawn over the same states).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from beliefs.analyses import analyze
from beliefs.extract import probe
from beliefs.schema import Condition, ConditionsFile, Fact, FactSet

_CANDIDATES = [
    Path(__file__).resolve().parents[2] / "shared",
    Path("/work/shared"),
]  # beside the repo, or a worktree's
EXTERNAL = next((c for c in _CANDIDATES if c.is_dir()), _CANDIDATES[0]) / "external" / "geometry_of_truth"
ANALYSES = ["surface", "kind-probe", "kind-distance"]
ASIA = {"Afghanistan", "Armenia", "Azerbaijan", "Bangladesh", "Cambodia", "China", "India", "Indonesia", "Iran",
        "Iraq", "Japan", "Jordan", "Kazakhstan", "Kuwait", "Kyrgyzstan", "Lebanon", "Malaysia", "Mongolia",
        "Myanmar", "Nepal", "Oman", "Pakistan", "Saudi Arabia", "South Korea", "Syria", "Tajikistan",
        "Thailand", "Turkmenistan", "Uzbekistan", "Vietnam", "Yemen", "the Philippines"}  # fmt: skip
AFRICA = {"Algeria", "Benin", "Burkina Faso", "Burundi", "Cameroon", "Chad", "Côte d'Ivoire", "Egypt", "Eritrea",
          "Ethiopia", "Gabon", "Ghana", "Guinea", "Kenya", "Madagascar", "Malawi", "Mali", "Mauritania",
          "Morocco", "Mozambique", "Niger", "Nigeria", "Rwanda", "Senegal", "Somalia", "South Africa", "Sudan",
          "Tanzania", "Togo", "Uganda", "Zambia", "Zimbabwe"}  # fmt: skip


class Relabelled:
    """A run seen with other kinds (and optional pairs): the states stay, the fact table changes."""

    def __init__(self, run: Any, kinds: dict[str, str], pairs: dict[str, str] | None = None) -> None:
        self.run = run
        facts = run.facts().copy()  # the run's own fact order: map by id, never by position
        facts["kind"] = facts["fact_id"].map(kinds)
        if pairs is not None:
            facts["pair"] = facts["fact_id"].map(pairs)
        self._facts = facts
        kind_of = dict(zip(facts["fact_id"], facts["kind"], strict=True))
        margins = run.margins().copy()
        margins["kind"] = margins["fact_id"].map(kind_of)
        self._margins = margins

    def models(self) -> Any:
        return self.run.models()

    def conditions(self) -> Any:
        return self.run.conditions()

    def facts(self) -> pd.DataFrame:
        return self._facts

    def states(self, *args: Any, **kw: Any) -> Any:
        return self.run.states(*args, **kw)

    def margins(self) -> pd.DataFrame:
        return self._margins


def _slug(text: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", text.lower())) or "x"


def _true_rows() -> pd.DataFrame:
    d = pd.read_csv(EXTERNAL / "cities.csv")
    return d[d["label"] == 1].drop_duplicates("city").reset_index(drop=True)


def _fact(fid: str, kind: str, statement: str, false: str) -> Fact:
    return Fact(id=_slug(fid), domain="physical", kind=kind, statement=statement, false_statement=false)


def length_set(n: int) -> FactSet:
    d = pd.read_csv(EXTERNAL / "cities.csv")
    true = d[d["label"] == 1].drop_duplicates("city")
    false = d[d["label"] == 0].drop_duplicates("city").set_index("city")
    true = true[true["city"].isin(false.index)].sample(n, random_state=0)
    facts = [
        _fact(r.city, "hinge", r.statement, false.loc[r.city, "statement"])
        for r in true.itertuples(index=False)
    ]
    return FactSet(schema_version=1, name="cities-length", domains=["physical"], facts=facts)


def meaning_set() -> tuple[FactSet, dict[str, str]]:
    rows = _true_rows()
    rng = random.Random(0)
    picks: dict[str, list[Any]] = {"Asia": [], "Africa": []}
    for continent, members in (("Asia", ASIA), ("Africa", AFRICA)):
        for country in sorted(members):
            cities = rows[rows["correct_country"] == country]
            if len(cities):
                picks[continent].append(cities.iloc[rng.randrange(len(cities))])
    others = sorted(set(rows["correct_country"]) - ASIA - AFRICA - {"North Korea"})
    others = [c for c in others if "Republic" not in c and "Congo" not in c]
    rng.shuffle(others)
    k = min(len(picks["Asia"]), len(picks["Africa"]), len(others))
    asia, africa = rng.sample(picks["Asia"], k), rng.sample(picks["Africa"], k)
    facts: list[Fact] = []
    pairs: dict[str, str] = {}
    for a, b, z in zip(asia, africa, others[:k], strict=True):
        fa = _fact(a.city, "hinge", a.statement, f"The city of {a.city} is in {z}.")
        fb = _fact(b.city, "contingent", b.statement, f"The city of {b.city} is in {z}.")
        facts += [fa, fb]
        pairs.update({fa.id: fb.id, fb.id: fa.id})
    return FactSet(schema_version=1, name="cities-asia", domains=["physical"], facts=facts), pairs


def telling_words(fact_set: FactSet) -> int:
    """Words that occur in two or more facts, all of one kind (should be 0 for the meaning set)."""
    kinds: dict[str, Counter[str]] = {}
    for f in fact_set.facts:
        for w in set(re.findall(r"\w+", f"{f.statement} {f.false_statement}".lower())):
            kinds.setdefault(w, Counter())[f.kind] += 1
    return sum(1 for c in kinds.values() if sum(c.values()) >= 2 and len(c) == 1)


def _heads(summary: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(h["analysis"], h["statistic"]): h for h in summary["headlines"] if h["condition"] == "empty"}


def _fmt(h: dict[str, Any], key: str) -> str:
    v = h.get(key)
    return "  n/a" if v is None else f"{v:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=160, help="facts of the length-tied set")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--slope", type=float, default=2.0, help="log-odds of hinge per SD of length")
    parser.add_argument("--permutations", type=int, default=999)
    parser.add_argument("--out", type=Path, default=Path("/tmp/beliefs-beyond"))
    parser.add_argument("--sets", nargs="+", choices=["length", "meaning"], default=["length", "meaning"])
    args = parser.parse_args()
    if not EXTERNAL.is_dir():
        print(f"{EXTERNAL} not found", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    conditions = ConditionsFile(conditions=[Condition(name="empty", prefix="")])
    keys = ["p_value", "p_beyond_surface", "p_beyond_lexical", "p_conditional", "increment_estimate"]
    print("set / seed      analysis       statistic  " + " ".join(f"{k[:16]:>16}" for k in keys))

    if "length" in args.sets:
        check_length(args, conditions, keys)
    if "meaning" in args.sets:
        check_meaning(args, conditions, keys)
    return 0


def check_length(args: argparse.Namespace, conditions: ConditionsFile, keys: list[str]) -> None:
    start = time.perf_counter()
    cities = length_set(args.n)
    run = probe("smollm2-135m", [cities], conditions, out=args.out / "run-length")
    print(f"# length-tied set: {len(cities.facts)} facts, states in {time.perf_counter() - start:.0f} s")
    ids = run.facts()["fact_id"].tolist()
    chars = run.facts()["statement"].str.len().to_numpy(dtype=float)
    zc = (chars - chars.mean()) / chars.std()
    tally: Counter[str] = Counter()
    for seed in range(args.seeds):
        rng = np.random.default_rng(seed)
        hinge = rng.random(zc.size) < 1 / (1 + np.exp(-args.slope * zc))
        kinds = dict(zip(ids, np.where(hinge, "hinge", "contingent").tolist(), strict=True))
        summary = analyze(
            Relabelled(run, kinds), args.out / f"length-{seed}", ANALYSES, args.permutations, seed
        )
        heads = _heads(summary)
        for (analysis, stat), h in heads.items():
            if analysis == "surface":
                continue
            print(f"length/{seed:<8} {analysis:14} {stat:10} " + " ".join(f"{_fmt(h, k):>16}" for k in keys))
            tally[f"{analysis}/{stat} plain p<=0.05"] += h["p_value"] <= 0.05
            tally[f"{analysis}/{stat} beyond p>0.05"] += h["p_beyond_surface"] > 0.05
    print(f"# over {args.seeds} seeds:")
    for k, v in tally.items():
        print(f"#   {k}: {v}/{args.seeds}")


def check_meaning(args: argparse.Namespace, conditions: ConditionsFile, keys: list[str]) -> None:
    start = time.perf_counter()
    meaning, pairs = meaning_set()
    run = probe("smollm2-135m", [meaning], conditions, out=args.out / "run-meaning")
    print(
        f"# meaning set: {len(meaning.facts)} facts ({len(meaning.facts) // 2} Asia, rest Africa), "
        f"{telling_words(meaning)} telling words in two or more facts, states in {time.perf_counter() - start:.0f} s"
    )
    kinds = {f.id: f.kind for f in meaning.facts}
    for label, rd in (("no pairs", Relabelled(run, kinds)), ("pairs", Relabelled(run, kinds, pairs))):
        summary = analyze(rd, args.out / f"meaning-{label.replace(' ', '-')}", ANALYSES, args.permutations, 0)
        for (analysis, stat), h in _heads(summary).items():
            extra = f" within-pair p {_fmt(h, 'p_within_pair')}" if "p_within_pair" in h else ""
            if analysis == "surface":
                print(f"meaning/{label:9} surface        {stat:14} {h['estimate']:.3f} p {h['p_value']:.3f}")
                continue
            line = " ".join(f"{_fmt(h, k):>16}" for k in keys)
            print(f"meaning/{label:9} {analysis:14} {stat:10} {line}{extra}")


if __name__ == "__main__":
    sys.exit(main())
