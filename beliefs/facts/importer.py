"""Turn a true/false statement CSV (Geometry of Truth, Azaria & Mitchell…) into a fact set."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from beliefs.errors import InvalidInputError, Problem, UsageError
from beliefs.facts.loader import check_fact_set
from beliefs.facts.yamlio import parse_yaml_bytes, round_trip_yaml
from beliefs.fileio import atomic_write_text
from beliefs.schema import KINDS, SLUG_PATTERN

TRUE_LABELS = frozenset({"1", "true", "t", "yes", "y"})
FALSE_LABELS = frozenset({"0", "false", "f", "no", "n"})


@dataclass
class ImportReport:
    """What an import did: facts made and rows left out, with why."""

    n_rows: int = 0
    n_facts: int = 0
    unpaired: dict[str, int] = field(default_factory=dict)
    """Reason → number of rows that could not be paired."""
    out: Path | None = None

    def skip(self, reason: str, n: int = 1) -> None:
        self.unpaired[reason] = self.unpaired.get(reason, 0) + n


def slugify(text: str, max_words: int = 8) -> str:
    """A lower-case slug from ``text`` (at most ``max_words`` words)."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "-".join(words[:max_words]) or "fact"


def _label(value: str) -> bool | None:
    v = value.strip().lower()
    if v in TRUE_LABELS:
        return True
    if v in FALSE_LABELS:
        return False
    return None


def _rows(reader: csv.DictReader[str], path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows with their line numbers; a malformed row (a field over the csv module's limit of 128 KiB,
    a stray quote) is an input problem naming its line."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InvalidInputError([Problem(path, f"malformed CSV: {exc}", reader.line_num + 1)]) from None
        yield reader.line_num, row


def _short_hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:6]


