"""The ripple: the cached prefix equals the tracer's packed pass, batching changes nothing, a neutral
passage identical to the contradicting one gives zero spillover, and the choice of the other facts."""

from __future__ import annotations

import numpy as np
import pytest
from ripple_items import RAW, _items, write_items

from beliefs.errors import UsageError
from beliefs.inputs.prompts import resolve_start_token
from beliefs.intervene.ripple import PrefixScorer, neutral_passage, ripple, targets
from beliefs.models import load_model
from beliefs.trace.engine import Tracer
from beliefs.trace.prompts import pair_prompt


@pytest.fixture(scope="module", params=["llama", "gpt2"])
def lm(request):
    return load_model(f"fake:{request.param}")


def test_cached_prefix_equals_the_tracer(lm):
    start = resolve_start_token(lm.tokenizer)
    scorer = PrefixScorer(lm, start, batch_size=4)
    statements = [(r[4], r[5]) for r in RAW]
    for passage in (None, "Once upon a time, in a land far away, there was a spacecraft log."):
        got = scorer.margins(passage, statements)
        pairs = [
            pair_prompt(lm.tokenizer, start, passage, f"x/{i}", s, f) for i, (s, f) in enumerate(statements)
        ]
        want = [c.margin for c in Tracer(lm).clean(pairs)]
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_batched_equals_one_at_a_time(lm):
    start = resolve_start_token(lm.tokenizer)
    statements = [(r[4], r[5]) for r in RAW]
    passage = "Nothing is both red and not red at once."
    together = PrefixScorer(lm, start, batch_size=16).margins(passage, statements)
    one = PrefixScorer(lm, start, batch_size=1)
    alone = [one.margins(passage, [s])[0] for s in statements]
    np.testing.assert_allclose(together, alone, rtol=1e-5, atol=1e-5)


def test_an_identical_neutral_passage_gives_zero_spillover(lm):
    scorer = PrefixScorer(lm, resolve_start_token(lm.tokenizer))
    pairs, facts = ripple(scorer, _items(), neutral=lambda passage: passage)
    assert len(facts) == sum(r[6] for r in RAW)
    np.testing.assert_allclose(pairs["delta"], 0.0, atol=1e-9)
    np.testing.assert_allclose(facts["spillover"], 0.0, atol=1e-9)


def test_the_ripple_of_a_real_neutral_passage(lm):
    scorer = PrefixScorer(lm, resolve_start_token(lm.tokenizer))
    seen = []
    pairs, facts = ripple(scorer, _items(), same_cap=2, k_random=2, advance=seen.append)
    assert sum(seen) == len(facts)
    assert (pairs["delta"].abs() > 0).any()
    row = facts.set_index("fact_a").loc["mini/earth"]
    mine = pairs[(pairs["fact_a"] == "mini/earth") & (pairs["relation"] != "self")]
    assert row["spillover"] == pytest.approx(mine["delta"].abs().mean())
    assert row["spillover_signed"] == pytest.approx(-mine["delta"].mean())
    # the empty margin of a B does not depend on which A it is read under
    assert pairs.groupby("fact_b")["margin_empty"].nunique().max() == 1


def test_targets_twin_template_and_a_fixed_random_sample():
    items = _items()
    plan = targets(items, same_cap=1, k_random=2, seed=0)
    assert "mini/lodz" not in plan  # no contradicting passage
    earth = plan["mini/earth"]
    assert earth[0] == ("mini/earth", "self")
    assert ("mini/moon", "twin") in earth
    assert [r for _, r in earth].count("random") == 2
    refs = [b for b, _ in earth]
    assert len(refs) == len(set(refs))
    # "prime" has no template: same domain stands in for it
    assert all(b.split("/")[1] in {"one", "zero", "seven"} for b, r in plan["mini/prime"] if r == "template")
    # fixed by the seed and the fact, not by the order of the facts
    again = targets(list(reversed(items)), same_cap=1, k_random=2, seed=0)
    assert sorted(again["mini/earth"]) == sorted(earth)
    assert targets(items, same_cap=1, k_random=2, seed=1) != plan or len(items) < 5
    with pytest.raises(UsageError):
        targets(items, same_cap=-1)


def test_the_neutral_passage_has_the_length_asked_for(lm):
    for n in (3, 40, 400):
        text = neutral_passage(lm.tokenizer, n)
        got = len(lm.tokenizer(text, add_special_tokens=False)["input_ids"])
        assert abs(got - n) <= 2


def test_the_command_writes_both_tables(tmp_path):
    from typer.testing import CliRunner

    from beliefs.cli import app

    path = write_items(tmp_path / "mini.yaml")
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["intervene", "ripple", str(path), "-m", "fake:llama", "-o", str(out)])
    assert res.exit_code == 0, res.output
    import pandas as pd

    pairs = pd.read_csv(out / "ripple_pairs.csv")
    facts_out = pd.read_csv(out / "ripple_facts.csv")
    assert set(pairs["relation"]) <= {"self", "twin", "template", "random"}
    assert len(facts_out) == sum(r[6] for r in RAW)
    assert (out / "ripple.json").is_file()
    # fact-set files need --out; a missing file is a one-line error
    res = CliRunner().invoke(app, ["intervene", "ripple", str(path), "-m", "fake:llama"])
    assert res.exit_code == 2 and "--out" in res.output
    res = CliRunner().invoke(app, ["intervene", "ripple", str(tmp_path / "nope.yaml"), "-m", "fake:llama"])
    assert res.exit_code != 0 and "no such fact-set file" in res.output
    assert "Traceback" not in res.output
