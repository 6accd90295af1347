"""Verdict rows, numbers and the page built from a fixture summary that carries the newer verdict fields
(family, domain, decided_by, p_family, gated, verdict_*, how)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from beliefs.analyses import synthetic_run
from beliefs.report import write_report
from beliefs.report.build import agreement
from beliefs.report.numbers import num, pval
from beliefs.report.rows import verdict_row, verdict_rows

FIXTURE = Path(__file__).with_name("fixtures") / "summary.json"


def headlines() -> list[dict[str, object]]:
    return list(json.loads(FIXTURE.read_text())["headlines"])


def find(statistic: str, **where: object) -> dict[str, object]:
    return next(
        h for h in headlines() if h["statistic"] == statistic and all(h.get(k) == v for k, v in where.items())
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.616, "0.616"),
        (0.62, "0.620"),
        (0.0117, "0.0117"),
        (38.162, "38.2"),
        (0.0, "0"),
        (1234.5, "1,234"),
        (None, "–"),
        (float("nan"), "–"),
    ],
)
def test_three_significant_figures(value: float | None, text: str) -> None:
    assert num(value) == text


def test_p_at_the_permutation_floor_and_below_a_thousandth() -> None:
    assert pval(1 / 2001, 2000) == "≤ 1/2,001"
    assert pval(2 / 2001, 2000) == "< 0.001"
    assert pval(4.9e-184) == "< 0.001"
    assert pval(0.5612, 2000) == "0.561"
    assert pval(None) == "–"


def test_a_beyond_surface_verdict_shows_the_p_that_decided_it() -> None:
    row = verdict_row(find("energy"))  # plain p 0.5612, beyond-surface p 0.0125: differs (negligible)
    assert row.verdict == "differs (negligible)"
    assert row.decided_by == "beyond-surface p (family-adjusted) 0.025"
    assert row.p_value == "0.561" and row.p_beyond_surface == "0.013"
    assert "beyond-surface test rejects" in row.how or row.how  # a stored `how` is shown as it is


def test_the_verdict_statistic_is_the_increment() -> None:
    row = verdict_row(find("massmean_bacc", domain="", model="toy"))
    assert row.shown_statistic == "delta_brier" and row.estimate == "0.0105"
    assert row.interval == "[0.00510, 0.0155]" and row.sesoi == "0.006"
    assert row.how.startswith("Primary:")


def test_degenerate_baseline_and_gated_rows_are_not_findings() -> None:
    rows = {r.statistic: r for r in verdict_rows(headlines(), 999)}
    assert rows["truth_direction_angle"].status == "degenerate"
    assert rows["truth_direction_angle"].estimate == "0 (collapsed)"
    assert rows["ridge_bacc"].status == "baseline"
    assert rows["centroid"].status == "gated"
    assert not any(r.counts for r in rows.values() if r.status != "tested")


def test_derived_how_without_the_new_fields() -> None:
    old = {k: v for k, v in find("energy").items() if k not in ("how", "decided_by", "p_family")}
    row = verdict_row(old, 2000)
    assert row.decided_by == "beyond-surface p 0.013"
    assert "does not (p 0.561): the wording masked the difference" in row.how
    assert "negligible" in row.how


def test_agreement_leaves_out_what_is_not_a_finding() -> None:
    mine = {"headlines": headlines(), "n_permutations": 999}
    other = {"headlines": headlines(), "n_permutations": 999}
    table = agreement(mine, "toy", other, "toy")
    assert (table["agree"] == "yes").all()
    assert table.attrs["left_out"] == 3  # surface baseline, degenerate angle, gated centroid
    assert not table["statistic"].str.contains("angle|ridge").any()


def test_page_from_the_fixture(tmp_path: Path) -> None:
    run = synthetic_run(n_facts=40, random_init_control=True)
    summary = json.loads(FIXTURE.read_text())
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "summary.json").write_text(FIXTURE.read_text())  # a results folder, as a study's
    write_report(run, tmp_path, summary=summary, tables_dir=tmp_path / "tables")
    html = (tmp_path / "report.html").read_text()
    md = (tmp_path / "report.md").read_text()
    assert '<meta name="viewport"' in html and 'id="answer"' in html
    assert html.index('id="answer"') < html.index('id="contents"') < html.index('id="verdicts"')
    assert "the random-init control differs too" in html
    assert "Kind beyond the wording (logical)" in html and "Kind beyond the wording (physical)" in html
    assert "degenerate: not a finding" in md and "withheld (primary did not reject)" in md
    assert "e-184" not in md and "/work/" not in html and "/tmp/" not in html
    assert md.count("(#q-kind)") >= 1 and '<a id="q-kind"></a>' in md


def test_the_answer_card_gives_the_primary_per_domain_even_when_secondary() -> None:
    from beliefs.report.answer import answer_cards

    pooled = dict(find("massmean_bacc", domain="", model="toy"))
    physical = {**pooled, "domain": "physical", "family": "secondary", "verdict": "differs"}
    other = {**pooled, "condition": "encyclopedia", "family": "secondary"}
    rows = verdict_rows([pooled, physical, other], 999)
    (card,) = answer_cards(rows, ["toy"])
    kind = [s.question for s in card.sentences if s.anchor == "q-kind"]
    assert kind == ["Kind beyond the wording (pooled)", "Kind beyond the wording (physical)"]


def test_an_interval_endpoint_near_zero_is_not_in_e_notation() -> None:
    from beliefs.report.numbers import interval

    assert interval(-8.52e-06, 0.0116) == "[-0.0000, 0.0116]"
    assert interval(0.00321, 0.011) == "[0.00321, 0.0110]"
    assert interval(-1e-5, 2e-5) == "[-1.00e-05, 2.00e-05]"
