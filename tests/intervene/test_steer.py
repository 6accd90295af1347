"""Steering: dose 0 changes nothing, starting mid-model equals patching, batching changes nothing."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from beliefs.errors import UsageError
from beliefs.inputs.prompts import resolve_start_token
from beliefs.intervene.steer import Steerer, bands, steer_positions
from beliefs.models import load_model
from beliefs.trace.prompts import pair_prompt

PAIRS = [
    (None, "I am currently on Earth.", "I am currently on the Moon."),
    (None, "101 is a prime number.", "101 is not a prime number."),
    ("Once upon a time.", "1 + 1 = 2.", "1 + 1 = 3."),
]


@pytest.fixture(scope="module", params=["llama", "gpt2"])
def setup(request):
    lm = load_model(f"fake:{request.param}")
    start = resolve_start_token(lm.tokenizer)
    pairs = [pair_prompt(lm.tokenizer, start, c, f"x/{i}", s, f) for i, (c, s, f) in enumerate(PAIRS)]
    steerer = Steerer(lm, batch_size=64)
    return lm, pairs, steerer, steerer.base(pairs)


def _jobs(lm, pairs, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(len(pairs)):
        out.append((i, np.zeros(lm.width, dtype=np.float32)))
        out.append((i, rng.standard_normal(lm.width).astype(np.float32) * 3))
        n = len(steer_positions(pairs[i]))
        out.append((i, rng.standard_normal((n, lm.width)).astype(np.float32) * 3))
    return out


def test_dose_zero_leaves_every_margin_unchanged(setup):
    lm, pairs, steerer, bases = setup
    for layer in range(steerer.n_layers):
        zero = [(i, np.zeros(lm.width, dtype=np.float32)) for i in range(len(pairs))]
        got = steerer.steered(pairs, bases, layer, zero)
        np.testing.assert_allclose(got, [b.margin for b in bases], rtol=1e-4, atol=1e-4)


def test_a_push_moves_the_margin(setup):
    lm, pairs, steerer, bases = setup
    jobs = _jobs(lm, pairs)
    got = steerer.steered(pairs, bases, 1, jobs)
    moved = [abs(got[k] - bases[i].margin) for k, (i, _) in enumerate(jobs) if k % 3]
    assert max(moved) > 1e-2


def test_starting_mid_model_equals_patching_the_whole_pass(setup):
    lm, pairs, steerer, bases = setup
    whole = Steerer(lm, batch_size=64, allow_entry=False)
    assert not whole.tracer.arch.entry_ok
    jobs = _jobs(lm, pairs, seed=1)
    for layer in range(steerer.n_layers):
        a = steerer.steered(pairs, bases, layer, jobs)
        b = whole.steered(pairs, bases, layer, jobs)
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_batched_equals_one_at_a_time(setup):
    lm, pairs, steerer, bases = setup
    jobs = _jobs(lm, pairs, seed=2)
    together = steerer.steered(pairs, bases, 2, jobs)
    one = Steerer(lm, batch_size=1)
    alone = [one.steered(pairs, bases, 2, [j])[0] for j in jobs]
    np.testing.assert_allclose(together, alone, rtol=1e-4, atol=1e-4)


def test_a_push_on_the_last_state_matches_a_plain_forward_pass(setup):
    """Adding a vector to the embeddings of the shared statement tokens = the plain model fed those
    embeddings (checks the positions and the readout, independently of the tracer)."""
    lm, pairs, steerer, bases = setup
    p = pairs[0]
    delta = torch.full((lm.width,), 0.5)
    got = steerer.steered(pairs, bases, 0, [(0, delta.numpy())])[0]
    ref = []
    for form in ("true", "false"):
        ids = p.ids(form)
        emb = lm.module.get_input_embeddings()(torch.tensor([list(ids)]))[0].detach().clone()
        emb[list(steer_positions(p))] += delta
        with torch.no_grad():
            lp = torch.log_softmax(lm.module(inputs_embeds=emb[None]).logits[0].float(), -1)
        ref.append(sum(lp[j - 1, ids[j]].item() for j in range(p.diff, len(ids))))
    assert got == pytest.approx(ref[0] - ref[1], abs=1e-3)


def test_bands_and_a_bad_layer(setup):
    _lm, pairs, steerer, bases = setup
    assert bands(31) == {"early": 8, "middle": 15, "late": 22}
    with pytest.raises(UsageError, match="layer should be between"):
        steerer.steered(pairs, bases, steerer.n_layers, [])
