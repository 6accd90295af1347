"""Does a steering instrument move a model's preference more than random directions of equal norm?

The "use" check for interventions: before any dose is measured per belief, an instrument must beat
random directions. Candidates (smollm2-135m by default, the ``empty`` condition, the statement margin
``logp(true form) − logp(false form)`` as readout, the push added at one layer's residual output over
the statement's tokens shared by both forms):

- ``global``: a mass-mean truth direction (mean last-token state of true forms − of false forms),
  fitted out of fold (two folds; a fact and its declared twin are in the same fold, so a fact's
  direction never saw it or its twin), unit norm, pushed toward *false* by ``dose × SD`` where SD is
  the standard deviation of the layer's residual coordinates over the steered tokens;
- ``displacement``: the fact's own displacement ``h(contradict) − h(empty)`` at the statement's shared
  tokens (the push its contradicting passage causes there), scaled by ``α`` (only where a fact has a
  contradicting passage: the matched set, not ``cities``).

Random directions: ``--draws`` Gaussian directions per layer (global: one unit vector of the same norm
for every fact; displacement: one per position with that position's norm), seeded. Only facts the model
already gets right (margin > 0 unsteered) are steered (``--max-known``: a seeded sample of them, to fit
the time on a CPU): a flip is a steered margin below 0. Doses: 7 each, 0 included
(:data:`GLOBAL_DOSES`, :data:`DISPLACEMENT_DOSES`); one layer per band (:func:`beliefs.intervene.bands`).

THE RULE (fixed before any result was looked at): an instrument is *validated* in a band on a set when
at some dose (a) the share of known facts it flips exceeds the mean share flipped by the random
directions by at least ``RULE_MIN_EXCESS`` (0.25), (b) it exceeds the largest share flipped by any one
random draw, and (c) the 95% fact-bootstrap interval of that excess (2000 resamples) lies above 0. An
instrument is validated for the model when it is validated in at least one band on every set it can
be applied to. Kind labels are never read here.

Writes the table as CSV (``--out``) and prints it. Usage::

    OMP_NUM_THREADS=1 BELIEFS_THREADS=1 nice -n 10 python scripts/validate_steering.py \\
        --cities 80 --max-known 60 --out docs/steering_validation.csv
"""

from __future__ import annotations

import argparse
import csv
import io
import time
from pathlib import Path
from typing import Any

import numpy as np

from beliefs.facts.loader import load_fact_set
from beliefs.fileio import atomic_write_text
from beliefs.inputs.prompts import render, resolve_start_token
from beliefs.intervene.steer import Steerer, bands, steer_positions
from beliefs.models import LoadOptions, load_model
from beliefs.trace.prompts import pair_prompt

