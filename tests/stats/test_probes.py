import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import PredefinedSplit, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from beliefs.stats import GramProbe, TruthProbe, fact_folds, fact_permutations, logistic_cv, zscore


def _massmean_loop(z, row_fact, labels, folds):
    """Independent mass-mean probe on feature vectors, fold by fold."""
    pred, truth = [], []
    for k in np.unique(folds):
        tr = folds[row_fact] != k
        te = ~tr
        y = labels[row_fact]
        mu_a, mu_b = z[tr & (y == 1)].mean(0), z[tr & (y == 0)].mean(0)
        w = mu_a - mu_b
        thr = 0.5 * (mu_a + mu_b) @ w
        pred.append(z[te] @ w > thr)
        truth.append(y[te])
    return balanced_accuracy_score(np.concatenate(truth), np.concatenate(pred))


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    n = 40
    labels = np.array([1, 0] * (n // 2))
    x = rng.standard_normal((2 * n, 6))
    row_fact = np.concatenate([np.arange(n), np.arange(n)])
    x[labels[row_fact] == 1, 0] += 0.8
    return zscore(x), row_fact, labels, n


def test_gram_probe_matches_loop(data):
    z, row_fact, labels, n = data
    folds = fact_folds(labels, seed=0)
    perms = fact_permutations(labels, np.zeros(n), 20, seed=1)
    got = GramProbe(z, row_fact, n).cv_balanced_accuracy(perms, folds)
    for p in range(perms.shape[0]):
        assert got[p] == pytest.approx(_massmean_loop(z, row_fact, perms[p], folds))


def test_gram_probe_with_absent_rows_and_gram_matches_loop(data):
    """Facts with one form or none (absent states), built from the Gram matrix, within a subset."""
    z, row_fact, labels, n = data
    keep = np.ones(row_fact.size, bool)
    keep[[0, 1, 2, n + 2, n + 5, n + 7]] = False  # fact 2 absent, facts 0, 1, 5, 7 with one form
    z, row_fact = z[keep], row_fact[keep]
    folds = fact_folds(labels, seed=3)
    perms = fact_permutations(labels, np.zeros(n), 15, seed=2)
    probe = GramProbe(None, row_fact, n, gram=z @ z.T)
    got = probe.cv_balanced_accuracy(perms, folds)
    for p in range(perms.shape[0]):
        assert got[p] == pytest.approx(_massmean_loop(z, row_fact, perms[p], folds))
    subset = np.arange(n) % 3 != 0
    got = probe.cv_balanced_accuracy(perms, folds, subset)
    rows = subset[row_fact]
    for p in range(perms.shape[0]):
        assert got[p] == pytest.approx(_massmean_loop(z[rows], row_fact[rows], perms[p], folds))


def test_gram_probe_transfer_and_subset(data):
    z, row_fact, labels, n = data
    train = np.arange(n) < n // 2
    probe = GramProbe(z, row_fact, n)
    got = probe.transfer_balanced_accuracy(labels[None, :], train)[0]
    y = labels[row_fact]
    tr = train[row_fact]
    w = z[tr & (y == 1)].mean(0) - z[tr & (y == 0)].mean(0)
    thr = 0.5 * (z[tr & (y == 1)].mean(0) + z[tr & (y == 0)].mean(0)) @ w
    assert got == pytest.approx(balanced_accuracy_score(y[~tr], z[~tr] @ w > thr))
    folds = fact_folds(labels, seed=0)
    sub = probe.cv_balanced_accuracy(labels[None, :], folds, train)[0]
    keep = train[row_fact]
    remap = np.cumsum(train) - 1
    assert sub == pytest.approx(_massmean_loop(z[keep], remap[row_fact[keep]], labels[train], folds[train]))


def test_folds_keep_facts_together_and_stratify():
    strata = np.array(["a"] * 20 + ["b"] * 10)
    folds = fact_folds(strata, seed=0)
    assert set(folds) == set(range(5))
    for k in range(5):
        assert (strata[folds == k] == "a").sum() == 4


def test_logistic_cv_matches_sklearn(data):
    z, row_fact, labels, n = data
    fold_sets = [fact_folds(labels, seed=s) for s in range(2)]
    accs, correct = logistic_cv(z, labels[row_fact], row_fact, fold_sets, c=0.5)
    for s, folds in enumerate(fold_sets):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=2000))
        pred = cross_val_predict(model, z, labels[row_fact], cv=PredefinedSplit(folds[row_fact]))
        assert accs[s] == pytest.approx(balanced_accuracy_score(labels[row_fact], pred))
    assert correct.shape == (2 * n,) and 0 <= correct.min() <= correct.max() <= 1


def test_truth_probe_matches_loop():
    rng = np.random.default_rng(3)
    n, d = 30, 5
    t = rng.standard_normal((n, d)) + np.array([1, 0, 0, 0, 0])
    f = rng.standard_normal((n, d))
    flips = np.ones((3, n))
    flips[1] = rng.choice([-1, 1], n)
    flips[2] = rng.choice([-1, 1], n)
    folds = np.arange(n) % 3
    probe = TruthProbe(t, f)
    got = probe.cv_accuracy(flips, folds)
    for p in range(3):
        s = flips[p] > 0
        a = np.where(s[:, None], t, f)  # the rows labelled "true"
        b = np.where(s[:, None], f, t)
        hits = 0
        for k in range(3):
            tr, te = folds != k, folds == k
            w = a[tr].mean(0) - b[tr].mean(0)
            thr = 0.5 * (a[tr].mean(0) + b[tr].mean(0)) @ w
            hits += (a[te] @ w > thr).sum() + (b[te] @ w <= thr).sum()
        assert got[p] == pytest.approx(hits / (2 * n))
    labels = (np.arange(n) < 12).astype(int)
    d1 = (t - f)[labels == 1].mean(0)
    d0 = (t - f)[labels == 0].mean(0)
    angle = np.degrees(np.arccos(d1 @ d0 / np.linalg.norm(d1) / np.linalg.norm(d0)))
    assert probe.angle_degrees(labels[None, :])[0] == pytest.approx(angle)


