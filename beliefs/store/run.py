"""A run directory: ``manifest.json``, safetensors files of entries, ``margins.csv``.

Layout::

    manifest.json              what was measured, how, with what (schema_version 1)
    entries/<hash>.safetensors one computed batch: tensors ``<key>.last`` / ``<key>.mean``,
                               metadata ``entries`` = JSON {key: {logp, n_tokens}}
    margins.csv                one row per (model, fact, condition) for causal LMs
    .lock                      advisory lock for manifest and margins.csv updates

Every file is written beside its place and renamed into it, so a reader (or a resumed run after
``kill -9``) sees a whole entry file or none. Entries are keyed by content hashes (:mod:`beliefs.store.keys`),
so two runs writing the same store at once, or a rerun, only ever add identical entries.

The manifest says what the run is for: its ``facts`` (with ``fact_inputs``, a digest of the text each
measurement depends on) and ``conditions``, and per model the entry keys of every fact × condition ×
form. :meth:`Run.check_complete` refuses a run in which a needed entry is absent or an entry file is damaged
(its size disagrees with its header, or its data with the sha256 in its metadata).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import struct
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from beliefs.errors import StoreError
from beliefs.fileio import atomic_write_bytes, atomic_write_text, file_lock
from beliefs.rundata import FACT_COLUMNS, FORMS, MARGIN_COLUMNS, OPTIONAL_FACT_COLUMNS, POOLINGS, ModelInfo
from beliefs.schema import KINDS

MANIFEST = "manifest.json"
MARGINS = "margins.csv"
ENTRIES = "entries"
SCHEMA_VERSION = 1
KIND = "beliefs-run"
ENTRY_FILE_FORMAT = "2"
"""Entry files of format 2 carry the sha256 of their tensors in their metadata; format 1 only a size check."""
MODEL_FIELDS: dict[str, type] = {"backend": str, "layers": list, "width": int, "entries": dict}


def fact_ref(fact_set: str, fact_id: str) -> str:
    return f"{fact_set}/{fact_id}"


class Run:
    """A run directory; implements :class:`beliefs.rundata.RunData`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._index: dict[str, Path] = {}
        self._scanned: set[str] = set()
        self._meta: dict[str, dict[str, Any]] = {}
        self._unreadable: set[Path] = set()
        self._manifest: dict[str, Any] | None = None

    # -- manifest --------------------------------------------------------------------------------------
    @property
    def manifest(self) -> dict[str, Any]:
        if self._manifest is None:
            self._manifest = self._read_manifest()
        return self._manifest

    def _read_manifest(self) -> dict[str, Any]:
        file = self.path / MANIFEST
        try:
            data = json.loads(file.read_text())
        except FileNotFoundError:
            raise StoreError(f"{self.path}: not a run directory (no {MANIFEST})") from None
        except (OSError, ValueError) as exc:
            raise StoreError(f"{file}: unreadable manifest: {exc}") from exc
        if (
            not isinstance(data, dict)
            or data.get("kind") != KIND
            or data.get("schema_version") != SCHEMA_VERSION
        ):
            got = (data.get("schema_version"), data.get("kind")) if isinstance(data, dict) else (None, None)
            raise StoreError(
                f"{file}: not a beliefs run manifest (schema_version should be {SCHEMA_VERSION} of kind "
                f"'{KIND}', but got {'none' if got[0] is None else repr(got[0])} of kind "
                f"{'none' if got[1] is None else repr(got[1])})"
            )
        check_manifest(data, file)
        return dict(data)

    def update_manifest(self, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Read, change and rewrite the manifest under the run's lock (safe with concurrent writers)."""
        self.path.mkdir(parents=True, exist_ok=True)
        with file_lock(self.path / ".lock"):
            file = self.path / MANIFEST
            data = self._read_manifest() if file.exists() else _new_manifest()
            change(data)
            data[FACTS_DIGEST] = facts_digest(data)
            data["updated"] = _now()
            atomic_write_text(file, json.dumps(data, indent=1, ensure_ascii=False))
        self._manifest = data
        return data

    # -- entries ---------------------------------------------------------------------------------------
    def _scan(self) -> None:
        folder = self.path / ENTRIES
        if not folder.is_dir():
            return
        from safetensors import safe_open

        for file in sorted(folder.glob("[!.]*.safetensors")):
            if file.name in self._scanned:
                continue
            try:
                with safe_open(str(file), framework="np") as f:
                    meta = json.loads((f.metadata() or {})["entries"])
            except Exception:  # an unreadable entry file is treated as absent and recomputed
                self._unreadable.add(file)
                continue
            self._unreadable.discard(file)
            self._scanned.add(file.name)
            for key, value in meta.items():
                self._index.setdefault(key, file)
                self._meta.setdefault(key, value)

    def has(self, keys: Sequence[str]) -> bool:
        """True if every key has a stored entry."""
        if any(k not in self._index for k in keys):
            self._scan()
        return all(k in self._index for k in keys)

    def write_entries(self, keys: Sequence[str], measurements: Sequence[Any]) -> Path:
        """Write one entry file atomically: pooled states and log-probs of ``keys``."""
        from safetensors.numpy import save

        tensors: dict[str, np.ndarray] = {}
        meta: dict[str, dict[str, Any]] = {}
        for key, m in zip(keys, measurements, strict=True):
            tensors[f"{key}.last"] = np.ascontiguousarray(m.last, dtype=np.float32)
            tensors[f"{key}.mean"] = np.ascontiguousarray(m.mean, dtype=np.float32)
            meta[key] = {"logp": m.logp, "n_tokens": m.n_tokens}
        name = hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:24]
        file = self.path / ENTRIES / f"{name}.safetensors"
        metadata = {
            "entries": json.dumps(meta, sort_keys=True),
            "format": ENTRY_FILE_FORMAT,
            "sha256": tensors_sha256(tensors),
        }
        atomic_write_bytes(file, sorted_metadata(save(tensors, metadata=metadata)))
        self._scanned.add(file.name)
        for key in keys:
            self._index.setdefault(key, file)
            self._meta[key] = meta[key]
        return file

    def _load(self, keys: list[str | None], pooling: str, shape: tuple[int, int]) -> np.ndarray:
        from safetensors import safe_open

        self._scan()
        out = np.full((len(keys), *shape), np.nan, dtype=np.float32)
        by_file: dict[Path, list[tuple[int, str]]] = {}
        for i, key in enumerate(keys):
            if key is not None and key in self._index:
                by_file.setdefault(self._index[key], []).append((i, key))
        for file, items in by_file.items():
            with safe_open(str(file), framework="np") as f:
                for i, key in items:
                    out[i] = f.get_tensor(f"{key}.{pooling}")
        return out

    # -- RunData ---------------------------------------------------------------------------------------
    def models(self) -> list[ModelInfo]:
        return [
            ModelInfo(
                name=name,
                backend=m["backend"],
                n_layers=len(m["layers"]),
                width=m["width"],
                control=m.get("control"),
                base=m.get("base"),
            )
            for name, m in self.manifest["models"].items()
        ]

    def conditions(self) -> list[str]:
        names = [c["name"] for c in self.manifest["conditions"]]
        return sorted(names, key=lambda n: n != "empty")

    def facts(self) -> pd.DataFrame:
        rows = self.manifest["facts"]
        # template, pair and tags are "" in manifests written before they existed
        return pd.DataFrame(
            [{c: r.get(c, "") for c in FACT_COLUMNS} for r in rows], columns=list(FACT_COLUMNS)
        )

    def _model(self, model: str) -> dict[str, Any]:
        try:
            return dict(self.manifest["models"][model])
        except KeyError:
            known = ", ".join(self.manifest["models"]) or "none"
            raise KeyError(f"no model '{model}' in run {self.path}; models: {known}") from None

    def _keys(self, model: str, condition: str, form: str) -> list[str | None]:
        m = self._model(model)
        if condition not in self.conditions():
            raise KeyError(f"no condition '{condition}' in run {self.path}; conditions: {self.conditions()}")
        if form not in FORMS:
            raise KeyError(f"form should be one of {FORMS}, but got '{form}'")
        table = m["entries"].get(condition, {})
        return [
            table.get(fact_ref(r["fact_set"], r["fact_id"]), {}).get(form) for r in self.manifest["facts"]
        ]

    def states(self, model: str, condition: str, form: str, pooling: str = "last") -> np.ndarray:
        if pooling not in POOLINGS:
            raise KeyError(f"pooling should be one of {POOLINGS}, but got '{pooling}'")
        m = self._model(model)
        return self._load(self._keys(model, condition, form), pooling, (len(m["layers"]), m["width"]))

    def margins(self) -> pd.DataFrame:
        self._scan()
        rows = []
        facts = self.manifest["facts"]
        for name, m in self.manifest["models"].items():
            if m["backend"] != "hf":
                continue
            for condition in self.conditions():
                table = m["entries"].get(condition, {})
                for f in facts:
                    pair = table.get(fact_ref(f["fact_set"], f["fact_id"]))
                    if not pair or pair["true"] not in self._meta or pair["false"] not in self._meta:
                        continue
                    t, fa = self._meta[pair["true"]], self._meta[pair["false"]]
                    rows.append(
                        {
                            "model": name,
                            "fact_set": f["fact_set"],
                            "fact_id": f["fact_id"],
                            "domain": f["domain"],
                            "kind": f["kind"],
                            "condition": condition,
                            "logp_true": t["logp"],
                            "logp_false": fa["logp"],
                            "margin": t["logp"] - fa["logp"],
                            "n_tokens_true": t["n_tokens"],
                            "n_tokens_false": fa["n_tokens"],
                        }
                    )
        return pd.DataFrame(rows, columns=list(MARGIN_COLUMNS))

    def write_margins(self) -> Path:
        """Write ``margins.csv`` atomically, under the run's lock, from the manifest as it is on disk
        (not this process's copy: another probe may have changed it meanwhile)."""
        file = self.path / MARGINS
        with file_lock(self.path / ".lock"):
            self._manifest = self._read_manifest()
            atomic_write_text(file, self.margins().to_csv(index=False))
        return file

    # -- integrity ---------------------------------------------------------------------------------------
    def needed(self) -> list[tuple[str, str, str]]:
        """``(model, condition, fact ref)`` triples an analysis of the whole run reads (both forms of each).
        A fact is needed in a condition unless the condition places a context the fact does not have."""
        m = self.manifest
        inputs = m.get("fact_inputs")
        refs = [fact_ref(r["fact_set"], r["fact_id"]) for r in m["facts"]]
        out: list[tuple[str, str, str]] = []
        for cond in m["conditions"]:
            name, ctx = cond["name"], cond.get("context")
            if inputs is not None:
                wanted = [r for r in refs if ctx is None or ctx in (inputs.get(r) or {}).get("contexts", [])]
            elif ctx is None:
                wanted = refs
            else:  # a run written before fact_inputs: what any model measured is what all need
                have = set().union(*(set(x["entries"].get(name, {})) for x in m["models"].values()))
                wanted = [r for r in refs if r in have]
            for model in m["models"]:
                out.extend((model, name, ref) for ref in wanted)
        return out

    def changed_sources(self) -> list[str]:
        """Fact-set files whose content changed since they were probed into this run (by sha256)."""
        out = []
        for name, info in (self.manifest.get("fact_sets") or {}).items():
            path, sha = (info or {}).get("path"), (info or {}).get("sha256")
            if not path or not sha:
                continue
            try:
                text = self._source(path).read_bytes().decode("utf-8").removeprefix("\ufeff")
            except (OSError, UnicodeDecodeError):
                continue
            now = hashlib.sha256(text.encode("utf-8")).hexdigest()  # as the loader hashes a set
            if now != sha:
                out.append(f"{path} (set '{name}')")
        return out

    def _source(self, path: str) -> Path:
        """A recorded fact-set path: absolute since they are stored so; a relative one (older runs) is
        tried from the current folder, then from the run's parent folder."""
        p = Path(path)
        if p.is_absolute() or p.exists():
            return p
        return self.path.parent / p

    def facts_in(self, condition: str) -> list[bool]:
        """Whether each fact (in :meth:`facts` order) has a prompt in ``condition``."""
        refs = {ref for _, c, ref in self.needed() if c == condition}
        return [fact_ref(r["fact_set"], r["fact_id"]) in refs for r in self.manifest["facts"]]

    def check_facts(self) -> None:
        """Refuse (:class:`StoreError`) a manifest whose facts were changed after the probe wrote them: the
        rows against the digest written with them, and each statement against the key of what was measured
        for it (under every condition with fixed text, ``empty`` included). Names the facts and fields."""
        m = self.manifest
        file = self.path / MANIFEST
        recorded = m.get(FACTS_DIGEST)
        if recorded is not None and recorded != facts_digest(m):
            raise StoreError(
                f"{file}: the facts were changed after the probe wrote them (their digest differs); the "
                "entries measure the facts as probed. Probe the fact set again into a new run"
            )
        from beliefs.store.keys import entry_key

        separator = m.get("separator", "\n")
        fixed = [(c["name"], c.get("prefix") or "") for c in m["conditions"] if c.get("context") is None]
        wrong: dict[str, list[str]] = {}
        for model in m["models"].values():
            mkey = model.get("model_key")
            if not isinstance(mkey, str):
                continue
            for name, prefix in fixed:
                table = model["entries"].get(name, {})
                for row in m["facts"]:
                    ref = fact_ref(row["fact_set"], row["fact_id"])
                    keys = table.get(ref) or {}
                    for form, column in (("true", "statement"), ("false", "false_statement")):
                        key = keys.get(form)
                        if key is not None and key != entry_key(
                            mkey, prefix + separator if prefix else "", row[column], separator
                        ):
                            wrong.setdefault(ref, [])
                            if column not in wrong[ref]:
                                wrong[ref].append(column)
        if wrong:
            shown = "; ".join(
                f"fact '{ref}', field {', '.join(cols)}" for ref, cols in list(wrong.items())[:5]
            )
            raise StoreError(
                f"{file}: {len(wrong)} fact(s) do not match what was measured for them ({shown}"
                f"{' …' if len(wrong) > 5 else ''}): the manifest was edited after the probe. Probe the fact "
                "set again into a new run"
            )

    def check_complete(self) -> None:
        """Refuse (:class:`StoreError`) a run that cannot be analysed as it says: facts changed after the
        probe (:meth:`check_facts`), no models or facts, a needed fact × condition × form × model absent,
        or an entry file damaged. The message names them."""
        self.check_facts()
        m = self.manifest
        if not m["facts"]:
            raise StoreError(f"{self.path}: the run has no facts; probe a fact set into it first")
        if not m["models"]:
            raise StoreError(f"{self.path}: the run has no measured models; run beliefs probe first")
        self._scan()
        missing: dict[str, list[str]] = {}
        files: set[Path] = set()
        for model, condition, ref in self.needed():
            pair = self.manifest["models"][model]["entries"].get(condition, {}).get(ref) or {}
            for form in FORMS:
                key = pair.get(form)
                if key is None or key not in self._index:
                    missing.setdefault(model, []).append(f"{ref} ({condition}, {form})")
                else:
                    files.add(self._index[key])
        damaged = [f"{p.name}: unreadable" for p in sorted(self._unreadable)]
        damaged += [f"{p.name}: {why}" for p in sorted(files) if (why := check_entry_file(p)) is not None]
        if damaged:
            raise StoreError(
                f"{self.path}: {len(damaged)} damaged entry file(s): {'; '.join(damaged[:3])}"
                f"{' …' if len(damaged) > 3 else ''}. Delete them and rerun the probe to measure them again"
            )
        if missing:
            parts = [
                f"{model}: {len(items)} missing, e.g. {', '.join(items[:3])}"
                for model, items in missing.items()
            ]
            raise StoreError(
                f"{self.path}: measurements missing ({'; '.join(parts)}). Rerun beliefs probe (or beliefs "
                "study) with these models, the run's fact sets and conditions to complete it"
            )

    def missing(self, model: str | None = None) -> int:
        """How many entries named in the manifest are not stored yet."""
        self._scan()
        n = 0
        for name, m in self.manifest["models"].items():
            if model is None or name == model:
                for table in m["entries"].values():
                    for pair in table.values():
                        n += sum(1 for k in pair.values() if k not in self._index)
        return n


