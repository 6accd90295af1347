"""GGUF files de-quantized once into a cached folder (safetensors + config + tokenizer) that the ``hf``
backend loads like any other."""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from beliefs.errors import ModelError
from beliefs.fileio import atomic_write_text, file_lock
from beliefs.models.cache import models_dir, sha256_file

PREPARED_FILE = "beliefs-model.json"
"""Written last in a prepared model folder: its presence means the folder is whole."""
PREPARED_FORMAT = 1

Progress = Callable[[str], None]


def prepared_dir(sha256: str) -> Path:
    return models_dir() / f"gguf-{sha256[:16]}"


def read_prepared(folder: Path) -> dict[str, Any] | None:
    """The record of a prepared folder, or None if it is absent or half-written."""
    try:
        record = json.loads((folder / PREPARED_FILE).read_text())
    except (OSError, ValueError):
        return None
    return record if record.get("format") == PREPARED_FORMAT else None


def prepare_gguf(
    path: Path, expected_sha256: str | None = None, progress: Progress | None = None
) -> tuple[Path, str]:
    """De-quantize a ``.gguf`` file once and cache it as safetensors + config + tokenizer.

    Returns the prepared folder and the file's sha256. The folder is built beside its final place and
    renamed into it, under a lock, so a killed pull leaves nothing that looks whole.
    """
    if not path.is_file():
        raise ModelError(f"{path}: GGUF file not found")
    say = progress or (lambda _msg: None)
    say(f"hashing {path.name}")
    sha = sha256_file(path)
    if expected_sha256 is not None and sha != expected_sha256:
        raise ModelError(f"{path}: sha256 should be {expected_sha256}, but got {sha}; reinstall the package")
    folder = prepared_dir(sha)
    if read_prepared(folder) is not None:
        return folder, sha
    with file_lock(models_dir() / f".lock-{sha[:16]}"):
        if read_prepared(folder) is not None:
            return folder, sha
        tmp = folder.with_name(folder.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        say(f"de-quantizing {path.name} (once; about 30 s)")
        t0 = time.perf_counter()
        try:
            model, tokenizer = _dequantize(path)
            say("saving as safetensors")
            model.save_pretrained(tmp, safe_serialization=True)
            tokenizer.save_pretrained(tmp)
        except ModelError:
            raise
        except Exception as exc:  # transformers/gguf raise many kinds
            shutil.rmtree(tmp, ignore_errors=True)
            raise ModelError(f"{path}: could not de-quantize the GGUF file: {exc}") from exc
        record = {
            "format": PREPARED_FORMAT,
            "source": str(path),
            "sha256": sha,
            "seconds": round(time.perf_counter() - t0, 1),
        }
        atomic_write_text(tmp / PREPARED_FILE, json.dumps(record, indent=2))
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    return folder, sha


def _dequantize(path: Path) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name, trust_remote_code=False)
    model = AutoModelForCausalLM.from_pretrained(
        str(path.parent), gguf_file=path.name, dtype=torch.float32, trust_remote_code=False
    )
    # The weights are now plain float32; drop the GGUF marks so that transformers saves them.
    model.hf_quantizer = None  # type: ignore[assignment]
    with contextlib.suppress(AttributeError):
        del model.config.quantization_config
    for attr, value in (("is_quantized", False), ("quantization_method", None)):
        with contextlib.suppress(AttributeError):
            setattr(model, attr, value)
    return model, tokenizer
