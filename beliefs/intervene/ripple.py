"""The ripple: when a fact's contradicting passage is read, what happens to the model's other beliefs.

For each fact A with a ``contradict`` passage, the margins ``logp(true) − logp(false)`` of other facts B
are read with A's passage as prefix (start token, passage, newline, B's statement: the ``contradict``
condition's prompt with A's passage), and with a **neutral passage of matched length** in its place:
the first ``n`` tokens of a fixed neutral text (:data:`NEUTRAL_TEXT`, repeated if needed), ``n`` being
the number of tokens of A's passage, decoded back to text. ``Δ = margin(B | A's passage) −
margin(B | neutral)``. The Bs of A (:func:`targets`) are

- ``twin``: A's declared pair, where the set declares one;
- ``template``: other facts on A's sentence frame (same ``template`` and domain; the same domain where
  A has no template), at most ``same_cap`` of them, drawn in a seeded order;
- ``random``: a fixed seeded sample of ``k_random`` of the remaining facts (the seed and A's reference
  fix it, so it does not depend on the order of the facts);
- ``self``: A itself (how far its own passage moves it), kept apart from the spillover.

Per fact A, the **spillover** is the mean ``|Δ|`` over its Bs (self excluded), and the **signed
spillover** the mean ``−Δ`` (positive: the others move toward their false forms).

A passage's prefix is computed once for all its Bs: its keys and values (``past_key_values``) are
repeated over a batch of the Bs' true and false statements, and the first statement token is scored
from the prefix's last output (tested: equal to the tracer's packed pass, batched = one at a time).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from beliefs.errors import ModelError, UsageError
from beliefs.inputs.prompts import Prompt, StartToken, render
from beliefs.models.base import LoadedModel
from beliefs.schema import Fact

NEUTRAL_TEXT = (
    "The morning was grey and still. A woman walked along the path beside the canal, stopping now and "
    "then to look at the water. Further on, two children were sharing a sandwich on a bench while their "
    "dog watched them closely. The shops on the corner had just opened, and a man was arranging boxes of "
    "apples and pears outside the grocer's. Somewhere a radio was playing an old song. The woman bought a "
    "newspaper, folded it under her arm and turned back towards the bridge, where a cyclist rang his bell "
    "twice before passing. By noon the clouds had thinned a little, and the light on the water changed "
    "from grey to a pale silver that lasted until the evening."
)
"""Plain narrative with no claim about numbers, logic, places or the reader's situation."""
RELATIONS = ("self", "twin", "template", "random")
DEFAULT_SAME_CAP = 5
DEFAULT_RANDOM = 5
PAIR_COLUMNS = (
    "fact_a",
    "fact_b",
    "relation",
    "margin_empty",
    "margin_contradict",
    "margin_neutral",
    "delta",
    "n_passage_tokens",
)
FACT_COLUMNS = (
    "fact_a",
    "domain",
    "template",
    "n_b",
    "spillover",
    "spillover_signed",
    *(f"spillover_{r}" for r in RELATIONS[1:]),
    *(f"n_{r}" for r in RELATIONS[1:]),
    "self_delta",
    "self_margin_empty",
    "n_passage_tokens",
)


@dataclass(frozen=True)
class Item:
    """A fact as the ripple uses it (its reference ``set/id``)."""

    ref: str
    fact: Fact


def _rng(seed: int, ref: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}|{ref}".encode()).digest()[:8]
    return np.random.default_rng(int.from_bytes(digest, "little"))


