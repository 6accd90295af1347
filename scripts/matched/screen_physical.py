"""Known-vs-unknown screen of a matched fact set: share of true forms preferred under `empty`, by kind.

Usage (from the repository root):

    PYTHONPATH=$PWD python scripts/matched/screen_physical.py fact_sets/matched.yaml \
        /tmp/screen-physical [domain]

Runs ``beliefs probe`` with smollm2-135m under the `empty` condition only (layer 0 kept, to save
space), on a copy of the file without ``template``/``pair`` (which the loader on main does not know
yet), then reads ``margins.csv``: a fact's margin is the log-probability of its true statement minus
that of its false statement. The share of true forms preferred is the share of facts with a margin
above zero. The matched set asks that the hinge and contingent shares differ by at most 0.10 within
each domain. This is the only model output the set's items may be chosen by: it says nothing about
kind. Nothing else (no analysis of states) is run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml


def main(path: str, out: str, domain: str = "physical") -> None:
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = yaml.safe_load(Path(path).read_text())
    for fact in data["facts"]:
        fact.pop("template", None)
        fact.pop("pair", None)
    facts_file = out_dir.parent / f"{out_dir.name}-facts.yaml"
    facts_file.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    conditions = out_dir.parent / f"{out_dir.name}-empty.yaml"
    conditions.write_text('schema_version: 1\nconditions:\n  - {name: empty, prefix: ""}\n')
    beliefs = Path(sys.executable).with_name("beliefs")
    subprocess.run(
        [
            str(beliefs),
            "probe",
            "--model",
            "smollm2-135m",
            "--facts",
            str(facts_file),
            "--conditions",
            str(conditions),
            "--out",
            str(out_dir / "run"),
            "--layers",
            "0",
        ],
        check=True,
    )
    margins = pd.read_csv(out_dir / "run" / "margins.csv")
    kinds = {f["id"]: (f["domain"], f["kind"]) for f in yaml.safe_load(Path(path).read_text())["facts"]}
    templates = {f["id"]: f.get("template") for f in yaml.safe_load(Path(path).read_text())["facts"]}
    margins = margins[margins["condition"] == "empty"].copy()
    margins["domain"] = margins["fact_id"].map(lambda i: kinds[i][0])
    margins["kind"] = margins["fact_id"].map(lambda i: kinds[i][1])
    margins["template"] = margins["fact_id"].map(templates)
    margins = margins[margins["domain"] == domain]
    for model, rows in margins.groupby("model"):
        share = rows.groupby("kind")["margin"].apply(lambda m: float((m > 0).mean()))
        print(
            f"{model} [{domain}]: share of true forms preferred under empty: "
            + ", ".join(f"{k} {v:.3f} (n={int((rows['kind'] == k).sum())})" for k, v in share.items())
            + f"; difference {abs(share.get('hinge', 0) - share.get('contingent', 0)):.3f}"
        )
        by_template = rows.groupby(["template", "kind"])["margin"].apply(lambda m: (m > 0).mean())
        print(by_template.unstack().round(2).to_string())
        wrong = rows[rows["margin"] <= 0].sort_values(["kind", "margin"])
        print("facts whose false form is preferred:")
        for _, r in wrong.iterrows():
            print(f"  {r['kind']:10s} {r['fact_id']:40s} {r['margin']:+.2f}")


if __name__ == "__main__":
    main(*sys.argv[1:])
