"""The one verdict rule and the SESOI table, on hand-made headlines (with and without the keys of the
beyond-surface tests)."""

import math

import pytest

from beliefs.results.verdict import (
    ALPHA,
    SESOI,
    attach_verdicts,
    equivalence_bounds,
    is_negligible,
    sesoi_for,
    significant,
    verdict_label,
    verdict_of,
)
from beliefs.stats.equivalence import tost_from_interval


def head(analysis="kind-probe", statistic="massmean_bacc", **kw):
    h = {"analysis": analysis, "statistic": statistic, "model": "m", "condition": "empty", "control": ""}
    h.update(kw)
    return h


def test_significant():
    assert significant(0.05) and not significant(0.0501) and not significant(None)
    assert not significant(float("nan")) and ALPHA == 0.05


@pytest.mark.parametrize(
    "p,p_beyond,p_eq,word",
    [
        (0.001, 0.01, None, "differs"),
        (0.001, 0.2, None, "surface-explained"),
        (0.001, None, None, "surface-explained"),  # no beyond-surface test
        (0.001, 0.2, 0.01, "surface-explained"),
        (0.4, None, 0.01, "equivalent"),
        (0.4, 0.01, 0.2, "differs"),  # the surface masked a difference the conditional test finds
        (0.4, 0.01, 0.01, "differs"),  # never "equivalent" while the beyond-surface test rejects
        (0.4, 0.2, 0.01, "equivalent"),
        (0.4, None, None, "inconclusive"),
    ],
)
def test_verdict_rule(p, p_beyond, p_eq, word):
    assert verdict_of(head(p_value=p, p_beyond_surface=p_beyond, p_equivalence=p_eq)) == word


def test_negligible_marks_rejections_inside_the_sesoi():
    assert (
        verdict_label(head(p_value=0.001, p_beyond_surface=0.01, p_equivalence=0.01))
        == "differs (negligible)"
    )
    assert verdict_label(head(p_value=0.001, p_beyond_surface=0.2, p_equivalence=0.2)) == "surface-explained"
    assert not is_negligible(head(p_value=0.4, p_beyond_surface=0.2, p_equivalence=0.01))  # equivalent


def test_every_sesoi_is_justified():
    for key, s in SESOI.items():
        assert s.value > 0 and len(s.why) > 80, key
        assert s.reference in ("zero", "null") and s.combine in ("additive", "quadrature")
        assert s.sides in ("two", "upper")


def test_bacc_equivalence_against_chance():
    h = head(estimate=0.505, ci_low=0.48, ci_high=0.53, p_value=0.4, null_mean=0.49)
    attach_verdicts([h])
    assert h["sesoi"] == 0.03 and h["equivalence_bounds"] == pytest.approx([0.46, 0.52])
    assert h["p_equivalence"] == pytest.approx(tost_from_interval(0.505, 0.48, 0.53, 0.46, 0.52))
    assert h["verdict"] == ("equivalent" if h["p_equivalence"] <= 0.05 else "inconclusive")
    # the MDE from the null's mean and 95th percentile where the analysis gave none
    h2 = head(estimate=0.5, ci_low=0.45, ci_high=0.55, p_value=0.5, null_mean=0.5, null_critical=0.55)
    attach_verdicts([h2])
    assert h2["mde_80"] == pytest.approx(0.05 * (1 + 0.8416 / 1.6449), rel=1e-3)
    assert h2["mde_method"].startswith("normal approximation")


def test_distances_are_one_sided_with_floors():
    h = head("kind-distance", "centroid", estimate=0.13, ci_low=0.11, ci_high=0.15, null_mean=0.12)
    lo, hi = equivalence_bounds(h, 0.1)
    assert math.isinf(lo) and hi == pytest.approx(math.sqrt(0.12**2 + 0.1**2))
    e = head("kind-distance", "energy", estimate=0.5, ci_low=0.4, ci_high=0.6, null_mean=0.45, p_value=0.3)
    assert sesoi_for(e) is None  # needs the width
    attach_verdicts([e], {"m": 578})
    assert e["sesoi"] == pytest.approx(0.01 * math.sqrt(289))
    assert e["equivalence_bounds"][0] is None and e["equivalence_bounds"][1] == pytest.approx(0.45 + 0.17)
    # no interval (BCa undefined at the floor): the null's spread stands in
    f = head("kind-distance", "centroid", estimate=0.12, p_value=0.6, null_mean=0.12, null_critical=0.14)
    attach_verdicts([f])
    assert f["p_equivalence"] is not None and f["p_equivalence"] < 0.05 and f["verdict"] == "equivalent"


def test_beyond_surface_keys_of_the_kind_tests_are_used():
    h = head(
        estimate=0.87,
        ci_low=0.84,
        ci_high=0.9,
        p_value=0.0005,
        null_mean=0.49,
        p_beyond_surface=0.3,
        p_beyond_lexical=0.5,
        increment_estimate=0.004,
        increment_ci_low=-0.006,
        increment_ci_high=0.014,
        increment_statistic="delta_logloss",
    )
    attach_verdicts([h])
    assert h["verdict"] == "surface-explained"
    assert h["increment_sesoi"] == 0.02
    assert h["p_equivalence_increment"] == pytest.approx(
        tost_from_interval(0.004, -0.006, 0.014, -0.02, 0.02)
    )
    assert h["p_equivalence_increment"] < 0.05
    h2 = head(estimate=0.87, ci_low=0.84, ci_high=0.9, p_value=0.0005, null_mean=0.49, p_beyond_surface=0.001)
    attach_verdicts([h2])
    assert h2["verdict"] == "differs" and "p_equivalence_increment" not in h2


def test_values_an_analysis_computed_are_kept():
    h = head(
        "elicitation",
        "salience_contrast_diff",
        estimate=0.01,
        ci_low=-0.01,
        ci_high=0.03,
        p_value=0.3,
        p_equivalence=0.2,
        mde_80=0.02,
        contrast_sd=0.05,
    )
    attach_verdicts([h])
    assert h["p_equivalence"] == 0.2 and h["mde_80"] == 0.02 and h["sesoi"] == pytest.approx(0.01)
    assert h["verdict"] == "inconclusive"
    unknown = head("other", "x", estimate=1.0, p_value=0.01)
    attach_verdicts([unknown])
    assert unknown["sesoi"] is None and unknown["verdict"] == "surface-explained"
