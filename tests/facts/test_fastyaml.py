"""The fast reader (libyaml) against the round-trip reader (ruamel.yaml): same data, same problems at the
same lines, on the committed sets, the fixtures and broken variants of them; the unusual left to ruamel."""

from __future__ import annotations

from pathlib import Path

import pytest

from beliefs.facts import fastyaml
from beliefs.facts.loader import check_conditions, check_fact_set, classify
from beliefs.facts.yamlio import (
    MAX_DEPTH,
    SAFE_TAGS,
    ParsedYaml,
    _parse_fast,
    _parse_round_trip,
    parse_yaml_bytes,
    to_plain,
)

pytestmark = pytest.mark.skipif(not fastyaml.AVAILABLE, reason="PyYAML without libyaml")

ROOT = Path(__file__).parents[2]
COMMITTED = sorted((ROOT / "fact_sets").glob("*.yaml"))
FIXTURES = sorted((ROOT / "tests" / "facts" / "fixtures").rglob("*.yaml"))


def _outcome(parsed: ParsedYaml) -> tuple[object, ...]:
    """Everything a caller sees: plain data, parse problems, and the checks' problems and results."""
    check = check_conditions if classify(parsed) == "conditions" else check_fact_set
    loaded, problems = check(parsed)
    facts = (
        [f.model_dump() for f in loaded.model.facts]
        if loaded is not None and hasattr(loaded, "facts")
        else []
    )
    lines = getattr(loaded, "lines", None)
    return (
        repr(to_plain(parsed.data)),
        [str(p) for p in parsed.problems],
        [str(p) for p in problems],
        facts,
        lines,
    )


def _both(text: str, name: str = "set.yaml") -> tuple[ParsedYaml | None, ParsedYaml]:
    path = Path(name)
    return _parse_fast(path, text), _parse_round_trip(path, text)


@pytest.mark.parametrize("path", COMMITTED + FIXTURES, ids=lambda p: str(p.relative_to(ROOT)))
def test_files_read_the_same_both_ways(path: Path) -> None:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        pytest.skip("not UTF-8: refused before either reader")
    if "\x00" in text:
        pytest.skip("NUL: refused before either reader")
    fast, slow = _both(text, path.name)
    if path in COMMITTED:
        assert fast is not None, "the committed sets must take the fast path"
    if fast is not None:
        assert _outcome(fast) == _outcome(slow)
    assert _outcome(parse_yaml_bytes(Path(path.name), raw)) == _outcome(slow)


