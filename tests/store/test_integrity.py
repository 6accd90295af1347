"""A store that cannot lie: changed fact sets, absent or damaged entries, malformed manifests."""

import json

import numpy as np
import pandas as pd
import pytest

from beliefs.analyses import analyze
from beliefs.errors import StoreError
from beliefs.extract import ProgressHook, probe
from beliefs.schema import Condition, Contexts, Fact
from beliefs.store import open_run
from beliefs.store.run import MANIFEST, Run, check_entry_file, sorted_metadata

CONDITIONS = [Condition(name="empty", prefix=""), Condition(name="support", context="support")]


def make_facts(n: int = 8, ids: str = "f", word: str = "France", set_name: str = "core") -> list:
    return [
        (
            set_name,
            Fact(
                id=f"{ids}{i}",
                domain="physical" if i % 2 else "logical",
                kind="hinge" if (i // 2) % 2 else "contingent",
                statement=f"The city {i} is in {word}.",
                false_statement=f"The city {i} is on the Moon.",
                contexts=Contexts(support=f"Story {i}: we are on Earth.") if i % 3 else None,
            ),
        )
        for i in range(n)
    ]


class Messages(ProgressHook):
    def __init__(self) -> None:
        self.said: list[str] = []

    def message(self, text: str) -> None:
        self.said.append(text)


def test_probing_a_smaller_set_prunes_the_run(tmp_path):
    probe("fake:llama", make_facts(8), CONDITIONS, tmp_path / "r")
    hook = Messages()
    run = probe("fake:llama", make_facts(5), CONDITIONS, tmp_path / "r", progress=hook)
    assert list(open_run(tmp_path / "r").facts()["fact_id"]) == [f"f{i}" for i in range(5)]
    assert list(pd.read_csv(tmp_path / "r" / "margins.csv")["fact_id"].unique()) == [
        f"f{i}" for i in range(5)
    ]
    assert any("3 fact(s) no longer in the fact set(s) given are dropped" in m for m in hook.said)
    run.check_complete()


def test_renamed_ids_leave_no_duplicates(tmp_path):
    probe("fake:llama", make_facts(6), CONDITIONS, tmp_path / "r")
    run = probe("fake:llama", make_facts(6, ids="g"), CONDITIONS, tmp_path / "r")
    facts = open_run(run.path).facts()
    assert list(facts["fact_id"]) == [f"g{i}" for i in range(6)]
    assert facts["statement"].is_unique


def test_other_sets_are_kept(tmp_path):
    probe("fake:llama", make_facts(4), CONDITIONS, tmp_path / "r")
    run = probe("fake:llama", make_facts(4, set_name="extra"), CONDITIONS, tmp_path / "r")
    assert sorted(set(run.facts()["fact_set"])) == ["core", "extra"]
    run.check_complete()


def test_edited_statement_invalidates_models_not_probed_again(tmp_path):
    probe(["fake:llama", "fake:gpt2"], make_facts(6), CONDITIONS, tmp_path / "r")
    open_run(tmp_path / "r").check_complete()
    edited = make_facts(6)
    edited[2] = ("core", edited[2][1].model_copy(update={"statement": "The city 2 is in Spain."}))
    hook = Messages()
    probe("fake:llama", edited, CONDITIONS, tmp_path / "r", progress=hook)
    assert any("1 fact(s) changed text" in m for m in hook.said)
    with pytest.raises(StoreError, match=r"\(gpt2: 4 missing, e\.g\. core/f2 \(empty, true\)") as err:
        open_run(tmp_path / "r").check_complete()
    assert "core/f2 (empty, true)" in str(err.value)
    assert "llama" not in str(err.value).split("missing (")[1]
    run = probe("fake:gpt2", edited, CONDITIONS, tmp_path / "r")
    run.check_complete()
    assert run.facts()["statement"][2] == "The city 2 is in Spain."


def test_changed_condition_text_invalidates_it(tmp_path):
    probe(["fake:llama", "fake:gpt2"], make_facts(4), CONDITIONS, tmp_path / "r")
    changed = [CONDITIONS[0], Condition(name="support", prefix="From the encyclopedia:")]
    probe("fake:llama", make_facts(4), changed, tmp_path / "r")
    with pytest.raises(StoreError, match=r"gpt2: 8 missing, e\.g\. core/f0 \(support, true\)"):
        open_run(tmp_path / "r").check_complete()


def test_fewer_conditions_drop_the_others(tmp_path):
    probe("fake:llama", make_facts(4), CONDITIONS, tmp_path / "r")
    run = probe("fake:llama", make_facts(4), CONDITIONS[:1], tmp_path / "r")
    assert open_run(run.path).conditions() == ["empty"]
    assert set(pd.read_csv(run.path / "margins.csv")["condition"]) == {"empty"}


def _entry_files(run: Run) -> list:
    return sorted((run.path / "entries").glob("*.safetensors"))


def test_deleted_entry_file_is_named(tmp_path):
    run = probe("fake:llama", make_facts(4), CONDITIONS, tmp_path / "r", batch_size=2)
    _entry_files(run)[0].unlink()
    with pytest.raises(StoreError, match=r"measurements missing \(llama: \d+ missing, e\.g\. core/f"):
        open_run(run.path).check_complete()
    with pytest.raises(StoreError, match="measurements missing"):
        analyze(open_run(run.path), tmp_path / "out", permutations=9)
    assert not (tmp_path / "out").exists()


def test_truncated_entry_file_is_damaged_and_recomputed(tmp_path):
    run = probe("fake:llama", make_facts(4), CONDITIONS, tmp_path / "r", batch_size=2)
    entry_file = _entry_files(run)[0]
    data = entry_file.read_bytes()
    entry_file.write_bytes(data[:-100])
    assert "header says" in (check_entry_file(entry_file) or "") or "unreadable" in (
        check_entry_file(entry_file) or ""
    )
    with pytest.raises(StoreError, match=r"1 damaged entry file\(s\): " + entry_file.name + ": unreadable"):
        open_run(run.path).check_complete()
    probe("fake:llama", make_facts(4), CONDITIONS, tmp_path / "r", batch_size=2)
    assert check_entry_file(entry_file) is None and len(entry_file.read_bytes()) == len(data)
    open_run(run.path).check_complete()


def test_changed_bytes_fail_the_hash(tmp_path):
    run = probe("fake:llama", make_facts(4), CONDITIONS, tmp_path / "r", batch_size=2)
    entry_file = _entry_files(run)[0]
    data = bytearray(entry_file.read_bytes())
    data[-3] ^= 0xFF  # inside the last tensor: same size, other data
    entry_file.write_bytes(bytes(data))
    assert check_entry_file(entry_file) == "its data do not match the sha256 recorded when it was written"
    with pytest.raises(StoreError, match="damaged"):
        open_run(run.path).check_complete()


def _edit_manifest(path, change):
    file = path / MANIFEST
    data = json.loads(file.read_text())
    change(data)
    file.write_text(json.dumps(data))


def test_unknown_kind_in_manifest_is_refused(tmp_path):
    run = probe("fake:llama", make_facts(4), CONDITIONS, tmp_path / "r")
    _edit_manifest(run.path, lambda d: d["facts"][1].update(kind="banana"))
    with pytest.raises(
        StoreError, match=r"facts\[1\] \('core/f1'\) kind should be hinge or contingent.*banana"
    ):
        open_run(run.path)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d: d.update(facts={}), "'facts' should be a list"),
        (lambda d: d["facts"][0].pop("statement"), r"facts\[0\] should be a mapping with text fields"),
        (lambda d: d["models"]["llama"].update(entries=[]), r"models\['llama'\]\.entries"),
        (lambda d: d.update(kind="other"), "not a beliefs run manifest"),
    ],
)
def test_malformed_manifest_is_refused(tmp_path, change, match):
    run = probe("fake:llama", make_facts(4), CONDITIONS[:1], tmp_path / "r")
    _edit_manifest(run.path, change)
    with pytest.raises(StoreError, match=match):
        open_run(run.path)