ROOT = Path(__file__).resolve().parents[1]
CITIES = ROOT.parent / "shared" / "external" / "geometry_of_truth" / "cities.csv"
MATCHED = ROOT / "fact_sets" / "matched.yaml"
GLOBAL_DOSES = (0.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
"""In units of the layer's residual SD."""
DISPLACEMENT_DOSES = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
"""In units of the displacement's own norm (α = 1: the push the passage itself causes)."""
RULE_MIN_EXCESS = 0.25
BOOTSTRAP = 2000


def city_items(n: int) -> list[dict[str, Any]]:
    """The first ``n`` cities with a true and a false statement (the i-th true and i-th false form of a
    city, as benchmarks/bench_extract.py pairs them); each city is its own group."""
    by_city: dict[str, dict[str, str]] = {}
    with CITIES.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            by_city.setdefault(row["city"], {}).setdefault(row["label"], row["statement"])
    items = [
        {"ref": f"cities/{c}", "statement": v["1"], "false": v["0"], "contradict": None, "group": c}
        for c, v in by_city.items()
        if "1" in v and "0" in v
    ]
    return items[:n]


def matched_items() -> list[dict[str, Any]]:
    """The matched set's facts (statement, false form, contradicting passage, twin group): no kind."""
    facts = load_fact_set(MATCHED).facts
    return [
        {
            "ref": f"matched/{f.id}",
            "statement": f.statement,
            "false": f.false_statement,
            "contradict": f.context("contradict"),
            "group": "|".join(sorted([f.id, f.pair])) if f.pair else f.id,
        }
        for f in facts
    ]


def folds(groups: list[str]) -> np.ndarray:
    """Two folds by group, alternating over the groups in order of first appearance."""
    order = {g: i for i, g in enumerate(dict.fromkeys(groups))}
    return np.array([order[g] % 2 for g in groups])


def last_states(model: Any, start: Any, texts: list[str], batch: int = 32) -> np.ndarray:
    """``(n, L + 1, W)``: every layer's state at each statement's last token (``empty`` condition)."""
    import torch

    out = []
    for lo in range(0, len(texts), batch):
        prompts = [render(model.tokenizer, start, None, t) for t in texts[lo : lo + batch]]
        n = max(len(p.ids) for p in prompts)
        ids = torch.zeros((len(prompts), n), dtype=torch.long)
        mask = torch.zeros((len(prompts), n), dtype=torch.long)
        for b, p in enumerate(prompts):
            ids[b, : len(p.ids)] = torch.tensor(p.ids)
            mask[b, : len(p.ids)] = 1
        with torch.inference_mode():
            hs = model.module(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
        stacked = torch.stack(hs, 1).float()
        out += [stacked[b, :, p.end - 1].numpy() for b, p in enumerate(prompts)]
    return np.stack(out)


def excess_ci(inst: np.ndarray, rand: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """95% fact-bootstrap interval of mean(inst) − mean(rand) (per-fact flip indicators)."""
    diff = inst.astype(float) - rand.astype(float)
    idx = rng.integers(0, len(diff), size=(BOOTSTRAP, len(diff)))
    boots = diff[idx].mean(1)
    return float(np.quantile(boots, 0.025)), float(np.quantile(boots, 0.975))


def evaluate(
    set_name: str,
    instrument: str,
    band: str,
    layer: int,
    doses: tuple[float, ...],
    base: np.ndarray,
    inst: np.ndarray,
    rand: np.ndarray,
    rng: np.random.Generator,
) -> list[dict[str, Any]]:
    """Rows of the table: ``inst`` ``(n, n_doses)``, ``rand`` ``(n, n_doses, draws)`` steered margins."""
    rows = []
    for d, dose in enumerate(doses):
        fi, fr = inst[:, d] < 0, rand[:, d] < 0
        lo, hi = excess_ci(fi, fr.mean(1), rng)
        share_i, share_r, share_rmax = float(fi.mean()), float(fr.mean()), float(fr.mean(0).max())
        rows.append(
            {
                "set": set_name,
                "instrument": instrument,
                "band": band,
                "layer": layer,
                "dose": dose,
                "n_known": len(base),
                "flipped": round(share_i, 4),
                "flipped_random": round(share_r, 4),
                "flipped_random_max": round(share_rmax, 4),
                "excess": round(share_i - share_r, 4),
                "excess_low": round(lo, 4),
                "excess_high": round(hi, 4),
                "dmargin": round(float((inst[:, d] - base).mean()), 4),
                "dmargin_random": round(float((rand[:, d] - base[:, None]).mean()), 4),
                "passes_rule": bool(share_i - share_r >= RULE_MIN_EXCESS and share_i > share_rmax and lo > 0),
            }
        )
    return rows


def run_set(
    steerer: Steerer, model: Any, start: Any, name: str, items: list[dict[str, Any]], args: argparse.Namespace
) -> list[dict[str, Any]]:
    import torch

    tok = model.tokenizer
    t0 = time.perf_counter()
    pairs = [pair_prompt(tok, start, None, it["ref"], it["statement"], it["false"]) for it in items]
    keep = [i for i, p in enumerate(pairs) if p.diff > p.start]
    print(f"{name}: {len(items)} facts, {len(items) - len(keep)} part at their first token (not steerable)")
    items, pairs = [items[i] for i in keep], [pairs[i] for i in keep]
    bases = steerer.base(pairs)
    margins = np.array([b.margin for b in bases])
    known = np.flatnonzero(margins > 0)
    print(f"{name}: {len(known)} of {len(pairs)} known (margin > 0 unsteered)")
    if args.max_known and len(known) > args.max_known:
        known = np.sort(np.random.default_rng(args.seed).choice(known, args.max_known, replace=False))
        print(f"{name}: steering a seeded sample of {len(known)} known facts")
    # the global direction, out of fold, from last-token states of both forms
    fold = folds([it["group"] for it in items])
    st_true = last_states(model, start, [it["statement"] for it in items])
    st_false = last_states(model, start, [it["false"] for it in items])
    rng = np.random.default_rng(args.seed)
    kp = [pairs[i] for i in known]
    kb = [bases[i] for i in known]
    base_known = margins[known]
    # contradicting passages: the displacement at the statement's shared tokens
    disp: dict[int, Any] = {}
    with_ctx = [i for i in known if items[i]["contradict"]]
    if with_ctx:
        cpairs = [
            pair_prompt(
                tok, start, items[i]["contradict"], items[i]["ref"], items[i]["statement"], items[i]["false"]
            )
            for i in with_ctx
        ]
        cbases = steerer.base(cpairs)
        ctx_margins = np.array([c.margin for c in cbases])
        print(
            f"{name}: the contradicting passage itself flips {float((ctx_margins < 0).mean()):.2f} of "
            f"{len(with_ctx)} known facts; mean Δmargin {float((ctx_margins - margins[with_ctx]).mean()):+.2f}"
        )
        for i, cp, cb in zip(with_ctx, cpairs, cbases, strict=True):
            pe, pc = steer_positions(pairs[i]), steer_positions(cp)
            if len(pe) == len(pc):
                disp[i] = (cb.states[:, list(pc)], bases[i].states[:, list(pe)])
    rows: list[dict[str, Any]] = []
    for band, layer in bands(steerer.n_layers).items():
        # --- global truth direction
        sd = float(
            torch.cat([b.states[layer, list(steer_positions(p))] for b, p in zip(kb, kp, strict=True)]).std()
        )
        units = []
        for f in (0, 1):
            train = fold != f
            d = st_true[train, layer].mean(0) - st_false[train, layer].mean(0)
            units.append(d / np.linalg.norm(d))
        rand_dirs = rng.standard_normal((args.draws, model.width))
        rand_dirs /= np.linalg.norm(rand_dirs, axis=1, keepdims=True)
        jobs, where = [], []
        for k, i in enumerate(known):
            for d, dose in enumerate(GLOBAL_DOSES[1:], start=1):
                jobs.append((k, -dose * sd * units[fold[i]]))
                where.append((k, d, -1))
                for r in range(args.draws):
                    jobs.append((k, dose * sd * rand_dirs[r]))
                    where.append((k, d, r))
        res = steerer.steered(kp, kb, layer, [(k, np.asarray(v, dtype=np.float32)) for k, v in jobs])
        inst = np.repeat(base_known[:, None], len(GLOBAL_DOSES), 1)
        rand = np.repeat(inst[:, :, None], args.draws, 2).copy()
        for (k, d, r), m in zip(where, res, strict=True):
            if r < 0:
                inst[k, d] = m
            else:
                rand[k, d, r] = m
        rows += evaluate(name, "global", band, layer, GLOBAL_DOSES, base_known, inst, rand, rng)
        print(f"  {band} (layer {layer}) global done, SD {sd:.3f}, {time.perf_counter() - t0:.0f} s")
        # --- displacement by the contradicting passage
        ks = [k for k, i in enumerate(known) if i in disp]
        if not ks:
            continue
        jobs, where = [], []
        for k in ks:
            c, e = disp[known[k]]
            delta = (c[layer] - e[layer]).numpy()
            norms = np.linalg.norm(delta, axis=1, keepdims=True)
            for d, dose in enumerate(DISPLACEMENT_DOSES[1:], start=1):
                jobs.append((k, dose * delta))
                where.append((k, d, -1))
            for r in range(args.draws):
                g = rng.standard_normal(delta.shape)
                g = g / np.linalg.norm(g, axis=1, keepdims=True) * norms
                for d, dose in enumerate(DISPLACEMENT_DOSES[1:], start=1):
                    jobs.append((k, dose * g))
                    where.append((k, d, r))
        res = steerer.steered(kp, kb, layer, [(k, np.asarray(v, dtype=np.float32)) for k, v in jobs])
        sub = {k: j for j, k in enumerate(ks)}
        inst = np.repeat(base_known[ks][:, None], len(DISPLACEMENT_DOSES), 1)
        rand = np.repeat(inst[:, :, None], args.draws, 2).copy()
        for (k, d, r), m in zip(where, res, strict=True):
            if r < 0:
                inst[sub[k], d] = m
            else:
                rand[sub[k], d, r] = m
        rows += evaluate(
            name, "displacement", band, layer, DISPLACEMENT_DOSES, base_known[ks], inst, rand, rng
        )
        print(f"  {band} (layer {layer}) displacement done, {time.perf_counter() - t0:.0f} s")
    return rows


def verdicts(rows: list[dict[str, Any]]) -> list[str]:
    """The rule applied: per set × instrument × band, and per instrument over the sets it applies to."""
    lines = []
    by: dict[tuple[str, str], dict[str, bool]] = {}
    for r in rows:
        by.setdefault((r["instrument"], r["set"]), {}).setdefault(r["band"], False)
        by[(r["instrument"], r["set"])][r["band"]] |= r["passes_rule"]
    for instrument in dict.fromkeys(k[0] for k in by):
        sets = {s: b for (i, s), b in by.items() if i == instrument}
        for s, b in sets.items():
            lines.append(
                f"{instrument} on {s}: "
                + ", ".join(f"{k} {'passes' if v else 'fails'}" for k, v in b.items())
            )
        ok = all(any(b.values()) for b in sets.values())
        lines.append(f"{instrument}: {'VALIDATED' if ok else 'NOT validated'} (on {', '.join(sets)})")
    return lines


def main() -> None:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--cities", type=int, default=200, help="how many city statements (pairs)")
    ap.add_argument("--limit", type=int, default=0, help="at most this many matched facts (0: all)")
    ap.add_argument(
        "--max-known",
        type=int,
        default=0,
        help="steer a seeded sample of at most this many known facts (0: all)",
    )
    ap.add_argument("--draws", type=int, default=5, help="random directions per layer")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sets", default="matched,cities")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "steering_validation.csv")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    t0 = time.perf_counter()
    model = load_model(args.model, LoadOptions(device="cpu"))
    start = resolve_start_token(model.tokenizer)
    steerer = Steerer(model, batch_size=args.batch)
    rows: list[dict[str, Any]] = []
    for name in args.sets.split(","):
        items = matched_items() if name == "matched" else city_items(args.cities)
        if name == "matched" and args.limit:
            items = items[: args.limit]
        rows += run_set(steerer, model, start, name, items, args)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, buf.getvalue())
    print(buf.getvalue())
    for line in verdicts(rows):
        print(line)
    print(f"{args.model}: {time.perf_counter() - t0:.0f} s in all; table in {args.out}")


if __name__ == "__main__":
    main()
