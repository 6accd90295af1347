"""Verdicts: one rule, one significance level and one table of smallest effects of interest for every
headline (the analyses', the surface baseline's and elicitation's).

Every headline in ``summary.json`` gets

- ``sesoi``: the smallest effect size of interest of its statistic (:data:`beliefs.results.sesoi.SESOI`,
  justified there), and
  ``equivalence_bounds``, the interval of estimates that count as "no effect of interest";
- ``p_equivalence``: TOST p of "the effect lies inside ±SESOI" from the headline's 95% interval
  (:func:`beliefs.stats.equivalence.tost_from_interval`), or an analysis' own bootstrap TOST;
- ``mde_80``: the effect the test detects with 80% power at α = 0.05, by simulation (the analyses
  compute it from their data; for headlines that only carry ``null_mean`` and ``null_critical`` it is
  approximated from those, and ``mde_method`` says so);
- ``verdict``, one of :data:`VERDICTS`, by :func:`verdict_of`.

Verdict rule (α = :data:`ALPHA` everywhere), on **family-adjusted** p-values (:data:`FAMILY_DEFINITION`):
each model's headlines on one fact set are one family, declared before the data. The primary headline
(:data:`PRIMARY`: the kind-probe's incremental probe under the empty prompt, pooled over domains) is tested
alone; every other headline is secondary. Beyond-surface p-values of the secondary headlines are
Benjamini–Hochberg-adjusted (:data:`FAMILY_METHOD`) and gated by the primary (fixed sequence:
``max(primary p, BH p)``), so where no kind difference exists the chance of any "differs" in a model is at
most α, and among the secondary claims the false discovery rate is at most α; plain p-values and TOST
p-values are adjusted the same way across
the model's headlines, each kind of claim on its own.

- ``differs``: ``p_beyond_surface_family ≤ α`` — a difference that the surface features (wording, length,
  tokens, word frequency, baseline log-probability) do not explain. The beyond-surface test is a test of
  kind given the surface, so it counts even where the plain test does not reject (the surface can mask a
  difference as well as fake one); such headlines carry ``beyond_surface_only: true``;
- ``surface-explained``: ``p_value_family ≤ α`` but the beyond-surface test does not reject, **or the
  headline has no beyond-surface test**: a difference is found, but nothing shows that it goes beyond
  wording;
- ``equivalent``: neither rejects, and ``p_equivalence_family ≤ α``: the plain effect lies within ±SESOI;
- ``inconclusive``: none of these.

**One statistic per verdict**: the statistic whose test rejected is the one whose interval and TOST say
"negligible" (``negligible: true``, printed "differs (negligible)"; Lakens 2017): for ``differs`` the
beyond-surface statistic (the kind-probe's increment against its own SESOI, the residual distance against
its own null floor, the surface-adjusted hinge coefficient), for ``surface-explained`` the plain one.
Where the deciding statistic has no interval or SESOI, ``negligible`` is None (size not judged). Each
headline says which test decided (``decided_by``, ``p_family``), the deciding statistic's
``verdict_estimate``/``verdict_ci_low``/``verdict_ci_high``/``verdict_sesoi``, and ``how``: one line.

Where each analysis takes its beyond-surface p-value from (``beyond_surface_test`` in the headline):

- ``kind-probe``, ``kind-distance``: the incremental / conditional-permutation tests of
  :mod:`beliefs.analyses.kind` (key ``p_beyond_surface``, when that module provides it);
- ``default-belief``, ``robustness``: the hinge term of a Freedman–Lane permutation regression on the
  per-fact values with the surface covariates (domain, token counts and, for context effects, the
  baseline margin per token): the kinds differ beyond length and baseline;
- ``elicitation``: the headline is a within-fact contrast (the same statement under the empty and the
  detailed prompts), so the fact's wording cancels: its p is the beyond-surface p;
- ``hingeness`` ``rsa_kind``: on a set whose facts are all paired, the partial Mantel test with kinds
  swapped within pairs; elsewhere (and ``rsa_hingeness`` always) none: a partial Mantel test permuted across
  a domain does not hold its size on surface-only nulls;
- ``truth-geometry`` and ``surface``: no beyond-surface test; a rejection reads ``surface-explained``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from beliefs.results import columns as C
from beliefs.results.sesoi import (
    CENTROID,
    CLIFF,
    INCREMENT_SESOI,
    MARGIN_PER_TOKEN,
    SALIENCE,
    SESOI,
    SESOI_BACC,
    Sesoi,
    equivalence_bounds,
    sesoi_for,
)
from beliefs.stats.equivalence import tost_from_interval

ALPHA = 0.05
"""The one significance level of every verdict, "found" flag and table mark."""

VERDICTS = ("differs", "surface-explained", "equivalent", "inconclusive")
VERDICT_DEFINITION = (
    "differs: the family-adjusted beyond-surface p <= 0.05 (the primary headline alone; secondary ones "
    "Benjamini-Hochberg across the model's headlines and gated by the primary); surface-explained: the "
    "adjusted plain p <= "
    "0.05 without such a rejection (or without a beyond-surface test); equivalent: otherwise, the "
    "adjusted TOST p <= 0.05 (the plain effect lies within +-sesoi); inconclusive: none of these. A "
    "rejection whose own statistic's interval lies within +-sesoi (adjusted TOST) is marked negligible"
)


def significant(p: float | None, alpha: float = ALPHA) -> bool:
    """``p ≤ alpha`` for a p-value that exists (None and NaN are not significant)."""
    return p is not None and math.isfinite(p) and p <= alpha


def _normal_mde(h: Mapping[str, Any]) -> float | None:
    """MDE from the null's mean and 95th percentile (normal approximation), for headlines without one."""
    m, crit = h.get("null_mean"), h.get("null_critical")
    if m is None or crit is None or not (math.isfinite(m) and math.isfinite(crit)):
        return None
    from scipy.stats import norm

    sd = (crit - m) / norm.ppf(1 - ALPHA)
    return float(crit - m + norm.ppf(0.8) * sd)


