"""Fixtures of the tracing tests: a small fact list (4 per domain × kind) and a probed fake run."""

from __future__ import annotations

import pytest

from beliefs.schema import Condition, Fact

STATEMENTS = [
    ("earth", "physical", "hinge", "I am currently on Earth.", "I am currently on the Moon."),
    ("hands", "physical", "hinge", "I have two hands.", "I have three hands."),
    ("birth", "physical", "hinge", "The Earth existed long before my birth.", "The Earth began at my birth."),
    ("ground", "physical", "hinge", "The city of Paris is in France.", "The city of Paris is in Poland."),
    (
        "canberra",
        "physical",
        "contingent",
        "Canberra is the capital of Australia.",
        "Sydney is the capital of Australia.",
    ),
    (
        "copper",
        "physical",
        "contingent",
        "Copper conducts electricity.",
        "Copper does not conduct electricity.",
    ),
    ("lodz", "physical", "contingent", "The city of Lodz is in Poland.", "The city of Lodz is in France."),
    ("log", "physical", "contingent", "The spacecraft log says day 12.", "The spacecraft log says day 21."),
    ("one", "logical", "hinge", "1 + 1 = 2.", "1 + 1 = 3."),
    (
        "red",
        "logical",
        "hinge",
        "Nothing is both red and not red at once.",
        "Something is both red and not red at once.",
    ),
    ("abc", "logical", "hinge", "The letters a b c come in order.", "The letters a b c come in reverse."),
    ("zero", "logical", "hinge", "0 + 1 = 1.", "0 + 1 = 2."),
    ("prime", "logical", "contingent", "101 is a prime number.", "101 is not a prime number."),
    ("seven", "logical", "contingent", "7 × 8 = 56.", "7 × 8 = 54."),
    ("nine", "logical", "contingent", "9 × 9 = 81.", "9 × 9 = 18."),
    (
        "glass",
        "logical",
        "contingent",
        "Glass does not conduct electricity.",
        "Glass does conduct electricity.",
    ),
]


@pytest.fixture(scope="session")
def trace_facts() -> list[tuple[str, Fact]]:
    return [
        ("mini", Fact(id=i, domain=d, kind=k, statement=s, false_statement=f)) for i, d, k, s, f in STATEMENTS
    ]


@pytest.fixture(scope="session")
def trace_conditions() -> list[Condition]:
    return [Condition(name="empty", prefix=""), Condition(name="city", prefix="Once upon a time.")]


@pytest.fixture(scope="session")
def fake_run(tmp_path_factory, trace_facts, trace_conditions):
    """A probed run of fake:llama and its random-init control (not traced yet)."""
    from beliefs.extract import probe

    out = tmp_path_factory.mktemp("trace") / "run"
    probe("fake:llama", trace_facts, trace_conditions, out, control="random-init")
    return out
