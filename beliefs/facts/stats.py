"""Balance of fact sets: per domain × kind cell, counts, contexts and statement lengths; per domain, how
well the wording alone tells the kinds apart (a surface classifier with leave-template-out folds), the
length difference within matched pairs, and the kinds' share of simple surface markers.

Markers (on the true statement, by :func:`markers`):

- negation: a word ``not``, ``no``, ``never``, ``none``, ``nothing``, ``nobody``, ``nowhere``, ``neither``,
  ``nor``, ``cannot`` or a contraction ending in ``n't``;
- first person: ``I``, ``me``, ``my``, ``mine``, ``myself``, ``we``, ``us``, ``our``, ``ours``,
  ``ourselves`` (``US`` in capitals is not counted);
- digits: any character 0-9;
- named entity: a capitalised word that does not open a sentence (the text's first word, or one after
  ``.``, ``!``, ``?`` or ``:``) and is not ``I`` (or ``I'm``, ``I've``…): a crude stand-in for a
  named-entity tagger that counts "Earth" and "Australia" alike, and misses a name that opens the
  sentence ("Canberra is…").
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from itertools import product
from typing import TYPE_CHECKING, Any

import numpy as np

from beliefs.facts.loader import LoadedFactSet
from beliefs.schema import CONTEXT_KEYS, KINDS, Fact

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

LENGTH_WARNING_D = 0.5
"""Standardized difference in statement length (hinge − contingent) above which stats warns."""
MAX_FOLDS = 5
"""Folds of the surface classifier (fewer when a domain has fewer groups)."""
BOOTSTRAP_RESAMPLES = 2000
"""Resamples of groups for the surface accuracy's interval."""
WORD_TOKENS = r"(?u)\b\w+\b"
"""Words for the surface classifier's n-grams: single characters count ("7", "a")."""
MARKERS = ("negation", "first_person", "digits", "named_entities")
_NEGATIONS = frozenset(
    ["not", "no", "never", "none", "nothing", "nobody", "nowhere", "neither", "nor", "cannot"]
)
_FIRST_PERSON = frozenset(["i", "me", "my", "mine", "myself", "we", "us", "our", "ours", "ourselves"])
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_SENTENCE_END = re.compile(r"[.!?:]['\"”’)]*$")


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
class SurfaceCheck:
    """How well the wording alone separates the kinds in one domain.

    A logistic regression (C = 1, liblinear) on word 1–2-grams (binary; single-character words count), character 2–4-grams (``char_wb``, tf-idf) and
    lengths (words and characters, standardised) of the statement and the false statement together,
    fitted inside each fold; folds (``GroupKFold``) leave whole groups out: templates, or facts where a
    fact has no template. The figure is the balanced accuracy of the out-of-fold predictions pooled over
    folds; the interval resamples groups (percentile bootstrap of the pooled predictions, no refit).
    """

    domain: str
    n_facts: int
    n_groups: int
    grouping: str
    """``template`` (every fact has one), ``fact`` (none has) or ``template+fact`` (facts without a
    template are groups of their own)."""
    n_folds: int
    balanced_accuracy: float | None
    """None where the domain has fewer than two groups or one kind only."""
    ci_low: float | None = None
    ci_high: float | None = None


@dataclass(frozen=True)
class PairLengths:
    """Length of a pair's hinge minus its contingent twin's, over a domain's pairs."""

    domain: str
    form: str
    """``statement`` or ``false_statement``."""
    unit: str
    """``words`` or ``tokens``."""
    n_pairs: int
    mean_difference: float
    """Mean of hinge − contingent."""
    mean_abs_difference: float
    max_abs_difference: float
    share_different: float
    """Share of pairs whose two lengths differ."""


