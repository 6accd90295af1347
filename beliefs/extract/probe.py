"""``probe``: measure models on facts under conditions into a resumable run directory."""

from __future__ import annotations

import contextlib
import importlib.metadata
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from beliefs.errors import ModelError, UsageError
from beliefs.extract.prompts import SEPARATOR, render, resolve_start_token, text_before
from beliefs.extract.runner import Batch, Extractor, Row, plan
from beliefs.schema import EMPTY_CONDITION, Condition, Fact, FactSet
from beliefs.store.keys import entry_key, model_key
from beliefs.store.run import Run, fact_ref

PACKAGES = ("torch", "transformers", "sentence-transformers", "tokenizers", "safetensors", "gguf", "numpy")


class ProgressHook:
    """Receives progress; the CLI draws a bar, the default does nothing."""

    def message(self, text: str) -> None:
        """A stage begins (pulling, loading, a model's extraction)."""

    def start(self, model: str, statements: int, tokens: int, done: int) -> None:
        """A model's extraction starts: totals, and how many statements are already stored."""

    def advance(self, statements: int, tokens: int) -> None:
        """A batch finished."""


@dataclass
class _Job:
    """What to compute for one model: rows per condition, and the keys to record in the manifest."""

    rows: list[Row] = field(default_factory=list)
    entries: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)


def as_facts(facts: Any) -> tuple[list[tuple[str, Fact]], dict[str, dict[str, Any]]]:
    """Accept paths, loaded fact sets, :class:`FactSet` objects or ``(set_name, Fact)`` pairs."""
    items = facts if isinstance(facts, list | tuple) else [facts]
    pairs: list[tuple[str, Fact]] = []
    sets: dict[str, dict[str, Any]] = {}
    for item in items:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Fact):
            pairs.append((str(item[0]), item[1]))
            sets.setdefault(str(item[0]), {"sha256": None, "path": None})
            continue
        if isinstance(item, str | Path):
            from beliefs.facts import load_fact_set

            item = load_fact_set(Path(item))
        if isinstance(item, FactSet) or hasattr(item, "facts"):
            name = str(item.name)
            sets[name] = {
                "sha256": getattr(item, "sha256", None),
                "path": str(getattr(item, "path", "")) or None,
                "n_facts": len(item.facts),
            }
            pairs.extend((name, f) for f in item.facts)
            continue
        raise UsageError(
            f"facts should be paths, fact sets or (set, Fact) pairs, but got {type(item).__name__}"
        )
    refs = [fact_ref(s, f.id) for s, f in pairs]
    dupes = sorted({r for r in refs if refs.count(r) > 1})
    if dupes:
        raise UsageError(f"facts given twice: {', '.join(dupes[:5])}")
    return pairs, sets


def fact_rows(pairs: Sequence[tuple[str, Fact]]) -> list[dict[str, str]]:
    """One dict per fact with the :data:`beliefs.rundata.FACT_COLUMNS`, in the order of ``pairs``."""
    return [
        {
            "fact_set": s,
            "fact_id": f.id,
            "domain": f.domain,
            "kind": f.kind,
            "statement": f.statement,
            "false_statement": f.false_statement,
            "template": f.template or "",
            "pair": f.pair or "",
            "tags": ";".join(f.tags),
        }
        for s, f in pairs
    ]


def as_conditions(conditions: Any) -> tuple[list[Condition], str | None]:
    sha = None
    if isinstance(conditions, str | Path):
        from beliefs.facts import load_conditions

        conditions = load_conditions(Path(conditions))
    if hasattr(conditions, "conditions"):
        sha = getattr(conditions, "sha256", None)
        conditions = conditions.conditions
    conds = list(conditions)
    if not conds or not all(isinstance(c, Condition) for c in conds):
        raise UsageError("conditions should be a conditions file or a non-empty list of Condition objects")
    names = [c.name for c in conds]
    if len(set(names)) != len(names):
        raise UsageError(f"condition names should be unique, but got {names}")
    return sorted(conds, key=lambda c: c.name != EMPTY_CONDITION), sha


def _condition_text(condition: Condition, fact: Fact) -> str | None:
    """The text placed before the statement; None if the fact has no prompt in this condition."""
    if condition.context is not None:
        return fact.context(condition.context)
    return condition.prefix or ""


def _provenance() -> dict[str, Any]:
    versions = {}
    for pkg in ("beliefs", *PACKAGES):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[pkg] = importlib.metadata.version(pkg)
    commit = None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
        commit = done.stdout.strip() or None
    return {"tool_version": versions.pop("beliefs", None), "git_commit": commit, "packages": versions}


