"""Word-frequency features of fact statements (wordfreq Zipf frequencies, English), computed without labels.

A statement whose words are common is easier to predict and may be encoded differently for that reason
alone, whatever its kind: frequency is part of the surface a kind difference must beat. Per fact:

- ``true_mean``/``true_min``/``true_max`` and ``false_*``: Zipf frequency (log10 of occurrences per
  billion words, :func:`wordfreq.zipf_frequency`; 0 for a word wordfreq does not know) over the words of
  the true and of the false form (:func:`wordfreq.tokenize`: lower-cased, punctuation dropped);
- ``unigram_true_per_token``/``unigram_false_per_token``: the statement's unigram log10-probability (sum
  over its words of log10 :func:`wordfreq.word_frequency`, a word wordfreq does not know counted at
  1e-9) divided by its token count (the model's tokens where given, else its words): a per-token
  frequency summary beside the model's own per-token log-probability;
- ``changed_mean``/``_min``/``_max``: over the words in which the true and the false form differ (either
  side, as multisets);
- ``slot_mean``/``_min``/``_max``: over the words of the fact's true form that are not in its declared
  ``pair`` twin's (as multisets). The pairing is made symmetric (a fact named as a twin gets its twin
  back), so which side of a pair declared it carries no information.

Where a fact has no such words (forms that differ only in order, a fact without a twin) the column is
NaN; :func:`frequency_table` leaves it so and callers impute. Nothing here reads the kind.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

LANGUAGE = "en"
UNKNOWN_FREQUENCY = 1e-9
"""The frequency a word wordfreq does not know counts at in the unigram log-probability."""
STATEMENT_COLUMNS = (
    "true_mean",
    "true_min",
    "true_max",
    "false_mean",
    "false_min",
    "false_max",
    "unigram_true_per_token",
    "unigram_false_per_token",
)
SLOT_COLUMNS = ("changed_mean", "changed_min", "changed_max", "slot_mean", "slot_min", "slot_max")
COLUMNS = STATEMENT_COLUMNS + SLOT_COLUMNS


@lru_cache(maxsize=65536)
def words(text: str) -> tuple[str, ...]:
    """The words of ``text`` as wordfreq splits them for lookup."""
    from wordfreq import tokenize

    return tuple(tokenize(text, LANGUAGE))


@lru_cache(maxsize=65536)
def zipf(word: str) -> float:
    """Zipf frequency of one word (:func:`wordfreq.zipf_frequency`, English)."""
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, LANGUAGE))


@lru_cache(maxsize=65536)
def log10_frequency(word: str) -> float:
    """log10 of :func:`wordfreq.word_frequency` (English), :data:`UNKNOWN_FREQUENCY` for unknown words."""
    from wordfreq import word_frequency

    return math.log10(max(float(word_frequency(word, LANGUAGE)), UNKNOWN_FREQUENCY))


def _summary(ws: Sequence[str]) -> tuple[float, float, float]:
    """Mean, min and max Zipf frequency of ``ws``; NaN for none."""
    if not ws:
        return (math.nan, math.nan, math.nan)
    z = [zipf(w) for w in ws]
    return (sum(z) / len(z), min(z), max(z))


def _difference(a: Sequence[str], b: Sequence[str]) -> list[str]:
    """Words of ``a`` not in ``b``, as multisets."""
    return list((Counter(a) - Counter(b)).elements())


def twins(fact_sets: Sequence[str], fact_ids: Sequence[str], pairs: Sequence[str]) -> list[int | None]:
    """Index of each fact's declared twin (within its fact set), made symmetric; None without one."""
    where = {(s, f): i for i, (s, f) in enumerate(zip(fact_sets, fact_ids, strict=True))}
    out: list[int | None] = [None] * len(fact_ids)
    for i, (s, twin) in enumerate(zip(fact_sets, pairs, strict=True)):
        j = where.get((s, twin)) if twin else None
        if j is not None and j != i:
            out[i] = j if out[i] is None else out[i]
            out[j] = i if out[j] is None else out[j]
    return out


def frequency_table(facts: pd.DataFrame, n_tokens: np.ndarray | None = None) -> pd.DataFrame:
    """:data:`COLUMNS` per fact of ``facts`` (``statement``, ``false_statement``; ``fact_set``, ``fact_id``
    and ``pair`` where present), rows in the order of ``facts``.

    ``n_tokens``: ``(n_facts, 2)`` token counts of the true and false forms for the per-token unigram
    log-probability; word counts where None.
    """
    true = [words(str(t)) for t in facts["statement"].tolist()]
    false = [words(str(t)) for t in facts["false_statement"].tolist()]
    n = len(true)
    if "pair" in facts.columns and "fact_id" in facts.columns:
        sets = facts["fact_set"].astype(str).tolist() if "fact_set" in facts.columns else [""] * n
        declared = ["" if pd.isna(p) else str(p) for p in facts["pair"].tolist()]
        twin = twins(sets, facts["fact_id"].astype(str).tolist(), declared)
    else:
        twin = [None] * n
    if n_tokens is None:
        counts = np.array([[len(t), len(f)] for t, f in zip(true, false, strict=True)], dtype=float)
    else:
        counts = np.asarray(n_tokens, dtype=float).reshape(n, 2)
    counts = np.maximum(counts, 1.0)
    rows = []
    for i in range(n):
        uni = [sum(log10_frequency(w) for w in ws) for ws in (true[i], false[i])]
        changed = _difference(true[i], false[i]) + _difference(false[i], true[i])
        j = twin[i]
        slot = _difference(true[i], true[j]) if j is not None else []
        rows.append(
            (
                *_summary(true[i]),
                *_summary(false[i]),
                uni[0] / counts[i, 0],
                uni[1] / counts[i, 1],
                *_summary(changed),
                *_summary(slot),
            )
        )
    return pd.DataFrame(rows, columns=list(COLUMNS), index=facts.index)
