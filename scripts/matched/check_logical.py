"""Check the logical domain of the matched set: every claim recomputed, and the pair rules.

Each statement is parsed by its frame and evaluated independently of how the items were written (arithmetic by
computation, digit and divisibility claims by brute force over 0..99,999, units from their legal
definitions, kinship by composing generation steps); the true form must come out true and the false
form false. Pair rules: ids unique, `pair` reciprocal, same domain and template, opposite kinds, each
template holding two or more pairs; contexts of a pair within 20% in words; no context holding a
form verbatim; no contradict passage that speaks of a mistake.

    python scripts/matched/check_logical.py [fact_sets/matched.yaml]
"""

from __future__ import annotations

import calendar
import re
import string
import sys
from collections import Counter
from fractions import Fraction
from pathlib import Path

import yaml

N = range(0, 100_000)
SQUARES = {k * k for k in range(400)}

# Units in base units: seconds, metres, grams, litres, months, items.
TIME = {
    "second": 1,
    "minute": 60,
    "hour": 3600,
    "day": 86_400,
    "week": 604_800,
    "year": 365 * 86_400,
}  # year: the shortest
MONTHS = {"month": 1, "year": 12, "decade": 120, "century": 1200}
YEARS = {"year": 1, "century": 100}
LENGTH = {
    "centimetre": Fraction(1, 100),
    "metre": Fraction(1),
    "kilometre": Fraction(1000),
    "inch": Fraction(254, 10_000),  # international inch, 1959
    "yard": Fraction(9144, 10_000),
    "mile": Fraction(1_609_344, 1000),
}
MASS = {
    "gram": Fraction(1),
    "kilogram": Fraction(1000),
    "ounce": Fraction(28_349_523_125, 10**9),
    "pound": Fraction(45_359_237, 10**5),
}
VOLUME_US = {
    "millilitre": Fraction(1, 1000),
    "litre": Fraction(1),
    "pint": Fraction(473_176_473, 10**9),
    "gallon": Fraction(3_785_411_784, 10**9),
}
VOLUME_UK = {
    "millilitre": Fraction(1, 1000),
    "litre": Fraction(1),
    "pint": Fraction(56_826_125, 10**8),
    "gallon": Fraction(454_609, 10**5),
}
COLLECTIVE = {"pair": 2, "half-dozen": 6, "dozen": 12, "baker's dozen": 13, "score": 20, "gross": 144}
POLYGON = {"triangle": 3, "square": 4, "pentagon": 5, "hexagon": 6}
CUBE = {"corners": 8, "edges": 12, "faces": 6}
assert CUBE["corners"] - CUBE["edges"] + CUBE["faces"] == 2  # Euler


def unit_table(u: str, v: str) -> list[dict[str, Fraction]]:
    """Every table defining both units (US and imperial volumes must both agree); none is an error."""
    tables = [TIME, MONTHS, YEARS, LENGTH, MASS, VOLUME_US, VOLUME_UK]
    found = [{k: Fraction(x) for k, x in t.items()} for t in tables if u in t and v in t]
    if not found:
        raise KeyError(f"no table has both {u!r} and {v!r}")
    return found


def sing(word: str) -> str:
    irregular = {"centuries": "century", "inches": "inch"}
    return irregular.get(word, word[:-1] if word.endswith("s") else word)


# Kinship as (generations up, generations down, sex) from oneself; a sibling of an ancestor u up is
# (u + 1, 1), a child adds one down.
TERMS = {
    "father": (1, 0, "m"),
    "mother": (1, 0, "f"),
    "grandfather": (2, 0, "m"),
    "grandmother": (2, 0, "f"),
    "uncle": (2, 1, "m"),
    "aunt": (2, 1, "f"),
    "great-uncle": (3, 1, "m"),
    "great-aunt": (3, 1, "f"),
    "sister": (1, 1, "f"),
    "nephew": (1, 2, "m"),
    "niece": (1, 2, "f"),
    "grandniece": (1, 3, "f"),
    "cousin": (2, 2, None),
    "cousin once removed": (2, 3, None),
}
STEP = {
    "brother": ("sib", "m"),
    "sister": ("sib", "f"),
    "child": ("child", None),
    "son": ("child", "m"),
    "daughter": ("child", "f"),
}