def probe(
    model: str | Sequence[str],
    facts: Any,
    conditions: Any,
    out: str | Path,
    control: str | None = None,
    layers: Sequence[int] | None = None,
    batch_size: int = 16,
    device: str = "auto",
    dtype: str = "float32",
    start_token: str | None = None,
    device_map: str | None = None,
    trust_remote_code: bool = False,
    seed: int = 0,
    padding_side: str = "right",
    progress: ProgressHook | None = None,
) -> Run:
    """Measure ``model`` (one or several; with ``control="random-init"`` its control too) on every fact
    in its true and false form under every condition, into the run directory ``out``.

    Reruns resume: what is stored is not recomputed, and results equal an uninterrupted run. Returns the
    run, which gives ``facts()``, ``states(...)`` and ``margins()``.
    """
    from beliefs.models import LoadOptions, load_model

    hook = progress or ProgressHook()
    specs = [model] if isinstance(model, str) else list(model)
    pairs, fact_sets = as_facts(facts)
    conds, conditions_sha = as_conditions(conditions)
    run = Run(Path(out))
    rows = fact_rows(pairs)

    def add_inputs(m: dict[str, Any]) -> None:
        m.update(_provenance())
        known = {fact_ref(r["fact_set"], r["fact_id"]): i for i, r in enumerate(m["facts"])}
        for r in rows:
            ref = fact_ref(r["fact_set"], r["fact_id"])
            if ref in known:
                m["facts"][known[ref]] = r
            else:
                m["facts"].append(r)
        m["fact_sets"].update(fact_sets)
        by_name = {c["name"]: i for i, c in enumerate(m["conditions"])}
        for c in conds:
            record = {"name": c.name, "prefix": c.prefix, "context": c.context, "sha256": conditions_sha}
            if c.name in by_name:
                m["conditions"][by_name[c.name]] = record
            else:
                m["conditions"].append(record)
        m["separator"] = SEPARATOR

    run.update_manifest(add_inputs)
    variants = [None] if control is None else [None, control]
    for spec in specs:
        for variant in variants:
            options = LoadOptions(
                device=device,
                dtype=dtype,
                device_map=device_map,
                trust_remote_code=trust_remote_code,
                control=variant,
                seed=seed,
            )
            loaded = load_model(spec, options, progress=hook.message)
            _probe_one(run, loaded, pairs, conds, layers, batch_size, start_token, padding_side, hook)
    run.write_margins()
    return run


def _probe_one(
    run: Run,
    loaded: Any,
    pairs: list[tuple[str, Fact]],
    conds: list[Condition],
    layers: Sequence[int] | None,
    batch_size: int,
    start_token: str | None,
    padding_side: str,
    hook: ProgressHook,
) -> None:
    extractor = Extractor(loaded, layers, padding_side)
    start = resolve_start_token(loaded.tokenizer, start_token, causal=loaded.causal)
    mkey = model_key(loaded.identity, list(start.ids), extractor.layers)
    job = _Job()
    unnatural = 0
    for condition in conds:
        table: dict[str, dict[str, str]] = {}
        for set_name, fact in pairs:
            text = _condition_text(condition, fact)
            if text is None:
                continue
            keys = {}
            for form, statement in (("true", fact.statement), ("false", fact.false_statement)):
                key = entry_key(mkey, text_before(text), statement, SEPARATOR)
                prompt = render(loaded.tokenizer, start, text, statement)
                unnatural += not prompt.natural
                job.rows.append(Row(key, prompt))
                keys[form] = key
            table[fact_ref(set_name, fact.id)] = keys
        job.entries[condition.name] = table

    def add_model(m: dict[str, Any]) -> None:
        old = m["models"].get(loaded.name, {})
        entries = dict(old.get("entries", {})) if old.get("model_key") == mkey else {}
        for name, table in job.entries.items():
            entries[name] = {**entries.get(name, {}), **table}
        m["models"][loaded.name] = {
            "backend": loaded.backend,
            "n_layers": loaded.n_layers,
            "width": loaded.width,
            "layers": extractor.layers,
            "control": loaded.control,
            "base": loaded.base,
            "identity": loaded.identity,
            "model_key": mkey,
            "dtype": loaded.dtype,
            "device": loaded.device,
            "start_token": start.to_dict(),
            "statements_retokenized": unnatural,
            "info": loaded.info,
            "entries": entries,
        }

    run.update_manifest(add_model)
    batches = plan(job.rows, batch_size)
    todo: list[Batch] = [b for b in batches if not run.has([r.key for r in b.rows])]
    total_rows = sum(len(b.rows) for b in batches)
    hook.start(
        loaded.name,
        total_rows,
        sum(b.n_tokens for b in todo),
        total_rows - sum(len(b.rows) for b in todo),
    )
    for batch in todo:
        try:
            results = extractor.run(batch)
        except ModelError:
            raise
        except (RuntimeError, ValueError, IndexError, TypeError) as exc:
            raise ModelError(f"{loaded.name}: extraction failed: {exc}") from exc
        run.write_entries([r.key for r in batch.rows], results)
        hook.advance(len(batch.rows), batch.n_tokens)


def iter_keys(run: Run) -> Iterable[str]:
    """Every entry key the run's manifest names (for tests and maintenance)."""
    for m in run.manifest["models"].values():
        for table in m["entries"].values():
            for pair in table.values():
                yield from pair.values()