def test_margins_are_written_from_the_manifest_on_disk(tmp_path):
    """A writer whose copy of the manifest is stale still writes margins.csv for the run as it is now."""
    probe("fake:llama", make_facts(6), CONDITIONS, tmp_path / "r")
    stale = open_run(tmp_path / "r")
    _ = stale.manifest
    probe("fake:llama", make_facts(6) + make_facts(4, set_name="extra"), CONDITIONS, tmp_path / "r")
    stale.write_margins()
    margins = pd.read_csv(tmp_path / "r" / "margins.csv")
    assert set(margins["fact_set"]) == {"core", "extra"}
    assert len(margins) == 2 * 10 - sum(1 for i in range(6) if i % 3 == 0) - sum(
        1 for i in range(4) if i % 3 == 0
    )


def test_a_probe_whose_inputs_changed_under_it_refuses(tmp_path):
    from beliefs.extract import probe as probe_module

    original = probe_module.load_model if hasattr(probe_module, "load_model") else None
    assert original is None  # loaded inside probe(): patch the registry function instead
    import beliefs.models as models

    real = models.load_model

    def meddling(spec, options=None, progress=None):
        run = Run(tmp_path / "r")
        from beliefs.extract.probe import fact_inputs, replace_inputs

        other = make_facts(3)
        run.update_manifest(
            lambda m: replace_inputs(
                m,
                [
                    {
                        "fact_set": s,
                        "fact_id": f.id,
                        "domain": f.domain,
                        "kind": f.kind,
                        "statement": f.statement,
                        "false_statement": f.false_statement,
                    }
                    for s, f in other
                ],
                {f"{s}/{f.id}": fact_inputs(f) for s, f in other},
                {"core": {}},
                [{"name": "empty", "prefix": "", "context": None, "sha256": None}],
            )
        )
        return real(spec, options, progress)

    models.load_model = meddling
    try:
        with pytest.raises(StoreError, match="another probe changed the run's facts or conditions"):
            probe("fake:llama", make_facts(5), CONDITIONS, tmp_path / "r")
    finally:
        models.load_model = real


