"""Limits with messages: prompts over the model's context and special-token text, named by fact and
condition, refused before any batch runs."""

from __future__ import annotations

import pytest

from beliefs.errors import UsageError
from beliefs.extract import probe
from beliefs.schema import Condition, Contexts, Fact

CONDITIONS = [Condition(name="empty", prefix=""), Condition(name="support", context="support")]


def fact(i: int, statement: str | None = None, support: str | None = None) -> tuple[str, Fact]:
    return (
        "core",
        Fact(
            id=f"f{i}",
            domain="logical",
            kind="hinge",
            statement=statement or f"The city {i} is in France.",
            false_statement=f"The city {i} is on the Moon.",
            contexts=Contexts(support=support) if support else None,
        ),
    )


def test_statement_longer_than_the_context_names_fact_and_condition(tmp_path):
    long = " ".join(["word"] * 600) + "."  # the fake models take 512 positions
    with pytest.raises(
        UsageError,
        match=r"fact 'core/f1' \(true form\) in condition 'empty': the prompt has \d+ tokens, more than llama takes \(512\)",
    ):
        probe("fake:llama", [fact(0), fact(1, long)], CONDITIONS, tmp_path / "r")
    assert not list((tmp_path / "r").glob("entries/*.safetensors"))


def test_context_longer_than_the_model_names_the_condition(tmp_path):
    long = " ".join(["story"] * 600) + "."
    with pytest.raises(UsageError, match=r"fact 'core/f0' \(true form\) in condition 'support'"):
        probe("fake:llama", [fact(0, support=long)], CONDITIONS, tmp_path / "r")


def test_special_token_in_a_statement_is_refused(tmp_path):
    with pytest.raises(
        UsageError,
        match=r"fact 'core/f0' \(true form\) in condition 'empty': the text contains <\|endoftext\|>",
    ):
        probe("fake:llama", [fact(0, "The end <|endoftext|> here.")], CONDITIONS, tmp_path / "r")