def targets(
    items: Sequence[Item], same_cap: int = DEFAULT_SAME_CAP, k_random: int = DEFAULT_RANDOM, seed: int = 0
) -> dict[str, list[tuple[str, str]]]:
    """``{A: [(B, relation), ...]}`` for each fact A with a contradicting passage (``self`` first)."""
    if same_cap < 0 or k_random < 0:
        raise UsageError("the caps on template and random facts should be at least 0")
    by_ref = {it.ref: it for it in items}
    out: dict[str, list[tuple[str, str]]] = {}
    for a in items:
        if not a.fact.context("contradict"):
            continue
        set_name = a.ref.split("/", 1)[0]
        chosen: list[tuple[str, str]] = [(a.ref, "self")]
        twin = f"{set_name}/{a.fact.pair}" if a.fact.pair else None
        if twin in by_ref:
            chosen.append((twin, "twin"))
        taken = {r for r, _ in chosen}
        rng = _rng(seed, a.ref)

        def same(it: Item, a: Item = a) -> bool:
            if a.fact.template:
                return it.fact.template == a.fact.template and it.fact.domain == a.fact.domain
            return it.fact.domain == a.fact.domain

        pool = sorted(it.ref for it in items if it.ref not in taken and same(it))
        pick = rng.permutation(len(pool))[:same_cap]
        chosen += [(pool[i], "template") for i in sorted(pick)]
        taken |= {r for r, _ in chosen}
        rest = sorted(it.ref for it in items if it.ref not in taken)
        pick = rng.permutation(len(rest))[:k_random]
        chosen += [(rest[i], "random") for i in sorted(pick)]
        out[a.ref] = chosen
    return out


def neutral_passage(tokenizer: Any, n_tokens: int) -> str:
    """The first ``n_tokens`` tokens of :data:`NEUTRAL_TEXT` (repeated as needed), as text."""
    ids = list(tokenizer(NEUTRAL_TEXT, add_special_tokens=False)["input_ids"])
    while len(ids) < n_tokens:
        ids += list(tokenizer(" " + NEUTRAL_TEXT, add_special_tokens=False)["input_ids"])
    return str(tokenizer.decode(ids[:n_tokens])).strip()


class PrefixScorer:
    """Margins of many statements after one shared prefix, the prefix run once (its KV cache reused)."""

    def __init__(self, model: LoadedModel, start: StartToken, batch_size: int = 32) -> None:
        if not model.causal:
            raise ModelError(f"{model.name}: the ripple needs a causal LM, not a {model.backend} encoder")
        if model.module is None:
            raise ModelError(f"{model.name}: loaded without weights")
        if batch_size < 1:
            raise UsageError(f"batch size should be at least 1, but got {batch_size}")
        import torch

        self.torch = torch
        self.model = model
        self.start = start
        self.batch_size = batch_size
        self.device = torch.device(model.device)

    def margins(self, passage: str | None, statements: Sequence[tuple[str, str]]) -> list[float]:
        """``logp(true) − logp(false)`` of each ``(true, false)`` after ``passage`` (None: no passage)."""
        prompts = [
            (
                render(self.model.tokenizer, self.start, passage, t),
                render(self.model.tokenizer, self.start, passage, f),
            )
            for t, f in statements
        ]
        forms: list[Prompt] = [p for pair in prompts for p in pair]
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, p in enumerate(forms):
            groups.setdefault(p.prefix, []).append(i)
        logp = np.zeros(len(forms))
        for prefix, idx in groups.items():
            scores = self._score(prefix, [forms[i].ids[len(prefix) :] for i in idx])
            logp[idx] = scores
        return [float(logp[2 * i] - logp[2 * i + 1]) for i in range(len(statements))]

    def _score(self, prefix: tuple[int, ...], tails: Sequence[tuple[int, ...]]) -> np.ndarray:
        """Summed log-probability of each tail after ``prefix``."""
        torch = self.torch
        module = self.model.module
        with torch.inference_mode():
            pre = module(input_ids=torch.tensor([list(prefix)], device=self.device), use_cache=True)
            first = torch.log_softmax(pre.logits[0, -1].float(), -1)
            out = np.zeros(len(tails))
            for lo in range(0, len(tails), self.batch_size):
                chunk = tails[lo : lo + self.batch_size]
                n = len(chunk)
                s = max(len(t) for t in chunk)
                ids = torch.zeros((n, s), dtype=torch.long)
                mask = torch.zeros((n, len(prefix) + s), dtype=torch.long)
                mask[:, : len(prefix)] = 1
                for b, t in enumerate(chunk):
                    ids[b, : len(t)] = torch.tensor(t)
                    mask[b, len(prefix) : len(prefix) + len(t)] = 1
                cache = copy.deepcopy(pre.past_key_values)
                cache.batch_repeat_interleave(n)
                logits = module(
                    input_ids=ids.to(self.device),
                    attention_mask=mask.to(self.device),
                    cache=cache,
                    use_cache=True,
                ).logits.float()
                lp = torch.log_softmax(logits, -1)
                for b, t in enumerate(chunk):
                    total = float(first[t[0]])
                    if len(t) > 1:
                        tok = torch.tensor(t[1:], device=lp.device)
                        total += float(lp[b, torch.arange(len(t) - 1, device=lp.device), tok].double().sum())
                    out[lo + b] = total
        return out


