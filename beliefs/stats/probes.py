"""Linear probes: vectorised mass-mean probes for permutation nulls, and the logistic probe for estimates.

The mass-mean probe (difference of class means, threshold at the midpoint of the projected class means,
both fitted on training data) has test scores that are linear in the training labels, so with the Gram
matrix of the rows every permutation is a matrix product. Folds are assigned to facts, so both forms of
a fact always land in the same fold.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from beliefs.stats.geometry import fact_row_sums

Array = NDArray[np.float64]
Labels = NDArray[np.integer]


def fact_folds(
    strata: ArrayLike, seed: int, n_splits: int = 5, groups: ArrayLike | None = None
) -> NDArray[np.intp]:
    """Assign each fact a fold id as ``StratifiedGroupKFold`` (groups = facts) does, stratified by ``strata``.

    ``groups`` (one per fact; default: each fact its own group) keeps facts of one group (a matched pair,
    a template) in one fold. ``n_splits`` shrinks to the number of groups in the smallest stratum when
    that is smaller (at least 2). The folds are scikit-learn's, fold for fold (:func:`_group_kfold`).
    """
    s = np.asarray(strata)
    g = np.arange(s.size) if groups is None else np.unique(np.asarray(groups), return_inverse=True)[1]
    smallest = min(np.unique(g[s == v]).size for v in np.unique(s))
    k = int(max(2, min(n_splits, smallest)))
    return _group_kfold(s, g, k, seed)


def _group_kfold(strata: NDArray[Any], groups: NDArray[np.intp], k: int, seed: int) -> NDArray[np.intp]:
    """Fold ids of ``StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)`` (scikit-learn
    1.x), computed the same way with the per-group search vectorised over the ``k`` candidate folds.

    scikit-learn evaluates each candidate fold with one small ``np.std`` call per fold and group, which
    took seconds per thousand facts; here the ``k`` candidates are one ``(k, k, classes)`` array and the
    same arithmetic (the same reductions over the same axis lengths, hence the same rounding), and the
    same choice rule (lowest spread, ties within ``np.isclose`` broken by the smaller fold, first wins).
    ``tests/stats/test_probes.py`` checks the folds against scikit-learn's own.
    """
    _, y_inv, y_cnt = np.unique(strata, return_inverse=True, return_counts=True)
    _, groups_inv, groups_cnt = np.unique(groups, return_inverse=True, return_counts=True)
    n_groups, n_classes = groups_cnt.size, y_cnt.size
    if k > n_groups:
        raise ValueError(f"cannot have {k} folds with only {n_groups} groups")
    per_group = np.zeros((n_groups, n_classes))
    np.add.at(per_group, (groups_inv, y_inv), 1.0)
    perm = np.arange(n_groups)
    np.random.RandomState(seed).shuffle(perm)
    per_group = per_group[perm]
    inv_perm = np.empty_like(perm)
    inv_perm[perm] = np.arange(perm.size)
    groups_inv = inv_perm[groups_inv]
    order = np.argsort(-np.std(per_group, axis=1), kind="stable")
    per_fold = np.zeros((k, n_classes))
    fold_of_group = np.empty(n_groups, dtype=np.intp)
    eye = np.eye(k)[:, :, None]
    scale = y_cnt.reshape(1, 1, -1)
    for group in order:
        counts = per_group[group]
        trial = per_fold[None, :, :] + eye * counts  # candidate i: the group added to fold i
        evals = np.mean(np.std(trial / scale, axis=1), axis=1).tolist()
        sizes = per_fold.sum(axis=1).tolist()
        best, min_eval, min_size = 0, math.inf, math.inf
        for i in range(k):
            e = evals[i]
            close = math.isfinite(min_eval) and abs(e - min_eval) <= 1e-8 + 1e-5 * abs(min_eval)
            if e < min_eval or (close and sizes[i] < min_size):
                best, min_eval, min_size = i, e, sizes[i]
        per_fold[best] += counts
        fold_of_group[group] = best
    folds: NDArray[np.intp] = fold_of_group[groups_inv]
    return folds


class _PlanFold:
    """One fold of a :class:`CVPlan`: what depends on the labels and folds only."""

    def __init__(self, u: NDArray[np.float32], lab: Labels, m: Array, out: NDArray[np.intp],
                 train: NDArray[np.intp], test_rows: NDArray[np.intp], test_pos: NDArray[np.intp]) -> None:  # fmt: skip
        self.out, self.train, self.test_rows = out, train, test_rows
        self.u_out = np.ascontiguousarray(u[:, out])
        self.u_train = np.ascontiguousarray(u[:, train])
        n_a = self.u_train @ m[train].astype(np.float32)
        self.inv_a = _inverse(n_a.astype(np.float64))
        self.inv_b = _inverse(float(m[train].sum()) - n_a.astype(np.float64))
        self.truth = lab[:, test_pos].astype(bool)
        self.pos = self.truth.sum(axis=1).astype(np.float64)
        self.neg = test_rows.size - self.pos


class CVPlan:
    """The label-dependent part of :meth:`GramProbe.cv_balanced_accuracy`, prepared once and reused for
    every layer whose rows are the same (``row_fact`` and ``rows_per_fact`` of the probes)."""

    def __init__(
        self,
        labels: Labels,
        folds: NDArray[np.intp],
        row_fact: NDArray[np.intp],
        rows_per_fact: Array,
        facts: NDArray[np.bool_] | None = None,
    ) -> None:
        present = rows_per_fact > 0
        if facts is not None:
            present = present & facts
        self.labels = labels
        """The labellings (kept to recognise plans whose products over all kept facts are the same)."""
        self.keep = np.flatnonzero(present)
        lab = labels[:, self.keep]
        self.u = lab.astype(np.float32)
        m = rows_per_fact[self.keep]
        f = folds[self.keep]
        position = np.full(rows_per_fact.size, -1, dtype=np.intp)
        position[self.keep] = np.arange(self.keep.size)
        row_pos = position[row_fact]
        self.folds: list[_PlanFold] = []
        self.fold_ids: list[int] = []
        pos = np.zeros(labels.shape[0])
        total = 0
        for fold in np.unique(f):
            out = np.flatnonzero(f == fold)
            train = np.flatnonzero(f != fold)
            test_rows = np.flatnonzero((row_pos >= 0) & (f[np.maximum(row_pos, 0)] == fold))
            if test_rows.size == 0 or train.size == 0:
                continue
            fold_plan = _PlanFold(self.u, lab, m, out, train, test_rows, row_pos[test_rows])
            self.folds.append(fold_plan)
            self.fold_ids.append(int(fold))
            pos += fold_plan.truth.sum(axis=1)
            total += test_rows.size
        self.pos = pos
        self.neg = total - pos


class GramProbe:
    """Mass-mean probe over fixed rows, evaluated for many fact labellings at once.

    ``z``: ``(n_rows, width)`` z-scored features of the rows present (or pass their Gram matrix
    ``gram = z zᵀ`` instead); ``row_fact``: the fact of each row (indices into ``0..n_facts-1``).
    """

    def __init__(
        self, z: Array | None, row_fact: ArrayLike, n_facts: int, *, gram: Array | None = None
    ) -> None:
        self.row_fact = np.asarray(row_fact, dtype=np.intp)
        self._f: NDArray[np.float32] | None = None
        self._z: NDArray[np.float32] | None = None
        if z is not None and factored(z.shape[1], int(np.unique(self.row_fact).size)):
            # features narrower than the facts: keep the factors K = Z Zᵀ, K_ff = F Fᵀ with F = Mᵀ Z, and
            # form the permutation products through them (see :meth:`cv_accuracy_plan`)
            f = fact_row_sums(z, self.row_fact, n_facts)
            self._f = np.ascontiguousarray(f, dtype=np.float32)
            self._z = np.ascontiguousarray(z, dtype=np.float32)
            self.k_rf = np.ascontiguousarray(z @ f.T, dtype=np.float32)
            self.k_ff = np.asarray(f @ f.T).astype(np.float32)
        else:
            if gram is None:
                if z is None:
                    raise ValueError("GramProbe needs z or gram")
                gram = z @ z.T
            k_fr = fact_row_sums(gram, self.row_fact, n_facts)  # Mᵀ K: (n_facts, n_rows)
            # float32 halves the time of the permutation products; predictions are compared, not summed.
            self.k_rf = np.ascontiguousarray(k_fr.T, dtype=np.float32)
            self.k_ff = fact_row_sums(k_fr.T, self.row_fact, n_facts).astype(np.float32)
        self.rows_per_fact = np.bincount(self.row_fact, minlength=n_facts).astype(np.float64)
        self._cache: list[tuple[Labels, NDArray[np.intp], Any]] = []

    def predict(
        self, labels: Labels, train_facts: NDArray[np.intp], test_rows: NDArray[np.intp]
    ) -> NDArray[np.bool_]:
        """Predicted class (True = label 1) of ``test_rows`` for each labelling ``(P, n_facts)``."""
        u = labels[:, train_facts].astype(np.float32)
        v = 1.0 - u
        m = self.rows_per_fact[train_facts]
        inv_a, inv_b = _inverse(u @ m), _inverse(v @ m)
        k = self.k_ff[np.ix_(train_facts, train_facts)]
        g = u @ k
        qa = np.einsum("pi,pi->p", g, u, dtype=np.float64)
        qb = np.einsum("pi,pi->p", k.sum(axis=0) - g, v, dtype=np.float64)
        threshold = 0.5 * (qa * inv_a**2 - qb * inv_b**2)
        return _scores(u, self.k_rf[np.ix_(test_rows, train_facts)], inv_a, inv_b) > threshold[:, None]

    def cv_balanced_accuracy(
        self, labels: Labels, folds: NDArray[np.intp], facts: NDArray[np.bool_] | None = None
    ) -> Array:
        """Out-of-fold balanced accuracy for each labelling; ``folds`` gives each fact's fold.

        ``facts`` restricts training and testing to a subset of facts (a domain, say).
        """
        return self.cv_accuracy_plan(CVPlan(labels, folds, self.row_fact, self.rows_per_fact, facts))

    def cv_accuracy_plan(self, plan: CVPlan, per_fold: bool = False) -> Array:
        """:meth:`cv_balanced_accuracy` for a prepared :class:`CVPlan` (reused across layers).

        ``per_fold``: return ``(n_folds, P)``, each fold's own balanced accuracy (``plan.fold_ids`` names
        the folds), instead of the pooled out-of-fold one. With the domains as folds, these are the
        transfer accuracies (train on the other domains, test on this one).

        The probe's threshold needs the quadratic forms ``aᵀ K a`` of each training set's class weights.
        Rather than one ``(P, n) @ (n, n)`` product per fold, they come from one product over all facts
        minus each fold's own blocks (the training set is everything but the fold); the other class's
        forms follow from ``b = 1 − a``.
        """
        out = np.full(plan.pos.shape, np.nan)
        if plan.keep.size == 0 or not plan.folds:
            return np.full((len(plan.folds), *plan.pos.shape), np.nan) if per_fold else out
        fk = self._f[plan.keep] if self._f is not None else None
        k, colsum, g, qa_all, qb_all = self._whole(plan, fk)
        tp = np.zeros((len(plan.folds), *plan.pos.shape))
        predicted = np.zeros((len(plan.folds), *plan.pos.shape))
        for i, f in enumerate(plan.folds):
            h: NDArray[np.floating[Any]]
            su: NDArray[np.floating[Any]]
            if fk is not None:
                f_out = fk[f.out]
                h = (f.u_out @ f_out) @ f_out.T
                s_out = f_out.sum(axis=0, dtype=np.float64)
                kk_sum = float(s_out @ s_out)
            else:
                k_kk = k[np.ix_(f.out, f.out)]
                h = f.u_out @ k_kk
                kk_sum = float(k_kk.sum(dtype=np.float64))
            # per-fold sums have few terms: float32 is exact enough, and casting would cost more than them
            uku = np.einsum("pi,pi->p", h, f.u_out).astype(np.float64)  # a_kᵀ K_kk a_k
            ukp = h.sum(axis=1).astype(np.float64)  # a_kᵀ K_kk 1
            g_k = g[:, f.out]
            ug = np.einsum("pi,pi->p", g_k, f.u_out).astype(np.float64)  # a_kᵀ (K a)_k
            qa = qa_all - 2.0 * ug + uku
            # (1 − a)_kᵀ (K(1 − a))_k and (1 − a)_kᵀ K_kk (1 − a)_k, from the products above
            vg = colsum[f.out].sum() - g_k.sum(axis=1) - f.u_out @ colsum[f.out].astype(np.float32) + ug
            vkv = kk_sum - 2.0 * ukp + uku
            qb = qb_all - 2.0 * vg + vkv
            threshold = 0.5 * (qa * f.inv_a**2 - qb * f.inv_b**2)
            if fk is not None and self._z is not None:
                f_train, z_test = fk[f.train], self._z[f.test_rows]
                su = (f.u_train @ f_train) @ z_test.T
                sk = (z_test.astype(np.float64) @ f_train.sum(axis=0, dtype=np.float64)).astype(np.float32)
            else:
                k_test = self.k_rf[np.ix_(f.test_rows, plan.keep[f.train])]
                su = f.u_train @ k_test.T  # Σ over training facts of class A of the test rows' Gram sums
                sk = k_test.sum(axis=1, dtype=np.float64).astype(np.float32)
            # score = su/n_a − (sk − su)/n_b > threshold  ⇔  su > (threshold + sk/n_b) / (1/n_a + 1/n_b)
            with np.errstate(invalid="ignore", divide="ignore"):
                both = f.inv_a + f.inv_b
                base = (threshold / both).astype(np.float32)
                slope = (f.inv_b / both).astype(np.float32)
            cut = np.multiply.outer(slope, sk)
            cut += base[:, None]
            pred = su > cut
            tp[i] = np.count_nonzero(pred & f.truth, axis=1)
            predicted[i] = np.count_nonzero(pred, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            if per_fold:
                pos = np.stack([f.pos for f in plan.folds])
                neg = np.stack([f.neg for f in plan.folds])
                return np.asarray(0.5 * (tp / pos + (neg - (predicted - tp)) / neg))
            tp_all, predicted_all = tp.sum(axis=0), predicted.sum(axis=0)
            out = 0.5 * (tp_all / plan.pos + (plan.neg - (predicted_all - tp_all)) / plan.neg)
        return out

    def _whole(self, plan: CVPlan, fk: NDArray[np.float32] | None) -> tuple[Any, Array, Any, Array, Array]:
        """The products over all of a plan's facts: ``K`` of the kept facts, its column sums, ``aᵀK`` and the
        quadratic forms ``aᵀKa`` and ``(1 − a)ᵀK(1 − a)`` of every labelling.

        Computed once per probe for plans with the same labellings and facts (the pooled folds, the
        transfer folds and the leave-group-out folds of one layer share them: only the folds differ)."""
        for labels, keep, whole in self._cache:
            if labels is plan.labels and np.array_equal(keep, plan.keep):
                return whole
        k: NDArray[np.floating[Any]]
        g: NDArray[np.floating[Any]]
        if fk is not None:  # K_ff = F Fᵀ: every (P, n) @ (n, n) product becomes (P, n) @ (n, d) @ (d, n)
            k = np.zeros((0, 0), dtype=np.float32)
            colsum = fk.astype(np.float64) @ fk.sum(axis=0, dtype=np.float64)
            g = (plan.u @ fk) @ fk.T
        else:
            k = self.k_ff[np.ix_(plan.keep, plan.keep)]
            colsum = k.sum(axis=0, dtype=np.float64)
            g = plan.u @ k  # aᵀK for every labelling
        qa_all = np.einsum("pi,pi->p", g, plan.u, dtype=np.float64)
        g_sum = g.sum(axis=1, dtype=np.float64)
        qb_all = colsum.sum() - 2.0 * g_sum + qa_all  # (1 − a)ᵀK(1 − a)
        whole = (k, colsum, g, qa_all, qb_all)
        self._cache.append((plan.labels, plan.keep, whole))
        return whole

    def cv_correct(self, labels: Labels, folds: NDArray[np.intp]) -> Array:
        """Per row, 1.0 where the out-of-fold prediction for the labelling ``(n_facts,)`` is right."""
        out = np.zeros(self.row_fact.size)
        present = self.rows_per_fact > 0
        lab = labels[None, :]
        for k in np.unique(folds[present]):
            train = np.flatnonzero(present & (folds != k))
            test_rows = np.flatnonzero(folds[self.row_fact] == k)
            pred = self.predict(lab, train, test_rows)[0]
            out[test_rows] = pred == lab[0, self.row_fact[test_rows]].astype(bool)
        return out

    def transfer_balanced_accuracy(self, labels: Labels, train_facts: NDArray[np.bool_]) -> Array:
        """Train on the facts in ``train_facts``, test on the rows of all other present facts."""
        present = self.rows_per_fact > 0
        train = np.flatnonzero(present & train_facts)
        test_rows = np.flatnonzero(~train_facts[self.row_fact])
        counts = _Counts(labels.shape[0])
        pred = self.predict(labels, train, test_rows)
        counts.add(pred, labels[:, self.row_fact[test_rows]].astype(bool))
        return counts.balanced_accuracy()


def factored(width: int, n: int) -> bool:
    """Whether products over ``n`` facts go through ``width`` features rather than the ``n × n`` kernel:
    when that is cheaper (``2 · width < n``, two thin products against one square one). Below it the
    kernel route is kept, so runs of a few hundred facts compute exactly what they always did."""
    return 2 * width < n


def _inverse(n: Array) -> Array:
    """``1 / n`` where ``n > 0``, else 0 (an empty class has zero weight, as a zero mean)."""
    out: Array = np.divide(1.0, n, out=np.zeros(n.shape), where=n > 0)
    return out


def _scores(u: NDArray[np.float32], k_test: NDArray[np.float32], inv_a: Array, inv_b: Array) -> Array:
    """Projections of the test rows on ``mean(A) − mean(B)`` for every labelling; ``u`` is 1 for class A
    over the training facts, ``k_test`` the test rows' Gram sums with those facts."""
    su = u @ k_test.T
    sv = k_test.sum(axis=1)[None, :] - su
    out: Array = su * inv_a[:, None] - sv * inv_b[:, None]
    return out


