"""Surface features, defined once, and the ``surface`` analysis: can the wording alone tell the kinds apart?

Every beyond-surface test (``kind-probe``, ``kind-distance``; causal-trace and hingeness analyses may reuse
them) starts from :func:`surface_features`: per fact, from its true and false statements,

- ``words``: word 1–2-grams (binary, in at least two facts);
- ``tokens``: the model's subword-token identities (binary bag of token ids, in at least two facts), from
  the model's own tokenizer (``tokenizer.json`` of an embedded model or a local folder); where none can
  be loaded the headline's ``features`` says so;
- ``lengths``: characters and words of both forms, and tokens (the margins' counts, else the tokenizer's);
- ``logp``: log-probabilities of both forms under ``empty`` and per token (causal LMs with margins; a
  random-init control uses its base model's);
- ``negation``: a negation word in either form;
- ``frequency``: word frequencies (wordfreq Zipf, English) of both forms, mean, min and max over their
  words, and their unigram log-probability per token (:mod:`beliefs.facts.frequency`);
- ``slot_frequency``: the same summaries over the words in which the true and false forms differ and
  over the words in which the fact differs from its declared ``pair`` twin;
- ``template``: the fact set's declared sentence frame, one-hot, where present.

Nothing here reads the kind labels, and the facts' ``tags`` never enter: they are author annotations
that can encode the authors' judgement of the kind (``contested`` sits mostly on hinges), so a surface
built from them would carry the label.

Each block is z-scored per column and scaled so that its kernel has a mean diagonal of 1: every block
weighs the same in the ridge probes, however many columns it has. The stricter *lexical* set adds the
layer-0 states (mean pooling: the embeddings of the statement's own tokens), see :func:`lexical_kernel`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from beliefs.analyses.context import AnalysisContext, Array, Output, bacc_ci, headline, row
from beliefs.analyses.registry import register
from beliefs.facts.frequency import SLOT_COLUMNS, STATEMENT_COLUMNS, frequency_table
from beliefs.results import columns as C
from beliefs.rundata import ModelInfo
from beliefs.stats import logistic_cv, permutation_pvalues, zscore
from beliefs.stats.increment import unit_kernel

NEGATION = re.compile(r"\b(not|no|never|none|nothing|nobody|neither|nor|cannot)\b|n't\b", re.IGNORECASE)


@dataclass(frozen=True)
class SurfaceFeatures:
    """Per-fact surface feature blocks (z-scored, each scaled to unit mean squared norm)."""

    blocks: dict[str, Array]
    features: str
    """What the blocks are, for the headline (says when no tokenizer or margins were available)."""

    def matrix(self) -> Array:
        """All blocks side by side ``(n_facts, n_features)``."""
        return np.column_stack(list(self.blocks.values()))

    def kernel(self) -> Array:
        """``X Xᵀ`` of :meth:`matrix`: the sum of the blocks' unit kernels."""
        x = self.matrix()
        out: Array = x @ x.T
        return out


def _block(x: np.ndarray) -> Array | None:
    z = zscore(np.asarray(x, dtype=np.float64))
    keep = np.any(z != 0, axis=0)
    if not keep.any():
        return None
    z = z[:, keep]
    out: Array = z / np.sqrt(keep.sum())
    return out


def _impute(x: np.ndarray) -> np.ndarray:
    """NaN replaced by its column's mean over the facts (0 where a column has no value)."""
    x = np.array(x, dtype=np.float64)
    seen = np.isfinite(x)
    counts = seen.sum(axis=0)
    means = np.divide(np.where(seen, x, 0.0).sum(axis=0), counts, out=np.zeros(x.shape[1]), where=counts > 0)
    return np.where(seen, x, means)


def _binary_bag(docs_a: list[list[Any]], docs_b: list[list[Any]], min_df: int = 2) -> np.ndarray:
    """Binary presence of each item in either document of a fact, items in at least ``min_df`` facts."""
    from sklearn.preprocessing import MultiLabelBinarizer

    sets = [set(a) | set(b) for a, b in zip(docs_a, docs_b, strict=True)]
    mlb = MultiLabelBinarizer(sparse_output=False)
    x = np.asarray(mlb.fit_transform(sets), dtype=np.float64)
    return x[:, x.sum(axis=0) >= min_df] if x.size else np.zeros((len(sets), 0))


