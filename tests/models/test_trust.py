"""No code from a model folder runs without --trust-remote-code, and nothing asks [y/N] on stdin."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from beliefs.errors import ModelError


def custom_code_folder(tmp_path: Path) -> tuple[Path, Path]:
    folder, marker = tmp_path / "evil", tmp_path / "ran"
    folder.mkdir()
    (folder / "tok.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\nclass MyTok: pass\n")
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "MyTok", "auto_map": {"AutoTokenizer": ["tok.MyTok", None]}})
    )
    (folder / "config.json").write_text(
        json.dumps(
            {
                "model_type": "custom",
                "auto_map": {"AutoConfig": "tok.MyTok", "AutoModelForCausalLM": "tok.MyTok"},
            }
        )
    )
    return folder, marker


def test_facts_stats_tokenizer_does_not_run_folder_code(tmp_path, monkeypatch):
    from beliefs.facts.tokens import load_tokenizer

    folder, marker = custom_code_folder(tmp_path)
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO("y\n"))
    with pytest.raises(ModelError, match="cannot load a tokenizer"):
        load_tokenizer(str(folder))
    assert not marker.exists()


def test_probe_model_does_not_run_folder_code(tmp_path, monkeypatch):
    from beliefs.models import LoadOptions, load_model

    folder, marker = custom_code_folder(tmp_path)
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO("y\n"))
    with pytest.raises(ModelError):
        load_model(str(folder), LoadOptions(device="cpu"))
    assert not marker.exists()


def test_every_load_passes_trust_remote_code():
    """Static check: every from_pretrained / from_config / SentenceTransformer call says trust_remote_code."""
    import re

    package = Path(__file__).resolve().parents[2] / "beliefs"
    offenders = []
    for source in package.rglob("*.py"):
        text = source.read_text()
        for match in re.finditer(r"(from_pretrained|from_config|SentenceTransformer)\(", text):
            depth, i = 1, match.end()
            while depth and i < len(text):
                depth += {"(": 1, ")": -1}.get(text[i], 0)
                i += 1
            if "trust_remote_code" not in text[match.end() : i] and "**kwargs" not in text[match.end() : i]:
                offenders.append(f"{source.name}: {text[match.start() : i][:60]}")
    assert offenders == []
