"""Known-vs-unknown screen for one domain of the matched set: smollm2-135m under `empty` only.

Strips `template` and `pair` (until the loader accepts them), writes a conditions file with the empty
condition alone, runs `beliefs probe` on it, and prints per kind the share of facts whose true form has
the higher log-probability (margin > 0) and the mean margin, with the facts whose margin is negative.
The margins say nothing about kind; they are the only model output used to choose items.

    python scripts/matched/screen.py fact_sets/matched.yaml --out /tmp/screen-logical
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml


def strip(src: Path, dst: Path) -> list[dict]:
    doc = yaml.safe_load(src.read_text(encoding="utf-8"))
    for f in doc["facts"]:
        f.pop("template", None)
        f.pop("pair", None)
    dst.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return doc["facts"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("facts", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="probe run directory (reused if present)")
    parser.add_argument("--model", default="smollm2-135m")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    stripped = args.out.with_name(args.out.name + "-facts.yaml")
    conditions = args.out.with_name(args.out.name + "-empty.yaml")
    facts = strip(args.facts, stripped)
    conditions.write_text('schema_version: 1\nconditions:\n  - {name: empty, prefix: ""}\n', encoding="utf-8")
    beliefs = Path(sys.executable).with_name("beliefs")
    cmd = [
        str(beliefs),
        "probe",
        "--model",
        args.model,
        "--facts",
        str(stripped),
        "--conditions",
        str(conditions),
        "--out",
        str(args.out),
    ]
    subprocess.run(cmd, check=True)
    margins = pd.read_csv(args.out / "margins.csv")
    margins = margins[margins["condition"] == "empty"]
    kinds = {f["id"]: f["kind"] for f in facts}
    margins = margins.assign(kind=margins["fact_id"].map(kinds), known=margins["margin"] > 0)
    print(
        margins.groupby("kind")
        .agg(n=("margin", "size"), share_true_preferred=("known", "mean"), mean_margin=("margin", "mean"))
        .round(3)
        .to_string()
    )
    shares = margins.groupby("kind")["known"].mean()
    print(
        f"difference in share (hinge - contingent): {shares.get('hinge', float('nan')) - shares.get('contingent', float('nan')):+.3f}"
    )
    print("facts whose false form is preferred:")
    print(
        margins.loc[~margins["known"], ["fact_id", "kind", "margin"]]
        .sort_values("fact_id")
        .to_string(index=False)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
