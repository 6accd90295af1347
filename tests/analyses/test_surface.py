import pytest


def test_plain_statistics_get_a_beyond_surface_p_only_within_pairs():
    from beliefs.analyses.surface import NO_VALID_STRATA, strata_hold_size

    assert strata_hold_size("pairs")
    assert not strata_hold_size("domain x surface bins") and not strata_hold_size("pairs + domain x template")
    assert "0.275" in NO_VALID_STRATA


def _matched_facts(n_pairs: int = 12, seed: int = 0):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    slots = ["water", "stone", "the moon", "seven", "Canberra", "Zyxxqv", "a cloud", "fire", "prime", "salt"]
    rows = []
    for i in range(n_pairs):
        a, b = rng.choice(slots, 2, replace=False)
        for kind, slot, twin in (("hinge", a, f"c{i}"), ("contingent", b, "")):
            fid = f"h{i}" if kind == "hinge" else f"c{i}"
            rows.append(
                {
                    "fact_set": "toy",
                    "fact_id": fid,
                    "domain": ["logical", "physical"][i % 2],
                    "kind": kind,
                    "statement": f"Frame {i % 3} holds {slot}.",
                    "false_statement": f"Frame {i % 3} does not hold {slot}.",
                    "template": f"t{i % 3}",
                    "pair": twin,
                    # tags that give the kind away
                    "tags": "contested;topic" if kind == "hinge" else "topic",
                }
            )
    return pd.DataFrame(rows)


def test_tags_never_enter_the_surface():
    import numpy as np

    from beliefs.analyses.surface import build_surface_features

    facts = _matched_facts()
    with_tags = build_surface_features(facts, None, None)
    assert "tags" not in with_tags.blocks and "no fact-set tags" in with_tags.features
    without = build_surface_features(facts.assign(tags=""), None, None)
    np.testing.assert_array_equal(with_tags.matrix(), without.matrix())
    assert "word frequencies" in with_tags.features and "template" in with_tags.blocks


def test_surface_features_do_not_depend_on_the_labels():
    import numpy as np

    from beliefs.analyses.surface import build_surface_features

    facts = _matched_facts()
    base = build_surface_features(facts, None, None)
    rng = np.random.default_rng(1)
    for _ in range(3):
        permuted = facts.assign(
            kind=rng.permutation(facts["kind"].to_numpy()), tags=rng.permutation(facts["tags"])
        )
        other = build_surface_features(permuted, None, None)
        assert other.blocks.keys() == base.blocks.keys()
        for name, block in base.blocks.items():
            np.testing.assert_array_equal(other.blocks[name], block, err_msg=name)


def test_frequency_blocks_are_the_wordfreq_table_standardised():
    import numpy as np

    from beliefs.analyses.surface import build_surface_features
    from beliefs.facts.frequency import SLOT_COLUMNS, STATEMENT_COLUMNS, frequency_table
    from beliefs.stats import zscore

    facts = _matched_facts()
    feats = build_surface_features(facts, None, None)
    table = frequency_table(facts)
    for block, cols in (("frequency", STATEMENT_COLUMNS), ("slot_frequency", SLOT_COLUMNS)):
        x = table[list(cols)].to_numpy(dtype=float)
        assert not np.isnan(x).any()  # every fact here has a twin and a negation
        z = zscore(x)
        z = z[:, np.any(z != 0, axis=0)]
        np.testing.assert_allclose(feats.blocks[block], z / np.sqrt(z.shape[1]))
        # hence the kernel of each block has a mean diagonal of 1, like every other block
        assert np.mean(np.sum(feats.blocks[block] ** 2, axis=1)) == pytest.approx(1.0)


def test_missing_slot_words_are_imputed_without_labels():
    import numpy as np

    from beliefs.analyses.surface import build_surface_features

    facts = _matched_facts().assign(pair="")  # no twins: the twin-slot columns are all missing
    feats = build_surface_features(facts, None, None)
    assert np.isfinite(feats.matrix()).all()


def test_token_ids_of_a_padding_tokenizer_are_the_statements_own(tmp_path):
    """A sentence-transformers folder's tokenizer.json pads every text to a fixed length; the token
    features (ids and token counts) must be each statement's own tokens, not the padded row."""
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    from beliefs.analyses.surface import token_ids

    vocab = {"[PAD]": 0, "[UNK]": 1, "paris": 2, "is": 3, "in": 4, "france": 5}
    tok = Tokenizer(WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = Whitespace()
    tok.enable_padding(length=16, pad_id=0, pad_token="[PAD]")
    tok.enable_truncation(max_length=3)
    tok.save(str(tmp_path / "tokenizer.json"))
    assert token_ids(str(tmp_path), ["paris is in france", "paris"]) == [[2, 3, 4, 5], [2]]