def test_plan_with_domains_as_folds_gives_both_transfers(data):
    from beliefs.stats import CVPlan

    z, row_fact, labels, n = data
    domain = (np.arange(n) >= n // 2).astype(np.intp)
    perms = fact_permutations(labels, domain, 10, seed=5)
    probe = GramProbe(z, row_fact, n)
    plan = CVPlan(perms, domain, probe.row_fact, probe.rows_per_fact)
    per_fold = probe.cv_accuracy_plan(plan, per_fold=True)
    assert plan.fold_ids == [0, 1]
    # fold 1 is tested after training on domain 0: the transfer 0 -> 1, and the other way round
    assert np.allclose(per_fold[1], probe.transfer_balanced_accuracy(perms, domain == 0))
    assert np.allclose(per_fold[0], probe.transfer_balanced_accuracy(perms, domain == 1))


def test_factored_route_equals_gram_route(data):
    """With more facts than twice the width, products go through the features: same accuracies as the
    Gram route, for pooled, subset and per-fold (transfer) plans, with absent rows."""
    from beliefs.stats.probes import CVPlan, factored

    z, row_fact, labels, n = data
    keep = np.ones(row_fact.size, bool)
    keep[[0, 3, n + 3, n + 8]] = False
    z, row_fact = z[keep], row_fact[keep]
    assert factored(z.shape[1], n)
    perms = fact_permutations(labels, np.zeros(n), 50, seed=4)
    thin, square = GramProbe(z, row_fact, n), GramProbe(None, row_fact, n, gram=z @ z.T)
    assert thin._f is not None and square._f is None
    rows_per_fact = np.bincount(row_fact, minlength=n).astype(float)
    halves = (np.arange(n) >= n // 2).astype(np.intp)
    for plan, per_fold in (
        (CVPlan(perms, fact_folds(labels, seed=5), row_fact, rows_per_fact), False),
        (CVPlan(perms, fact_folds(labels, seed=5), row_fact, rows_per_fact, np.arange(n) % 3 != 0), False),
        (CVPlan(perms, halves, row_fact, rows_per_fact), True),
    ):
        np.testing.assert_allclose(
            thin.cv_accuracy_plan(plan, per_fold), square.cv_accuracy_plan(plan, per_fold), atol=1e-12
        )


def _sklearn_folds(strata, groups, k, seed):
    import warnings

    from sklearn.model_selection import StratifiedGroupKFold

    folds = np.full(strata.size, -1, dtype=np.intp)
    cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for i, (_, test) in enumerate(cv.split(np.zeros(strata.size), strata, groups=groups)):
            folds[test] = i
    return folds


@pytest.mark.parametrize("case", range(60))
def test_fact_folds_are_sklearns(case):
    """The vectorised fold assignment gives StratifiedGroupKFold's folds exactly (ties included: facts of
    one stratum and singleton groups make many candidate folds score the same)."""
    rng = np.random.default_rng(case)
    n = int(rng.integers(12, 400))
    strata = rng.integers(0, int(rng.integers(1, 4)), n).astype(str)
    groups = [np.arange(n), rng.integers(0, max(n // 3, 4), n), np.arange(n) // 2][case % 3]
    seed = int(rng.integers(0, 2**31))
    got = fact_folds(strata, seed=seed, groups=groups)
    g = np.unique(groups, return_inverse=True)[1]
    k = int(max(2, min(5, min(np.unique(g[strata == v]).size for v in np.unique(strata)))))
    assert np.array_equal(got, _sklearn_folds(strata, g, k, seed))


@pytest.mark.parametrize("route", ["gram", "factored"])
def test_plans_sharing_labels_reuse_products_exactly(data, route):
    """Plans with the same labellings and facts share one probe's whole-set products; each plan's
    accuracies equal (to the bit) those of a fresh probe, whatever ran before on the shared probe."""
    from beliefs.stats.probes import CVPlan

    z, row_fact, labels, n = data
    perms = fact_permutations(labels, np.zeros(n), 40, seed=2)
    rows_per_fact = np.bincount(row_fact, minlength=n).astype(float)

    def make():
        return (
            GramProbe(z, row_fact, n) if route == "factored" else GramProbe(None, row_fact, n, gram=z @ z.T)
        )

    plans = [
        CVPlan(perms, fact_folds(labels, seed=1), row_fact, rows_per_fact),
        CVPlan(perms, fact_folds(labels, seed=2), row_fact, rows_per_fact),
        CVPlan(perms, fact_folds(labels, seed=1), row_fact, rows_per_fact, np.arange(n) % 2 == 0),
        CVPlan(perms[::-1].copy(), fact_folds(labels, seed=1), row_fact, rows_per_fact),
    ]
    shared = make()
    got = [shared.cv_accuracy_plan(p) for p in plans]
    assert len(shared._cache) == 3  # the second plan reused the first one's products
    for plan, value in zip(plans, got, strict=True):
        assert np.array_equal(value, make().cv_accuracy_plan(plan), equal_nan=True)
