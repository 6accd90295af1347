"""``kind-probe`` and ``kind-distance``: do hinge and contingent states differ, layer by layer, beyond wording?

Plain tests: the fact-level permutation null (kind shuffled within domain). Beyond-surface tests
(:mod:`beliefs.analyses.beyond`) run on the headline pooling (``last``) and the headline layers (the middle
third) only, and use the *conditional* permutation null (kind shuffled within label-free surface strata).

Pre-registered beyond-surface tests (each headline's ``p_beyond_surface``):

- ``kind-probe``: the **incremental probe** (surface → surface + states, same ridge probe and folds; the
  mean per-fact reduction in out-of-fold Brier score). It asks the question directly: do the states
  predict the kind better than the wording does? A probe on residualised states or a conditional null
  alone answers it only partly (a residualised probe can lose kind signal that the surface shares, and a
  conditional null alone does not stop the probe from reading the wording within a stratum);
- ``kind-distance``: the same distance (energy or centroid) on **cross-fitted surface residuals** of the
  states, against the conditional null: a distance has no "surface-only" model to compare against, so
  the wording is removed from the states (out of fold) and what remains is tested.

``p_beyond_lexical`` repeats the pre-registered test with the lexical set (surface + layer-0 states, mean
pooling) in place of the surface set. Both are corrected across layers like ``p_value``: the headline is
the mean over the middle third of layers, tested against the null of that mean.
"""

# isort: off
# kind-probe registers before kind-distance: the registry's order is the report's
from beliefs.analyses.kind.probe import kind_probe
from beliefs.analyses.kind.distance import kind_distance

# isort: on
from beliefs.analyses.kind.common import _bacc_ci as _bacc_ci
from beliefs.analyses.kind.common import _families as _families
from beliefs.analyses.kind.common import weighted_ci

__all__ = ["kind_distance", "kind_probe", "weighted_ci"]
