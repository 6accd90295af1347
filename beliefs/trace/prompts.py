"""What is traced in one prompt pair: the shared part, its corrupted content tokens, the traced tokens.

Both forms are rendered exactly as ``probe`` renders them (start token, condition text, separator,
statement; :func:`beliefs.inputs.prompts.render`). They share every token up to the first one that
differs, at index ``diff``. Then

- the **traced margin** is ``logp(true) − logp(false)`` summed over the tokens from ``diff`` to the end
  of each form, given everything before (the shared part is the same in both, so only the difference
  is scored);
- the **content tokens** are the statement's shared tokens except the last one: ``[start, diff − 1)``.
  They are corrupted (as the subject tokens are in Meng et al. 2022);
- the **last token** is the one just before the difference, ``diff − 1``: left uncorrupted, like the
  prompt's final token in the paper, so its state is corrupted only through attention.

A pair is *untraceable* when its forms differ at the statement's first token (nothing shared:
``differs-at-first-token``) or share only one statement token (no content token to corrupt:
``one-shared-token``).
"""

from __future__ import annotations

from dataclasses import dataclass

from beliefs.inputs.prompts import StartToken, render

POSITIONS = ("content", "last")
"""Restored position groups: the corrupted content tokens (together), and the last token before the
difference."""

DIFFERS_AT_FIRST = "differs-at-first-token"
ONE_SHARED = "one-shared-token"


@dataclass(frozen=True)
class PairPrompt:
    """Token ids of a fact's two forms under one condition, and the positions tracing uses."""

    ref: str
    """``fact_set/fact_id``."""
    true_ids: tuple[int, ...]
    false_ids: tuple[int, ...]
    start: int
    """Index of the statement's first token."""
    diff: int
    """Index of the first token where the forms differ."""

    @property
    def reason(self) -> str | None:
        """Why the pair cannot be traced, or None."""
        if self.diff <= self.start:
            return DIFFERS_AT_FIRST
        if self.diff - 1 <= self.start:
            return ONE_SHARED
        return None

    @property
    def content(self) -> tuple[int, ...]:
        return tuple(range(self.start, self.diff - 1))

    @property
    def last(self) -> int:
        return self.diff - 1

    def positions(self, group: str) -> tuple[int, ...]:
        """Indices of a position group: ``content``, ``last`` or ``all`` (both)."""
        if group == "content":
            return self.content
        if group == "last":
            return (self.last,)
        if group == "all":
            return (*self.content, self.last)
        raise ValueError(f"position group should be one of content, last, all, but got {group!r}")

    def ids(self, form: str) -> tuple[int, ...]:
        return self.true_ids if form == "true" else self.false_ids

    def packed(self) -> Packed:
        """Both forms in one sequence: the shared part once, then each form's tail (see :class:`Packed`)."""
        d, lt, lf = self.diff, len(self.true_ids), len(self.false_ids)
        t_tail, f_tail = self.true_ids[d : lt - 1], self.false_ids[d : lf - 1]
        f0 = d + len(t_tail)

        def index(offset: int, p: int) -> int:
            return p if p < d else offset + p - d

        return Packed(
            ids=(*self.true_ids[:d], *t_tail, *f_tail),
            positions=(*range(d), *range(d, d + len(t_tail)), *range(d, d + len(f_tail))),
            segments=(0,) * d + (1,) * len(t_tail) + (2,) * len(f_tail),
            true=tuple((index(d, j - 1), self.true_ids[j]) for j in range(d, lt)),
            false=tuple((index(f0, j - 1), self.false_ids[j]) for j in range(d, lf)),
        )


@dataclass(frozen=True)
class Packed:
    """A pair's two forms packed into one sequence for the tracer.

    The forms share every token before ``diff``, and only the tokens from ``diff`` on are scored, so one
    sequence holds the shared part once (segment 0), then the true form's tokens from ``diff`` to its
    last-but-one (segment 1), then the false form's (segment 2): a form's last token is never an input.
    A token attends to the shared part and to earlier tokens of its own segment (:meth:`allowed`), and
    keeps its position in its own form, so every score is the one the form's own pass would give.
    Restorations patch positions before ``diff`` only, which are the same in both forms.
    """

    ids: tuple[int, ...]
    positions: tuple[int, ...]
    """Position of each token in its own form."""
    segments: tuple[int, ...]
    true: tuple[tuple[int, int], ...]
    """``(index in the packed sequence whose output predicts it, token id)`` of each scored true token."""
    false: tuple[tuple[int, int], ...]


def pair_prompt(
    tokenizer: object, start: StartToken, condition_text: str | None, ref: str, statement: str, false: str
) -> PairPrompt:
    """Render both forms and find where they part."""
    t = render(tokenizer, start, condition_text, statement)
    f = render(tokenizer, start, condition_text, false)
    n = min(len(t.ids), len(f.ids))
    diff = next((i for i in range(n) if t.ids[i] != f.ids[i]), n)
    return PairPrompt(ref, t.ids, f.ids, min(t.start, f.start), diff)
