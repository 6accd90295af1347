"""``probe``: measure models on facts under conditions into a resumable run directory."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from beliefs.errors import InvalidInputError, ModelError, Problem, StoreError, UsageError
from beliefs.extract.runner import Batch, Extractor, Row, kept_layers, plan
from beliefs.facts.special import special_token_finder
from beliefs.inputs.facts import as_conditions, as_facts, fact_rows
from beliefs.inputs.prompts import SEPARATOR, render, resolve_start_token, text_before
from beliefs.schema import CONTEXT_KEYS, Condition, Fact
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


def fact_inputs(fact: Fact) -> dict[str, Any]:
    """What a fact's measurements depend on: a digest of its statements and contexts, and which contexts
    it has (so that a reader knows where it has no prompt)."""
    contexts = {k: fact.context(k) for k in CONTEXT_KEYS if fact.context(k) is not None}
    text = json.dumps(
        {"statement": fact.statement, "false_statement": fact.false_statement, "contexts": contexts},
        sort_keys=True,
        ensure_ascii=False,
    )
    return {"sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(), "contexts": sorted(contexts)}


def condition_record(condition: Condition, sha256: str | None) -> dict[str, Any]:
    return {
        "name": condition.name,
        "prefix": condition.prefix,
        "context": condition.context,
        "sha256": sha256,
    }


def _condition_key(record: dict[str, Any]) -> tuple[Any, Any]:
    return record.get("prefix"), record.get("context")


def replace_inputs(
    m: dict[str, Any],
    rows: list[dict[str, str]],
    inputs: dict[str, dict[str, Any]],
    fact_sets: dict[str, dict[str, Any]],
    records: list[dict[str, Any]],
) -> list[str]:
    """Make the manifest ``m`` a run of these facts and conditions; say what changed.

    The fact sets given replace their earlier versions: facts a set no longer has are dropped, and a fact
    whose statements or contexts changed loses every model's entries (they measured the old text), as
    does every fact in a condition whose text changed. Facts of other sets stay. The conditions become
    exactly those given. Stored entry files are never deleted: they are a cache keyed by content.
    """
    given = set(fact_sets)
    old_inputs = m.get("fact_inputs") or {}
    old_refs = {fact_ref(r["fact_set"], r["fact_id"]): r for r in m["facts"]}
    kept = [r for r in m["facts"] if r["fact_set"] not in given]
    kept_refs = {fact_ref(r["fact_set"], r["fact_id"]) for r in kept}
    dropped = [ref for ref, r in old_refs.items() if r["fact_set"] in given and ref not in inputs]
    changed = [ref for ref in inputs if ref in old_refs and old_inputs.get(ref) != inputs[ref]]
    new_conditions = {r["name"]: r for r in records}
    gone = [c["name"] for c in m["conditions"] if c["name"] not in new_conditions]
    edited = [
        c["name"]
        for c in m["conditions"]
        if c["name"] in new_conditions and _condition_key(c) != _condition_key(new_conditions[c["name"]])
    ]
    stale = set(dropped) | set(changed)
    for model in m["models"].values():
        entries = model.get("entries", {})
        for name in [*gone, *edited]:
            entries.pop(name, None)
        for table in entries.values():
            for ref in stale:
                table.pop(ref, None)
    m["facts"] = [*kept, *rows]
    m["fact_inputs"] = {**{r: old_inputs[r] for r in kept_refs if r in old_inputs}, **inputs}
    sets_left = {r["fact_set"] for r in kept}
    m["fact_sets"] = {k: v for k, v in m.get("fact_sets", {}).items() if k in sets_left}
    m["fact_sets"].update(fact_sets)
    m["conditions"] = list(records)
    said = []
    if dropped:
        said.append(
            f"{len(dropped)} fact(s) no longer in the fact set(s) given are dropped from the run "
            f"(e.g. {', '.join(dropped[:3])})"
        )
    if changed and not old_inputs:
        said.append(
            "the run was written by an older beliefs without fact digests: its facts are checked again"
        )
    elif changed:
        said.append(
            f"{len(changed)} fact(s) changed text and are measured again (e.g. {', '.join(changed[:3])})"
        )
    if gone:
        said.append(f"condition(s) not in the conditions given are dropped: {', '.join(gone)}")
    if edited:
        said.append(f"condition(s) whose text changed are measured again: {', '.join(edited)}")
    if (dropped or changed or gone or edited) and m["models"]:
        said.append(
            f"models in the run ({', '.join(m['models'])}) are complete again once each is probed "
            "with these inputs (stored entries are reused)"
        )
    return said


def _condition_text(condition: Condition, fact: Fact) -> str | None:
    """The text placed before the statement; None if the fact has no prompt in this condition."""
    if condition.context is not None:
        return fact.context(condition.context)
    return condition.prefix or ""


def deterministic(device: str) -> dict[str, Any]:
    """Settings that make a rerun on the same machine bit-identical: deterministic kernels, no TF32,
    no cuDNN autotuning, and a fixed intra-op thread count (``BELIEFS_THREADS``, else torch's default,
    recorded in the manifest). Batches are composed from the rows alone (:func:`plan`), never from what
    is already stored, so a resumed run computes every batch as a fresh one would."""
    import os

    import torch

    if device != "cpu":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    from beliefs.settings import settings

    threads = settings().threads
    if threads is not None:
        torch.set_num_threads(threads)
    return {"torch_threads": torch.get_num_threads(), "deterministic_algorithms": True}


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
    shard: tuple[int, int] | None = None,
) -> Run:
    """Measure ``model`` (one or several; with ``control="random-init"`` its control too) on every fact
    in its true and false form under every condition, into the run directory ``out``.

    Reruns resume: what is stored is not recomputed, and results equal an uninterrupted run. Returns the
    run, which gives ``facts()``, ``states(...)`` and ``margins()``.

    ``shard=(i, n)`` computes only the ``i``-th of ``n`` parts (1-based) of each model's batches, so that
    ``n`` processes or machines given the same arguments fill one run between them (:func:`in_shard`);
    :func:`check_run` then confirms it is complete.
    """
    from beliefs.models import CONTROLS, LoadOptions, load_model
    from beliefs.store.guard import check_output_dir

    hook = progress or ProgressHook()
    check_output_dir(Path(out), "run", "--out")
    if batch_size < 1:
        raise UsageError(f"batch size should be at least 1, but got {batch_size}")
    check_shard_spec(shard)
    if padding_side not in ("left", "right"):
        raise UsageError(f"padding side should be left or right, but got {padding_side}")
    if control is not None and control not in CONTROLS:
        raise UsageError(f"control should be one of {', '.join(CONTROLS)}, but got '{control}'")
    LoadOptions(device=device, dtype=dtype, device_map=device_map, seed=seed)  # checks the values
    specs = model_specs(model)
    places: dict[str, tuple[Path | None, int | None]] = {}
    pairs, fact_sets = as_facts(facts, places)
    conditions_path = (
        Path(conditions) if isinstance(conditions, str | Path) else getattr(conditions, "path", None)
    )
    conds, conditions_sha = as_conditions(conditions)
    run = Run(Path(out))
    rows = fact_rows(pairs)

    inputs = {fact_ref(s, f.id): fact_inputs(f) for s, f in pairs}
    records = [condition_record(c, conditions_sha) for c in conds]
    changes: list[str] = []

    def add_inputs(m: dict[str, Any]) -> None:
        m.update(_provenance())
        changes.extend(replace_inputs(m, rows, inputs, fact_sets, records))
        m["separator"] = SEPARATOR

    settings = deterministic(device)
    run.update_manifest(add_inputs)
    for change in changes:
        hook.message(f"{run.path}: {change}")
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
                weights=False,  # the weights load only if something is left to compute
            )
            loaded = load_model(spec, options, progress=hook.message)
            full = replace(options, weights=True)
            _probe_one(
                run,
                loaded,
                pairs,
                conds,
                layers,
                batch_size,
                start_token,
                padding_side,
                hook,
                inputs,
                records,
                settings,
                shard,
                reload=partial(load_model, spec, full, progress=hook.message),
                places=(places, conditions_path),
            )
    run.write_margins()
    return run


MAX_SHARDS = 100_000


def check_shard_spec(shard: tuple[int, int] | None) -> None:
    """Refuse a shard that is not ``(i, n)`` with ``1 <= i <= n <= MAX_SHARDS``."""
    if shard is None:
        return
    i, n = shard
    if not 1 <= n <= MAX_SHARDS or not 1 <= i <= n:
        raise UsageError(f"shard should be I/N with 1 <= I <= N <= {MAX_SHARDS}, but got {i}/{n}")


def in_shard(index: int, shard: tuple[int, int] | None) -> bool:
    """Whether batch ``index`` of a model's plan belongs to ``shard``: batches are dealt round-robin.

    The plan (:func:`plan`) depends on the rows alone, so every shard given the same arguments sees the
    same batches; each batch is computed by exactly one shard and exactly as one process would compute it,
    so the shards' store equals a single process's, entry files included. Dealing whole batches (not
    facts) keeps a fact's true and false forms on their shared cached prefix, and round-robin over the
    length-sorted plan gives each shard a similar number of tokens.
    """
    return shard is None or index % shard[1] == shard[0] - 1


def model_specs(model: Any) -> list[str]:
    """``model`` as a list of names: one name, or a non-empty list of them; a :class:`UsageError` saying
    what was expected and what came otherwise."""
    specs = [model] if isinstance(model, str) else model
    if isinstance(specs, list | tuple) and specs and all(isinstance(m, str) and m.strip() for m in specs):
        return list(specs)
    raise UsageError(
        "model should be a model name (such as 'smollm2-135m', 'hf:ORG/NAME' or a folder) or a non-empty "
        f"list of them, but got {type(model).__name__} {_short(model)}"
    )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_run(
    model: str | Sequence[str],
    facts: Any,
    conditions: Any,
    out: str | Path,
    control: str | None = None,
) -> Run:
    """Merge and check a run filled by shards (or any probe): it holds these facts and conditions as
    given, every model named (and its control), and every needed entry, whole. Rewrites ``margins.csv``
    from everything stored, then raises :class:`StoreError` naming what is missing or differs."""
    from beliefs.models import CONTROLS, resolve
    from beliefs.models.base import control_name
    from beliefs.store.run import open_run

    if control is not None and control not in CONTROLS:
        raise UsageError(f"control should be one of {', '.join(CONTROLS)}, but got '{control}'")
    specs = model_specs(model)
    pairs, _ = as_facts(facts)
    conds, _ = as_conditions(conditions)
    run = open_run(out)
    run.write_margins()  # under the lock, from the manifest on disk and every shard stored
    m = run.manifest
    problems: list[str] = []
    stored = m.get("fact_inputs") or {}
    differ = [ref for s, f in pairs if stored.get(ref := fact_ref(s, f.id)) != fact_inputs(f)]
    if differ:
        problems.append(
            f"{len(differ)} fact(s) given are absent from the run or differ from what it measured "
            f"(e.g. {', '.join(differ[:3])})"
        )
    ours = {c.name: _condition_key(condition_record(c, None)) for c in conds}
    theirs = {c["name"]: _condition_key(c) for c in m["conditions"]}
    if ours != theirs:
        problems.append(f"its conditions ({', '.join(theirs)}) are not those given ({', '.join(ours)})")
    variants = [None] if control is None else [None, control]
    names = [control_name(resolve(spec)[0], v) for spec in specs for v in variants]
    absent = [n for n in names if n not in m["models"]]
    if absent:
        problems.append(f"model(s) never probed into it: {', '.join(absent)}")
    try:
        run.check_complete()
    except StoreError as exc:
        problems.append(str(exc).removeprefix(f"{run.path}: "))
    if problems:
        raise StoreError(
            f"{run.path}: not complete: {'; '.join(problems)}. Rerun the shards that failed, or the same "
            "probe without --shard (it computes only what is missing), then check again"
        )
    return run


class PromptProblems:
    """Every prompt the model cannot take, collected so that one message lists them all, each located
    in the file at fault: a special token in a statement or context (the fact set) or in a prefix (the
    conditions file), a prompt longer than the model's context. An input error (exit 1), not usage."""

    def __init__(self, model: str, places: tuple[dict[str, tuple[Path | None, int | None]], Path | None]):
        self.model = model
        self.facts, self.conditions_path = places
        self.problems: list[Problem] = []
        self._prefixes: set[str] = set()

    def _fact(self, ref: str, message: str, field: str | None) -> Problem:
        path, line = self.facts.get(ref, (None, None))
        return Problem(path or Path(ref.split("/")[0]), message, line, fact_id=ref, field=field)

    def special(
        self,
        condition: Condition,
        ref: str,
        form: str,
        text: str,
        statement: str,
        finder: Callable[[str], Any],
    ) -> bool:
        found = False
        why = f"a special token of {self.model}'s tokenizer; it would be read as a control token, not text. Reword it"
        if condition.prefix and (specials := finder(condition.prefix)):
            found = True
            if condition.name not in self._prefixes:
                self._prefixes.add(condition.name)
                self.problems.append(
                    Problem(
                        self.conditions_path or Path("conditions"),
                        f"the prefix contains {', '.join(specials)}, {why}",
                        fact_id=condition.name,
                        field="prefix",
                        subject="condition",
                    )
                )
        elif condition.context and (specials := finder(text)):
            found = True
            self.problems.append(
                self._fact(
                    ref, f"the context contains {', '.join(specials)}, {why}", f"contexts.{condition.context}"
                )
            )
        if specials := finder(statement):
            found = True
            field = "statement" if form == "true" else "false_statement"
            self.problems.append(
                self._fact(ref, f"the {field.replace('_', ' ')} contains {', '.join(specials)}, {why}", field)
            )
        return found

    def too_long(self, condition: Condition, ref: str, form: str, n: int, limit: int) -> None:
        self.problems.append(
            self._fact(
                ref,
                f"in condition '{condition.name}' the {form} form's prompt has {n} tokens, more than "
                f"{self.model} takes ({limit}); shorten the statement or the condition's text",
                "statement" if form == "true" else "false_statement",
            )
        )

    def raise_any(self) -> None:
        if self.problems:
            unique = list(dict.fromkeys(self.problems))
            raise InvalidInputError(unique)


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
    inputs: dict[str, dict[str, Any]],
    records: list[dict[str, Any]],
    settings: dict[str, Any],
    shard: tuple[int, int] | None = None,
    reload: Callable[[], Any] | None = None,
    places: tuple[dict[str, tuple[Path | None, int | None]], Path | None] = ({}, None),
) -> None:
    """Plan ``loaded``'s entries, record them in the manifest and compute those not stored. ``loaded``
    may come without weights (``module`` None): if every planned entry is stored under the same model
    key the manifest already records, only the entries are recorded (the rest of the model's record,
    which says how they were computed, is kept); else ``reload()`` loads the weights."""
    kept = kept_layers(loaded, layers)
    start = resolve_start_token(loaded.tokenizer, start_token, causal=loaded.causal)
    mkey = model_key(loaded.identity, list(start.ids), kept)
    job = _Job()
    unnatural = 0
    limit = loaded.max_positions
    special_tokens_in = special_token_finder(loaded.tokenizer)
    problems = PromptProblems(loaded.name, places)
    for condition in conds:
        table: dict[str, dict[str, str]] = {}
        for set_name, fact in pairs:
            text = _condition_text(condition, fact)
            if text is None:
                continue
            keys = {}
            for form, statement in (("true", fact.statement), ("false", fact.false_statement)):
                ref = fact_ref(set_name, fact.id)
                found = problems.special(condition, ref, form, text, statement, special_tokens_in)
                key = entry_key(mkey, text_before(text), statement, SEPARATOR)
                if found:
                    continue
                try:
                    prompt = render(loaded.tokenizer, start, text, statement)
                except ModelError as exc:
                    where = f"fact '{ref}' ({form} form) in condition '{condition.name}'"
                    raise ModelError(f"{where}: {exc}") from None
                if limit is not None and len(prompt.ids) > limit:
                    problems.too_long(condition, ref, form, len(prompt.ids), limit)
                    continue
                unnatural += not prompt.natural
                job.rows.append(Row(key, prompt))
                keys[form] = key
            table[fact_ref(set_name, fact.id)] = keys
        job.entries[condition.name] = table
    problems.raise_any()

    batches = [b for i, b in enumerate(plan(job.rows, batch_size)) if in_shard(i, shard)]
    todo: list[Batch] = [b for b in batches if not run.has([r.key for r in b.rows])]
    recorded = [False]

    def add_model(m: dict[str, Any]) -> None:
        ours = {k: _condition_key(r) for k, r in ((r["name"], r) for r in records)}
        theirs = {c["name"]: _condition_key(c) for c in m["conditions"]}
        if any(m.get("fact_inputs", {}).get(ref) != value for ref, value in inputs.items()) or ours != theirs:
            raise StoreError(
                f"{run.path}: another probe changed the run's facts or conditions while this one ran; "
                "probe one fact set and conditions file into a run at a time, then rerun this command"
            )
        old = m["models"].get(loaded.name, {})
        entries = dict(old.get("entries", {})) if old.get("model_key") == mkey else {}
        for name, table in job.entries.items():
            entries[name] = {**entries.get(name, {}), **table}
        if loaded.module is None:
            # nothing to compute: the entries (and how the statements tokenize) are recorded, and how the
            # stored entries were computed (device, threads, batch size, architecture) is kept
            if old.get("model_key") == mkey:
                m["models"][loaded.name] = {
                    **old,
                    "start_token": start.to_dict(),
                    "statements_retokenized": unnatural,
                    "entries": entries,
                }
                recorded[0] = True
            return
        m["models"][loaded.name] = {
            "backend": loaded.backend,
            "n_layers": loaded.n_layers,
            "width": loaded.width,
            "layers": kept,
            "control": loaded.control,
            "base": loaded.base,
            "identity": loaded.identity,
            "model_key": mkey,
            "dtype": loaded.dtype,
            "device": loaded.device,
            "start_token": start.to_dict(),
            "statements_retokenized": unnatural,
            "extraction": {**settings, "batch_size": batch_size},
            "info": loaded.info,
            "entries": entries,
        }

    if loaded.module is None:
        if not todo:
            run.update_manifest(add_model)
        if not recorded[0]:  # entries to compute, or a model key the run does not record yet
            if reload is None:
                raise ModelError(f"{loaded.name}: loaded without weights, but entries are left to compute")
            _probe_one(
                run,
                reload(),
                pairs,
                conds,
                layers,
                batch_size,
                start_token,
                padding_side,
                hook,
                inputs,
                records,
                settings,
                shard,
            )
            return
    else:
        run.update_manifest(add_model)
    extractor = None if loaded.module is None else Extractor(loaded, layers, padding_side)
    total_rows = sum(len(b.rows) for b in batches)
    hook.start(
        loaded.name,
        total_rows,
        sum(b.n_tokens for b in todo),
        total_rows - sum(len(b.rows) for b in todo),
    )
    for batch in todo:
        assert extractor is not None
        try:
            results = extractor.run(batch)
        except ModelError:
            raise
        except (RuntimeError, ValueError, IndexError, TypeError) as exc:
            raise ModelError(f"{loaded.name}: extraction failed: {exc}") from exc
        run.write_entries([r.key for r in batch.rows], results)
        hook.advance(len(batch.rows), batch.n_tokens)
