def test_summary_prints_a_headline_without_interval(capsys):
    """Distance headlines have no interval when the bootstrap cannot centre one (ci None in summary)."""
    from beliefs.cli.study import print_summary

    headline = {"analysis": "kind-distance", "model": "m@random-init", "condition": "empty",
                "statistic": "centroid", "estimate": 0.195, "ci_low": None, "ci_high": None, "p_value": 0.0005}  # fmt: skip
    print_summary({"headlines": [headline]})
    out = capsys.readouterr().out
    assert "0.195 [–, –]" in out


def test_summary_prints_the_verdict_words(capsys, monkeypatch):
    from beliefs.cli._common import console
    from beliefs.cli.study import print_summary

    monkeypatch.setattr(console, "width", 250)

    base = {"model": "m", "condition": "empty", "estimate": 0.9, "ci_low": 0.8, "ci_high": 0.95}
    heads = [
        {**base, "analysis": "kind-probe", "statistic": "massmean_bacc", "p_value": 0.001,
         "p_beyond_surface": 0.01, "p_equivalence": 0.9, "verdict": "differs"},
        {**base, "analysis": "default-belief", "statistic": "margin_per_token_diff", "p_value": 0.6,
         "p_equivalence": 0.01},  # no stored verdict: recomputed with the one rule
    ]  # fmt: skip
    print_summary({"headlines": heads})
    out = capsys.readouterr().out
    assert "differs" in out and "equivalent" in out and "p beyond" in out
