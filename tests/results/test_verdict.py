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


# --- families: the primary alone, secondary Holm gated by the primary, one statistic per verdict ---


def test_holm_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    from beliefs.results.verdict import holm

    p = [0.01, 0.04, 0.03, 0.005, 0.2, 0.0005, 0.049]
    expected = multipletests(p, method="holm")[1]
    assert holm(p) == pytest.approx(list(expected))
    assert holm([0.01, None, float("nan"), 0.02]) == [0.02, None, None, 0.02]
    assert holm([]) == []


def _family(p_primary, secondary_ps, model="m"):
    primary = head(
        model=model,
        estimate=0.6,
        ci_low=0.55,
        ci_high=0.65,
        p_value=0.001,
        null_mean=0.5,
        p_beyond_surface=p_primary,
        increment_estimate=0.01,
        increment_ci_low=0.004,
        increment_ci_high=0.016,
        increment_statistic="delta_brier",
    )
    others = [
        head(
            "kind-probe",
            "massmean_bacc",
            model=model,
            condition=f"c{i}",
            estimate=0.6,
            p_value=0.5,
            null_mean=0.5,
            p_beyond_surface=p,
        )
        for i, p in enumerate(secondary_ps)
    ]
    return primary, others


def test_secondary_claims_are_adjusted_and_gated_by_the_primary():
    from scipy.stats import false_discovery_control

    primary, others = _family(0.01, [0.001, 0.02, 0.3])
    attach_verdicts([primary, *others])
    assert primary["family"] == "primary" and primary["p_beyond_surface_family"] == 0.01
    assert primary["verdict"] == "differs" and primary["decided_by"] == "p_beyond_surface"
    assert [h["family"] for h in others] == ["secondary"] * 3
    # Benjamini-Hochberg over the three secondary p-values (scipy), each at least the primary's 0.01
    bh = false_discovery_control([0.001, 0.02, 0.3])
    assert [h["p_beyond_surface_family"] for h in others] == pytest.approx([max(0.01, v) for v in bh])
    assert [h["verdict"] for h in others] == ["differs", "differs", "inconclusive"]
    # a raw 0.04 that the adjustment lifts above alpha no longer differs
    _p, more = _family(0.01, [0.001, 0.04, 0.3, 0.5])
    attach_verdicts([_p, *more])
    assert more[1]["p_beyond_surface_family"] == pytest.approx(0.08)
    assert more[1]["verdict"] != "differs"


def test_holm_is_available_as_the_family_method():
    from beliefs.results.verdict import adjust

    assert adjust([0.01, 0.02, 0.03], "holm") == pytest.approx([0.03, 0.04, 0.04])
    assert adjust([0.01, 0.02, 0.03], "bh") == pytest.approx([0.03, 0.03, 0.03])
    assert adjust([0.01, None, 0.03], "bh") == [pytest.approx(0.02), None, pytest.approx(0.03)]


def test_no_secondary_headline_differs_when_the_primary_does_not():
    primary, others = _family(0.2, [0.0005, 0.3])
    attach_verdicts([primary, *others])
    assert primary["verdict"] != "differs"
    assert others[0]["p_beyond_surface_family"] == pytest.approx(0.2) and others[0]["gated"]
    assert others[0]["verdict"] != "differs" and "gated" in others[0]["how"]
    assert not others[1]["gated"]


def test_families_are_per_model():
    a_primary, a_others = _family(0.01, [0.001], model="a")
    b_primary, b_others = _family(0.5, [0.001], model="b")
    attach_verdicts([a_primary, *a_others, b_primary, *b_others])
    assert a_others[0]["verdict"] == "differs" and b_others[0]["verdict"] != "differs"


