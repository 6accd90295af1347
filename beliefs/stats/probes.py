"""Linear probes: vectorised mass-mean probes for permutation nulls, and the logistic probe for estimates.

The mass-mean probe (difference of class means, threshold at the midpoint of the projected class means,
both fitted on training data) has test scores that are linear in the training labels, so with the Gram
matrix of the rows every permutation is a matrix product. Folds are assigned to facts, so both forms of
a fact always land in the same fold.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import ArrayLike, NDArray

from beliefs.stats.geometry import membership

Array = NDArray[np.float64]
Labels = NDArray[np.integer]


def fact_folds(strata: ArrayLike, seed: int, n_splits: int = 5) -> NDArray[np.intp]:
    """Assign each fact a fold id with ``StratifiedGroupKFold`` (groups = facts), stratified by ``strata``.

    ``n_splits`` shrinks to the size of the smallest stratum when that is smaller (at least 2).
    """
    from sklearn.model_selection import StratifiedGroupKFold

    s = np.asarray(strata)
    _, counts = np.unique(s, return_counts=True)
    k = int(max(2, min(n_splits, counts.min())))
    folds = np.full(s.size, -1, dtype=np.intp)
    cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for i, (_, test) in enumerate(cv.split(np.zeros(s.size), s, groups=np.arange(s.size))):
            folds[test] = i
    return folds


class GramProbe:
    """Mass-mean probe over fixed rows, evaluated for many fact labellings at once.

    ``z``: ``(n_rows, width)`` z-scored features of the rows present; ``row_fact``: the fact of each row
    (indices into ``0..n_facts-1``).
    """

    def __init__(self, z: Array, row_fact: ArrayLike, n_facts: int) -> None:
        self.row_fact = np.asarray(row_fact, dtype=np.intp)
        member = membership(self.row_fact, n_facts)
        k = z @ z.T
        # float32 halves the time of the permutation products; predictions are compared, not summed.
        self.k_rf = (k @ member).astype(np.float32)
        self.k_ff = (member.T @ (k @ member)).astype(np.float32)
        self.rows_per_fact = member.sum(axis=0)

    def predict(
        self, labels: Labels, train_facts: NDArray[np.intp], test_rows: NDArray[np.intp]
    ) -> NDArray[np.bool_]:
        """Predicted class (True = label 1) of ``test_rows`` for each labelling ``(P, n_facts)``."""
        lab = labels[:, train_facts].astype(np.float64)
        m = self.rows_per_fact[train_facts]
        n_a = lab @ m
        n_b = (1.0 - lab) @ m
        with np.errstate(invalid="ignore", divide="ignore"):
            wa = np.nan_to_num(lab / n_a[:, None], posinf=0.0)
            wb = np.nan_to_num((1.0 - lab) / n_b[:, None], posinf=0.0)
        wa, wb = wa.astype(np.float32), wb.astype(np.float32)
        c = wa - wb
        scores = c @ self.k_rf[np.ix_(test_rows, train_facts)].T
        ck = c @ self.k_ff[np.ix_(train_facts, train_facts)]
        threshold = 0.5 * np.einsum("pi,pi->p", ck, wa + wb)
        return np.asarray(scores > threshold[:, None])

    def cv_balanced_accuracy(
        self, labels: Labels, folds: NDArray[np.intp], facts: NDArray[np.bool_] | None = None
    ) -> Array:
        """Out-of-fold balanced accuracy for each labelling; ``folds`` gives each fact's fold.

        ``facts`` restricts training and testing to a subset of facts (a domain, say).
        """
        present = self.rows_per_fact > 0
        if facts is not None:
            present = present & facts
        counts = _Counts(labels.shape[0])
        for k in np.unique(folds[present]):
            train = np.flatnonzero(present & (folds != k))
            test_rows = np.flatnonzero((folds[self.row_fact] == k) & present[self.row_fact])
            if test_rows.size == 0 or train.size == 0:
                continue
            pred = self.predict(labels, train, test_rows)
            counts.add(pred, labels[:, self.row_fact[test_rows]].astype(bool))
        return counts.balanced_accuracy()

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
        self.d = z_true - z_false
        self.s = z_true + z_false
        self.x = np.vstack([z_true, z_false])
        self.n = len(z_true)
        self.g_xd = self.x @ self.d.T
        self.g_sd = self.s @ self.d.T
        self.g_dd = self.d @ self.d.T

    def _accuracy(self, flips: Array, train: NDArray[np.intp], test: NDArray[np.intp]) -> tuple[Array, Array]:
        f = flips[:, train]
        rows = np.concatenate([test, test + self.n])
        scores = f @ self.g_xd[np.ix_(rows, train)].T / train.size
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
        a = a / a.sum(axis=1, keepdims=True)
        b = b / b.sum(axis=1, keepdims=True)
        ag = a @ self.g_dd
        ab = np.einsum("pi,pi->p", ag, b)
        aa = np.einsum("pi,pi->p", ag, a)
        bb = np.einsum("pi,pi->p", b @ self.g_dd, b)
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
