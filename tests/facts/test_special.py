from types import SimpleNamespace

from beliefs.facts.special import special_token_finder, special_tokens_in


class Tokenizer:
    """A tokenizer's special-token surface, counting reads of ``added_tokens_decoder`` (slow in Gemma's)."""

    all_special_tokens = ("<bos>", "<eos>", "[SEP]")

    def __init__(self):
        self.reads = 0

    @property
    def added_tokens_decoder(self):
        self.reads += 1
        tokens = ["<start_of_turn>", "<start", "|x|", "<unused0>", "plain"]
        out = {i: SimpleNamespace(content=t, special=True) for i, t in enumerate(tokens)}
        out[99] = SimpleNamespace(content="<not-special>", special=False)
        return out


def brute_force(text):
    specials = {"<bos>", "<eos>", "[SEP]", "<start_of_turn>", "<start", "|x|", "<unused0>", "plain"}
    return sorted(s for s in specials if s in text)


TEXTS = [
    "",
    "Paris is in France.",
    "Say <start_of_turn> now",  # overlapping tokens are both found
    "a <start here",
    "the [SEP] and <eos>",
    "in plain words |x|",
    "<not-special> is text",
    "<unused0><bos>",
]


def test_finder_matches_a_search_for_every_special_token():
    tok = Tokenizer()
    find = special_token_finder(tok)
    for text in TEXTS:
        assert find(text) == brute_force(text) == special_tokens_in(tok, text), text
    assert find("Say <start_of_turn> now") == ["<start", "<start_of_turn>"]


def test_finder_reads_the_tokenizer_once():
    tok = Tokenizer()
    find = special_token_finder(tok)
    for text in TEXTS * 10:
        find(text)
    assert tok.reads == 1


def test_tokenizer_without_special_tokens():
    assert special_token_finder(object())("<bos> text") == []


def test_validate_warns_about_a_special_token_in_a_condition_prefix(tmp_path):
    from typer.testing import CliRunner

    from beliefs.cli import app

    path = tmp_path / "conditions.yaml"
    path.write_text('- name: empty\n  prefix: ""\n- name: doc\n  prefix: "x <|endoftext|> y"\n')
    result = CliRunner().invoke(app, ["facts", "validate", str(path)])
    assert result.exit_code == 0
    assert (
        "condition 'doc', field 'prefix': warning: '<|endoftext|>' looks like a special token"
        in result.output
    )