def import_csv(
    csv_path: str | Path,
    *,
    name: str,
    domain: str,
    kind: str,
    out: str | Path,
    statement_col: str = "statement",
    label_col: str = "label",
    pair_by: list[str] | None = None,
    unordered: bool = False,
    limit: int | None = None,
    description: str | None = None,
    force: bool = False,
) -> ImportReport:
    """Pair one true and one false row per fact and write a fact set to ``out``.

    With ``pair_by``, rows are grouped by the values of those columns (``unordered`` sorts the values
    first, so that ``n1=51, n2=52`` and ``n1=52, n2=51`` are one fact) and, within a group, the i-th
    true row is paired with the i-th false row. Without it, adjacent rows with opposite labels are
    paired. Ids are derived from the key (or the true statement) and are stable across runs.

    An existing ``out`` is replaced only with ``force`` (never the CSV itself, never a read-only file).
    """
    csv_path, out = Path(csv_path), Path(out)
    if not re.match(SLUG_PATTERN, name):
        raise UsageError(f"--name {name!r} is not a lower-case slug (letters a-z, digits and single hyphens)")
    if kind not in KINDS:
        raise UsageError(f"--kind {kind!r}: expected hinge or contingent")
    if not re.match(SLUG_PATTERN, domain):
        raise UsageError(f"--domain {domain!r} is not a lower-case slug")
    from beliefs.fileio import check_destination, not_regular

    if out.exists() and csv_path.exists() and out.resolve() == csv_path.resolve():
        raise UsageError(f"--out {out} is the CSV being imported; write the fact set to another file")
    check_destination(out, [csv_path], force)
    why = not_regular(csv_path)
    if why is not None:
        raise UsageError(f"{csv_path} {why}")
    try:
        text = csv_path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UsageError(f"cannot read {csv_path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InvalidInputError([Problem(csv_path, "not valid UTF-8")]) from None
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        column = nul - (text.rfind("\n", 0, nul) + 1) + 1
        raise InvalidInputError([Problem(csv_path, "NUL character (byte 0) in the CSV", line, column)])
    reader = csv.DictReader(io.StringIO(text))
    columns = reader.fieldnames or []
    for col in [statement_col, label_col, *(pair_by or [])]:
        if col not in columns:
            raise InvalidInputError(
                [
                    Problem(
                        csv_path, f"no column '{col}' (columns: {', '.join(columns) or 'none'})", 1, field=col
                    )
                ]
            )
    report = ImportReport()
    unknown_labels: dict[str, int] = {}
    rows: list[tuple[int, str, bool]] = []
    keys: list[tuple[str, ...]] = []
    for line_no, row in _rows(reader, csv_path):
        report.n_rows += 1
        statement = (row.get(statement_col) or "").strip()
        label = _label(row.get(label_col) or "")
        if not statement:
            report.skip("empty statement")
            continue
        if label is None:
            value = (row.get(label_col) or "").strip()
            unknown_labels.setdefault(value, line_no)
            report.skip(f"label {value!r} not one of {', '.join(sorted(TRUE_LABELS | FALSE_LABELS))}")
            continue
        key = tuple((row.get(c) or "").strip() for c in pair_by or [])
        rows.append((line_no, statement, label))
        keys.append(tuple(sorted(key)) if unordered else key)

    pairs: list[tuple[tuple[str, ...], str, str, int]] = []
    if pair_by:
        groups: dict[tuple[str, ...], list[tuple[int, str, bool]]] = defaultdict(list)
        for key, entry in zip(keys, rows, strict=True):
            groups[key].append(entry)
        for key, group in groups.items():
            trues = [r for r in group if r[2]]
            falses = [r for r in group if not r[2]]
            for t, f in zip(trues, falses, strict=False):
                pairs.append((key, t[1], f[1], min(t[0], f[0])))
            extra = abs(len(trues) - len(falses))
            if extra:
                which, other = ("true", "false") if len(trues) > len(falses) else ("false", "true")
                if min(len(trues), len(falses)) == 0:
                    reason = f"no {other} row with the same {', '.join(pair_by)}"
                else:
                    reason = (
                        f"more {which} rows than {other} rows with the same {', '.join(pair_by)} "
                        f"(a duplicated {which} row?)"
                    )
                report.skip(reason, extra)
    else:
        i = 0
        while i < len(rows):
            if i + 1 < len(rows) and rows[i][2] != rows[i + 1][2]:
                t, f = (rows[i], rows[i + 1]) if rows[i][2] else (rows[i + 1], rows[i])
                pairs.append(((), t[1], f[1], rows[i][0]))
                i += 2
            else:
                report.skip("next row does not have the opposite label (use --pair-by)")
                i += 1
    pairs.sort(key=lambda p: p[3])

    facts = CommentedSeq()
    seen_ids: set[str] = set()
    seen_text: set[str] = set()
    for key, true_text, false_text, _ in pairs:
        if limit is not None and len(facts) >= limit:
            break
        norm_t, norm_f = true_text.casefold(), false_text.casefold()
        if norm_t == norm_f:
            report.skip("true and false statements are the same", 2)
            continue
        if norm_t in seen_text or norm_f in seen_text:
            report.skip("statement already used by another fact", 2)
            continue
        base = (
            slugify(" ".join(key)) if key else f"{slugify(true_text, 6)}-{_short_hash(true_text, false_text)}"
        )
        fid, n = base, 2
        while fid in seen_ids:
            fid, n = f"{base}-{n}", n + 1
        seen_ids.add(fid)
        seen_text.update((norm_t, norm_f))
        fact = CommentedMap()
        fact["id"] = fid
        fact["domain"] = domain
        fact["kind"] = kind
        fact["statement"] = true_text
        fact["false_statement"] = false_text
        fact["source"] = csv_path.name
        facts.append(fact)
    if not facts:
        hint = "check --pair-by and --label-col"
        if unknown_labels:
            shown = ", ".join(f"{v!r} (line {n})" for v, n in list(unknown_labels.items())[:5])
            hint = (
                f"column '{label_col}' holds values that are not labels: {shown}; expected one of "
                f"{', '.join(sorted(TRUE_LABELS | FALSE_LABELS))}"
            )
        raise InvalidInputError([Problem(csv_path, f"no true/false pairs found; {hint}", field=label_col)])
    doc = CommentedMap()
    doc["schema_version"] = 1
    doc["name"] = name
    doc["description"] = description or f"Imported from {csv_path.name} by beliefs facts import."
    doc["domains"] = sorted({domain, "logical", "physical"})
    doc["facts"] = facts
    buf = io.StringIO()
    round_trip_yaml().dump(doc, buf)
    yaml_text = buf.getvalue()
    loaded, problems = check_fact_set(parse_yaml_bytes(out, yaml_text.encode("utf-8")))
    if loaded is None:  # located in the CSV: the fact set was not written
        raise InvalidInputError(
            [
                Problem(
                    csv_path, f"{p.message} (in the fact set it would make)", fact_id=p.fact_id, field=p.field
                )
                for p in problems
                if p.severity == "error"
            ]
        )
    atomic_write_text(out, yaml_text)
    report.n_facts = len(facts)
    report.out = out
    return report
