def test_plain_statistics_get_a_beyond_surface_p_only_within_pairs():
    from beliefs.analyses.surface import NO_VALID_STRATA, strata_hold_size

    assert strata_hold_size("pairs")
    assert not strata_hold_size("domain x surface bins") and not strata_hold_size("pairs + domain x template")
    assert "0.275" in NO_VALID_STRATA
