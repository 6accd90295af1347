"""The user cache (``BELIEFS_HOME`` or ``~/.cache/beliefs``) and file hashes remembered in it."""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

from beliefs.fileio import atomic_write_text


def beliefs_home() -> Path:
    """Where prepared models and hash memos live: ``$BELIEFS_HOME``, else ``~/.cache/beliefs``."""
    from beliefs.settings import settings

    home = settings().home
    return home.expanduser() if home is not None else Path.home() / ".cache" / "beliefs"


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
