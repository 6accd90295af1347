"""Helpers shared by ``kind-probe``, ``kind-distance`` and the analyses built on them: families of
rows, fact-bootstrap intervals, means over layers and per-domain headlines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from beliefs.analyses.beyond import INCREMENT_CI, INCREMENT_STATISTIC, Beyond
from beliefs.analyses.context import (
    AnalysisContext,
    Array,
    bacc_ci,
    fill_family,
    headline,
)
from beliefs.rundata import ModelInfo
from beliefs.stats import (
    bootstrap_ci,
    percentile_interval,
    permutation_pvalues,
)
from beliefs.stats.effects import unit_mean_ci


def _families(rows: list[dict[str, Any]], nulls: list[Array], keys: tuple[str, ...]) -> None:
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault(tuple(r[k] for k in keys), []).append(i)
    for idx in groups.values():
        fill_family([rows[i] for i in idx], [nulls[i] for i in idx])


_bacc_ci = bacc_ci  # the name other modules imported


def _percentile(boot: Array) -> tuple[float, float]:
    """Percentile interval of per-layer bootstrap replicates (NaN when there are none)."""
    if not np.isfinite(boot).any():
        return float("nan"), float("nan")
    lo, hi = percentile_interval(boot[:, None])
    return float(lo[0]), float(hi[0])


def weighted_ci(
    ctx: AnalysisContext, present: np.ndarray, stat: Callable[[np.ndarray, Array], Array]
) -> tuple[float, float]:
    """BCa fact-bootstrap interval of a statistic of fact weights (NaN where BCa fails).

    The design's units are resampled: on a paired set its pairs whole (:attr:`AnalysisContext.units`; a
    fact whose twin is absent is a unit of its own), on a set without pairs hinge and contingent facts
    separately (their counts are fixed by the set);
    ``stat(labels, weights)`` gets ``(B, n_facts)`` labels and multiplicities and returns ``(B,)``.
    Headlines of distances and angles use this: resampling inflates them (duplicated facts, small-sample
    bias), which BCa corrects. When nearly every resample exceeds the estimate (a distance at its
    small-sample floor, as in a random-init control) BCa is undefined, and a percentile interval would
    lie wholly above the estimate: no interval is reported then; the null mean gives the chance level.
    """
    n = ctx.n_facts
    units = ctx.units
    ok = np.append(present, False)[units]  # the -1 pad reads False
    units = np.where(ok, units, n)  # absent twins and pads point at the dummy fact n (weight dropped)
    used = ok.any(axis=1)
    paired = used & ok.all(axis=1)
    groups: list[Array]
    if paired.any():  # a paired design: its units (pairs, and any fact whose twin is absent) in one group
        groups = [np.flatnonzero(used).astype(np.float64)]
    else:  # unpaired facts: the kinds resampled separately (the set fixes their counts)
        first_label = np.append(ctx.labels, -1)[units[:, 0]]
        groups = [np.flatnonzero(used & (first_label == k)).astype(np.float64) for k in (1, 0)]

    def batched(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
        idx = np.concatenate([np.asarray(g) for g in samples], axis=-1).astype(np.intp)
        facts = units[idx].reshape(*idx.shape[:-1], -1)
        flat = facts.reshape(-1, facts.shape[-1])
        offsets = np.arange(flat.shape[0])[:, None] * (n + 1) + flat
        w = np.bincount(offsets.ravel(), minlength=flat.shape[0] * (n + 1)).reshape(-1, n + 1)[:, :n]
        values = stat(np.broadcast_to(ctx.labels, w.shape), w.astype(np.float64))
        return np.asarray(values).reshape(idx.shape[:-1])

    return bootstrap_ci(tuple(groups), batched, n_resamples=2000, seed=ctx.seed, fallback=False)


def _per_fact(values: Array, row_fact: np.ndarray, n: int) -> Array:
    out = np.zeros(n)
    np.add.at(out, row_fact, values)
    return out


def _mean_p(nulls: list[Array]) -> tuple[float, float]:
    """Estimate and p-value of the mean over layers of per-layer nulls (NaN when there are none)."""
    if not nulls:
        return float("nan"), float("nan")
    agg = np.mean(np.column_stack(nulls), axis=1)
    return float(agg[0]), float(permutation_pvalues(agg)[0])


def _null_mean(nulls: list[Array]) -> float:
    """Mean of the permutation null of the mean over layers (the statistic's chance level)."""
    if not nulls:
        return float("nan")
    return float(np.nanmean(np.mean(np.column_stack(nulls), axis=1)[1:]))


def _domain_headlines(
    ctx: AnalysisContext,
    model: ModelInfo,
    condition: str,
    n_layers: int,
    domain_masks: dict[str, np.ndarray],
    domain_nulls: dict[str, list[Array]],
    extra: dict[str, list[Array]],
    diffs: dict[str, list[Array]],
) -> list[dict[str, Any]]:
    """Per-domain kind-probe headlines: the within-domain probe (plain) and the pooled incremental probe's
    per-fact Brier reductions averaged over the domain's facts (beyond surface), each against its own null
    (the same labellings: kind swapped within pairs, else within the domain)."""
    found: list[dict[str, Any]] = []
    for d, mask in domain_masks.items():
        plain = domain_nulls.get(d, [])
        inc = extra.get(f"beyond-surface:{d}", [])
        if not plain or not inc:
            continue
        agg = np.mean(np.column_stack(plain), axis=1)
        est, p_inc = _mean_p(inc)
        keys: dict[str, Any] = {
            "p_beyond_surface": p_inc,
            "increment_estimate": est,
            "increment_null_mean": _null_mean(inc),
            "increment_statistic": INCREMENT_STATISTIC,
            "increment_ci_method": INCREMENT_CI + "; the domain's facts only (pairs resampled whole)",
        }
        if diffs["surface"]:
            dm = np.column_stack(diffs["surface"])
            dm = np.where(np.isfinite(dm).all(axis=1) & mask, dm.mean(axis=1), np.nan)
            keys["increment_ci_low"], keys["increment_ci_high"] = unit_mean_ci(dm, ctx.units, seed=ctx.seed)
            n_d = int(np.isfinite(dm).sum())
        else:
            n_d = int(mask.sum())
        found.append(
            headline(
                "kind-probe",
                model,
                condition,
                "massmean_bacc",
                n_layers,
                subset=d,
                domain=d,
                estimate=float(agg[0]),
                p_value=float(permutation_pvalues(agg)[0]),
                null=agg,
                **keys,
                n_facts=n_d,
                n_permutations=ctx.n_permutations,
            )
        )
    return found


def _beyond_keys(
    ctx: AnalysisContext, beyond: Beyond, extra: dict[str, list[Array]], diffs: dict[str, list[Array]]
) -> dict[str, Any]:
    """Headline keys of the kind-probe's beyond-surface tests (mean over the headline layers)."""
    keys: dict[str, Any] = {}
    est, keys["p_beyond_surface"] = _mean_p(extra.get("beyond-surface", []))
    keys["increment_estimate"] = est
    keys["increment_null_mean"] = _null_mean(extra.get("beyond-surface", []))
    if diffs["surface"]:
        d = np.column_stack(diffs["surface"])
        d = np.where(np.isfinite(d).all(axis=1), d.mean(axis=1), np.nan)  # NaN: facts absent in these rows
        keys["increment_ci_low"], keys["increment_ci_high"] = unit_mean_ci(d, ctx.units, seed=ctx.seed)
    keys["increment_statistic"] = INCREMENT_STATISTIC
    keys["increment_ci_method"] = INCREMENT_CI
    keys["lexical_increment_estimate"], keys["p_beyond_lexical"] = _mean_p(extra.get("beyond-lexical", []))
    keys["conditional_strata"] = beyond.strata
    keys["conditional_estimate"], keys["p_conditional"] = _mean_p(extra.get("conditional", []))
    keys["residual_estimate"], keys["p_residualised"] = _mean_p(extra.get("surface-residual", []))
    if ctx.group_folds is not None:
        keys["leave_group_folds"] = ctx.group_kind
        keys["leave_group_estimate"], keys["leave_group_p_value"] = _mean_p(extra.get(ctx.group_kind, []))
    return keys


def fact_distances(
    z: Array, row_fact: np.ndarray, n_facts: int, block_bytes: int, gram: Array | None = None
) -> Array:
    """``collapse_rows(gram_distances(z zᵀ), row_fact, n_facts)`` without the ``rows × rows`` matrices.

    The rows' Euclidean distances are formed a block of rows at a time (blocks of a multiple of 64 rows,
    each at most about ``block_bytes`` of temporaries) and summed into their facts at once: the same
    element-wise operations as the whole-matrix route in the same order. When one block holds every row
    (up to about 1,000 facts at the default ``BELIEFS_ANALYZE_CACHE_GB``) the numbers are the same to the
    last bit; with several blocks, the BLAS may round a block's product differently from the whole one's
    in the last place (OpenBLAS picks its kernel by shape: differences of about 1e-14 seen). Peak memory:
    the ``n_facts²`` result plus one block, instead of three ``rows²`` matrices (2.4 GB at 5,000 facts
    with both forms). ``gram``: ``z zᵀ`` where already at hand (then one block, from it)."""
    from beliefs.stats.geometry import collapse_rows, gram_distances

    rf = np.asarray(row_fact, dtype=np.intp)
    n_rows = z.shape[0]
    if np.bincount(rf, minlength=n_facts).max(initial=0) > 2:  # more than two forms: the general route
        return collapse_rows(gram_distances(z @ z.T), rf, n_facts)
    order = np.argsort(rf, kind="stable")
    present, starts, counts = np.unique(rf[order], return_index=True, return_counts=True)
    first = order[starts]
    second = np.full(present.size, -1)
    second[counts == 2] = order[starts[counts == 2] + 1]
    # per row: its column in the fact-collapsed matrix (first and second rows of a fact add up)
    step = max(64, (block_bytes // max(1, 3 * 8 * n_rows)) // 64 * 64)
    if gram is not None:
        step = max(1, n_rows)
    blocks = [slice(s, min(s + step, n_rows)) for s in range(0, n_rows, step)]
    # one block: the Gram matrix once (or the one given), its diagonal from it
    whole = gram if gram is not None else (z @ z.T if len(blocks) == 1 else None)
    sq = np.diag(whole) if whole is not None else np.concatenate([np.diag(z[b] @ z[b].T) for b in blocks])
    two = second >= 0
    is_first = np.zeros(n_rows, dtype=bool)
    is_first[first] = True
    fact_of_row = np.empty(n_rows, dtype=np.intp)
    fact_of_row[first] = present
    fact_of_row[second[two]] = present[two]
    out = np.zeros((n_facts, n_facts))
    for b in blocks:
        d2 = sq[b, None] + sq[None, :]
        d2 -= 2.0 * (whole if whole is not None else z[b] @ z.T)
        d2[np.arange(d2.shape[0]), np.arange(b.start, b.stop)] = 0.0
        np.maximum(d2, 0.0, out=d2)
        np.sqrt(d2, out=d2)
        cols = d2[:, first]
        cols[:, two] += d2[:, second[two]]
        # a fact's first row sets its row of the result, its second row (a later row, so in this block
        # or a later one) adds to it: the whole route's ``cols[first] + cols[second]`` to the bit
        rows, facts = np.arange(b.start, b.stop), fact_of_row[b]
        lead = is_first[rows]
        out[np.ix_(facts[lead], present)] = cols[lead]
        out[np.ix_(facts[~lead], present)] += cols[~lead]
    return out
