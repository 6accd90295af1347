"""One verdict row per headline: the statistic behind the verdict, the p that decided it beside the
others, a one-line account of how it was reached, and whether the row is a finding at all (a baseline,
a degenerate statistic or an untested row is labelled as such and kept out of agreement counts).

Reads the verdict fields of ``summary.json`` with ``.get``: older summaries lack ``decided_by``,
``p_family``, ``verdict_estimate``, ``how`` and the rest, and the row derives what it can from the
plain fields instead."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from beliefs.report import names
from beliefs.report.numbers import finite, interval, num, pval
from beliefs.results.verdict import ALPHA, is_degenerate, significant, verdict_label, verdict_word

QUESTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "kind",
        "Are hinge and contingent beliefs encoded differently?",
        ("kind-probe", "kind-distance", "surface", "truth-geometry"),
    ),
    (
        "default",
        "Which form does the model default to, and do the kinds differ?",
        ("default-belief", "robustness", "elicitation"),
    ),
    ("hingeness", "Does what the model treats as a hinge match the labels?", ("hingeness",)),
    ("localisation", "Is the preference for the true form computed in different places?", ("causal-trace",)),
)
"""The report's questions: (anchor, question, analyses answering it), in the order the report asks them."""

STATUS = {
    "tested": "",
    "baseline": "baseline",
    "degenerate": "degenerate: not a finding",
    "untested": "not tested",
    "gated": "withheld (primary did not reject)",
}

P_KEYS = ("p_value", "p_beyond_surface", "p_equivalence")


def question_of(analysis: str) -> str:
    """The anchor of the question an analysis answers (``other`` for an unknown analysis)."""
    return next((q for q, _, analyses in QUESTIONS if analysis in analyses), "other")


def _status(h: Mapping[str, Any]) -> str:
    if h.get("gated"):
        return "gated"
    if h.get("analysis") == "surface":
        return "baseline"
    if is_degenerate(h):
        return "degenerate"
    if all(finite(h.get(k)) is None for k in P_KEYS):
        return "untested"
    return "tested"


def decided_by(h: Mapping[str, Any]) -> str | None:
    """Which p decided the verdict: the stored ``decided_by``, else the one the verdict rule reads."""
    if "decided_by" in h:
        return h.get("decided_by")
    return {
        "differs": "p_beyond_surface",
        "surface-explained": "p_value",
        "equivalent": "p_equivalence",
    }.get(verdict_word(h))


def _uses_increment(h: Mapping[str, Any]) -> bool:
    """Whether the verdict's statistic is the beyond-surface increment rather than the estimate."""
    if h.get("verdict_estimate") is not None:
        return finite(h.get("verdict_estimate")) != finite(h.get("estimate"))
    return (
        verdict_word(h) == "differs"
        and finite(h.get("increment_estimate")) is not None
        and finite(h.get("increment_sesoi")) is not None
    )


def verdict_statistic(h: Mapping[str, Any]) -> tuple[str, Any, Any, Any, Any]:
    """(name, estimate, ci_low, ci_high, sesoi) of the statistic behind the verdict."""
    if h.get("verdict_estimate") is not None:
        name = h.get("increment_statistic") if _uses_increment(h) else h.get("statistic")
        return (
            _short_increment(str(name or h.get("statistic"))),
            h.get("verdict_estimate"),
            h.get("verdict_ci_low"),
            h.get("verdict_ci_high"),
            h.get("verdict_sesoi"),
        )
    if _uses_increment(h):
        return (
            _short_increment(str(h.get("increment_statistic"))),
            h.get("increment_estimate"),
            h.get("increment_ci_low"),
            h.get("increment_ci_high"),
            h.get("increment_sesoi"),
        )
    return (str(h.get("statistic")), h.get("estimate"), h.get("ci_low"), h.get("ci_high"), h.get("sesoi"))


def _short_increment(text: str) -> str:
    """A code name for an increment described in words (``… Brier score …`` → ``delta_brier``)."""
    for word, code in (("Brier", "delta_brier"), ("log-loss", "delta_logloss"), ("R²", "delta_r2")):
        if word in text:
            return code
    if "balanced accuracy" in text:
        return "delta_bacc"
    return text


