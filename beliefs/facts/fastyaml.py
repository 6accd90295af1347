"""Fast reading of plain YAML: libyaml's parser (PyYAML's C binding) with a composer and constructor here.

The round-trip reader (ruamel.yaml, pure Python) takes minutes on a 50,000-fact file; libyaml's event
parser takes about a second. This module builds the node tree from libyaml's events without recursion,
resolving plain scalars with ruamel.yaml's YAML 1.2 rules (so ``no`` stays text and ``017`` is 17, as
the round-trip reader has it), and constructs plain data whose mappings and lists remember the line and
column of every key and item (:class:`LocatedMap`, :class:`LocatedList`).

It reads the common case only. Anything unusual (a tab anywhere, checked by the caller; a syntax error, more than one document, a ``%YAML``
directive, nesting beyond the limit, a tag not in the allowed set, an alias of a mapping or list, a
repeated anchor, a mapping or list as a key) raises :class:`Unusual`, and the caller reads the file
with the round-trip reader, whose messages and positions then hold. A scalar its tag cannot construct
(``!!int x``) raises :class:`BadScalar` with its position.
"""

from __future__ import annotations

import gc
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ruamel.yaml.resolver import implicit_resolvers

try:
    from yaml import YAMLError
    from yaml.cyaml import CParser  # type: ignore[attr-defined]
    from yaml.events import (
        AliasEvent,
        DocumentEndEvent,
        DocumentStartEvent,
        MappingEndEvent,
        MappingStartEvent,
        ScalarEvent,
        SequenceEndEvent,
        SequenceStartEvent,
        StreamEndEvent,
    )
    from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

    AVAILABLE = True
    """Whether PyYAML was built with libyaml; without it every file takes the round-trip reader."""
except ImportError:  # pragma: no cover - PyYAML without libyaml
    AVAILABLE = False

_YAML = "tag:yaml.org,2002:"
STR, MAP, SEQ, MERGE = _YAML + "str", _YAML + "map", _YAML + "seq", _YAML + "merge"


def _resolver_table() -> dict[str, list[tuple[str, re.Pattern[str]]]]:
    """ruamel.yaml's implicit resolvers for YAML 1.2, by first character (``""`` for the empty value)."""
    table: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
    for versions, tag, regexp, first in implicit_resolvers:
        if (1, 2) not in versions:
            continue
        rx = re.compile(regexp.pattern, regexp.flags)  # ruamel's is a lazy proxy: slow to call
        for ch in first:
            table.setdefault(ch, []).append((tag, rx))
    return table


_RESOLVERS = _resolver_table()
_BOOLS = {"yes": True, "no": False, "y": True, "n": False, "true": True, "false": False}
_BOOLS |= {"on": True, "off": False}


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: building a million objects that form no cycles otherwise
    triggers collections whose cost grows with the heap (4x the time at 50,000 facts)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class Unusual(Exception):
    """Input the fast reader leaves to the round-trip reader."""


class BadScalar(Exception):
    """A scalar its tag cannot construct; ``line`` and ``column`` are 1-based."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.line, self.column = line, column


class LocatedMap(dict[Any, Any]):
    """A mapping with the 0-based (line, column) of itself (``at``) and of each key (``keys_at``)."""

    __slots__ = ("at", "keys_at")

    def __init__(self, at: tuple[int, int]) -> None:
        super().__init__()
        self.at = at
        self.keys_at: dict[Any, tuple[int, int]] = {}


class LocatedList(list[Any]):
    """A list with the 0-based (line, column) of itself (``at``) and of each item (``items_at``)."""

    __slots__ = ("at", "items_at")

    def __init__(self, at: tuple[int, int]) -> None:
        super().__init__()
        self.at = at
        self.items_at: list[tuple[int, int]] = []


def resolve(value: str, implicit: tuple[bool, bool]) -> str:
    """The tag of an untagged scalar: ruamel.yaml's YAML 1.2 implicit resolution."""
    if implicit[0]:
        for tag, rx in _RESOLVERS.get(value[:1], ()):
            if rx.match(value):
                return tag
    return STR


def compose(text: str, max_depth: int, tags: frozenset[str]) -> tuple[Node | None, bool]:
    """The node tree of ``text`` (None for a stream without a document), built without recursion, and
    whether a mapping repeats a key.

    Raises :class:`Unusual` for what the round-trip reader must judge (see the module docstring)."""
    parser = CParser(text)
    get = parser.get_event
    try:
        get()  # stream start
        event = get()
        if isinstance(event, StreamEndEvent):
            return None, False
        if not isinstance(event, DocumentStartEvent) or event.version is not None:
            raise Unusual("a %YAML directive")
        root, repeated = _compose_document(get, max_depth, tags)
        if not isinstance(get(), StreamEndEvent):
            raise Unusual("more than one document")
    except YAMLError as exc:
        raise Unusual(str(exc)) from None
    return root, repeated


