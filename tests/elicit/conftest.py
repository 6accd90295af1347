"""Fixtures of the elicitation tests: a fast bag-of-words embedder and a tiny fact set."""

from __future__ import annotations

import re
import zlib

import numpy as np
import pytest

from beliefs.schema import Condition, Fact

DIM = 256


def bag_of_words(texts: list[str]) -> np.ndarray:
    """A deterministic stand-in for a sentence encoder: hashed word counts (plus a constant)."""
    out = np.zeros((len(texts), DIM))
    for i, text in enumerate(texts):
        for word in re.findall(r"\w+", text.lower()):
            out[i, zlib.crc32(word.encode()) % DIM] += 1.0
    out[:, 0] += 0.01
    return out


@pytest.fixture
def embed():
    return bag_of_words


def fact(fid: str, domain: str, kind: str, statement: str, false_statement: str) -> tuple[str, Fact]:
    return (
        "mini",
        Fact(id=fid, domain=domain, kind=kind, statement=statement, false_statement=false_statement),
    )


@pytest.fixture
def facts():
    return [
        fact("one-plus-one", "logical", "hinge", "One plus one equals two.", "One plus one equals three."),
        fact("two-plus-two", "logical", "hinge", "Two plus two equals four.", "Two plus two equals five."),
        fact("prime", "logical", "contingent", "101 is a prime number.", "101 is not a prime number."),
        fact(
            "square",
            "logical",
            "contingent",
            "The square of thirteen is 169.",
            "The square of thirteen is 196.",
        ),
        fact("earth", "physical", "hinge", "I am currently on Earth.", "I am currently on the Moon."),
        fact("hands", "physical", "hinge", "I have two hands.", "I have three hands."),
        fact(
            "canberra",
            "physical",
            "contingent",
            "Canberra is the capital of Australia.",
            "Sydney is the capital of Australia.",
        ),
        fact(
            "copper",
            "physical",
            "contingent",
            "Copper conducts electricity.",
            "Copper does not conduct electricity.",
        ),
    ]


@pytest.fixture
def conditions():
    return [
        Condition(name="empty", prefix=""),
        Condition(name="city", prefix="The city of Paris is in France."),
        Condition(name="support", context="support"),
    ]