PRIMARY = ("kind-probe", "massmean_bacc", "empty")
"""The pre-registered primary headline of every (model, fact set): ``(analysis, statistic, condition)``,
pooled over domains. Its test is the kind-probe's incremental probe (do the states predict the kind better
than the surface features, under the empty prompt?), tested alone at :data:`ALPHA`."""

FAMILY_METHOD = "bh"
"""How the secondary headlines' p-values are adjusted: Benjamini–Hochberg (``"bh"``, false discovery rate)
or Holm (``"holm"``, family-wise error). BH is the default: with the primary's gate the chance of any
"differs" in a model where nothing differs is at most α either way, and at 2,000 permutations (p ≥ 1/2001)
Holm over ~70 headlines could reject only p-values at the floor."""
FAMILY_DEFINITION = (
    "Families per model and fact set, declared before the data: the primary headline (kind-probe, empty "
    "prompt, pooled; its beyond-surface increment) is tested alone at alpha = 0.05; every other headline is "
    "secondary. Each kind of claim is adjusted across the model's headlines with Benjamini-Hochberg (false "
    "discovery rate 0.05): beyond-surface p-values (differs) across the secondary headlines, gated by the "
    "primary (fixed sequence: a secondary p_beyond_surface_family is max(primary p, BH p), so no secondary "
    "headline differs unless the primary does: where no kind difference exists, the chance of any 'differs' "
    "in a model is at most alpha); plain p-values (surface-explained) across all headlines; TOST p-values "
    "(equivalent, negligible) across all headlines. Verdicts read the adjusted p-values. A degenerate "
    "headline (its estimate collapsed, e.g. an angle clipped at 0 degrees with no interval) is in no family "
    "and is inconclusive."
)


def verdict_of(h: Mapping[str, Any], alpha: float = ALPHA) -> str:
    """The verdict word of a headline from its family-adjusted p-values where present (see
    :func:`attach_verdicts`), else (a headline judged alone) from its raw ones."""
    fam = "p_beyond_surface_family" in h
    p_bs = h.get("p_beyond_surface_family") if fam else h.get("p_beyond_surface")
    p_plain = h.get("p_value_family") if fam else h.get(C.P_VALUE)
    p_eq = h.get("p_equivalence_family") if fam else h.get("p_equivalence")
    if significant(p_bs, alpha):
        return "differs"
    if significant(p_plain, alpha):
        return "surface-explained"
    if significant(p_eq, alpha):
        return "equivalent"
    return "inconclusive"