def _ngrams(texts: list[str]) -> list[list[str]]:
    from sklearn.feature_extraction.text import CountVectorizer

    analyzer = CountVectorizer(ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b").build_analyzer()
    return [analyzer(t) for t in texts]


@lru_cache(maxsize=8)
def _tokenizer_file(name: str) -> str | None:
    """``tokenizer.json`` of an embedded model or a local folder, found without loading transformers."""
    from beliefs.models.embedded import EMBEDDED

    model = EMBEDDED.get(name)
    candidates: list[Path] = []
    if model is not None:
        folder = model.folder()
        if folder is not None:
            candidates.append(folder / "tokenizer.json")
    elif Path(name).is_dir():
        candidates.append(Path(name) / "tokenizer.json")
    for c in candidates:
        if c.is_file():
            return str(c)
    return None


def token_ids(model: str, texts: list[str]) -> list[list[int]] | None:
    """Token ids of ``texts`` under ``model``'s tokenizer (no special tokens), or None if none loads."""
    path = _tokenizer_file(model)
    if path is None:
        return None
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(path)
    tok.no_padding()  # sentence-transformers folders pad to a fixed length, which is no token count
    tok.no_truncation()
    return [e.ids for e in tok.encode_batch(texts, add_special_tokens=False)]


def _column(facts: pd.DataFrame, name: str) -> list[str]:
    if name not in facts:
        return [""] * len(facts)
    return ["" if pd.isna(v) else str(v) for v in facts[name].tolist()]


def _base_name(model: ModelInfo) -> str:
    return model.base or model.name.split("@")[0]


def build_surface_features(
    facts: pd.DataFrame, tokenizer: str | None, margins: pd.DataFrame | None
) -> SurfaceFeatures:
    """Surface features of ``facts`` (:data:`beliefs.rundata.FACT_COLUMNS`, optional ``template``/``pair``).

    Label-free: the kind and the tags are never read."""
    true = facts["statement"].astype(str).tolist()
    false = facts["false_statement"].astype(str).tolist()
    blocks: dict[str, Array | None] = {}
    said: list[str] = []
    blocks["words"] = _block(_binary_bag(_ngrams(true), _ngrams(false)))
    said.append("word 1-2-grams")
    ids = token_ids(tokenizer, true + false) if tokenizer else None
    if ids is not None:
        blocks["tokens"] = _block(_binary_bag(ids[: len(true)], ids[len(true) :]))
        said.append(f"{tokenizer} token ids")
    else:
        said.append(f"no token ids (no tokenizer for {tokenizer or 'this model'})")
    lengths = [[len(t) for t in true], [len(t) for t in false], [len(t.split()) for t in true],
               [len(t.split()) for t in false]]  # fmt: skip
    if margins is not None:
        lengths += [margins["n_tokens_true"].tolist(), margins["n_tokens_false"].tolist()]
    elif ids is not None:
        lengths += [[len(i) for i in ids[: len(true)]], [len(i) for i in ids[len(true) :]]]
    blocks["lengths"] = _block(np.column_stack(lengths))
    said.append("lengths")
    if margins is not None:
        num = margins[["logp_true", "logp_false", "n_tokens_true", "n_tokens_false"]].to_numpy(dtype=float)
        per_token = num[:, :2] / np.maximum(num[:, 2:], 1.0)
        lp = np.column_stack([num[:, :2], per_token])
        lp = np.where(np.isfinite(lp), lp, np.nanmean(lp, axis=0) if np.isfinite(lp).any() else 0.0)
        blocks["logp"] = _block(lp)
        said.append("log-probs under empty")
    neg = [[bool(NEGATION.search(t)) for t in true], [bool(NEGATION.search(t)) for t in false]]
    blocks["negation"] = _block(np.column_stack(neg).astype(float))
    said.append("negation")
    n_tokens = np.column_stack(lengths[4:6]) if len(lengths) == 6 else None
    freq = frequency_table(facts, n_tokens)
    blocks["frequency"] = _block(_impute(freq[list(STATEMENT_COLUMNS)].to_numpy(dtype=float)))
    blocks["slot_frequency"] = _block(_impute(freq[list(SLOT_COLUMNS)].to_numpy(dtype=float)))
    said.append("word frequencies (wordfreq Zipf of the statement, its true/false-differing and twin-slot words; "
                "unigram log-prob per token)")  # fmt: skip
    template = _column(facts, "template")
    if any(template):
        blocks["template"] = _block(pd.get_dummies(pd.Series(template)).to_numpy(dtype=float))
        said.append("template")
    kept = {k: v for k, v in blocks.items() if v is not None}
    if not kept:
        kept = {"none": np.zeros((len(facts), 1))}
    return SurfaceFeatures(kept, "+".join(said) + "; no fact-set tags (author annotations)")


def surface_features(ctx: AnalysisContext, model: ModelInfo) -> SurfaceFeatures:
    """The surface features of the run's facts for ``model`` (cached on the context)."""
    key = _base_name(model)
    cache: dict[str, SurfaceFeatures] = ctx.shared.setdefault("surface", {})
    if key not in cache:
        base = next((m for m in ctx.run.models() if m.name == key), model)
        margins = ctx.margins(key, "empty") if ctx.has_margins(base) else None
        cache[key] = build_surface_features(ctx.facts, key, margins)
    return cache[key]


def surface_kernel(ctx: AnalysisContext, model: ModelInfo) -> Array:
    """Fact × fact kernel of the surface features (sum of unit block kernels), cached on the context."""
    key = _base_name(model)
    cache: dict[str, Array] = ctx.shared.setdefault("surface_kernel", {})
    if key not in cache:
        cache[key] = surface_features(ctx, model).kernel()
    return cache[key]


def lexical_kernel(ctx: AnalysisContext, model: ModelInfo, condition: str) -> Array:
    """The surface kernel plus the unit kernel of the layer-0 states (mean pooling, forms averaged).

    Facts absent from ``condition`` get zero rows (their rows are never used)."""
    from beliefs.analyses.context import LAYER0_POOLING

    data = ctx.states(model.name, condition, LAYER0_POOLING)
    k0 = fact_mean_kernel(data.gram(0), data.row_fact, ctx.n_facts)
    return surface_kernel(ctx, model) + unit_kernel(k0)


def fact_mean_kernel(gram: Array, row_fact: np.ndarray, n_facts: int) -> Array:
    """Fact × fact kernel of each fact's mean row (its forms averaged), from a row Gram matrix."""
    from beliefs.stats import collapse, membership

    member = membership(row_fact, n_facts)
    m = member.sum(axis=0)
    k = collapse(gram, member)
    inv = np.divide(1.0, m, out=np.zeros(m.shape), where=m > 0)
    out: Array = k * inv[:, None] * inv[None, :]
    return out


def ridge_balanced_accuracy(k: Array, labels: np.ndarray, folds: np.ndarray) -> tuple[Array, Array]:
    """Out-of-fold balanced accuracy of the ridge probe of :mod:`beliefs.stats.increment` for every labelling.

    ``k`` is a fact × fact kernel, ``labels`` ``(P, n)``. A fact is predicted hinge when its out-of-fold
    prediction exceeds the training facts' share of hinges. Returns ``(P,)`` and the observed labelling's
    per-fact correctness ``(n,)``.
    """
    from beliefs.stats.increment import PROBE_RIDGE, _fit_block

    y = labels.astype(np.float32)
    pred = np.zeros(labels.shape, dtype=bool)
    for f in np.unique(folds):
        te, tr = np.flatnonzero(folds == f), np.flatnonzero(folds != f)
        a = _fit_block(k, te, tr, PROBE_RIDGE * tr.size).astype(np.float32)
        pred[:, te] = (y[:, tr] @ a.T) > y[:, tr].mean(axis=1, keepdims=True)
    truth = labels.astype(bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = (pred & truth).sum(axis=1) / truth.sum(axis=1)
        tnr = (~pred & ~truth).sum(axis=1) / (~truth).sum(axis=1)
    return np.asarray(0.5 * (tpr + tnr)), (pred[0] == truth[0]).astype(np.float64)


@register("surface", question="Surface features alone tell hinge from contingent (the baseline to beat)")
def surface(ctx: AnalysisContext) -> Output:
    """Hinge vs contingent from surface features alone, with the probes' folds: the baseline to beat.

    The headline is the ridge probe of the beyond-surface tests' base model (estimate and p-value from
    the same probe, fold plan and permutations); the logistic probe (mean over split seeds) is beside it.
    """
    out = Output()
    rf = np.arange(ctx.n_facts)
    for model in ctx.models:
        feats = surface_features(ctx, model)
        x = feats.matrix()
        null, correct = ridge_balanced_accuracy(feats.kernel(), ctx.perms, ctx.fold_sets[0])
        p = float(permutation_pvalues(null)[0])
        lo, hi = bacc_ci(ctx, correct[:, None], np.ones(ctx.n_facts), ctx.labels)
        accs, lcorrect = logistic_cv(x, ctx.labels, rf, ctx.fold_sets)
        llo, lhi = bacc_ci(ctx, lcorrect[:, None], np.ones(ctx.n_facts), ctx.labels)
        stat = "ridge_bacc"
        base = {C.N_FACTS: ctx.n_facts, C.N_PERMUTATIONS: ctx.n_permutations}
        r = row("surface", model, "empty", stat, estimate=float(null[0]), ci_low=lo, ci_high=hi, p_value=p)
        r.update(base)
        out.rows.append(r)
        r = row(
            "surface", model, "empty", "logistic_bacc", estimate=float(accs.mean()), ci_low=llo, ci_high=lhi
        )
        r.update({C.N_FACTS: ctx.n_facts, C.N_PERMUTATIONS: 0})
        out.rows.append(r)
        out.headlines.append(
            headline(
                "surface",
                model,
                "empty",
                stat,
                None,
                estimate=float(null[0]),
                ci_low=lo,
                ci_high=hi,
                ci_method="fact bootstrap (BCa) of out-of-fold correctness, probe not refitted",
                p_value=p,
                null=null,
                logistic_estimate=float(accs.mean()),
                logistic_ci_low=llo,
                logistic_ci_high=lhi,
                n_facts=ctx.n_facts,
                n_permutations=ctx.n_permutations,
                features=feats.features,
            )
        )
    return out


NO_VALID_STRATA = (
    "none: the facts declare no pairs, and permuting a plain statistic's labels within templates or surface "
    "bins does not hold its size where the surface varies inside a stratum (size 0.275 at alpha 0.05 on the "
    "confounded null of scripts/calibrate_stats.py)"
)


def strata_hold_size(described: str) -> bool:
    """Whether a plain statistic has a valid beyond-surface test on these facts: only where they come in
    declared pairs, and then not by permuting kind within the pairs but by the surface-adjusted within-pair
    test (:func:`paired_surface_test`). Within templates or k-means bins of the surface the statistic still
    sees the surface that varies inside each stratum, and a conditional permutation rejects far too often
    on a null where the labels follow the surface only (calibration: ``conditional-probe`` size 0.275);
    within pairs whose twins still differ in length or log-probability it does too (``pair-plain`` size
    0.43 at a within-pair imbalance of 0.5 SD). Tests that residualise on the surface first (the
    incremental probe, cross-fitted residual distances) hold their size with any strata."""
    return described == "pairs"


PAIRED_TEST = (
    "within-pair hinge - contingent difference adjusted for the twins' surface differences (lengths, "
    "log-probs under empty, negation, word frequencies): t of the intercept, sign flips of the reduced model's residuals "
    "(Freedman-Lane)"
)
PAIR_COVARIATES = ("lengths", "logp", "negation", "frequency", "slot_frequency")
"""Surface blocks whose twin differences the within-pair tests adjust for: the numeric ones (the twins
share their frame, so the bags of words and tokens differ only in the slot)."""


def declared_pairs(ctx: AnalysisContext, present: np.ndarray | None = None) -> np.ndarray:
    """``(m, 2)`` fact indices (hinge, contingent twin) of the declared pairs whose twins are both in the run
    (and both ``present``, a boolean mask over facts, where given); ``(0, 2)`` without pairs."""
    facts = ctx.facts
    if "pair" not in facts.columns:
        return np.zeros((0, 2), dtype=np.intp)
    sets = facts["fact_set"].astype(str) if "fact_set" in facts.columns else pd.Series([""] * len(facts))
    where = {(s, f): i for i, (s, f) in enumerate(zip(sets, facts["fact_id"].astype(str), strict=True))}
    out = []
    for i, (s, twin) in enumerate(zip(sets, facts["pair"], strict=True)):
        if not isinstance(twin, str) or not twin or ctx.labels[i] != 1:
            continue
        j = where.get((s, twin))
        if j is None or ctx.labels[j] != 0:
            continue
        if present is not None and not (present[i] and present[j]):
            continue
        out.append((i, j))
    return np.asarray(out, dtype=np.intp).reshape(-1, 2)


def pair_surface_differences(ctx: AnalysisContext, model: ModelInfo, pairs: np.ndarray) -> Array:
    """Hinge − contingent differences of the numeric surface blocks (:data:`PAIR_COVARIATES`) per pair."""
    from beliefs.stats.paired import pair_differences

    blocks = surface_features(ctx, model).blocks
    cols = [blocks[b] for b in PAIR_COVARIATES if b in blocks]
    x = np.column_stack(cols) if cols else np.zeros((ctx.n_facts, 0))
    return pair_differences(x, pairs)


def paired_surface_test(
    ctx: AnalysisContext, model: ModelInfo, values: np.ndarray, pairs: np.ndarray, two_sided: bool = True
) -> tuple[float, float, int] | None:
    """The surface-adjusted within-pair test of a per-fact statistic ``values`` ``(n_facts,)``: ``(p, intercept,
    pairs used)``, None with fewer than 4 usable pairs. One-sided (large: hinge twin higher) unless
    ``two_sided``. See :mod:`beliefs.stats.paired`."""
    from beliefs.stats import permutation_pvalues
    from beliefs.stats.paired import pair_differences, paired_adjusted

    if len(pairs) < 4 or len(pairs) > ctx.flips.shape[1]:
        return None
    found = paired_adjusted(
        pair_differences(values, pairs), pair_surface_differences(ctx, model, pairs), ctx.flips
    )
    if found.n_pairs < 4 or not np.isfinite(found.t):
        return None
    null = np.abs(found.null) if two_sided else found.null
    return float(permutation_pvalues(null)[0]), found.estimate, found.n_pairs


def surface_strata_for(ctx: AnalysisContext, model: ModelInfo) -> np.ndarray:
    """One label-free surface stratum per fact for ``model`` (cached): declared pairs, else domain ×
    template, else domain × bins of this model's surface features
    (:func:`beliefs.stats.conditional.surface_strata`)."""
    from beliefs.stats.conditional import surface_strata

    key = _base_name(model)
    cache: dict[str, np.ndarray] = ctx.shared.setdefault("strata", {})
    if key not in cache:
        feats = surface_features(ctx, model)
        from threadpoolctl import threadpool_limits

        # one thread: k-means (OpenMP) in a forked worker after the parent used OpenMP would deadlock
        with threadpool_limits(limits=1):
            cache[key] = surface_strata(
                ctx.domains, feats.matrix(), ctx.templates, ctx.pair_keys, seed=ctx.seed
            )
    return cache[key]


def describe_strata(strata: np.ndarray) -> str:
    """How ``strata`` were built, in words (``"pairs"``, ``"domain x template"``, ``"domain x surface
    bins"``, joined with `` + `` where the facts mix them; ``"domain"`` where nothing else was declared):
    what :func:`strata_hold_size` judges."""
    kinds = sorted({str(s).split("|", 1)[1].split(":", 1)[0] for s in strata if "|" in str(s)} - {""})
    described = {"pair": "pairs", "template": "domain x template", "bin": "domain x surface bins"}
    return " + ".join(described[k] for k in kinds if k in described) or "domain"


def conditional_permutations_for(ctx: AnalysisContext, model: ModelInfo) -> tuple[np.ndarray, str]:
    """The conditional permutation stack of ``model``'s surface strata (cached), and how it was stratified.

    Strata: :func:`surface_strata_for`. Every kind analysis can use the same stack.
    """
    from beliefs.stats.conditional import conditional_permutations

    key = _base_name(model)
    cache: dict[str, tuple[np.ndarray, str]] = ctx.shared.setdefault("conditional", {})
    if key not in cache:
        strata = surface_strata_for(ctx, model)
        rng = np.random.default_rng(np.random.SeedSequence([ctx.seed, 10]))
        perms = conditional_permutations(ctx.labels, strata, ctx.n_permutations, rng)
        cache[key] = (perms, describe_strata(strata))
    return cache[key]
