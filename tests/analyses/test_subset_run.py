"""A fact set of a run analysed on its own equals a run made of that set alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from beliefs.analyses import analyze, synthetic_run
from beliefs.rundata import MemoryRun, SubsetRun


def _two_sets() -> tuple[MemoryRun, MemoryRun]:
    run = synthetic_run(n_facts=40, effect=1.0, seed=1)
    facts = run.fact_table.copy()
    facts["fact_set"] = np.where((np.arange(40) // 2) % 2 == 0, "a", "b")  # both kinds in each set
    margins = run.margin_table.merge(facts[["fact_id", "fact_set"]], on="fact_id", suffixes=("_old", ""))
    margins = margins.drop(columns=["fact_set_old"])[run.margin_table.columns]
    both = MemoryRun(run.model_infos, run.condition_names, facts, dict(run.arrays), margins)
    keep = (facts["fact_set"] == "a").to_numpy()
    alone = MemoryRun(
        run.model_infos,
        run.condition_names,
        facts[keep].reset_index(drop=True),
        {k: v[keep] for k, v in run.arrays.items()},
        margins[margins["fact_set"] == "a"].reset_index(drop=True),
    )
    return both, alone


@pytest.mark.slow
def test_subset_equals_the_set_alone(tmp_path) -> None:
    both, alone = _two_sets()
    sub = SubsetRun(both, "a")
    assert len(sub.facts()) == 20
    a = analyze(sub, tmp_path / "sub", analyses=["kind-probe", "default-belief"], permutations=49)
    b = analyze(alone, tmp_path / "alone", analyses=["kind-probe", "default-belief"], permutations=49)
    assert a["headlines"] == b["headlines"]
    for name in ("kind-probe", "default-belief"):
        pd.testing.assert_frame_equal(
            pd.read_csv(tmp_path / "sub" / f"{name}.csv"), pd.read_csv(tmp_path / "alone" / f"{name}.csv")
        )


def test_unknown_set_is_named() -> None:
    both, _ = _two_sets()
    with pytest.raises(KeyError, match="sets: a, b"):
        SubsetRun(both, "c")
