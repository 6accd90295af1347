"""Sampling continuations of each condition's prefix: batched, with a KV cache, reproducible by seed.

The prompt of a condition is the model's start-of-document token followed, for a detailed condition, by
its prefix and the separator (the same text that precedes statements in ``probe``); for ``empty`` it is
the start token alone. Every sample of a condition shares that prompt, so a batch needs no padding.

Each sample ``i`` of a condition draws its tokens from its own random stream, seeded by
``(seed, condition name, i)``, by inverse-CDF sampling: one uniform number per step. The text of
sample ``i`` therefore does not depend on how many samples are asked for, so a rerun with more samples
keeps the ones already generated (it can differ only where batched float arithmetic moves a cumulative
probability across that uniform number, which is rare).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from beliefs.errors import ModelError, UsageError
from beliefs.fileio import atomic_write_text
from beliefs.inputs.prompts import StartToken, resolve_start_token, text_before
from beliefs.models.base import LoadedModel
from beliefs.schema import Condition

SAMPLER_VERSION = 1
"""Bumped whenever the sampling procedure changes what a seed produces; part of every sample's key."""
SAMPLES_FILE = "samples.jsonl"


@dataclass(frozen=True)
class GenerationSettings:
    """What changes the generated text (and nothing else: not the batch size)."""

    max_new_tokens: int = 48
    temperature: float = 1.0
    """Softmax temperature; 0 means greedy decoding (every sample then is the same)."""
    seed: int = 0

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise UsageError(f"max_new_tokens should be at least 1, but got {self.max_new_tokens}")
        if not self.temperature >= 0:
            raise UsageError(f"temperature should be 0 or more, but got {self.temperature}")


class ElicitProgress:
    """Receives progress; the CLI draws a bar, the default does nothing."""

    def message(self, text: str) -> None:
        """A stage begins (loading a model, scoring, statistics)."""

    def start(self, condition: str, total: int, done: int) -> None:
        """A condition's sampling starts: samples wanted and how many are already stored."""

    def advance(self, samples: int, tokens: int) -> None:
        """A batch of samples finished."""


def prompt_ids(model: LoadedModel, start: StartToken, condition: Condition) -> list[int]:
    """Token ids of a condition's prompt: start token, then the prefix and separator (none for empty)."""
    if condition.prefix is None:
        raise UsageError(f"condition '{condition.name}' takes per-fact contexts; elicitation needs a prefix")
    before = text_before(condition.prefix)
    ids = list(start.ids)
    if before:
        ids += list(model.tokenizer(before, add_special_tokens=False)["input_ids"])
    return ids


