"""Statistics for hinge-vs-contingent comparisons: fact-level permutations, distances, probes, effects.

See ``STATISTICS.md``: the fact is the unit of every permutation, bootstrap and fold.
"""

from beliefs.stats.effects import (
    FreedmanLane,
    bootstrap_ci,
    cliffs_delta,
    cliffs_delta_perm,
    delta_ci,
    diff_ci,
    freedman_lane,
    mannwhitney,
    mean_ci,
)
from beliefs.stats.geometry import (
    centroid_distance_perm,
    collapse,
    energy_distance_perm,
    euclidean_distances,
    gram_distances,
    mean_centred_cosine_shift,
    membership,
    zscore,
)
from beliefs.stats.permutation import (
    bh_adjust,
    fact_bootstrap_weights,
    fact_permutations,
    maxstat_adjust,
    middle_third,
    percentile_interval,
    permutation_pvalues,
    sign_flips,
)
from beliefs.stats.probes import CVPlan, GramProbe, TruthProbe, fact_folds, logistic_cv

__all__ = [
    "CVPlan",
    "FreedmanLane",
    "GramProbe",
    "TruthProbe",
    "bh_adjust",
    "bootstrap_ci",
    "centroid_distance_perm",
    "cliffs_delta",
    "cliffs_delta_perm",
    "collapse",
    "delta_ci",
    "diff_ci",
    "energy_distance_perm",
    "euclidean_distances",
    "fact_bootstrap_weights",
    "fact_folds",
    "fact_permutations",
    "freedman_lane",
    "gram_distances",
    "logistic_cv",
    "mannwhitney",
    "maxstat_adjust",
    "mean_centred_cosine_shift",
    "mean_ci",
    "membership",
    "middle_third",
    "percentile_interval",
    "permutation_pvalues",
    "sign_flips",
    "zscore",
]