FACTS_DIGEST = "facts_sha256"
"""Manifest field: a digest of its ``facts`` rows and ``fact_inputs``, written with them."""


def facts_digest(manifest: dict[str, Any]) -> str:
    """The digest of a manifest's facts (rows and inputs) that :meth:`Run.check_facts` checks."""
    payload = {"facts": manifest.get("facts"), "fact_inputs": manifest.get("fact_inputs")}
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def tensors_sha256(tensors: dict[str, np.ndarray]) -> str:
    """A digest of named float32 arrays (names and bytes, in name order): what an entry file must still
    hold."""
    h = hashlib.sha256()
    for name in sorted(tensors):
        h.update(name.encode())
        h.update(np.ascontiguousarray(tensors[name], dtype=np.float32).tobytes())
    return h.hexdigest()


def sorted_metadata(blob: bytes) -> bytes:
    """A safetensors file with its metadata keys in sorted order, so that two writers of the same entry
    write the same bytes (safetensors writes them in a hash map's order, which differs between runs).

    Only the header's key order changes, to the same length (else ``blob`` is returned as it is)."""
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n])
    meta = header.get("__metadata__")
    if not isinstance(meta, dict):
        return blob
    header["__metadata__"] = dict(sorted(meta.items()))
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if len(text) != len(blob[8 : 8 + n].rstrip(b" ")):
        return blob
    return blob[:8] + text.ljust(n, b" ") + blob[8 + n :]


