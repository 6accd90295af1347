import pytest

from beliefs.errors import ModelError, UsageError
from beliefs.models import EMBEDDED, LoadOptions, list_models, load_model, resolve
from beliefs.models.embedded import register_embedded
from beliefs.models.registry import BACKENDS, register_backend


def test_backends_registered():
    assert {"hf", "st", "fake"} <= set(BACKENDS)
    assert {"smollm2-135m", "minilm-l6", "gemma3-270m"} <= set(EMBEDDED)


def test_duplicate_backend_raises():
    with pytest.raises(ValueError, match="already registered"):

        @register_backend("hf")
        class Again:
            name = "hf"


def test_duplicate_embedded_raises():
    with pytest.raises(ValueError, match="already registered"):
        register_embedded(EMBEDDED["minilm-l6"])


def test_resolve():
    assert resolve("smollm2-135m") == ("smollm2-135m", "hf", "smollm2-135m")
    assert resolve("fake:llama") == ("llama", "fake", "llama")
    assert resolve("gpt2")[1] == "hf"
    with pytest.raises(ModelError, match="not found"):
        resolve("/nowhere/model.gguf")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dtype": "float8"}, "dtype"),
        ({"device": "tpu"}, "device"),
        ({"control": "shuffled"}, "control"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**32}, "seed"),
    ],
)
def test_load_options_validated(kwargs, match):
    with pytest.raises(UsageError, match=match):  # a usage error: exit 2 at the command line
        LoadOptions(**kwargs)


def test_list_models_says_how_to_get():
    rows = {r.name: r for r in list_models()}
    assert rows["smollm2-135m"].n_layers == 31 and rows["smollm2-135m"].width == 576
    assert rows["minilm-l6"].backend == "st"
    for r in rows.values():
        assert r.status


def test_fake_models_load_and_control_differs():
    import torch

    base = load_model("fake:llama")
    ctrl = load_model("fake:llama", LoadOptions(control="random-init"))
    again = load_model("fake:llama", LoadOptions(control="random-init"))
    assert ctrl.name == "llama@random-init" and ctrl.base == "llama" and ctrl.control == "random-init"
    assert base.identity != ctrl.identity
    w = [dict(m.module.named_parameters())["model.embed_tokens.weight"] for m in (base, ctrl, again)]
    assert not torch.equal(w[0], w[1])
    assert torch.equal(w[1], w[2])


def test_unknown_hub_model_is_a_model_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError):
        load_model("/nowhere/at/all-model")


def test_import_is_light():
    import subprocess
    import sys

    code = "import sys, beliefs.models, beliefs.extract, beliefs.store; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