def test_old_entry_files_without_a_hash_get_a_size_check(tmp_path):
    from safetensors.numpy import save

    entry_file = tmp_path / "old.safetensors"
    entry_file.write_bytes(
        save({"a.last": np.zeros((2, 3), np.float32)}, metadata={"format": "1", "entries": "{}"})
    )
    assert check_entry_file(entry_file) is None
    entry_file.write_bytes(entry_file.read_bytes() + b"x")
    assert "header says" in (check_entry_file(entry_file) or "")


def test_analyze_warns_when_a_probed_fact_set_file_changed(tmp_path):
    from typer.testing import CliRunner

    from beliefs.cli import app

    path = tmp_path / "core.yaml"
    path.write_text(
        "schema_version: 1\nname: core\nfacts:\n"
        + "".join(
            f"  - {{id: f{i}, domain: {'physical' if i % 2 else 'logical'}, "
            f"kind: {'hinge' if (i // 2) % 2 else 'contingent'}, statement: The city {i} is in France., "
            f"false_statement: The city {i} is on the Moon., note: n}}\n"
            for i in range(8)
        )
    )
    run = probe("fake:llama", [path], CONDITIONS[:1], tmp_path / "r")
    assert run.changed_sources() == []
    path.write_text(path.read_text().replace("The city 3 is in France.", "The city 3 is in Spain."))
    assert run.changed_sources() == [f"{path} (set 'core')"]
    result = CliRunner().invoke(
        app, ["analyze", str(run.path), "--permutations", "9", "--analyses", "surface"]
    )
    assert result.exit_code == 0, result.output
    assert "changed since it was probed" in result.output


def test_two_writers_of_an_entry_write_the_same_bytes(tmp_path):
    from safetensors import safe_open
    from safetensors.numpy import save

    class Measured:
        def __init__(self, seed: int) -> None:
            rng = np.random.default_rng(seed)
            self.last, self.mean = rng.normal(size=4), rng.normal(size=4)
            self.logp, self.n_tokens = -float(seed), seed + 3

    keys, measured = ["k-b", "k-a", "k-c"], [Measured(i) for i in range(3)]
    written = set()
    for i in range(6):  # safetensors orders metadata keys by a hash map that differs between maps
        (tmp_path / f"r{i}" / "entries").mkdir(parents=True)
        order = list(range(3)) if i % 2 else [2, 0, 1]
        file = Run(tmp_path / f"r{i}").write_entries([keys[j] for j in order], [measured[j] for j in order])
        written.add(file.read_bytes())
        assert check_entry_file(file) is None
    assert len(written) == 1
    with safe_open(str(file), framework="np") as f:
        assert json.loads(f.metadata()["entries"])["k-a"] == {"logp": -1.0, "n_tokens": 4}
    tensors = {"x": np.zeros(2, dtype=np.float32)}
    blobs = {sorted_metadata(save(tensors, metadata={c: c * 3 for c in "zyxwvu"})) for _ in range(8)}
    assert len(blobs) == 1 and next(iter(blobs)).index(b'"u":"uuu"') < next(iter(blobs)).index(b'"z":"zzz"')
