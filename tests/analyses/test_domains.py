"""Domains come from the data: a fact set that declares a third domain has its facts analysed per domain
(they were silently left out of the per-domain rows when the analyses listed ``logical``/``physical``)."""

from __future__ import annotations

import pandas as pd

from beliefs.analyses import analyze
from beliefs.extract import probe
from beliefs.schema import Condition, Fact, FactSet

DOMAINS = ("logical", "physical", "social")


def three_domain_set(n: int = 36) -> FactSet:
    facts = [
        Fact(
            id=f"f{i}",
            domain=DOMAINS[i % 3],
            kind="hinge" if (i // 3) % 2 else "contingent",
            statement=f"The town {i} lies in the valley.",
            false_statement=f"The town {i} lies under the sea.",
        )
        for i in range(n)
    ]
    return FactSet(schema_version=1, name="three", domains=list(DOMAINS), facts=facts)


def test_a_third_domain_gets_its_own_rows(tmp_path):
    run = probe("fake:llama", three_domain_set(), [Condition(name="empty", prefix="")], tmp_path / "run")
    analyze(run, tmp_path / "out", analyses=["kind-probe", "default-belief"], permutations=9)
    kind = pd.read_csv(tmp_path / "out" / "kind-probe.csv", keep_default_na=False)
    within = kind[kind["statistic"] == "massmean_bacc"]
    assert set(DOMAINS) <= set(within["subset"]), sorted(set(within["subset"]))
    social = within[within["subset"] == "social"]
    assert (social["n_facts"] == 12).all()
    belief = pd.read_csv(tmp_path / "out" / "default-belief.csv", keep_default_na=False)
    subsets = set(belief["subset"])
    assert {"social/hinge", "social/contingent", "social"} <= subsets, sorted(subsets)
    assert (belief.loc[belief["subset"] == "social/hinge", "n_facts"] == 6).all()
    # no cross-domain transfer with three domains (it is defined for two), and no error
    assert not kind["subset"].str.contains("->").any()
