"""Real embedded models (``-m real_model``); the first run de-quantizes smollm2-135m once (~20 s)."""

import csv
import time
from pathlib import Path

import numpy as np
import pytest

from beliefs.extract import probe
from beliefs.schema import Condition, Contexts, Fact

pytestmark = [pytest.mark.real_model, pytest.mark.slow]
CITIES = Path("/work/shared/external/geometry_of_truth/cities.csv")
EMPTY = [Condition(name="empty", prefix="")]


def city_pairs(n=200):
    by_city: dict[str, dict[str, str]] = {}
    with CITIES.open() as f:
        for row in csv.DictReader(f):
            by_city.setdefault(row["city"], {}).setdefault(
                "true" if row["label"] == "1" else "false", row["statement"]
            )
    pairs = [(c, d["true"], d["false"]) for c, d in by_city.items() if "true" in d and "false" in d]
    return pairs[:n]


@pytest.mark.skipif(not CITIES.exists(), reason=f"Geometry of Truth data not found at {CITIES}")
def test_cities_margin_agrees_with_plain_transformers(tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from beliefs.models import pull

    pairs = city_pairs()
    assert len(pairs) == 200
    facts = [
        ("cities", Fact(id=f"c{i}", domain="physical", kind="contingent", statement=t, false_statement=f))
        for i, (_c, t, f) in enumerate(pairs)
    ]
    run = probe("smollm2-135m", facts, EMPTY, tmp_path / "run", batch_size=16)
    ours = run.margins()
    share = float((ours["margin"] > 0).mean())

    # independent: plain transformers, <|endoftext|> + statement, right-padded with an attention mask
    folder = pull("smollm2-135m")
    tok = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32).eval()
    bos = tok.convert_tokens_to_ids("<|endoftext|>")

    def logps(texts):
        enc = [[bos, *tok(t, add_special_tokens=False)["input_ids"]] for t in texts]
        width = max(map(len, enc))
        ids = torch.tensor([e + [0] * (width - len(e)) for e in enc])
        mask = torch.tensor([[1] * len(e) + [0] * (width - len(e)) for e in enc])
        with torch.no_grad():
            lp = torch.log_softmax(model(input_ids=ids, attention_mask=mask).logits, -1)
        tok_lp = lp[:, :-1].gather(-1, ids[:, 1:, None])[..., 0] * mask[:, 1:]
        return tok_lp.sum(-1).numpy()

    texts = [s for _c, t, f in pairs for s in (t, f)]
    both = np.concatenate([logps(texts[i : i + 16]) for i in range(0, len(texts), 16)])
    ref = both[0::2] - both[1::2]
    ref_share = float((ref > 0).mean())
    print(f"share margin>0: beliefs {share:.3f}, plain transformers {ref_share:.3f}")
    assert abs(share - ref_share) <= 0.03
    assert 0.8 <= share <= 0.97
    np.testing.assert_allclose(ours["margin"].to_numpy(), ref, atol=2e-3)


def test_smollm2_cached_load_is_fast_and_conditions_work(tmp_path):
    from beliefs.models import load_model, pull

    pull("smollm2-135m")
    t0 = time.perf_counter()
    lm = load_model("smollm2-135m")
    assert time.perf_counter() - t0 <= 2.5
    assert (lm.n_layers, lm.width) == (31, 576)
    facts = [
        (
            "core",
            Fact(
                id="earth",
                domain="physical",
                kind="hinge",
                statement="I am currently on Earth.",
                false_statement="I am currently on the Moon.",
                contexts=Contexts(support="I woke up in my bed in Paris this morning."),
            ),
        )
    ]
    conds = [
        *EMPTY,
        Condition(name="log", prefix="Spacecraft log, day 12."),
        Condition(name="s", context="support"),
    ]
    run = probe("smollm2-135m", facts, conds, tmp_path / "r", control="random-init")
    assert [m.name for m in run.models()] == ["smollm2-135m", "smollm2-135m@random-init"]
    assert run.states("smollm2-135m", "s", "true").shape == (1, 31, 576)
    assert run.manifest["models"]["smollm2-135m"]["start_token"]["text"] == "<|endoftext|>"
    assert run.manifest["models"]["smollm2-135m"]["identity"]["sha256"].startswith("b179c952")
    assert len(run.margins()) == 6


def test_minilm_states_match_sentence_transformers(tmp_path):
    import torch
    from sentence_transformers import SentenceTransformer

    from beliefs.models import EMBEDDED

    statements = ["Canberra is the capital of Australia.", "Copper conducts electricity.", "7 × 8 = 56."]
    facts = [
        (
            "core",
            Fact(id=f"f{i}", domain="physical", kind="contingent", statement=s, false_statement=s + " No."),
        )
        for i, s in enumerate(statements)
    ]
    run = probe("minilm-l6", facts, EMPTY, tmp_path / "r")
    assert run.models()[0].backend == "st" and run.models()[0].n_layers == 7
    assert run.margins().empty
    mean = run.states("minilm-l6", "empty", "true", "mean")
    st = SentenceTransformer(str(EMBEDDED["minilm-l6"].locate()), device="cpu", local_files_only=True)
    for i, s in enumerate(statements):
        tokens = st.encode(s, output_value="token_embeddings", convert_to_tensor=True)
        expected = tokens[1:-1].mean(0)  # without [CLS] and [SEP]
        assert torch.allclose(torch.from_numpy(mean[i, -1]), expected, atol=1e-4)
