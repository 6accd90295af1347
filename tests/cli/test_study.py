"""`beliefs study` on the embedded defaults."""

from __future__ import annotations

import os
from pathlib import Path

from typer.testing import CliRunner

from beliefs.cli import app

REPO = Path(__file__).parents[2]


def test_study_default_validates_and_summarises() -> None:
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        result = CliRunner().invoke(app, ["study"])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    assert "valid" in result.output and "hinge" in result.output
