"""Smallest effects of interest (SESOI): one declaration per statistic, with its justification, and the
bounds inside which an estimate counts as no effect of interest. :mod:`beliefs.results.verdict` reads them
for every headline's ``sesoi``, ``p_equivalence`` and ``negligible``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from beliefs.results import columns as C


@dataclass(frozen=True)
class Sesoi:
    """The smallest effect size of interest of one statistic, and what "no effect" means for it."""

    value: float
    unit: str
    reference: str
    """``zero``: no effect is an estimate of 0 (signed differences); ``null``: no effect is the
    permutation null's mean (chance accuracy, the small-sample floor of a distance or angle)."""
    combine: str
    """How an effect adds to the null's floor: ``additive`` (the effect is ``estimate − null_mean``),
    ``quadrature`` (``estimate² ≈ effect² + null_mean²``: norms of noisy vectors and angles between
    them, whose noise adds in quadrature)."""
    sides: str
    """``two``: effects in both directions are of interest; ``upper``: the statistic cannot fall below
    its floor (distances, angles), so only "at least the SESOI above it" is tested."""
    why: str


SESOI_BACC = Sesoi(
    0.03,
    "balanced accuracy above chance",
    "null",
    "additive",
    "two",
    "3 points of balanced accuracy (about 7 of the core set's 229 facts classified better than chance). "
    "The cross-validated estimate moves by 1-2 points between split seeds alone and carries about ±10 "
    "points of sampling error at n ≈ 100 (Varoquaux 2018); decoding gains below 3 points are not read "
    "as an encoding difference in the probing literature. Chance is the permutation null's mean.",
)
CLIFF = Sesoi(
    0.147,
    "Cliff's δ",
    "zero",
    "additive",
    "two",
    "|δ| < 0.147 is 'negligible' on the scale of Romano et al. (2006), the usual thresholds for Cliff's δ "
    "(0.147 / 0.33 / 0.474 for small / medium / large): it corresponds to Cohen's d ≈ 0.2 for normal data.",
)
MARGIN_PER_TOKEN = Sesoi(
    0.2,
    "nats per token",
    "zero",
    "additive",
    "two",
    "0.2 nats per token is a likelihood ratio of e^0.2 ≈ 1.22 per token between the true and the false "
    "form; a 10-token statement then differs by 2 nats (odds 7:1), the size of the default run's mean "
    "margin. Smaller kind differences in how strongly a model prefers the true form are within the spread "
    "of margins between paraphrases of one fact.",
)
SALIENCE = Sesoi(
    0.2,
    "Cohen's d (pooled SD of the per-fact contrasts)",
    "zero",
    "additive",
    "two",
    "Salience is a cosine between sentence embeddings with no natural unit, so its SESOI is "
    "standardised: d = 0.2, Cohen's 'small', converted to cosine units with the pooled within-kind SD "
    "of the per-fact contrasts (the headline's `sesoi` is the converted value).",
)
CENTROID = 0.1
"""Centroid SESOI (RMS standardised difference per feature); the energy SESOI is derived from it."""
SESOI: dict[tuple[str, str], Sesoi] = {
    ("kind-probe", "massmean_bacc"): SESOI_BACC,
    ("surface", "logistic_bacc"): SESOI_BACC,
    ("surface", "ridge_bacc"): SESOI_BACC,
    ("hingeness", "hingeness_auroc"): Sesoi(
        0.056,
        "AUROC of hingeness for the authors' hinge label, above its null",
        "null",
        "additive",
        "two",
        "AUROC = Φ(d/√2) for two normal groups: Cohen's 'small' d = 0.2 gives 0.556, so agreement within "
        "0.056 of chance is smaller than a small effect.",
    ),
    ("hingeness", "rsa_hingeness"): Sesoi(
        0.1,
        "partial correlation between state and hingeness dissimilarities",
        "zero",
        "additive",
        "two",
        "Cohen's 'small' correlation: an RDM correlation below 0.1 explains under 1% of the states' "
        "dissimilarity variance beyond surface, layer 0 and topic.",
    ),
    ("hingeness", "rsa_kind"): Sesoi(
        0.1,
        "partial correlation between state dissimilarities and kind difference",
        "zero",
        "additive",
        "two",
        "Cohen's 'small' correlation, as for rsa_hingeness: an RDM correlation below 0.1 explains under 1% "
        "of the states' dissimilarity variance beyond surface, layer 0 and topic.",
    ),
    ("kind-distance", "centroid"): Sesoi(
        CENTROID,
        "RMS per-feature difference of class means (z-scored states)",
        "null",
        "quadrature",
        "upper",
        "0.1 SD per feature (root mean square over features) is half of Cohen's 'small' d = 0.2 in every "
        "feature at once: a location shift this small moves a mass-mean probe by under 3 points of balanced "
        "accuracy at the core set's size. Noise adds to the squared distance, hence quadrature with the "
        "null mean (the small-sample floor).",
    ),
    ("kind-distance", "energy"): Sesoi(
        CENTROID**2,
        "energy distance per √(width/2) (z-scored states)",
        "null",
        "additive",
        "upper",
        "The energy distance of the centroid SESOI: between distributions of z-scored states that differ by a "
        "location shift of 0.1 SD per feature, E ≈ ‖δ‖² / √(2 tr Σ) = 0.1² · √(width/2) (first order in "
        "the shift; tr Σ = width after z-scoring), e.g. 0.17 for width 576. Multiplied by √(width/2) per model.",
    ),
    ("truth-geometry", "truth_direction_angle"): Sesoi(
        10.0,
        "degrees between the kinds' truth directions",
        "null",
        "quadrature",
        "upper",
        "Two directions within 10° share 98.5% of their variance (cos² 10° = 0.97 of the projection): a "
        "probe trained on one kind loses under 2% of its margin on the other. Angles of noisy directions "
        "add in quadrature, hence the comparison with the null mean (the angle that estimation noise alone "
        "produces under a shared direction).",
    ),
    ("default-belief", "margin_per_token_diff"): MARGIN_PER_TOKEN,
    ("robustness", "delta_margin_per_token_diff"): MARGIN_PER_TOKEN,
    ("robustness", "shift_cliffs_delta"): CLIFF,
    ("elicitation", "salience_contrast_diff"): SALIENCE,
    ("elicitation", "salience_csls_diff"): SALIENCE,
    ("hingeness", "readout_r2"): Sesoi(
        0.01,
        "out-of-fold R² of hingeness from the states, above its null",
        "null",
        "additive",
        "two",
        "R² = 0.01 is Cohen's 'small' correlation (r = 0.1) between hingeness and its read-out: a read-out "
        "explaining less than 1% of the facts' hingeness variance is not of interest.",
    ),
}
"""Smallest effect size of interest per ``(analysis, statistic)`` headline, with its justification."""

