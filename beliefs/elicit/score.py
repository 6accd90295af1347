"""Scoring facts against generated sentences: salience, endorsement and the nearest sentences.

Definitions (per fact and condition), with unit-normalised sentence embeddings:

- **salience** of a statement = the mean cosine similarity between the statement and its ``k`` (= 3)
  nearest distinct generated sentences of that condition. It is high when the model says the thing
  (or something very close to it) a few times, not just once by accident; with fewer than ``k``
  sentences it is the mean over all of them, and with none it is NaN.
- ``salience_true`` / ``salience_false``: the same for the true and the false form.
- **endorsement** = ``salience_true − salience_false``: positive when what the model says lies closer
  to the true form than to the false one. The two forms differ by a word or two, so endorsement is
  small in absolute terms; its sign (the share of facts with endorsement > 0) is the readable figure.

Salience favours hubs twice over: generic *sentences* lie close to many facts, and generic *facts* lie
close to any text. Two corrections:

- **CSLS** (cross-domain similarity local scaling; Conneau et al. 2018) on the sentence side:
  ``CSLS(x, y) = 2 cos(x, y) − r_S(x) − r_T(y)``, with ``r_S(x)`` the mean cosine of statement ``x`` to
  its ``k`` nearest sentences (its raw salience) and ``r_T(y)`` the mean cosine of sentence ``y`` to its
  ``k`` nearest statements (both forms of every fact). ``salience_csls`` is the mean CSLS of a statement
  to its ``k`` nearest sentences by CSLS: how much closer it lies to what was said than those sentences
  lie to statements in general.
- The **within-fact contrast** across prompts (:mod:`beliefs.elicit.stats`): the same statement's
  salience under ``empty`` minus under the detailed prompts, so that whatever makes a fact close to any
  text cancels.

:func:`sample_replicates` recomputes ``salience_csls`` of the true forms on bootstrap resamples of the
generated samples (a sample is the unit of generation), for intervals that cross facts and samples.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from beliefs.rundata import FACT_COLUMNS

Embedder = Callable[[list[str]], NDArray[np.floating[Any]]]
"""Maps texts to an ``(n, d)`` array of embeddings (normalised here, so any scale will do)."""

K_NEAREST = 3
N_KEPT = 3
"""Nearest generated sentences kept per fact and form, for inspection."""
SALIENCE_COLUMNS = (
    "fact_set",
    "fact_id",
    "domain",
    "kind",
    "condition",
    "salience_true",
    "salience_false",
    "endorsement",
    "salience_csls_true",
    "salience_csls_false",
    "n_sentences",
    "nearest_true",
    "nearest_true_cosine",
    "nearest_false",
    "statement",
    "false_statement",
)
"""Columns of ``salience.csv``; ``nearest_*`` hold JSON lists (closest first)."""


def sentence_embedder(name: str = "minilm-l6") -> Embedder:
    """An :data:`Embedder` backed by a sentence-transformers model (embedded name, path or hub id)."""
    from beliefs.models import load_sentence_encoder

    encoder = load_sentence_encoder(name)

    def embed(texts: list[str]) -> NDArray[np.floating[Any]]:
        if not texts:
            return np.zeros((0, int(encoder.get_sentence_embedding_dimension() or 0)), dtype=np.float32)
        out = encoder.encode(
            texts, batch_size=64, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(out, dtype=np.float32)

    return embed


def _unit(x: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
    a = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(a, axis=1, keepdims=True)
    out: NDArray[np.float64] = a / np.where(norms > 0, norms, 1.0)
    return out


def nearest(
    queries: NDArray[np.float64], sentences: NDArray[np.float64], k: int
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """Indices and cosines of each query's ``min(k, m)`` nearest sentences, closest first."""
    sims = queries @ sentences.T
    kk = min(k, sims.shape[1])
    if kk == 0:
        return np.zeros((len(queries), 0), dtype=np.intp), np.zeros((len(queries), 0))
    part = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
    top = np.take_along_axis(sims, part, axis=1)
    order = np.argsort(-top, axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1), np.take_along_axis(top, order, axis=1)


