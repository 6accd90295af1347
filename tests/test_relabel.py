"""Re-drawn kinds (``redraw_kinds``) and the run seen with them (``RelabelledRun``): pairs stay one hinge
and one contingent twin, set × domain counts stay, the draw is seeded, and a stored run is left as it was."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from beliefs.rundata import MemoryRun, RelabelledRun, SubsetRun, redraw_kinds
from beliefs.schema import Condition, Fact

N_PAIRS = 4
"""Declared pairs per domain."""
N_LOOSE = 4
"""Facts without a pair per domain (half of each kind)."""


def _facts() -> list[tuple[str, Fact]]:
    out: list[tuple[str, Fact]] = []
    for domain in ("logical", "physical"):
        for i in range(N_PAIRS):
            h, c = f"{domain[:3]}-h{i}", f"{domain[:3]}-c{i}"
            frame = f"{domain[:3]}-frame{i}"
            out.append(
                (
                    "mini",
                    Fact(
                        id=h,
                        kind="hinge",
                        statement=f"Thing {i} of {domain} is so.",
                        false_statement=f"Thing {i} of {domain} is not so.",
                        pair=c,
                        domain=domain,
                        template=frame,
                    ),
                )
            )
            out.append(
                (
                    "mini",
                    Fact(
                        id=c,
                        kind="contingent",
                        statement=f"Item {i} of {domain} is here.",
                        false_statement=f"Item {i} of {domain} is there.",
                        pair=h,
                        domain=domain,
                        template=frame,
                    ),
                )
            )
        for i in range(N_LOOSE):
            out.append(
                (
                    "mini",
                    Fact(
                        id=f"{domain[:3]}-x{i}",
                        domain=domain,
                        kind="hinge" if i % 2 else "contingent",
                        statement=f"Loose {i} in {domain} holds.",
                        false_statement=f"Loose {i} in {domain} fails.",
                    ),
                )
            )
    return out


def _table() -> pd.DataFrame:
    rows = [
        {
            "fact_set": s,
            "fact_id": f.id,
            "domain": f.domain,
            "kind": f.kind,
            "statement": f.statement,
            "false_statement": f.false_statement,
            "pair": f.pair or "",
        }
        for s, f in _facts()
    ]
    return pd.DataFrame(rows)


def _twins(facts: pd.DataFrame) -> list[tuple[int, int]]:
    index = {fid: i for i, fid in enumerate(facts["fact_id"])}
    return [(i, index[p]) for i, p in enumerate(facts["pair"]) if p and i < index[p]]


def test_pairs_stay_one_of_each_kind_and_about_half_swap() -> None:
    facts = _table()
    swapped = 0
    for seed in range(50):
        kinds = redraw_kinds(facts, np.random.default_rng(seed))
        for i, j in _twins(facts):
            assert {kinds[i], kinds[j]} == {"hinge", "contingent"}
            swapped += kinds[i] != facts["kind"][i]
    share = swapped / (50 * 2 * N_PAIRS)
    assert 0.35 < share < 0.65


def test_domain_counts_stay_and_loose_facts_move_within_their_domain() -> None:
    facts = _table()
    before = Counter(zip(facts["domain"], facts["kind"], strict=True))
    loose = (facts["pair"] == "").to_numpy()
    moved = False
    for seed in range(20):
        kinds = redraw_kinds(facts, np.random.default_rng(seed))
        assert Counter(zip(facts["domain"], kinds, strict=True)) == before
        for domain in ("logical", "physical"):
            sel = loose & (facts["domain"] == domain).to_numpy()
            assert Counter(kinds[sel]) == Counter(facts["kind"].to_numpy()[sel])
        moved |= bool((kinds[loose] != facts["kind"].to_numpy()[loose]).any())
    assert moved


def test_a_set_without_pairs_is_permuted_within_domain() -> None:
    facts = _table().assign(pair="")
    kinds = redraw_kinds(facts, np.random.default_rng(3))
    assert Counter(zip(facts["domain"], kinds, strict=True)) == Counter(
        zip(facts["domain"], facts["kind"], strict=True)
    )


def test_a_broken_pair_is_treated_as_loose() -> None:
    facts = _table()
    twins = _twins(facts)
    # a fact naming one that is not there, and twins of one kind: both pairs loose, counts still kept
    facts.loc[twins[0][0], "pair"] = "nobody"
    facts.loc[list(twins[1]), "kind"] = "hinge"
    counts = Counter(zip(facts["domain"], facts["kind"], strict=True))
    for seed in range(10):
        kinds = redraw_kinds(facts, np.random.default_rng(seed))
        assert Counter(zip(facts["domain"], kinds, strict=True)) == counts
        for i, j in twins[2:]:
            assert {kinds[i], kinds[j]} == {"hinge", "contingent"}


def test_the_draw_is_seeded() -> None:
    facts = _table()
    a = redraw_kinds(facts, np.random.default_rng(7))
    b = redraw_kinds(facts, np.random.default_rng(7))
    assert a.tolist() == b.tolist()
    others = [redraw_kinds(facts, np.random.default_rng(s)).tolist() for s in range(8, 14)]
    assert any(o != a.tolist() for o in others)
    assert facts["kind"].tolist() == _table()["kind"].tolist()  # the input is not changed


def test_the_view_replaces_kinds_in_facts_and_margins_and_nothing_else() -> None:
    facts = _table()
    margins = pd.DataFrame(
        {
            "model": "m",
            "fact_set": facts["fact_set"],
            "fact_id": facts["fact_id"],
            "domain": facts["domain"],
            "kind": facts["kind"],
            "condition": "empty",
            "logp_true": -1.0,
            "logp_false": -2.0,
            "margin": 1.0,
            "n_tokens_true": 3,
            "n_tokens_false": 3,
        }
    )
    x = np.random.default_rng(0).normal(size=(len(facts), 2, 3)).astype(np.float32)
    from beliefs.rundata import ModelInfo

    models = [ModelInfo("m", "hf", 2, 3), ModelInfo("m@random-init", "hf", 2, 3, "random-init", "m")]
    run = MemoryRun(models, ["empty"], facts, {("m", "empty", "true", "last"): x}, margins)
    kinds = redraw_kinds(run.facts(), np.random.default_rng(1))
    view = RelabelledRun(run, kinds, models=["m"])
    assert view.facts()["kind"].tolist() == kinds.tolist()
    assert view.margins()["kind"].tolist() == kinds.tolist()
    assert [m.name for m in view.models()] == ["m"]
    assert view.states("m", "empty", "true") is x
    assert run.facts()["kind"].tolist() == facts["kind"].tolist()
    assert run.margins()["kind"].tolist() == facts["kind"].tolist()
    assert view.path is None and view.facts_in is None
    with pytest.raises(ValueError, match="one kind per fact"):
        RelabelledRun(run, kinds[:-1])
    with pytest.raises(ValueError, match="among the run's"):
        RelabelledRun(run, np.full(len(facts), "axiom"))
    with pytest.raises(KeyError, match="no model nope"):
        RelabelledRun(run, kinds, models=["nope"])


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A probed fake run of the small paired set and one other set, with a random-init control."""
    from beliefs.extract import probe

    out = tmp_path_factory.mktemp("relabel") / "run"
    other = [("other", f) for _, f in _facts()[: N_PAIRS * 2 + N_LOOSE]]
    conditions = [Condition(name="empty", prefix=""), Condition(name="story", prefix="Once upon a time.")]
    probe("fake:llama", [*_facts(), *other], conditions, out, control="random-init", batch_size=8)
    return out