def sample_key(
    model: LoadedModel, start: StartToken, prompt: Sequence[int], settings: GenerationSettings
) -> str:
    """A short hash of everything that determines a condition's samples (model, prompt, settings)."""
    blob = json.dumps(
        {
            "model": model.identity,
            "start": start.to_dict(),
            "prompt": list(prompt),
            "settings": asdict(settings),
            "sampler": SAMPLER_VERSION,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def stop_ids(model: LoadedModel, start: StartToken) -> set[int]:
    """Tokens that end a sample: EOS and the start-of-document token (a new document begins)."""
    out = set(start.ids)
    eos = getattr(model.tokenizer, "eos_token_id", None)
    if isinstance(eos, int):
        out.add(eos)
    vocab = model.tokenizer.get_vocab()
    for tok in ("<|endoftext|>", "<|im_end|>", "</s>", "<|end_of_text|>", "<eos>"):
        if tok in vocab:
            out.add(vocab[tok])
    return out


def _stream_seed(seed: int, condition: str, index: int) -> int:
    import numpy as np

    ss = np.random.SeedSequence([seed, zlib.crc32(condition.encode()), index])
    return int(ss.generate_state(1, dtype="uint64")[0] >> 1)


def _forward(module: Any, ids: Any, cache: Any) -> tuple[Any, Any]:
    """One forward pass with the KV cache; last-position logits (float32, CPU) and the updated cache.

    transformers 5.x calls the cache ``cache`` (``past_key_values`` before); both are accepted, and
    only the last position's logits are computed where the model allows it (``logits_to_keep``).
    """
    new_api, keep = _forward_api(type(module))
    kwargs: dict[str, Any] = {"input_ids": ids, "use_cache": True}
    if keep:
        kwargs["logits_to_keep"] = 1
    if cache is not None:
        kwargs["cache" if new_api else "past_key_values"] = cache
    result = module(**kwargs)
    new_cache = result.cache if new_api else result.past_key_values
    return result.logits[:, -1, :].float().cpu(), new_cache


_FORWARD_API: dict[type, tuple[bool, bool]] = {}


def _forward_api(cls: type) -> tuple[bool, bool]:
    """Whether ``cls.forward`` takes ``cache`` (else ``past_key_values``) and ``logits_to_keep``."""
    if cls not in _FORWARD_API:
        params = inspect.signature(getattr(cls, "forward")).parameters  # noqa: B009
        _FORWARD_API[cls] = ("cache" in params, "logits_to_keep" in params)
    return _FORWARD_API[cls]


def sample_batch(
    model: LoadedModel,
    prompt: Sequence[int],
    condition: str,
    indices: Sequence[int],
    settings: GenerationSettings,
    stops: set[int],
) -> list[tuple[str, int, bool]]:
    """Sample continuations ``indices`` of one prompt together; returns ``(text, n_tokens, finished)``.

    The prompt is run once for the whole batch, then one token per step with the KV cache; a row stops
    at its first stop token (not kept in the text) and the loop ends when every row has stopped.
    """
    import torch

    module = model.module
    device = next(module.parameters()).device
    n = len(indices)
    gens = [torch.Generator().manual_seed(_stream_seed(settings.seed, condition, i)) for i in indices]
    if model.max_positions is not None and len(prompt) + settings.max_new_tokens > model.max_positions:
        raise ModelError(
            f"condition '{condition}': prompt ({len(prompt)} tokens) plus {settings.max_new_tokens} new "
            f"tokens is longer than the model's {model.max_positions} positions"
        )
    stop_t = torch.tensor(sorted(stops), dtype=torch.long)
    out = torch.zeros((n, settings.max_new_tokens), dtype=torch.long)
    done = torch.zeros(n, dtype=torch.bool)
    lengths = torch.full((n,), settings.max_new_tokens, dtype=torch.long)
    with torch.inference_mode():
        # The prompt runs once, at batch 1; its cache is then repeated for every row.
        logits, cache = _forward(module, torch.tensor([list(prompt)], device=device), None)
        cache.batch_repeat_interleave(n)
        logits = logits.expand(n, -1)
        for step in range(settings.max_new_tokens):
            if settings.temperature == 0:
                token = logits.argmax(dim=-1)
            else:
                probs = torch.softmax(logits / settings.temperature, dim=-1)
                cdf = probs.cumsum(dim=-1)
                u = torch.stack([torch.rand((), generator=g) for g in gens]) * cdf[:, -1]
                token = torch.searchsorted(cdf, u[:, None]).squeeze(1).clamp_(max=cdf.shape[1] - 1)
            out[:, step] = token
            stopped = torch.isin(token, stop_t) & ~done
            lengths[stopped] = step
            done |= stopped
            if bool(done.all()) or step == settings.max_new_tokens - 1:
                break
            logits, cache = _forward(module, token[:, None].to(device), cache)
    texts = []
    for row in range(n):
        k = int(lengths[row])
        text = model.tokenizer.decode(out[row, :k].tolist(), skip_special_tokens=True)
        texts.append((text, k, bool(done[row])))
    return texts


def read_samples(path: Path) -> list[dict[str, Any]]:
    """The records of a ``samples.jsonl`` file (none if it is absent); a malformed line is an error."""
    if not path.is_file():
        return []
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError as exc:
            raise UsageError(
                f"{path}:{number}: not a JSON line ({exc}); delete the file to start over"
            ) from exc
    return records


def write_samples(path: Path, records: list[dict[str, Any]]) -> None:
    """Write every record, sorted by condition order of appearance and sample index, atomically."""
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    atomic_write_text(path, text)


def generate_samples(
    model: LoadedModel,
    conditions: Sequence[Condition],
    out: Path,
    samples: int,
    settings: GenerationSettings,
    batch_size: int = 16,
    start_token: str | None = None,
    progress: ElicitProgress | None = None,
) -> list[dict[str, Any]]:
    """Sample ``samples`` continuations per condition into ``out/samples.jsonl``; reuse stored ones.

    A stored sample is reused when its key (model identity, prompt tokens, settings, sampler version)
    matches; the file is rewritten atomically after every batch, so an interrupted run resumes. Returns
    the records of ``conditions`` (sample index below ``samples``), in condition then index order.
    """
    if not model.causal:
        raise ModelError(f"model '{model.name}' is not a causal LM; elicitation needs one to generate text")
    if samples < 1:
        raise UsageError(f"samples should be at least 1, but got {samples}")
    if batch_size < 1:
        raise UsageError(f"batch_size should be at least 1, but got {batch_size}")
    hook = progress or ElicitProgress()
    path = out / SAMPLES_FILE
    start = resolve_start_token(model.tokenizer, start_token, causal=True)
    stops = stop_ids(model, start)
    stored = read_samples(path)
    wanted: list[dict[str, Any]] = []
    for cond in conditions:
        prompt = prompt_ids(model, start, cond)
        key = sample_key(model, start, prompt, settings)
        have = {
            int(r["sample"]): r for r in stored if r.get("condition") == cond.name and r.get("key") == key
        }
        # Records of this condition under another key are stale: drop them.
        stored = [r for r in stored if r.get("condition") != cond.name or r.get("key") == key]
        missing = [i for i in range(samples) if i not in have]
        hook.start(cond.name, samples, samples - len(missing))
        for b in range(0, len(missing), batch_size):
            chunk = missing[b : b + batch_size]
            texts = sample_batch(model, prompt, cond.name, chunk, settings, stops)
            for i, (text, n_tokens, finished) in zip(chunk, texts, strict=True):
                record = {
                    "condition": cond.name,
                    "sample": i,
                    "text": text,
                    "n_tokens": n_tokens,
                    "stopped": finished,
                    "key": key,
                }
                have[i] = record
                stored.append(record)
            write_samples(path, stored)
            hook.advance(len(chunk), sum(t[1] for t in texts))
        wanted.extend(have[i] for i in range(samples))
    return wanted