def kin(rel: str, of: str) -> tuple[int, int, str | None]:
    up, down, _ = TERMS[of]
    how, sex = STEP[rel]
    if how == "sib":
        if down != 0:
            raise ValueError("a sibling of a non-ancestor is not modelled")
        return (up + 1, 1, sex)
    return (up, down + 1, sex)


def kin_is(rel: str, of: str, res: str) -> bool:
    up, down, sex = kin(rel, of)
    t_up, t_down, t_sex = TERMS[res]
    return (up, down) == (t_up, t_down) and (t_sex is None or sex == t_sex)


def has_kind(kind: str, n: int) -> bool:
    if kind == "whole number":
        return True
    if kind in ("even", "even number"):
        return n % 2 == 0
    if kind in ("odd", "odd number"):
        return n % 2 == 1
    if kind in ("square", "square number"):
        return n in SQUARES
    m = re.fullmatch(r"multiple of (\d+)", kind)
    if m:
        return n % int(m.group(1)) == 0
    raise ValueError(kind)


def digit_sum(n: int) -> int:
    return sum(int(c) for c in str(n))


RULES: list[tuple[str, object]] = [
    (r"(\d+) plus (\d+) equals (\d+)", lambda a, b, c: int(a) + int(b) == int(c)),
    (r"(\d+) times (\d+) equals (\d+)", lambda a, b, c: int(a) * int(b) == int(c)),
    (r"(\d+) minus (\d+) equals (\d+)", lambda a, b, c: int(a) - int(b) == int(c)),
    (r"(\d+) divided by (\d+) equals (\d+)", lambda a, b, c: Fraction(int(a), int(b)) == int(c)),
    (r"Half of (\d+) is (\d+)", lambda n, h: Fraction(int(n), 2) == int(h)),
    (r"Twice (\d+) is (\d+)", lambda n, m: 2 * int(n) == int(m)),
    (r"The square of (\d+) is (\d+)", lambda n, m: int(n) ** 2 == int(m)),
    (r"(\d+) to the power (\d+) is (\d+)", lambda b, e, v: int(b) ** int(e) == int(v)),
    (r"(\d+) percent of (\d+) is (\d+)", lambda p, n, v: Fraction(int(p) * int(n), 100) == int(v)),
    (r"The average of (\d+) and (\d+) is (\d+)", lambda a, b, m: Fraction(int(a) + int(b), 2) == int(m)),
    (
        r"The fraction (\d+/\d+) is (greater|less) than (\d+/\d+)",
        lambda x, op, y: (Fraction(x) > Fraction(y)) if op == "greater" else (Fraction(x) < Fraction(y)),
    ),
    (r"The number (\d+) is (not )?divisible by (\d+)", lambda n, neg, d: (int(n) % int(d) == 0) != bool(neg)),
    (
        r"There are (\d+) whole numbers from (\d+) to (\d+)",
        lambda k, a, b: int(k) == sum(1 for n in N if int(a) <= n <= int(b)),
    ),
    (
        r"(No|Some) (\w+) number ends in the digit (\d)",
        lambda q, kind, d: any(has_kind(kind, n) and n % 10 == int(d) for n in N) == (q == "Some"),
    ),
    (
        r"Every multiple of (\d+) is a multiple of (\d+)",
        lambda a, b: all((k * int(a)) % int(b) == 0 for k in range(1, 1000)),
    ),
    (
        r"(No|Some) (.+) lies strictly between (\d+) and (\d+)",
        lambda q, kind, a, b: any(has_kind(kind, n) for n in range(int(a) + 1, int(b))) == (q == "Some"),
    ),
    (
        r"If the (last digit|digit sum) of a whole number is (\d+), the number is divisible by (\d+)",
        lambda which, d, k: all(
            n % int(k) == 0 for n in N if (n % 10 if which == "last digit" else digit_sum(n)) == int(d)
        ),
    ),
    (
        r"The (\d+)(?:st|nd|rd|th) letter of the English alphabet is ([A-Z])",
        lambda i, letter: string.ascii_uppercase[int(i) - 1] == letter,
    ),
    (
        r"The (\d+)(?:st|nd|rd|th) month of the calendar year is (\w+)",
        lambda i, month: calendar.month_name[int(i)] == month,
    ),
    (
        r"A (\w+) has (\d+) (\w+)",
        lambda shape, n, part: (
            int(n)
            == (
                CUBE[part]
                if shape == "cube"
                else POLYGON[shape] * (POLYGON[shape] - 3) // 2
                if part == "diagonals"
                else POLYGON[shape]
            )
        ),
    ),
    (
        r"There are (\d+) (\w+) in an? (\w+)",
        lambda n, unit, period: all(
            Fraction(t[period], t[sing(unit)]) == int(n) for t in unit_table(period, sing(unit))
        ),
    ),
    (r"An? ([\w' -]+?) is (\d+)", lambda word, n: COLLECTIVE[word] == int(n)),
    (
        r"An? (\w+) is (\d+) (\w+)",
        lambda unit, n, sub: all(
            Fraction(t[unit], t[sing(sub)]) == int(n) for t in unit_table(unit, sing(sub))
        ),
    ),
    (
        r"An? (\w+) is (longer|shorter) than an? (\w+)",
        lambda x, op, y: all((t[x] > t[y]) == (op == "longer") for t in unit_table(x, y)),
    ),
    (r"The (\w+) of one's (\w+) is one's ([\w -]+)", kin_is),
]


