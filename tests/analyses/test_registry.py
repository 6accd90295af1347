"""An analysis is one file: its question, cost, controls and per-layer figure are registered with it and
read from the registry by the runner, the CLI and the report."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from beliefs.analyses import ANALYSES, Output, register
from beliefs.analyses.registry import DEFAULT_COST, Curve, with_control
from beliefs.analyses.runner import _task_groups
from beliefs.cli.study import hypotheses


def test_metadata_lives_with_each_analysis():
    assert ANALYSES["kind-probe"].cost == 22.0
    assert ANALYSES["surface"].cost == DEFAULT_COST
    assert with_control("surface") == ["kind-probe", "kind-distance"]
    curves = [a.name for a in ANALYSES.values() if a.curve is not None]
    assert curves == ["kind-probe", "kind-distance", "truth-geometry"]
    questions = hypotheses()
    assert list(questions)[-1] == "elicitation"
    assert "causal-trace" not in questions  # no question: not printed by ``beliefs study``
    assert questions["surface"].startswith("Surface features alone")


@pytest.fixture
def new_analysis():
    """A new analysis, registered the way a new module would register it; removed afterwards."""

    @register(
        "toy-analysis",
        question="A toy question",
        cost=50.0,
        controls=("surface",),
        curve=Curve("toy", "pooled", "toy statistic"),
    )
    def toy(ctx) -> Output:
        """A toy analysis."""
        return Output()

    yield ANALYSES["toy-analysis"]
    del ANALYSES["toy-analysis"]


def test_a_new_analysis_is_read_everywhere(new_analysis):
    assert new_analysis.description == "A toy analysis."
    assert hypotheses()["toy-analysis"] == "A toy question"
    assert "toy-analysis" in with_control("surface")

    ctx = SimpleNamespace(models=[SimpleNamespace(name=m, n_layers=2, width=2) for m in ("a", "b")])
    # the expensive new analysis gets a process of its own
    groups = _task_groups(ctx, [("a", "toy-analysis"), ("a", "surface"), ("b", "surface")], 2)
    assert [("a", "toy-analysis")] in groups


def test_register_refuses_duplicates_and_unknown_controls():
    with pytest.raises(ValueError, match="already registered"):
        register("kind-probe")(lambda ctx: Output())
    with pytest.raises(ValueError, match="unknown controls"):
        register("other", controls=("random-init",))
    assert "other" not in ANALYSES
