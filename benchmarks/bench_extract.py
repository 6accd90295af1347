"""Extraction speed on smollm2-135m, like with like (prints figures; not a timed test).

    .venv/bin/python benchmarks/bench_extract.py [--pairs 100] [--repeats 5] [--batch-size 16]

Statements: ``--pairs`` Geometry of Truth city pairs (a true and a false statement per city, from
``../shared/external/geometry_of_truth/cities.csv`` beside the
repository, or ``--cities``) under two conditions, ``empty`` and a 60-token
shared prefix. Every contender runs on the same warm model and the same rendered prompts; the repeats are
interleaved (A B C … A B C …) so that load on a shared machine falls on all of them alike, and each
figure is the median over the repeats with its range (min–max). Printed:

(a) the per-statement loop (``output_hidden_states`` on one whole prompt at a time, pooling the
    statement and scoring it from the full logits: how the Geometry of Truth code extracts) against
    (b) the ``beliefs probe`` path on the warm model (plan, prefix-cached batches, store writes), per
    condition and both together;
(c) steady-state extraction (``Extractor.run`` over the planned batches, no store) in statement
    tokens/s against the float32 matmul bound: the time ``torch.matmul`` takes for every linear layer of
    the model at the batch's shape, the output projection included;
(d) the 60-token prefix's cost relative to ``empty`` on the probe path;
(e) bfloat16 against float32 on this CPU: steady-state speed and the largest margin difference.

Goals: (c) within 2.5x of the bound; (b) at least 6x (a); (d) at most 1.3x.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from beliefs.extract.probe import (
    ProgressHook,
    _probe_one,
    as_conditions,
    as_facts,
    condition_record,
    deterministic,
    fact_inputs,
    fact_rows,
    replace_inputs,
)
from beliefs.extract.runner import Extractor, Row, plan
from beliefs.inputs.prompts import render, resolve_start_token
from beliefs.models import LoadOptions, load_model
from beliefs.schema import Condition, Fact
from beliefs.store.run import Run, fact_ref

CITIES = Path(__file__).resolve().parents[2] / "shared" / "external" / "geometry_of_truth" / "cities.csv"
MODEL = "smollm2-135m"
PREFIX_TOKENS = 60
PREFIX_SOURCE = (
    "The following sentences are taken from a general reference encyclopedia. Each entry was written by "
    "specialists, checked by editors, and states established facts about mathematics, logic, geography, "
    "the natural sciences and everyday life. The entries are short, plain and written for a general "
    "audience; where a place is named, its country is the one it belongs to today, and where a number is "
    "given, it is exact unless it is said to be rounded."
)


def city_facts(n: int, cities: Path) -> list[tuple[str, Fact]]:
    """The first ``n`` cities with both a true and a false statement, as facts."""
    by_city: dict[str, dict[str, str]] = {}
    with cities.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            by_city.setdefault(row["city"], {}).setdefault(row["label"], row["statement"])
    out = []
    for i, forms in enumerate(v for v in by_city.values() if "1" in v and "0" in v):
        if i == n:
            break
        fact = Fact(
            id=f"c{i}",
            domain="geography",
            kind="contingent",
            statement=forms["1"],
            false_statement=forms["0"],
        )
        out.append(("cities", fact))
    if len(out) < n:
        raise SystemExit(f"{cities} has only {len(out)} city pairs")
    return out


def prefix_text(tokenizer: Any) -> str:
    ids = tokenizer(PREFIX_SOURCE, add_special_tokens=False)["input_ids"]
    if len(ids) < PREFIX_TOKENS:
        raise SystemExit("the prefix source is shorter than the prefix wanted")
    return str(tokenizer.decode(ids[:PREFIX_TOKENS])).strip()


def spread(xs: list[float]) -> str:
    return f"{statistics.median(xs):8.3f} [{min(xs):.3f}–{max(xs):.3f}]"


def matmul_bound(model: Any, tokens: int, repeats: int) -> float:
    """Seconds per token for the float32 matmuls of every linear layer at ``tokens`` rows (the median of
    ``repeats`` timings of each distinct shape, times how often the model has it)."""
    shapes: dict[tuple[int, int], int] = {}
    for module in model.modules():
        if isinstance(module, torch.nn.Linear):
            shape = (module.in_features, module.out_features)
            shapes[shape] = shapes.get(shape, 0) + 1
    total = 0.0
    for (k, n), count in shapes.items():
        a, b = torch.randn(tokens, k), torch.randn(k, n)
        times = []
        for _ in range(repeats + 1):
            t0 = time.perf_counter()
            for _ in range(5):
                a @ b
            times.append((time.perf_counter() - t0) / 5)
        total += statistics.median(times[1:]) * count
    return total / tokens


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=100)
    ap.add_argument("--cities", type=Path, default=CITIES, help="Geometry of Truth cities.csv")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--no-bf16", action="store_true", help="skip (e), the bfloat16 comparison")
    args = ap.parse_args()
    facts = city_facts(args.pairs, args.cities)
    settings = deterministic("cpu")
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    lm = load_model(MODEL, LoadOptions(device="cpu"))
    load_seconds = time.perf_counter() - t0
    tok, model = lm.tokenizer, lm.module
    pairs, fact_sets = as_facts(facts)
    prefix = prefix_text(tok)
    conds, _ = as_conditions([Condition(name="empty", prefix=""), Condition(name="prefix60", prefix=prefix)])
    start = resolve_start_token(tok, None, causal=True)
    prompts = {
        c.name: [render(tok, start, c.prefix, s) for _, f in pairs for s in (f.statement, f.false_statement)]
        for c in conds
    }
    n_stmt = len(prompts["empty"])
    n_tok = sum(p.end - p.start for p in prompts["empty"])
    n_pre = len(tok(prefix, add_special_tokens=False)["input_ids"])
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}, "
        f"load average {load0[0]:.1f} (1 min) {load0[1]:.1f} (5 min); model load {load_seconds:.1f} s"
    )
    print(
        f"{n_stmt} statements ({args.pairs} city pairs), {n_tok} statement tokens; prefix {n_pre} tokens; "
        f"batch size {args.batch_size}; {args.repeats} interleaved repeats; median [min–max]"
    )

    def loop(name: str, n: int | None = None) -> None:
        with torch.inference_mode():
            for p in prompts[name][:n]:
                out = model(input_ids=torch.tensor([p.ids]), output_hidden_states=True)
                span = torch.stack(out.hidden_states)[:, 0, p.start : p.end]
                _ = span[:, -1], span.mean(1)
                lp = torch.log_softmax(out.logits[0, p.start - 1 : p.end - 1].float(), -1)
                _ = lp.gather(-1, torch.tensor(p.ids[p.start : p.end])[:, None]).sum()

    inputs = {fact_ref(s, f.id): fact_inputs(f) for s, f in pairs}
    records = [condition_record(c, None) for c in conds]
    tmp = Path(tempfile.mkdtemp(prefix="bench-extract-"))
    counter = iter(range(10**6))

    def probe_path(name: str) -> None:
        """What ``probe`` does after loading the model: manifest, prompts, plan, batches, store."""
        run = Run(tmp / f"r{next(counter)}")
        cond = [c for c in conds if c.name == name]
        recs = [r for r in records if r["name"] == name]
        run.update_manifest(lambda m: _ignore(replace_inputs(m, fact_rows(pairs), inputs, fact_sets, recs)))
        _probe_one(
            run, lm, pairs, cond, None, args.batch_size, None, "right", ProgressHook(), inputs, recs, settings
        )
        run.write_margins()

    def steady(target: Any) -> Callable[[], None]:
        rows = [Row(str(i), p) for i, p in enumerate(prompts["empty"])]
        batches = plan(rows, args.batch_size)

        def go() -> None:
            ex = Extractor(target)
            for b in batches:
                ex.run(b)

        return go

    contenders: dict[str, Callable[[], None]] = {
        "loop empty": lambda: loop("empty"),
        "probe empty": lambda: probe_path("empty"),
        "loop prefix60": lambda: loop("prefix60"),
        "probe prefix60": lambda: probe_path("prefix60"),
        "steady fp32": steady(lm),
    }
    lm16 = None
    if not args.no_bf16:
        lm16 = load_model(MODEL, LoadOptions(device="cpu", dtype="bfloat16"))
        contenders["steady bf16"] = steady(lm16)
    # warm-up (first calls pay for allocation and kernel choice): a few prompts and one batch of each
    for name in ("empty", "prefix60"):
        loop(name, 4)
    for target in (lm, lm16):
        if target is not None:
            Extractor(target).run(
                plan([Row(str(i), p) for i, p in enumerate(prompts["empty"])], args.batch_size)[0]
            )
    shutil.rmtree(tmp)
    tmp.mkdir()
    times: dict[str, list[float]] = {k: [] for k in contenders}
    bound_s: list[float] = []
    tokens_per_batch = round(
        n_tok / len(plan([Row(str(i), p) for i, p in enumerate(prompts["empty"])], args.batch_size))
    )
    for _ in range(args.repeats):
        for name, fn in contenders.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
        for old in tmp.iterdir():  # the runs written, outside the timings
            shutil.rmtree(old)
        bound_s.append(matmul_bound(model, tokens_per_batch, 3))
    load1 = os.getloadavg()
    shutil.rmtree(tmp)

    def rate(name: str) -> list[float]:
        return [n_stmt / t for t in times[name]]

    print("\n(a)/(b) statements/s            median [min–max]")
    for name in contenders:
        if not name.startswith("steady"):
            print(f"  {name:16s} {spread(rate(name))}")
    ratio = {
        c: [a / b for a, b in zip(times[f"loop {c}"], times[f"probe {c}"], strict=True)]
        for c in ("empty", "prefix60")
    }
    both = [
        (a1 + a2) / (b1 + b2)
        for a1, a2, b1, b2 in zip(
            times["loop empty"],
            times["loop prefix60"],
            times["probe empty"],
            times["probe prefix60"],
            strict=True,
        )
    ]
    whole = [
        (a1 + a2 + load_seconds) / (b1 + b2 + load_seconds)
        for a1, a2, b1, b2 in zip(
            times["loop empty"],
            times["loop prefix60"],
            times["probe empty"],
            times["probe prefix60"],
            strict=True,
        )
    ]
    print(f"  probe / loop, empty      {spread(ratio['empty'])}x")
    print(f"  probe / loop, prefix60   {spread(ratio['prefix60'])}x")
    print(f"  probe / loop, both       {spread(both)}x   (warm model, same repeat)")
    print(f"  with one model load each {spread(whole)}x   (whole process, {load_seconds:.1f} s load)")

    steady_tps = [n_tok / t for t in times["steady fp32"]]
    bound_tps = [1 / s for s in bound_s]
    gap = [b / s for b, s in zip(bound_tps, steady_tps, strict=True)]
    print(f"\n(c) steady-state fp32       {spread(steady_tps)} statement tokens/s")
    print(
        f"    fp32 matmul bound       {spread(bound_tps)} tokens/s (every Linear at {tokens_per_batch} rows)"
    )
    print(f"    bound / steady          {spread(gap)}x")

    prefix_cost = [b / a for a, b in zip(times["probe empty"], times["probe prefix60"], strict=True)]
    print(f"\n(d) prefix60 / empty, probe path {spread(prefix_cost)}x")

    if lm16 is not None:
        speed = [a / b for a, b in zip(times["steady fp32"], times["steady bf16"], strict=True)]
        print(f"\n(e) bf16 steady-state       {spread([n_tok / t for t in times['steady bf16']])} tokens/s")
        print(f"    bf16 speed / fp32       {spread(speed)}x")
        diff = margin_difference(lm, lm16, prompts["empty"], args.batch_size)
        print(
            f"    margins, bf16 vs fp32: max |diff| {diff[0]:.3f}, median {diff[1]:.3f} nats (of median |margin| {diff[2]:.3f})"
        )

    print(f"\nload average after: {load1[0]:.1f} (1 min) {load1[1]:.1f} (5 min)")
    goals = [
        ("steady-state within 2.5x of the fp32 matmul bound", statistics.median(gap) <= 2.5),
        ("probe path >= 6x the per-statement loop (both conditions, warm)", statistics.median(both) >= 6),
        ("60-token prefix <= 1.3x empty", statistics.median(prefix_cost) <= 1.3),
    ]
    for text, met in goals:
        print(f"goal {'MET' if met else 'not met'}: {text}")


def margin_difference(a: Any, b: Any, prompts: list[Any], batch_size: int) -> tuple[float, float, float]:
    """Max and median |margin difference| between two models on true/false pairs, and median |margin|."""
    rows = [Row(str(i), p) for i, p in enumerate(prompts)]
    logp: list[list[float]] = []
    for lm in (a, b):
        ex = Extractor(lm)
        got = {
            r.key: float(m.logp or 0.0)
            for batch in plan(rows, batch_size)
            for r, m in zip(batch.rows, ex.run(batch), strict=True)
        }
        logp.append([got[str(i)] for i in range(len(rows))])
    margins = [[x[i] - x[i + 1] for i in range(0, len(x), 2)] for x in logp]
    d = [abs(p - q) for p, q in zip(*margins, strict=True)]
    return max(d), statistics.median(d), statistics.median(abs(m) for m in margins[0])


def _ignore(_: Any) -> None:
    pass


if __name__ == "__main__":
    main()
