"""Per-layer feature matrices, their Gram and distance matrices, and distance statistics under permutation.

Rows are statements (a fact's true and false forms, say); labels belong to facts. ``membership`` maps
rows to facts, so that matrices collapsed to the fact level (``Mᵀ K M``) give, for any fact labelling,
class sums with one matrix product: ``aᵀ K_ff a`` is the sum of ``K`` over all row pairs in class ``a``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]


def zscore(x: ArrayLike, axis: int = 0) -> Array:
    """Standardise each column (feature) without labels; constant columns become 0."""
    a = np.asarray(x, dtype=np.float64)
    mean = a.mean(axis=axis, keepdims=True)
    sd = a.std(axis=axis, keepdims=True)
    return np.where(sd > 0, (a - mean) / np.where(sd > 0, sd, 1.0), 0.0)


def membership(row_fact: ArrayLike, n_facts: int) -> Array:
    """``(n_rows, n_facts)`` 0/1 matrix: row r belongs to fact ``row_fact[r]``."""
    idx = np.asarray(row_fact, dtype=np.intp)
    m = np.zeros((idx.size, n_facts))
    m[np.arange(idx.size), idx] = 1.0
    return m


def euclidean_distances(z: Array) -> Array:
    """Pairwise Euclidean distances of the rows of ``z`` (from the Gram matrix)."""
    return gram_distances(z @ z.T)


def gram_distances(k: Array) -> Array:
    """Pairwise Euclidean distances of the rows whose Gram matrix is ``k``."""
    sq = np.diag(k)
    d2 = sq[:, None] + sq[None, :]
    d2 -= 2.0 * k  # the same operations as ``sq_i + sq_j − 2k``, in place (rows² matrices are large)
    np.fill_diagonal(d2, 0.0)
    np.maximum(d2, 0.0, out=d2)
    out: Array = np.sqrt(d2, out=d2)
    return out


def collapse(matrix: Array, member: Array) -> Array:
    """Fact-level sums ``Mᵀ X M`` of a row-level square matrix (``M``: :func:`membership`, a row has one
    fact); :func:`collapse_rows` takes the rows' facts instead of ``M``."""
    m = np.asarray(member)
    return collapse_rows(matrix, np.argmax(m, axis=1), m.shape[1])


def collapse_rows(matrix: Array, row_fact: ArrayLike, n_facts: int) -> Array:
    """``Mᵀ X M`` for rows whose facts are ``row_fact``: ``out[g, f]`` sums ``X[s, r]`` over the rows ``s``
    of fact ``g`` and ``r`` of fact ``f`` (absent facts: zero rows and columns).

    Summed as a sparse ``Mᵀ (Mᵀ Xᵀ)ᵀ`` product does (each fact's rows in increasing order, columns first),
    so the result is the same to the last bit, without the sparse product's copies of ``X``: with at most
    two rows per fact (a true and a false form), two column gathers and two row gathers.
    """
    rf = np.asarray(row_fact, dtype=np.intp)
    order = np.argsort(rf, kind="stable")
    present, starts, counts = np.unique(rf[order], return_index=True, return_counts=True)
    x = np.asarray(matrix)
    if counts.size and counts.max() > 2:  # more than the two forms of a fact: the sparse product itself
        mt = _sparse_membership(rf, n_facts)
        return np.asarray(mt @ np.asarray(mt @ x.T).T, dtype=np.float64)
    first = order[starts]
    two = counts == 2
    second = order[starts[two] + 1]
    cols = x[:, first]
    cols[:, two] += x[:, second]
    inner = cols[first]
    inner[two] += cols[second]
    if present.size == n_facts:
        return np.asarray(inner, dtype=np.float64)
    out = np.zeros((n_facts, n_facts))
    out[np.ix_(present, present)] = inner
    return out


def fact_row_sums(x: Array, row_fact: ArrayLike, n_facts: int) -> Array:
    """``Mᵀ X`` ``(n_facts, columns)``: each fact's rows of ``x`` summed, in increasing row order (as the
    sparse product ``Mᵀ X`` sums them, so equal to the last bit); absent facts get zero rows."""
    rf = np.asarray(row_fact, dtype=np.intp)
    order = np.argsort(rf, kind="stable")
    present, starts, counts = np.unique(rf[order], return_index=True, return_counts=True)
    arr = np.asarray(x, dtype=np.float64)
    if counts.size and counts.max() > 2:
        return np.asarray(_sparse_membership(rf, n_facts) @ arr, dtype=np.float64)
    two = counts == 2
    sums = arr[order[starts]]
    sums[two] += arr[order[starts[two] + 1]]
    if present.size == n_facts:
        return sums
    out = np.zeros((n_facts, arr.shape[1]))
    out[present] = sums
    return out


