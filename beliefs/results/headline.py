"""The typed view of one headline of ``summary.json``, for the code that reads headlines (the CLI, the
report, ``compare``).

The keys are those ``summary.json`` has always had (a refactor must not rename them: committed results
and older summaries are read with this type). Every headline has the identity keys; the rest are
present where the analysis or the verdict step computed them. Analysis-specific extras (``truth_acc_hinge``,
``transfer_estimate``, …) stay in the same mapping: read them with ``.get`` where needed.
"""

from __future__ import annotations

from typing import TypedDict


class Headline(TypedDict, total=False):
    """One headline: identity, the estimate with its interval and p-values, the baselines beside it, and
    what the verdict step added (see :mod:`beliefs.results.verdict`)."""

    # identity
    analysis: str
    model: str
    """The model's name; a control is named ``model@control``."""
    control: str
    condition: str
    statistic: str
    layers: list[int]
    """First and last layer of the middle third the headline averages over."""
    pooling: str
    domain: str
    """``""`` for a headline pooled over domains, else the one domain whose facts it covers."""
    n_facts: int
    n_permutations: int
    # the estimate
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    null_mean: float | None
    null_critical: float | None
    layer0_estimate: float | None
    layer0_p_value: float | None
    # beyond surface, and the baselines beside it
    p_beyond_surface: float | None
    surface_estimate: float | None
    surface_p_value: float | None
    surface_confound: bool
    random_init_estimate: float | None
    random_init_p_value: float | None
    increment_statistic: str
    increment_estimate: float | None
    increment_ci_low: float | None
    increment_ci_high: float | None
    increment_sesoi: float
    p_equivalence_increment: float | None
    # what the verdict step added
    sesoi: float | None
    equivalence_bounds: list[float | None] | None
    p_equivalence: float | None
    mde_80: float | None
    mde_method: str
    verdict: str
    negligible: bool | None
    beyond_surface_only: bool
    # the families (beliefs.results.verdict.FAMILY_DEFINITION) and the statistic behind the verdict
    family: str
    """``primary``, ``secondary`` or ``none`` (no test)."""
    p_beyond_surface_family: float | None
    p_value_family: float | None
    p_equivalence_family: float | None
    p_equivalence_beyond: float | None
    gated: bool
    decided_by: str | None
    p_family: float | None
    verdict_estimate: float | None
    verdict_ci_low: float | None
    verdict_ci_high: float | None
    verdict_sesoi: float | None
    beyond_statistic: str
    beyond_sesoi: float | None
    how: str
