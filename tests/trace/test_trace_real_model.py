"""Causal tracing on the real smollm2-135m (``-m real_model``; about a minute on 2 CPU cores)."""

from pathlib import Path

import numpy as np
import pytest

from beliefs.facts import load_fact_set
from beliefs.inputs.prompts import resolve_start_token
from beliefs.models import load_model
from beliefs.trace.core import restorations
from beliefs.trace.engine import Restoration, Tracer
from beliefs.trace.prompts import pair_prompt

pytestmark = [pytest.mark.real_model, pytest.mark.slow]
CORE = Path(__file__).resolve().parents[2] / "fact_sets" / "core.yaml"
IDS = ("earth-location", "prime-101")


def test_limits_and_batching_on_smollm2():
    lm = load_model("smollm2-135m")
    by_id = {f.id: f for f in load_fact_set(CORE).facts}
    start = resolve_start_token(lm.tokenizer)
    pairs = [
        pair_prompt(lm.tokenizer, start, None, i, by_id[i].statement, by_id[i].false_statement) for i in IDS
    ]
    assert all(p.reason is None for p in pairs)
    tracer = Tracer(lm, batch_size=16)
    assert tracer.arch.entry_ok
    clean, corrupt = tracer.clean(pairs), tracer.corrupt(pairs, 0)
    assert all(c.margin > 0 for c in clean)  # the model prefers both true forms
    plan = [
        Restoration("state", tuple(range(lm.n_layers)), "all"),
        Restoration("state", (), "all"),
        *restorations(lm.n_layers, [0, 10, 20, 30], 5),
    ]
    got = tracer.restored(pairs, clean, corrupt, plan)
    np.testing.assert_allclose(got[:, 0], [c.margin for c in clean], atol=1e-3)
    np.testing.assert_allclose(got[:, 1], [k.margin for k in corrupt], atol=1e-3)
    one = Tracer(lm, batch_size=1, allow_entry=False)
    single = np.vstack(
        [one.restored([p], [c], [k], plan) for p, c, k in zip(pairs, clean, corrupt, strict=True)]
    )
    np.testing.assert_allclose(got, single, atol=1e-3)
