"""Modules stay small enough to read: none in ``beliefs/`` passes :data:`MAX_LINES` lines."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "beliefs"
MAX_LINES = 600


def test_no_module_is_over_the_limit() -> None:
    too_long = {
        str(path.relative_to(PACKAGE.parent)): n
        for path in sorted(PACKAGE.rglob("*.py"))
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not too_long, f"modules over {MAX_LINES} lines (split them by concern): {too_long}"
