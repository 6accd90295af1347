import pytest

from beliefs.inputs.prompts import SEPARATOR, render, resolve_start_token
from beliefs.models.fake import fake_tokenizer

TRICKY = [
    "The city of Paris is in France.",
    " I am currently on Earth.",
    "1 + 1 = 2.",
    "101 is a prime number",
    "7 × 8 = 56!",
    "Zürich, São Paulo and 東京 are cities.",
    '"Nothing is both red and not red," she said.',
    "naïve café...",
]
PREFIXES = [None, "", "From the encyclopedia:", "Once upon a time.\n", "Day 12 — all nominal;", "数字 42"]


def _check(tokenizer, causal=True):
    start = resolve_start_token(tokenizer, causal=causal)
    for statement in TRICKY:
        reference = render(tokenizer, start, None, statement)
        for prefix in PREFIXES:
            p = render(tokenizer, start, prefix, statement)
            assert p.statement == reference.statement, (prefix, statement)
            assert p.ids[: len(start.ids)] == start.ids
            assert p.suffix == start.end_ids
            # the span decodes to the statement (up to normalisation by the tokenizer)
            decoded = tokenizer.decode(list(p.statement)).strip()
            assert decoded.replace(" ", "") == tokenizer.decode(list(reference.statement)).strip().replace(
                " ", ""
            )
    return start


def test_bytelevel_bpe_like_smollm2():
    start = _check(fake_tokenizer("bytelevel"))
    assert start.text == "<|endoftext|>" and start.source == "document-separator"


def test_bytelevel_newline_keeps_tokens_natural():
    tok = fake_tokenizer("bytelevel")
    start = resolve_start_token(tok)
    p = render(tok, start, "From the encyclopedia:", "The city of Paris is in France.")
    assert p.natural
    full = tok("<|endoftext|>From the encyclopedia:" + SEPARATOR + "The city of Paris is in France.")[
        "input_ids"
    ]
    assert list(p.ids) == list(full)


def test_space_separator_would_change_tokens():
    tok = fake_tokenizer("bytelevel")
    alone = tok("The city", add_special_tokens=False)["input_ids"]
    after_space = tok("x The city", add_special_tokens=False)["input_ids"][1:]
    assert alone != after_space  # why the separator is a newline


def test_sentencepiece_style_like_llama():
    start = _check(fake_tokenizer("sentencepiece"))
    assert start.text == "<s>" and start.source == "tokenizer-bos"


def test_wordpiece_like_minilm():
    start = _check(fake_tokenizer("wordpiece"), causal=False)
    assert start.text == "[CLS]" and start.end_ids


def test_override_start_token():
    tok = fake_tokenizer("bytelevel")
    start = resolve_start_token(tok, "<|im_start|>")
    assert start.source == "override" and start.ids == (tok.convert_tokens_to_ids("<|im_start|>"),)


@pytest.mark.real_model
def test_real_tokenizers():
    from transformers import AutoTokenizer

    from beliefs.models import EMBEDDED, pull

    minilm = AutoTokenizer.from_pretrained(str(EMBEDDED["minilm-l6"].locate()))
    _check(minilm, causal=False)
    smol = AutoTokenizer.from_pretrained(str(pull("smollm2-135m")))
    start = _check(smol)
    assert start.text == "<|endoftext|>"
    assert render(smol, start, "From the encyclopedia:", "The city of Lodz is in Poland.").natural