def _compose_document(get: Any, max_depth: int, tags: frozenset[str]) -> tuple[Node, bool]:
    anchors: dict[str, Node] = {}
    stack: list[Node] = []
    keys: list[Node | None] = []  # the pending key of each open mapping (None: next is a key)
    seen: list[set[str]] = []  # the scalar keys of each open mapping
    repeated = False
    root: Node | None = None
    while True:
        event = get()
        kind = type(event)
        node: Node
        if kind is ScalarEvent:
            tag = event.tag
            if tag is None or tag == "!":
                tag = resolve(event.value, event.implicit)
            node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            tag = event.tag
            if tag is None or tag == "!":
                tag = MAP if kind is MappingStartEvent else SEQ
            cls = MappingNode if kind is MappingStartEvent else SequenceNode
            node = cls(tag, [], event.start_mark, event.end_mark, event.flow_style)
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            done = stack.pop()
            keys.pop()
            seen.pop()
            if not stack:
                root = done
            continue
        elif kind is AliasEvent:
            node = anchors.get(event.anchor)  # type: ignore[assignment]
            if type(node) is not ScalarNode:  # depth and expansion checks are the round-trip reader's
                raise Unusual("an undefined alias or an alias of a mapping or list")
        elif kind is DocumentEndEvent:
            if root is None:  # pragma: no cover - the parser always gives a node
                raise Unusual("a document without a node")
            return root, repeated
        else:  # pragma: no cover - libyaml gives no other event inside a document
            raise Unusual(f"unexpected {event}")
        if len(stack) + 1 > max_depth:
            raise Unusual("nested too deep")
        if node.tag not in tags:
            raise Unusual(f"tag {node.tag}")
        anchor = getattr(event, "anchor", None) if kind is not AliasEvent else None
        if anchor is not None:
            if anchor in anchors:
                raise Unusual("an anchor defined twice")
            anchors[anchor] = node
        if stack:
            parent = stack[-1]
            if type(parent) is SequenceNode:
                parent.value.append(node)
            elif keys[-1] is None:
                keys[-1] = node
                if type(node) is ScalarNode:
                    repeated = repeated or node.value in seen[-1]
                    seen[-1].add(node.value)
            else:
                parent.value.append((keys[-1], node))
                keys[-1] = None
        elif kind is ScalarEvent or kind is AliasEvent:
            root = node
        if kind is MappingStartEvent or kind is SequenceStartEvent:
            stack.append(node)
            keys.append(None)
            seen.append(set())


def construct(root: Node) -> Any:
    """Plain data of ``root`` (mappings as :class:`LocatedMap`, lists as :class:`LocatedList`).

    Depth is bounded by the composer, so recursion is safe. A node reached twice (an alias) is
    constructed once, as the round-trip reader does; a repeated key keeps its first value, as there."""
    return _construct(root, {})


def _construct(node: Node, memo: dict[int, Any]) -> Any:
    key = id(node)
    if key in memo:
        return memo[key]
    if type(node) is ScalarNode:
        value = _scalar(node)
    elif type(node) is SequenceNode:
        value = LocatedList((node.start_mark.line, node.start_mark.column))
        for child in node.value:
            value.append(_construct(child, memo))
            value.items_at.append((child.start_mark.line, child.start_mark.column))
    else:
        value = LocatedMap((node.start_mark.line, node.start_mark.column))
        merged: list[LocatedMap] = []
        for key_node, value_node in node.value:
            if type(key_node) is not ScalarNode:
                raise Unusual("a mapping or list as a key")
            if key_node.tag == MERGE:
                merged += _merge_sources(value_node, memo)
                continue
            k = _scalar(key_node)
            if k not in value:
                value[k] = _construct(value_node, memo)
                value.keys_at[k] = (key_node.start_mark.line, key_node.start_mark.column)
        for source in merged:
            for k, v in source.items():
                if k not in value:
                    value[k] = v
                    value.keys_at[k] = source.keys_at[k]
    memo[key] = value
    return value


def _merge_sources(node: Node, memo: dict[int, Any]) -> list[LocatedMap]:
    items = node.value if type(node) is SequenceNode else [node]
    out = []
    for item in items:
        if type(item) is not MappingNode:
            raise Unusual("a merge of something that is not a mapping")
        out.append(_construct(item, memo))
    return out


def _scalar(node: Node) -> Any:
    tag, value = node.tag, node.value
    if tag == STR:
        return value
    if tag == _YAML + "null":
        return None
    try:
        if tag == _YAML + "bool":
            return _BOOLS[value.lower()]
        if tag == _YAML + "int":
            return _int(value)
        if tag == _YAML + "float":
            return _float(value)
    except (KeyError, ValueError):
        kind = tag.removeprefix(_YAML)
        mark = node.start_mark
        raise BadScalar(
            f"{value!r} is not a valid {kind} (tag !!{kind})", mark.line + 1, mark.column + 1
        ) from None
    raise Unusual(f"tag {tag}")


def _int(value: str) -> int:
    text = value.replace("_", "")
    sign = -1 if text[:1] == "-" else 1
    text = text[1:] if text[:1] in ("-", "+") else text
    base = {"0b": 2, "0x": 16, "0o": 8}.get(text[:2])
    return sign * (int(text[2:], base) if base else int(text, 10))


def _float(value: str) -> float:
    text = value.replace("_", "").lower()
    sign = -1.0 if text[:1] == "-" else 1.0
    text = text[1:] if text[:1] in ("-", "+") else text
    if text == ".inf":
        return sign * math.inf
    if text == ".nan":
        return math.nan
    return sign * float(text)
