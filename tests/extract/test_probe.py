"""``probe`` on a store that already holds what it plans: weights load only when something is left."""

import json

import pytest
from safetensors import safe_open

import beliefs.models as models
from beliefs.extract import probe
from beliefs.schema import Condition, Fact

FACTS = [
    (
        "core",
        Fact(
            id=f"f{i}",
            domain="physical" if i % 2 else "logical",
            kind="hinge" if i % 3 else "contingent",
            statement=f"The city {i} is in France.",
            false_statement=f"The city {i} is on the Moon.",
        ),
    )
    for i in range(6)
]
CONDITIONS = [
    Condition(name="empty", prefix=""),
    Condition(name="encyclopedia", prefix="From the encyclopedia:"),
]


@pytest.fixture
def loads(monkeypatch):
    """``(model name, weights)`` of every load_model call."""
    seen: list[tuple[str, bool]] = []
    real = models.load_model

    def counting(spec, options=None, progress=None):
        loaded = real(spec, options, progress)
        seen.append((loaded.name, loaded.module is not None))
        return loaded

    monkeypatch.setattr(models, "load_model", counting)
    return seen


def _files(run_dir):
    """Each entry file's metadata and tensors (safetensors does not fix the order of its metadata)."""
    out = {}
    for path in sorted((run_dir / "entries").iterdir()):
        with safe_open(str(path), framework="np") as f:
            out[path.name] = (f.metadata(), {k: f.get_tensor(k).tobytes() for k in f.keys()})  # noqa: SIM118
    return out


def _models(run_dir):
    return json.loads((run_dir / "manifest.json").read_text())["models"]


def test_complete_store_loads_no_weights_and_keeps_its_record(tmp_path, loads):
    out = tmp_path / "run"
    probe("fake:llama", FACTS, CONDITIONS, out, control="random-init", batch_size=3)
    assert loads == [
        ("llama", False),
        ("llama", True),
        ("llama@random-init", False),
        ("llama@random-init", True),
    ]
    before, files, margins = _models(out), _files(out), (out / "margins.csv").read_bytes()
    loads.clear()
    # another batch size (recorded in the model's extraction settings): nothing to compute, so the record
    # of how the stored entries were computed stays
    probe("fake:llama", FACTS, CONDITIONS, out, control="random-init", batch_size=5)
    assert loads == [("llama", False), ("llama@random-init", False)]
    assert _models(out) == before and _files(out) == files and (out / "margins.csv").read_bytes() == margins
    assert before["llama"]["extraction"]["batch_size"] == 3 and before["llama"]["info"]["architecture"]


def test_a_missing_entry_loads_the_weights_and_is_recomputed(tmp_path, loads):
    out = tmp_path / "run"
    probe("fake:llama", FACTS, CONDITIONS, out, batch_size=3)
    files = _files(out)
    victim = sorted((out / "entries").iterdir())[0]
    victim.unlink()
    loads.clear()
    probe("fake:llama", FACTS, CONDITIONS, out, batch_size=3)
    assert loads == [("llama", False), ("llama", True)]
    assert _files(out) == files  # the same entries, bit for bit


def test_new_fact_or_other_layers_load_the_weights(tmp_path, loads):
    out = tmp_path / "run"
    probe("fake:llama", FACTS[:4], CONDITIONS, out, batch_size=3)
    loads.clear()
    probe("fake:llama", FACTS, CONDITIONS, out, batch_size=3)  # two facts more
    assert loads == [("llama", False), ("llama", True)]
    loads.clear()
    run = probe("fake:llama", FACTS, CONDITIONS, out, batch_size=3, layers=[0, -1])  # another model key
    assert loads == [("llama", False), ("llama", True)]
    assert run.manifest["models"]["llama"]["layers"] == [0, 3] and run.missing() == 0
