"""``trace_run``: trace every causal LM of a probed run (controls included) and write ``RUN/trace/``.

Outputs (``RUN/trace/``, written atomically; a rerun replaces them):

- ``facts.csv``: one row per model × condition × fact: ``status`` (``traced`` / ``untraceable``),
  ``reason``, clean and corrupted traced margins, the gap, and the per-fact summaries
  (:data:`beliefs.trace.summary.SUMMARIES`);
- ``profiles.csv``: one row per traced fact × restoration: component, position group, centre layer,
  the restored layers, the restored margin (mean over noise seeds) and the recovered fraction;
- ``trace.json``: settings, the embedding SD and noise SD per model, counts by reason, timings.

The ``causal-trace`` analysis reads them (``beliefs analyze``); they are not in ``RUN/results/``, which
``analyze`` rewrites.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from beliefs.errors import StoreError, UsageError
from beliefs.fileio import atomic_write_text
from beliefs.inputs.prompts import StartToken
from beliefs.trace.core import DEFAULT_SEEDS, DEFAULT_WINDOW, MIN_GAP, centers, restorations, trace_pairs
from beliefs.trace.engine import NOISE_FACTOR, Tracer
from beliefs.trace.prompts import PairPrompt, pair_prompt
from beliefs.trace.summary import DEFINITIONS, SUMMARIES, summarise

TRACE_DIR = "trace"
FACTS_FILE = "facts.csv"
PROFILES_FILE = "profiles.csv"
MANIFEST_FILE = "trace.json"
SCHEMA_VERSION = 1
DEFAULT_STRIDE = 5
"""Centre layers every fifth layer (and the last) by default: with the default window of 5 the MLP and
attention windows then tile the blocks (cost: benchmarks/bench_trace.py and README)."""
DEFAULT_BATCH = 32
"""Packed rows (one per fact × restoration) per forward pass."""
FACT_COLUMNS = (
    "model",
    "control",
    "condition",
    "fact_set",
    "fact_id",
    "domain",
    "kind",
    "status",
    "reason",
    "clean_margin",
    "corrupt_margin",
    "corrupt_sd",
    "gap",
    "n_content",
    *SUMMARIES,
    "peak_recovery",
)
PROFILE_COLUMNS = (
    "model",
    "control",
    "condition",
    "fact_set",
    "fact_id",
    "domain",
    "kind",
    "component",
    "position",
    "layer",
    "layer_low",
    "layer_high",
    "margin",
    "fraction",
)


class TraceProgress:
    """Receives progress; the CLI draws a bar, the default does nothing."""

    def message(self, text: str) -> None:
        """A stage begins."""

    def start(self, label: str, total: int) -> None:
        """A model × condition starts: how many facts."""

    def advance(self, n: int) -> None:
        """``n`` more facts done."""


@dataclass
class TraceResult:
    """What ``trace_run`` wrote."""

    out: Path
    facts: pd.DataFrame
    profiles: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)


def trace_dir(run_path: str | Path) -> Path:
    return Path(run_path) / TRACE_DIR


def code_sha256() -> str:
    """Hash of the tracing code (``beliefs/trace/*.py``)."""
    code = hashlib.sha256()
    for source in sorted(Path(__file__).resolve().parent.glob("*.py")):
        code.update(source.read_bytes())
    return code.hexdigest()


def trace_fingerprint(manifest: dict[str, Any], settings: dict[str, Any], models: Sequence[str]) -> str:
    """Hash of what a trace depends on: the tracing code, the traced models' weights (identity) and
    start tokens, the facts, the conditions and the settings. Not timestamps."""
    entries = manifest.get("models") or {}
    payload = {
        "code": code_sha256(),
        "models": {
            m: {k: entries.get(m, {}).get(k) for k in ("identity", "start_token", "dtype")}
            for m in sorted(models)
        },
        "facts": manifest.get("facts"),
        "conditions": manifest.get("conditions"),
        "settings": settings,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def trace_run(
    run_path: str | Path,
    conditions: Sequence[str] = ("empty",),
    noise_seeds: int = DEFAULT_SEEDS,
    window: int = DEFAULT_WINDOW,
    layers: Sequence[int] | None = None,
    stride: int = DEFAULT_STRIDE,
    batch_size: int = DEFAULT_BATCH,
    models: Sequence[str] | None = None,
    min_gap: float = MIN_GAP,
    device: str = "auto",
    seed: int = 0,
    progress: TraceProgress | None = None,
    controls: bool = True,
    reuse: bool = False,
) -> TraceResult:
    """Trace every causal LM in the run at ``run_path`` (or those named in ``models``) under
    ``conditions``; write ``RUN/trace/`` (see the module docstring) and return the tables.

    ``layers`` are the centre layers (0 = embeddings); by default every ``stride``-th layer and the
    last. ``window`` layers of MLP and attention outputs are restored around each centre; the residual
    state is restored at the centre alone. Noise seeds are ``0..noise_seeds-1``. ``seed`` is the seed
    the run was probed with (it fixes the random-init control's weights; checked against the manifest).
    ``controls=False`` leaves the controls out. With ``reuse``, a ``RUN/trace/`` written from the same
    inputs (:func:`trace_fingerprint`) is returned as it is instead of traced again.
    """
    from beliefs.store import open_run

    hook = progress or TraceProgress()
    if noise_seeds < 1:
        raise UsageError(f"noise seeds should be at least 1, but got {noise_seeds}")
    run_path = Path(run_path)
    if not (run_path / "manifest.json").is_file():
        raise StoreError(f"{run_path}: not a run directory (no manifest.json)")
    run = open_run(run_path)
    manifest = run.manifest
    known = {c["name"]: c for c in manifest["conditions"]}
    missing = [c for c in conditions if c not in known]
    if missing:
        raise UsageError(
            f"condition {', '.join(missing)} is not in {run_path}; conditions: {', '.join(known)}"
        )
    causal = {n: m for n, m in manifest["models"].items() if m["backend"] == "hf"}
    if models:
        unknown = [m for m in models if m not in manifest["models"]]
        if unknown:
            raise UsageError(
                f"model {', '.join(unknown)} is not in {run_path}; models: {', '.join(manifest['models'])}"
            )
        causal = {n: m for n, m in causal.items() if n in models}
    if not controls:
        causal = {n: m for n, m in causal.items() if not m.get("control")}
    if not causal:
        raise UsageError(f"{run_path} has no causal LM to trace (encoders have no next-token margins)")
    settings = {
        "conditions": list(conditions),
        "noise_seeds": noise_seeds,
        "noise_factor": NOISE_FACTOR,
        "window": window,
        "stride": stride if layers is None else None,
        "layers": list(layers) if layers is not None else None,
        "min_gap": min_gap,
        "seed": seed,
    }
    fingerprint = trace_fingerprint(manifest, settings, list(causal))
    if reuse:
        old = read_trace(run_path)
        if old is not None and old[2].get("inputs_sha256") == fingerprint:
            hook.message(f"causal tracing of {run_path} is up to date (same inputs): reusing {TRACE_DIR}/")
            return TraceResult(trace_dir(run_path), old[0], old[1], old[2])
    facts = pd.DataFrame(manifest["facts"])
    contexts = _contexts(manifest, [known[c] for c in conditions])
    seeds = list(range(noise_seeds))
    fact_rows: list[dict[str, Any]] = []
    profile_rows: list[dict[str, Any]] = []
    info: dict[str, Any] = {}
    for name, entry in causal.items():
        t0 = time.perf_counter()
        tracer = _load(entry, name, batch_size, device, seed, hook)
        n_layers = tracer.n_blocks + 1
        centre = list(layers) if layers is not None else centers(n_layers, stride)
        plan = restorations(n_layers, centre, window)
        seconds: dict[str, float] = {"load": round(time.perf_counter() - t0, 2)}
        for cond in conditions:
            t0 = time.perf_counter()
            start = _start_token(entry)
            pairs: list[PairPrompt] = []
            rows: list[pd.Series] = []
            for _, f in facts.iterrows():
                ref = f"{f['fact_set']}/{f['fact_id']}"
                text = known[cond]["prefix"]
                if known[cond]["context"] is not None:
                    text = contexts.get((cond, ref))
                    if text is None:
                        continue
                pairs.append(
                    pair_prompt(
                        tracer.model.tokenizer, start, text, ref, f["statement"], f["false_statement"]
                    )
                )
                rows.append(f)
            hook.start(f"{name} · {cond}", len(pairs))
            traces = trace_pairs(tracer, pairs, plan, seeds, min_gap, advance=hook.advance)
            for f, t in zip(rows, traces, strict=True):
                base = {
                    "model": name,
                    "control": entry.get("control") or "",
                    "condition": cond,
                    **{k: f[k] for k in ("fact_set", "fact_id", "domain", "kind")},
                }
                summary = summarise(t.fraction, plan, n_layers) if t.fraction is not None else {}
                fact_rows.append(
                    {
                        **base,
                        "status": "traced" if t.reason is None else "untraceable",
                        "reason": t.reason or "",
                        "clean_margin": t.clean,
                        "corrupt_margin": t.corrupt,
                        "corrupt_sd": t.corrupt_sd,
                        "gap": t.gap,
                        "n_content": len(t.pair.content) if t.pair.reason is None else 0,
                        **summary,
                    }
                )
                if t.fraction is not None and t.restored is not None:
                    for r, margin, frac in zip(plan, t.restored, t.fraction, strict=True):
                        profile_rows.append(
                            {
                                **base,
                                "component": r.component,
                                "position": r.position,
                                "layer": r.center,
                                "layer_low": min(r.layers),
                                "layer_high": max(r.layers),
                                "margin": float(margin),
                                "fraction": float(frac),
                            }
                        )
            seconds[cond] = round(time.perf_counter() - t0, 2)
        info[name] = {
            "control": entry.get("control"),
            "n_layers": n_layers,
            "layers": centre,
            "embedding_sd": tracer.embed_sd,
            "noise_sd": tracer.noise_sd,
            "starts_mid_model": tracer.arch.entry_ok,
            "n_restorations": len(plan),
            "seconds": seconds,
        }
    out = trace_dir(run_path)
    fact_table = pd.DataFrame(fact_rows).reindex(columns=list(FACT_COLUMNS))
    profile_table = pd.DataFrame(profile_rows, columns=list(PROFILE_COLUMNS))
    counts = (
        fact_table.groupby(["model", "condition", "kind", "status", "reason"]).size().reset_index(name="n")
        if len(fact_table)
        else pd.DataFrame()
    )
    record = {
        "schema_version": SCHEMA_VERSION,
        "inputs_sha256": fingerprint,
        "settings": {**settings, "batch_size": batch_size},
        "models": info,
        "counts": counts.to_dict(orient="records"),
        "definitions": {
            "margin": "logp(true) - logp(false) over the tokens from the first differing token on",
            "fraction": "(margin_restored - margin_corrupt) / (margin_clean - margin_corrupt), restored and "
            "corrupted margins averaged over noise seeds",
            "noise": f"Gaussian, SD = {NOISE_FACTOR:g} x the SD of the embedding outputs over the vocabulary, "
            "added to the content tokens (the statement's shared tokens but the last)",
            **DEFINITIONS,
        },
    }
    atomic_write_text(out / FACTS_FILE, fact_table.to_csv(index=False))
    atomic_write_text(out / PROFILES_FILE, profile_table.to_csv(index=False))
    atomic_write_text(out / MANIFEST_FILE, json.dumps(record, indent=2, default=str))
    return TraceResult(out, fact_table, profile_table, record)


def _load(
    entry: dict[str, Any], name: str, batch_size: int, device: str, seed: int, hook: TraceProgress
) -> Tracer:
    from beliefs.models import LoadOptions, load_model

    spec = (entry.get("info") or {}).get("spec")
    if not spec:
        raise StoreError(f"model '{name}': the run's manifest does not say how it was loaded (info.spec)")
    options = LoadOptions(
        device=device,
        dtype=entry.get("dtype", "float32"),
        control=entry.get("control"),
        seed=seed,
    )
    loaded = load_model(spec, options, progress=hook.message)
    if loaded.identity != entry.get("identity"):
        raise StoreError(
            f"model '{name}': the weights loaded now differ from the run's ({loaded.identity} vs "
            f"{entry.get('identity')}); pass the seed the run was probed with (--seed)"
        )
    return Tracer(loaded, batch_size=batch_size)


def _start_token(entry: dict[str, Any]) -> StartToken:
    s = entry["start_token"]
    return StartToken(s["text"], tuple(s["ids"]), s["source"], tuple(s.get("end_ids", ())))


def _contexts(manifest: dict[str, Any], conds: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """Per-fact context passages of the context conditions asked for, from the run's fact-set files."""
    wanted = [c for c in conds if c["context"] is not None]
    if not wanted:
        return {}
    from beliefs.facts import load_fact_set

    out: dict[tuple[str, str], str] = {}
    for set_name, meta in manifest["fact_sets"].items():
        path = meta.get("path")
        if not path or not Path(path).is_file():
            raise UsageError(
                f"condition {wanted[0]['name']} takes per-fact contexts from fact set '{set_name}', "
                f"but its file {path} is not here"
            )
        for fact in load_fact_set(Path(path)).facts:
            for c in wanted:
                text = fact.context(c["context"])
                if text is not None:
                    out[(c["name"], f"{set_name}/{fact.id}")] = text
    return out


def read_trace(run_path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]] | None:
    """``(facts, profiles, manifest)`` of ``RUN/trace/``, or None where the run was not traced."""
    folder = trace_dir(run_path)
    try:
        facts = pd.read_csv(folder / FACTS_FILE, keep_default_na=False, na_values=[""])
        profiles = pd.read_csv(folder / PROFILES_FILE, keep_default_na=False, na_values=[""])
        record = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return facts, profiles, record
