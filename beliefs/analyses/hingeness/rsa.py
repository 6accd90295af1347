"""Partial representational similarity per layer: do the states' distances follow hingeness (and the
authors' kind) beyond the wording, layer 0 and topic?"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from beliefs.analyses.context import (
    AnalysisContext,
    Array,
    Output,
    aggregate,
    fill_family,
    headline,
    row,
)
from beliefs.analyses.hingeness.agreement import _domain_perms
from beliefs.results import columns as C
from beliefs.rundata import ModelInfo
from beliefs.stats import permutation_pvalues

PERM_BLOCK = 250
"""Permutations handled at once in the RSA null (bounds memory: pairs × block floats)."""


def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    i, j = np.triu_indices(n, k=1)
    return i, j


def _unit(v: Array) -> Array:
    v = v - v.mean(axis=0)
    norm = np.linalg.norm(v, axis=0)
    return np.asarray(v / np.where(norm > 0, norm, 1.0))


def rsa_null(
    state_rdms: list[Array], model_rdms: Array | Callable[[int, int], Array], covariates: Array, n: int = 0
) -> Array:
    """Partial correlations ``(n_labellings, n_layers)`` between each layer's state RDM and each of the
    ``model_rdms`` columns (one per labelling, row 0 observed), both residualised on ``covariates``
    (pairs × k, intercept added).

    ``model_rdms`` is either the ``(pairs, n_labellings)`` matrix or, to bound memory, a function giving
    the rows ``start:stop`` of its transpose (``(stop − start, pairs)``) for ``n`` labellings: each block
    of :data:`PERM_BLOCK` labellings is built, residualised and correlated in turn."""
    z = np.column_stack([np.ones(covariates.shape[0]), covariates])
    q, _ = np.linalg.qr(z)
    if callable(model_rdms):
        block_of = model_rdms
    else:
        n = model_rdms.shape[1]

        def block_of(start: int, stop: int) -> Array:
            return np.ascontiguousarray(model_rdms[:, start:stop].T)

    states = np.column_stack(state_rdms)
    s = _unit(states - q @ (q.T @ states))  # pairs × layers
    qs, s_sum = q.T @ s, s.sum(axis=0)
    n_pairs = q.shape[0]
    out = np.empty((n, s.shape[1]))
    for start in range(0, n, PERM_BLOCK):
        # labellings × pairs, row-major. The residual r = m − (m q) qᵀ is never formed: with q orthonormal,
        # r·s = m·s − (m q)(qᵀ s) and ‖r‖² = ‖m‖² − ‖m q‖²; then r is centred (its mean is 0 up to rounding,
        # q holding the intercept) and scaled to unit length, as _unit does
        m = np.asarray(block_of(start, min(start + PERM_BLOCK, n)), dtype=np.float64)
        mq = m @ q
        mean = (m.sum(axis=1) - mq @ q.sum(axis=0)) / n_pairs
        total = np.einsum("pi,pi->p", m, m)
        ss = total - np.einsum("pk,pk->p", mq, mq) - n_pairs * mean**2
        dot = m @ s - mq @ qs - mean[:, None] * s_sum[None, :]
        # a labelling the covariates explain entirely has no residual (and no correlation): 0
        some = ss > 1e-12 * total
        out[start : start + m.shape[0]] = (
            np.where(some[:, None], dot, 0.0) / np.sqrt(np.where(some, ss, 1.0))[:, None]
        )
    return out


def _rsa(
    ctx: AnalysisContext, model: ModelInfo, score: Array, surface: Array, ok: np.ndarray, out: Output
) -> list[dict[str, Any]]:
    """Partial-RSA rows per layer for hingeness and for the authors' labels (appends headlines to ``out``)."""
    from scipy.spatial.distance import pdist

    data = ctx.states(model.name, "empty", "last")
    lex = ctx.states(model.name, "empty", "mean")
    facts = np.flatnonzero(ok)
    pos = {f: i for f, i in zip(data.row_fact[data.form == 1], np.flatnonzero(data.form == 1), strict=True)}
    pos0 = {f: i for f, i in zip(lex.row_fact[lex.form == 1], np.flatnonzero(lex.form == 1), strict=True)}
    keep = np.array([f in pos and f in pos0 for f in facts])
    facts = facts[keep]
    surface = surface[keep]
    if facts.size < 6:
        return []
    rows_s = np.array([pos[f] for f in facts])
    rows_0 = np.array([pos0[f] for f in facts])
    i, j = _pairs(facts.size)

    def dist(z: Array) -> Array:  # Euclidean distances of the pairs (i, j), i < j, in _pairs' order
        return np.asarray(pdist(np.asarray(z, dtype=np.float64)))

    cov = [dist(surface), dist(lex.z[0][rows_0])]
    dom = ctx.domains[facts]
    cov.append((dom[i] == dom[j]).astype(float))
    if "template" in ctx.facts:
        tpl = ctx.facts["template"].fillna("").astype(str).to_numpy()[facts]
        same = ((tpl[i] == tpl[j]) & (tpl[i] != "")).astype(float)
        if same.any():
            cov.append(same)
    covariates = np.column_stack(cov)
    n_layers = len(data.z)
    state_rdms = [dist(z[rows_s]) for z in data.z]
    n_perm = ctx.n_permutations
    idx = _domain_perms(dom, n_perm, ctx.seed + 13)
    h = score[facts]
    labels = ctx.perms[:, facts]
    paired = bool((ctx.pair_keys[facts] != "").all())  # every label exchanged within its pair only

    def hinge_rdm(start: int, stop: int) -> Array:  # |h_i − h_j| of each permuted hingeness, a block
        hp = h[idx[start:stop]]
        return np.abs(hp[:, i] - hp[:, j])

    def label_rdm(start: int, stop: int) -> Array:  # 1 where the (permuted) labels differ
        lab = labels[start:stop]
        return (lab[:, i] != lab[:, j]).astype(np.float64)

    rows: list[dict[str, Any]] = []
    for name, rdms in (("rsa_hingeness", hinge_rdm), ("rsa_kind", label_rdm)):
        null = rsa_null(state_rdms, rdms, covariates, idx.shape[0])
        family_rows: list[dict[str, Any]] = []
        nulls: list[Array] = []
        for layer in range(n_layers):
            r = row("hingeness", model, "empty", name, layer=layer, pooling="last")
            r.update(
                {C.ESTIMATE: float(null[0, layer]), C.N_FACTS: int(facts.size), C.N_PERMUTATIONS: n_perm}
            )
            family_rows.append(r)
            nulls.append(null[:, layer])
        fill_family(family_rows, nulls)
        rows.extend(family_rows)
        agg = aggregate(nulls, n_layers)
        out.headlines.append(
            headline(
                "hingeness",
                model,
                "empty",
                name,
                n_layers,
                estimate=float(agg[0]),
                ci_low=float("nan"),
                ci_high=float("nan"),
                p_value=float(permutation_pvalues(agg)[0]),
                # The surface, layer 0 and topic are partialled out, but partialling alone does not make a
                # Mantel test beyond surface: with labels (or hingeness) permuted across a domain it
                # rejects on surface-only nulls. Only rsa_kind on a fully paired set, whose labels are
                # exchanged within pairs (twins matched on wording), has a beyond-surface test.
                p_beyond_surface=float(permutation_pvalues(agg)[0])
                if name == "rsa_kind" and paired
                else None,
                beyond_surface_test=(
                    "partial Mantel test, kind swapped within declared pairs (surface, layer 0 and topic "
                    "partialled)"
                    if name == "rsa_kind" and paired
                    else "none: a partial Mantel test permuted across a domain does not hold its size on "
                    "surface-only nulls"
                ),
                null=agg,
                n_facts=int(facts.size),
                n_permutations=n_perm,
                partialled=["surface", "layer0", "same-domain"]
                + (["same-template"] if covariates.shape[1] > 3 else []),
            )
        )
    return rows
