"""Balance figures: standardized difference and near duplicates, checked against direct computations."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from beliefs.facts import load_fact_set
from beliefs.facts.stats import compute_stats, near_duplicates, standardized_difference

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
    """Issue 11's review of the core set: tags and notes agree, contexts carry no genre label and no
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