@dataclass(frozen=True)
class MarkerShares:
    """Share of one domain × kind cell's statements that carry each marker (see the module docstring)."""

    domain: str
    kind: str
    n_facts: int
    negation: float
    first_person: float
    digits: float
    named_entities: float


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
    surface: list[SurfaceCheck] = field(default_factory=list)
    pair_lengths: list[PairLengths] = field(default_factory=list)
    markers: list[MarkerShares] = field(default_factory=list)

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
            "surface": [asdict(c) for c in self.surface],
            "pair_lengths": [asdict(p) for p in self.pair_lengths],
            "markers": [asdict(m) for m in self.markers],
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
    progress: Callable[[str, int, int], None] | None = None,
) -> Stats:
    """Per-cell figures and hinge-vs-contingent length checks for the facts of ``sets``.

    ``progress`` is called with (what was done, steps done, steps in all) as the work goes on."""
    facts: list[Fact] = [f for s in sets for f in s.facts]
    domains = list(dict.fromkeys([d for s in sets for d in s.model.domains] + [f.domain for f in facts]))
    keyed = [(s.name, f) for s in sets for f in s.facts]
    by_domain = {d: [(name, f) for name, f in keyed if f.domain == d] for d in domains}
    total = 1 + sum(_surface_steps(in_domain) + 1 for in_domain in by_domain.values() if in_domain)
    done = 0

    def step(what: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(what, done, total)

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
    result = Stats([s.name for s in sets], len(facts), cells, checks, tokenizer)
    step("cells and lengths")
    for domain in domains:
        in_domain = by_domain[domain]
        if not in_domain:
            continue
        result.surface.append(surface_check(domain, in_domain, step=step))
        result.pair_lengths += pair_lengths(domain, in_domain, count_tokens)
        for kind in KINDS:
            said = [f.statement for _, f in in_domain if f.kind == kind]
            if said:
                flags = np.array([[m[k] for k in MARKERS] for m in map(markers, said)], dtype=np.float64)
                result.markers.append(MarkerShares(domain, kind, len(said), *map(float, flags.mean(axis=0))))
        step(f"{domain}: pairs and markers")
    return result


def _surface_steps(facts: Sequence[tuple[str, Fact]]) -> int:
    """Progress steps of :func:`surface_check` on ``facts``: one per fold and one for the interval."""
    groups, _ = surface_groups(facts)
    n_folds = min(MAX_FOLDS, len(set(groups)))
    return n_folds + 1 if n_folds >= 2 and len({f.kind for _, f in facts}) == 2 else 0


def markers(text: str) -> dict[str, bool]:
    """Which surface markers ``text`` carries (definitions in the module docstring)."""
    words = [(m.group(), m.start()) for m in _WORD.finditer(text)]
    negation = any(w.casefold() in _NEGATIONS or w.casefold().endswith(("n't", "n’t")) for w, _ in words)
    first = any(
        w == "I" or w.startswith(("I'", "I’")) or (w.casefold() in _FIRST_PERSON and w != "US")
        for w, _ in words
    )
    named = False
    for w, start in words:
        if not w[0].isupper() or w == "I" or w.startswith(("I'", "I’")):
            continue
        if text[:start].strip() and not _SENTENCE_END.search(text[:start].rstrip()):
            named = True
            break
    return {
        "negation": negation,
        "first_person": first,
        "digits": any(c.isdigit() for c in text),
        "named_entities": named,
    }


def surface_groups(facts: Sequence[tuple[str, Fact]]) -> tuple[list[str], str]:
    """A group per fact for leave-group-out folds (its template, else the fact itself), and what they are."""
    groups = [f"template:{s}/{f.template}" if f.template else f"fact:{s}/{f.id}" for s, f in facts]
    n_templates = sum(1 for s, f in facts if f.template)
    grouping = "template" if n_templates == len(facts) else "fact" if n_templates == 0 else "template+fact"
    return groups, grouping


def surface_pipeline() -> Pipeline:
    """The surface classifier (unfitted): see :class:`SurfaceCheck`."""
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    lengths = make_pipeline(FunctionTransformer(_lengths), StandardScaler())
    features = make_union(
        CountVectorizer(ngram_range=(1, 2), binary=True, token_pattern=WORD_TOKENS),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True),
        lengths,
    )
    return make_pipeline(features, LogisticRegression(C=1.0, solver="liblinear"))


