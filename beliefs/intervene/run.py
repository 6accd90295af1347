"""``ripple_run``: the ripple of every contradicting passage of a run's (or fact sets') facts, to CSV.

Outputs (written atomically into ``out``; for a run directory ``RUN/intervene/`` by default):

- ``ripple_pairs.csv``: one row per fact A × other fact B (:data:`beliefs.intervene.ripple.PAIR_COLUMNS`,
  plus ``model``): which B and why (``self``, ``twin``, ``template``, ``random``), B's margin with no
  prompt, under A's contradicting passage and under the neutral passage, and ``delta``;
- ``ripple_facts.csv``: one row per fact A (:data:`beliefs.intervene.ripple.FACT_COLUMNS`, plus
  ``model``): the spillover, signed and per relation, and A's own ``delta``;
- ``ripple.json``: the settings, the neutral text, the model's identity and the time each stage took.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from beliefs.errors import StoreError, UsageError
from beliefs.fileio import atomic_write_text
from beliefs.intervene.ripple import (
    DEFAULT_RANDOM,
    DEFAULT_SAME_CAP,
    NEUTRAL_TEXT,
    Item,
    PrefixScorer,
    ripple,
)

OUT_DIR = "intervene"
PAIRS_FILE = "ripple_pairs.csv"
FACTS_FILE = "ripple_facts.csv"
MANIFEST_FILE = "ripple.json"


def source_items(sources: Sequence[str | Path]) -> tuple[list[Item], Path | None]:
    """The facts of fact-set files, or of a run directory's fact sets (``(items, run path)``)."""
    from beliefs.facts import load_fact_set

    if not sources:
        raise UsageError("give a run directory or at least one fact-set file")
    paths: list[Path] = []
    run: Path | None = None
    for s in map(Path, sources):
        if s.is_dir():
            manifest = s / "manifest.json"
            if not manifest.is_file():
                raise StoreError(f"{s}: not a run directory (no manifest.json)")
            if len(sources) > 1:
                raise UsageError("give one run directory, or fact-set files, not both")
            run = s
            sets = json.loads(manifest.read_text(encoding="utf-8")).get("fact_sets") or {}
            for name, meta in sets.items():
                path = meta.get("path")
                if not path or not Path(path).is_file():
                    raise UsageError(f"{s}: the file of fact set '{name}' ({path}) is not here")
                paths.append(Path(path))
        elif not s.is_file():
            raise UsageError(f"{s}: no such fact-set file or run directory")
        else:
            paths.append(s)
    items: list[Item] = []
    for path in paths:
        loaded = load_fact_set(path)
        items += [Item(f"{loaded.name}/{f.id}", f) for f in loaded.facts]
    if not any(it.fact.context("contradict") for it in items):
        raise UsageError(f"no fact in {', '.join(map(str, paths))} has a 'contradict' context passage")
    return items, run


def ripple_run(
    sources: Sequence[str | Path],
    model: str,
    out: str | Path | None = None,
    same_cap: int = DEFAULT_SAME_CAP,
    k_random: int = DEFAULT_RANDOM,
    seed: int = 0,
    batch_size: int = 32,
    device: str = "auto",
    limit: int | None = None,
    start: Callable[[int], None] | None = None,
    advance: Callable[[int], None] | None = None,
) -> tuple[Path, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Compute the ripple of ``model`` over the facts of ``sources`` and write it to ``out``.

    ``limit`` keeps the first facts A (all facts stay candidates for B). ``start(n)`` is told how many
    facts A there are, ``advance(1)`` each one done."""
    from beliefs.inputs.prompts import resolve_start_token
    from beliefs.models import LoadOptions, load_model

    if limit is not None and limit < 1:
        raise UsageError(f"limit should be at least 1, but got {limit}")
    items, run = source_items(sources)
    if out is None:
        if run is None:
            raise UsageError("give --out when reading fact-set files (a run directory writes RUN/intervene/)")
        out = run / OUT_DIR
    out = Path(out)
    t0 = time.perf_counter()
    lm = load_model(model, LoadOptions(device=device))
    seconds = {"load": round(time.perf_counter() - t0, 2)}
    scorer = PrefixScorer(lm, resolve_start_token(lm.tokenizer), batch_size=batch_size)
    with_ctx = [it for it in items if it.fact.context("contradict")]
    chosen = with_ctx[:limit] if limit else with_ctx
    keep = {it.ref for it in chosen}
    if start is not None:
        start(len(chosen))
    t0 = time.perf_counter()
    # facts without a contradicting passage, and those past the limit, stay candidates for B
    pairs, facts = ripple(
        scorer,
        [it for it in items if it.ref in keep] + [it for it in items if it.ref not in keep],
        same_cap=same_cap,
        k_random=k_random,
        seed=seed,
        only=keep,
        advance=advance,
    )
    seconds["ripple"] = round(time.perf_counter() - t0, 2)
    pairs.insert(0, "model", lm.name)
    facts.insert(0, "model", lm.name)
    manifest = {
        "model": lm.name,
        "identity": lm.identity,
        "sources": [str(s) for s in sources],
        "settings": {"same_cap": same_cap, "k_random": k_random, "seed": seed, "limit": limit},
        "neutral_text": NEUTRAL_TEXT,
        "n_facts_a": len(facts),
        "n_pairs": len(pairs),
        "seconds": seconds,
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, table in ((PAIRS_FILE, pairs), (FACTS_FILE, facts)):
        buf = io.StringIO()
        table.to_csv(buf, index=False)
        atomic_write_text(out / name, buf.getvalue())
    atomic_write_text(out / MANIFEST_FILE, json.dumps(manifest, indent=2, default=str) + "\n")
    return out, pairs, facts, manifest
