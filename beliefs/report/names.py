"""Plain names for the code names of analyses, statistics and p-values; the report shows the plain name
with the code name in a tooltip and in its glossary."""

from __future__ import annotations

ANALYSES: dict[str, str] = {
    "kind-probe": "kind read out by a probe",
    "kind-distance": "distance between the kinds' states",
    "surface": "surface baseline (wording alone)",
    "truth-geometry": "truth direction per kind",
    "default-belief": "default belief (true form preferred)",
    "robustness": "robustness to detailed prompts",
    "elicitation": "what the model volunteers",
    "hingeness": "what the model treats as a hinge",
    "causal-trace": "where the preference is computed",
}

STATISTICS: dict[str, str] = {
    "massmean_bacc": "mass-mean probe balanced accuracy",
    "logistic_bacc": "logistic probe balanced accuracy",
    "ridge_bacc": "ridge classifier balanced accuracy",
    "energy": "energy distance",
    "centroid": "centroid distance",
    "truth_direction_angle": "angle between truth directions (°)",
    "margin_per_token_diff": "true − false log-prob per token, hinge − contingent",
    "delta_margin_per_token_diff": "change of margin from the empty prompt, hinge − contingent",
    "shift_cliffs_delta": "Cliff's δ of the margin shift, hinge vs contingent",
    "salience_contrast_diff": "salience contrast (empty − detailed), hinge − contingent",
    "salience_csls_diff": "salience (CSLS), hinge − contingent",
    "hingeness_auroc": "AUROC of hingeness for the hinge label",
    "readout_r2": "read-out R² of hingeness from the states",
    "rsa_hingeness": "partial RSA: states vs hingeness",
    "rsa_kind": "partial RSA: states vs kind",
    "peak_layer_content_diff": "peak layer (content tokens), hinge − contingent",
    "peak_layer_last_diff": "peak layer (last token), hinge − contingent",
    "spread_content_diff": "spread over layers (content tokens), hinge − contingent",
    "spread_last_diff": "spread over layers (last token), hinge − contingent",
    "mlp_share_diff": "MLP share of the effect, hinge − contingent",
    "state_recovery_mid_diff": "recovery by mid-layer states, hinge − contingent",
    "delta_brier": "Brier-score gain of states over the wording",
    "delta_logloss": "log-loss gain of states over the wording",
    "delta_bacc": "balanced-accuracy gain of states over the wording",
    "delta_r2": "R² gain of states over the wording",
}

P_VALUES: dict[str, str] = {
    "p_value": "plain p",
    "p_beyond_surface": "beyond-surface p",
    "p_equivalence": "equivalence (TOST) p",
    "p_family": "family-adjusted p",
}

CONTROLS: dict[str, str] = {"random-init": "random-init control", "": ""}


def analysis_name(code: str) -> str:
    return ANALYSES.get(code, code)


def statistic_name(code: str) -> str:
    return STATISTICS.get(code, code.replace("_", " "))


def glossary(codes: set[str]) -> list[tuple[str, str]]:
    """(code, plain name) for every code name the report used, sorted by code."""
    table = {**ANALYSES, **STATISTICS, **P_VALUES}
    return sorted((c, table[c]) for c in codes if c in table)
