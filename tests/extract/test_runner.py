"""Batched and prefix-cached extraction equals one-at-a-time full computation."""

import pytest
import torch

from beliefs.extract.runner import Extractor, Row, plan
from beliefs.inputs.prompts import render, resolve_start_token
from beliefs.models import load_model

STATEMENTS = [
    "The city of Paris is in France.",
    "I am currently on the Moon.",
    "1 + 1 = 2.",
    " Zürich, naïve café 東京!",
    "101 is a prime number",
]
CONDITIONS = [
    None,
    "Once upon a time, in a land far away.",
    "Ctx A.",
    "A spacecraft log: day 12, all nominal.",
]


def reference(lm, prompt):
    ids = torch.tensor([prompt.ids])
    with torch.no_grad():
        if lm.causal:
            out = lm.module(input_ids=ids, output_hidden_states=True)
        else:
            out = lm.module(input_ids=ids, attention_mask=torch.ones_like(ids), output_hidden_states=True)
    span = torch.stack(out.hidden_states)[:, 0, prompt.start : prompt.end]
    logp = None
    if lm.causal:
        lp = torch.log_softmax(out.logits[0].float(), -1)
        logp = sum(lp[j - 1, prompt.ids[j]].item() for j in range(prompt.start, prompt.end))
    return span, logp


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["llama", "gpt2", "llama-sp", "bert"])
@pytest.mark.parametrize("side", ["left", "right"])
def test_batched_prefix_cached_equals_unbatched(kind, side):
    _batched_equals_unbatched(kind, side)


def test_a_head_that_disagrees_falls_back_to_the_models_logits():
    """Logits are projected here only where scored; a model whose projection differs (here: a final
    soft-capping the extractor does not know of) is noticed on the first batch and keeps full logits."""
    ex = _batched_equals_unbatched("llama", "right", softcap=0.5)
    assert ex._head_ok is False


def _batched_equals_unbatched(kind, side, softcap=None):
    lm = load_model(f"fake:{kind}")
    start = resolve_start_token(lm.tokenizer, causal=lm.causal)
    rows = [Row(f"{c}|{s}", render(lm.tokenizer, start, c, s)) for c in CONDITIONS for s in STATEMENTS]
    # per-fact contexts: a prefix of its own shared by a true and a false form
    for i, s in enumerate(STATEMENTS):
        context = "In this story, " * (i % 3) + f"fact {i} holds."
        rows += [Row(f"ctx{i}|{f}", render(lm.tokenizer, start, context, f)) for f in (s, s + " Not.")]
    extractor = Extractor(lm, padding_side=side)
    if softcap is not None:
        extractor.softcap = softcap
    batches = plan(rows, 7)
    assert any(len(b.prefixes) > 1 for b in batches)  # per-fact style packing is exercised
    assert any(len(b.prefixes) == 1 and len(b.rows) > 2 for b in batches)  # shared prefix too
    got = {r.key: m for b in batches for r, m in zip(b.rows, extractor.run(b), strict=True)}
    for row in rows:
        span, logp = reference(lm, row.prompt)
        m = got[row.key]
        scale = span.abs().amax(dim=(1, 2))[:, None]  # each layer's scale
        assert ((torch.from_numpy(m.last) - span[:, -1]).abs() / scale).max() < 1e-4
        assert ((torch.from_numpy(m.mean) - span.mean(1)).abs() / scale).max() < 1e-4
        assert m.n_tokens == row.prompt.end - row.prompt.start
        if lm.causal:
            assert m.logp == pytest.approx(logp, abs=1e-3)
        else:
            assert m.logp is None
    assert extractor._head_ok is (lm.causal and softcap is None)  # the fast path runs where it can
    return extractor


def test_plan_is_deterministic_and_dedupes():
    lm = load_model("fake:llama")
    start = resolve_start_token(lm.tokenizer)
    rows = [Row(s, render(lm.tokenizer, start, None, s)) for s in STATEMENTS * 2]
    a, b = plan(rows, 3), plan(list(reversed(rows)), 3)
    assert [[r.key for r in x.rows] for x in a] == [[r.key for r in x.rows] for x in b]
    assert sum(len(x.rows) for x in a) == len(STATEMENTS)


def test_layers_selection():
    lm = load_model("fake:llama")
    start = resolve_start_token(lm.tokenizer)
    ex = Extractor(lm, layers=[0, -1])
    assert ex.layers == [0, lm.n_layers - 1]
    (m,) = ex.run(plan([Row("k", render(lm.tokenizer, start, None, "1 + 1 = 2."))], 4)[0])
    assert m.last.shape == (2, lm.width)
