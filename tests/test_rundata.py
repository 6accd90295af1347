"""The fact table of a :class:`MemoryRun` carries the optional columns, as a stored run's does."""

from __future__ import annotations

import numpy as np
import pandas as pd

from beliefs.rundata import FACT_COLUMNS, MemoryRun, complete_facts


def _table(**extra: list[object]) -> pd.DataFrame:
    base = {
        "fact_set": ["s", "s"],
        "fact_id": ["a", "b"],
        "domain": ["logical", "logical"],
        "kind": ["hinge", "contingent"],
        "statement": ["A.", "B."],
        "false_statement": ["Not A.", "Not B."],
    }
    return pd.DataFrame({"extra": [1, 2], **base, **extra})


def test_missing_optional_columns_are_empty_strings() -> None:
    run = MemoryRun([], ["empty"], _table())
    facts = run.facts()
    assert tuple(facts.columns) == (*FACT_COLUMNS, "extra")
    assert (facts[["template", "pair", "tags"]] == "").all().all()


def test_present_optional_columns_are_kept_and_gaps_filled() -> None:
    facts = complete_facts(_table(template=["t", np.nan], pair=["b", "a"]))
    assert facts["template"].tolist() == ["t", ""]
    assert facts["pair"].tolist() == ["b", "a"]
    assert facts["tags"].tolist() == ["", ""]
    assert facts["extra"].tolist() == [1, 2]
