"""Balance figures: standardized difference and near duplicates, checked against direct computations."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from beliefs.facts import load_fact_set
from beliefs.facts.loader import LoadedFactSet
from beliefs.facts.stats import (
    BOOTSTRAP_RESAMPLES,
    MARKERS,
    MAX_FOLDS,
    SurfaceFeatures,
    _group_bootstrap,
    char_wb_counts,
    compute_stats,
    markers,
    near_duplicates,
    standardized_difference,
    surface_groups,
    surface_pipeline,
    surface_texts,
    word_count,
)
from beliefs.schema import Fact

CORE = Path(__file__).parents[2] / "fact_sets"


def test_standardized_difference_matches_pooled_cohens_d() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(7, 2, 40), rng.normal(6, 1.5, 55)
    pooled = np.sqrt(((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1)) / (len(a) + len(b) - 2))
    assert standardized_difference(a, b) == pytest.approx((a.mean() - b.mean()) / pooled)
    assert np.isnan(standardized_difference([1.0], [2.0, 3.0]))


def test_near_duplicates_with_a_fake_embedding(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "schema_version: 1\nname: s\nfacts:\n"
        "  - {id: a, domain: logical, kind: hinge, statement: Alpha one., false_statement: Not alpha., note: n}\n"
        "  - {id: b, domain: logical, kind: hinge, statement: Alpha two., false_statement: Not alpha two., note: n}\n"
        "  - {id: c, domain: logical, kind: contingent, statement: Beta., false_statement: Not beta.}\n",
        encoding="utf-8",
    )
    fs = load_fact_set(path)

    def embed(texts: list[str]) -> np.ndarray:
        return np.array(
            [[1.0, 0.01 * i] if t.startswith("Alpha") else [0.0, 1.0] for i, t in enumerate(texts)]
        )

    pairs = near_duplicates([fs], embed, threshold=0.99)
    assert [(p.a, p.b) for p in pairs] == [("s/a", "s/b")]


def test_core_set_is_balanced() -> None:
    core = load_fact_set(CORE / "core.yaml")
    result = compute_stats([core])
    counts = {(c.domain, c.kind): c.n_facts for c in result.cells}
    assert all(counts[(d, k)] >= 50 for d in ("logical", "physical") for k in ("hinge", "contingent")), counts
    assert not result.warnings
    ids = {f.id: f for f in core.facts}
    assert ids["earth-location"].statement == "I am currently on Earth."
    assert (ids["earth-location"].domain, ids["earth-location"].kind) == ("physical", "hinge")
    assert ids["prime-101"].statement == "101 is a prime number."
    assert (ids["prime-101"].domain, ids["prime-101"].kind) == ("logical", "contingent")
    assert "contested" in (ids["prime-101"].note or "").lower()
    for fact in core.facts:
        assert fact.context("support") and fact.context("contradict"), fact.id
        assert fact.tags, fact.id
        if fact.kind == "hinge":
            assert fact.note, fact.id
    assert not core.warnings, [str(w) for w in core.warnings]


def test_core_set_review_invariants() -> None:
    """The review of the core set: tags and notes agree, contexts carry no genre label and no
    mistake, the repaired false forms stay false as worded."""
    core = load_fact_set(CORE / "core.yaml")
    ids = {f.id: f for f in core.facts}
    mistake = re.compile(
        r"\b(faulty|careless|mistake[ns]?|misprint\w*|broken|buggy|glitch\w*|malfunction\w*|wrongly|error)\b",
        re.I,
    )
    for fact in core.facts:
        note = fact.note or ""
        assert ("contested" in fact.tags) == ("Contested:" in note), fact.id
        assert ("embodied-speaker" in fact.tags) == ("Embodied speaker:" in note), fact.id
        for key in ("support", "contradict"):
            text = fact.context(key) or ""
            first_sentence = re.split(r"(?<=[.!?:])\s", text)[0]
            assert len(first_sentence.split()) > 5, (fact.id, key, first_sentence)  # no "Atlas." label
        assert not mistake.search(fact.context("contradict") or ""), fact.id
    assert {"two-hands", "brain", "am-human", "my-heart-chambers", "moon-gravity"} <= {
        f.id for f in core.facts if "embodied-speaker" in f.tags
    }
    assert {"modus-ponens", "universal-instantiation", "one-not-prime", "zero-factorial", "day-night"} <= {
        f.id for f in core.facts if "contested" in f.tags
    }
    assert ids["four-color-theorem"].false_statement.startswith("Every planar map")
    assert "counting up" in ids["two-after-one"].false_statement
    assert "counting up" in ids["four-before-five"].false_statement
    assert ids["two-hands"].source and "§1" in ids["two-hands"].source
    assert ids["prime-101"].source and "A000040" in ids["prime-101"].source


MATCHED = Path(__file__).parent / "fixtures" / "valid" / "matched.yaml"


def _independent_surface_bacc(facts: list[Fact], groups: list[str]) -> float:
    """The surface classifier written out step by step with scikit-learn, without the pipeline."""
    from scipy import sparse
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import GroupKFold
    from sklearn.preprocessing import StandardScaler

    texts = [f"{f.statement}\n{f.false_statement}" for f in facts]
    lengths = np.array([[len(t.split()), len(t)] for t in texts], dtype=float)
    y = np.array([f.kind == "hinge" for f in facts], dtype=int)
    predicted = np.full(len(facts), -1)
    n_splits = min(5, len(set(groups)))
    for train, test in GroupKFold(n_splits=n_splits).split(texts, y, groups):
        words = CountVectorizer(ngram_range=(1, 2), binary=True, token_pattern=r"(?u)\b\w+\b").fit(
            [texts[i] for i in train]
        )
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
        chars.fit([texts[i] for i in train])
        scale = StandardScaler().fit(lengths[train])

        x_train, x_test = (
            sparse.hstack(
                [
                    words.transform([texts[i] for i in rows]),
                    chars.transform([texts[i] for i in rows]),
                    sparse.csr_matrix(scale.transform(lengths[rows])),
                ]
            ).tocsr()
            for rows in (train, test)
        )
        model = LogisticRegression(C=1.0, solver="liblinear").fit(x_train, y[train])
        predicted[test] = model.predict(x_test)
    assert (predicted >= 0).all()
    return float(balanced_accuracy_score(y, predicted))


@pytest.mark.parametrize("domain", ["logical", "physical"])
def test_surface_accuracy_matches_an_independent_sklearn_computation(domain: str) -> None:
    fs = load_fact_set(MATCHED)
    result = compute_stats([fs])
    check = next(c for c in result.surface if c.domain == domain)
    facts = [f for f in fs.facts if f.domain == domain]
    assert (check.grouping, check.n_groups, check.n_folds, check.n_facts) == ("template", 4, 4, 24)
    assert check.balanced_accuracy == pytest.approx(
        _independent_surface_bacc(facts, [f.template or "" for f in facts])
    )
    assert check.ci_low is not None and check.ci_high is not None
    assert check.ci_low <= check.balanced_accuracy <= check.ci_high


def test_without_templates_folds_leave_facts_out_and_say_so(tmp_path: Path) -> None:
    text = "\n".join(line for line in MATCHED.read_text().splitlines() if "template:" not in line)
    path = tmp_path / "untemplated.yaml"
    path.write_text(
        text.replace("    pair:", "    note: x\n    pair:").replace("note: x\n    pair:", "pair:")
    )
    fs = load_fact_set(path)
    check = next(c for c in compute_stats([fs]).surface if c.domain == "logical")
    facts = [f for f in fs.facts if f.domain == "logical"]
    assert (check.grouping, check.n_groups, check.n_folds) == ("fact", 24, 5)
    assert check.balanced_accuracy == pytest.approx(_independent_surface_bacc(facts, [f.id for f in facts]))
    assert surface_groups([("s", f) for f in facts])[1] == "fact"


def test_surface_groups_mix_templates_and_facts() -> None:
    fs = load_fact_set(MATCHED)
    a, b = fs.facts[0], fs.facts[1].model_copy(update={"template": None, "pair": None})
    groups, grouping = surface_groups([("s", a), ("s", b)])
    assert groups == [f"template:s/{a.template}", f"fact:s/{b.id}"] and grouping == "template+fact"


def _generated_set(tmp_path: Path, tell: bool, seed: int) -> LoadedFactSet:
    """40 pairs per domain on 10 templates of random words; with ``tell``, every hinge says "surely"."""
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(60)]
    lines = ["schema_version: 1", "name: generated", "facts:"]
    for domain in ("logical", "physical"):
        for t in range(10):
            frame = rng.choice(vocab, 3, replace=False)
            for k in range(4):
                for kind, other in (("hinge", "contingent"), ("contingent", "hinge")):
                    slots = " ".join(rng.choice(vocab, 2))
                    said = f"{'Surely ' if tell and kind == 'hinge' else ''}{frame[0]} {slots} {frame[1]} {frame[2]}"
                    lines += [
                        f"  - id: {domain}-t{t}-{k}-{kind}",
                        f"    domain: {domain}",
                        f"    kind: {kind}",
                        f"    statement: {said}.",
                        f"    false_statement: {said} not.",
                        "    note: generated",
                        f"    template: {domain}-t{t}",
                        f"    pair: {domain}-t{t}-{k}-{other}",
                    ]
    path = tmp_path / f"generated-{tell}-{seed}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_fact_set(path)


def test_a_word_that_gives_the_kind_away_is_found(tmp_path: Path) -> None:
    for check in compute_stats([_generated_set(tmp_path, True, 0)]).surface:
        assert check.balanced_accuracy is not None and check.balanced_accuracy > 0.95, check


def test_without_a_tell_the_accuracy_is_near_chance(tmp_path: Path) -> None:
    values = [
        c.balanced_accuracy
        for seed in range(3)
        for c in compute_stats([_generated_set(tmp_path, False, seed)]).surface
    ]
    assert all(v is not None for v in values)
    assert 0.35 < float(np.mean([v for v in values if v is not None])) < 0.65, values


def test_pair_lengths_against_a_direct_count() -> None:
    fs = load_fact_set(MATCHED)
    by_id = {f.id: f for f in fs.facts}

    def n_chars(text: str) -> int:
        return len(text)

    result = compute_stats([fs], count_tokens=n_chars, tokenizer="chars")
    got = {(p.domain, p.form, p.unit): p for p in result.pair_lengths}
    assert len(got) == 8
    for (domain, form, unit), p in got.items():
        fn = word_count if unit == "words" else n_chars
        d = np.array(
            [
                fn(getattr(f, form)) - fn(getattr(by_id[f.pair or ""], form))
                for f in fs.facts
                if f.domain == domain and f.kind == "hinge"
            ]
        )
        assert p.n_pairs == len(d) == 12
        assert p.mean_difference == pytest.approx(d.mean())
        assert p.mean_abs_difference == pytest.approx(np.abs(d).mean())
        assert p.max_abs_difference == np.abs(d).max()
        assert p.share_different == pytest.approx(np.mean(d != 0))
    assert (
        got[("logical", "statement", "words")].max_abs_difference == 5
    )  # "if-p-then-q" pair 2: 9 vs 14 words
    assert compute_stats([load_fact_set(CORE / "core.yaml")]).pair_lengths == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I am currently on Earth.", {"first_person", "named_entities"}),
        ("Canberra is the capital of Australia.", {"named_entities"}),
        ("Canberra is a city.", set()),
        ("Two is not an odd number.", {"negation"}),
        ("It isn't 4096.", {"negation", "digits"}),
        ("The US is large.", {"named_entities"}),
        ("My hands exist.", {"first_person"}),
        ("We walked. Then we saw Paris.", {"first_person", "named_entities"}),
        ("He said: I know; I'm sure.", {"first_person"}),
        ("Nobody has been to the sun.", {"negation"}),
        ("Notably, 7 is prime.", {"digits"}),
        ("1 + 1 = 2.", {"digits"}),
    ],
)
def test_markers(text: str, expected: set[str]) -> None:
    assert {k for k, v in markers(text).items() if v} == expected


def test_marker_shares_are_cell_means() -> None:
    fs = load_fact_set(MATCHED)
    result = compute_stats([fs])
    assert len(result.markers) == 4
    for m in result.markers:
        cell = [f.statement for f in fs.facts if (f.domain, f.kind) == (m.domain, m.kind)]
        assert m.n_facts == len(cell) == 12
        for key in MARKERS:
            assert getattr(m, key) == pytest.approx(np.mean([markers(t)[key] for t in cell]))
    physical_hinge = next(m for m in result.markers if (m.domain, m.kind) == ("physical", "hinge"))
    assert physical_hinge.first_person == pytest.approx(3 / 12)  # "I have a head." and two more


def test_stats_stay_fast_on_600_facts() -> None:
    import time

    core = load_fact_set(CORE / "core.yaml")
    facts = [
        f.model_copy(
            update={"id": f"{f.id}-{r}", "statement": f"{f.statement} ({r})", "template": f"t{i % 30}"}
        )
        for r in range(3)
        for i, f in enumerate(core.facts)
    ]
    big = LoadedFactSet(core.path, core.sha256, core.model.model_copy(update={"facts": facts}), {})
    compute_stats([load_fact_set(MATCHED)])  # imports
    start = time.process_time()
    result = compute_stats([big])
    assert time.process_time() - start < 4.0
    assert [c.grouping for c in result.surface] == ["template", "template"]


def _core_domain() -> list[tuple[str, Fact]]:
    fs = load_fact_set(CORE / "core.yaml")
    return [(fs.name, f) for f in fs.facts if f.domain == "logical"]


def test_char_counts_per_word_equal_the_vectorizers() -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    texts = [*surface_texts([f for _, f in _core_domain()]), "", "A  b\tc\u00a0D  É", "x", "Zoë's co-op"]
    reference = CountVectorizer(analyzer="char_wb", ngram_range=(2, 4), dtype=np.float64)
    expected = reference.fit_transform(texts)
    got = char_wb_counts(texts)
    assert got.shape == expected.shape and (got != expected).nnz == 0
    assert np.array_equal(got.indptr, expected.indptr)


def test_shared_features_predict_as_the_pipeline_fitted_per_fold() -> None:
    from sklearn.base import clone
    from sklearn.model_selection import GroupKFold

    facts = _core_domain()
    texts = surface_texts([f for _, f in facts])
    y = np.array([f.kind == "hinge" for _, f in facts], dtype=int)
    groups, _ = surface_groups(facts)
    features = SurfaceFeatures(texts)
    for train, test in GroupKFold(n_splits=MAX_FOLDS).split(texts, y, groups):
        model = clone(surface_pipeline()).fit([texts[i] for i in train], y[train])
        expected = model.predict([texts[i] for i in test])
        assert np.array_equal(features.fit_predict(train, test, y), expected)


def test_group_bootstrap_equals_resampling_rows() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    predicted = np.where(rng.random(300) < 0.7, y, 1 - y)
    groups = [f"g{i}" for i in rng.integers(0, 40, 300)]
    codes, members = np.unique(np.asarray(groups), return_inverse=True)
    by_group = [np.flatnonzero(members == g) for g in range(len(codes))]
    draws = np.random.default_rng(0)
    values = []
    for _ in range(BOOTSTRAP_RESAMPLES):
        rows = np.concatenate([by_group[g] for g in draws.integers(0, len(by_group), len(by_group))])
        yt, yp = y[rows], predicted[rows]
        if yt.min() != yt.max():
            values.append(sum(float(np.mean(yp[yt == k] == k)) for k in (0, 1)) / 2)
    expected = tuple(float(v) for v in np.percentile(values, [2.5, 97.5]))
    assert _group_bootstrap(y, predicted, groups, 0) == expected


def test_stats_reports_progress_to_the_last_step() -> None:
    fs = load_fact_set(CORE / "matched.yaml")
    seen: list[tuple[str, int, int]] = []
    compute_stats([fs], progress=lambda what, done, total: seen.append((what, done, total)))
    assert [done for _, done, _ in seen] == list(range(1, len(seen) + 1))
    assert {total for _, _, total in seen} == {len(seen)}
    assert any("fold" in what for what, _, _ in seen)
