"""The one number formatter, in the styles of the report, the p-values and the terminal tables."""

from __future__ import annotations

import math

import numpy as np

from beliefs.results.formats import fmt_number, fmt_p


def test_missing_and_non_finite_read_as_missing():
    for value in (None, math.nan, math.inf, np.float64("nan")):
        assert fmt_number(value) == "–"
        assert fmt_number(value, "+.4f", missing="n/a") == "n/a"
        assert fmt_p(value) == "–"


def test_floats_ints_and_text():
    assert fmt_number(0.12345) == "0.123"
    assert fmt_number(np.float64(-1.5), "+.4f") == "-1.5000"
    assert fmt_number(229) == "229"
    assert fmt_number("pooled") == "pooled"


def test_small_values_in_significant_digits_only_where_asked():
    assert fmt_number(0.000123) == "0.000"
    assert fmt_number(0.000123, small_spec=".3g") == "0.000123"
    assert fmt_number(0.0, small_spec=".3g") == "0.000"
    assert fmt_number(-0.0005, ".4f", small_spec=".4g") == "-0.0005"


def test_p_values():
    assert fmt_p(0.04321) == "0.0432"
    assert fmt_p(0.0001) == "0.0001"
    assert fmt_p(0.00004) == "4.0e-05"
