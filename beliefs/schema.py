"""Schema v1 of the files people write: fact sets and conditions files.

These pydantic models are the edge of the program: every field has a docstring, unknown fields are
refused (``extra="forbid"``) and values are not coerced (``strict=True``: ``statement: 101`` is an
error, not the string "101"). Loading with line numbers and collected errors is in
:mod:`beliefs.facts.loader`.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION = 1
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
KINDS = ("hinge", "contingent")
DEFAULT_DOMAINS = ("logical", "physical")
CONTEXT_KEYS = ("support", "contradict")
CLAIM_SIGN = {"support": 1.0, "contradict": -1.0}
"""Per context condition: a change of margin times this is positive toward the context's claim (a
``contradict`` passage argues for the false form)."""
EMPTY_CONDITION = "empty"


INVISIBLE = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})
"""Unicode categories with nothing to see: spaces, separators, control and format (zero-width) characters."""


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("text is empty or blank")
    if all(unicodedata.category(ch) in INVISIBLE for ch in value):
        raise ValueError("text has no visible character (only spaces, zero-width or control characters)")
    if "\x00" in value:
        raise ValueError("text contains a NUL character")
    return value


Slug = Annotated[str, Field(pattern=SLUG_PATTERN)]
Text = Annotated[str, AfterValidator(_not_blank)]
Kind = Literal["hinge", "contingent"]
ContextKey = Literal["support", "contradict"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, use_attribute_docstrings=True)


class Contexts(_Strict):
    """Passages placed before a statement in the per-fact conditions."""

    support: Text | None = None
    """A passage (one to three sentences) in which the statement holds."""
    contradict: Text | None = None
    """A passage (one to three sentences) in which the false statement holds (fiction, an error, another world)."""


class Fact(_Strict):
    """One belief, in a true and a false form."""

    id: Slug
    """Lower-case slug, unique in its set; addressed elsewhere as ``<set>/<id>``."""
    domain: Slug
    """``logical`` (logic, arithmetic) or ``physical`` (the world, the speaker's situation); must be declared."""
    kind: Kind
    """``hinge`` (a framework certainty) or ``contingent`` (held on evidence or by calculation)."""
    statement: Text
    """The true form, one sentence."""
    false_statement: Text
    """The false form, in the same style as the statement (a negation or a substitution)."""
    contexts: Contexts | None = None
    """Optional passages that support or contradict the fact."""
    tags: list[str] = Field(default_factory=list)
    """Optional free labels (``arithmetic``, ``self-location``…)."""
    note: Text | None = None
    """Why the fact is of its kind; expected for every hinge."""
    source: Text | None = None
    """Where the fact comes from (a dataset, a paper)."""
    template: Slug | None = None
    """Optional slug shared by the facts written on one sentence frame (``x-times-y-equals-z``,
    ``i-have-never-been-to-place``); analyses fold by it so that a classifier never sees a test frame."""
    pair: Slug | None = None
    """Optional id of this fact's matched twin in the same set: the other kind, the same domain and the
    same template, and it names this fact back (each fact is the pair of at most one other)."""

    @model_validator(mode="after")
    def _false_differs(self) -> Fact:
        if self.statement.strip() == self.false_statement.strip():
            raise ValueError("false_statement is the same as statement")
        return self

    def context(self, key: str) -> str | None:
        """The fact's context passage for ``key`` (``support`` or ``contradict``), if any."""
        return getattr(self.contexts, key) if self.contexts is not None else None


class FactSet(_Strict):
    """A fact-set file."""

    schema_version: Literal[1]
    """Format version; 1 is the only one so far."""
    name: Slug
    """Lower-case slug, unique among the sets loaded together."""
    description: Text | None = None
    """What the set is for."""
    domains: list[Slug] = Field(default_factory=lambda: list(DEFAULT_DOMAINS), min_length=1)
    """Domains facts may use, at least one; defaults to ``[logical, physical]``."""
    facts: list[Fact] = Field(min_length=1)
    """The facts, at least one."""


class Condition(_Strict):
    """A prompt condition: a fixed prefix for every statement, or each fact's own context."""

    name: Slug
    """Lower-case slug, unique in the file; ``empty`` (with ``prefix: ""``) must exist."""
    prefix: str | None = None
    """Fixed text placed before every statement (``""`` is the empty condition)."""
    context: ContextKey | None = None
    """Take each fact's ``contexts.<key>``; facts without one are left out of this condition."""
    description: Text | None = None
    """What the condition is meant to do."""

    @model_validator(mode="after")
    def _one_source(self) -> Condition:
        if (self.prefix is None) == (self.context is None):
            raise ValueError("a condition needs exactly one of 'prefix' or 'context'")
        if self.prefix is not None and "\x00" in self.prefix:
            raise ValueError("prefix contains a NUL character")
        return self

    @property
    def is_empty(self) -> bool:
        """True for the empty condition (start-of-text token only)."""
        return self.prefix == ""


class ConditionsFile(_Strict):
    """A conditions file: ``{schema_version: 1, conditions: [...]}`` or a bare list of conditions."""

    schema_version: Literal[1] = 1
    """Format version."""
    conditions: list[Condition] = Field(min_length=1)
    """The conditions; names unique; ``empty`` must exist."""

    def get(self, name: str) -> Condition:
        """The condition called ``name``."""
        for c in self.conditions:
            if c.name == name:
                return c
        raise KeyError(name)
