"""Model loading failures are input errors that say what to do: a refused pickle recommends safetensors
(never switching the protection off), a missing folder is "no such folder", a typo of an embedded name
gets a suggestion before anything goes to the hub."""

from __future__ import annotations

import pickle

import pytest

from beliefs.errors import ModelError
from beliefs.models import resolve


@pytest.mark.parametrize(
    "spec", ["./no/such/folder", "no/such/folder", "~/no-such-model-here", "hf:./nowhere"]
)
def test_a_missing_local_folder(spec):
    with pytest.raises(ModelError, match="no such folder"):
        resolve(spec)


@pytest.mark.parametrize(("spec", "close"), [("smollm2-1b", "smollm2-135m"), ("minilm", "minilm-l6")])
def test_a_typo_of_an_embedded_name_is_suggested_before_the_hub(spec, close):
    with pytest.raises(ModelError, match=f"did you mean '{close}'"):
        resolve(spec)


def test_hub_ids_and_forced_names_pass():
    assert resolve("HuggingFaceTB/SmolLM2-135M")[1] == "hf"
    assert resolve("gpt2")[1] == "hf"
    assert resolve("hf:smollm2-1b") == ("smollm2-1b", "hf", "smollm2-1b")


def test_a_refused_pickle_says_so_and_recommends_safetensors(tmp_path, monkeypatch):
    import beliefs.models.hf as hf
    from beliefs.models import LoadOptions

    def refuse(*_a, **_k):
        raise pickle.UnpicklingError(
            "Weights only load failed. Re-running `torch.load` with `weights_only` set to `False` will likely "
            "succeed, but it can result in arbitrary code execution."
        )

    monkeypatch.setattr(hf, "_tokenizer", refuse)
    with pytest.raises(ModelError) as info:
        hf.load_causal(str(tmp_path), "m", LoadOptions(), {"path": str(tmp_path)}, {})
    message = str(info.value)
    assert "safetensors" in message and "refused" in message
    assert "weights_only" not in message and "False" not in message
    assert info.value.exit_code == 1
