from beliefs.elicit import split_sentences, unique_sentences


def test_split_on_punctuation_and_lines():
    text = "Hello there my friend. It is late now! - One plus one equals two.\n\n1. The Earth is round\nOk."
    assert split_sentences(text) == [
        "Hello there my friend.",
        "It is late now!",
        "One plus one equals two.",
        "The Earth is round",
    ]


def test_closing_quotes_stay_with_their_sentence():
    assert split_sentences('"This is quoted here." And this follows it?') == [
        '"This is quoted here."',
        "And this follows it?",
    ]


def test_fragments_and_blank_text_dropped():
    assert split_sentences("Yes. No way. ```\n\n   \n") == []
    assert split_sentences("") == []
    assert split_sentences("a b", min_words=2) == ["a b"]


def test_whitespace_collapsed_and_long_runs_cut():
    assert split_sentences("one   two\tthree") == ["one two three"]
    assert len(split_sentences("word " * 500)[0]) == 400


def test_unique_keeps_first_order():
    texts = ["The sky is blue. The sky is blue.", "Grass is very green. The sky is blue."]
    assert unique_sentences(texts) == ["The sky is blue.", "Grass is very green."]