def hubness(sentences: NDArray[np.float64], statements: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    """``r_T(y)``: each sentence's mean cosine to its ``k`` nearest statements (unit-normalised rows)."""
    if len(sentences) == 0:
        return np.zeros(0)
    return nearest(sentences, statements, k)[1].mean(axis=1)


def csls_salience(
    queries: NDArray[np.float64],
    sentences: NDArray[np.float64],
    hub: NDArray[np.float64],
    k: int,
    available: NDArray[np.bool_] | None = None,
) -> NDArray[np.float64]:
    """Mean CSLS of each query to its ``k`` nearest sentences by CSLS (see the module docstring).

    ``hub`` is :func:`hubness` of the sentences; ``available`` masks ``(B, m)`` sentence sets (a
    bootstrap over samples), giving ``(B, n)``; NaN where no sentence is available.
    """
    sims = queries @ sentences.T  # (n, m)
    mask = np.ones((1, sims.shape[1]), dtype=bool) if available is None else np.atleast_2d(available)
    out = np.full((mask.shape[0], len(queries)), np.nan)
    for b, avail in enumerate(mask):
        idx = np.flatnonzero(avail)
        if idx.size == 0:
            continue
        s = sims[:, idx]
        kk = min(k, idx.size)
        r_s = -np.partition(-s, kk - 1, axis=1)[:, :kk].mean(axis=1)
        adjusted = 2.0 * s - hub[idx][None, :]
        top = -np.partition(-adjusted, kk - 1, axis=1)[:, :kk]
        out[b] = top.mean(axis=1) - r_s
    return out[0] if available is None else out


def salience_table(
    facts: pd.DataFrame,
    sentences: Mapping[str, Sequence[str]],
    embed: Embedder,
    k: int = K_NEAREST,
    kept: int = N_KEPT,
) -> pd.DataFrame:
    """One row per fact × condition (conditions in the order of ``sentences``); see the module docstring.

    ``facts`` has the :data:`FACT_COLUMNS`; ``sentences`` maps a condition to its distinct sentences.
    """
    if k < 1:
        raise ValueError(f"k should be at least 1, but got {k}")
    f = facts.reset_index(drop=True)
    forms = _unit(embed([*f["statement"].astype(str), *f["false_statement"].astype(str)]))
    true_e, false_e = forms[: len(f)], forms[len(f) :]
    hub_k = min(k, len(forms))
    frames = []
    for condition, sents in sentences.items():
        sents = list(sents)
        s_e = _unit(embed(sents)) if sents else np.zeros((0, forms.shape[1]))
        frame = f[list(FACT_COLUMNS)].copy()
        frame["condition"] = condition
        frame["n_sentences"] = len(sents)
        idx_t, cos_t = nearest(true_e, s_e, max(k, kept))
        idx_f, cos_f = nearest(false_e, s_e, max(k, kept))
        if len(sents):
            frame["salience_true"] = cos_t[:, :k].mean(axis=1)
            frame["salience_false"] = cos_f[:, :k].mean(axis=1)
            hub = hubness(s_e, forms, hub_k)
            frame["salience_csls_true"] = csls_salience(true_e, s_e, hub, k)
            frame["salience_csls_false"] = csls_salience(false_e, s_e, hub, k)
        else:
            frame["salience_true"] = frame["salience_false"] = np.nan
            frame["salience_csls_true"] = frame["salience_csls_false"] = np.nan
        frame["endorsement"] = frame["salience_true"] - frame["salience_false"]
        frame["nearest_true"] = [
            json.dumps([sents[j] for j in row[:kept]], ensure_ascii=False) for row in idx_t
        ]
        frame["nearest_true_cosine"] = [json.dumps([round(float(c), 4) for c in row[:kept]]) for row in cos_t]
        frame["nearest_false"] = [
            json.dumps([sents[j] for j in row[:kept]], ensure_ascii=False) for row in idx_f
        ]
        frames.append(frame[list(SALIENCE_COLUMNS)])
    if not frames:
        return pd.DataFrame(columns=list(SALIENCE_COLUMNS))
    return pd.concat(frames, ignore_index=True)


def _salience_on_subsets(
    facts: pd.DataFrame,
    samples: Mapping[str, Sequence[Sequence[str]]],
    embed: Embedder,
    k: int,
    n_subsets: int,
    choose: Callable[[int], NDArray[np.bool_]],
) -> dict[str, NDArray[np.float64]]:
    """Per condition, ``salience_csls`` of the true forms on subsets of the generated samples: ``choose(n)``
    gives ``(B, n)`` sample memberships; a subset's sentences are the distinct sentences of its samples."""
    f = facts.reset_index(drop=True)
    forms = _unit(embed([*f["statement"].astype(str), *f["false_statement"].astype(str)]))
    true_e = forms[: len(f)]
    out: dict[str, NDArray[np.float64]] = {}
    for condition, per_sample in samples.items():
        distinct = list(dict.fromkeys(s for sample in per_sample for s in sample))
        if not distinct or not per_sample:
            out[condition] = np.full((n_subsets, len(f)), np.nan)
            continue
        chosen = choose(len(per_sample))
        position = {s: i for i, s in enumerate(distinct)}
        member = np.zeros((len(per_sample), len(distinct)), dtype=bool)
        for i, sample in enumerate(per_sample):
            member[i, [position[s] for s in sample]] = True
        available = (chosen.astype(np.int32) @ member.astype(np.int32)) > 0
        s_e = _unit(embed(distinct))
        out[condition] = csls_salience(true_e, s_e, hubness(s_e, forms, min(k, len(forms))), k, available)
    return out


def sample_replicates(
    facts: pd.DataFrame,
    samples: Mapping[str, Sequence[Sequence[str]]],
    embed: Embedder,
    k: int = K_NEAREST,
    n_boot: int = 500,
    seed: int = 0,
) -> dict[str, NDArray[np.float64]]:
    """Per condition, ``(n_boot, n_facts)`` ``salience_csls`` of the true forms on bootstrap resamples of
    the generated samples.

    ``samples`` maps a condition to one list of sentences per generated sample. A resample draws as many
    samples as there are, with replacement; its sentences are the distinct sentences of the samples
    drawn (as :func:`salience_table` uses the distinct sentences of all of them).
    """
    rng = np.random.default_rng(seed)

    def choose(n: int) -> NDArray[np.bool_]:
        chosen = np.zeros((n_boot, n), dtype=bool)
        chosen[np.arange(n_boot)[:, None], rng.integers(0, n, size=(n_boot, n))] = True
        return chosen

    return _salience_on_subsets(facts, samples, embed, k, n_boot, choose)


def sample_halves(
    facts: pd.DataFrame,
    samples: Mapping[str, Sequence[Sequence[str]]],
    embed: Embedder,
    k: int = K_NEAREST,
    seed: int = 0,
) -> dict[str, NDArray[np.float64]]:
    """Per condition, ``(2, n_facts)`` ``salience_csls`` of the true forms on two disjoint random halves of
    the generated samples: two independent replications of the elicitation at half its size, whose
    correlation (Spearman–Brown stepped up) is salience's sample-to-sample reliability."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2]))

    def choose(n: int) -> NDArray[np.bool_]:
        order = rng.permutation(n)
        chosen = np.zeros((2, n), dtype=bool)
        chosen[0, order[: n // 2]] = True
        chosen[1, order[n // 2 :]] = True
        return chosen

    return _salience_on_subsets(facts, samples, embed, k, 2, choose)


def _first(value: Any) -> str:
    items = json.loads(value) if isinstance(value, str) else list(value or [])
    return str(items[0]) if items else ""


def most_least_volunteered(salience: pd.DataFrame, condition: str = "empty", k: int = 5) -> pd.DataFrame:
    """Per cell (domain/kind), the ``k`` facts with the highest and the lowest salience under ``condition``.

    Columns: ``cell``, ``rank`` (``most`` or ``least``), ``position`` (1 = most extreme), ``fact_set``,
    ``fact_id``, ``statement``, ``salience_true``, ``endorsement``, ``example`` (the generated sentence
    nearest the statement). Works on the frame returned by ``elicit`` or read back from ``salience.csv``.
    """
    sel = salience[salience["condition"] == condition].dropna(subset=["salience_true"])
    rows: list[dict[str, Any]] = []
    for (domain, kind), group in sel.groupby(["domain", "kind"], sort=True):
        ordered = group.sort_values("salience_true", ascending=False, kind="stable")
        for rank, part in (("most", ordered.head(k)), ("least", ordered.tail(k).iloc[::-1])):
            for position, (_, r) in enumerate(part.iterrows(), start=1):
                rows.append(
                    {
                        "cell": f"{domain}/{kind}",
                        "rank": rank,
                        "position": position,
                        "fact_set": r["fact_set"],
                        "fact_id": r["fact_id"],
                        "statement": r.get("statement", ""),
                        "salience_true": float(r["salience_true"]),
                        "endorsement": float(r["endorsement"]),
                        "example": _first(r["nearest_true"]),
                    }
                )
    columns = [
        "cell",
        "rank",
        "position",
        "fact_set",
        "fact_id",
        "statement",
        "salience_true",
        "endorsement",
        "example",
    ]
    return pd.DataFrame(rows, columns=columns)