def test_negligible_is_judged_on_the_statistic_that_rejected():
    # the plain estimate sits inside its SESOI, the increment does not: not negligible
    primary, _ = _family(0.001, [])
    primary.update(
        estimate=0.51,
        ci_low=0.5,
        ci_high=0.52,
        increment_estimate=0.02,
        increment_ci_low=0.015,
        increment_ci_high=0.025,
    )
    attach_verdicts([primary])
    assert primary["verdict"] == "differs" and primary["negligible"] is False
    assert primary["verdict_estimate"] == 0.02 and primary["verdict_sesoi"] == 0.006
    # the increment's own interval inside +-0.006: negligible, whatever the plain estimate
    primary, _ = _family(0.001, [])
    primary.update(
        estimate=0.7,
        ci_low=0.65,
        ci_high=0.75,
        increment_estimate=0.001,
        increment_ci_low=0.0001,
        increment_ci_high=0.002,
    )
    attach_verdicts([primary])
    assert primary["verdict"] == "differs" and primary["negligible"] is True
    assert verdict_label(primary) == "differs (negligible)"


def test_plain_claims_are_adjusted_across_the_model():
    hs = [
        head(
            "default-belief",
            "margin_per_token_diff",
            condition=f"c{i}",
            estimate=0.3,
            ci_low=0.1,
            ci_high=0.5,
            p_value=p,
        )
        for i, p in enumerate([0.01, 0.02, 0.03])
    ]
    attach_verdicts(hs)
    assert [h["p_value_family"] for h in hs] == pytest.approx([0.03, 0.03, 0.03])
    assert all(h["verdict"] == "surface-explained" and h["decided_by"] == "p_value" for h in hs)
    hs = [
        head(
            "default-belief",
            "margin_per_token_diff",
            condition=f"c{i}",
            estimate=0.3,
            ci_low=0.1,
            ci_high=0.5,
            p_value=p,
        )
        for i, p in enumerate([0.03, 0.2, 0.4])
    ]
    attach_verdicts(hs)
    assert hs[0]["p_value_family"] == pytest.approx(0.09) and hs[0]["verdict"] == "inconclusive"


def test_every_headline_says_how_its_verdict_was_reached():
    primary, others = _family(0.01, [0.001, 0.5])
    attach_verdicts([primary, *others])
    for h in (primary, *others):
        assert h["how"].startswith(h["verdict"])
    assert "alone at alpha" in primary["how"] and "Benjamini-Hochberg over 2" in others[0]["how"]


def test_the_increment_is_judged_against_its_null_mean():
    """States unrelated to the kind cost a ridge probe some Brier score: "no effect" is the null's mean."""
    primary, _ = _family(0.001, [])
    primary.update(
        increment_estimate=0.004, increment_ci_low=0.002, increment_ci_high=0.006, increment_null_mean=-0.004
    )
    attach_verdicts([primary])
    # 0.008 above its null's mean: not within +-0.006 of no effect, although within +-0.006 of zero
    assert primary["verdict"] == "differs" and primary["negligible"] is False
    assert "null's mean -0.004" in primary["how"]


def test_a_degenerate_headline_is_in_no_family():
    """An angle clipped at 0 degrees with no interval (or flagged by its analysis) is not a finding: it
    takes no part in the adjustments and is inconclusive whatever its p."""
    primary, others = _family(0.001, [0.01])
    angle = head("truth-geometry", "truth_direction_angle", estimate=0.0, p_value=0.0005)
    flagged = head(
        "truth-geometry",
        "truth_direction_angle",
        condition="x",
        estimate=3.0,
        ci_low=1.0,
        ci_high=5.0,
        p_value=0.0005,
        degenerate=True,
    )
    attach_verdicts([primary, *others, angle, flagged])
    for h in (angle, flagged):
        assert h["verdict"] == "inconclusive" and h["family"] == "none" and h["degenerate"] is True
        assert h["p_value_family"] is None and "degenerate" in h["how"]
    # BH over the two secondary beyond-surface tests' family, not three
    assert "Benjamini-Hochberg over 1 secondary" in others[0]["how"]
