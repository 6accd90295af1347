"""The ``fake`` backend: tiny deterministic models and tokenizers built in-process, for tests and demos.

``fake:llama`` (byte-level BPE, ``<|endoftext|>`` as document separator, like SmolLM2),
``fake:gpt2`` (the same tokenizer on a GPT-2 architecture), ``fake:llama-sp`` (sentencepiece-style
Metaspace BPE whose tokenizer adds ``<s>`` itself, like Llama) and ``fake:bert`` (WordPiece encoder with
``[CLS]``/``[SEP]``, like MiniLM). Nothing is downloaded; weights come from a fixed seed.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from beliefs.errors import ModelError
from beliefs.models.base import LoadedModel, LoadOptions, resolve_device, torch_dtype
from beliefs.models.registry import register_backend

KINDS = ("llama", "gpt2", "llama-sp", "bert")
_CORPUS = [
    "The city of Paris is in France. The city of Lodz is in Poland. Canberra is the capital of Australia.",
    "I am currently on Earth. I am currently on the Moon. The Earth existed long before my birth.",
    "1 + 1 = 2. 7 × 8 = 56. 101 is a prime number. Copper conducts electricity; glass does not.",
    "Nothing is both red and not red at once. Ça va? Zürich, São Paulo, Kraków, naïve café, 東京.",
    "Once upon a time, in a land far away, there was a spacecraft log: day 12, all systems nominal.",
    "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 .,;:!?'\"()[]{}-_+=*/\\@#$%&",
]


@cache
def fake_tokenizer(style: str) -> Any:
    """A small fast tokenizer trained on a fixed corpus: ``bytelevel``, ``sentencepiece`` or ``wordpiece``."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    corpus = _CORPUS * 3
    if style == "bytelevel":
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            show_progress=False,
            vocab_size=400,
            special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        )
        tok.train_from_iterator(corpus, trainer)
        return PreTrainedTokenizerFast(
            tokenizer_object=tok, bos_token="<|im_start|>", eos_token="<|im_end|>", pad_token="<|im_end|>"
        )
    if style == "sentencepiece":
        tok = Tokenizer(models.BPE(byte_fallback=True, unk_token="<unk>"))
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
        tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first")
        byte_tokens = [f"<0x{i:02X}>" for i in range(256)]
        trainer = trainers.BpeTrainer(
            show_progress=False, vocab_size=700, special_tokens=["<unk>", "<s>", "</s>", *byte_tokens]
        )
        tok.train_from_iterator(corpus, trainer)
        tok.post_processor = processors.TemplateProcessing(
            single="<s> $A", special_tokens=[("<s>", tok.token_to_id("<s>"))]
        )
        return PreTrainedTokenizerFast(
            tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>"
        )
    if style == "wordpiece":
        tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        tok.normalizer = normalizers.BertNormalizer(lowercase=True)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.decoder = decoders.WordPiece()
        wp_trainer = trainers.WordPieceTrainer(
            show_progress=False, vocab_size=400, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        )
        tok.train_from_iterator(corpus, wp_trainer)
        cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]", special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)]
        )
        return PreTrainedTokenizerFast(
            tokenizer_object=tok, cls_token="[CLS]", sep_token="[SEP]", pad_token="[PAD]", unk_token="[UNK]"
        )
    raise ValueError(f"unknown tokenizer style {style}")


def fake_module(kind: str, vocab_size: int, seed: int = 0) -> Any:
    """A tiny randomly initialised transformer of the given family."""
    import torch
    from transformers import BertConfig, BertModel, GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config: Any
    if kind in ("llama", "llama-sp"):
        config = LlamaConfig(
            vocab_size=vocab_size,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=3,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=512,
            tie_word_embeddings=True,
        )
        model: Any = LlamaForCausalLM(config)
    elif kind == "gpt2":
        config = GPT2Config(
            vocab_size=vocab_size,
            n_embd=32,
            n_layer=3,
            n_head=4,
            n_positions=512,
            bos_token_id=0,
            eos_token_id=0,
        )
        model = GPT2LMHeadModel(config)
    elif kind == "bert":
        config = BertConfig(
            vocab_size=vocab_size,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=3,
            num_attention_heads=4,
            max_position_embeddings=512,
        )
        model = BertModel(config, add_pooling_layer=False)
    else:
        raise ModelError(f"unknown fake model '{kind}'; known: {', '.join(KINDS)}")
    # Larger weights than the default init, so that layers and positions differ clearly.
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:
                p.normal_(0.0, 0.2)
    return model.eval()


@register_backend("fake")
class FakeBackend:
    """Tiny in-process models; ``random-init`` uses another seed."""

    name = "fake"

    def load(self, source: str, name: str, options: LoadOptions) -> LoadedModel:
        if source not in KINDS:
            raise ModelError(f"unknown fake model '{source}'; known: {', '.join(KINDS)}")
        style = {"llama": "bytelevel", "gpt2": "bytelevel", "llama-sp": "sentencepiece", "bert": "wordpiece"}
        tokenizer = fake_tokenizer(style[source])
        seed = 0 if options.control is None else 1000 + options.seed
        module = fake_module(source, len(tokenizer), seed)
        module.to(device=resolve_device(options.device), dtype=torch_dtype(options.dtype))
        config = module.config
        return LoadedModel(
            name=name,
            backend="st" if source == "bert" else "hf",
            module=module if options.weights else None,  # weights=False: the config alone is used
            tokenizer=tokenizer,
            n_layers=config.num_hidden_layers + 1,
            width=config.hidden_size,
            identity={"fake": source, "seed": seed, "dtype": options.dtype, "control": options.control},
            device=str(next(module.parameters()).device),
            dtype=options.dtype,
            control=options.control,
            max_positions=512,
            info={"source": f"fake:{source}", "architecture": type(module).__name__},
        )
