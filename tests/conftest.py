"""Shared fixtures and paths."""

from __future__ import annotations

from pathlib import Path

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