def adjust(p: list[float | None], method: str = FAMILY_METHOD) -> list[float | None]:
    """Adjusted p-values of one family by ``method`` (``"bh"`` or ``"holm"``); None and NaN are left out
    of the family and returned as None."""
    if method == "holm":
        return holm(p)
    from beliefs.stats.permutation import bh_adjust

    arr = np.array([np.nan if v is None else v for v in p], dtype=float)
    out = bh_adjust(arr) if arr.size else arr
    return [float(v) if math.isfinite(v) else None for v in out]


def holm(p: list[float | None]) -> list[float | None]:
    """Holm step-down adjusted p-values (``statsmodels.stats.multitest.multipletests(method="holm")``),
    None and NaN left out of the family and returned as None."""
    idx = [i for i, v in enumerate(p) if v is not None and math.isfinite(v)]
    out: list[float | None] = [None] * len(p)
    m = len(idx)
    running = 0.0
    for rank, i in enumerate(sorted(idx, key=lambda j: (p[j], j))):
        value = p[i]
        assert value is not None
        running = max(running, min(1.0, (m - rank) * value))
        out[i] = running
    return out


def beyond_statistic(h: Mapping[str, Any], width: int | None = None) -> dict[str, Any] | None:
    """The statistic behind a headline's beyond-surface test, with its interval and SESOI where it has them:
    ``{"name", "estimate", "ci_low", "ci_high", "sesoi", "bounds"}`` (``sesoi``/``bounds`` None where its
    size cannot be judged). None where the headline has no beyond-surface test; where the beyond-surface
    test is a test of the plain statistic itself (elicitation's within-fact contrast, the hingeness
    read-out), the plain statistic."""
    if h.get("p_beyond_surface") is None:
        return None
    analysis, statistic = h[C.ANALYSIS], h[C.STATISTIC]
    if analysis == "kind-probe" and h.get("increment_estimate") is not None:
        inc = INCREMENT_SESOI.get(
            _increment_key(str(h.get("increment_statistic"))), INCREMENT_SESOI["delta_brier"]
        )
        # "no effect" is the permutation null's mean: states unrelated to the kind cost a ridge probe a
        # little Brier score (the null's increment is below 0), and that is what the test compares with
        ref = h.get("increment_null_mean")
        ref = float(ref) if ref is not None and math.isfinite(ref) else 0.0
        return {
            "name": "increment",
            "estimate": h["increment_estimate"],
            "ci_low": h.get("increment_ci_low"),
            "ci_high": h.get("increment_ci_high"),
            "sesoi": inc.value,
            "bounds": (ref - inc.value, ref + inc.value),
            "reference": ref,
        }
    if analysis == "kind-distance" and h.get("increment_estimate") is not None:
        delta = sesoi_for(h, width)
        ref = h.get("increment_null_mean")
        bounds = None
        if delta is not None and ref is not None and math.isfinite(ref):
            bounds = equivalence_bounds({**h, "null_mean": ref}, delta)
        return {
            "name": f"residual {statistic} distance",
            "estimate": h["increment_estimate"],
            "ci_low": h.get("increment_ci_low"),
            "ci_high": h.get("increment_ci_high"),
            "sesoi": delta,
            "bounds": bounds,
        }
    if h.get("adjusted_hinge_coef") is not None:
        same_units = SESOI.get((analysis, statistic)) is MARGIN_PER_TOKEN
        return {
            "name": "hinge coefficient adjusted for the surface",
            "estimate": h["adjusted_hinge_coef"],
            "ci_low": h.get("adjusted_hinge_coef_ci_low"),
            "ci_high": h.get("adjusted_hinge_coef_ci_high"),
            "sesoi": MARGIN_PER_TOKEN.value if same_units else None,
            "bounds": (-MARGIN_PER_TOKEN.value, MARGIN_PER_TOKEN.value) if same_units else None,
        }
    if h.get("pair_adjusted_estimate") is not None:
        return {
            "name": "within-pair difference adjusted for the twins' surface",
            "estimate": h["pair_adjusted_estimate"],
            "ci_low": None,
            "ci_high": None,
            "sesoi": None,
            "bounds": None,
        }
    if h.get("p_beyond_surface") == h.get(C.P_VALUE):  # the plain statistic is the beyond-surface one
        bounds = h.get("equivalence_bounds")
        return {
            "name": "the headline statistic",
            "estimate": h.get(C.ESTIMATE),
            "ci_low": h.get(C.CI_LOW),
            "ci_high": h.get(C.CI_HIGH),
            "sesoi": h.get("sesoi"),
            "bounds": tuple(-math.inf if b is None else b for b in bounds) if bounds else None,
            "p_equivalence": h.get("p_equivalence"),
        }
    return {
        "name": "beyond-surface statistic",
        "estimate": None,
        "ci_low": None,
        "ci_high": None,
        "sesoi": None,
        "bounds": None,
    }


