"""A small run whose facts sit in declared hinge/contingent pairs (plus unpaired singles), with random
states: a plain module the analysis tests import by name."""

import numpy as np
import pandas as pd

from beliefs.rundata import MemoryRun, ModelInfo


def _paired_run(n_pairs=12, singles=4, seed=0):
    rng = np.random.default_rng(seed)
    n = 2 * n_pairs + singles
    ids = [f"f{i}" for i in range(n)]
    pair = [ids[i + 1] if i % 2 == 0 else ids[i - 1] for i in range(2 * n_pairs)] + [""] * singles
    kinds = [
        k
        for _ in range(n_pairs)
        for k in (("hinge", "contingent") if rng.random() < 0.5 else ("contingent", "hinge"))
    ]
    kinds += ["hinge", "contingent"] * (singles // 2)
    domain = ["logical" if i < n_pairs else "physical" for i in range(2 * n_pairs)] + ["physical"] * singles
    facts = pd.DataFrame(
        {
            "fact_set": "toy",
            "fact_id": ids,
            "domain": domain,
            "kind": kinds,
            "statement": [f"s{i} is so." for i in range(n)],
            "false_statement": [f"s{i} is not so." for i in range(n)],
            "pair": pair,
        }
    )
    run = MemoryRun([ModelInfo("toy", "st", 3, 8)], ["empty"], facts)
    for pooling in ("last", "mean"):
        for form in ("true", "false"):
            run.arrays[("toy", "empty", form, pooling)] = rng.standard_normal((n, 3, 8)).astype(np.float32)
    return run, facts
