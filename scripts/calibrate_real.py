"""Size of every headline test on the real states, with the kinds re-drawn at random (slow: each draw is a
whole ``analyze``).

The stored run is only read. Each draw re-labels one fact set: on a set with declared pairs the kinds of
a random half of the pairs are swapped (Bernoulli(1/2) per pair, every pair still one hinge and one
contingent twin), and facts without a pair get their kinds permuted within set × domain
(:func:`beliefs.rundata.redraw_kinds`); the labels then follow no meaning, so every test should reject in
about 5% of draws. Every analysis is run on the re-labelled set (:class:`beliefs.rundata.RelabelledRun`,
the stored states reused) into ``OUT/draws/draw-NNN/``; a draw's headlines are kept in its ``draw.json``,
so a rerun with the same settings skips the finished draws and goes on.

Tables (``OUT/calibration.md``, printed, and CSVs beside it):

1. per test (model × analysis × condition × statistic [× domain]) and p column: the rejection rate at
   α = 0.05 (p ≤ α, as the verdicts count) over draws, its Clopper–Pearson 95% interval, ``LIBERAL``
   where the interval lies above 0.05; ``verdict=differs`` counts the draws whose headline says
   ``differs``;
2. per model: the share of draws with any ``differs`` verdict (family-wise), and with any rejection by
   each p column; per model × family too where headlines name their ``family``;
3. pooled: all of a model's headlines × draws per p column (its interval treats headlines as independent,
   which they are not: indicative only).

    PYTHONPATH=. .venv/bin/python scripts/calibrate_real.py --store runs/default --set matched \\
        --draws 20 --permutations 1000 --models smollm2-135m smollm2-135m@random-init --out calib/matched
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ALPHA = 0.05
DEFAULT_P_COLUMNS = ("p_value", "p_beyond_surface", "p_value_family", "p_beyond_surface_family")
"""``p_family`` (the p of whichever test decided a verdict) is left out: an "equivalent" verdict is decided by
a TOST p, whose rejection is not a false positive of a kind test."""
DIFFERS = "verdict=differs"
"""The pseudo p column of a headline whose verdict is ``differs``."""
TEST_KEYS = ("model", "analysis", "condition", "statistic", "domain")
LABEL_FREE = {("hingeness", "readout_r2"), ("hingeness", "rsa_hingeness")}
"""Headlines whose tests never read the kind labels (the read-out of the model's own hingeness index from
its states, and the states' RSA with it): re-drawn kinds leave their null hypotheses untouched, so a
rejection there is not a false positive. Tabulated per test, left out of the family-wise and pooled rows."""
DRAW_FILE = "draw.json"
FORMAT = 1


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.epilog = (__doc__ or "").split("\n\n", 1)[1]
    parser.add_argument("--store", type=Path, required=True, help="a probed run directory (read only)")
    parser.add_argument(
        "--set",
        dest="fact_set",
        required=True,
        help="the fact set of the run to calibrate on (matched, core, …); each set is analysed on its own, "
        "as beliefs study does",
    )
    parser.add_argument("--draws", type=int, default=20, help="re-drawn labellings (default 20)")
    parser.add_argument(
        "--permutations", type=int, default=1000, help="permutations of each analysis (default 1000)"
    )
    parser.add_argument(
        "--models",
        nargs="+",
        default=None,
        help="models of the run to analyse (default: all); name a random-init control with its base model, "
        "so that the control's headlines are set beside the base's as in a study",
    )
    parser.add_argument(
        "--analyses", nargs="+", default=None, help="analyses to run (default: all registered)"
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for the draws and the tables")
    parser.add_argument(
        "--seed", type=int, default=0, help="base seed: draw d re-labels and analyses from (seed, d)"
    )
    parser.add_argument(
        "--p-columns",
        nargs="+",
        default=list(DEFAULT_P_COLUMNS),
        help=f"headline p-values to tabulate, where present (default: {' '.join(DEFAULT_P_COLUMNS)}); "
        f"'{DIFFERS}' is always added",
    )
    parser.add_argument("--alpha", type=float, default=ALPHA, help="rejection level (default 0.05)")
    parser.add_argument(
        "--keep-tables",
        action="store_true",
        help="keep each draw's result tables (OUT/draws/draw-NNN/tables/*.csv); default: only draw.json",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="run no draw: tabulate the finished draws in OUT (e.g. while another process runs them)",
    )
    args = parser.parse_args(argv)
    if args.draws < 1:
        parser.error("--draws should be at least 1")
    if not 0 < args.alpha < 1:
        parser.error("--alpha should be between 0 and 1")
    return args


def settings_of(args: argparse.Namespace) -> dict[str, Any]:
    """What a finished draw must share with this invocation to be reused."""
    return {
        "format": FORMAT,
        "store": str(args.store.resolve()),
        "fact_set": args.fact_set,
        "models": sorted(args.models) if args.models else None,
        "analyses": sorted(args.analyses) if args.analyses else None,
        "permutations": args.permutations,
        "seed": args.seed,
    }


def draw_seeds(seed: int, draw: int) -> tuple[np.random.Generator, int]:
    """The generator that re-labels draw ``draw`` and the seed its analyses run with."""
    labels, analysis = np.random.SeedSequence([seed, draw]).spawn(2)
    return np.random.default_rng(labels), int(analysis.generate_state(1)[0])


def open_set(store: Path, fact_set: str, models: Sequence[str] | None) -> Any:
    """The stored run's fact set as a run of its own, after checking that the named models are complete."""
    from beliefs.rundata import SubsetRun
    from beliefs.store import open_run

    run = open_run(store)
    for name in models or [m.name for m in run.models()]:
        if name not in {m.name for m in run.models()}:
            known = ", ".join(m.name for m in run.models())
            sys.exit(f"no model '{name}' in {store}; models: {known}")
        missing = run.missing(name)
        if missing:
            sys.exit(f"{store}: {missing} entries of {name} not stored yet (is the probe still running?)")
    try:
        return SubsetRun(run, fact_set)
    except KeyError as err:
        sys.exit(str(err.args[0]))


def run_draw(sub: Any, args: argparse.Namespace, draw: int, settings: dict[str, Any]) -> dict[str, Any]:
    """Re-label, analyse and record one draw (``draw.json`` written last, atomically)."""
    from beliefs.analyses.runner import analyze
    from beliefs.fileio import atomic_write_text
    from beliefs.rundata import RelabelledRun, redraw_kinds

    folder = args.out / "draws" / f"draw-{draw:03d}"
    if folder.exists():
        shutil.rmtree(folder)  # an unfinished draw: its tables are redone
    rng, analysis_seed = draw_seeds(args.seed, draw)
    facts = sub.facts()
    kinds = redraw_kinds(facts, rng)
    view = RelabelledRun(sub, kinds, args.models)
    start = time.perf_counter()
    summary = analyze(view, folder / "tables", args.analyses, args.permutations, analysis_seed)
    seconds = time.perf_counter() - start
    record = {
        "settings": settings,
        "draw": draw,
        "analysis_seed": analysis_seed,
        "seconds": seconds,
        "n_changed": int((kinds != facts["kind"].to_numpy()).sum()),
        "kinds": {
            f"{s}/{i}": str(k) for s, i, k in zip(facts["fact_set"], facts["fact_id"], kinds, strict=True)
        },
        "headlines": summary["headlines"],
    }
    if not args.keep_tables:
        for table in (folder / "tables").glob("*.csv"):
            table.unlink()
    atomic_write_text(folder / DRAW_FILE, json.dumps(record, indent=1, allow_nan=False))
    return record


def read_draw(out: Path, draw: int, settings: dict[str, Any]) -> dict[str, Any] | None:
    """A finished draw of these settings, None where there is none; exits on a draw of other settings."""
    file = out / "draws" / f"draw-{draw:03d}" / DRAW_FILE
    if not file.is_file():
        return None
    record: dict[str, Any] = json.loads(file.read_text())
    if record.get("settings") != settings:
        sys.exit(
            f"{file} was drawn with other settings ({record.get('settings')}); use another --out, or the "
            "same store, set, models, analyses, permutations and seed"
        )
    return record


def run_draws(args: argparse.Namespace, settings: dict[str, Any]) -> list[dict[str, Any]]:
    """Every draw, the finished ones read back, the others run in turn with a progress line."""
    records: list[dict[str, Any]] = []
    todo = [d for d in range(args.draws) if read_draw(args.out, d, settings) is None]
    if todo and not args.report_only:
        sub = open_set(args.store, args.fact_set, args.models)
        print(
            f"{args.draws - len(todo)} of {args.draws} draws already done; running {len(todo)} "
            f"({len(sub.facts())} facts of '{args.fact_set}', {args.permutations} permutations)",
            file=sys.stderr,
            flush=True,
        )
        times: list[float] = []
        for n, draw in enumerate(todo, 1):
            start = time.perf_counter()
            record = run_draw(sub, args, draw, settings)
            times.append(time.perf_counter() - start)
            left = (len(todo) - n) * float(np.mean(times))
            print(
                f"draw {draw + 1}/{args.draws}: {times[-1]:.0f} s ({record['n_changed']} kinds changed, "
                f"{len(record['headlines'])} headlines); {n}/{len(todo)} of this run, about "
                f"{left / 60:.0f} min left",
                file=sys.stderr,
                flush=True,
            )
    for d in range(args.draws):
        found = read_draw(args.out, d, settings)
        if found is not None:
            records.append(found)
    return records


def headline_rows(records: Iterable[dict[str, Any]], p_columns: Sequence[str]) -> pd.DataFrame:
    """One row per draw × headline: the test's keys, its family, and each p column (NaN where absent);
    ``verdict=differs`` is 0 or 1."""
    rows = []
    for record in records:
        for h in record["headlines"]:
            row: dict[str, Any] = {"draw": record["draw"]}
            row.update({k: str(h.get(k) or "") for k in TEST_KEYS})
            row["family"] = str(h.get("family") or "")
            row["label_free"] = (h.get("analysis"), h.get("statistic")) in LABEL_FREE
            for col in p_columns:
                value = h.get(col)
                row[col] = float(value) if isinstance(value, int | float) else math.nan
            row[DIFFERS] = 1.0 if h.get("verdict") == "differs" else 0.0 if h.get("verdict") else math.nan
            rows.append(row)
    return pd.DataFrame(rows)


def interval(k: int, n: int) -> tuple[float, float]:
    """Clopper–Pearson 95% interval of ``k`` rejections in ``n`` draws."""
    from scipy.stats import binomtest

    if n == 0:
        return math.nan, math.nan
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    return float(ci.low), float(ci.high)


def _rate_row(k: int, n: int, alpha: float) -> dict[str, Any]:
    low, high = interval(k, n)
    return {
        "rejections": k,
        "n": n,
        "rate": k / n if n else math.nan,
        "ci_low": low,
        "ci_high": high,
        "liberal": bool(n and low > alpha),
    }


def _rejected(values: pd.Series, column: str, alpha: float) -> pd.Series:
    """Rejected at ``alpha``: ``p ≤ alpha``, as the verdicts count significance; or a ``differs`` verdict."""
    return values >= 0.5 if column == DIFFERS else values <= alpha


def per_test(rows: pd.DataFrame, columns: Sequence[str], alpha: float) -> pd.DataFrame:
    """Rejection rate of every test × p column over the draws where it has that p."""
    out = []
    for key, part in rows.groupby(list(TEST_KEYS), sort=False):
        for col in columns:
            values = part[col].dropna()
            if values.empty:
                continue
            k = int(_rejected(values, col, alpha).sum())
            family = next((f for f in part["family"] if f), "")
            out.append(
                {**dict(zip(TEST_KEYS, key, strict=True)), "family": family, "p_column": col}
                | _rate_row(k, len(values), alpha)
            )
    return pd.DataFrame(out)


def family_wise(rows: pd.DataFrame, columns: Sequence[str], alpha: float) -> pd.DataFrame:
    """Per model (and model × family where headlines name one): the share of draws with any rejection."""
    out = []
    rows = rows[~rows["label_free"]]
    groups: list[tuple[str, str, pd.DataFrame]] = [
        (str(model), "", part) for model, part in rows.groupby("model", sort=False)
    ]
    named = rows[rows["family"] != ""]
    groups += [(str(m), str(f), part) for (m, f), part in named.groupby(["model", "family"], sort=False)]
    for model, family, part in groups:
        for col in columns:
            have = part.dropna(subset=[col])
            if have.empty:
                continue
            anyrej = _rejected(have[col], col, alpha).groupby(have["draw"]).any()
            out.append(
                {"model": model, "family": family or "(all headlines)", "p_column": col}
                | _rate_row(int(anyrej.sum()), len(anyrej), alpha)
                | {"headlines_per_draw": len(have) / len(anyrej)}
            )
    return pd.DataFrame(out)


def pooled(rows: pd.DataFrame, columns: Sequence[str], alpha: float) -> pd.DataFrame:
    """Per model and p column: all headlines × draws together (label-free headlines left out)."""
    out = []
    rows = rows[~rows["label_free"]]
    for model, part in rows.groupby("model", sort=False):
        for col in columns:
            values = part[col].dropna()
            if values.empty:
                continue
            k = int(_rejected(values, col, alpha).sum())
            out.append({"model": model, "p_column": col} | _rate_row(k, len(values), alpha))
    return pd.DataFrame(out)


def _cell(r: pd.Series) -> str:
    flag = " **LIBERAL**" if r["liberal"] else ""
    return f"{r['rate']:.2f} [{r['ci_low']:.2f}, {r['ci_high']:.2f}]{flag}"


def markdown(
    tests: pd.DataFrame,
    fw: pd.DataFrame,
    pool: pd.DataFrame,
    n_draws: int,
    header: str,
    alpha: float,
    columns: Sequence[str],
) -> str:
    """The three tables in Markdown: per test one row with a column per p column ("rate [CI]")."""
    lines = [f"# {header}", ""]
    lines += [
        f"Rejection rate (p ≤ {alpha:g}) over {n_draws} re-drawn labellings, Clopper–Pearson 95% interval; "
        "**LIBERAL**: the interval lies above α.",
        "",
        "## Family-wise: share of draws with any rejection",
        "",
    ]
    if not fw.empty:
        wide = fw.assign(cell=fw.apply(_cell, axis=1)).pivot_table(
            index=["model", "family"], columns="p_column", values="cell", aggfunc="first", sort=False
        )
        lines += _md_table(_ordered(wide, columns))
    lines += ["", "## Pooled: all headlines × draws (interval as if independent: indicative only)", ""]
    if not pool.empty:
        wide = pool.assign(cell=pool.apply(_cell, axis=1)).pivot_table(
            index="model", columns="p_column", values="cell", aggfunc="first", sort=False
        )
        lines += _md_table(_ordered(wide, columns))
    lines += ["", "## Per test", ""]
    if not tests.empty:
        keys = [k for k in TEST_KEYS if (tests[k] != "").any()]
        wide = tests.assign(cell=tests.apply(_cell, axis=1)).pivot_table(
            index=keys, columns="p_column", values="cell", aggfunc="first", sort=False
        )
        lines += _md_table(_ordered(wide, columns))
        n_liberal = tests.groupby("p_column")["liberal"].sum()
        lines += [
            "",
            "Tests flagged LIBERAL per p column: "
            + ", ".join(f"{c} {int(n)}/{int((tests['p_column'] == c).sum())}" for c, n in n_liberal.items()),
        ]
    return "\n".join(lines) + "\n"


def _ordered(wide: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    return wide[[c for c in columns if c in wide.columns]].reset_index().fillna("")


def _md_table(frame: pd.DataFrame) -> list[str]:
    cols = [str(c) for c in frame.columns]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    settings = settings_of(args)
    records = run_draws(args, settings)
    if not records:
        print(f"no finished draws in {args.out}", file=sys.stderr)
        return 1
    columns = list(dict.fromkeys([*args.p_columns, DIFFERS]))
    rows = headline_rows(records, columns)
    columns = [c for c in columns if rows[c].notna().any()]
    tests = per_test(rows, columns, args.alpha)
    fw = family_wise(rows, columns, args.alpha)
    pool = pooled(rows, columns, args.alpha)
    args.out.mkdir(parents=True, exist_ok=True)
    tests.to_csv(args.out / "calibration_tests.csv", index=False)
    fw.to_csv(args.out / "calibration_familywise.csv", index=False)
    pool.to_csv(args.out / "calibration_pooled.csv", index=False)
    seconds = [r["seconds"] for r in records]
    header = (
        f"Calibration on '{args.fact_set}' of {args.store} with re-drawn kinds: {len(records)} draws, "
        f"{args.permutations} permutations, mean {np.mean(seconds):.0f} s per draw"
    )
    text = markdown(tests, fw, pool, len(records), header, args.alpha, columns)
    (args.out / "calibration.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
