"""Do two kinds of fact share one truth direction? A test that is blind to how strongly each kind holds it.

Each fact gives a difference vector ``d_i = z(true form) − z(false form)``. Comparing the two kinds'
mass-mean directions by their angle confounds direction with strength: a kind whose truth signal is
weak has a noisier estimated direction, so the angle grows, and a permutation test of it rejects when
both kinds share one direction at different strengths (96% of such nulls in a simulation here).

**Disattenuated cosine.** With kinds ``h`` and ``c``, mean truth vectors ``μ_h`` and ``μ_c``, the pair
means of ``G = D Dᵀ`` over *distinct* facts are unbiased: ``A`` (pairs across kinds) estimates
``⟨μ_h, μ_c⟩``, ``B`` and ``D`` (distinct pairs within each kind) estimate ``‖μ_h‖²`` and ``‖μ_c‖²``
(leaving out ``i = j`` removes the noise ``tr Σ / n`` that inflates a direction's estimated norm). So

    ρ = A / √(B·D)

estimates ``cos(μ_h, μ_c)``: 1 for one shared direction *whatever the two strengths and noise levels*
(a cosine corrected for attenuation, like a correlation corrected for reliability). The estimate
reported is ``arccos(ρ)`` in degrees (ρ clipped to [−1, 1]; NaN where a kind has no truth signal,
``B ≤ 0`` or ``D ≤ 0``).

**Test.** The permutation null mixes the kinds, and so their strengths and noise: ρ's spread under the
observed labels is not its spread under permuted ones. The test statistic is therefore studentised,
``t = (√(B·D) − A) / SE`` (0 under a shared direction; smoother than ``1 − ρ`` where ``B·D`` is small)
with the delta-method SE from each fact's influence on ``A``, ``B`` and ``D``; studentised permutation
tests keep their size under such heteroscedasticity (Janssen 1997; Chung & Romano 2013). In a
simulation (``scripts/calibrate_geometry.py``) its size stays near 0.05 at strength ratios 1:1 and 2:1
and rises to about 0.08 only where the weaker kind's truth signal is itself undetectable. Every term is a sum over a labelling's blocks of ``G``: a stack of labellings costs one
matrix product.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


class TruthDirections:
    """The two kinds' truth directions from ``g_dd``, the facts × facts Gram matrix of ``d_i``."""

    def __init__(self, g_dd: Array) -> None:
        self.g = np.asarray(g_dd, dtype=np.float64)
        self.g32 = self.g.astype(np.float32)
        self.diag = np.diag(self.g).copy()
        self.colsum = self.g.sum(axis=0)

    def rho(self, labels: NDArray[np.integer], weights: Array | None = None) -> tuple[Array, Array]:
        """``(ρ, t)`` for each labelling ``(P, n)`` (1 = kind h); ``weights`` are fact multiplicities (a
        bootstrap): pairs of copies of one fact are left out like ``i = j``. ``t`` is the studentised
        ``T = √(B·D) − A`` (see the module docstring; large when the directions differ).

        The unweighted labels' float copies and class sizes are kept from the previous call (the same
        permutations are applied to one Gram matrix per layer); the ``(P, n)`` arithmetic is done in place."""
        if weights is not None:
            a = labels.astype(np.float64)
            w = np.asarray(weights, dtype=np.float64)
            a, b = a * w, (1.0 - a) * w
            ga = (a.astype(np.float32) @ self.g32).astype(np.float64)
            gb = (b.astype(np.float32) @ self.g32).astype(np.float64)
            same_a, same_b = a * self.diag, b * self.diag  # a fact's pairs with its own copies
            n_h, n_c = a.sum(axis=1), b.sum(axis=1)
            pairs_h = n_h**2 - (a * a).sum(axis=1)
            pairs_c = n_c**2 - (b * b).sum(axis=1)
            self_h = np.einsum("pi,pi->p", a, same_a)
            self_c = np.einsum("pi,pi->p", b, same_b)
        else:
            lab = _Labels.of(labels)
            a, b, n_h, n_c, pairs_h, pairs_c = lab.a, lab.b, lab.n_h, lab.n_c, lab.pairs_h, lab.pairs_c
            ga = (lab.a32 @ self.g32).astype(np.float64)
            gb = np.subtract(self.colsum[None, :], ga)
            same = np.broadcast_to(self.diag, a.shape)
            self_h, self_c = np.einsum("pi,pi->p", a, same), np.einsum("pi,pi->p", b, same)
        with np.errstate(invalid="ignore", divide="ignore"):
            big_a = np.einsum("pi,pi->p", a, gb) / (n_h * n_c)
            big_b = (np.einsum("pi,pi->p", a, ga) - self_h) / pairs_h
            big_d = (np.einsum("pi,pi->p", b, gb) - self_c) / pairs_c
            ok = (big_b > 0) & (big_d > 0)
            root = np.where(ok, np.sqrt(np.where(ok, big_b * big_d, 1.0)), np.nan)
            rho = big_a / root
            # each fact's influence on T = √(BD) − A: dT = (D dB + B dD) / (2√(BD)) − dA, where a kind-h
            # fact moves A by (its mean product with kind c − A) / n_h and B by 2 (its mean product with
            # the other kind-h facts − B) / n_h
            var = self._influence_ss(
                a, ga, gb, self.diag if weights is None else same_a, n_h, n_c, big_a, big_b, big_d, root
            )
            var += self._influence_ss(
                b, gb, ga, self.diag if weights is None else same_b, n_c, n_h, big_a, big_d, big_b, root
            )
            t = (root - big_a) / np.sqrt(var)
        return rho, t

    @staticmethod
    def _influence_ss(
        a: Array,
        ga: Array,
        gb: Array,
        same: Array,
        n_h: Array,
        n_c: Array,
        big_a: Array,
        big_b: Array,
        big_d: Array,
        root: Array,
    ) -> Array:
        """``Σ_i a_i inf_i² / n_h²`` for the facts of one kind (``a``), ``inf_i = D (g_ih − B) / √(BD) −
        (g_ic − A)``, ``g_ih = (ga_i − same_i) / (n_h − 1)`` its mean product with the other facts of its
        kind and ``g_ic = gb_i / n_c`` with the other kind (in place, two ``(P, n)`` buffers)."""
        g_ih = np.subtract(ga, same)
        g_ih /= (n_h - 1)[:, None]
        g_ih -= big_b[:, None]
        inf = np.multiply(big_d[:, None], g_ih, out=g_ih)
        inf /= root[:, None]
        g_ic = np.divide(gb, n_c[:, None])
        g_ic -= big_a[:, None]
        inf -= g_ic
        np.square(inf, out=inf)
        inf *= a
        out: Array = inf.sum(axis=1) / n_h**2
        return out

    def angle_degrees(self, labels: NDArray[np.integer], weights: Array | None = None) -> Array:
        """``arccos(ρ)`` in degrees for each labelling."""
        return angle(self.rho(labels, weights)[0])

    def t_statistic(self, labels: NDArray[np.integer]) -> Array:
        """Studentised ``√(B·D) − A`` for each labelling: large when the directions differ (NaN where a
        kind has no truth signal)."""
        return self.rho(labels)[1]


