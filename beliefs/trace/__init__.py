"""Causal tracing (Meng et al. 2022): where a model's preference for a fact's true form is computed.

For a causal LM, per fact and condition: the true and false forms share a prefix and part at one token.
The *traced margin* is ``logp(true) − logp(false)`` over the tokens from that one on. The shared content
tokens of the statement (all shared statement tokens but the last) get Gaussian noise on their input
embeddings (3× the embedding SD, several noise seeds, the same noise for both forms); then the clean
residual state of one layer, or the clean MLP or attention outputs of a window of layers, is restored
at the content tokens or at the last token before the difference, and the recovered fraction
``(restored − corrupted) / (clean − corrupted)`` is recorded. Facts that part at the first token, share
a single token, or whose clean and corrupted margins differ by less than ``min_gap`` are recorded as
untraceable with the reason.

:func:`trace_run` traces a probed run into ``RUN/trace/``; the ``causal-trace`` analysis
(:mod:`beliefs.analyses.causal`) compares hinge and contingent profiles; :func:`trace_figures` draws
the heat maps and example profiles for the report.
"""

from __future__ import annotations

from beliefs.trace.core import MIN_GAP, PairTrace, centers, restorations, trace_pairs
from beliefs.trace.engine import COMPONENTS, NOISE_FACTOR, Restoration, Tracer
from beliefs.trace.figures import EXAMPLES, trace_figures
from beliefs.trace.prompts import POSITIONS, PairPrompt, pair_prompt
from beliefs.trace.run import TraceProgress, TraceResult, read_trace, trace_run
from beliefs.trace.summary import SUMMARIES, summarise

__all__ = [
    "COMPONENTS",
    "EXAMPLES",
    "MIN_GAP",
    "NOISE_FACTOR",
    "POSITIONS",
    "SUMMARIES",
    "PairPrompt",
    "PairTrace",
    "Restoration",
    "TraceProgress",
    "TraceResult",
    "Tracer",
    "centers",
    "pair_prompt",
    "read_trace",
    "restorations",
    "summarise",
    "trace_figures",
    "trace_pairs",
    "trace_run",
]
