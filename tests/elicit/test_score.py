import json

import numpy as np
import pandas as pd
import pytest

from beliefs.elicit import most_least_volunteered, salience_table
from beliefs.elicit.score import (
    FACT_COLUMNS,
    SALIENCE_COLUMNS,
    csls_salience,
    hubness,
    nearest,
    sample_halves,
    sample_replicates,
)


def frame(facts):
    return pd.DataFrame(
        [
            {
                "fact_set": s,
                "fact_id": f.id,
                "domain": f.domain,
                "kind": f.kind,
                "statement": f.statement,
                "false_statement": f.false_statement,
            }
            for s, f in facts
        ],
        columns=list(FACT_COLUMNS),
    )


def test_nearest_matches_full_sort():
    rng = np.random.default_rng(0)
    q, s = rng.normal(size=(5, 8)), rng.normal(size=(30, 8))
    idx, cos = nearest(q, s, 4)
    sims = q @ s.T
    ref = np.argsort(-sims, axis=1)[:, :4]
    assert np.array_equal(idx, ref)
    assert np.allclose(cos, np.take_along_axis(sims, ref, axis=1))
    idx, cos = nearest(q, s[:2], 4)
    assert idx.shape == (5, 2)


def test_salience_against_reference(facts, embed):
    sents = {
        "empty": [
            "One plus one equals two.",
            "I have two hands.",
            "Rain falls on the plain today.",
            "Copper is a red metal.",
        ]
    }
    table = salience_table(frame(facts), sents, embed, k=2)
    assert list(table.columns) == list(SALIENCE_COLUMNS)
    assert len(table) == len(facts)

    def unit(x):
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    s = unit(embed(sents["empty"]))
    for _, row in table.iterrows():
        t = unit(embed([row["statement"]]))[0]
        f = unit(embed([row["false_statement"]]))[0]
        ref_t = np.sort(s @ t)[::-1][:2].mean()
        ref_f = np.sort(s @ f)[::-1][:2].mean()
        assert row["salience_true"] == pytest.approx(ref_t)
        assert row["salience_false"] == pytest.approx(ref_f)
        assert row["endorsement"] == pytest.approx(ref_t - ref_f)
    one = table.set_index("fact_id").loc["one-plus-one"]
    assert json.loads(one["nearest_true"])[0] == "One plus one equals two."
    assert one["endorsement"] > 0


def test_no_sentences_gives_nan(facts, embed):
    table = salience_table(frame(facts), {"empty": [], "x": ["I have two hands."]}, embed)
    assert table.loc[table["condition"] == "empty", "salience_true"].isna().all()
    assert json.loads(table["nearest_true"].iloc[0]) == []
    assert table.loc[table["condition"] == "x", "salience_true"].notna().all()


def test_most_least_volunteered_roundtrip(tmp_path, facts, embed):
    sents = {"empty": ["One plus one equals two.", "I have two hands.", "Copper conducts electricity well."]}
    table = salience_table(frame(facts), sents, embed)
    table.to_csv(tmp_path / "s.csv", index=False)
    back = pd.read_csv(tmp_path / "s.csv")
    for t in (table, back):
        out = most_least_volunteered(t, "empty", k=1)
        assert set(out["cell"]) == {
            "logical/hinge",
            "logical/contingent",
            "physical/hinge",
            "physical/contingent",
        }
        assert len(out) == 8
        top = out[(out["cell"] == "logical/hinge") & (out["rank"] == "most")].iloc[0]
        assert top["fact_id"] == "one-plus-one" and top["example"] == "One plus one equals two."
    assert most_least_volunteered(table, "nope").empty


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_csls_salience_against_loops():
    """CSLS(x, y) = 2cos − r_S(x) − r_T(y) (Conneau et al. 2018), computed pair by pair."""
    rng = np.random.default_rng(1)
    q, s = _unit(rng.normal(size=(4, 6))), _unit(rng.normal(size=(9, 6)))
    statements = _unit(rng.normal(size=(7, 6)))
    k = 3
    r_t = np.array([np.sort(statements @ y)[::-1][:k].mean() for y in s])
    assert np.allclose(hubness(s, statements, k), r_t)
    for i, x in enumerate(q):
        r_s = np.sort(s @ x)[::-1][:k].mean()
        csls = [2 * (x @ y) - r_s - r_t[j] for j, y in enumerate(s)]
        assert csls_salience(q, s, r_t, k)[i] == pytest.approx(np.mean(sorted(csls)[::-1][:k]))
    # a generic sentence close to every statement (a hub) counts for less after the correction
    hub_sentence = _unit(statements.mean(axis=0, keepdims=True))
    plain = csls_salience(q, np.vstack([s, hub_sentence]), np.append(r_t, 1.0), k)
    assert np.all(np.isfinite(plain))
    full = csls_salience(q, s, r_t, k, available=np.ones((2, len(s)), dtype=bool))
    assert np.allclose(full, csls_salience(q, s, r_t, k)[None, :])


def test_sample_replicates(facts, embed):
    samples = {
        "empty": [["One plus one equals two."], ["I have two hands.", "Copper is a red metal."]],
        "x": [["Rain falls on the plain today."]],
    }
    reps = sample_replicates(frame(facts), samples, embed, k=2, n_boot=50, seed=0)
    assert reps["empty"].shape == (50, len(facts)) and np.isfinite(reps["x"]).all()
    table = salience_table(
        frame(facts), {c: [s for x in v for s in x] for c, v in samples.items()}, embed, k=2
    )
    x = table[table["condition"] == "x"]["salience_csls_true"].to_numpy()
    assert np.allclose(reps["x"], x[None, :])  # one sample: every resample is the full set
    full = table[table["condition"] == "empty"]["salience_csls_true"].to_numpy()
    assert any(np.allclose(r, full) for r in reps["empty"])  # resamples that drew both samples
    assert not all(np.allclose(r, full) for r in reps["empty"])


def test_sample_halves_are_disjoint_halves(facts, embed):
    samples = {
        "empty": [
            ["One plus one equals two."],
            ["I have two hands."],
            ["Copper is a red metal."],
            ["Hi there now."],
        ],
        "x": [["Rain falls on the plain today."]],
    }
    halves = sample_halves(frame(facts), samples, embed, k=1, seed=0)
    assert halves["empty"].shape == (2, len(facts))
    # each half is the salience of two of the four samples: recompute every pair of samples
    pairs = [(a, b) for a in range(4) for b in range(a + 1, 4)]
    tables = {
        p: salience_table(frame(facts), {"e": [s for i in p for s in samples["empty"][i]]}, embed, k=1)[
            "salience_csls_true"
        ].to_numpy()
        for p in pairs
    }
    match = [[p for p, v in tables.items() if np.allclose(v, h)] for h in halves["empty"]]
    assert all(match)
    assert any(set(a) | set(b) == {0, 1, 2, 3} for a in match[0] for b in match[1])  # disjoint halves
    assert np.isnan(halves["x"][0]).all()  # one sample: the first half is empty
