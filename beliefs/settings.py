"""Every ``BELIEFS_`` environment variable in one place: its type, range, default and effect.

Each command reads the settings the same way (:func:`settings`), and a value out of its type or range is a
:class:`~beliefs.errors.UsageError` that names the variable, what was expected and what came.
:func:`markdown_table` renders the variables as a table for the documentation.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from beliefs.errors import UsageError

PREFIX = "BELIEFS_"
MAX_THREADS = 256
"""Ceiling on ``BELIEFS_THREADS``: beyond a few hundred, thread pools fail to start (tokenizers cannot map
a stack segment per thread) long before any speed-up."""
MAX_PROCESSES = 64
"""Ceiling on ``BELIEFS_ANALYZE_PROCESSES``: each process holds its own copy of the states it reads."""
Backend = Literal["local", "loky", "dask", "ray"]
BACKENDS: tuple[str, ...] = get_args(Backend)
"""Engines ``beliefs analyze`` can run its tasks on (``BELIEFS_ANALYZE_BACKEND``)."""
MAX_CACHE_GB = 1024.0
"""Ceiling on ``BELIEFS_ANALYZE_CACHE_GB`` (a terabyte; a larger figure is a typo)."""


class Settings(BaseModel):
    """The ``BELIEFS_`` environment variables, validated. Unset variables take their defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    home: Path | None = Field(
        default=None,
        description="Where prepared models and file-hash memos are cached (default `~/.cache/beliefs`).",
    )
    debug: bool = Field(
        default=False,
        description="Show the traceback of an internal error (exit 3) instead of one line.",
    )
    threads: int | None = Field(
        default=None,
        ge=1,
        le=MAX_THREADS,
        description="Intra-op threads of torch while probing, recorded in the run's manifest "
        "(default: torch's own choice).",
    )
    analyze_processes: int | None = Field(
        default=None,
        ge=1,
        le=MAX_PROCESSES,
        description="Worker processes of `beliefs analyze`; 1 keeps one copy of the states in memory "
        "(default: one per CPU, at most 2).",
    )
    analyze_cache_gb: float = Field(
        default=2.0,
        ge=0.0,
        le=MAX_CACHE_GB,
        description="Gigabytes of z-scored states (and their Gram matrices) each analysis process keeps "
        "in memory; 0 keeps only the one in use.",
    )

    analyze_backend: Backend = Field(
        default="local",
        description="Where `beliefs analyze` runs its (model, analysis) tasks: `local` forks "
        "`BELIEFS_ANALYZE_PROCESSES` processes; `loky`, `dask` and `ray` hand them to joblib's backend of "
        "that name (`dask`: the active `distributed` client, else one on `DASK_SCHEDULER_ADDRESS`, else a "
        "local cluster; `ray`: `ray.init()`, which reads `RAY_ADDRESS`). `dask` and `ray` need "
        "`pip install 'beliefs[cluster]'` (ray: `pip install ray`); workers must see the run's folder. "
        "Tables are identical on every backend.",
    )

    @field_validator("home", mode="before")
    @classmethod
    def _home(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("analyze_backend", mode="before")
    @classmethod
    def _backend(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("analyze_cache_gb")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("should be a finite number")
        return value

    @property
    def cache_bytes(self) -> int:
        """``analyze_cache_gb`` in bytes."""
        return int(self.analyze_cache_gb * 2**30)

    def processes(self) -> int:
        """Analysis workers: the variable, else one per CPU up to 2."""
        if self.analyze_processes is not None:
            return self.analyze_processes
        return min(2, os.cpu_count() or 1)


def env_name(field: str) -> str:
    """The environment variable of a setting: ``analyze_processes`` → ``BELIEFS_ANALYZE_PROCESSES``."""
    return PREFIX + field.upper()


def _expected(field: str) -> str:
    info = Settings.model_fields[field]
    kind = _type_name(field)
    low = high = None
    for meta in info.metadata:
        low = getattr(meta, "ge", low)
        high = getattr(meta, "le", high)
    if low is not None and high is not None:
        return f"{kind} from {_num(low)} to {_num(high)}"
    choices = get_args(info.annotation)
    if choices and all(isinstance(c, str) for c in choices):
        return "one of " + ", ".join(choices)
    return kind


def _num(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else f"{value:,}".replace(",", "")


def _type_name(field: str) -> str:
    return {
        "home": "a folder path",
        "debug": "a boolean (1/0, true/false, yes/no)",
        "threads": "a whole number",
        "analyze_processes": "a whole number",
        "analyze_cache_gb": "a number",
        "analyze_backend": "a backend name",
    }[field]


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings in ``environ`` (default: the process environment); a :class:`UsageError` naming each
    variable whose value is out of its type or range."""
    env = os.environ if environ is None else environ
    raw: dict[str, str] = {}
    for field in Settings.model_fields:
        value = env.get(env_name(field))
        if value is not None and (value.strip() or field == "home"):
            raw[field] = value.strip()
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else ""
            if field not in Settings.model_fields:
                continue
            problems.append(f"{env_name(field)} should be {_expected(field)}, but got {raw.get(field)!r}")
        raise UsageError("; ".join(dict.fromkeys(problems)) or str(exc)) from None


_MEMO: dict[tuple[str | None, ...], Settings] = {}


def settings() -> Settings:
    """The settings of the current environment, read again whenever a variable has changed (a test or a
    notebook may set one between calls)."""
    key = tuple(os.environ.get(env_name(f)) for f in Settings.model_fields)
    found = _MEMO.get(key)
    if found is None:
        found = _MEMO[key] = load_settings()
    return found


def markdown_table() -> str:
    """The variables as a Markdown table (variable, type, default, effect) for a documentation page."""
    lines = ["| variable | type | default | effect |", "|---|---|---|---|"]
    defaults = {
        "home": "`~/.cache/beliefs`",
        "debug": "off",
        "threads": "torch's choice",
        "analyze_processes": "CPUs, at most 2",
    }
    for field, info in Settings.model_fields.items():
        default = defaults.get(field, f"`{info.default}`")
        effect = (info.description or "").replace("|", "\\|")
        lines.append(f"| `{env_name(field)}` | {_expected(field)} | {default} | {effect} |")
    return "\n".join(lines) + "\n"


__all__ = ["Settings", "env_name", "load_settings", "markdown_table", "settings"]
