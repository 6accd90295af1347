"""The docs keep up: every command has help text and appears in the README."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from beliefs.cli import app

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def _commands(group: Any, prefix: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for name, cmd in group.commands.items():
        path = f"{prefix} {name}"
        out += _commands(cmd, path) if hasattr(cmd, "commands") else [(path, cmd)]
    return out


def test_every_command_has_help_and_is_in_the_readme() -> None:
    commands = _commands(typer.main.get_command(app), "beliefs")
    assert len(commands) >= 12
    for path, cmd in commands:
        assert (cmd.help or "").strip(), f"{path} has no help text"
        assert f"`{path}" in README, f"{path} is not in the README"
        for param in cmd.params:
            if getattr(param, "param_type_name", "") == "option" and param.name != "help":
                assert (param.help or "").strip(), f"{path} {param.opts[0]} has no help text"
