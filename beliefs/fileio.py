"""File I/O of every stage: writes that are atomic and polite, and an advisory file lock.

A reader sees the old file or the new one, never half of one; new files get the user's umask (as
``open`` would give them), a replaced file keeps its mode, and a read-only file is never replaced."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import stat
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process umask (read by setting it and putting it back, under a lock)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def not_regular(path: str | Path) -> str | None:
    """Why ``path`` cannot be read as an input file (a FIFO, a device, a folder), or None if it can (or
    does not exist: the caller's open says so)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    return "is not a regular file (a pipe, socket or device); give a file"


def check_writable(path: Path) -> None:
    """Raise :class:`PermissionError` (naming ``path``) if it exists and is read-only: for us, or for
    everyone by its mode (root may write anything, but a file marked 0444 is meant to stay as it is)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if not os.access(path, os.W_OK) or not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise PermissionError(13, "the file is read-only; not replacing it", str(path))


def check_destination(
    out: str | Path, inputs: Iterable[str | Path], force: bool, option: str = "--out"
) -> None:
    """An output file may replace an existing one only with ``force``, never one of its own inputs (or a
    file inside an input folder), and never a read-only one (:func:`check_writable`). Raises
    :class:`~beliefs.errors.UsageError` naming ``option``."""
    from beliefs.errors import UsageError

    out = Path(out)
    if out.is_dir():
        raise UsageError(f"{option} {out} is a folder; give a file name")
    if not out.exists():
        return
    target = out.resolve()
    for given in map(Path, inputs):
        source = given.resolve()
        if target == source or source in target.parents or (given.exists() and os.path.samefile(out, given)):
            raise UsageError(f"{option} {out} is an input of this command; write to another file")
    if not force:
        raise UsageError(f"{out} exists; pass --force to replace it")
    check_writable(out)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``.

    The new file gets the mode of the file it replaces, else ``0o666`` less the umask; a read-only
    ``path`` is refused (:class:`PermissionError`) rather than silently replaced.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~current_umask()
    else:
        check_writable(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 text atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def safe_filename(name: str) -> str:
    """``name`` (a model name, which may be a path or hub id) as one file-name component: no ``/``,
    ``\\``, ``..`` or leading dot, only letters, digits, ``-``, ``_``, ``.``, ``@``, ``+``."""
    out = re.sub(r"[^A-Za-z0-9._@+-]+", "_", name)
    out = re.sub(r"\.{2,}", "_", out).strip("._") or "model"
    return out[:120]


def sources_sha256(*subpackages: str) -> str:
    """One sha256 of the source files ``beliefs/<subpackage>/**/*.py`` of the given subpackages (in path
    order): what a cached result made by that code must be recomputed after."""
    package = Path(__file__).resolve().parent
    code = hashlib.sha256()
    for source in sorted(p for sub in subpackages for p in package.glob(f"{sub}/**/*.py")):
        code.update(source.read_bytes())
    return code.hexdigest()


@contextlib.contextmanager
def file_lock(path: str | Path) -> Iterator[None]:
    """An exclusive advisory lock (``flock``) on ``path``, held for the ``with`` block and released if
    the process dies."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