class _Labels:
    """Float copies and class sizes of one ``(P, n)`` 0/1 labelling, kept for the next call with equal labels
    (compared with a copy): :meth:`TruthDirections.rho` is called with one set of permutations per layer."""

    _last: tuple[NDArray[np.integer], _Labels] | None = None

    def __init__(self, labels: NDArray[np.integer]) -> None:
        self.a = labels.astype(np.float64)
        self.b = 1.0 - self.a
        self.a32 = self.a.astype(np.float32)
        self.n_h, self.n_c = self.a.sum(axis=1), self.b.sum(axis=1)
        self.pairs_h, self.pairs_c = self.n_h * (self.n_h - 1), self.n_c * (self.n_c - 1)

    @classmethod
    def of(cls, labels: NDArray[np.integer]) -> _Labels:
        last = cls._last
        if last is not None and last[0].shape == labels.shape and np.array_equal(last[0], labels):
            return last[1]
        found = cls(labels)
        cls._last = (labels.copy(), found)  # a copy: the caller may change its array
        return found


def angle(rho: Array) -> Array:
    """Degrees of ``arccos(ρ)``, ρ clipped to [−1, 1] (NaN stays NaN)."""
    out: Array = np.degrees(np.arccos(np.clip(rho, -1.0, 1.0)))
    return out


def plain_angle_degrees(g_dd: Array, labels: NDArray[np.integer]) -> Array:
    """Angle between the two classes' mass-mean directions (strength-sensitive; for comparison only)."""
    a = labels.astype(np.float64)
    b = 1.0 - a
    ag = a @ g_dd
    bg = g_dd.sum(axis=0) - ag
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.einsum("pi,pi->p", ag, b) / np.sqrt(
            np.einsum("pi,pi->p", ag, a) * np.einsum("pi,pi->p", bg, b)
        )
    out: Array = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    return out


__all__ = ["TruthDirections", "angle", "plain_angle_degrees"]
