import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import typer
from safetensors import safe_open
from typer.testing import CliRunner

from beliefs.cli.probe import _shard, probe_command
from beliefs.errors import StoreError, UsageError
from beliefs.extract import check_run, probe
from beliefs.extract.probe import in_shard
from beliefs.rundata import FACT_COLUMNS, MARGIN_COLUMNS, RunData
from beliefs.schema import Condition, Contexts, Fact
from beliefs.store import open_run

FACTS_SRC = textwrap.dedent(
    """
    from beliefs.schema import Condition, Contexts, Fact

    FACTS = [
        (
            "core",
            Fact(
                id=f"f{i}",
                domain="physical" if i % 2 else "logical",
                kind="hinge" if i % 3 else "contingent",
                statement=f"The city {i} is in France.",
                false_statement=f"The city {i} is on the Moon.",
                contexts=Contexts(support=f"Story {i}: we are on Earth.") if i % 4 else None,
            ),
        )
        for i in range(12)
    ]
    CONDITIONS = [
        Condition(name="empty", prefix=""),
        Condition(name="encyclopedia", prefix="From the encyclopedia:"),
        Condition(name="support", context="support"),
    ]
    """
)
ns: dict = {}
exec(FACTS_SRC, ns)
FACTS, CONDITIONS = ns["FACTS"], ns["CONDITIONS"]


def _arrays(run):
    out = {}
    for m in run.models():
        for c in run.conditions():
            for form in ("true", "false"):
                for pooling in ("last", "mean"):
                    out[(m.name, c, form, pooling)] = run.states(m.name, c, form, pooling)
    return out


def test_probe_end_to_end(tmp_path):
    run = probe(
        ["fake:llama", "fake:bert"], FACTS, CONDITIONS, tmp_path / "run", control="random-init", batch_size=5
    )
    assert isinstance(run, RunData)
    names = [m.name for m in run.models()]
    assert names == ["llama", "llama@random-init", "bert", "bert@random-init"]
    ctrl = run.models()[1]
    assert ctrl.control == "random-init" and ctrl.base == "llama"
    assert run.conditions() == ["empty", "encyclopedia", "support"]
    facts = run.facts()
    assert tuple(facts.columns) == FACT_COLUMNS and len(facts) == 12
    s = run.states("llama", "support", "true", "mean")
    assert s.shape == (12, 4, 32) and s.dtype == np.float32
    has_ctx = np.array([i % 4 != 0 for i in range(12)])
    assert np.isnan(s[~has_ctx]).all() and np.isfinite(s[has_ctx]).all()
    margins = run.margins()
    assert tuple(margins.columns) == MARGIN_COLUMNS
    assert set(margins["model"]) == {"llama", "llama@random-init"}  # encoders have no log-probs
    assert len(margins) == 2 * (12 + 12 + has_ctx.sum())
    assert np.allclose(margins["margin"], margins["logp_true"] - margins["logp_false"])
    on_disk = open_run(tmp_path / "run")
    assert len(on_disk.margins()) == len(margins)
    csv = (tmp_path / "run" / "margins.csv").read_text().splitlines()
    assert csv[0] == ",".join(MARGIN_COLUMNS) and len(csv) == len(margins) + 1
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert (
        manifest["schema_version"] == 1
        and manifest["models"]["llama"]["start_token"]["text"] == "<|endoftext|>"
    )
    assert "torch" in manifest["packages"]


def test_cached_equals_recomputed_and_batch_size_not_in_key(tmp_path):
    a = probe("fake:llama", FACTS, CONDITIONS, tmp_path / "a", batch_size=3)
    n_files = len(list((tmp_path / "a" / "entries").iterdir()))
    b = probe("fake:llama", FACTS, CONDITIONS, tmp_path / "a", batch_size=7)  # nothing recomputed
    assert len(list((tmp_path / "a" / "entries").iterdir())) == n_files
    c = probe("fake:llama", FACTS, CONDITIONS, tmp_path / "c", batch_size=7)
    ka = sorted(
        k for t in a.manifest["models"]["llama"]["entries"].values() for p in t.values() for k in p.values()
    )
    kc = sorted(
        k for t in c.manifest["models"]["llama"]["entries"].values() for p in t.values() for k in p.values()
    )
    assert ka == kc
    for key, x in _arrays(b).items():
        y = _arrays(c)[key]
        scale = np.nanmax(np.abs(y), axis=(0, 2), keepdims=True)
        assert np.allclose(x / scale, y / scale, atol=1e-4, equal_nan=True)