def _broken(text: str) -> list[str]:
    """Variants of a fact set with one mistake each, at different places."""
    lines = text.split("\n")
    first = next(i for i, line in enumerate(lines) if line.strip().startswith("- id:"))
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("statement:") and i > first + 40)
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]

    def edit(i: int, new: list[str]) -> str:
        return "\n".join(lines[:i] + new + lines[i + 1 :])

    return [
        edit(at, [lines[at], lines[at]]),  # duplicate key
        edit(at, [lines[at], indent + "statment: typo"]),  # unknown field
        edit(at, [indent + "statement: [a, b]"]),  # wrong type
        edit(at, [indent + "statement: 12"]),  # a number where text is wanted
        edit(at, [indent + "statement: !!python/object:os.system x"]),  # foreign tag
        edit(at, [indent + "statement: 2020-01-01"]),  # timestamp (not an allowed tag)
        edit(at, [indent + "statement: 'unclosed"]),  # syntax error
        edit(at, [indent + " statement: bad indent"]),  # syntax error
        edit(at, [indent + "statement: \t tab"]),
        edit(at, [indent + "kind: hinge"]),  # duplicate kind key, statement missing
        edit(first, [lines[first], lines[first].replace("- id:", "  domain:")]),  # duplicate domain
        edit(first, [lines[first].replace("- id: ", "- id: Not A Slug ")]),
        edit(at, [indent + "statement: Ünïcödé “quoted” — text 😀: here", indent + "statement: x"]),
        text.replace("schema_version: 1", "schema_version: 2"),
        text + "\n---\nsecond: document\n",
        "%YAML 1.1\n---\n" + text,
        text.replace("\n", "\r\n"),
    ]


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.name)
def test_broken_variants_report_the_same_problems(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if "facts:" not in text:
        pytest.skip("not a fact set")
    for variant in _broken(text):
        fast, slow = _both(variant, path.name)
        if fast is not None:
            assert _outcome(fast) == _outcome(slow), variant[:200]
        assert _outcome(parse_yaml_bytes(Path(path.name), variant.encode("utf-8"))) == _outcome(slow)


SCALARS = [
    "no", "yes", "on", "True", "false", "~", "Null", "NULL", "", "0o17", "017", "08", "00", "1_000", "1:20",
    "0x1F", "+12", "-0", "0b101", "-0b1", "0_", "1__2", "-_1", "0o", "0x", "0b", "+", "_", "1e3", "1e",
    ".inf", "-.inf", ".NaN", "-.5", "1.", ".5", "0.1_0", "1_0.5", "+.5e+3", "12:30:00", '"x"', "'7'",
    "!!int '12'", "!!float 3", "!!bool true", "!!null ''", "!!null x", "[a, 1, {b: 2.5}]",
    "{<<: {a: 1}, b: 2}", "{<<: [{a: 1}, {a: 3, c: 4}], a: 2}", "&a x", "[&a x, *a]",
]  # fmt: skip


@pytest.mark.parametrize("value", SCALARS)
def test_scalars_resolve_as_in_yaml_1_2(value: str) -> None:
    fast, slow = _both(f"k: {value}\nz: 1\n")
    assert fast is not None
    assert (repr(to_plain(fast.data)), fast.problems) == (repr(to_plain(slow.data)), slow.problems)


@pytest.mark.parametrize("value", ["!!int x", "!!float x", "!!bool maybe", "0x_", "0o_", "!!int 0X1F"])
def test_scalars_their_tag_cannot_build_are_problems_at_their_place(value: str) -> None:
    parsed = parse_yaml_bytes(Path("s.yaml"), f"a: 1\nk: {value}\n".encode())
    assert parsed.data is None
    [problem] = parsed.problems
    assert (problem.line, problem.column) == (2, 4) and "is not a valid" in problem.message


@pytest.mark.filterwarnings("ignore::ruamel.yaml.error.ReusedAnchorWarning")
@pytest.mark.parametrize(
    "text",
    [
        "a: &x {b: 1}\nc: *x\n",  # alias of a mapping (depth and expansion are ruamel's to judge)
        "a: *undefined\n",
        "a: &x 1\nb: &x 2\n",  # anchor defined twice
        "%YAML 1.1\n---\na: yes\n",
        "a: 1\n---\nb: 2\n",
        "a: [\n",
        "[a, b]: 1\n",
        "a: !!timestamp 2020-01-01\n",
        "a: =\n",  # the 'value' tag
        "a: " + "[" * 40 + "]" * 40 + "\n",
        "".join(" " * i + f"k{i}:\n" for i in range(40)) + " " * 40 + "x: 1\n",
    ],
)
def test_unusual_input_is_left_to_the_round_trip_reader(text: str) -> None:
    assert _parse_fast(Path("s.yaml"), text) is None
    assert _outcome(parse_yaml_bytes(Path("s.yaml"), text.encode())) == _outcome(
        _parse_round_trip(Path("s.yaml"), text)
    )


def test_depth_limit_is_the_round_trip_readers() -> None:
    """The root is level 1: a scalar at level MAX_DEPTH is read, one level deeper goes to ruamel.yaml,
    which refuses it at its line."""

    def nested(levels: int) -> str:  # a mapping holding lists nested so that the scalar is at ``levels``
        return "a: " + "[" * (levels - 2) + "1" + "]" * (levels - 2) + "\n"

    inside = nested(MAX_DEPTH)
    fast, slow = _both(inside)
    assert fast is not None and not fast.problems and _outcome(fast) == _outcome(slow)
    with pytest.raises(fastyaml.Unusual):
        fastyaml.compose(nested(MAX_DEPTH + 1), MAX_DEPTH, SAFE_TAGS)
    [problem] = parse_yaml_bytes(Path("s.yaml"), nested(MAX_DEPTH + 1).encode()).problems
    assert problem.line == 1 and "nested more than" in problem.message


def test_located_data_keeps_every_key_and_item_position() -> None:
    parsed = parse_yaml_bytes(Path("s.yaml"), b"a:\n  - x\n  -   {b: 1,   c: 2}\n")
    data = parsed.data
    assert isinstance(data, fastyaml.LocatedMap) and data.keys_at["a"] == (0, 0)
    items = data["a"]
    assert isinstance(items, fastyaml.LocatedList) and items.items_at == [(1, 4), (2, 6)]
    assert items[1].keys_at == {"b": (2, 7), "c": (2, 15)}