@pytest.mark.slow
def test_a_stored_run_is_read_through_the_view_and_left_untouched(stored: Path, tmp_path: Path) -> None:
    from beliefs.analyses import analyze
    from beliefs.store import open_run

    before = _digests(stored)
    run = open_run(stored)
    sub = SubsetRun(run, "mini")
    kinds = redraw_kinds(sub.facts(), np.random.default_rng(5))
    view = RelabelledRun(sub, kinds, models=["llama", "llama@random-init"])
    assert view.path == stored and view.fact_set == "mini"
    assert sub.facts()["kind"].tolist() != kinds.tolist()  # the seed swaps something
    np.testing.assert_array_equal(
        view.states("llama", "story", "false"), sub.states("llama", "story", "false")
    )
    margins = view.margins()
    assert set(margins["fact_set"]) == {"mini"}
    by_fact = dict(zip(view.facts()["fact_id"], view.facts()["kind"], strict=True))
    assert all(by_fact[f] == k for f, k in zip(margins["fact_id"], margins["kind"], strict=True))
    summary = analyze(view, tmp_path / "tables", ["kind-distance"], permutations=9, seed=1)
    assert summary["n_facts"] == len(kinds)
    assert {h["model"] for h in summary["headlines"]} == {"llama", "llama@random-init"}
    assert _digests(stored) == before
    assert open_run(stored).facts()["kind"].tolist() == run.facts()["kind"].tolist()


def _script() -> Any:
    """``scripts/calibrate_real.py`` as a module."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "scripts" / "calibrate_real.py"
    spec = importlib.util.spec_from_file_location("calibrate_real", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_the_calibration_script_tabulates_resumes_and_leaves_the_store(
    stored: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    script = _script()
    before = _digests(stored)
    out = tmp_path / "calib"
    argv = ["--store", str(stored), "--set", "mini", "--draws", "2", "--permutations", "9", "--out", str(out)]
    argv += ["--models", "llama", "llama@random-init", "--analyses", "surface", "kind-distance"]
    assert script.main(argv) == 0
    assert _digests(stored) == before
    first = [json.loads((out / "draws" / f"draw-{d:03d}" / "draw.json").read_text()) for d in range(2)]
    assert first[0]["kinds"] != first[1]["kinds"]
    tests = pd.read_csv(out / "calibration_tests.csv", keep_default_na=False)
    assert set(tests["model"]) == {"llama", "llama@random-init"}
    assert {"p_value", "verdict=differs"} <= set(tests["p_column"])
    always = tests[tests["p_column"].isin(["p_value", "verdict=differs"])]
    assert (always["n"] == 2).all()
    assert not list((out / "draws" / "draw-000" / "tables").glob("*.csv"))
    fw = pd.read_csv(out / "calibration_familywise.csv")
    assert set(fw["model"]) == {"llama", "llama@random-init"}
    assert "## Per test" in capsys.readouterr().out
    # a rerun finds both draws done and analyses nothing; a third draw is added to them
    import beliefs.analyses.runner as runner

    calls: list[int] = []
    real = runner.analyze

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "analyze", counted)
    assert script.main(argv) == 0 and calls == []
    assert script.main([*argv[:5], "3", *argv[6:]]) == 0 and calls == [1]
    again = [json.loads((out / "draws" / f"draw-{d:03d}" / "draw.json").read_text()) for d in range(2)]
    assert again == first
    again_tests = pd.read_csv(out / "calibration_tests.csv")
    assert (again_tests[again_tests["p_column"].isin(["p_value", "verdict=differs"])]["n"] == 3).all()
    # other settings in the same folder are refused, not mixed
    with pytest.raises(SystemExit, match="other settings"):
        script.main([*argv[:7], "19", *argv[8:]])
    assert _digests(stored) == before
