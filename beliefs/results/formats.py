"""The one number formatter of reports and terminal tables."""

from __future__ import annotations

import math
from typing import Any


def fmt_number(
    value: Any, spec: str = ".3f", *, missing: str = "–", small_spec: str | None = None, small: float = 1e-3
) -> str:
    """``value`` as text: ``missing`` for None or a non-finite number; a float with ``spec`` (with
    ``small_spec`` instead where ``0 < |value| < small``); anything else as ``str``."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return missing
    if not isinstance(value, float):
        return str(value)
    if small_spec is not None and 0 < abs(value) < small:
        return format(value, small_spec)
    return format(value, spec)


def fmt_p(value: Any) -> str:
    """A p-value: four decimals, in scientific notation below 0.0001."""
    return fmt_number(value, ".4f", small_spec=".1e", small=1e-4)
