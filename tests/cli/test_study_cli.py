def test_summary_prints_a_headline_without_interval(capsys):
    """Distance headlines have no interval when the bootstrap cannot centre one (ci None in summary)."""
    from beliefs.cli.study import print_summary

    headline = {"analysis": "kind-distance", "model": "m@random-init", "condition": "empty",
                "statistic": "centroid", "estimate": 0.195, "ci_low": None, "ci_high": None, "p_value": 0.0005}  # fmt: skip
    print_summary({"headlines": [headline]})
    out = capsys.readouterr().out
    assert "0.195 [–, –]" in out
