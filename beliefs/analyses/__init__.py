"""Analyses of a run: each a registered function from shared inputs to tidy rows and headlines."""

from beliefs.analyses import behaviour, causal, hingeness, kind, ripple, surface, truth
from beliefs.analyses.context import AnalysisContext, Output
from beliefs.analyses.registry import ANALYSES, Analysis, register
from beliefs.analyses.runner import analyze
from beliefs.analyses.synthetic import synthetic_run
from beliefs.results.columns import RESULT_COLUMNS

del behaviour, causal, hingeness, kind, ripple, surface, truth

__all__ = [
    "ANALYSES",
    "RESULT_COLUMNS",
    "Analysis",
    "AnalysisContext",
    "Output",
    "analyze",
    "register",
    "synthetic_run",
]
