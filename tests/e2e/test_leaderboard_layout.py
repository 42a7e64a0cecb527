"""The leaderboard and a scored submission's charts as a reader sees them on a laptop
(1366 px) and on a phone (390 px): the table fits its card, a phone shows every row's
primary metric without a sideways scroll, and chart text is at least ``MIN_TEXT_PX`` on
screen (an SVG's text shrinks with its viewBox, so the size that matters is the drawn one).
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from grading.models import Leaderboard
from grading.services.leaderboards import leaderboard_close, leaderboard_for
from grading.tests.factories import (
    DatasetFactory,
    LeaderboardEntryFactory,
    LeaderboardRecordFactory,
    ScoreFactory,
    SubmissionFactory,
)
from interviews.models import CaseStudy
from interviews.tests.factories import candidate
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 860}
PHONE = {"width": 390, "height": 844}
MIN_TEXT_PX = 11  # the smallest chart text on screen, in CSS pixels

# Every chart's text on screen: its font size in viewBox units times the drawn scale.
CHART_TEXT = """() => [...document.querySelectorAll("svg.chart")].flatMap((svg) => {
  const box = svg.getBoundingClientRect();
  if (!box.width) return [];  // not shown at this width
  const scale = box.width / svg.viewBox.baseVal.width;
  return [...svg.querySelectorAll("text")].map((text) => ({
    chart: svg.dataset.chart, text: text.textContent,
    px: parseFloat(getComputedStyle(text).fontSize) * scale}));
})"""


def ad_click_board() -> Leaderboard:
    """Ad click prediction (five secondary metrics: the widest table) with twelve candidates,
    long names among them, two baselines, a best-score history and serving figures."""
    case_study = CaseStudy.objects.get(slug="ad-click-prediction")
    DatasetFactory(case_study=case_study)
    board = leaderboard_for(case_study)
    Leaderboard.objects.filter(pk=board.pk).update(is_public=True)
    now = timezone.now()
    for i in range(14):
        value = 0.4 + i * 0.0123456
        name = f"candidate-with-a-long-name-{i}" if i % 5 == 0 else f"cand{i}"
        fields = {"candidate": candidate(username=name)} if i not in (3, 9) else {
            "baseline": True}
        split = {"log_loss": value, "normalized_entropy": 0.81234, "roc_auc": 0.71234,
                 "pr_auc": 0.21234, "expected_calibration_error": 0.01234,
                 "calibration_ratio": 1.01234}
        LeaderboardEntryFactory(
            leaderboard=board, public_primary=value, private_primary=value + 0.05 * (i % 3),
            metrics={"public": split, "private": split}, latency_p99_ms=12.5,
            serving={"target_rps": 300.0, "budget_ms": 80, "p99_ms": 0.4567 * (i + 1) ** 2,
                     "within_budget": i < 12, "max_rate_within_budget_rps": 12_345.0 / (i + 1),
                     "cost_per_million_usd": 0.001125 * (i + 1)},
            submission_count=12, last_submitted_at=now - timedelta(minutes=i),
            **fields)
        if "candidate" in fields:
            LeaderboardRecordFactory(leaderboard=board, public_primary=value,
                                     achieved_at=now - timedelta(hours=i))
    return board


def chart_text_sizes(page) -> list[dict]:
    sizes = page.evaluate(CHART_TEXT)
    assert sizes, "no chart drawn"
    return sizes


def assert_readable(page, where: str) -> None:
    small = [s for s in chart_text_sizes(page) if s["px"] < MIN_TEXT_PX - 0.05]
    assert not small, (where, sorted(small, key=lambda s: s["px"])[:5])


def test_the_leaderboard_fits_a_laptop_and_a_phone(page, catalogue):
    board = ad_click_board()
    url = f"/case-studies/{board.case_study.slug}/leaderboard/"

    page.set_viewport_size(LAPTOP)
    page.goto(url)
    expect(page.get_by_test_id("row")).to_have_count(14)
    screenshot(page, "leaderboard-laptop", docs=False)
    table = page.locator("#leaderboard-table .table-scroll")
    # Nothing cut: the table is no wider than its card, so there is nothing to scroll to.
    assert table.evaluate("el => el.scrollWidth - el.clientWidth") <= 0
    panel = page.locator("#leaderboard-table").bounding_box()
    for header in page.locator("#leaderboard-table th").all():
        box = header.bounding_box()
        assert box["x"] + box["width"] <= panel["x"] + panel["width"], header.inner_text()
    assert_readable(page, "leaderboard, laptop")

    page.set_viewport_size(PHONE)
    page.goto(url)
    page.get_by_test_id("leaderboard").scroll_into_view_if_needed()
    screenshot(page, "leaderboard-phone", full_page=False, docs=False)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    assert table.evaluate("el => el.scrollWidth - el.clientWidth") <= 0
    for row in page.get_by_test_id("row").all()[:6]:
        row.scroll_into_view_if_needed()
        primary = row.get_by_test_id("primary")
        expect(primary).to_be_visible()
        box = primary.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert_readable(page, "leaderboard, phone")

    # After the close: the private ranking with its shake-up, on a phone too.
    leaderboard_close(leaderboard=board)
    page.goto(url)
    expect(page.get_by_test_id("ranked-on")).to_contain_text("private part")
    expect(page.get_by_test_id("shake-up").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.get_by_test_id("leaderboard").scroll_into_view_if_needed()
    screenshot(page, "leaderboard-private-phone", full_page=False, docs=False)
    page.set_viewport_size(LAPTOP)
    page.goto(url)
    screenshot(page, "leaderboard-private-laptop", docs=False)
    assert table.evaluate("el => el.scrollWidth - el.clientWidth") <= 0
    assert page.console_errors == [], page.console_errors


def test_a_closed_rounds_residual_histogram_shows_its_tails_in_readable_text(page, catalogue):
    """Food delivery, after the close: the residual histogram's overflow bins say how many
    rows lie beyond the range drawn, and every chart's text is readable on both screens."""
    case_study = CaseStudy.objects.get(slug="food-delivery-time")
    DatasetFactory(case_study=case_study)
    owner = candidate(username="ada")
    submission = SubmissionFactory(case_study=case_study, candidate=owner, scored=True)
    edges = [-12 + 0.6 * i for i in range(41)]
    counts = [int(200 * 2.718 ** (-((e + 0.3) ** 2) / 20)) for e in edges[:-1]]
    plots = {"residuals": {"edges": edges, "counts": counts, "below": 37, "above": 52},
             "predicted_vs_actual": [[20.5, 21.5, 14], [30.5, 29.5, 12], [40.5, 44.5, 9]]}
    ScoreFactory(submission=submission, public_primary=6.1, private_primary=6.3,
                 plots={"public": plots, "all": plots},
                 per_slice={"public": {"week 1": 6.0, "week 2": 6.2},
                            "all": {"week 1": 6.1, "week 2": 6.4}})
    leaderboard_close(leaderboard=leaderboard_for(case_study))
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("who")).to_contain_text("ada")

    for viewport, name in ((LAPTOP, "laptop"), (PHONE, "phone")):
        page.set_viewport_size(viewport)
        page.goto(submission.get_absolute_url())
        histogram = page.locator('svg[data-chart="histogram"]')
        expect(histogram).to_be_visible()
        overflow = histogram.locator(".chart-overflow text")
        expect(overflow).to_have_count(2)
        expect(overflow.first).to_contain_text("<")
        expect(histogram.locator(".chart-overflow rect title").first).to_contain_text("37")
        assert_readable(page, f"submission charts, {name}")
        page.get_by_test_id("charts").scroll_into_view_if_needed()
        screenshot(page, f"submission-charts-{name}", docs=False)
    assert page.console_errors == [], page.console_errors