def how(h: Mapping[str, Any], permutations: Any = None) -> str:
    """One line: how this verdict was reached (the stored ``how`` where the summary has one)."""
    if h.get("how"):
        return str(h["how"])
    b = h.get("n_permutations") or permutations

    def p(key: str) -> str:
        return pval(h.get(key), b)

    status = _status(h)
    if status == "degenerate":
        return (
            "The statistic is exactly 0 with no bootstrap interval: it collapsed (e.g. a direction that "
            "cannot be estimated at this size), so the row is not a finding."
        )
    if status == "baseline":
        return (
            "The surface baseline: how well the wording alone (length, log-probability, words) separates the "
            f"kinds (plain p {p('p_value')}). It is the yardstick of the beyond-surface tests, not a finding."
        )
    if status == "gated":
        return "Withheld: a secondary beyond-surface claim, and this model's primary headline did not reject."
    word = verdict_word(h)
    sesoi = f"{finite(h.get('sesoi')):.3g}" if finite(h.get("sesoi")) is not None else "–"
    test = h.get("beyond_surface_test")
    family = f"; family-adjusted p {p('p_family')}" if finite(h.get("p_family")) is not None else ""
    if word == "differs":
        text = f"The beyond-surface test rejects (p {p('p_beyond_surface')} ≤ {ALPHA}{family})"
        if test:
            text += f": {test}"
        if not significant(h.get("p_value")):
            text += f". The plain test alone does not (p {p('p_value')}): the wording masked the difference"
        if h.get("negligible"):
            text += f". The interval lies within ±SESOI {sesoi} (TOST p {p('p_equivalence')}): negligible"
        return text + "."
    if word == "surface-explained":
        if finite(h.get("p_beyond_surface")) is None:
            return (
                f"The plain test rejects (p {p('p_value')}{family}), but this analysis has no beyond-surface "
                "test: nothing shows that the difference goes beyond the wording."
            )
        return (
            f"The plain test rejects (p {p('p_value')}) but the beyond-surface test does not "
            f"(p {p('p_beyond_surface')}): the wording accounts for the difference."
        )
    if word == "equivalent":
        return (
            f"No test rejects (plain p {p('p_value')}, beyond-surface p {p('p_beyond_surface')}) and the TOST "
            f"against ±SESOI {sesoi} does (p {p('p_equivalence')}): any effect is smaller than the SESOI."
        )
    mde = h.get("mde_80")
    tail = f"; with {h.get('n_facts')} facts the test detects {num(mde)} with 80% power" if mde else ""
    return (
        f"No test rejects (plain p {p('p_value')}, beyond-surface p {p('p_beyond_surface')}) and the TOST "
        f"does not place the effect within ±SESOI {sesoi} (p {p('p_equivalence')}){tail}."
    )


@dataclass(frozen=True)
class VerdictRow:
    """A headline as the report prints it."""

    analysis: str
    statistic: str
    model: str
    control: str
    condition: str
    domain: str
    status: str
    """``tested``, ``baseline``, ``degenerate``, ``untested`` or ``gated`` (see :data:`STATUS`)."""
    verdict: str
    verdict_word: str
    shown_statistic: str
    """Code name of the statistic whose estimate and interval are shown (the increment for a beyond-surface
    verdict)."""
    estimate: str
    interval: str
    sesoi: str
    decided_by: str
    """Plain name and value of the p that decided the verdict (``–`` where none did)."""
    p_value: str
    p_beyond_surface: str
    p_family: str
    p_equivalence: str
    mde: str
    how: str
    family: str
    headline: Mapping[str, Any]

    @property
    def counts(self) -> bool:
        """Whether the row is a finding that agreement counts may include."""
        return self.status == "tested"

    @property
    def model_label(self) -> str:
        base = self.model.split("@")[0]
        return f"{base} (random-init control)" if self.control else base


def verdict_row(h: Mapping[str, Any], permutations: Any = None) -> VerdictRow:
    """The :class:`VerdictRow` of headline ``h``; ``permutations``: the summary's B, for p at its floor."""
    b = h.get("n_permutations") or permutations
    status = _status(h)
    shown, est, lo, hi, sesoi = verdict_statistic(h)
    key = decided_by(h)
    decided = "–"
    if key and status == "tested":
        value = h.get("p_family") if finite(h.get("p_family")) is not None else h.get(key)
        adjusted = " (family-adjusted)" if finite(h.get("p_family")) is not None else ""
        decided = f"{names.P_VALUES.get(key, key)}{adjusted} {pval(value, b)}"
    word = verdict_word(h)
    label = verdict_label(h) if status == "tested" else STATUS[status]
    if status == "tested" and word == "surface-explained" and finite(h.get("p_beyond_surface")) is None:
        label = "found; no beyond-surface test"
    return VerdictRow(
        analysis=str(h.get("analysis")),
        statistic=str(h.get("statistic")),
        model=str(h.get("model")),
        control=str(h.get("control") or ""),
        condition=str(h.get("condition") or ""),
        domain=str(h.get("domain") or ""),
        status=status,
        verdict=label,
        verdict_word=word if status == "tested" else status,
        shown_statistic=shown,
        estimate=num(est) if status != "degenerate" else "0 (collapsed)",
        interval=interval(lo, hi),
        sesoi=f"{finite(sesoi):.3g}" if finite(sesoi) is not None else "",  # a declared constant: as declared
        decided_by=decided,
        p_value=pval(h.get("p_value"), b),
        p_beyond_surface=pval(h.get("p_beyond_surface"), b) if h.get("p_beyond_surface") is not None else "",
        p_family=pval(h.get("p_family"), b) if h.get("p_family") is not None else "",
        p_equivalence=pval(h.get("p_equivalence"), b) if status == "tested" else "",
        mde=num(h.get("mde_80")) if status == "tested" and h.get("mde_80") is not None else "",
        how=how(h, b),
        family=str(h.get("family") or ""),
        headline=h,
    )


def verdict_rows(headlines: Sequence[Mapping[str, Any]], permutations: Any = None) -> list[VerdictRow]:
    """Rows of every headline, with a control's surface baseline dropped where it repeats the model's (the
    wording is the same for a model and its control)."""
    seen: dict[tuple[Any, ...], Any] = {}
    rows = []
    for h in headlines:
        if h.get("analysis") == "surface":
            key = (h.get("statistic"), h.get("condition"), h.get("domain"), str(h.get("model")).split("@")[0])
            if key in seen and seen[key] == finite(h.get("estimate")):
                continue
            seen[key] = finite(h.get("estimate"))
        rows.append(verdict_row(h, permutations))
    return rows
