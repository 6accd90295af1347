"""Load and validate fact sets and conditions files, reporting every problem at once."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from beliefs.errors import InvalidInputError, Problem
from beliefs.facts.fastyaml import paused_gc
from beliefs.facts.yamlio import ParsedYaml, locate, parse_yaml, to_plain
from beliefs.schema import EMPTY_CONDITION, Condition, ConditionsFile, Contexts, Fact, FactSet

YAML_SUFFIXES = (".yaml", ".yml")
_FIELDS: dict[str, list[str]] = {
    "fact_set": list(FactSet.model_fields),
    "facts": list(Fact.model_fields),
    "contexts": list(Contexts.model_fields),
    "conditions": list(Condition.model_fields),
    "conditions_file": list(ConditionsFile.model_fields),
}


@dataclass(frozen=True)
class LoadedFactSet:
    """A validated fact set with where it came from."""

    path: Path
    sha256: str
    """Hash of the file's bytes: what a run records to know which facts it measured."""
    model: FactSet
    lines: dict[str, int] = field(default_factory=dict)
    """Line of each fact, by id."""
    warnings: tuple[Problem, ...] = ()

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def facts(self) -> list[Fact]:
        return self.model.facts


@dataclass(frozen=True)
class LoadedConditions:
    """A validated conditions file."""

    path: Path
    sha256: str
    model: ConditionsFile
    warnings: tuple[Problem, ...] = ()

    @property
    def conditions(self) -> list[Condition]:
        return self.model.conditions


def _suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" — did you mean '{close[0]}'?" if close else ""


def _expected(ctx: dict[str, Any] | None) -> list[str]:
    raw = str((ctx or {}).get("expected", ""))
    return [p.strip().strip("'") for p in raw.replace(" or ", ",").split(",") if p.strip()]


def _message(err: Any, section: str, fields: dict[str, list[str]]) -> tuple[str, str | None]:
    """A person-readable message and the field name for one pydantic error."""
    loc = err["loc"]
    name = str(loc[-1]) if loc and isinstance(loc[-1], str) else None
    kind, value = err["type"], err.get("input")
    if kind == "extra_forbidden":
        return f"unknown field '{name}'{_suggest(str(name), fields.get(section, []))}", name
    if kind == "missing":
        return f"missing required field '{name}'", name
    if kind == "literal_error":
        options = _expected(err.get("ctx"))
        if name == "schema_version":
            return f"unsupported schema_version {value!r} — this version of beliefs reads 1", name
        hint = _suggest(str(value), options) if isinstance(value, str) else ""
        return f"{name} {value!r} — expected {' or '.join(options)}{hint}", name
    if kind == "string_pattern_mismatch":
        return (
            f"{name} {value!r} is not a lower-case slug (letters a-z, digits and single hyphens, "
            "e.g. 'earth-location')",
            name,
        )
    if kind in ("string_type", "int_type", "list_type", "dict_type", "model_type", "bool_type"):
        wanted = {"string_type": "text", "int_type": "an integer", "list_type": "a list"}.get(
            kind, "a mapping"
        )
        return f"expected {wanted}, got {type(value).__name__} {value!r}"[:200], name
    if kind == "too_short" and name == "facts":
        return "the set has no facts", name
    if kind == "too_short" and name == "conditions":
        return "the file has no conditions", name
    if kind == "too_short" and name == "domains":
        return (
            "no domains listed; list every domain the facts use (or leave the field out: logical, physical)",
            name,
        )
    msg = str(err["msg"]).removeprefix("Value error, ")
    if "false_statement is the same" in msg:
        return msg, "false_statement"
    return msg, name


def pydantic_problems(
    path: Path,
    data: Any,
    model: type[BaseModel],
    plain: Any,
    section: str,
    item_key: str,
    fields: dict[str, list[str]] | None = None,
) -> tuple[BaseModel | None, list[Problem]]:
    """Validate ``plain`` (parsed from ``data``) as ``model``; each error as a :class:`Problem` at its line.

    ``fields`` adds field names per section (beyond the fact-set ones) so that an error on a field
    is placed at that field's line.
    """
    known = {**_FIELDS, **(fields or {})}
    try:
        return model.model_validate(plain), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            line, column = locate(data, loc)
            fact_id = None
            sub = section
            if len(loc) >= 2 and loc[0] == item_key and isinstance(loc[1], int):
                item = plain[item_key][loc[1]] if isinstance(plain.get(item_key), list) else None
                if isinstance(item, dict) and isinstance(
                    item.get("id" if item_key == "facts" else "name"), str
                ):
                    fact_id = item.get("id" if item_key == "facts" else "name")
                sub = "contexts" if "contexts" in loc[2:3] else item_key
            msg, fld = _message(err, sub, known)
            if fld is not None and fld not in loc:
                line, column = locate(data, (*loc, fld)) if fld in known.get(sub, []) else (line, column)
            subject = "condition" if item_key == "conditions" else "fact"
            problems.append(Problem(path, msg, line, column, fact_id=fact_id, field=fld, subject=subject))
        return None, problems


