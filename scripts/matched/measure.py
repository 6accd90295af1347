"""Surface measures of one domain of the matched set, with no model output except tokens.

Prints, per domain: pairs and templates per kind; the within-pair difference of the true statements in
smollm2-135m tokens (absolute length difference, and Levenshtein distance over the token sequences)
and in words; the Zipf frequency (wordfreq, English) of the slot words (the words in which the two
statements of a pair differ) by kind, for all slot words and for alphabetic ones only; the share of
negated, first-person and digit-bearing statements by kind; and the leave-template-out surface
classifier: word 1-2-grams + character 2-4-grams (tf-idf) + length in words, logistic regression,
GroupKFold over templates, balanced accuracy of hinge vs contingent (and the same on the false forms).

    python scripts/matched/measure.py fact_sets/matched.yaml [--domain logical]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

import numpy as np
import yaml
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GroupKFold
from wordfreq import zipf_frequency

NEGATION = re.compile(r"\b(not|no|never|none|nothing|nobody|neither|nor|n't)\b", re.I)
FIRST_PERSON = re.compile(r"\b(i|me|my|mine|myself|we|us|our)\b", re.I)


def words(text: str) -> list[str]:
    return re.findall(r"[\w'/-]+", text.lower())


def levenshtein(a: list[int], b: list[int]) -> int:
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def slot_words(a: str, b: str) -> tuple[list[str], list[str]]:
    """Words of a not in b and of b not in a (as multisets)."""
    ca, cb = Counter(words(a)), Counter(words(b))
    return list((ca - cb).elements()), list((cb - ca).elements())


def _features(
    texts: list[str],
    idx: np.ndarray,
    vectorizers: tuple[TfidfVectorizer, TfidfVectorizer],
    fit: bool,
    mu: float,
    sd: float,
) -> csr_matrix:
    sub = [texts[i] for i in idx]
    mats = [v.fit_transform(sub) if fit else v.transform(sub) for v in vectorizers]
    length = np.array([[len(words(t))] for t in sub], dtype=float)
    return hstack([*mats, csr_matrix((length - mu) / sd)]).tocsr()


def surface_accuracy(texts: list[str], y: np.ndarray, groups: list[str], seed: int = 0) -> float:
    """Balanced accuracy of a bag-of-n-grams classifier, each fold leaving whole templates out."""
    n_splits = min(5, len(set(groups)))
    pred = np.empty_like(y)
    lengths = np.array([len(words(t)) for t in texts], dtype=float)
    for train, test in GroupKFold(n_splits=n_splits).split(texts, y, groups):
        vecs = (
            TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=r"[\w'/-]+"),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)),
        )
        mu, sd = float(lengths[train].mean()), float(lengths[train].std() or 1.0)
        clf = LogisticRegression(max_iter=5000, random_state=seed)
        clf.fit(_features(texts, train, vecs, True, mu, sd), y[train])
        pred[test] = clf.predict(_features(texts, test, vecs, False, mu, sd))
    return float(balanced_accuracy_score(y, pred))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("facts", type=Path)
    parser.add_argument("--domain", default=None)
    parser.add_argument("--tokenizer", default="smollm2-135m")
    args = parser.parse_args()
    facts = yaml.safe_load(args.facts.read_text(encoding="utf-8"))["facts"]
    domains = sorted({f["domain"] for f in facts}) if args.domain is None else [args.domain]
    from beliefs.facts.tokens import load_tokenizer

    tok = load_tokenizer(args.tokenizer)
    ids = lambda s: tok(s, add_special_tokens=False)["input_ids"]  # noqa: E731
    for domain in domains:
        fs = [f for f in facts if f["domain"] == domain]
        by_id = {f["id"]: f for f in fs}
        hinges = [f for f in fs if f["kind"] == "hinge"]
        print(
            f"== {domain}: {len(hinges)} pairs, {len({f['template'] for f in fs})} templates, "
            f"{Counter(f['kind'] for f in fs)}"
        )
        len_d, lev_d, word_d, big = [], [], [], []
        zipf: dict[str, list[float]] = {"hinge": [], "contingent": []}
        alpha: dict[str, list[float]] = {"hinge": [], "contingent": []}
        for h in hinges:
            c = by_id[h["pair"]]
            th, tc = ids(h["statement"]), ids(c["statement"])
            len_d.append(abs(len(th) - len(tc)))
            lev_d.append(levenshtein(th, tc))
            word_d.append(abs(len(words(h["statement"])) - len(words(c["statement"]))))
            if len_d[-1] > 2:
                big.append(f"{h['id']}/{c['id']}: {len(th)} vs {len(tc)} tokens")
            sh, sc = slot_words(h["statement"], c["statement"])
            for kind, ws in (("hinge", sh), ("contingent", sc)):
                for w in ws:
                    z = zipf_frequency(w, "en")
                    zipf[kind].append(z)
                    if w.isalpha():
                        alpha[kind].append(z)
        print(
            f"token length difference within pairs: mean {np.mean(len_d):.2f}, max {max(len_d)}; "
            f"token edit distance: mean {np.mean(lev_d):.2f}, max {max(lev_d)}; "
            f"word length difference: mean {np.mean(word_d):.2f}, max {max(word_d)}"
        )
        for line in big:
            print("  over 2 tokens:", line)
        for kind in ("hinge", "contingent"):
            print(
                f"slot-word Zipf {kind}: all {np.mean(zipf[kind]):.2f} (n={len(zipf[kind])}), "
                f"alphabetic {np.mean(alpha[kind]):.2f} (n={len(alpha[kind])})"
            )
        for kind in ("hinge", "contingent"):
            st = [f["statement"] for f in fs if f["kind"] == kind]
            print(
                f"{kind}: negated {np.mean([bool(NEGATION.search(s)) for s in st]):.2f}, first person "
                f"{np.mean([bool(FIRST_PERSON.search(s)) for s in st]):.2f}, digits "
                f"{np.mean([bool(re.search(r'[0-9]', s)) for s in st]):.2f}, mean words "
                f"{np.mean([len(words(s)) for s in st]):.2f}"
            )
        y = np.array([f["kind"] == "hinge" for f in fs], dtype=int)
        groups = [f["template"] for f in fs]
        for form in ("statement", "false_statement"):
            acc = surface_accuracy([f[form] for f in fs], y, groups)
            print(f"leave-template-out surface balanced accuracy ({form}): {acc:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
