"""The ``hf`` backend: any transformers causal LM (hub id, local folder, or ``.gguf`` file)."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path
from typing import Any

from beliefs.errors import ModelError
from beliefs.models.base import LoadedModel, LoadOptions, resolve_device, torch_dtype
from beliefs.models.cache import sha256_file
from beliefs.models.gguf import prepare_gguf, read_prepared
from beliefs.models.registry import register_backend


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


_LAST_TOKENIZER: list[tuple[tuple[Any, ...], Any]] = []


def _tokenizer(location: str, trust_remote_code: bool) -> Any:
    """The tokenizer of ``location``; the last one loaded is kept and shared (a model and then its
    control load the same one, and Gemma's 33 MB ``tokenizer.json`` takes seconds to parse). A folder is
    known by its files' names, sizes and modification times, so an edited tokenizer is read again."""
    from transformers import AutoTokenizer

    path = Path(location).expanduser()
    files = (
        tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(path.iterdir()) if p.is_file())
        if path.is_dir()
        else None
    )
    key = (location, trust_remote_code, files)
    if _LAST_TOKENIZER and _LAST_TOKENIZER[0][0] == key:
        return _LAST_TOKENIZER[0][1]
    tokenizer = AutoTokenizer.from_pretrained(location, trust_remote_code=trust_remote_code)
    _LAST_TOKENIZER[:] = [(key, tokenizer)]
    return tokenizer


def _pickle_refusal(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what it wraps) is torch refusing a pickled checkpoint's payload."""
    while exc is not None:
        if isinstance(exc, pickle.UnpicklingError) or "weights_only" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def refused_pickle(location: str) -> ModelError:
    """The message for a pickled checkpoint whose payload torch refused to run: what happened and the safe
    way on (never how to switch the protection off)."""
    return ModelError(
        f"cannot load model '{location}': its weights are a pickle (pytorch_model.bin or .pt) holding more "
        "than tensors, and loading it could run code from the file, so it was refused. Use the model's "
        "safetensors weights (model.safetensors) instead; if you trust its origin, convert it to "
        "safetensors yourself first"
    )


def load_causal(
    location: str, name: str, options: LoadOptions, identity: dict[str, Any], info: dict[str, Any]
) -> LoadedModel:
    """Load a causal LM and its tokenizer from a folder or hub id (no GGUF here)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    logging.getLogger("transformers").setLevel(logging.ERROR)
    device = resolve_device(options.device)
    dtype = torch_dtype(options.dtype)
    trc = options.trust_remote_code
    model: Any = None
    try:
        tokenizer = _tokenizer(location, trc)
        if not options.weights and not options.device_map:
            config = AutoConfig.from_pretrained(location, trust_remote_code=trc)
            revision = getattr(config, "_commit_hash", None)
            if revision and "hub_id" in identity and options.control is None:
                identity = {**identity, "revision": revision}
        elif options.control == "random-init":
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
    except pickle.UnpicklingError as exc:
        raise refused_pickle(location) from exc
    except OSError as exc:
        if _pickle_refusal(exc):
            raise refused_pickle(location) from exc
        raise ModelError(f"cannot load model '{location}': {exc}") from exc
    except (ValueError, KeyError, RuntimeError, ImportError) as exc:
        if _pickle_refusal(exc):
            raise refused_pickle(location) from exc
        raise ModelError(f"cannot load model '{location}' as a causal LM: {exc}") from exc
    if not getattr(tokenizer, "is_fast", False):
        raise ModelError(
            f"model '{location}': beliefs needs a fast tokenizer (token offsets), got a slow one"
        )
    if model is not None:
        if not options.device_map:
            model.to(device)
        model.eval()
        config = model.config
        info = {**info, "architecture": type(model).__name__}
    config = config.get_text_config() if hasattr(config, "get_text_config") else config
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
        device=device if model is None else str(next(model.parameters()).device),
        dtype=options.dtype,
        control=options.control,
        max_positions=getattr(config, "max_position_embeddings", None),
        info=info,
    )
