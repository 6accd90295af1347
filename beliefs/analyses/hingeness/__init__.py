"""``hingeness``: what the model itself treats as a hinge, and whether its states are organised by it.

The hinge/contingent labels are the authors'. This analysis asks the model instead: per fact, from the
margins that ``probe`` stores (and the salience that ``elicit`` stores, where present), how much it holds
the fact by default and against context. Definitions (per token throughout: ``mpt = logp_true /
n_tokens_true − logp_false / n_tokens_false``, the true-vs-false margin per token; ``lpt = logp_true /
n_tokens_true``, the statement's own log-probability per token):

- ``default`` = mpt(``empty``) − mean over the general detailed prompts g of mpt(g): how much more firmly
  the fact is held with no prompt at all than with a prompt;
- ``entrenchment`` = how little the fact's own contexts move it: ``(Δ_contradict − Δ_support) / 2`` with
  Δ_c = mpt(c) − mpt(``empty``) minus the same Δ in the model's random-init control (movement that a model
  with random weights shows too is the words of the context, not belief), residualised on the baseline
  mpt(``empty``) across facts (a fact the model barely holds cannot move far);
- ``prior`` = lpt(``empty``) − mean over g of lpt(g): how much more probable the statement itself is
  under the empty prompt than under a detailed one ("the facts the model would think of when prompted with
  the empty string");
- ``salience`` = the hubness-corrected (CSLS) elicitation salience of the true form under ``empty`` minus
  its mean under the general detailed prompts, read from ``salience.csv`` of an elicitation of the same
  model and facts (``OUT/../elicitation``, where ``beliefs study`` writes it); it enters the index only
  where its sample-to-sample reliability (below) reaches :data:`SALIENCE_MIN_RELIABILITY` (an older
  elicitation without sample halves cannot show it, and an absent one gives no salience): otherwise it
  is reported (column, AUROC, reliability) but left out;
- the **model index** = the mean of the available components' z-scores (z over the facts of the model).

What the trained model adds. A random-init control's index replicates almost as well as the trained
model's (its values are fixed by the tokens: length, token identity), so the raw index is largely not
belief. Each component of a model with a random-init control is therefore also taken **relative to the
control**: its residual on the control's value of the same component (least squares, where the control
has it) and, cross-fitted (ridge, out of fold, folds of the probes), on the wording features
(:func:`wording_features`: the surface features of :mod:`beliefs.analyses.surface` without the
log-probabilities under ``empty``, which are the model's own behaviour and the components' raw material):
what neither the words nor an untrained network of the same architecture predict. The **contrast
index** is the mean of these residuals' z-scores. ``hingeness`` (the column and the score every analysis
below uses) is the contrast index for a model with a control, and the model index otherwise (the control
itself): a reliable raw index could be the tokens, a reliable contrast index is what training added.

Reliability (``reliability_*`` rows, and the ``reliability_index_*`` fields of the AUROC headline): the
components that rest on the general prompts are recomputed on each split of those prompts into two halves
(the control's and the contrast's too); the Spearman–Brown corrected correlation of the halves, averaged
over splits. Entrenchment rests on one passage per fact and has no split; it is left out of the index's
split-half so as not to inflate it. Salience is sampled: where the elicitation stored saliences on two
disjoint halves of its samples (``salience_csls_true_half1``/``_half2``), each prompt half takes one
sample half (else both the full salience, and the ``empty`` term's sampling noise counts as reliable),
and ``reliability_salience_samples`` is the Spearman–Brown corrected correlation of the salience
component on the two sample halves alone (the sample-to-sample reliability).

Analyses, each with a fact-level null (permutations within domain):
- agreement of each score with the authors' labels: AUROC (hinge = positive; ``(Cliff's δ + 1) / 2``),
  per domain and pooled, with a fact-bootstrap interval (kinds resampled separately); the headline's
  ``p_beyond_surface`` permutes kind within label-free surface strata (declared pairs, templates or bins);
- ``surface_r2``: how well the wording features alone predict the model index (``surface_r2_hingeness``:
  the contrast index, <= 0 by construction) (cross-validated ridge R²,
  :func:`beliefs.stats.increment.ridge_operator`);
- ``readout_*``: a cross-validated ridge read-out of ``hingeness`` from each layer's states (``last``
  pooling, ``empty``, each fact the mean of its two forms; folds leave whole templates out where declared,
  else keep pairs together): R² from the states alone (null: hingeness permuted within domain). The
  contrast index is the wording's residual already, so its read-out is beyond the wording by
  construction; the increment in R² of wording + states over wording alone (the incremental probe of
  :class:`beliefs.stats.increment.IncrementalProbe`, states residualised on the wording inside each
  training fold; Freedman–Lane null: the wording's out-of-fold prediction plus its residuals permuted
  within domain) is tested where the wording is a real competitor: on the model index
  (``readout_model_*`` rows for a model with a control, ``readout_increment_r2`` for the control);
  ``readout_transfer_r2``: the states' read-out trained on the other domains and tested
  on each (R² within the held-out domain, averaged; the wording's own transfer R² beside it in the
  headline: across domains it is poor, so an increment over it would count a less bad fit as one);
  max-statistic correction over layers, headline the mean over the middle third;
- representational similarity per layer (``last`` pooling, true forms, ``empty``): the partial correlation
  between the states' fact-by-fact Euclidean distances and the facts' hingeness differences, partialling
  the wording-feature distance, the layer-0 (``mean`` pooling) distance and same-domain / same-template
  indicators (RDM regression); the same for the authors' labels; max-statistic correction over layers;
  the headline is the mean over the middle third of layers. The test is one-sided: states organised by
  hingeness put facts of similar hingeness close together (a positive partial correlation).

Its report section (:func:`_section`): the method, the headlines, the per-fact strip and the per-layer
figure, the components' split-half reliability and the facts each model treats most and least as bedrock.
"""