def is_degenerate(h: Mapping[str, Any]) -> bool:
    """Whether ``h``'s estimate collapsed (an analysis says so with ``degenerate: true``, or an estimate of
    exactly 0 without any interval, e.g. a noise-corrected angle clipped at 0°): not a finding, kept out of
    every family and judged inconclusive."""
    if h.get("degenerate"):
        return True
    est = h.get(C.ESTIMATE)
    no_interval = all(h.get(k) is None or not math.isfinite(float(h[k])) for k in (C.CI_LOW, C.CI_HIGH))
    return est is not None and math.isfinite(float(est)) and float(est) == 0.0 and no_interval


def is_primary(h: Mapping[str, Any]) -> bool:
    """Whether ``h`` is its model's pre-registered primary headline (:data:`PRIMARY`)."""
    return (h[C.ANALYSIS], h[C.STATISTIC], h[C.CONDITION]) == PRIMARY and not h.get("domain")


def attach_verdicts(headlines: list[dict[str, Any]], widths: Mapping[str, int] | None = None) -> None:
    """Give every headline its sizes, family-adjusted p-values and verdict (in place).

    Per headline: ``sesoi``, ``equivalence_bounds``, ``p_equivalence`` (TOST of the plain estimate), ``mde_80``
    (values an analysis already computed are kept); the beyond-surface statistic's ``verdict_estimate``,
    interval and ``p_equivalence_beyond`` (its own TOST against its own SESOI). Then per model (a family,
    :data:`FAMILY_DEFINITION`): ``family`` (primary / secondary / none), ``p_beyond_surface_family``,
    ``p_value_family``, ``p_equivalence_family``, ``gated``; and ``verdict``, ``decided_by``, ``p_family``,
    ``negligible`` (True / False, or None where the deciding statistic has no interval or SESOI),
    ``verdict_estimate``/``verdict_ci_low``/``verdict_ci_high``/``verdict_sesoi`` (the statistic whose test
    decided) and ``how``, one line saying how the verdict was reached.
    ``widths``: hidden-state width per model (the energy SESOI scales with it)."""
    for h in headlines:
        h.setdefault("domain", "")
        width = (widths or {}).get(h[C.MODEL])
        delta = sesoi_for(h, width)
        h["sesoi"] = delta
        if delta is not None and h.get("p_equivalence") is None:
            bounds = equivalence_bounds(h, delta)
            h["equivalence_bounds"] = [_finite(b) for b in bounds] if bounds else None
            h["p_equivalence"] = _tost(h, bounds)
        if h.get("mde_80") is None:
            h["mde_80"] = _normal_mde(h)
            if h["mde_80"] is not None:
                h["mde_method"] = "normal approximation from null_mean and null_critical"
        inc = INCREMENT_SESOI.get(_increment_key(str(h.get("increment_statistic"))))
        if inc is not None and h.get("increment_estimate") is not None:
            h["increment_sesoi"] = inc.value
        bs = beyond_statistic(h, width)
        h["p_equivalence_beyond"] = None
        if bs is not None:
            h["beyond_statistic"] = bs["name"]
            h["beyond_sesoi"] = bs["sesoi"]
            if "p_equivalence" in bs:
                h["p_equivalence_beyond"] = bs["p_equivalence"]
            elif bs["bounds"] is not None and bs["estimate"] is not None:
                h["p_equivalence_beyond"] = _finite(
                    tost_from_interval(bs["estimate"], _num(bs["ci_low"]), _num(bs["ci_high"]), *bs["bounds"])
                )
            if h[C.ANALYSIS] == "kind-probe" and h.get("increment_estimate") is not None:
                h["p_equivalence_increment"] = h["p_equivalence_beyond"]
    models: dict[str, list[dict[str, Any]]] = {}
    for h in headlines:
        models.setdefault(h[C.MODEL], []).append(h)
    for family in models.values():
        _family_verdicts(family)