def _fact_set_checks(path: Path, data: Any, plain: dict[str, Any]) -> list[Problem]:
    """Checks across facts: duplicate ids and statements, undeclared domains."""
    problems: list[Problem] = []
    domains = plain.get("domains", ["logical", "physical"])
    domains = domains if isinstance(domains, list) else []
    facts = plain.get("facts")
    if not isinstance(facts, list):
        return problems
    ids: dict[str, int] = {}
    texts: dict[str, tuple[str, int]] = {}
    for i, fact in enumerate(facts):
        if not isinstance(fact, dict):
            continue  # reported by the schema ("expected a mapping")
        fid = fact.get("id") if isinstance(fact.get("id"), str) else None
        if fid is not None:
            if fid in ids:
                line, col = locate(data, ("facts", i, "id"))
                problems.append(
                    Problem(
                        path, f"duplicate id (first at line {ids[fid]})", line, col, fact_id=fid, field="id"
                    )
                )
            else:
                ids[fid] = locate(data, ("facts", i, "id"))[0] or 0
        dom = fact.get("domain")
        if isinstance(dom, str) and domains and dom not in domains:
            line, col = locate(data, ("facts", i, "domain"))
            msg = f"domain '{dom}' is not declared (declared: {', '.join(map(str, domains))}){_suggest(dom, domains)}"
            problems.append(Problem(path, msg, line, col, fact_id=fid, field="domain"))
        for key in ("statement", "false_statement"):
            text = fact.get(key)
            if not isinstance(text, str) or not text.strip():
                continue
            norm = " ".join(text.split()).casefold()
            if norm in texts:
                other_id, other_line = texts[norm]
                if other_id == fid:
                    continue  # same fact: reported as false_statement == statement
                line, col = locate(data, ("facts", i, key))
                problems.append(
                    Problem(
                        path,
                        f"duplicate statement: {text!r} already appears in fact '{other_id}' (line {other_line})",
                        line,
                        col,
                        fact_id=fid,
                        field=key,
                    )
                )
            else:
                texts[norm] = (str(fid), locate(data, ("facts", i, key))[0] or 0)
    return problems + _pair_checks(path, data, facts)


Where = tuple[int | None, int | None]


def _pair_checks(path: Path, data: Any, facts: list[Any]) -> list[Problem]:
    """Checks of ``pair``: it names another fact of the set, which names this one back, is of the other
    kind, the same domain and the same template, and is claimed by no other fact. A problem between two
    facts that name each other is reported once, at the later of the two."""
    index: dict[str, int] = {}
    for i, fact in enumerate(facts):
        if isinstance(fact, dict) and isinstance(fact.get("id"), str):
            index.setdefault(fact["id"], i)
    claimed: dict[str, str] = {}
    problems: list[Problem] = []
    for i, fact in enumerate(facts):
        if not isinstance(fact, dict) or not isinstance(fact.get("pair"), str):
            continue  # no pair, or one the schema reports (not text)
        fid = fact["id"] if isinstance(fact.get("id"), str) else None
        for message, fld, (line, col) in _pair_problems(data, facts, i, index, claimed):
            problems.append(Problem(path, message, line, col, fact_id=fid, field=fld))
    return problems


