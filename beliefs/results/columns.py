"""Stable column names of every result table (``RUN/results/<analysis>.csv``) and of ``summary.json``."""

from __future__ import annotations

ANALYSIS = "analysis"
MODEL = "model"
CONTROL = "control"
"""``random-init`` for the control model, empty otherwise."""
CONDITION = "condition"
SUBSET = "subset"
"""Which facts a row rests on: ``pooled``, a domain, ``logical->physical`` (transfer), a kind, …"""
LAYER = "layer"
"""Hidden-state layer (0 = embedding output); empty for statistics without layers."""
POOLING = "pooling"
STATISTIC = "statistic"
ESTIMATE = "estimate"
CI_LOW = "ci_low"
CI_HIGH = "ci_high"
P_VALUE = "p_value"
"""Permutation p-value (observed counted), or the named test's p-value."""
P_ADJUSTED = "p_adjusted"
"""Max-statistic (Westfall–Young) adjusted over the family: all layers × conditions of a statistic."""
P_BH = "p_bh"
"""Benjamini–Hochberg adjusted over the same family."""
NULL_LOW = "null_low"
NULL_HIGH = "null_high"
"""2.5th and 97.5th percentiles of the row's permutation null (the chance band drawn in the report)."""
N_FACTS = "n_facts"
N_PERMUTATIONS = "n_permutations"

RESULT_COLUMNS = (
    ANALYSIS,
    MODEL,
    CONTROL,
    CONDITION,
    SUBSET,
    LAYER,
    POOLING,
    STATISTIC,
    ESTIMATE,
    CI_LOW,
    CI_HIGH,
    P_VALUE,
    P_ADJUSTED,
    P_BH,
    NULL_LOW,
    NULL_HIGH,
    N_FACTS,
    N_PERMUTATIONS,
)
"""Every result table has these columns, in this order."""

SUMMARY_SCHEMA_VERSION = 1