def _family_verdicts(family: list[dict[str, Any]], alpha: float = ALPHA) -> None:
    """Family-adjusted p-values and verdicts of one model's headlines (:data:`FAMILY_DEFINITION`);
    degenerate headlines (:func:`is_degenerate`) are left out of the family."""
    for h in family:
        if is_degenerate(h):
            _degenerate(h)
    family = [h for h in family if not is_degenerate(h)]
    primary = next((h for h in family if is_primary(h) and h.get("p_beyond_surface") is not None), None)
    secondary = [h for h in family if h is not primary]
    p_primary = primary.get("p_beyond_surface") if primary is not None else None
    gate_open = primary is None or significant(p_primary, alpha)
    adjusted = adjust([h.get("p_beyond_surface") for h in secondary])
    for h, p in zip(secondary, adjusted, strict=True):
        if p is not None and primary is not None:
            p = max(p, float(p_primary)) if p_primary is not None else None
        h["p_beyond_surface_family"] = p
        h["gated"] = bool(
            primary is not None and not gate_open and significant(h.get("p_beyond_surface"), alpha)
        )
    if primary is not None:
        primary["p_beyond_surface_family"] = p_primary
        primary["gated"] = False
    for h, p in zip(family, adjust([h.get(C.P_VALUE) for h in family]), strict=True):
        h["p_value_family"] = p
    # the TOST each headline's verdict would read: of the deciding statistic where a test rejects it,
    # else of the plain estimate (an equivalence claim)
    tost_source: list[float | None] = []
    for h in family:
        if significant(h.get("p_beyond_surface_family"), alpha):
            tost_source.append(h.get("p_equivalence_beyond"))
        else:
            tost_source.append(h.get("p_equivalence"))
    for h, p in zip(family, adjust(tost_source), strict=True):
        h["p_equivalence_family"] = p
    n_secondary = sum(1 for h in secondary if h.get("p_beyond_surface") is not None)
    n_plain = sum(1 for h in family if h.get(C.P_VALUE) is not None)
    for h in family:
        tested = any(h.get(k) is not None for k in (C.P_VALUE, "p_beyond_surface", "p_equivalence"))
        h["family"] = "primary" if h is primary else ("secondary" if tested else "none")
        word = verdict_of(h, alpha)
        h["verdict"] = word
        _explain(h, word, n_secondary, n_plain, p_primary, alpha)
        h["beyond_surface_only"] = word == "differs" and not significant(h.get(C.P_VALUE), alpha)