INCREMENT_SESOI: dict[str, Sesoi] = {
    "delta_logloss": Sesoi(
        0.02,
        "nats per fact of out-of-fold log-loss",
        "zero",
        "additive",
        "two",
        "A 3-point gain in balanced accuracy near 0.87 lowers a logistic probe's log-loss by about 0.02 nats "
        "per fact; smaller increments are not of interest (see the balanced-accuracy SESOI).",
    ),
    "delta_bacc": Sesoi(0.03, "balanced accuracy", "zero", "additive", "two", SESOI_BACC.why),
    "delta_brier": Sesoi(
        0.006,
        "per-fact reduction in out-of-fold Brier score",
        "zero",
        "additive",
        "two",
        "The log-loss SESOI (0.02 nats per fact) in Brier units: near a correct-class score of 0.8, "
        "d(Brier)/d(logloss) = 2(1 − p)·p ≈ 0.32, so 0.02 nats ≈ 0.006.",
    ),
    "delta_accuracy": Sesoi(0.03, "accuracy", "zero", "additive", "two", SESOI_BACC.why),
    "delta_r2": Sesoi(
        0.01,
        "out-of-fold R² (surface + states minus surface alone)",
        "zero",
        "additive",
        "two",
        "As the read-out's own SESOI: states adding less than 1% of explained variance beyond the wording "
        "are not of interest.",
    ),
}
"""SESOI of the beyond-surface increments (``increment_statistic``) where an analysis reports them."""


def sesoi_for(h: Mapping[str, Any], width: int | None = None) -> float | None:
    """The SESOI of headline ``h`` in the units of its estimate (None where none is declared)."""
    s = SESOI.get((h[C.ANALYSIS], h[C.STATISTIC]))
    if s is None:
        return None
    if h[C.ANALYSIS] == "kind-distance" and h[C.STATISTIC] == "energy":
        if not width:
            return None
        return s.value * math.sqrt(width / 2.0)
    if h[C.ANALYSIS] == "elicitation":
        sd = h.get("contrast_sd")
        return s.value * sd if sd is not None and math.isfinite(sd) and sd > 0 else None
    return s.value


def equivalence_bounds(h: Mapping[str, Any], delta: float) -> tuple[float, float] | None:
    """``(lower, upper)`` estimates that count as no effect of interest (−inf where one-sided)."""
    s = SESOI[(h[C.ANALYSIS], h[C.STATISTIC])]
    ref = 0.0
    if s.reference == "null":
        m = h.get("null_mean")
        if m is None or not math.isfinite(m):
            return None
        ref = m
    if s.combine == "quadrature":
        upper = math.sqrt(ref**2 + delta**2)
        lower = -math.sqrt(max(ref**2 - delta**2, 0.0))
    else:
        upper, lower = ref + delta, ref - delta
    return (lower if s.sides == "two" else -math.inf), upper
