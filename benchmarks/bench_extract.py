"""Extraction speed on smollm2-135m and the core set (prints figures; not a timed test).

    .venv/bin/python benchmarks/bench_extract.py [--facts fact_sets/core.yaml] [--batch-size 16]

(a) a per-statement loop with ``output_hidden_states`` (how the Geometry of Truth code extracts),
(b) ``beliefs.probe`` on the empty condition, (c) the compute bound: 2 x parameters FLOPs per token
against the float32 matmul rate measured here; and the cost of a 60-token general prefix.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import torch

from beliefs.extract import probe
from beliefs.facts import load_fact_set
from beliefs.models import load_model
from beliefs.schema import Condition

PREFIX = (
    "The following statements are taken from a carefully reviewed reference work that covers logic, "
    "arithmetic, geography, physics and everyday life, written for a general audience."
)


def matmul_rate() -> float:
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    for _ in range(3):
        a @ b
    t0, n = time.perf_counter(), 20
    for _ in range(n):
        a @ b
    return 2 * 1024**3 * n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--facts", default="fact_sets/core.yaml")
    ap.add_argument("--batch-size", type=int, default=16)
    args = ap.parse_args()
    fs = load_fact_set(Path(args.facts))
    statements = [s for f in fs.facts for s in (f.statement, f.false_statement)]
    lm = load_model("smollm2-135m")
    tok, model = lm.tokenizer, lm.module
    bos = tok.convert_tokens_to_ids("<|endoftext|>")
    n_tok = sum(len(tok(s, add_special_tokens=False)["input_ids"]) for s in statements)
    print(f"machine: {platform.processor() or platform.machine()}, torch threads {torch.get_num_threads()}")
    print(f"{len(statements)} statements, {n_tok} statement tokens ({fs.name})")

    t0 = time.perf_counter()
    with torch.inference_mode():
        for s in statements:
            ids = torch.tensor([[bos, *tok(s, add_special_tokens=False)["input_ids"]]])
            out = model(input_ids=ids, output_hidden_states=True)
            _ = [h[0, 1:].mean(0) for h in out.hidden_states]
    ta = time.perf_counter() - t0
    print(f"(a) per-statement loop: {len(statements) / ta:7.1f} statements/s {n_tok / ta:8.1f} tokens/s")

    timings = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, prefix in (("empty", ""), ("prefix", PREFIX)):
            conds = (
                [Condition(name="empty", prefix="")]
                if name == "empty"
                else [Condition(name="p", prefix=prefix)]
            )
            t0 = time.perf_counter()
            probe("smollm2-135m", fs, conds, Path(tmp) / name, batch_size=args.batch_size)
            timings[name] = time.perf_counter() - t0
    tb = timings["empty"]
    print(
        f"(b) beliefs probe:      {len(statements) / tb:7.1f} statements/s {n_tok / tb:8.1f} tokens/s"
        f"  ({ta / tb:.2f}x (a); includes load and store)"
    )
    params = sum(p.numel() for n, p in model.named_parameters() if "embed" not in n)
    params += model.lm_head.weight.numel()  # the tied output projection is computed
    rate = matmul_rate()
    bound = rate / (2 * params)
    print(
        f"(c) compute bound:      {bound:8.1f} tokens/s (matmul {rate / 1e9:.1f} GFLOP/s, {params / 1e6:.0f}M params)"
    )
    print(f"    (b) is {bound / (n_tok / tb):.2f}x from the bound")
    n_pre = len(tok(PREFIX)["input_ids"])
    print(f"prefix of {n_pre} tokens with KV cache reuse: {timings['prefix'] / tb:.2f}x the empty condition")


if __name__ == "__main__":
    main()