def _explain(
    h: dict[str, Any], word: str, n_secondary: int, n_plain: int, p_primary: float | None, alpha: float
) -> None:
    """``decided_by``, ``p_family``, ``negligible``, the deciding statistic and the ``how`` line of ``h``."""
    fmt = _fmt
    if word == "differs":
        h["decided_by"], h["p_family"] = "p_beyond_surface", h["p_beyond_surface_family"]
        est = (h.get("increment_estimate"), h.get("increment_ci_low"), h.get("increment_ci_high"))
        if h.get("adjusted_hinge_coef") is not None:
            est = (
                h["adjusted_hinge_coef"],
                h.get("adjusted_hinge_coef_ci_low"),
                h.get("adjusted_hinge_coef_ci_high"),
            )
        elif h.get("pair_adjusted_estimate") is not None:
            est = (h["pair_adjusted_estimate"], None, None)
        elif h.get("increment_estimate") is None:
            est = (h.get(C.ESTIMATE), h.get(C.CI_LOW), h.get(C.CI_HIGH))
        h["verdict_estimate"], h["verdict_ci_low"], h["verdict_ci_high"] = est
        h["verdict_sesoi"] = h.get("beyond_sesoi")
        p_eq = h.get("p_equivalence_beyond")
        h["negligible"] = None if p_eq is None else significant(h.get("p_equivalence_family"), alpha)
        family = (
            "alone at alpha"
            if h["family"] == "primary"
            else (
                f"{_METHOD_NAME[FAMILY_METHOD]} over {n_secondary} secondary beyond-surface tests, gated by the primary "
                f"(p {fmt(p_primary)})"
            )
        )
        size = (
            "size not judged (no interval or SESOI for this statistic)"
            if h["negligible"] is None
            else (
                f"within +-{fmt(h['verdict_sesoi'])} of no effect (TOST, adjusted p "
                f"{fmt(h['p_equivalence_family'])}): negligible"
                if h["negligible"]
                else f"not shown within +-{fmt(h['verdict_sesoi'])} (TOST adjusted p {fmt(h['p_equivalence_family'])})"
            )
        )
        chance = h.get("increment_null_mean") if h.get("increment_estimate") is not None else None
        h["how"] = (
            f"differs: {h.get('beyond_statistic', 'beyond-surface statistic')} "
            f"{fmt(h['verdict_estimate'])} [{fmt(h['verdict_ci_low'])}, {fmt(h['verdict_ci_high'])}]"
            + (f" (its null's mean {fmt(chance)})" if chance is not None else "")
            + ", "
            f"beyond-surface p {fmt(h.get('p_beyond_surface'))}, {family}: {fmt(h['p_family'])} <= {alpha}; {size}"
        )
        return
    h["verdict_estimate"], h["verdict_ci_low"], h["verdict_ci_high"] = (
        h.get(C.ESTIMATE),
        h.get(C.CI_LOW),
        h.get(C.CI_HIGH),
    )
    h["verdict_sesoi"] = h.get("sesoi")
    bs_note = ""
    if h.get("p_beyond_surface") is None:
        bs_note = "no beyond-surface test"
    else:
        bs_note = f"beyond-surface p {fmt(h.get('p_beyond_surface'))}, family-adjusted {fmt(h.get('p_beyond_surface_family'))}"
        if h.get("gated"):
            bs_note += f" (gated: the primary headline did not reject, p {fmt(p_primary)})"
        bs_note += f" > {alpha}"
    if word == "surface-explained":
        h["decided_by"], h["p_family"] = "p_value", h["p_value_family"]
        h["negligible"] = (
            None if h.get("p_equivalence") is None else significant(h.get("p_equivalence_family"), alpha)
        )
        h["how"] = (
            f"surface-explained: plain p {fmt(h.get(C.P_VALUE))}, {_METHOD_NAME[FAMILY_METHOD]} over {n_plain} "
            "plain tests: "
            f"{fmt(h['p_family'])} <= {alpha}; {bs_note}"
        )
    elif word == "equivalent":
        h["decided_by"], h["p_family"] = "p_equivalence", h["p_equivalence_family"]
        h["negligible"] = False
        h["how"] = (
            f"equivalent: {fmt(h.get(C.ESTIMATE))} [{fmt(h.get(C.CI_LOW))}, {fmt(h.get(C.CI_HIGH))}] within "
            f"+-{fmt(h.get('sesoi'))} of no effect (TOST p {fmt(h.get('p_equivalence'))}, adjusted "
            f"{fmt(h['p_family'])} <= {alpha}); plain p {fmt(h.get(C.P_VALUE))}; {bs_note}"
        )
    else:
        h["decided_by"], h["p_family"] = None, None
        h["negligible"] = False
        h["how"] = (
            f"inconclusive: plain p {fmt(h.get(C.P_VALUE))} (adjusted {fmt(h.get('p_value_family'))}); "
            f"{bs_note}; TOST p {fmt(h.get('p_equivalence'))} (adjusted {fmt(h.get('p_equivalence_family'))})"
        )