def evaluate(text: str) -> bool:
    body = text.rstrip(".")
    for pattern, rule in RULES:
        m = re.fullmatch(pattern, body)
        if m:
            return bool(rule(*m.groups()))  # type: ignore[operator]
    raise ValueError(f"no rule parses {text!r}")


def main() -> int:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "fact_sets/matched.yaml")
    facts = [f for f in yaml.safe_load(path.read_text(encoding="utf-8"))["facts"] if f["domain"] == "logical"]
    problems: list[str] = []
    by_id = {f["id"]: f for f in facts}
    for fid, n in Counter(f["id"] for f in facts).items():
        if n > 1:
            problems.append(f"{fid}: id used {n} times")
    for f in facts:
        fid = f["id"]
        try:
            if not evaluate(f["statement"]):
                problems.append(f"{fid}: statement is not true: {f['statement']}")
            if evaluate(f["false_statement"]):
                problems.append(f"{fid}: false_statement is not false: {f['false_statement']}")
        except (ValueError, KeyError) as exc:
            problems.append(f"{fid}: cannot evaluate ({exc})")
        other = by_id.get(f.get("pair", ""))
        if other is None:
            problems.append(f"{fid}: pair {f.get('pair')!r} is not a fact")
            continue
        if other.get("pair") != fid:
            problems.append(f"{fid}: pair is not reciprocal")
        if other["kind"] == f["kind"] or other["domain"] != f["domain"] or other["template"] != f["template"]:
            problems.append(f"{fid}: pair differs in domain or template, or has the same kind")
        for key in ("support", "contradict"):
            a, b = len(f["contexts"][key].split()), len(other["contexts"][key].split())
            if max(a, b) > 1.2 * min(a, b):
                problems.append(f"{fid}: {key} lengths {a} vs {b} words")
            for form in (f["statement"], f["false_statement"]):
                if form.rstrip(".").casefold() in f["contexts"][key].casefold():
                    problems.append(f"{fid}: {key} holds {form!r} verbatim")
        if re.search(r"\b(mistake|error|wrong|miscount)", f["contexts"]["contradict"], re.I):
            problems.append(f"{fid}: contradict speaks of a mistake")
        if re.match(r"(I|My|Me)\b", f["statement"]):
            problems.append(f"{fid}: first person (needs a third-person twin)")
    templates = Counter(f["template"] for f in facts if f["kind"] == "hinge")
    for slug, n in templates.items():
        if n < 2:
            problems.append(f"template {slug}: only {n} pair")
    kinds = Counter(f["kind"] for f in facts)
    print(
        f"{path}: {len(facts)} facts ({dict(kinds)}), {len(templates)} templates, "
        f"{sum(templates.values())} pairs; every form evaluated"
    )
    for p in problems:
        print("PROBLEM", p)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
