"""Check the pair rules of a matched fact-set file and report its matching figures.

Usage (from the repository root):

    PYTHONPATH=$PWD python scripts/matched/check_pairs_physical.py fact_sets/matched.yaml

Checks, each printed as ``FAIL <fact id>: ...`` (exit status 1 if any):

- the file validates with ``beliefs facts validate`` once ``template`` and ``pair`` are stripped (the
  loader on main does not know them yet);
- every fact has ``template`` and ``pair``; pairs are reciprocal, same domain and template, opposite kind;
- the statements of a pair differ by at most 2 smollm2 tokens (token edit distance, which bounds the
  length difference too), and so do the false statements;
- false forms of a pair use the same kind of edit (both negations or both substitutions: a negation is a
  change in the count of "not"/"cannot"/"no"/"never" words between statement and false statement);
- contexts of a pair are within 20% of each other in words (support with support, contradict with
  contradict); no context contains its own statement or false statement verbatim;
- every first-person fact names a third-person twin of the same kind in its note ("twin <id>").

Figures (printed): pairs and templates per kind, mean token edit distance and length difference within
pairs, mean Zipf frequency (wordfreq, English) of the slot words by kind, share of first-person facts.
Slot words: the content words of one statement of a pair that are not in the other (articles and the
person/number words of the frame excluded by construction: they are shared).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from statistics import mean

import wordfreq
import yaml

from beliefs.facts.tokens import load_tokenizer

NEGATORS = {"not", "cannot", "no", "never", "nobody", "none", "n't"}
FUNCTION = {"a", "an", "the"}
FIRST_PERSON = re.compile(r"\b(I|my|me|mine|myself)\b")


def edit_distance(a: list[int], b: list[int]) -> int:
    """Levenshtein distance between two token sequences."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[:], i
        for j, y in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (x != y))
    return row[-1]


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9'-]+", text.lower())


def negations(text: str) -> int:
    return sum(w in NEGATORS or w.endswith("n't") for w in words(text))


def validate_stripped(path: Path) -> list[str]:
    """Run ``beliefs facts validate`` on a copy without ``template``/``pair``."""
    data = yaml.safe_load(path.read_text())
    for fact in data["facts"]:
        fact.pop("template", None)
        fact.pop("pair", None)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / path.name
        copy.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        beliefs = Path(sys.executable).with_name("beliefs")
        run = subprocess.run([str(beliefs), "facts", "validate", str(copy)], capture_output=True, text=True)
    return [] if run.returncode == 0 else [f"FAIL validate: {run.stdout.strip()} {run.stderr.strip()}"]


def main(path_arg: str) -> int:
    path = Path(path_arg)
    facts = [f for f in yaml.safe_load(path.read_text())["facts"] if f["domain"] == "physical"]
    by_id = {f["id"]: f for f in facts}
    fails = validate_stripped(path)
    tok = load_tokenizer("smollm2-135m")

    def ids(text: str) -> list[int]:
        return list(tok(text, add_special_tokens=False)["input_ids"])

    seen: set[str] = set()
    eds, dls, f_eds = [], [], []
    zipf: dict[str, list[float]] = {"hinge": [], "contingent": []}
    templates: dict[str, set[str]] = {"hinge": set(), "contingent": set()}
    for f in facts:
        fid = f["id"]
        if "template" not in f or "pair" not in f:
            fails.append(f"FAIL {fid}: no template or pair")
            continue
        templates[f["kind"]].add(f["template"])
        if FIRST_PERSON.search(f["statement"]):
            twin = re.search(r"twin ([a-z0-9-]+)", f.get("note", ""))
            other = by_id.get(twin.group(1)) if twin else None
            if other is None or other["kind"] != f["kind"] or FIRST_PERSON.search(other["statement"]):
                fails.append(f"FAIL {fid}: first person without a third-person twin of its kind")
        for key in ("support", "contradict"):
            ctx = f["contexts"][key]
            for form in ("statement", "false_statement"):
                if f[form].rstrip(".").lower() in ctx.lower():
                    fails.append(f"FAIL {fid}: {key} context contains the {form}")
        if fid in seen:
            continue
        p = by_id.get(f["pair"])
        if p is None or p.get("pair") != fid:
            fails.append(f"FAIL {fid}: pair {f['pair']} missing or not reciprocal")
            continue
        seen |= {fid, p["id"]}
        if p["domain"] != f["domain"] or p["template"] != f["template"] or p["kind"] == f["kind"]:
            fails.append(f"FAIL {fid}: pair {p['id']} differs in domain/template or shares kind")
        ed = edit_distance(ids(f["statement"]), ids(p["statement"]))
        f_ed = edit_distance(ids(f["false_statement"]), ids(p["false_statement"]))
        eds.append(ed)
        f_eds.append(f_ed)
        dls.append(abs(len(ids(f["statement"])) - len(ids(p["statement"]))))
        if ed > 2:
            fails.append(f"FAIL {fid}: statements differ from {p['id']} by {ed} tokens")
        if f_ed > 2:
            fails.append(f"FAIL {fid}: false statements differ from {p['id']} by {f_ed} tokens")
        edit_a = negations(f["false_statement"]) != negations(f["statement"])
        edit_b = negations(p["false_statement"]) != negations(p["statement"])
        if edit_a != edit_b:
            fails.append(f"FAIL {fid}: false-form edit (negation vs substitution) differs from {p['id']}")
        for key in ("support", "contradict"):
            na, nb = len(f["contexts"][key].split()), len(p["contexts"][key].split())
            if abs(na - nb) > 0.2 * max(na, nb):
                fails.append(f"FAIL {fid}: {key} length {na} vs {nb} words in {p['id']}")
        wa, wb = words(f["statement"]), words(p["statement"])
        for fact, mine, theirs in ((f, wa, wb), (p, wb, wa)):
            slot = [w for w in mine if w not in theirs and w not in FUNCTION]
            if slot:
                zipf[fact["kind"]].append(mean(wordfreq.zipf_frequency(w, "en") for w in slot))

    kinds = Counter(f["kind"] for f in facts)
    first = sum(bool(FIRST_PERSON.search(f["statement"])) for f in facts)
    print(f"{path}: {len(facts)} facts, {len(eds)} pairs; kinds {dict(kinds)}")
    print(
        f"templates: {len(templates['hinge'] | templates['contingent'])} "
        f"(hinge {len(templates['hinge'])}, contingent {len(templates['contingent'])})"
    )
    print(f"pairs per template: {dict(Counter(f['template'] for f in facts if f['kind'] == 'hinge'))}")
    print(
        f"statement token edit distance within pairs: mean {mean(eds):.2f}, max {max(eds)}; "
        f"token length difference: mean {mean(dls):.2f}, max {max(dls)}"
    )
    print(f"false-statement token edit distance within pairs: mean {mean(f_eds):.2f}, max {max(f_eds)}")
    for kind, values in zipf.items():
        print(f"slot-word Zipf ({kind}): mean {mean(values):.2f} over {len(values)} facts")
    print(f"first-person facts: {first} of {len(facts)}")
    for line in fails:
        print(line)
    print("OK" if not fails else f"{len(fails)} problems")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "fact_sets/matched.yaml"))
