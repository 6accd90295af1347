"""What every analysis shares: the run, the fact labels, one stack of permutations, folds and caches."""

from __future__ import annotations

import copy
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from beliefs.results import columns as C
from beliefs.results.verdict import ALPHA
from beliefs.rundata import ModelInfo, RunData
from beliefs.settings import settings
from beliefs.stats import (
    bh_adjust,
    bootstrap_ci,
    fact_bootstrap_weights,
    fact_folds,
    fact_permutations,
    maxstat_adjust,
    middle_third,
    permutation_pvalues,
    sign_flips,
    zscore,
)
from beliefs.stats.conditional import pair_keys

Array = NDArray[np.float64]
N_SPLIT_SEEDS = 5
N_BOOT = 1000


def cache_bytes() -> int:
    """States (and their Gram matrices) kept in memory per process, so that every analysis of a model reads
    and z-scores each ``(model, condition, pooling)`` once: ``BELIEFS_ANALYZE_CACHE_GB`` (default 2)."""
    return settings().cache_bytes


def gram_bytes() -> int:
    """Per-layer Gram matrices kept by one :class:`Layered` (a quarter of :func:`cache_bytes`)."""
    return cache_bytes() // 4


@dataclass
class Output:
    """An analysis' result rows (dicts keyed by :mod:`columns`) and its headlines."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    headlines: list[dict[str, Any]] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    """Extra tables written beside the analysis' own (``RUN/results/<name>.csv``), e.g. per-fact scores."""


@dataclass
class Layered:
    """Rows of the table from one ``(model, condition, pooling)`` and z-scored states of each layer."""

    row_fact: NDArray[np.intp]
    """Fact index of each row (true forms first, then false forms, absent facts left out)."""
    form: NDArray[np.int8]
    """1 for a true-form row, 0 for a false-form row."""
    z: list[Array]
    """Per layer ``(n_rows, width)``, z-scored over the rows without labels."""
    _grams: dict[int, Array] = field(default_factory=dict, repr=False)

    def gram(self, layer: int) -> Array:
        """``z zᵀ`` of one layer (rows × rows), computed once while it fits: probes and distances all start
        from it. Grams beyond :func:`gram_bytes` are dropped, oldest first (recomputed when asked again),
        so that many facts × many layers do not hold every layer's ``rows²`` matrix at once."""
        k = self._grams.pop(layer, None)
        if k is None:
            z = self.z[layer]
            k = z @ z.T
        self._grams[layer] = k  # most recently used last
        while len(self._grams) > 1 and sum(g.nbytes for g in self._grams.values()) > gram_bytes():
            del self._grams[next(iter(self._grams))]
        return k

    def kept_gram(self, layer: int) -> Array | None:
        """The layer's Gram matrix if it is kept (another analysis formed it), else None; never computes."""
        return self._grams.get(layer)

    @property
    def nbytes(self) -> int:
        return sum(z.nbytes for z in self.z) + sum(k.nbytes for k in self._grams.values())