def surface_texts(facts: Sequence[Fact]) -> list[str]:
    """What the surface classifier reads: the statement and the false statement, joined by a newline."""
    return [f"{f.statement}\n{f.false_statement}" for f in facts]


def _lengths(texts: Sequence[str]) -> np.ndarray:
    return np.array([[len(t.split()), len(t)] for t in texts], dtype=float)


def surface_check(
    domain: str, facts: Sequence[tuple[str, Fact]], seed: int = 0, step: Callable[[str], None] | None = None
) -> SurfaceCheck:
    """The leave-group-out surface classifier's balanced accuracy for one domain's facts.

    ``step`` is called after each fold and after the interval (for a progress bar)."""
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import GroupKFold

    groups, grouping = surface_groups(facts)
    y = np.array([f.kind == "hinge" for _, f in facts], dtype=int)
    n_groups = len(set(groups))
    n_folds = min(MAX_FOLDS, n_groups)
    if n_folds < 2 or len(set(y.tolist())) < 2:
        return SurfaceCheck(domain, len(facts), n_groups, grouping, 0, None)
    texts = surface_texts([f for _, f in facts])
    features = SurfaceFeatures(texts)
    predicted = np.empty_like(y)
    for i, (train, test) in enumerate(GroupKFold(n_splits=n_folds).split(texts, y, groups)):
        if len(set(y[train].tolist())) < 2:
            predicted[test] = y[train][0]
        else:
            predicted[test] = features.fit_predict(train, test, y)
        if step is not None:
            step(f"{domain}: surface classifier, fold {i + 1} of {n_folds}")
    estimate = float(balanced_accuracy_score(y, predicted))
    lo, hi = _group_bootstrap(y, predicted, groups, seed)
    if step is not None:
        step(f"{domain}: surface interval")
    return SurfaceCheck(domain, len(facts), n_groups, grouping, n_folds, estimate, lo, hi)


class SurfaceFeatures:
    """:func:`surface_pipeline`'s fits and predictions, with the texts counted once instead of per fold.

    The word and character n-grams of every text are counted once over all texts; a fold keeps the
    columns of the n-grams its training texts contain (the vocabulary the pipeline would learn there, in
    the same sorted order), fits the tf-idf weights and the length scaling on its training rows, and fits
    the same logistic regression: the matrices, and so the predictions, are the pipeline's."""

    def __init__(self, texts: Sequence[str]) -> None:
        from sklearn.feature_extraction.text import CountVectorizer

        words = CountVectorizer(ngram_range=(1, 2), binary=True, token_pattern=WORD_TOKENS)
        self.words = words.fit_transform(texts).tocsr()
        self.chars = char_wb_counts(texts)
        self.lengths = _lengths(texts)

    def fit_predict(self, train: np.ndarray, test: np.ndarray, y: np.ndarray) -> np.ndarray:
        from scipy import sparse
        from sklearn.feature_extraction.text import TfidfTransformer
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        blocks: dict[str, list[sparse.csr_matrix]] = {"train": [], "test": []}
        for counts in (self.words, self.chars):
            rows = counts[train]
            kept = np.flatnonzero(rows.getnnz(axis=0))
            fitted, other = rows[:, kept], counts[test][:, kept]
            fitted.sort_indices()
            other.sort_indices()
            if counts is self.chars:
                tfidf = TfidfTransformer(sublinear_tf=True).fit(fitted)
                fitted, other = tfidf.transform(fitted), tfidf.transform(other)
            blocks["train"].append(fitted)
            blocks["test"].append(other)
        scaler = StandardScaler().fit(self.lengths[train])
        x_train = sparse.hstack([*blocks["train"], scaler.transform(self.lengths[train])]).tocsr()
        x_test = sparse.hstack([*blocks["test"], scaler.transform(self.lengths[test])]).tocsr()
        model = LogisticRegression(C=1.0, solver="liblinear").fit(x_train, y[train])
        return np.asarray(model.predict(x_test))


