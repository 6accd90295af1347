"""Balance of fact sets: per domain × kind cell, counts, contexts and statement lengths."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from itertools import product

import numpy as np

from beliefs.facts.loader import LoadedFactSet
from beliefs.schema import CONTEXT_KEYS, KINDS, Fact

LENGTH_WARNING_D = 0.5
"""Standardized difference in statement length (hinge − contingent) above which stats warns."""


@dataclass(frozen=True)
class Cell:
    """Figures for one domain × kind cell."""

    domain: str
    kind: str
    n_facts: int
    n_support: int
    n_contradict: int
    n_note: int
    words_mean: float
    words_sd: float
    tokens_mean: float | None = None
    tokens_sd: float | None = None


@dataclass(frozen=True)
class LengthCheck:
    """Hinge vs contingent statement length within a domain."""

    domain: str
    unit: str
    """``words`` or ``tokens``."""
    hinge_mean: float
    contingent_mean: float
    standardized_difference: float
    """Cohen's d with the pooled SD (hinge − contingent)."""
    warning: bool


@dataclass(frozen=True)
class NearDuplicate:
    """Two statements whose embeddings are very close."""

    a: str
    b: str
    cosine: float


@dataclass
class Stats:
    """What ``beliefs facts stats`` reports."""

    sets: list[str]
    n_facts: int
    cells: list[Cell]
    length_checks: list[LengthCheck]
    tokenizer: str | None = None
    near_duplicates: list[NearDuplicate] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        return [
            f"{c.domain}: hinge and contingent statements differ in length by d = "
            f"{c.standardized_difference:+.2f} {c.unit} (|d| > {LENGTH_WARNING_D}); a surface classifier may "
            "separate the kinds"
            for c in self.length_checks
            if c.warning
        ]

    def to_dict(self) -> dict[str, object]:
        return {
            "sets": self.sets,
            "n_facts": self.n_facts,
            "tokenizer": self.tokenizer,
            "cells": [asdict(c) for c in self.cells],
            "length_checks": [asdict(c) for c in self.length_checks],
            "near_duplicates": [asdict(d) for d in self.near_duplicates],
            "warnings": self.warnings,
        }


def _mean_sd(values: Sequence[float]) -> tuple[float, float]:
    if not values:
        return math.nan, math.nan
    arr = np.asarray(values, dtype=float)
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else 0.0


def standardized_difference(a: Sequence[float], b: Sequence[float]) -> float:
    """Cohen's d of ``a`` minus ``b`` with the pooled SD (nan when undefined)."""
    if len(a) < 2 or len(b) < 2:
        return math.nan
    va, vb = np.var(a, ddof=1), np.var(b, ddof=1)
    pooled = math.sqrt(((len(a) - 1) * va + (len(b) - 1) * vb) / (len(a) + len(b) - 2))
    return float((np.mean(a) - np.mean(b)) / pooled) if pooled > 0 else 0.0


def word_count(text: str) -> int:
    """Words as whitespace-separated tokens."""
    return len(text.split())


def compute_stats(
    sets: Sequence[LoadedFactSet],
    count_tokens: Callable[[str], int] | None = None,
    tokenizer: str | None = None,
) -> Stats:
    """Per-cell figures and hinge-vs-contingent length checks for the facts of ``sets``."""
    facts: list[Fact] = [f for s in sets for f in s.facts]
    domains = list(dict.fromkeys([d for s in sets for d in s.model.domains] + [f.domain for f in facts]))
    cells: list[Cell] = []
    checks: list[LengthCheck] = []
    for domain, kind in product(domains, KINDS):
        cell = [f for f in facts if f.domain == domain and f.kind == kind]
        if not cell and not any(f.domain == domain for f in facts):
            continue
        words = [word_count(f.statement) for f in cell]
        wm, wsd = _mean_sd(words)
        tm = tsd = None
        if count_tokens is not None:
            tm, tsd = _mean_sd([count_tokens(f.statement) for f in cell])
        n_ctx = {k: sum(1 for f in cell if f.context(k) is not None) for k in CONTEXT_KEYS}
        cells.append(
            Cell(
                domain,
                kind,
                len(cell),
                n_ctx["support"],
                n_ctx["contradict"],
                sum(1 for f in cell if f.note),
                wm,
                wsd,
                tm,
                tsd,
            )
        )
    for domain in domains:
        hinge = [f.statement for f in facts if f.domain == domain and f.kind == "hinge"]
        cont = [f.statement for f in facts if f.domain == domain and f.kind == "contingent"]
        if len(hinge) < 2 or len(cont) < 2:
            continue
        units: list[tuple[str, Callable[[str], int]]] = [("words", word_count)]
        if count_tokens is not None:
            units.append(("tokens", count_tokens))
        for unit, fn in units:
            a, b = [fn(t) for t in hinge], [fn(t) for t in cont]
            d = standardized_difference(a, b)
            checks.append(
                LengthCheck(
                    domain, unit, float(np.mean(a)), float(np.mean(b)), d, bool(abs(d) > LENGTH_WARNING_D)
                )
            )
    return Stats([s.name for s in sets], len(facts), cells, checks, tokenizer)


def near_duplicates(
    sets: Sequence[LoadedFactSet], embed: Callable[[list[str]], np.ndarray], threshold: float = 0.95
) -> list[NearDuplicate]:
    """Pairs of statements (true forms, across all sets) whose embeddings have cosine ≥ ``threshold``."""
    keys = [f"{s.name}/{f.id}" for s in sets for f in s.facts]
    texts = [f.statement for s in sets for f in s.facts]
    if len(texts) < 2:
        return []
    emb = np.asarray(embed(texts), dtype=np.float64)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True).clip(1e-12)
    sim = emb @ emb.T
    i, j = np.triu_indices(len(texts), k=1)
    hit = sim[i, j] >= threshold
    pairs = [NearDuplicate(keys[a], keys[b], float(sim[a, b])) for a, b in zip(i[hit], j[hit], strict=True)]
    return sorted(pairs, key=lambda p: -p.cosine)