class AnalysisContext:
    """Shared inputs of the analyses of one ``analyze`` call."""

    def __init__(self, run: RunData, permutations: int = 2000, seed: int = 0) -> None:
        _load_blas_users()
        self.run = run
        self.n_permutations = permutations
        self.seed = seed
        self.facts = run.facts().reset_index(drop=True)
        self.n_facts = len(self.facts)
        self.labels = (self.facts["kind"].to_numpy() == "hinge").astype(np.int8)
        self.domains = self.facts["domain"].to_numpy().astype(str)
        self.domain_names: tuple[str, ...] = tuple(sorted(set(self.domains.tolist())))
        """The domains present in the facts, sorted: whatever the fact sets declare, none left out."""
        self.cells = np.char.add(np.char.add(self.domains, "/"), self.facts["kind"].to_numpy().astype(str))
        self.templates = _optional(self.facts, "template")
        """Declared sentence frame per fact (``""`` where none, or the column is absent)."""
        self.tags = _optional(self.facts, "tags")
        self.pairs = _optional(self.facts, "pair")
        """Per fact, the id of its matched twin of the other kind (``""`` where none)."""
        self.pair_keys = pair_keys(self.facts["fact_id"].astype(str).to_numpy(), self.pairs)
        """Per fact, one key shared by both twins of a declared pair (``""`` where none)."""
        self.null_strata = design_strata(self.domains, self.pair_keys)
        """Per fact, the stratum its label is exchanged within under the plain null: its declared pair
        (both twins' labels swap or stay), else its domain (:func:`design_strata`)."""
        self.units = bootstrap_units(self.pair_keys)
        """``(n_units, 2)`` fact indices of the resampling units, ``-1`` padded: a declared pair's two twins
        move together, any other fact alone (:func:`bootstrap_units`)."""
        rng = np.random.SeedSequence(seed).spawn(4)
        self.perms = fact_permutations(
            self.labels, self.null_strata, permutations, np.random.default_rng(rng[0])
        )
        self.flips = sign_flips(self.n_facts, permutations, np.random.default_rng(rng[1]))
        # Folds are stratified by domain only (never by the observed kinds, which the nulls permute) and
        # keep the twins of a declared pair together.
        groups = np.where(self.pair_keys != "", self.pair_keys, np.arange(self.n_facts).astype(str))
        self.fold_sets = [
            fact_folds(self.domains, seed=seed + s, groups=groups) for s in range(N_SPLIT_SEEDS)
        ]
        self.group_folds, self.group_kind = _leave_group_out(
            self.domains, self.templates, self.tags, groups, seed
        )
        """Folds that leave whole templates out (else whole first tags), or None where neither is declared;
        ``group_kind`` says which (``leave-template-out``, ``leave-tag-out``)."""
        self.boot = fact_bootstrap_weights(
            np.where(self.pair_keys != "", self.domains, self.cells),
            N_BOOT,
            seed=seed + 7,
            clusters=self.pair_keys,
        )
        """Fact-bootstrap multiplicities: pairs resampled whole within their domain, other facts within
        their domain × kind cell (the design fixes the kind counts of unpaired facts, not of pairs)."""
        self.shared: dict[str, Any] = {}
        """Caches shared by the analyses of one call (surface features, conditional permutations)."""
        self.elicitation_dir: Path | None = None
        """Folder of an elicitation of the same facts (``salience.csv``, ``elicit.json``) whose salience
        ``hingeness`` uses; ``analyze`` sets it to ``OUT/../elicitation`` (where ``beliefs study`` writes it)."""
        self.models: list[ModelInfo] = run.models()
        self.conditions: list[str] = run.conditions()
        self._cache: OrderedDict[tuple[str, str, str], Layered] = OrderedDict()

    def fork(self) -> AnalysisContext:
        """A shallow copy with its own state cache, for an analysis running in another thread."""
        other = copy.copy(self)
        other._cache = OrderedDict()
        return other

    @property
    def n_rows_null(self) -> int:
        return self.perms.shape[0]

    def states(self, model: str, condition: str, pooling: str) -> Layered:
        """Both forms of every present fact, z-scored per layer (cached, least recently used dropped first)."""
        key = (model, condition, pooling)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        t = np.asarray(self.run.states(model, condition, "true", pooling), dtype=np.float64)
        f = np.asarray(self.run.states(model, condition, "false", pooling), dtype=np.float64)
        ok_t = np.all(np.isfinite(t), axis=(1, 2))
        ok_f = np.all(np.isfinite(f), axis=(1, 2))
        row_fact = np.concatenate([np.flatnonzero(ok_t), np.flatnonzero(ok_f)])
        form = np.concatenate([np.ones(ok_t.sum(), np.int8), np.zeros(ok_f.sum(), np.int8)])
        x = np.concatenate([t[ok_t], f[ok_f]], axis=0)
        layered = Layered(row_fact, form, [zscore(x[:, layer, :]) for layer in range(x.shape[1])])
        self._cache[key] = layered
        self._evict(keep=key)
        return layered

    def _evict(self, keep: tuple[str, str, str]) -> None:
        """Drop least recently used states beyond :func:`cache_bytes` (never the one just asked for)."""
        while len(self._cache) > 1 and sum(v.nbytes for v in self._cache.values()) > cache_bytes():
            oldest = next(iter(self._cache))
            if oldest == keep:
                break
            self._cache.popitem(last=False)

    def margins(self, model: str, condition: str) -> pd.DataFrame:
        """Margins of ``model`` under ``condition`` aligned with the facts (NaN where absent)."""
        m = self.margin_table()
        sel = m[(m["model"] == model) & (m["condition"] == condition)]
        sel = sel.drop_duplicates(["fact_set", "fact_id"]).set_index(["fact_set", "fact_id"])
        index = pd.MultiIndex.from_frame(self.facts[["fact_set", "fact_id"]])
        cols = ["logp_true", "logp_false", "margin", "n_tokens_true", "n_tokens_false"]
        return sel.reindex(index)[cols].astype(float).reset_index(drop=True)

    def has_margins(self, model: ModelInfo) -> bool:
        if model.backend != "hf":
            return False
        m = self.margin_table()
        return bool(len(m)) and bool((m["model"] == model.name).any())

    def margin_table(self) -> pd.DataFrame:
        """The run's whole margins table, read once per context (a stored run rebuilds it on every call,
        and the run does not change while it is analysed). Do not modify it."""
        found = self.shared.get("margin_table")
        if found is None:
            found = self.shared["margin_table"] = self.run.margins()
        return found


