"""Splitting generated text into sentences: a small regex splitter that is robust to messy model output."""

from __future__ import annotations

import re
from collections.abc import Iterable

MIN_WORDS = 3
"""Sentences with fewer words are fragments (a heading, a number, a cut-off ending) and are dropped."""
MAX_CHARS = 400
"""Longer runs without sentence punctuation (code, lists) are cut here; the encoder truncates anyway."""

_BREAK = re.compile(r"(?<=[.!?…])\s+|(?<=[.!?…][\"'”’)\]])\s+|\s*\n\s*")
_LEADER = re.compile(r"^(?:[-*•#>]+|\(?\d{1,3}[.)]|[a-z][.)])\s+", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[^\W_]+")


def split_sentences(text: str, min_words: int = MIN_WORDS) -> list[str]:
    """Sentences of ``text``: split after ``. ! ? …`` (and closing quotes) before whitespace, and at line
    breaks; list markers (``-``, ``1.``, ``#``) are stripped, whitespace collapsed, fragments of fewer
    than ``min_words`` words dropped. Abbreviations ("Dr. Smith") are split too: a known, harmless cost.
    """
    out = []
    for piece in _BREAK.split(text):
        s = _SPACE.sub(" ", _LEADER.sub("", piece.strip())).strip()
        if len(_WORD.findall(s)) >= min_words:
            out.append(s[:MAX_CHARS])
    return out


def unique_sentences(texts: Iterable[str], min_words: int = MIN_WORDS) -> list[str]:
    """The distinct sentences of several texts, in order of first appearance.

    A sentence repeated (a model looping, or many samples opening alike) counts once, so that one
    repeated sentence cannot fill every one of a fact's nearest neighbours.
    """
    seen: dict[str, None] = {}
    for text in texts:
        for s in split_sentences(text, min_words):
            seen.setdefault(s, None)
    return list(seen)
