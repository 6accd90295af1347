"""Leave-template-out surface classifier for hinge vs contingent in one domain of a matched fact set.

Usage (from the repository root):

    PYTHONPATH=$PWD python scripts/matched/surface_physical.py fact_sets/matched.yaml [domain]

Features: word 1-2-grams and character 2-4-grams (binary presence, within word boundaries) and the
length in words; a logistic regression (scikit-learn defaults, balanced class weights); folds leave
one whole template out (LeaveOneGroupOut over ``template``), so that a fold's test facts share no
frame with its training facts. The figure is the balanced accuracy of the pooled out-of-fold
predictions (with its per-fold mean beside it), for the statements, the false statements, both
forms of each fact joined, and the support and contradict passages (a check on their genre). Chance is 0.5; the matched set asks for at most 0.60 on the statements.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import yaml
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import LeaveOneGroupOut


def features(train: list[str], test: list[str]) -> tuple[csr_matrix, csr_matrix]:
    """Word and character n-grams fitted on the training texts, plus the length in words."""
    words = CountVectorizer(ngram_range=(1, 2), binary=True, token_pattern=r"(?u)\b\w+\b")
    chars = CountVectorizer(analyzer="char_wb", ngram_range=(2, 4), binary=True)
    length = np.array([[len(t.split())] for t in train + test], dtype=float)
    length = (length - length[: len(train)].mean()) / (length[: len(train)].std() or 1.0)
    x_train = hstack([words.fit_transform(train), chars.fit_transform(train), length[: len(train)]])
    x_test = hstack([words.transform(test), chars.transform(test), length[len(train) :]])
    return csr_matrix(x_train), csr_matrix(x_test)


def leave_template_out(texts: list[str], kinds: np.ndarray, templates: np.ndarray) -> tuple[float, float]:
    """Pooled and per-fold mean balanced accuracy of leave-one-template-out predictions."""
    pred = np.empty_like(kinds)
    per_fold = []
    for train, test in LeaveOneGroupOut().split(texts, kinds, templates):
        x_train, x_test = features([texts[i] for i in train], [texts[i] for i in test])
        model = LogisticRegression(max_iter=5000, class_weight="balanced")
        model.fit(x_train, kinds[train])
        pred[test] = model.predict(x_test)
        per_fold.append(balanced_accuracy_score(kinds[test], pred[test]))
    return float(balanced_accuracy_score(kinds, pred)), float(np.mean(per_fold))


def main(path: str, domain: str = "physical") -> None:
    facts = [f for f in yaml.safe_load(Path(path).read_text())["facts"] if f["domain"] == domain]
    kinds = np.array([f["kind"] for f in facts])
    templates = np.array([f["template"] for f in facts])
    forms = {
        "statement": [f["statement"] for f in facts],
        "false_statement": [f["false_statement"] for f in facts],
        "both": [f"{f['statement']} {f['false_statement']}" for f in facts],
        "support": [f["contexts"]["support"] for f in facts],
        "contradict": [f["contexts"]["contradict"] for f in facts],
    }
    print(f"{path} [{domain}]: {len(facts)} facts, {len(set(templates))} templates (one left out per fold)")
    for name, texts in forms.items():
        pooled, fold_mean = leave_template_out(texts, kinds, templates)
        print(
            f"leave-template-out balanced accuracy ({name}): {pooled:.3f} pooled, {fold_mean:.3f} fold mean"
        )


if __name__ == "__main__":
    main(*sys.argv[1:])
