"""Shared fixtures and paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
EXTERNAL = SHARED / "external"


@pytest.fixture
def external() -> Path:
    """The real true/false datasets in ../shared/external, or skip."""
    if not EXTERNAL.is_dir():
        pytest.skip(f"{EXTERNAL} is absent: the real-data tests need the team's shared/external folder")
    return EXTERNAL


class ChunkSite:
    """A site-packages folder of fake chunk distributions (real dist-info folders found through
    ``importlib.metadata``, as installed chunk packages are)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def dist(self, name: str, version: str, files: dict[str, bytes]) -> None:
        """Install the distribution ``name`` with ``files`` (paths relative to site-packages)."""
        info = self.folder / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        record = [f"{f},," for f in files] + [f"{info.name}/METADATA,,", f"{info.name}/RECORD,,"]
        (info / "RECORD").write_text("\n".join(record) + "\n")
        for f, data in files.items():
            (self.folder / f).parent.mkdir(parents=True, exist_ok=True)
            (self.folder / f).write_bytes(data)

    def install(self, data: bytes, n: int = 3, stem: str = "fakechunk", version: str = "0.9.0") -> Any:
        """``data`` split over ``n`` packages, importable ones (``pkg/data/partNN.bin``) and, for the last,
        a folder that is not a Python package, as the real chunk packages have; its ChunkedFile."""
        import hashlib

        from beliefs.models.chunks import Chunk, ChunkedFile

        step = -(-len(data) // n)
        chunks = []
        for i, start in enumerate(range(0, len(data), step), start=1):
            rel = (
                f"{stem}_part{i}/data/part{i:02d}.bin"
                if i < n
                else f"{stem}-part_{i:03d}/input/whole.{i:03d}"
            )
            self.dist(f"{stem}-part{i}", version, {rel: data[start : start + step]})
            chunks.append(Chunk(f"{stem}-part{i}", version, rel if i < n else f"*/input/whole.{i:03d}"))
        return ChunkedFile("whole.bin", tuple(chunks), hashlib.sha256(data).hexdigest(), len(data))


@pytest.fixture
def chunk_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ChunkSite:
    """A fresh site-packages folder on ``sys.path`` for fake chunk packages, and a private beliefs cache."""
    import importlib

    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("BELIEFS_HOME", str(tmp_path / "home"))
    importlib.invalidate_caches()
    return ChunkSite(folder)
