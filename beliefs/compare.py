"""Compare two results folders: every table figure and headline within a tolerance, and every verdict.

Reruns on one machine give byte-identical tables (see docs/formats.md, Safety and integrity); on another machine or with other
library versions floating-point sums can round differently, so figures are compared within a tolerance
(``|a − b| ≤ atol + rtol·|b|``), and what matters most is listed on its own: verdicts that change.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from beliefs.errors import UsageError
from beliefs.results.verdict import verdict_word

ATOL = 1e-3
"""Default absolute tolerance: above the largest difference measured between two machines of one kind
(5.7e-4, a permutation p-value, whose resolution is 1/(permutations + 1) = 5e-4 at 2,000)."""
RTOL = 1e-3
KEY_COLUMNS = ("analysis", "model", "control", "condition", "subset", "layer", "pooling", "statistic")
HEADLINE_KEY = ("analysis", "model", "condition", "statistic", "subset")


@dataclass(frozen=True)
class Difference:
    """One figure that differs beyond the tolerance (or is present on one side only)."""

    where: str
    column: str
    a: Any
    b: Any

    @property
    def delta(self) -> float:
        try:
            return abs(float(self.a) - float(self.b))
        except (TypeError, ValueError):
            return math.inf

    def __str__(self) -> str:
        return f"{self.where} {self.column}: {self.a} vs {self.b}"


@dataclass
class Comparison:
    """What :func:`compare_results` found."""

    atol: float
    rtol: float
    n_figures: int = 0
    tables: list[str] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    verdicts: list[str] = field(default_factory=list)
    """One line per headline whose verdict differs."""
    missing: list[str] = field(default_factory=list)
    """Tables, rows or headlines present in one folder only."""
    max_abs: float = 0.0

    @property
    def agrees(self) -> bool:
        return not self.differences and not self.verdicts and not self.missing


def results_folder(path: Path) -> Path:
    """The folder holding the tables: a study's ``tables/``, analyze's ``RUN/results``, or ``path``."""
    for candidate in (path / "tables", path / "results", path):
        if (candidate / "summary.json").is_file():
            return candidate
    raise UsageError(f"{path}: no summary.json (give a results folder, a study's results, or a run)")


def _close(a: float, b: float, atol: float, rtol: float) -> bool:
    if math.isnan(a) and math.isnan(b):
        return True
    return abs(a - b) <= atol + rtol * abs(b)


def _keyed(table: pd.DataFrame) -> pd.DataFrame:
    keys = [c for c in table.columns if c in KEY_COLUMNS or table[c].dtype == object]
    table = table.copy()
    table[keys] = table[keys].astype(str)
    table["_occurrence"] = table.groupby(keys, dropna=False).cumcount()
    return table.set_index([*keys, "_occurrence"])


def _compare_values(where: str, column: str, a: Any, b: Any, result: Comparison) -> None:
    result.n_figures += 1
    na, nb = (
        a is None or (isinstance(a, float) and math.isnan(a)),
        b is None or (isinstance(b, float) and math.isnan(b)),
    )
    if na and nb:
        return
    if na != nb:
        result.differences.append(Difference(where, column, a, b))
        return
    if isinstance(a, bool | str) or isinstance(b, bool | str):
        if a != b:
            result.differences.append(Difference(where, column, a, b))
        return
    fa, fb = float(a), float(b)
    result.max_abs = max(result.max_abs, abs(fa - fb))
    if not _close(fa, fb, result.atol, result.rtol):
        result.differences.append(Difference(where, column, a, b))


def _compare_table(name: str, a: pd.DataFrame, b: pd.DataFrame, result: Comparison) -> None:
    ka, kb = _keyed(a), _keyed(b)
    if list(ka.index.names) != list(kb.index.names):
        result.missing.append(f"{name}: the tables have different key columns")
        return
    for key in ka.index.difference(kb.index)[:5]:
        result.missing.append(f"{name}: row {'/'.join(map(str, key[:-1]))} only in A")
    for key in kb.index.difference(ka.index)[:5]:
        result.missing.append(f"{name}: row {'/'.join(map(str, key[:-1]))} only in B")
    common = ka.index.intersection(kb.index)
    columns = [c for c in ka.columns if c in kb.columns]
    va, vb = ka.loc[common, columns], kb.loc[common, columns]
    for column in columns:
        x = pd.to_numeric(va[column], errors="coerce").to_numpy(dtype=float)
        y = pd.to_numeric(vb[column], errors="coerce").to_numpy(dtype=float)
        for i, (p, q) in enumerate(zip(x, y, strict=True)):
            where = f"{name}[{'/'.join(str(k) for k in common[i][:-1] if k not in ('', 'nan'))}]"
            _compare_values(where, column, p, q, result)


def _compare_headlines(a: list[dict[str, Any]], b: list[dict[str, Any]], result: Comparison) -> None:
    def index(rows: list[dict[str, Any]]) -> dict[tuple[Any, ...], dict[str, Any]]:
        return {tuple(h.get(k) for k in HEADLINE_KEY): h for h in rows}

    ia, ib = index(a), index(b)
    for key in sorted(set(ia) ^ set(ib), key=str)[:10]:
        side = "A" if key in ia else "B"
        result.missing.append(f"headline {'/'.join(str(k) for k in key if k)} only in {side}")
    for key in [k for k in ia if k in ib]:
        ha, hb = ia[key], ib[key]
        where = "headline " + "/".join(str(k) for k in key if k)
        for column in sorted(set(ha) & set(hb)):
            if column in HEADLINE_KEY or column == "verdict":
                continue
            x, y = ha[column], hb[column]
            numbers = all(isinstance(v, int | float | type(None)) and not isinstance(v, bool) for v in (x, y))
            if numbers:
                _compare_values(where, column, x, y, result)
        va, vb = verdict_word(ha), verdict_word(hb)
        if va != vb:
            result.verdicts.append(f"{where}: {va} → {vb} (p = {ha.get('p_value')} vs {hb.get('p_value')})")


def compare_results(a: Path, b: Path, atol: float = ATOL, rtol: float = RTOL) -> Comparison:
    """Compare the result tables and headlines of two results folders (or runs, or studies' results)."""
    if atol < 0 or rtol < 0:
        raise UsageError(f"tolerances should be at least 0, but got atol={atol}, rtol={rtol}")
    fa, fb = results_folder(Path(a)), results_folder(Path(b))
    result = Comparison(atol, rtol)
    names_a = {p.stem for p in fa.glob("*.csv")}
    names_b = {p.stem for p in fb.glob("*.csv")}
    for name in sorted(names_a ^ names_b):
        result.missing.append(f"table {name}.csv only in {'A' if name in names_a else 'B'}")
    for name in sorted(names_a & names_b):
        try:
            ta, tb = pd.read_csv(fa / f"{name}.csv"), pd.read_csv(fb / f"{name}.csv")
        except (OSError, ValueError) as exc:
            raise UsageError(f"{name}.csv: unreadable table: {exc}") from None
        result.tables.append(name)
        _compare_table(name, ta, tb, result)
    try:
        sa = json.loads((fa / "summary.json").read_text(encoding="utf-8"))
        sb = json.loads((fb / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"unreadable summary.json: {exc}") from None
    _compare_headlines(sa.get("headlines", []), sb.get("headlines", []), result)
    return result
