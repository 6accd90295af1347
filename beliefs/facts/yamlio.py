"""Safe YAML reading that keeps line numbers and reports every problem it can.

Files are read by :mod:`beliefs.facts.fastyaml` (libyaml's parser; plain data that keeps the line of
every key and item) and, where that reader declines the input or a caller will write the data back, by
ruamel.yaml's round-trip mode, which also keeps comments. On top of them this module refuses what a
safe loader must: bytes that are not UTF-8, NUL characters, object tags (``!!python/object``…), and
alias bombs (anchors whose expansion would be huge), and it lists duplicate mapping keys instead of
stopping at the first.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from beliefs.errors import Problem
from beliefs.facts import fastyaml

YamlNode = Any
"""A node of either reader (ruamel.yaml's or PyYAML's): both have ``id``, ``tag``, ``value`` and
``start_mark``."""
SAFE_TAGS = frozenset(
    "tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null", "map", "seq", "merge")
)
MAX_ALIAS_EXPANSION = 100_000
"""How many nodes aliases may add once expanded; a "billion laughs" file adds ~10⁹."""


@dataclass
class ParsedYaml:
    """The text, the round-trip data (``None`` when parsing failed) and the problems found."""

    path: Path
    text: str
    data: Any
    problems: list[Problem]


def _tag(node: YamlNode) -> str:
    tag = node.tag
    return str(getattr(tag, "value", tag))


def _walk(node: YamlNode, seen: set[int]) -> Iterator[YamlNode]:
    if id(node) in seen:
        return
    seen.add(id(node))
    yield node
    if node.id == "sequence":
        for child in node.value:
            yield from _walk(child, seen)
    elif node.id == "mapping":
        for key, value in node.value:
            yield from _walk(key, seen)
            yield from _walk(value, seen)


def _expanded_size(node: YamlNode, memo: dict[int, int]) -> int:
    """Number of nodes once every alias is expanded (computed without expanding)."""
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = 1  # a cycle counts once; the constructor refuses recursive structures anyway
    size = 1
    if node.id == "sequence":
        size += sum(_expanded_size(c, memo) for c in node.value)
    elif node.id == "mapping":
        size += sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    memo[key] = size
    return size


def _node_problems(path: Path, root: YamlNode) -> list[Problem]:
    problems: list[Problem] = []
    nodes = list(_walk(root, set()))
    for node in nodes:
        tag = _tag(node)
        if tag not in SAFE_TAGS:
            mark = node.start_mark
            problems.append(
                Problem(
                    path,
                    f"tag '{tag}' is not allowed (beliefs reads plain YAML only)",
                    mark.line + 1,
                    mark.column + 1,
                )
            )
        if node.id == "mapping":
            seen_keys: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.id != "scalar":
                    continue
                if key_node.value in seen_keys:
                    mark = key_node.start_mark
                    problems.append(
                        Problem(
                            path,
                            f"duplicate key '{key_node.value}' (first at line {seen_keys[key_node.value]})",
                            mark.line + 1,
                            mark.column + 1,
                            field=str(key_node.value),
                        )
                    )
                else:
                    seen_keys[key_node.value] = key_node.start_mark.line + 1
    expanded = _expanded_size(root, {})
    if expanded - len(nodes) > MAX_ALIAS_EXPANSION:
        problems.append(
            Problem(
                path,
                f"aliases expand to {expanded:,} nodes (limit {MAX_ALIAS_EXPANSION:,} beyond the file's own); "
                "refusing a possible alias bomb",
                1,
            )
        )
    return problems


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


def round_trip_yaml() -> YAML:
    """The YAML instance used to read and write files while keeping comments and layout."""
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = True  # duplicates are reported by _node_problems, all of them
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def parse_yaml(path: Path, round_trip: bool = False) -> ParsedYaml:
    """Read ``path`` safely; never raises for bad content (problems are returned).

    ``round_trip``: data for writing back (ruamel.yaml's, with comments), at the round-trip reader's
    speed; otherwise plain located data (:func:`locate` reads both)."""
    from beliefs.fileio import not_regular

    why = not_regular(path)
    if why is not None:
        return ParsedYaml(path, "", None, [Problem(path, why)])
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return ParsedYaml(path, "", None, [Problem(path, f"cannot read file: {exc.strerror or exc}")])
    return parse_yaml_bytes(path, raw, round_trip)


def parse_yaml_bytes(path: Path, raw: bytes, round_trip: bool = False) -> ParsedYaml:
    """Parse ``raw`` as the content of ``path`` (which need not exist yet); see :func:`parse_yaml`."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = raw[: exc.start]
        line = prefix.count(b"\n") + 1
        column = exc.start - (prefix.rfind(b"\n") + 1) + 1
        msg = f"not valid UTF-8: byte 0x{raw[exc.start]:02x} cannot be decoded (save the file as UTF-8)"
        return ParsedYaml(path, "", None, [Problem(path, msg, line, column)])
    if text.startswith("\ufeff"):
        text = text[1:]
    nul = text.find("\x00")
    if nul >= 0:
        line, column = _position(text, nul)
        return ParsedYaml(path, text, None, [Problem(path, "NUL character in file", line, column)])
    flow = _bracket_depth(text)
    if flow is not None:  # refused before the parser spends seconds on it
        return ParsedYaml(path, text, None, [_too_deep(path, text, flow)])
    if not round_trip and fastyaml.AVAILABLE:
        fast = _parse_fast(path, text)
        if fast is not None:
            return fast
    return _parse_round_trip(path, text)


def _parse_fast(path: Path, text: str) -> ParsedYaml | None:
    """Read ``text`` with :mod:`beliefs.facts.fastyaml`; None where it leaves the file to ruamel.yaml."""
    if "\t" in text:  # libyaml takes tabs where ruamel.yaml refuses them: its verdict holds
        return None
    try:
        with fastyaml.paused_gc():
            root, repeated = fastyaml.compose(text, MAX_DEPTH, SAFE_TAGS)
            if root is None:
                return ParsedYaml(path, text, None, [Problem(path, "file is empty")])
            problems = _node_problems(path, root) if repeated else []
            data = fastyaml.construct(root)
    except fastyaml.Unusual:
        return None
    except fastyaml.BadScalar as exc:
        return ParsedYaml(path, text, None, [Problem(path, str(exc), exc.line, exc.column)])
    return ParsedYaml(path, text, data, problems)


def _parse_round_trip(path: Path, text: str) -> ParsedYaml:
    """Read ``text`` with ruamel.yaml's round-trip reader (comments kept, for writing back)."""
    yaml = round_trip_yaml()
    try:
        root = yaml.compose(io.StringIO(text))
    except RecursionError:
        return ParsedYaml(path, text, None, [_too_deep(path, text)])
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(s for s in (exc.context, exc.problem) if s) or "invalid YAML"
        at = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        return ParsedYaml(path, text, None, [Problem(path, f"YAML syntax error: {what}", *at)])
    except YAMLError as exc:
        return ParsedYaml(path, text, None, [Problem(path, f"YAML syntax error: {exc}")])
    if root is None:
        return ParsedYaml(path, text, None, [Problem(path, "file is empty")])
    deep = _deepest(root)
    if deep is not None:
        mark = deep.start_mark
        return ParsedYaml(path, text, None, [_too_deep(path, text, (mark.line + 1, mark.column + 1))])
    problems = _node_problems(path, root)
    if any("tag '" in p.message or "alias bomb" in p.message for p in problems):
        return ParsedYaml(path, text, None, problems)
    try:
        data = yaml.load(io.StringIO(text))
    except YAMLError as exc:  # pragma: no cover - composition already succeeded
        problems.append(Problem(path, f"YAML error: {exc}"))
        return ParsedYaml(path, text, None, problems)
    return ParsedYaml(path, text, data, problems)


MAX_DEPTH = 32
"""Deepest nesting of mappings and lists read (a fact set needs four levels): deeper input is refused
with its position rather than exhausting Python's recursion limit in the readers."""


def _deepest(root: YamlNode) -> YamlNode | None:
    """The first node nested deeper than :data:`MAX_DEPTH`, or None (iterative: any depth is safe).

    A node is visited once: an alias is the node it names, so an alias bomb is walked in the size of its
    file, not of its expansion (the alias check that follows refuses it)."""
    stack: list[tuple[YamlNode, int]] = [(root, 1)]
    seen: set[int] = set()
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return node
        if id(node) in seen:
            continue
        seen.add(id(node))
        value = node.value
        if isinstance(value, list):
            for item in value:
                if isinstance(item, tuple):  # a mapping's (key, value) pair
                    stack.extend((n, depth + 1) for n in item)
                else:
                    stack.append((item, depth + 1))
    return None


_BRACKETS = re.compile(r"[\[\]{}]")


def _bracket_depth(text: str, limit: int = 1000) -> tuple[int, int] | None:
    """Where flow brackets (``[`` ``{``) first nest ``limit`` deep, counting every bracket (quoted or
    not: no genuine file comes near), or None. Linear; spares the parser pathological input."""
    if text.count("[") + text.count("{") < limit:
        return None
    depth = 0
    for match in _BRACKETS.finditer(text):
        if match.group() in "[{":
            depth += 1
            if depth >= limit:
                return _position(text, match.start())
        else:
            depth = max(0, depth - 1)
    return None


def _too_deep(path: Path, text: str, at: tuple[int, int] | None = None) -> Problem:
    """A problem for nesting beyond :data:`MAX_DEPTH`, at ``at`` or at the deepest bracket or indent."""
    if at is None:
        depth, best, where = 0, -1, 0
        for i, ch in enumerate(text):
            if ch in "[{":
                depth += 1
                if depth > best:
                    best, where = depth, i
            elif ch in "]}":
                depth -= 1
        indents = [(len(line) - len(line.lstrip(" -")), n) for n, line in enumerate(text.split("\n"))]
        widest = max(indents, default=(0, 0))
        at = _position(text, where) if best > 0 else (widest[1] + 1, widest[0] + 1)
    return Problem(
        path,
        f"mappings or lists nested more than {MAX_DEPTH} deep; a fact set needs at most four levels",
        *at,
    )


def to_plain(value: Any) -> Any:
    """Round-trip YAML data as plain dicts, lists, str, int, float, bool and None."""
    if isinstance(value, dict):
        return {to_plain(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


def locate(data: Any, loc: tuple[Any, ...]) -> tuple[int | None, int | None]:
    """1-based (line, column) of the item at ``loc`` in round-trip data, or of its nearest parent."""
    line: int | None = None
    column: int | None = None
    node = data
    for part in loc:
        if isinstance(node, fastyaml.LocatedMap):
            if part in node:
                ln, col = node.keys_at[part]
                line, column = ln + 1, col + 1
                node = node[part]
                continue
            if line is None:
                line, column = node.at[0] + 1, node.at[1] + 1
            break
        if isinstance(node, fastyaml.LocatedList) and isinstance(part, int) and 0 <= part < len(node):
            ln, col = node.items_at[part]
            line, column = ln + 1, col + 1
            node = node[part]
            continue
        if isinstance(node, CommentedMap):
            if part in node:
                ln, col = node.lc.key(part)
                line, column = ln + 1, col + 1
                node = node[part]
                continue
            if line is None:
                line, column = node.lc.line + 1, node.lc.col + 1
            break
        if isinstance(node, dict) and part in node:  # a plain wrapper around round-trip data
            node = node[part]
            continue
        if isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            ln, col = node.lc.item(part)
            line, column = ln + 1, col + 1
            node = node[part]
            continue
        break
    return line, column
