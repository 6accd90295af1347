"""The ``hf`` backend: any transformers causal LM (hub id, local folder, or ``.gguf`` file)."""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from beliefs.errors import ModelError
from beliefs.models.base import LoadedModel, LoadOptions, resolve_device, torch_dtype
from beliefs.models.cache import atomic_write_text, file_lock, models_dir, sha256_file
from beliefs.models.registry import register_backend

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


def _folder_identity(folder: Path) -> dict[str, Any]:
    record = read_prepared(folder)
    if record is not None:
        return {"sha256": record["sha256"]}
    weights = sorted(p for p in folder.iterdir() if p.suffix in (".safetensors", ".bin", ".json"))
    return {"files": {p.name: sha256_file(p) for p in weights if p.name != "tokenizer.json"}}


@register_backend("hf")
class HFBackend:
    """Transformers causal LMs: hidden states of every layer and log-probabilities."""

    name = "hf"

    def load(self, source: str, name: str, options: LoadOptions) -> LoadedModel:
        info: dict[str, Any] = {"source": source}
        path = Path(source).expanduser()
        if source.endswith(".gguf"):
            folder, sha = prepare_gguf(path)
            location, identity = str(folder), {"sha256": sha}
            info.update(file_sha256=sha, prepared=str(folder))
        elif path.is_dir():
            location, identity = str(path), _folder_identity(path)
        else:
            location, identity = source, {"hub_id": source}
        return load_causal(location, name, options, identity, info)


def load_causal(
    location: str, name: str, options: LoadOptions, identity: dict[str, Any], info: dict[str, Any]
) -> LoadedModel:
    """Load a causal LM and its tokenizer from a folder or hub id (no GGUF here)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    logging.getLogger("transformers").setLevel(logging.ERROR)
    device = resolve_device(options.device)
    dtype = torch_dtype(options.dtype)
    trc = options.trust_remote_code
    try:
        tokenizer = AutoTokenizer.from_pretrained(location, trust_remote_code=trc)
        if options.control == "random-init":
            config = AutoConfig.from_pretrained(location, trust_remote_code=trc)
            torch.manual_seed(options.seed)
            model = AutoModelForCausalLM.from_config(config, dtype=dtype, trust_remote_code=trc)
        else:
            kwargs: dict[str, Any] = {"dtype": dtype, "trust_remote_code": trc}
            if options.device_map:
                kwargs["device_map"] = options.device_map
            model = AutoModelForCausalLM.from_pretrained(location, **kwargs)
            revision = getattr(model.config, "_commit_hash", None)
            if revision and "hub_id" in identity:
                identity = {**identity, "revision": revision}
    except OSError as exc:
        raise ModelError(f"cannot load model '{location}': {exc}") from exc
    except (ValueError, KeyError, RuntimeError, ImportError) as exc:
        raise ModelError(f"cannot load model '{location}' as a causal LM: {exc}") from exc
    if not getattr(tokenizer, "is_fast", False):
        raise ModelError(
            f"model '{location}': beliefs needs a fast tokenizer (token offsets), got a slow one"
        )
    if not options.device_map:
        model.to(device)
    model.eval()
    config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    identity = {**identity, "dtype": options.dtype, "control": options.control}
    if options.control:
        identity["seed"] = options.seed
    return LoadedModel(
        name=name,
        backend="hf",
        module=model,
        tokenizer=tokenizer,
        n_layers=int(config.num_hidden_layers) + 1,
        width=int(config.hidden_size),
        identity=identity,
        device=str(next(model.parameters()).device),
        dtype=options.dtype,
        control=options.control,
        max_positions=getattr(config, "max_position_embeddings", None),
        info={**info, "architecture": type(model).__name__},
    )