def _degenerate(h: dict[str, Any]) -> None:
    """The verdict fields of a degenerate headline: inconclusive, in no family."""
    h["degenerate"] = True
    h["family"] = "none"
    h["gated"] = False
    for k in ("p_beyond_surface_family", "p_value_family", "p_equivalence_family", "p_family", "decided_by"):
        h[k] = None
    h["verdict"] = "inconclusive"
    h["negligible"] = None
    h["beyond_surface_only"] = False
    h["verdict_estimate"], h["verdict_ci_low"], h["verdict_ci_high"] = h.get(C.ESTIMATE), None, None
    h["verdict_sesoi"] = h.get("sesoi")
    h["how"] = (
        f"inconclusive: the estimate collapsed to {_fmt(h.get(C.ESTIMATE))} with no interval (degenerate: "
        "not a finding); left out of the model's family"
    )


_METHOD_NAME = {"bh": "Benjamini-Hochberg", "holm": "Holm"}


def _fmt(x: Any) -> str:
    """A number for a ``how`` line: 3 significant figures, "-" where missing."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{float(x):.3g}"


def is_negligible(h: Mapping[str, Any], alpha: float = ALPHA) -> bool:
    """A rejection (differs or surface-explained) whose TOST (of the statistic that rejected, family-adjusted
    where families were formed) also says the effect lies within ±SESOI."""
    if "negligible" in h and h["negligible"] is not None:
        return bool(h["negligible"])
    return verdict_of(h, alpha) in ("differs", "surface-explained") and significant(
        h.get("p_equivalence"), alpha
    )


def verdict_word(h: Mapping[str, Any]) -> str:
    """A headline's verdict: the one the verdict step stored, else (an older summary) :func:`verdict_of`."""
    return str(h.get("verdict") or verdict_of(h))


def verdict_label(h: Mapping[str, Any]) -> str:
    """The verdict word as printed: ``differs (negligible)`` for a rejection inside ±SESOI."""
    word = verdict_word(h)
    negligible = h.get("negligible")
    if negligible is None and "decided_by" not in h:
        negligible = is_negligible(h)
    return f"{word} (negligible)" if negligible else word


def _increment_key(statistic: str) -> str:
    """The :data:`INCREMENT_SESOI` key of an ``increment_statistic`` (a key, or a description naming one)."""
    if "Brier" in statistic:
        return "delta_brier"
    return statistic


def _num(x: Any) -> float:
    return float(x) if x is not None else float("nan")


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _tost(h: Mapping[str, Any], bounds: tuple[float, float] | None) -> float | None:
    if bounds is None or h.get(C.ESTIMATE) is None:
        return None
    est, lo, hi = _num(h.get(C.ESTIMATE)), _num(h.get(C.CI_LOW)), _num(h.get(C.CI_HIGH))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        # No interval (a distance at its small-sample floor): the null's spread stands in for the
        # estimate's, from its mean and 95th percentile.
        m, crit = h.get("null_mean"), h.get("null_critical")
        if m is None or crit is None or not math.isfinite(est):
            return None
        from scipy.stats import norm

        half = (crit - m) / norm.ppf(1 - ALPHA) * norm.ppf(0.975)
        lo, hi = est - half, est + half
    return _finite(tost_from_interval(est, lo, hi, *bounds))


__all__ = [
    "ALPHA",
    "CENTROID",
    "CLIFF",
    "FAMILY_DEFINITION",
    "INCREMENT_SESOI",
    "MARGIN_PER_TOKEN",
    "PRIMARY",
    "SALIENCE",
    "SESOI",
    "SESOI_BACC",
    "VERDICTS",
    "VERDICT_DEFINITION",
    "Sesoi",
    "attach_verdicts",
    "beyond_statistic",
    "equivalence_bounds",
    "holm",
    "is_negligible",
    "is_primary",
    "sesoi_for",
    "significant",
    "verdict_label",
    "verdict_of",
]
