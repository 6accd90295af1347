"""Text a tokenizer would read as a control token: ``<|endoftext|>``, ``</s>``, ``[SEP]``…

``validate`` warns (it does not know the model: ``<s>`` is plain text to some tokenizers); ``probe``
refuses a fact or condition whose text contains a special token of the model being probed, since the
tokenizer would turn it into a control token and measure something other than the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from beliefs.errors import Problem

SPECIAL_PATTERN = re.compile(
    r"<\|[^|<>\s]{1,40}\|>"  # <|endoftext|>, <|im_start|>, <|begin_of_text|>
    r"|</?s>|<(?:unk|pad|bos|eos|mask|start_of_turn|end_of_turn)>"
    r"|\[(?:CLS|SEP|PAD|MASK|UNK|BOS|EOS|INST|/INST)\]",
    re.IGNORECASE,
)


def fact_texts(fact: Any) -> Iterator[tuple[str, str]]:
    """``(field, text)`` of every text of a fact that goes into a prompt."""
    yield "statement", fact.statement
    yield "false_statement", fact.false_statement
    for key in ("support", "contradict"):
        text = fact.context(key)
        if text is not None:
            yield f"contexts.{key}", text


def special_token_warnings(fact_sets: Iterable[Any]) -> list[Problem]:
    """A warning for each fact text that looks like a model's special token."""
    out = []
    for s in fact_sets:
        for fact in s.facts:
            for field, text in fact_texts(fact):
                found = SPECIAL_PATTERN.search(text)
                if found:
                    out.append(
                        Problem(
                            s.path,
                            f"'{found.group(0)}' looks like a special token; a model whose tokenizer has it "
                            "reads it as a control token, not text (beliefs probe refuses that)",
                            line=s.lines.get(fact.id),
                            fact_id=fact.id,
                            field=field,
                            severity="warning",
                        )
                    )
    return out


def condition_special_warnings(conditions_files: Iterable[Any]) -> list[Problem]:
    """A warning for each condition prefix that looks like it holds a model's special token."""
    out = []
    for c in conditions_files:
        for condition in c.conditions:
            found = SPECIAL_PATTERN.search(condition.prefix or "")
            if found:
                out.append(
                    Problem(
                        c.path,
                        f"'{found.group(0)}' looks like a special token; a model whose tokenizer has it "
                        "reads it as a control token, not text (beliefs probe refuses that)",
                        fact_id=condition.name,
                        field="prefix",
                        severity="warning",
                        subject="condition",
                    )
                )
    return out


def special_token_finder(tokenizer: Any) -> Callable[[str], list[str]]:
    """A function giving the tokenizer's special tokens that occur in a text (sorted).

    The set of special tokens is read once (a 262k-vocabulary tokenizer such as Gemma's has over 6,000,
    and reading them took ~15 ms a call), and a text is only searched for the tokens whose first
    character it contains, so a text without ``<`` costs no search for ``<…>`` tokens."""
    specials = set(getattr(tokenizer, "all_special_tokens", []) or [])
    decoder = getattr(tokenizer, "added_tokens_decoder", {}) or {}
    specials |= {t.content for t in decoder.values() if getattr(t, "special", False)}
    by_first: dict[str, list[str]] = {}
    for token in specials:
        if token:
            by_first.setdefault(token[0], []).append(token)

    def find(text: str) -> list[str]:
        return sorted(t for c in by_first.keys() & set(text) for t in by_first[c] if t in text)

    return find


def special_tokens_in(tokenizer: Any, text: str) -> list[str]:
    """The tokenizer's special tokens that occur in ``text`` (for many texts, use
    :func:`special_token_finder` once)."""
    return special_token_finder(tokenizer)(text)
