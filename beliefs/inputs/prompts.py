"""Rendering prompts: start token, condition text, separator, statement; the statement's exact token span.

A prompt is ``start + text_before + statement (+ end)`` where ``text_before`` is ``""`` for the empty
condition and ``prefix + SEPARATOR`` otherwise. The statement's tokens are located by character
offsets, never by counting from the end, and they are the same in every condition: the text is
tokenized whole, and if a tokenizer merges across the boundary or tokenizes the statement differently
after the separator (sentencepiece with a dummy prefix does), the prompt is built from the separately
tokenized pieces instead and marked ``natural=False``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from beliefs.errors import ModelError

SEPARATOR = "\n"
"""Between a condition's text and the statement. A newline keeps BPE statement tokens unchanged
("\\nThe" keeps "The"); a space would not (" The" is another token)."""
DOCUMENT_SEPARATORS = ("<|endoftext|>", "</s>", "<|end_of_text|>")


@dataclass(frozen=True)
class StartToken:
    """The model's start-of-document token(s), and the end tokens an encoder expects."""

    text: str
    ids: tuple[int, ...]
    source: str
    """``tokenizer-bos`` (added by the tokenizer itself), ``document-separator``, ``eos`` or ``override``."""
    end_ids: tuple[int, ...] = ()
    """Tokens the tokenizer appends (an encoder's ``[SEP]``); empty for causal LMs."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "ids": list(self.ids),
            "source": self.source,
            "end_ids": list(self.end_ids),
        }


def resolve_start_token(tokenizer: Any, override: str | None = None, causal: bool = True) -> StartToken:
    """The start-of-document token: the BOS the tokenizer adds by itself, else the pretraining
    document separator (``<|endoftext|>``), else EOS; ``override`` (a token's text) wins."""
    probe = "a"
    with_special = list(tokenizer(probe, add_special_tokens=True)["input_ids"])
    without = list(tokenizer(probe, add_special_tokens=False)["input_ids"])
    n = len(without)
    starts = next((i for i in range(len(with_special) - n + 1) if with_special[i : i + n] == without), None)
    if starts is None:
        raise ModelError("cannot tell which special tokens the tokenizer adds around text")
    added_start = tuple(with_special[:starts])
    end_ids = tuple(with_special[starts + n :]) if not causal else ()
    if override is not None:
        ids = tuple(tokenizer(override, add_special_tokens=False)["input_ids"])
        if not ids:
            raise ModelError(f"start token '{override}' encodes to no tokens")
        return StartToken(override, ids, "override", end_ids)
    if added_start:
        return StartToken(tokenizer.decode(list(added_start)), added_start, "tokenizer-bos", end_ids)
    vocab = tokenizer.get_vocab()
    for sep in DOCUMENT_SEPARATORS:
        if sep in vocab:
            return StartToken(sep, (vocab[sep],), "document-separator", end_ids)
    eos = getattr(tokenizer, "eos_token", None)
    if eos is not None and getattr(tokenizer, "eos_token_id", None) is not None:
        return StartToken(eos, (int(tokenizer.eos_token_id),), "eos", end_ids)
    raise ModelError("the tokenizer has no start-of-document token; give one with --start-token")


@dataclass(frozen=True)
class Prompt:
    """Token ids of one prompt and where its statement is."""

    ids: tuple[int, ...]
    start: int
    """Index of the statement's first token (everything before it is the reusable prefix)."""
    end: int
    """One past the statement's last token."""
    natural: bool = True
    """False if built from separately tokenized pieces (the tokenizer changed the statement's tokens)."""

    @property
    def prefix(self) -> tuple[int, ...]:
        return self.ids[: self.start]

    @property
    def statement(self) -> tuple[int, ...]:
        return self.ids[self.start : self.end]

    @property
    def suffix(self) -> tuple[int, ...]:
        return self.ids[self.end :]


def text_before(condition_text: str | None) -> str:
    """What precedes the statement: nothing for the empty condition, else the text and the separator."""
    return condition_text + SEPARATOR if condition_text else ""


def _encode(tokenizer: Any, text: str) -> tuple[list[int], list[tuple[int, int]]]:
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    return list(enc["input_ids"]), [tuple(o) for o in enc["offset_mapping"]]


def statement_tokens(tokenizer: Any, statement: str) -> tuple[int, ...]:
    """The statement's tokens on its own (as in the empty condition)."""
    if not statement.strip():
        raise ModelError("cannot probe an empty statement")
    ids, _ = _encode(tokenizer, statement)
    if not ids:
        raise ModelError(f"statement {statement!r} encodes to no tokens")
    return tuple(ids)


def render(tokenizer: Any, start: StartToken, condition_text: str | None, statement: str) -> Prompt:
    """Tokenize ``start + condition text + separator + statement`` and locate the statement exactly."""
    reference = statement_tokens(tokenizer, statement)
    before = text_before(condition_text)
    if not before:
        ids = (*start.ids, *reference, *start.end_ids)
        return Prompt(ids, len(start.ids), len(start.ids) + len(reference))
    ids_all, offsets = _encode(tokenizer, before + statement)
    cut = len(before)
    head = [i for i, (a, b) in zip(ids_all, offsets, strict=True) if b <= cut or (a == b and a <= cut)]
    body = [i for i, (a, b) in zip(ids_all, offsets, strict=True) if a >= cut and b > a]
    natural = len(head) + len(body) == len(ids_all) and tuple(body) == reference
    if not natural:
        head, _ = _encode(tokenizer, before)
    n0 = len(start.ids) + len(head)
    return Prompt((*start.ids, *head, *reference, *start.end_ids), n0, n0 + len(reference), natural)