def _load_blas_users() -> None:
    """Import the libraries whose BLAS and OpenMP pools the analyses use (scipy.linalg, scikit-learn).

    ``analyze`` limits BLAS threads with threadpoolctl after building the context, and a limit applies
    only to the libraries loaded by then: one first loaded inside the limit (scipy's own OpenBLAS, say)
    would run with every core's threads (measured: a quarter more CPU time at 250 facts, on one core's
    worth of wall time). Building the folds with scikit-learn used to load them here by accident."""
    import scipy.linalg  # noqa: F401
    import sklearn.linear_model  # noqa: F401


def design_strata(domains: np.ndarray, pair_keys: np.ndarray) -> NDArray[np.str_]:
    """The strata of the plain permutation null: each declared pair its own stratum, other facts their domain.

    A paired design assigns one hinge and one contingent fact to every pair, so its labels are exchangeable
    only within the pair: shuffling them across a domain breaks the pairs and yields a null that the
    observed, pair-balanced labelling is not a draw from (a plain distance then reads p = 1.0 where the
    twins are near-identical). The beyond-surface nulls swap within pairs too, so that the plain and the
    beyond-surface tests of one headline rest on compatible nulls."""
    dom = np.asarray(domains).astype(str)
    keys = np.asarray(pair_keys).astype(str)
    return np.where(keys != "", np.char.add(np.char.add(dom, "|pair:"), keys), dom).astype(str)


def bootstrap_units(pair_keys: np.ndarray) -> NDArray[np.intp]:
    """``(n_units, 2)`` fact indices of the bootstrap's resampling units (``-1`` padded): the two twins of
    a declared pair form one unit, every other fact a unit of its own."""
    keys = np.asarray(pair_keys).astype(str)
    units: list[tuple[int, int]] = []
    seen: dict[str, int] = {}
    for i, k in enumerate(keys.tolist()):
        if not k:
            units.append((i, -1))
        elif k in seen:
            units[seen[k]] = (units[seen[k]][0], i)
        else:
            seen[k] = len(units)
            units.append((i, -1))
    return np.asarray(units, dtype=np.intp).reshape(-1, 2)


def _optional(facts: pd.DataFrame, column: str) -> NDArray[np.str_]:
    """An optional fact column as strings, ``""`` where missing (or where the run has no such column)."""
    if column not in facts:
        return np.full(len(facts), "", dtype=object).astype(str)
    return np.array(["" if pd.isna(v) else str(v) for v in facts[column].tolist()], dtype=str)


def _leave_group_out(
    domains: np.ndarray, templates: np.ndarray, tags: np.ndarray, fallback: np.ndarray, seed: int
) -> tuple[NDArray[np.intp] | None, str]:
    """Folds stratified by domain that keep whole templates (else first tags) in one fold."""
    for values, name in (
        (templates, "leave-template-out"),
        (np.char.partition(tags, ";")[:, 0], "leave-tag-out"),
    ):
        if not (values != "").any():
            continue
        groups = np.where(values != "", np.char.add("g:", values), fallback)
        per_domain = [np.unique(groups[domains == d]).size for d in np.unique(domains)]
        if min(per_domain) < 2:
            continue
        return fact_folds(domains, seed=seed, groups=groups), name
    return None, ""


def bacc_ci(ctx: AnalysisContext, correct: Array, rows: Array, labels: np.ndarray) -> tuple[float, float]:
    """Fact-bootstrap interval of a balanced accuracy from per-fact correct counts ``(n, k)`` (mean over k).

    The design's units are resampled (a declared pair's twins together, :attr:`AnalysisContext.units`).
    The probes are not refitted: the interval holds the sampling of the test facts given the out-of-fold
    predictions, not the variability of refitting on resampled training facts."""
    n = correct.shape[0]
    pos = np.append(labels.astype(bool), False)
    c = np.vstack([correct, np.zeros((1, correct.shape[1]))])
    r = np.append(rows, 0.0)
    units = np.where(ctx.units >= 0, ctx.units, n)  # the pad is a dummy fact with no rows
    units = units[(r[units] > 0).any(axis=1)]

    def stat(index: np.ndarray, axis: int = -1) -> np.ndarray:
        idx = units[index.astype(np.intp)].reshape(*index.shape[:-1], -1)
        cc, rr, p = c[idx], r[idx], pos[idx]
        tpr = (cc * p[..., None]).sum(axis=-2) / (rr * p).sum(axis=-1)[..., None]
        tnr = (cc * ~p[..., None]).sum(axis=-2) / (rr * ~p).sum(axis=-1)[..., None]
        return np.asarray((0.5 * (tpr + tnr)).mean(axis=-1))

    return bootstrap_ci(
        (np.arange(units.shape[0]).astype(np.float64),), stat, n_resamples=2000, seed=ctx.seed
    )


