"""Run the CLI's entry point in-process and read its exit code and output (a plain module the CLI tests
import by name)."""

from __future__ import annotations

import sys

import pytest

from beliefs.cli import main


def run_main(args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["beliefs", *args])
    monkeypatch.setenv("COLUMNS", "400")
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else (0 if code is None else 1)), captured.out + captured.err
