"""Synthetic runs with a planted (or no) hinge/contingent difference: for tests, calibration, benchmarks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from beliefs.rundata import MARGIN_COLUMNS, MemoryRun, ModelInfo

DEFAULT_CONDITIONS = ("empty", "encyclopedia", "fiction", "spacecraft", "support", "contradict")
_WORDS = np.array(
    [
        "alpha",
        "beta",
        "gamma",
        "delta",
        "stone",
        "river",
        "cloud",
        "seven",
        "prime",
        "earth",
        "moon",
        "water",
        "fire",
        "number",
    ]
)


def synthetic_run(
    n_facts: int = 80,
    models: tuple[tuple[str, str, int, int], ...] = (("toy", "hf", 7, 32),),
    conditions: tuple[str, ...] = ("empty", "fiction", "support", "contradict"),
    effect: float = 0.0,
    margin_effect: float = 0.0,
    surface_effect: float = 0.0,
    random_init_control: bool = False,
    absent_share: float = 0.2,
    seed: int = 0,
) -> MemoryRun:
    """Build a :class:`MemoryRun` of ``n_facts`` facts, half hinge, half each domain.

    ``models`` lists ``(name, backend, n_layers, width)``. ``effect`` shifts hinge states along one
    direction (in SD units of a feature, growing over layers); ``margin_effect`` adds to hinge margins;
    ``surface_effect`` makes hinge statements shorter and use different words. A few "massive"
    dimensions carry large, label-free variance. ``random_init_control`` adds ``<first>@random-init``.
    """
    rng = np.random.default_rng(seed)
    domain = np.repeat(["logical", "physical"], [n_facts // 2, n_facts - n_facts // 2])
    kind = np.array(["hinge", "contingent"] * (n_facts // 2 + 1))[:n_facts]
    hinge = (kind == "hinge").astype(float)
    statements, falses = [], []
    for i in range(n_facts):
        n_words = max(2, int(rng.poisson(8) - round(surface_effect * 3 * hinge[i])))
        pool = _WORDS[:7] if (surface_effect > 0 and hinge[i]) else _WORDS
        words = " ".join(rng.choice(pool, n_words))
        statements.append(f"f{i} {words} is so.")
        falses.append(f"f{i} {words} is not so.")
    facts = pd.DataFrame(
        {
            "fact_set": "synthetic",
            "fact_id": [f"fact-{i}" for i in range(n_facts)],
            "domain": domain,
            "kind": kind,
            "statement": statements,
            "false_statement": falses,
        }
    )
    infos = [ModelInfo(n, b, layers, width) for n, b, layers, width in models]
    if random_init_control:
        first = infos[0]
        infos.append(
            ModelInfo(
                f"{first.name}@random-init",
                first.backend,
                first.n_layers,
                first.width,
                "random-init",
                first.name,
            )
        )
    run = MemoryRun(infos, list(conditions), facts)
    margin_rows = []
    n_tok = np.array([len(s.split()) + 2 for s in statements], dtype=float)
    for info in infos:
        planted = effect if info.control is None else 0.0
        _states(run, info, conditions, hinge, planted, absent_share, rng)
        if info.backend == "hf":
            base = rng.normal(1.0, 1.5, n_facts) + (margin_effect if info.control is None else 0.0) * hinge
            for ci, cond in enumerate(conditions):
                shift = {"support": 1.0, "contradict": -1.0}.get(cond, 0.0)
                margin = base + (shift + rng.normal(0, 0.5, n_facts) if ci else 0.0)
                logp_true = -2.0 * n_tok + rng.normal(0, 1, n_facts)
                absent = _absent(cond, n_facts, absent_share, seed)
                for i in range(n_facts):
                    if absent[i]:
                        continue
                    margin_rows.append(
                        (
                            info.name,
                            "synthetic",
                            f"fact-{i}",
                            domain[i],
                            kind[i],
                            cond,
                            logp_true[i],
                            logp_true[i] - margin[i],
                            margin[i],
                            n_tok[i],
                            n_tok[i] + 1,
                        )
                    )
    run.margin_table = pd.DataFrame(margin_rows, columns=list(MARGIN_COLUMNS))
    return run


def _absent(condition: str, n: int, share: float, seed: int) -> np.ndarray:
    if condition not in ("support", "contradict"):
        return np.zeros(n, dtype=bool)
    return np.random.default_rng(seed + 99).random(n) < share


def _states(
    run: MemoryRun,
    info: ModelInfo,
    conditions: tuple[str, ...],
    hinge: np.ndarray,
    effect: float,
    absent_share: float,
    rng: np.random.Generator,
) -> None:
    n, layers, width = hinge.size, info.n_layers, info.width
    direction = rng.standard_normal(width)
    direction /= np.linalg.norm(direction)
    truth = rng.standard_normal(width) * 0.3
    massive = np.ones(width, dtype=np.float32)
    massive[: max(1, width // 100)] = 30.0
    latent = rng.standard_normal((n, width)).astype(np.float32)
    growth = np.linspace(0.0, 1.0, layers)[None, :, None]
    kind_shift = (
        (effect * np.sqrt(width) * (hinge - hinge.mean()))[:, None, None] * direction[None, None, :] * growth
    )
    for cond in conditions:
        offset = rng.standard_normal(width).astype(np.float32) * 0.5
        absent = _absent(cond, n, absent_share, 0)
        for pooling in ("last", "mean"):
            noise = rng.standard_normal((n, layers, width)).astype(np.float32)
            core = latent[:, None, :] + 0.5 * noise + kind_shift + offset
            for form, sign in (("true", 1.0), ("false", -1.0)):
                form_noise = 0.3 * rng.standard_normal((n, layers, width)).astype(np.float32)
                x = (core + sign * truth + form_noise) * massive
                x[absent] = np.nan
                run.arrays[(info.name, cond, form, pooling)] = x.astype(np.float32)
