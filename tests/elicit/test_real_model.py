"""Elicitation checked on the real embedded models (``-m real_model``; about a minute on 2 CPU cores).

A detailed prompt that plainly lists several facts of ``fact_sets/core.yaml`` must raise the salience of
those facts clearly, and not that of the others.
"""

from pathlib import Path

import numpy as np
import pytest

from beliefs.elicit import elicit
from beliefs.facts import load_fact_set
from beliefs.schema import Condition

pytestmark = [pytest.mark.real_model, pytest.mark.slow]
CORE = Path(__file__).resolve().parents[2] / "fact_sets" / "core.yaml"
LISTED = ("two-hands", "nile-egypt", "thirteen-squared", "water-boils", "non-contradiction", "whale-mammal")


def test_listed_facts_rise_more_than_the_others(tmp_path):
    core = load_fact_set(CORE)
    by_id = {f.id: f for f in core.facts}
    listing = "Facts everyone should know:\n" + "\n".join(by_id[i].statement for i in LISTED)
    conditions = [Condition(name="empty", prefix=""), Condition(name="listing", prefix=listing)]
    result = elicit(
        "smollm2-135m", [CORE], conditions, tmp_path, samples=12, max_new_tokens=32, permutations=99
    )
    sal = result.salience.pivot(index="fact_id", columns="condition", values="salience_true")
    rise = sal["listing"] - sal["empty"]
    listed, others = rise[list(LISTED)], rise.drop(list(LISTED))
    # Measured here (2 CPU cores): listed facts rose by 0.19 on average (0.07 to 0.51), the other 223
    # by 0.10 (SD 0.06). smollm2-135m rarely repeats the list word for word: it goes on listing other
    # facts in the same register, which lifts every fact's salience a little. The listed facts' mean
    # rise must stand far out from the mean rise of random sets of as many other facts.
    rng = np.random.default_rng(0)
    null = np.array([rng.choice(others.to_numpy(), len(LISTED), replace=False).mean() for _ in range(2000)])
    assert listed.mean() > np.quantile(null, 0.99), (listed, others.describe())
    assert listed.mean() > others.mean() + 0.04
    assert (listed > others.median()).sum() >= 4
