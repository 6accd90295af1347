"""The tracer's passes: exact limits, batching, starting mid-model, the noise, untraceable pairs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from beliefs.inputs.prompts import resolve_start_token
from beliefs.models import load_model
from beliefs.trace.core import restorations, trace_pairs
from beliefs.trace.engine import Restoration, Tracer
from beliefs.trace.prompts import DIFFERS_AT_FIRST, ONE_SHARED, pair_prompt

PAIRS = [
    (None, "I am currently on Earth.", "I am currently on the Moon."),
    (None, "101 is a prime number.", "101 is not a prime number."),
    ("Once upon a time.", "1 + 1 = 2.", "1 + 1 = 3."),
    ("A spacecraft log: day 12.", "The city of Paris is in France.", "The city of Paris is in Poland."),
]


def _pairs(lm):
    start = resolve_start_token(lm.tokenizer)
    return [pair_prompt(lm.tokenizer, start, c, f"x/{i}", s, f) for i, (c, s, f) in enumerate(PAIRS)]


def _reference_logp(lm, ids, diff, embeds):
    """The traced log-probability from one plain full forward pass of the whole model."""
    with torch.no_grad():
        out = lm.module(inputs_embeds=embeds[None])
    lp = torch.log_softmax(out.logits[0].float(), -1)
    return sum(lp[j - 1, ids[j]].item() for j in range(diff, len(ids)))


@pytest.fixture(scope="module", params=["llama", "gpt2"])
def setup(request):
    lm = load_model(f"fake:{request.param}")
    pairs = _pairs(lm)
    assert all(p.reason is None for p in pairs)
    tracer = Tracer(lm, batch_size=64)
    return lm, pairs, tracer, tracer.clean(pairs), tracer.corrupt(pairs, 0)


def test_margins_match_a_plain_forward_pass(setup):
    lm, pairs, tracer, clean, corrupt = setup
    for p, c, k in zip(pairs, clean, corrupt, strict=True):
        ref = {}
        for form in ("true", "false"):
            ids = p.ids(form)
            e = lm.module.get_input_embeddings()(torch.tensor(ids)).detach()
            ref[("clean", form)] = _reference_logp(lm, ids, p.diff, e)
            e = e.clone()
            e[list(p.content)] += tracer.noise(p, 0)
            ref[("corrupt", form)] = _reference_logp(lm, ids, p.diff, e)
        assert c.margin == pytest.approx(ref[("clean", "true")] - ref[("clean", "false")], abs=1e-4)
        assert k.margin == pytest.approx(ref[("corrupt", "true")] - ref[("corrupt", "false")], abs=1e-4)
        assert abs(c.margin - k.margin) > 1e-3  # the noise changes something


def test_restoring_every_layer_gives_clean_and_none_gives_corrupt(setup):
    lm, pairs, tracer, clean, corrupt = setup
    every = Restoration("state", tuple(range(lm.n_layers)), "all")
    none = Restoration("state", (), "all")
    got = tracer.restored(pairs, clean, corrupt, [every, none])
    np.testing.assert_allclose(got[:, 0], [c.margin for c in clean], atol=1e-4)
    np.testing.assert_allclose(got[:, 1], [c.margin for c in corrupt], atol=1e-4)


def test_batched_equals_one_at_a_time_and_starting_mid_model_equals_whole(setup):
    lm, pairs, tracer, clean, corrupt = setup
    plan = restorations(lm.n_layers, range(lm.n_layers), 3)
    assert {r.entry() for r in plan} >= {0, 1, 2}
    batched = tracer.restored(pairs, clean, corrupt, plan)
    single = Tracer(lm, batch_size=1, allow_entry=False)
    one = np.array(
        [single.restored([p], [c], [k], plan)[0] for p, c, k in zip(pairs, clean, corrupt, strict=True)]
    )
    np.testing.assert_allclose(batched, one, atol=1e-4)
    # every restoration moves some margin away from the corrupted one (the patches take effect)
    assert (np.abs(batched - np.array([k.margin for k in corrupt])[:, None]) > 1e-6).mean() > 0.5


def test_starting_mid_model_is_used_where_it_reproduces_the_model():
    assert Tracer(load_model("fake:llama")).arch.entry_ok
    assert not Tracer(load_model("fake:gpt2")).arch.entry_ok  # GPT-2 adds position embeddings


def test_last_token_state_at_layer_zero_changes_nothing(setup):
    """The last token before the difference is not corrupted: restoring its embedding is a no-op."""
    _lm, pairs, tracer, clean, corrupt = setup
    got = tracer.restored(pairs, clean, corrupt, [Restoration("state", (0,), "last")])
    np.testing.assert_allclose(got[:, 0], [k.margin for k in corrupt], atol=1e-5)


def test_noise_is_per_fact_and_seed_and_independent_of_order(setup):
    _lm, pairs, tracer, _clean, corrupt = setup
    again = tracer.corrupt(list(reversed(pairs)), 0)
    np.testing.assert_allclose([k.margin for k in reversed(again)], [k.margin for k in corrupt], atol=1e-5)
    other = tracer.corrupt(pairs, 1)
    assert not np.allclose([k.margin for k in other], [k.margin for k in corrupt])
    n = tracer.noise(pairs[0], 0)
    assert n.shape == (len(pairs[0].content), tracer.model.width)
    assert float(n.std()) == pytest.approx(3 * tracer.embed_sd, rel=0.5)


def test_untraceable_pairs_are_reported_not_dropped():
    lm = load_model("fake:llama")
    start = resolve_start_token(lm.tokenizer)
    first = pair_prompt(
        lm.tokenizer, start, None, "x/a", "Canberra is the capital.", "Sydney is the capital."
    )
    one = pair_prompt(lm.tokenizer, start, None, "x/b", "I am here.", "I was here.")
    good = _pairs(lm)[0]
    assert first.reason == DIFFERS_AT_FIRST and one.reason == ONE_SHARED
    tracer = Tracer(lm)
    plan = restorations(lm.n_layers, [0, 2], 3)
    traces = trace_pairs(tracer, [first, good, one], plan, [0], min_gap=0.0)
    assert [t.reason for t in traces] == [DIFFERS_AT_FIRST, None, ONE_SHARED]
    assert traces[1].fraction is not None and traces[0].fraction is None
    huge = trace_pairs(tracer, [good], plan, [0], min_gap=1e9)
    assert huge[0].reason == "small-gap" and huge[0].fraction is None and np.isfinite(huge[0].clean)
