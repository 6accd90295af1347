"""A run directory: ``manifest.json``, safetensors shards of entries, ``margins.csv``.

Layout::

    manifest.json              what was measured, how, with what (schema_version 1)
    entries/<hash>.safetensors one computed batch: tensors ``<key>.last`` / ``<key>.mean``,
                               metadata ``entries`` = JSON {key: {logp, n_tokens}}
    margins.csv                one row per (model, fact, condition) for causal LMs
    .lock                      advisory lock for manifest updates

Every file is written beside its place and renamed into it, so a reader (or a resumed run after
``kill -9``) sees a whole shard or none. Entries are keyed by content hashes (:mod:`beliefs.store.keys`),
so two runs writing the same store at once, or a rerun, only ever add identical entries.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from beliefs.errors import StoreError
from beliefs.models.cache import atomic_write_bytes, atomic_write_text, file_lock
from beliefs.rundata import FACT_COLUMNS, FORMS, MARGIN_COLUMNS, POOLINGS, ModelInfo

MANIFEST = "manifest.json"
MARGINS = "margins.csv"
ENTRIES = "entries"
SCHEMA_VERSION = 1
KIND = "beliefs-run"


def fact_ref(fact_set: str, fact_id: str) -> str:
    return f"{fact_set}/{fact_id}"


class Run:
    """A run directory; implements :class:`beliefs.rundata.RunData`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._index: dict[str, Path] = {}
        self._scanned: set[str] = set()
        self._meta: dict[str, dict[str, Any]] = {}
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
        if data.get("kind") != KIND or data.get("schema_version") != SCHEMA_VERSION:
            raise StoreError(
                f"{file}: schema_version should be {SCHEMA_VERSION} of a {KIND}, "
                f"but got {data.get('schema_version')!r} of {data.get('kind')!r}"
            )
        return dict(data)

    def update_manifest(self, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Read, change and rewrite the manifest under the run's lock (safe with concurrent writers)."""
        self.path.mkdir(parents=True, exist_ok=True)
        with file_lock(self.path / ".lock"):
            file = self.path / MANIFEST
            data = self._read_manifest() if file.exists() else _new_manifest()
            change(data)
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

        for shard in sorted(folder.glob("[!.]*.safetensors")):
            if shard.name in self._scanned:
                continue
            try:
                with safe_open(str(shard), framework="np") as f:
                    meta = json.loads((f.metadata() or {})["entries"])
            except Exception:  # an unreadable shard is treated as absent and recomputed
                continue
            self._scanned.add(shard.name)
            for key, value in meta.items():
                self._index.setdefault(key, shard)
                self._meta.setdefault(key, value)

    def has(self, keys: Sequence[str]) -> bool:
        """True if every key has a stored entry."""
        if any(k not in self._index for k in keys):
            self._scan()
        return all(k in self._index for k in keys)

    def write_entries(self, keys: Sequence[str], measurements: Sequence[Any]) -> Path:
        """Write one shard atomically: pooled states and log-probs of ``keys``."""
        from safetensors.numpy import save

        tensors: dict[str, np.ndarray] = {}
        meta: dict[str, dict[str, Any]] = {}
        for key, m in zip(keys, measurements, strict=True):
            tensors[f"{key}.last"] = np.ascontiguousarray(m.last, dtype=np.float32)
            tensors[f"{key}.mean"] = np.ascontiguousarray(m.mean, dtype=np.float32)
            meta[key] = {"logp": m.logp, "n_tokens": m.n_tokens}
        name = hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:24]
        shard = self.path / ENTRIES / f"{name}.safetensors"
        atomic_write_bytes(shard, save(tensors, metadata={"entries": json.dumps(meta), "format": "1"}))
        self._scanned.add(shard.name)
        for key in keys:
            self._index.setdefault(key, shard)
            self._meta[key] = meta[key]
        return shard

    def _load(self, keys: list[str | None], pooling: str, shape: tuple[int, int]) -> np.ndarray:
        from safetensors import safe_open

        self._scan()
        out = np.full((len(keys), *shape), np.nan, dtype=np.float32)
        by_shard: dict[Path, list[tuple[int, str]]] = {}
        for i, key in enumerate(keys):
            if key is not None and key in self._index:
                by_shard.setdefault(self._index[key], []).append((i, key))
        for shard, items in by_shard.items():
            with safe_open(str(shard), framework="np") as f:
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
        """Write ``margins.csv`` from the stored entries (atomically)."""
        file = self.path / MARGINS
        atomic_write_text(file, self.margins().to_csv(index=False))
        return file

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


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _new_manifest() -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": KIND,
        "created": _now(),
        "facts": [],
        "fact_sets": {},
        "conditions": [],
        "models": {},
    }


def open_run(path: str | Path) -> Run:
    """Open an existing run directory for reading (raises :class:`StoreError` if it is not one)."""
    run = Run(Path(path))
    _ = run.manifest
    return run