from beliefs.analyses.hingeness.agreement import _domain_perms as _domain_perms
from beliefs.analyses.hingeness.agreement import auroc_null
from beliefs.analyses.hingeness.analysis import hingeness
from beliefs.analyses.hingeness.components import (
    COMPONENTS,
    CONTEXT_CONDITIONS,
    ELICIT_MANIFEST,
    FACT_TABLE,
    SALIENCE_FILE,
    SALIENCE_HALVES,
    SALIENCE_MIN_RELIABILITY,
    SPLIT_COMPONENTS,
    WORDING_LEFT_OUT,
    Salience,
    contrast_components,
    general_conditions,
    index_of,
    read_salience,
    wording_features,
    wording_kernel,
)
from beliefs.analyses.hingeness.readout import (
    READOUT_PERMUTATIONS,
    r2_null,
)
from beliefs.analyses.hingeness.reliability import (
    salience_sample_reliability,
    spearman_brown,
    split_half,
)
from beliefs.analyses.hingeness.rsa import PERM_BLOCK, rsa_null
from beliefs.analyses.hingeness.section import (
    LAYER_CURVES,
    N_EXTREMES,
    RANKED_COLUMNS,
    SECTION_TEXT,
    extremes,
    hingeness_layers,
    hingeness_strip,
)

__all__ = [
    "COMPONENTS",
    "CONTEXT_CONDITIONS",
    "ELICIT_MANIFEST",
    "FACT_TABLE",
    "LAYER_CURVES",
    "N_EXTREMES",
    "PERM_BLOCK",
    "RANKED_COLUMNS",
    "READOUT_PERMUTATIONS",
    "SALIENCE_FILE",
    "SALIENCE_HALVES",
    "SALIENCE_MIN_RELIABILITY",
    "SECTION_TEXT",
    "SPLIT_COMPONENTS",
    "WORDING_LEFT_OUT",
    "Salience",
    "auroc_null",
    "contrast_components",
    "extremes",
    "general_conditions",
    "hingeness",
    "hingeness_layers",
    "hingeness_strip",
    "index_of",
    "r2_null",
    "read_salience",
    "rsa_null",
    "salience_sample_reliability",
    "spearman_brown",
    "split_half",
    "wording_features",
    "wording_kernel",
]