def check_entry_file(path: Path) -> str | None:
    """None if the entry file is whole, else what is wrong: its size against its header, then (format 2) the
    sha256 of its tensors against the one recorded when it was written."""
    from safetensors import safe_open

    try:
        with path.open("rb") as f:
            head = f.read(8)
            if len(head) < 8:
                return "truncated (no header)"
            (n,) = struct.unpack("<Q", head)
            header = json.loads(f.read(n))
        end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0)
        size = path.stat().st_size
        if size != 8 + n + end:
            return f"size {size} bytes, but its header says {8 + n + end}"
        meta = header.get("__metadata__") or {}
        if meta.get("format") != ENTRY_FILE_FORMAT:
            return None
        with safe_open(str(path), framework="np") as st:
            digest = tensors_sha256({k: st.get_tensor(k) for k in st.keys()})  # noqa: SIM118
        if digest != meta.get("sha256"):
            return "its data do not match the sha256 recorded when it was written"
    except (OSError, ValueError, KeyError, TypeError, struct.error) as exc:
        return f"unreadable ({exc})"
    return None


def check_manifest(data: dict[str, Any], file: Path) -> None:
    """Refuse a manifest of the wrong shape, naming the field: every later reader trusts these."""

    def bad(where: str, expected: str, got: Any) -> StoreError:
        return StoreError(f"{file}: {where} should be {expected}, but got {json.dumps(got)[:80]}")

    shapes: tuple[tuple[str, type], ...] = (("facts", list), ("conditions", list), ("models", dict))
    for name, kind in shapes:
        if not isinstance(data.get(name), kind):
            raise bad(f"'{name}'", f"a {'list' if kind is list else 'mapping'}", data.get(name))
    required = [c for c in FACT_COLUMNS if c not in OPTIONAL_FACT_COLUMNS]
    for i, row in enumerate(data["facts"]):
        # template, pair and tags may be absent (runs written before they existed) but not of another type
        if (
            not isinstance(row, dict)
            or any(not isinstance(row.get(c), str) for c in required)
            or any(not isinstance(row.get(c, ""), str) for c in OPTIONAL_FACT_COLUMNS)
        ):
            raise bad(f"facts[{i}]", f"a mapping with text fields {', '.join(FACT_COLUMNS)}", row)
        if row["kind"] not in KINDS:
            raise bad(
                f"facts[{i}] ('{row['fact_set']}/{row['fact_id']}') kind", " or ".join(KINDS), row["kind"]
            )
    for i, cond in enumerate(data["conditions"]):
        if not isinstance(cond, dict) or not isinstance(cond.get("name"), str):
            raise bad(f"conditions[{i}]", "a mapping with a name", cond)
    for name, model in data["models"].items():
        if not isinstance(model, dict):
            raise bad(f"models['{name}']", "a mapping", model)
        for field, kind in MODEL_FIELDS.items():
            if not isinstance(model.get(field), kind):
                raise bad(f"models['{name}'].{field}", f"a {kind.__name__}", model.get(field))


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _new_manifest() -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": KIND,
        "created": _now(),
        "facts": [],
        "fact_sets": {},
        "fact_inputs": {},
        "conditions": [],
        "models": {},
    }


def open_run(path: str | Path) -> Run:
    """Open an existing run directory for reading (raises :class:`StoreError` if it is not one)."""
    run = Run(Path(path))
    _ = run.manifest
    return run