def char_wb_counts(texts: Sequence[str]) -> Any:
    """The counts ``CountVectorizer(analyzer="char_wb", ngram_range=(2, 4))`` gives (float, columns in the
    n-grams' sorted order), computed per distinct word: ``char_wb`` n-grams never cross a word, so a text's
    counts are its word counts times each word's n-gram counts (a sparse product instead of a Python loop
    over every n-gram of every text)."""
    from scipy import sparse
    from sklearn.feature_extraction.text import CountVectorizer

    vocabulary: dict[str, int] = {}
    columns: list[int] = []
    indptr = [0]
    for text in texts:
        columns += [vocabulary.setdefault(w, len(vocabulary)) for w in text.lower().split()]
        indptr.append(len(columns))
    per_text = sparse.csr_matrix(
        (np.ones(len(columns)), columns, indptr), shape=(len(texts), len(vocabulary))
    )
    per_text.sum_duplicates()
    analyzer = CountVectorizer(analyzer="char_wb", ngram_range=(2, 4))
    grams: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    for word, i in vocabulary.items():
        found = [grams.setdefault(g, len(grams)) for g in analyzer._char_wb_ngrams(word)]
        cols += found
        rows += [i] * len(found)
    per_word = sparse.coo_matrix((np.ones(len(cols)), (rows, cols)), shape=(len(vocabulary), len(grams)))
    counts = (per_text @ per_word.tocsr()).tocsr()
    order = np.array([grams[g] for g in sorted(grams)], dtype=np.int64)
    out = counts[:, order] if len(order) else counts
    out.sort_indices()
    return out


def _group_bootstrap(
    y: np.ndarray, predicted: np.ndarray, groups: Sequence[str], seed: int
) -> tuple[float, float]:
    """95% percentile interval of the balanced accuracy, resampling groups with replacement.

    A resample's balanced accuracy needs, per kind, how many of its facts there are and how many were
    predicted right: sums over the drawn groups of per-group counts (linear in the groups per resample)."""
    _, members = np.unique(np.asarray(groups), return_inverse=True)
    n_groups = int(members.max()) + 1
    right = predicted == y
    per_group = np.stack(
        [np.bincount(members, weights=(y == k) * w, minlength=n_groups) for k in (0, 1) for w in (1, right)],
        axis=1,
    )  # columns: kind-0 facts, kind-0 right, kind-1 facts, kind-1 right
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(BOOTSTRAP_RESAMPLES):
        drawn = np.bincount(rng.integers(0, n_groups, n_groups), minlength=n_groups)
        n0, r0, n1, r1 = drawn @ per_group
        if n0 == 0 or n1 == 0:
            continue
        values.append((float(r0 / n0) + float(r1 / n1)) / 2)
    if not values:
        return math.nan, math.nan
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(lo), float(hi)


def pair_lengths(
    domain: str, facts: Sequence[tuple[str, Fact]], count_tokens: Callable[[str], int] | None = None
) -> list[PairLengths]:
    """Hinge − contingent length within each pair of one domain, in words (and tokens)."""
    by_ref = {(s, f.id): f for s, f in facts}
    pairs = [
        (f, by_ref[(s, f.pair)])
        for s, f in facts
        if f.kind == "hinge" and f.pair is not None and (s, f.pair) in by_ref
    ]
    if not pairs:
        return []
    units: list[tuple[str, Callable[[str], int]]] = [("words", word_count)]
    if count_tokens is not None:
        units.append(("tokens", count_tokens))
    out = []
    for form in ("statement", "false_statement"):
        for unit, fn in units:
            d = np.array([fn(getattr(h, form)) - fn(getattr(c, form)) for h, c in pairs], dtype=float)
            out.append(
                PairLengths(
                    domain,
                    form,
                    unit,
                    len(pairs),
                    float(d.mean()),
                    float(np.abs(d).mean()),
                    float(np.abs(d).max()),
                    float(np.mean(d != 0)),
                )
            )
    return out


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
