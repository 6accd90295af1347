"""The docs keep up: every command has help text and appears in the README and in the generated CLI
reference; the generated pages are current; every ``BELIEFS_`` variable the code reads is documented."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import typer

from beliefs.cli import app

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = ROOT / "docs"


def _gen_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _commands(group: Any, prefix: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for name, cmd in group.commands.items():
        path = f"{prefix} {name}"
        out += _commands(cmd, path) if hasattr(cmd, "commands") else [(path, cmd)]
    return out


def test_every_command_has_help_and_is_in_the_readme() -> None:
    commands = _commands(typer.main.get_command(app), "beliefs")
    assert len(commands) >= 12
    cli_page = (DOCS / "cli.md").read_text(encoding="utf-8")
    for path, cmd in commands:
        assert (cmd.help or "").strip(), f"{path} has no help text"
        assert f"`{path}" in README, f"{path} is not in the README"
        assert f"`{path}`" in cli_page, f"{path} is not in docs/cli.md"
        for param in cmd.params:
            if param.name == "help":
                continue
            kind = getattr(param, "param_type_name", "")
            if kind in ("option", "argument"):
                assert (getattr(param, "help", None) or "").strip(), f"{path} {param.name} has no help text"


def test_generated_pages_are_current() -> None:
    stale = _gen_docs().stale(DOCS)
    assert not stale, f"stale generated pages {stale}: run python scripts/gen_docs.py and commit docs/"


def test_every_setting_the_code_reads_is_documented() -> None:
    page = (DOCS / "configuration.md").read_text(encoding="utf-8")
    names = {
        name
        for source in (ROOT / "beliefs").rglob("*.py")
        for name in re.findall(r"BELIEFS_[A-Z_]+[A-Z]", source.read_text(encoding="utf-8"))
    }
    assert {"BELIEFS_HOME", "BELIEFS_THREADS"} <= names
    missing = sorted(n for n in names if f"`{n}`" not in page)
    assert not missing, f"not in docs/configuration.md: {missing}"


def test_readme_stays_an_entry_point() -> None:
    lines = README.splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines; move detail to docs/"
    assert "make study" in README and "make test" in README
    assert "\n## Findings\n" in README


def test_readme_links_to_existing_pages() -> None:
    for target in re.findall(r"\]\((docs/[^)#]+)", README):
        assert (ROOT / target).is_file(), f"README links to {target}, which does not exist"
    for page in ("index.md", "cli.md", "formats.md", "statistics.md", "models.md", "configuration.md"):
        assert (DOCS / page).is_file()