def _pair_problems(
    data: Any, facts: list[Any], i: int, index: dict[str, int], claimed: dict[str, str]
) -> list[tuple[str, str, Where]]:
    """(message, field, where) for the ``pair`` of fact ``i``; records its claim in ``claimed``."""
    fact = facts[i]
    fid, pair = fact.get("id"), fact["pair"]
    at = locate(data, ("facts", i, "pair"))
    if pair == fid:
        return [("pair names the fact itself; it should name its matched fact of the other kind", "pair", at)]
    if pair not in index:
        return [(f"pair '{pair}' is not a fact id in this set{_suggest(pair, index)}", "pair", at)]
    j = index[pair]
    other = facts[j]
    where = f"'{pair}' (line {locate(data, ('facts', j))[0]})"
    if pair in claimed:
        message = (
            f"fact {where} is already the pair of '{claimed[pair]}'; a fact is the pair of one other only"
        )
        return [(message, "pair", at)]
    claimed[pair] = str(fid)
    out: list[tuple[str, str, Where]] = []
    back = other.get("pair")
    if back != fid:
        named = f"names '{back}'" if isinstance(back, str) else "has no pair"
        out.append(
            (f"pair {where} does not name this fact back (it {named}); pairs are reciprocal", "pair", at)
        )
    elif j > i:
        return out  # the two name each other: compare them once, at the later fact
    kind = fact.get("kind")
    if isinstance(kind, str) and kind == other.get("kind"):
        out.append(
            (f"pair {where} is also a {kind} fact; a pair joins a hinge and a contingent fact", "pair", at)
        )
    domain, other_domain = fact.get("domain"), other.get("domain")
    if isinstance(domain, str) and isinstance(other_domain, str) and domain != other_domain:
        message = f"pair {where} is in domain '{other_domain}', this fact in '{domain}'; pairs share a domain"
        out.append((message, "pair", at))
    template, other_template = fact.get("template"), other.get("template")
    if template != other_template:
        mine = f"template '{template}'" if template is not None else "no template"
        theirs = f"template '{other_template}'" if other_template is not None else "no template"
        message = f"pair {where} has {theirs}, this fact {mine}; pairs share a template"
        if template is not None:
            out.append((message, "template", locate(data, ("facts", i, "template"))))
        else:
            out.append((message, "pair", at))
    return out


def _fact_set_warnings(path: Path, data: Any, model: FactSet) -> list[Problem]:
    warnings: list[Problem] = []
    for i, fact in enumerate(model.facts):
        line = locate(data, ("facts", i))[0]
        if fact.kind == "hinge" and fact.note is None:
            warnings.append(
                Problem(
                    path,
                    "hinge without a note saying why it is one",
                    line,
                    fact_id=fact.id,
                    field="note",
                    severity="warning",
                )
            )
        for key in ("support", "contradict"):
            ctx = fact.context(key)
            if ctx is None:
                continue
            for form in (fact.statement, fact.false_statement):
                if form.rstrip(".").casefold() in ctx.casefold():
                    warnings.append(
                        Problem(
                            path,
                            f"context '{key}' contains {form!r} verbatim",
                            line,
                            fact_id=fact.id,
                            field=f"contexts.{key}",
                            severity="warning",
                        )
                    )
    return warnings


