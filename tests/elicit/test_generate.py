import pytest

from beliefs.elicit import GenerationSettings
from beliefs.elicit.generate import SAMPLES_FILE, generate_samples, prompt_ids, read_samples
from beliefs.errors import ModelError, UsageError
from beliefs.inputs.prompts import SEPARATOR, resolve_start_token
from beliefs.models import load_model
from beliefs.schema import Condition

EMPTY = Condition(name="empty", prefix="")
CITY = Condition(name="city", prefix="The city of Paris is in France.")


@pytest.fixture(scope="module")
def model():
    return load_model("fake:llama")


def texts(records):
    return [(r["condition"], r["sample"], r["text"]) for r in records]


def test_prompts_start_token_then_prefix(model):
    start = resolve_start_token(model.tokenizer)
    assert start.text == "<|endoftext|>"
    assert prompt_ids(model, start, EMPTY) == list(start.ids)
    ids = prompt_ids(model, start, CITY)
    assert ids[: len(start.ids)] == list(start.ids)
    assert model.tokenizer.decode(ids[len(start.ids) :]) == CITY.prefix + SEPARATOR
    with pytest.raises(UsageError, match="per-fact contexts"):
        prompt_ids(model, start, Condition(name="support", context="support"))


def test_reproducible_and_batched_equals_unbatched(tmp_path, model):
    settings = GenerationSettings(max_new_tokens=10, seed=3)
    a = generate_samples(model, [EMPTY, CITY], tmp_path / "a", 5, settings, batch_size=5)
    b = generate_samples(model, [EMPTY, CITY], tmp_path / "b", 5, settings, batch_size=2)
    assert texts(a) == texts(b)
    assert len({r["text"] for r in a}) > 5
    c = generate_samples(model, [EMPTY], tmp_path / "c", 5, GenerationSettings(max_new_tokens=10, seed=4))
    assert [r["text"] for r in c] != [r["text"] for r in a[:5]]
    assert all(0 <= r["n_tokens"] <= 10 for r in a)


def test_resume_reuses_and_extends(tmp_path, model):
    settings = GenerationSettings(max_new_tokens=8, seed=0)
    first = generate_samples(model, [EMPTY], tmp_path, 3, settings)
    stored = (tmp_path / SAMPLES_FILE).read_text()
    calls = []

    class Hook:
        def message(self, text):
            pass

        def start(self, condition, total, done):
            calls.append((condition, total, done))

        def advance(self, samples, tokens):
            calls.append(samples)

    again = generate_samples(model, [EMPTY], tmp_path, 3, settings, progress=Hook())
    assert texts(again) == texts(first) and calls == [("empty", 3, 3)]
    assert (tmp_path / SAMPLES_FILE).read_text() == stored
    more = generate_samples(model, [EMPTY], tmp_path, 5, settings, progress=Hook())
    assert texts(more)[:3] == texts(first)
    assert calls[-2:] == [("empty", 5, 3), 2]
    fresh = generate_samples(model, [EMPTY], tmp_path / "fresh", 5, settings)
    assert texts(fresh) == texts(more)
    # other settings: stale samples of the condition are replaced, not mixed in
    other = generate_samples(model, [EMPTY], tmp_path, 2, GenerationSettings(max_new_tokens=8, seed=9))
    assert len(read_samples(tmp_path / SAMPLES_FILE)) == 2
    assert texts(other) != texts(first)[:2]


def test_greedy_samples_are_identical(tmp_path, model):
    out = generate_samples(model, [CITY], tmp_path, 3, GenerationSettings(max_new_tokens=6, temperature=0))
    assert len({r["text"] for r in out}) == 1


def test_bad_arguments(tmp_path, model):
    with pytest.raises(UsageError):
        GenerationSettings(max_new_tokens=0)
    with pytest.raises(UsageError):
        GenerationSettings(temperature=-1)
    with pytest.raises(UsageError):
        generate_samples(model, [EMPTY], tmp_path, 0, GenerationSettings())
    with pytest.raises(ModelError, match="not a causal LM"):
        generate_samples(load_model("fake:bert"), [EMPTY], tmp_path, 1, GenerationSettings())
    with pytest.raises(ModelError, match="positions"):
        generate_samples(model, [EMPTY], tmp_path, 1, GenerationSettings(max_new_tokens=600))


def test_corrupt_samples_file_is_a_message(tmp_path, model):
    (tmp_path / SAMPLES_FILE).write_text("{not json\n")
    with pytest.raises(UsageError, match=r"samples\.jsonl:1"):
        generate_samples(model, [EMPTY], tmp_path, 1, GenerationSettings(max_new_tokens=2))
