"""The small fact list the ripple tests share (a plain module beside them, imported by name)."""

from __future__ import annotations

from pathlib import Path

import yaml

from beliefs.intervene.ripple import Item
from beliefs.schema import Fact

RAW = [
    ("earth", "physical", "self", "moon", "I am currently on Earth.", "I am currently on the Moon.", True),
    ("moon", "physical", "self", "earth", "I have two hands.", "I have three hands.", True),
    (
        "paris",
        "physical",
        "city",
        "lodz",
        "The city of Paris is in France.",
        "The city of Paris is in Poland.",
        True,
    ),
    (
        "lodz",
        "physical",
        "city",
        "paris",
        "The city of Lodz is in Poland.",
        "The city of Lodz is in France.",
        False,
    ),
    ("one", "logical", "sum", "zero", "1 + 1 = 2.", "1 + 1 = 3.", True),
    ("zero", "logical", "sum", "one", "0 + 1 = 1.", "0 + 1 = 2.", True),
    ("prime", "logical", None, None, "101 is a prime number.", "101 is not a prime number.", True),
    ("seven", "logical", None, None, "7 × 8 = 56.", "7 × 8 = 54.", False),
]


def _items() -> list[Item]:
    out = []
    for i, (fid, dom, tpl, pair, s, f, ctx) in enumerate(RAW):
        contexts = {"contradict": f"Once upon a time, in a land far away, {f}"} if ctx else None
        fact = Fact(
            id=fid,
            domain=dom,
            kind="hinge" if i % 2 else "contingent",
            statement=s,
            false_statement=f,
            contexts=contexts,
            template=tpl,
            pair=pair,
        )
        out.append(Item(f"mini/{fid}", fact))
    return out


def write_items(path: Path) -> Path:
    """The items as a fact-set file at ``path``."""
    facts = []
    for it in _items():
        d = it.fact.model_dump(exclude_none=True)
        d.pop("tags", None)
        facts.append(d)
    payload = {"schema_version": 1, "name": "mini", "domains": ["logical", "physical"], "facts": facts}
    path.write_text(yaml.safe_dump(payload, sort_keys=False))
    return path