def _conditions_checks(path: Path, data: Any, plain: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    conditions = plain.get("conditions")
    if not isinstance(conditions, list):
        return problems
    names: dict[str, int] = {}
    has_empty = False
    for i, cond in enumerate(conditions):
        if not isinstance(cond, dict):
            continue  # reported by the schema ("expected a mapping")
        name = cond.get("name")
        if not isinstance(name, str):
            continue
        line, col = locate(data, ("conditions", i, "name"))
        if name in names:
            problems.append(
                Problem(
                    path,
                    f"duplicate condition name (first at line {names[name]})",
                    line,
                    col,
                    fact_id=name,
                    subject="condition",
                    field="name",
                )
            )
        names.setdefault(name, line or 0)
        if name == EMPTY_CONDITION:
            has_empty = True
            if cond.get("prefix") != "":
                problems.append(
                    Problem(
                        path,
                        "the 'empty' condition must have prefix: \"\"",
                        line,
                        col,
                        fact_id=name,
                        subject="condition",
                        field="prefix",
                    )
                )
    if not has_empty and conditions:
        problems.append(Problem(path, "no 'empty' condition (name: empty, prefix: \"\"); it must exist", 1))
    return problems


def classify(parsed: ParsedYaml) -> str | None:
    """``fact_set``, ``conditions`` or None, from the file's content."""
    data = parsed.data
    if isinstance(data, dict) and "facts" in data:
        return "fact_set"
    if isinstance(data, list) or (isinstance(data, dict) and "conditions" in data):
        return "conditions"
    return None


def _order(p: Problem) -> tuple[int, int]:
    return (p.line or 0, p.column or 0)


def _hash(parsed: ParsedYaml) -> str:
    return hashlib.sha256(parsed.text.encode("utf-8")).hexdigest()


def check_fact_set(parsed: ParsedYaml) -> tuple[LoadedFactSet | None, list[Problem]]:
    """Validate parsed YAML as a fact set: (the set or None, errors and warnings)."""
    path, data, problems = parsed.path, parsed.data, list(parsed.problems)
    if data is None:
        return None, problems
    if not isinstance(data, dict):
        problems.append(
            Problem(
                path,
                f"a fact set must be a mapping with 'schema_version', 'name' and 'facts', "
                f"got a {type(data).__name__}",
                1,
            )
        )
        return None, problems
    with paused_gc():
        plain = to_plain(data)
    if "schema_version" not in plain:
        problems.append(
            Problem(
                path,
                "missing 'schema_version' (add 'schema_version: 1' at the top)",
                1,
                field="schema_version",
            )
        )
    with paused_gc():
        model, errors = pydantic_problems(path, data, FactSet, plain, "fact_set", "facts")
    problems += [p for p in errors if not (p.field == "schema_version" and p.message.startswith("missing"))]
    problems += _fact_set_checks(path, data, plain)
    problems.sort(key=_order)
    if model is None or any(p.severity == "error" for p in problems):
        return None, problems
    assert isinstance(model, FactSet)
    problems += _fact_set_warnings(path, data, model)
    lines = {f.id: locate(data, ("facts", i))[0] or 0 for i, f in enumerate(model.facts)}
    return LoadedFactSet(path, _hash(parsed), model, lines, tuple(problems)), problems


def check_conditions(parsed: ParsedYaml) -> tuple[LoadedConditions | None, list[Problem]]:
    """Validate parsed YAML as a conditions file."""
    path, data, problems = parsed.path, parsed.data, list(parsed.problems)
    if data is None:
        return None, problems
    if isinstance(data, list):
        data = {"conditions": data}
        plain: Any = {"conditions": to_plain(data["conditions"])}
    elif isinstance(data, dict):
        plain = to_plain(data)
    else:
        problems.append(
            Problem(
                path,
                "a conditions file must be a list of conditions or a mapping with "
                f"'conditions', got a {type(data).__name__}",
                1,
            )
        )
        return None, problems
    model, errors = pydantic_problems(path, data, ConditionsFile, plain, "conditions_file", "conditions")
    problems += errors + _conditions_checks(path, data, plain)
    problems.sort(key=_order)
    if model is None or any(p.severity == "error" for p in problems):
        return None, problems
    assert isinstance(model, ConditionsFile)
    return LoadedConditions(path, _hash(parsed), model, tuple(problems)), problems


def load_fact_set(path: str | Path) -> LoadedFactSet:
    """Load one fact-set file; raise :class:`InvalidInputError` listing every problem."""
    loaded, problems = check_fact_set(parse_yaml(Path(path)))
    if loaded is None:
        raise InvalidInputError(problems)
    return loaded


def load_conditions(path: str | Path) -> LoadedConditions:
    """Load one conditions file; raise :class:`InvalidInputError` listing every problem."""
    loaded, problems = check_conditions(parse_yaml(Path(path)))
    if loaded is None:
        raise InvalidInputError(problems)
    return loaded


def expand_paths(paths: Sequence[str | Path]) -> list[Path]:
    """Files and folders (searched recursively for .yaml/.yml) as a sorted list of files."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.suffix in YAML_SUFFIXES and f.is_file())
        else:
            out.append(p)
    return out


@dataclass
class Collection:
    """What :func:`load_paths` found: the valid files and every problem."""

    fact_sets: list[LoadedFactSet] = field(default_factory=list)
    conditions: list[LoadedConditions] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: int = 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def load_paths(paths: Sequence[str | Path]) -> Collection:
    """Load every fact set and conditions file under ``paths``, telling them apart by content, and check
    across sets (duplicate set names are errors; the same statement in two sets is a warning)."""
    result = Collection()
    for path in expand_paths(paths):
        result.files += 1
        if not path.exists():
            result.problems.append(Problem(path, "no such file or folder"))
            continue
        parsed = parse_yaml(path)
        kind = classify(parsed)
        if kind == "conditions":
            cond, problems = check_conditions(parsed)
            result.problems += problems
            if cond is not None:
                result.conditions.append(cond)
        elif kind == "fact_set" or parsed.data is None:
            fs, problems = check_fact_set(parsed)
            result.problems += problems
            if fs is not None:
                result.fact_sets.append(fs)
        else:
            result.problems.append(
                Problem(
                    path,
                    "neither a fact set (a mapping with 'facts') nor a conditions file "
                    "(a list of conditions, or a mapping with 'conditions')",
                    1,
                )
            )
    names: dict[str, Path] = {}
    statements: dict[str, str] = {}
    for fs in result.fact_sets:
        if fs.name in names:
            result.problems.append(
                Problem(
                    fs.path, f"duplicate set name '{fs.name}' (also in {names[fs.name]})", 1, field="name"
                )
            )
        names.setdefault(fs.name, fs.path)
        for fact in fs.facts:
            key = " ".join(fact.statement.split()).casefold()
            where = f"{fs.name}/{fact.id}"
            if key in statements and statements[key].split("/")[0] != fs.name:
                result.problems.append(
                    Problem(
                        fs.path,
                        f"statement also in {statements[key]}",
                        fs.lines.get(fact.id),
                        fact_id=fact.id,
                        field="statement",
                        severity="warning",
                    )
                )
            statements.setdefault(key, where)
    return result
