"""The typed headline names keys that summaries really have (a refactor must not rename them), and the
one verdict rule reads stored verdicts first."""

from __future__ import annotations

import json
from pathlib import Path

from beliefs.results.headline import Headline
from beliefs.results.verdict import attach_verdicts, verdict_word

SUMMARY = Path(__file__).resolve().parents[2] / "analyses" / "default" / "core" / "tables" / "summary.json"


def test_headline_keys_are_summary_keys():
    """Every key of the type is in the committed default summary, verdicts recomputed by today's rule."""
    headlines = json.loads(SUMMARY.read_text())["headlines"]
    attach_verdicts(headlines)
    seen = {k for h in headlines for k in h}
    assert set(Headline.__annotations__) - seen == set()


def test_verdict_word_prefers_the_stored_verdict():
    assert verdict_word({"verdict": "equivalent", "p_value": 0.001}) == "equivalent"
    assert verdict_word({"p_value": 0.001}) == "surface-explained"
    assert verdict_word({"p_value": 0.5, "p_beyond_surface": 0.01}) == "differs"
    assert verdict_word({"p_value": 0.5}) == "inconclusive"
