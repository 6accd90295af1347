"""Limits with messages: prompts over the model's context and special-token text, named by fact and
condition, refused before any batch runs."""

from __future__ import annotations

import re

import pytest

from beliefs.errors import InvalidInputError
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


def problems_of(*args, **kwargs) -> list[str]:
    with pytest.raises(InvalidInputError) as info:
        probe(*args, **kwargs)
    assert info.value.exit_code == 1  # the input is at fault, not the command line
    return [str(p) for p in info.value.problems]


def test_statement_longer_than_the_context_names_fact_and_condition(tmp_path):
    long = " ".join(["word"] * 600) + "."  # the fake models take 512 positions
    found = problems_of("fake:llama", [fact(0), fact(1, long), fact(2, long)], CONDITIONS, tmp_path / "r")
    assert len(found) == 2  # every offending prompt, not the first only
    assert re.search(
        r"fact 'core/f1', field 'statement': in condition 'empty' the true form's prompt has \d+ "
        r"tokens, more than llama takes \(512\)",
        found[0],
    )
    assert "core/f2" in found[1]
    assert not list((tmp_path / "r").glob("entries/*.safetensors"))


def test_context_longer_than_the_model_names_the_condition(tmp_path):
    long = " ".join(["story"] * 600) + "."
    found = problems_of("fake:llama", [fact(0, support=long)], CONDITIONS, tmp_path / "r")
    assert any("fact 'core/f0'" in p and "condition 'support'" in p for p in found)


def test_special_token_in_a_statement_is_refused(tmp_path):
    found = problems_of(
        "fake:llama",
        [fact(0, "The end <|endoftext|> here."), fact(1, "Also <|endoftext|>.")],
        CONDITIONS,
        tmp_path / "r",
    )
    assert len(found) == 2 and all("<|endoftext|>" in p and "field 'statement'" in p for p in found)


def test_special_token_in_a_prefix_names_the_conditions_file_and_line(tmp_path):
    from beliefs import load_conditions, load_fact_set

    facts = tmp_path / "core.yaml"
    facts.write_text(
        "schema_version: 1\nname: core\nfacts:\n"
        "  - {id: f0, domain: logical, kind: hinge, statement: A is A., false_statement: A is B., note: n}\n"
    )
    conditions = tmp_path / "conditions.yaml"
    conditions.write_text('- name: empty\n  prefix: ""\n- name: doc\n  prefix: "Start <|endoftext|> here"\n')
    found = problems_of("fake:llama", [load_fact_set(facts)], load_conditions(conditions), tmp_path / "r")
    assert found == [
        f"{conditions}, condition 'doc', field 'prefix': the prefix contains <|endoftext|>, a special token of "
        "llama's tokenizer; it would be read as a control token, not text. Reword it"
    ]
    long = "x " * 600
    facts.write_text(facts.read_text().replace("statement: A is A.", f"statement: A is A {long}."))
    found = problems_of("fake:llama", [str(facts)], str(conditions).replace("x", "x"), tmp_path / "r2")
    assert any(p.startswith(f"{facts}:4, fact 'core/f0', field 'statement'") for p in found), found
