"""Word-frequency features against direct wordfreq calls (the reference), and their label-freedom."""

import math

import numpy as np
import pandas as pd
import pytest
from wordfreq import tokenize, word_frequency, zipf_frequency

from beliefs.facts.frequency import COLUMNS, frequency_table, twins


def _facts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "fact_set": ["s", "s", "s", "t"],
            "fact_id": ["a", "b", "c", "a"],
            "domain": "physical",
            "kind": ["hinge", "contingent", "hinge", "contingent"],
            "statement": [
                "I am currently on Earth.",
                "I am currently in Canberra.",
                "Water is wet.",
                "Zyxxqv is 101 kilometres away.",
            ],
            "false_statement": [
                "I am not currently on Earth.",
                "I am currently in Paris.",
                "Water is dry.",
                "Zyxxqv is 102 kilometres away.",
            ],
            "pair": ["b", "", "", ""],  # only the hinge names its twin
        }
    )


def _zipf(ws):
    z = [zipf_frequency(w, "en") for w in ws]
    return (np.mean(z), min(z), max(z)) if z else (math.nan,) * 3


def test_statement_and_slot_frequencies_match_wordfreq():
    facts = _facts()
    table = frequency_table(facts)
    assert list(table.columns) == list(COLUMNS)
    for i, row in table.iterrows():
        true, false = tokenize(facts.statement[i], "en"), tokenize(facts.false_statement[i], "en")
        np.testing.assert_allclose(row[["true_mean", "true_min", "true_max"]], _zipf(true))
        np.testing.assert_allclose(row[["false_mean", "false_min", "false_max"]], _zipf(false))
        uni = sum(math.log10(max(word_frequency(w, "en"), 1e-9)) for w in true) / len(true)
        assert row["unigram_true_per_token"] == pytest.approx(uni)
    # the words in which the true and false forms differ
    np.testing.assert_allclose(table.loc[0, ["changed_mean", "changed_min", "changed_max"]], _zipf(["not"]))
    np.testing.assert_allclose(
        table.loc[1, ["changed_mean", "changed_min", "changed_max"]], _zipf(["canberra", "paris"])
    )
    np.testing.assert_allclose(
        table.loc[3, ["changed_min", "changed_max"]], sorted(_zipf(["101", "102"])[1:])
    )
    # twin slot words, both ways although only one side declared the pair
    np.testing.assert_allclose(table.loc[0, ["slot_mean", "slot_min", "slot_max"]], _zipf(["on", "earth"]))
    np.testing.assert_allclose(table.loc[1, ["slot_mean", "slot_min", "slot_max"]], _zipf(["in", "canberra"]))
    assert table.loc[[2, 3], ["slot_mean", "slot_min", "slot_max"]].isna().all().all()
    assert table.loc[3, "true_min"] == 0.0  # a word wordfreq does not know


def test_per_token_summary_uses_the_token_counts_given():
    facts = _facts()
    by_words = frequency_table(facts)
    counts = np.array([[10, 12], [8, 8], [4, 4], [9, 9]])
    by_tokens = frequency_table(facts, counts)
    n_words = [len(tokenize(s, "en")) for s in facts.statement]
    np.testing.assert_allclose(
        by_tokens["unigram_true_per_token"] * counts[:, 0], by_words["unigram_true_per_token"] * n_words
    )


def test_twins_are_symmetric_and_scoped_to_the_fact_set():
    assert twins(["s", "s", "t"], ["a", "b", "b"], ["b", "", ""]) == [1, 0, None]
    assert twins(["s", "s"], ["a", "b"], ["", "a"]) == [1, 0]
    assert twins(["s"], ["a"], ["missing"]) == [None]


def test_frequencies_do_not_read_the_kind():
    facts = _facts()
    flipped = facts.assign(kind=facts["kind"].map({"hinge": "contingent", "contingent": "hinge"}))
    pd.testing.assert_frame_equal(frequency_table(facts), frequency_table(flipped))
    # which side of a pair declares it does not matter either
    other_side = facts.assign(pair=["", "a", "", ""])
    pd.testing.assert_frame_equal(frequency_table(facts), frequency_table(other_side))