def row(analysis: str, model: ModelInfo, condition: str, statistic: str, **values: Any) -> dict[str, Any]:
    """A result row with every column present (NaN or empty where it does not apply)."""
    out: dict[str, Any] = dict.fromkeys(C.RESULT_COLUMNS, np.nan)
    out.update(
        {
            C.ANALYSIS: analysis,
            C.MODEL: model.name,
            C.CONTROL: model.control or "",
            C.CONDITION: condition,
            C.STATISTIC: statistic,
            C.SUBSET: "pooled",
            C.POOLING: "",
        }
    )
    out.update(values)
    return out


def fill_family(rows: list[dict[str, Any]], nulls: list[Array]) -> None:
    """Fill p-values of a family of rows from their null columns (row 0 of each = observed).

    ``p_value`` per row, ``p_adjusted`` by max-statistic over the whole family, ``p_bh`` beside it.
    """
    if not rows:
        return
    t = np.column_stack(nulls)
    p = permutation_pvalues(t)
    adj = maxstat_adjust(t)
    bh = bh_adjust(p)
    for i, r in enumerate(rows):
        r[C.P_VALUE], r[C.P_ADJUSTED], r[C.P_BH] = float(p[i]), float(adj[i]), float(bh[i])
        null = t[1:, i]
        if np.isfinite(null).any():
            r[C.NULL_LOW], r[C.NULL_HIGH] = (float(v) for v in np.nanpercentile(null, [2.5, 97.5]))


def headline(
    analysis: str,
    model: ModelInfo,
    condition: str,
    statistic: str,
    n_layers: int | None,
    **values: Any,
) -> dict[str, Any]:
    """A summary headline: the pre-registered aggregate (middle third of layers, ``last`` pooling)."""
    out: dict[str, Any] = {
        C.ANALYSIS: analysis,
        C.MODEL: model.name,
        C.CONTROL: model.control or "",
        C.CONDITION: condition,
        C.STATISTIC: statistic,
    }
    if n_layers is not None:
        mid = middle_third(n_layers)
        out["layers"] = [int(mid[0]), int(mid[-1])]
        out[C.POOLING] = "last"
    null = values.pop("null", None)
    if null is not None and np.isfinite(null[1:]).any():
        # the permutation null of the headline: its mean, and the value an estimate had to exceed for
        # p <= ALPHA (one-sided), i.e. the smallest effect this many facts could have detected
        out["null_mean"] = float(np.nanmean(null[1:]))
        out["null_critical"] = float(np.nanpercentile(null[1:], 100 * (1 - ALPHA)))
    out.update(values)
    return out


def aggregate(null_by_layer: list[Array], n_layers: int) -> Array:
    """Mean over the middle third of layers of per-layer nulls ``(P,)``: the headline's null."""
    mid = middle_third(n_layers)
    return np.asarray(np.mean(np.column_stack([null_by_layer[i] for i in mid]), axis=1))


LAYER0_POOLING = "mean"
"""Pooling of the layer-0 (lexical) reference. With ``last`` pooling, layer 0 is the embedding of each
statement's final token, the same "." in nearly every statement, so it would read chance by construction."""


def attach_layer0(headlines: list[dict[str, Any]], layer0: dict[tuple[str, str, str], Array]) -> None:
    """Give each headline the layer-0 value and p-value of its statistic, keyed by (model, condition,
    statistic), from :data:`LAYER0_POOLING`."""
    for h in headlines:
        null = layer0.get((h[C.MODEL], h[C.CONDITION], h[C.STATISTIC]))
        if null is None or h.get("domain"):  # the layer-0 reference is pooled over the domains
            continue
        h["layer0_estimate"] = float(null[0])
        h["layer0_p_value"] = float(permutation_pvalues(null)[0])
        h["layer0_pooling"] = LAYER0_POOLING