def _sparse_membership(row_fact: NDArray[np.intp], n_facts: int) -> Any:
    """``Mᵀ`` as a sparse ``(n_facts, n_rows)`` array."""
    from scipy import sparse

    return sparse.csr_array(membership(row_fact, n_facts).T)


Classes = tuple[Array, Array, Array, Array]
"""Per labelling, the class weights ``a``, ``b`` ``(P, n)`` and row counts ``n_a``, ``n_b`` ``(P,)``."""


def class_weights(
    labels: NDArray[np.integer] | Array, rows_per_fact: Array, weights: Array | None = None
) -> Classes:
    """The :data:`Classes` of ``labels`` ``(P, n)`` (times ``weights`` where given): compute them once and
    pass them as ``classes`` to :func:`energy_distance_perm` and :func:`centroid_distance_perm` when
    several matrices are tested with the same labellings (the same numbers as computing them in each)."""
    a = labels.astype(np.float64)
    b = 1.0 - a
    if weights is not None:
        a, b = a * weights, b * weights
    return a, b, a @ rows_per_fact, b @ rows_per_fact


def energy_distance_perm(
    d_ff: Array,
    labels: NDArray[np.integer],
    rows_per_fact: Array,
    weights: Array | None = None,
    classes: Classes | None = None,
) -> Array:
    """Energy distance between the two classes for each row of ``labels`` ``(P, n_facts)``.

    ``E = 2·mean d(A,B) − mean d(A,A') − mean d(B,B')`` with V-statistic means (pairs with themselves
    included), the definition ``dcor.energy_distance`` uses. ``d_ff`` is the fact-collapsed distance
    matrix; facts with 0 rows (absent) must be labelled but contribute nothing. ``weights`` ``(P, n)``
    (fact multiplicities, for a bootstrap) multiply the labels; ``classes``: their :func:`class_weights`,
    precomputed.
    """
    a, b, n_a, n_b = classes if classes is not None else class_weights(labels, rows_per_fact, weights)
    ad = a @ d_ff
    s_aa = np.einsum("pi,pi->p", ad, a)
    s_ab = np.einsum("pi,pi->p", ad, b)
    bd = (a + b) @ d_ff - ad if weights is not None else d_ff.sum(axis=0) - ad
    s_bb = np.einsum("pi,pi->p", bd, b)
    # A fact drawn k times by a bootstrap adds k² zero self-pairs; count only k of them, as without one.
    pairs_a = n_a**2 - (a**2 - a) @ rows_per_fact
    pairs_b = n_b**2 - (b**2 - b) @ rows_per_fact
    with np.errstate(invalid="ignore", divide="ignore"):
        out: Array = 2.0 * s_ab / (n_a * n_b) - s_aa / pairs_a - s_bb / pairs_b
    return out


def centroid_distance_perm(
    k_ff: Array | None,
    labels: NDArray[np.integer],
    rows_per_fact: Array,
    width: int,
    weights: Array | None = None,
    features: Array | None = None,
    classes: Classes | None = None,
) -> Array:
    """Distance between the class centroids, as RMS per feature: ``‖μ_A − μ_B‖ / √width``.

    ``k_ff`` is the fact-collapsed Gram matrix of the (z-scored) rows. ``features`` ``(n_facts, d)``, the
    fact-summed rows with ``k_ff = features featuresᵀ``, may be given instead: ``‖c F‖²`` then replaces
    ``cᵀ K c`` (equal up to rounding; fewer operations when ``d`` is below the number of facts).
    """
    a, b, n_a, n_b = classes if classes is not None else class_weights(labels, rows_per_fact, weights)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = a / n_a[:, None] - b / n_b[:, None]
    if features is not None:
        cf = c @ features
        sq = np.einsum("pd,pd->p", cf, cf)
    elif k_ff is not None:
        sq = np.einsum("pi,pi->p", c @ k_ff, c)
    else:
        raise ValueError("centroid_distance_perm needs k_ff or features")
    out: Array = np.sqrt(np.maximum(sq, 0.0) / width)
    return out


def mean_centred_cosine_shift(x: Array, y: Array) -> Array:
    """Per-row ``1 − cos(x_i − m, y_i − m)``, ``m`` the mean over all rows of both, after z-scoring.

    ``x`` and ``y`` are ``(n, width)`` states of the same statements in two conditions; the z-scoring
    (pooled over both) removes the shared mean and the scale of "massive" dimensions.
    """
    both = zscore(np.vstack([x, y]))
    xs, ys = both[: len(x)], both[len(x) :]
    num = np.einsum("ij,ij->i", xs, ys)
    den = np.linalg.norm(xs, axis=1) * np.linalg.norm(ys, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: Array = 1.0 - num / den
    return out