def test_adding_a_model_later_keeps_the_first(tmp_path):
    probe("fake:llama", FACTS, CONDITIONS, tmp_path / "r")
    run = probe("fake:gpt2", FACTS, CONDITIONS, tmp_path / "r")
    assert [m.name for m in run.models()] == ["llama", "gpt2"]
    assert np.isfinite(run.states("llama", "empty", "true")).all()


SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    from beliefs.extract import probe, ProgressHook
    {facts}

    class Killer(ProgressHook):
        n = 0
        def advance(self, statements, tokens):
            self.n += 1
            if self.n == int(sys.argv[2]):
                os.kill(os.getpid(), signal.SIGKILL)

    probe("fake:llama", FACTS, CONDITIONS, sys.argv[1], batch_size=4, progress=Killer())
    """
)


def _same_threads() -> dict[str, str]:
    """The child's environment with this process's torch thread count: float sums depend on it, and an
    earlier test in the session may have changed it, while these tests are about resuming, not threads."""
    import torch

    return {**os.environ, "BELIEFS_THREADS": str(torch.get_num_threads())}


@pytest.mark.slow
def test_resume_after_kill_9(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(SCRIPT.format(facts=FACTS_SRC))
    out = tmp_path / "killed"
    done = subprocess.run(
        [sys.executable, str(script), str(out), "3"], capture_output=True, text=True, env=_same_threads()
    )
    assert done.returncode == -9, done.stderr
    partial = open_run(out)
    assert partial.missing() > 0
    # a half-written entry file left by a crash is never read as whole
    (out / "entries" / ".tmp-123-abcd-x.safetensors").write_bytes(b"\x00garbage")
    (out / "entries" / "broken.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{")
    resumed = probe("fake:llama", FACTS, CONDITIONS, out, batch_size=4)
    assert resumed.missing() == 0
    whole = probe("fake:llama", FACTS, CONDITIONS, tmp_path / "whole", batch_size=4)
    for key, x in _arrays(whole).items():
        np.testing.assert_array_equal(_arrays(resumed)[key], x)
    assert resumed.margins().equals(whole.margins())


@pytest.mark.slow
def test_two_concurrent_writers(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(SCRIPT.format(facts=FACTS_SRC))
    out = tmp_path / "shared"
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(out), "0"], stderr=subprocess.PIPE, env=_same_threads()
        )
        for _ in range(2)
    ]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read() if p.stderr else ""
    run = open_run(out)
    assert run.missing() == 0
    assert not [p for p in (out / "entries").iterdir() if p.name.startswith(".tmp")]
    alone = probe("fake:llama", FACTS, CONDITIONS, tmp_path / "alone", batch_size=4)
    for key, x in _arrays(alone).items():
        np.testing.assert_array_equal(_arrays(run)[key], x)


def test_open_run_errors(tmp_path):
    with pytest.raises(StoreError, match="not a run directory"):
        open_run(tmp_path)
    (tmp_path / "manifest.json").write_text('{"schema_version": 9, "kind": "beliefs-run"}')
    with pytest.raises(StoreError, match="schema_version should be 1"):
        open_run(tmp_path)


def test_unknown_names_raise_key_error(tmp_path):
    run = probe("fake:llama", FACTS[:2], CONDITIONS[:1], tmp_path / "r")
    with pytest.raises(KeyError, match="no model"):
        run.states("nope", "empty", "true")
    with pytest.raises(KeyError, match="no condition"):
        run.states("llama", "nope", "true")


def test_fact_without_context_everywhere_is_fine(tmp_path):
    fact = Fact(id="a", domain="logical", kind="hinge", statement="1 + 1 = 2.", false_statement="1 + 1 = 3.")
    fact2 = Fact(
        id="b",
        domain="logical",
        kind="hinge",
        statement="2 + 2 = 4.",
        false_statement="2 + 2 = 5.",
        contexts=Contexts(contradict="In this odd world, sums are off by one."),
    )
    conds = [Condition(name="empty", prefix=""), Condition(name="contradict", context="contradict")]
    run = probe("fake:gpt2", [("s", fact), ("s", fact2)], conds, tmp_path / "r")
    s = run.states("gpt2", "contradict", "false")
    assert np.isnan(s[0]).all() and np.isfinite(s[1]).all()
    assert os.path.exists(tmp_path / "r" / "margins.csv")


# -- shards: probe(..., shard=(i, n)) fills one store equal to one process's; check_run merges --

MODELS = ["fake:llama", "fake:bert"]
VOLATILE = ("created", "updated")


def _store(path):
    """Everything a run holds but its timestamps: each entry file's metadata and tensors bit for bit, the
    manifest, margins.csv."""
    manifest = json.loads((path / "manifest.json").read_text())
    for key in VOLATILE:
        manifest.pop(key, None)
    entries = {}
    for p in sorted((path / "entries").iterdir()):  # safetensors orders its header freely: read it
        with safe_open(str(p), framework="np") as f:
            meta = {k: json.loads(v) if k == "entries" else v for k, v in (f.metadata() or {}).items()}
            entries[p.name] = (meta, {k: f.get_tensor(k).tobytes() for k in f.keys()})  # noqa: SIM118
    return entries, manifest, (path / "margins.csv").read_text()


def _same(a, b):
    ea, ma, ca = _store(a)
    eb, mb, cb = _store(b)
    assert sorted(ea) == sorted(eb)
    assert all(ea[k] == eb[k] for k in ea), "an entry file differs"
    assert ma == mb
    assert ca == cb


def test_round_robin_covers_each_batch_once():
    for n in (1, 2, 3, 7):
        owners = [[i for i in range(1, n + 1) if in_shard(b, (i, n))] for b in range(20)]
        assert all(len(o) == 1 for o in owners)
    assert all(in_shard(b, None) for b in range(5))


@pytest.mark.parametrize("n", [2, 3])
def test_sequential_shards_equal_one_process(tmp_path, n):
    probe(MODELS, FACTS, CONDITIONS, tmp_path / "one", control="random-init", batch_size=4)
    for i in range(1, n + 1):
        probe(
            MODELS, FACTS, CONDITIONS, tmp_path / "sharded", control="random-init", batch_size=4, shard=(i, n)
        )
    check_run(MODELS, FACTS, CONDITIONS, tmp_path / "sharded", control="random-init")
    _same(tmp_path / "one", tmp_path / "sharded")


def test_check_names_what_a_missing_shard_left_out(tmp_path):
    out = tmp_path / "r"
    probe("fake:llama", FACTS, CONDITIONS, out, batch_size=4, shard=(1, 3))
    probe("fake:llama", FACTS, CONDITIONS, out, batch_size=4, shard=(3, 3))
    with pytest.raises(StoreError, match=r"llama: \d+ missing") as err:
        check_run("fake:llama", FACTS, CONDITIONS, out)
    assert "without --shard" in str(err.value)
    with pytest.raises(StoreError, match="never probed into it: gpt2"):
        check_run(["fake:llama", "fake:gpt2"], FACTS, CONDITIONS, out)
    with pytest.raises(StoreError, match="conditions"):
        check_run("fake:llama", FACTS, CONDITIONS[:2], out)
    with pytest.raises(StoreError, match="1 fact"):
        check_run("fake:llama", [*FACTS[:1], ("other", FACTS[1][1])], CONDITIONS, out)
    probe("fake:llama", FACTS, CONDITIONS, out, batch_size=4, shard=(2, 3))
    run = check_run("fake:llama", FACTS, CONDITIONS, out)
    assert run.missing() == 0
    whole = probe("fake:llama", FACTS, CONDITIONS, tmp_path / "whole", batch_size=4)
    assert whole.margins().equals(open_run(out).margins())
    assert (out / "margins.csv").read_text() == (tmp_path / "whole" / "margins.csv").read_text()


def test_bad_shards_are_refused(tmp_path):
    for bad in [(0, 3), (4, 3), (1, 0)]:
        with pytest.raises(UsageError, match="shard should be I/N"):
            probe("fake:llama", FACTS, CONDITIONS, tmp_path / "r", shard=bad)
    assert _shard("2/8") == (2, 8) and _shard(None) is None
    for text in ("2", "a/b", "2/8/1", ""):
        with pytest.raises(UsageError, match="--shard should look like"):
            _shard(text)


SHARD_SCRIPT = textwrap.dedent(
    """
    import sys
    from beliefs.extract import probe
    {facts}

    probe(["fake:llama", "fake:gpt2"], FACTS, CONDITIONS, sys.argv[1], batch_size=3,
          shard=(int(sys.argv[2]), int(sys.argv[3])))
    """
)


def test_concurrent_shard_processes_equal_one_process(tmp_path, monkeypatch):
    # the same thread count in the shard processes and in this one (the manifest records it; an earlier
    # test in this process may have changed torch's)
    monkeypatch.setenv("BELIEFS_THREADS", "1")
    script = tmp_path / "job.py"
    script.write_text(SHARD_SCRIPT.format(facts=FACTS_SRC))
    out, n = tmp_path / "shared", 3
    procs = [
        subprocess.Popen([sys.executable, str(script), str(out), str(i), str(n)], stderr=subprocess.PIPE)
        for i in range(1, n + 1)
    ]
    for p in procs:
        assert p.wait(timeout=300) == 0, p.stderr.read() if p.stderr else ""
    check_run(["fake:llama", "fake:gpt2"], FACTS, CONDITIONS, out)
    assert not [p for p in (out / "entries").iterdir() if p.name.startswith(".")]
    probe(["fake:llama", "fake:gpt2"], FACTS, CONDITIONS, tmp_path / "one", batch_size=3)
    _same(tmp_path / "one", out)


def test_cli_shard_then_check(tmp_path):
    facts = tmp_path / "core.yaml"
    facts.write_text(
        "schema_version: 1\nname: core\nfacts:\n"
        + "".join(
            f"  - id: f{i}\n    domain: logical\n    kind: hinge\n    statement: {i} + 1 = {i + 1}.\n"
            f"    false_statement: {i} + 1 = {i + 2}.\n"
            for i in range(6)
        )
    )
    conds = tmp_path / "conditions.yaml"
    conds.write_text('- name: empty\n  prefix: ""\n- name: enc\n  prefix: "From the encyclopedia:"\n')
    app = typer.Typer()
    app.command()(probe_command)
    base = [
        "-m",
        "fake:llama",
        "-f",
        str(facts),
        "-c",
        str(conds),
        "-o",
        str(tmp_path / "r"),
        "--batch-size",
        "2",
    ]
    runner = CliRunner()
    first = runner.invoke(app, [*base, "--shard", "1/2"])
    assert first.exit_code == 0, first.output
    assert "shard 1/2 done" in first.output and "--check" in first.output
    early = runner.invoke(app, [*base, "--check"])
    assert early.exit_code == 1 and "missing" in early.output
    assert runner.invoke(app, [*base, "--shard", "2/2"]).exit_code == 0
    done = runner.invoke(app, [*base, "--check"])
    assert done.exit_code == 0, done.output
    assert "is complete" in done.output
    both = runner.invoke(app, [*base, "--check", "--shard", "1/2"])
    assert both.exit_code == 2 and "without --shard" in both.output
    bad = runner.invoke(app, [*base, "--shard", "3/2"])
    assert bad.exit_code == 2 and "shard should be I/N" in bad.output