def ripple(
    scorer: PrefixScorer,
    items: Sequence[Item],
    same_cap: int = DEFAULT_SAME_CAP,
    k_random: int = DEFAULT_RANDOM,
    seed: int = 0,
    neutral: Callable[[str], str] | None = None,
    only: set[str] | None = None,
    advance: Callable[[int], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(pairs, facts)``: one row per (A, B) (:data:`PAIR_COLUMNS`) and one per fact A
    (:data:`FACT_COLUMNS`). ``neutral`` maps A's passage to its neutral counterpart (default: the
    matched-length neutral text). ``only``: the facts A to read (default: every fact with a
    contradicting passage); every fact stays a candidate B."""
    tokenizer = scorer.model.tokenizer
    by_ref = {it.ref: it for it in items}
    plan = targets(items, same_cap, k_random, seed)
    if only is not None:
        plan = {a: bs for a, bs in plan.items() if a in only}
    refs = sorted({b for bs in plan.values() for b, _ in bs})
    empty = dict(zip(refs, scorer.margins(None, [_forms(by_ref[r]) for r in refs]), strict=True))
    pair_rows: list[dict[str, Any]] = []
    fact_rows: list[dict[str, Any]] = []
    for a_ref, bs in plan.items():
        a = by_ref[a_ref]
        passage = a.fact.context("contradict") or ""
        n_tok = len(tokenizer(passage, add_special_tokens=False)["input_ids"])
        other = neutral(passage) if neutral is not None else neutral_passage(tokenizer, n_tok)
        statements = [_forms(by_ref[b]) for b, _ in bs]
        m_c = scorer.margins(passage, statements)
        m_n = scorer.margins(other, statements)
        rows = [
            {
                "fact_a": a_ref,
                "fact_b": b,
                "relation": rel,
                "margin_empty": empty[b],
                "margin_contradict": c,
                "margin_neutral": n,
                "delta": c - n,
                "n_passage_tokens": n_tok,
            }
            for (b, rel), c, n in zip(bs, m_c, m_n, strict=True)
        ]
        pair_rows += rows
        fact_rows.append(_summary(a, rows, n_tok))
        if advance is not None:
            advance(1)
    return (
        pd.DataFrame(pair_rows, columns=list(PAIR_COLUMNS)),
        pd.DataFrame(fact_rows, columns=list(FACT_COLUMNS)),
    )


def _forms(item: Item) -> tuple[str, str]:
    return item.fact.statement, item.fact.false_statement


def _summary(a: Item, rows: list[dict[str, Any]], n_tok: int) -> dict[str, Any]:
    others = [r for r in rows if r["relation"] != "self"]
    deltas = np.array([r["delta"] for r in others])
    own = next(r for r in rows if r["relation"] == "self")
    out: dict[str, Any] = {
        "fact_a": a.ref,
        "domain": a.fact.domain,
        "template": a.fact.template or "",
        "n_b": len(others),
        "spillover": float(np.abs(deltas).mean()) if len(deltas) else np.nan,
        "spillover_signed": float(-deltas.mean()) if len(deltas) else np.nan,
        "self_delta": own["delta"],
        "self_margin_empty": own["margin_empty"],
        "n_passage_tokens": n_tok,
    }
    for rel in RELATIONS[1:]:
        d = np.array([r["delta"] for r in others if r["relation"] == rel])
        out[f"spillover_{rel}"] = float(np.abs(d).mean()) if len(d) else np.nan
        out[f"n_{rel}"] = len(d)
    return out
