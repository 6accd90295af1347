"""The ``ripple`` analysis on a probed fake run: the command's output read back, a planted kind
difference found, rows only (no headline), nothing without the ripple."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ripple_items import write_items

from beliefs.analyses import AnalysisContext
from beliefs.analyses.ripple import ripple_kind
from beliefs.intervene.run import FACTS_FILE, OUT_DIR, ripple_run
from beliefs.schema import Condition
from beliefs.store import open_run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from beliefs.extract import probe

    tmp = tmp_path_factory.mktemp("ripple")
    path = write_items(tmp / "mini.yaml")
    out = tmp / "run"
    probe("fake:llama", [str(path)], [Condition(name="empty", prefix="")], out)
    return out


def test_nothing_without_the_ripple(run):
    ctx = AnalysisContext(open_run(run), permutations=19)
    assert ripple_kind(ctx).rows == []


def test_the_analysis_reads_the_command_output(run):
    folder, _, facts, _ = ripple_run([run], "fake:llama", same_cap=2, k_random=2)
    assert folder == run / OUT_DIR
    ctx = AnalysisContext(open_run(run), permutations=49)
    out = ripple_kind(ctx)
    assert out.headlines == []
    stats = {r["statistic"] for r in out.rows}
    assert {"spillover_diff", "spillover_signed_diff", "spillover_hinge_coef"} <= stats
    diff = next(r for r in out.rows if r["statistic"] == "spillover_diff")
    kinds = ctx.facts.assign(ref=ctx.facts["fact_set"] + "/" + ctx.facts["fact_id"]).set_index("ref")["kind"]
    by_kind = facts.assign(kind=facts["fact_a"].map(kinds)).groupby("kind")["spillover"].mean()
    assert diff["estimate"] == pytest.approx(by_kind["hinge"] - by_kind["contingent"])
    assert 0 < diff["p_value"] <= 1


def test_a_planted_difference_is_found(run, tmp_path):
    ctx = AnalysisContext(open_run(run), permutations=199)
    refs = (ctx.facts["fact_set"] + "/" + ctx.facts["fact_id"]).to_numpy()
    rng = np.random.default_rng(0)
    spill = rng.normal(1.0, 0.01, len(refs)) + 5.0 * ctx.labels
    table = pd.DataFrame(
        {"model": ctx.models[0].name, "fact_a": refs, "spillover": spill, "spillover_signed": -spill}
    )
    folder = run / OUT_DIR
    old = (folder / FACTS_FILE).read_text() if (folder / FACTS_FILE).is_file() else None
    folder.mkdir(exist_ok=True)
    table.to_csv(folder / FACTS_FILE, index=False)
    try:
        rows = {r["statistic"]: r for r in ripple_kind(ctx).rows}
    finally:
        if old is not None:
            (folder / FACTS_FILE).write_text(old)
    assert rows["spillover_diff"]["estimate"] == pytest.approx(5.0, abs=0.05)
    assert rows["spillover_signed_diff"]["estimate"] == pytest.approx(-5.0, abs=0.05)
    # 4 declared pairs: kind permuted within pairs gives 16 labellings; two-sided, the planted one and
    # its mirror are the most extreme, so p sits at its floor, about 2/16
    assert rows["spillover_diff"]["p_value"] <= 0.15
    assert np.isfinite(rows["spillover_hinge_coef"]["estimate"])
