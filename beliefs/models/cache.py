"""The user cache (``BELIEFS_HOME`` or ``~/.cache/beliefs``), file hashes and a file lock."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path


def beliefs_home() -> Path:
    """Where prepared models and hash memos live: ``$BELIEFS_HOME``, else ``~/.cache/beliefs``."""
    env = os.environ.get("BELIEFS_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "beliefs"


def models_dir() -> Path:
    return beliefs_home() / "models"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """The sha256 of a file, remembered in the cache by (path, size, mtime) so a rehash is rare."""
    st = path.stat()
    memo_key = hashlib.sha256(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()
    memo = beliefs_home() / "hashes" / f"{memo_key}.json"
    with contextlib.suppress(OSError, ValueError, KeyError):
        return str(json.loads(memo.read_text())["sha256"])
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    digest = h.hexdigest()
    with contextlib.suppress(OSError):
        atomic_write_text(memo, json.dumps({"path": str(path), "sha256": digest}))
    return digest


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader sees the old file or the whole new one."""
    atomic_write_bytes(path, text.encode())


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{os.urandom(4).hex()}-{path.name}")
    try:
        with tmp.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock (``flock``) held for the ``with`` block; released if the process dies."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