class _Counts:
    def __init__(self, n: int) -> None:
        self.tp = np.zeros(n)
        self.pos = np.zeros(n)
        self.tn = np.zeros(n)
        self.neg = np.zeros(n)

    def add(self, pred: NDArray[np.bool_], truth: NDArray[np.bool_]) -> None:
        self.tp += (pred & truth).sum(axis=1)
        self.pos += truth.sum(axis=1)
        self.tn += (~pred & ~truth).sum(axis=1)
        self.neg += (~truth).sum(axis=1)

    def balanced_accuracy(self) -> Array:
        with np.errstate(invalid="ignore", divide="ignore"):
            out: Array = 0.5 * (self.tp / self.pos + self.tn / self.neg)
        return out


class TruthProbe:
    """Mass-mean true-vs-false probe under per-fact sign flips (swapping a fact's two forms).

    ``z_true`` and ``z_false`` are ``(n_facts, width)`` z-scored states of the present facts.
    """

    def __init__(self, z_true: Array, z_false: Array) -> None:
        x = np.vstack([z_true, z_false])
        n = len(z_true)
        self._set_gram(x @ x.T, np.arange(n), np.arange(n, 2 * n))

    @classmethod
    def from_gram(cls, gram: Array, rows_true: NDArray[np.intp], rows_false: NDArray[np.intp]) -> TruthProbe:
        """The probe over the facts whose true and false forms are rows ``rows_true[i]`` and
        ``rows_false[i]`` of a Gram matrix ``z zᵀ`` (no features needed)."""
        probe = cls.__new__(cls)
        probe._set_gram(gram, np.asarray(rows_true), np.asarray(rows_false))
        return probe

    def _set_gram(self, k: Array, rt: NDArray[np.intp], rf: NDArray[np.intp]) -> None:
        # x = [z_t; z_f], d = z_t − z_f, s = z_t + z_f: every product needed is a block sum of K.
        k_tt, k_tf, k_ft, k_ff = k[np.ix_(rt, rt)], k[np.ix_(rt, rf)], k[np.ix_(rf, rt)], k[np.ix_(rf, rf)]
        self.n = len(rt)
        self.g_xd = np.vstack([k_tt - k_tf, k_ft - k_ff])
        self.g_sd = k_tt - k_tf + k_ft - k_ff
        self.g_dd = k_tt - k_tf - k_ft + k_ff
        self._g_xd32 = self.g_xd.astype(np.float32)  # the permutation products: ±1 flips are exact

    def _accuracy(self, flips: Array, train: NDArray[np.intp], test: NDArray[np.intp]) -> tuple[Array, Array]:
        f = flips[:, train]
        rows = np.concatenate([test, test + self.n])
        scores = f.astype(np.float32) @ self._g_xd32[np.ix_(rows, train)].T / train.size
        mid = (f @ self.g_sd[np.ix_(train, train)].sum(axis=0)) / (2.0 * train.size**2)
        pred = scores > mid[:, None]
        ft = flips[:, test] > 0
        truth = np.concatenate([ft, ~ft], axis=1)
        correct = pred == truth
        return correct.sum(axis=1).astype(float), np.full(flips.shape[0], float(rows.size))

    def cv_accuracy(self, flips: Array, folds: NDArray[np.intp]) -> Array:
        """Out-of-fold accuracy (classes are balanced by design: one true, one false row per fact)."""
        hit = np.zeros(flips.shape[0])
        tot = np.zeros(flips.shape[0])
        for k in np.unique(folds):
            train, test = np.flatnonzero(folds != k), np.flatnonzero(folds == k)
            h, t = self._accuracy(flips, train, test)
            hit += h
            tot += t
        out: Array = hit / tot
        return out

    def transfer_accuracy(self, flips: Array, train_mask: NDArray[np.bool_]) -> Array:
        """Train on the facts in ``train_mask``, test on the others."""
        h, t = self._accuracy(flips, np.flatnonzero(train_mask), np.flatnonzero(~train_mask))
        out: Array = h / t
        return out

    def angle_degrees(self, labels: Labels, weights: Array | None = None) -> Array:
        """Angle between the mass-mean truth directions of class 1 and class 0, for each labelling.

        ``weights`` ``(P, n)`` (fact multiplicities, for a bootstrap) multiply the labels.
        """
        a = labels.astype(np.float64)
        b = 1.0 - a
        if weights is not None:
            a, b = a * weights, b * weights
        # The class sizes scale both directions and cancel in the cosine: use the raw weights.
        ag = a @ self.g_dd
        bg = (weights @ self.g_dd if weights is not None else self.g_dd.sum(axis=0)) - ag
        ab = np.einsum("pi,pi->p", ag, b)
        aa = np.einsum("pi,pi->p", ag, a)
        bb = np.einsum("pi,pi->p", bg, b)
        with np.errstate(invalid="ignore", divide="ignore"):  # a zero direction has no angle: NaN
            cos = np.clip(ab / np.sqrt(aa * bb), -1.0, 1.0)
        out: Array = np.degrees(np.arccos(cos))
        return out


def logistic_cv(
    x: Array,
    y: ArrayLike,
    row_fact: ArrayLike,
    fold_sets: list[NDArray[np.intp]],
    c: float = 0.1,
) -> tuple[Array, Array]:
    """Cross-validated logistic probe: ``StandardScaler`` + ``LogisticRegression(C=c)`` in each fold.

    ``fold_sets`` holds one fact→fold array per split seed. Returns the balanced accuracy per seed and the
    share of seeds that predicted each row correctly (for fact-bootstrap intervals).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    yy = np.asarray(y).astype(int)
    rf = np.asarray(row_fact, dtype=np.intp)
    accs = np.empty(len(fold_sets))
    correct = np.zeros(yy.size)
    for s, folds in enumerate(fold_sets):
        row_folds = folds[rf]
        pred = np.empty_like(yy)
        for k in np.unique(row_folds):
            test = row_folds == k
            train = ~test
            if np.unique(yy[train]).size < 2:
                pred[test] = yy[train][0]
                continue
            model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))
            model.fit(x[train], yy[train])
            pred[test] = model.predict(x[test])
        accs[s] = balanced_accuracy_score(yy, pred)
        correct += pred == yy
    return accs, correct / len(fold_sets)
