"""Numbers as the report prints them: three significant figures, and p-values that say when they are the
floor of a permutation test rather than an exact value."""

from __future__ import annotations

import math
from typing import Any

MISSING = "–"


def finite(value: Any) -> float | None:
    """``value`` as a float where it is a finite number, else None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def num(value: Any) -> str:
    """Three significant figures (``0.616``, ``0.0117``, ``38.2``, ``1,204``); ``–`` where missing."""
    x = finite(value)
    if x is None:
        return MISSING if value is None or isinstance(value, float) else str(value)
    if x == 0:
        return "0"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) < 1e-4:
        return f"{x:.2e}"
    text = f"{x:#.3g}"
    return text.rstrip(".")


def interval(low: Any, high: Any) -> str:
    """``[low, high]``, or ``–`` where the interval is missing."""
    if finite(low) is None and finite(high) is None:
        return MISSING
    lo, hi = finite(low), finite(high)
    if lo is not None and hi is not None:
        big = max(abs(lo), abs(hi))
        if 1e-4 <= big < 1000 and min(abs(lo), abs(hi)) < 1e-4:
            # an endpoint near zero is printed at the other's precision, not in e-notation
            shown = num(big)
            decimals = len(shown.split(".")[1]) if "." in shown else 0
            return f"[{lo:.{decimals}f}, {hi:.{decimals}f}]"
    return f"[{num(low)}, {num(high)}]"


def p_floor(permutations: Any) -> float | None:
    """The smallest p a permutation test with ``permutations`` draws can give (observed counted)."""
    b = finite(permutations)
    return 1.0 / (b + 1.0) if b else None


def pval(value: Any, permutations: Any = None) -> str:
    """A p-value: ``≤ 1/(B+1)`` at the floor of B permutations, ``< 0.001`` below that, else three decimals."""
    p = finite(value)
    if p is None:
        return MISSING
    floor = p_floor(permutations)
    if floor is not None and p <= floor * (1 + 1e-9):
        return f"≤ 1/{round(1 / floor):,}"
    if p < 0.001:
        return "< 0.001"
    return f"{p:.3f}"
