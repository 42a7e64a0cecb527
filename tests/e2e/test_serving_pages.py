"""The serving section of a scored submission in Chromium, on a laptop (1366 px) and a phone
(390 px): the figures and the latency-vs-load chart fit the screen, the chart's text is
readable, and axe finds no serious violation in it. Screenshots: var/screenshots/."""

import pytest
from playwright.sync_api import expect

from grading.engine.serving import serving_report
from grading.tests.factories import DatasetFactory, ScoreFactory, SubmissionFactory
from interviews.models import CaseStudy
from interviews.tests.factories import candidate
from tests.e2e.conftest import axe_report, axe_violations, screenshot
from tests.e2e.test_accessibility import log_in
from tests.e2e.test_leaderboard_layout import LAPTOP, PHONE, assert_readable

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_serving_section_reads_well_on_a_laptop_and_a_phone(browser, live_server,
                                                                  catalogue, axe_source):
    case_study = CaseStudy.objects.get(slug="food-delivery-time")
    DatasetFactory(case_study=case_study)
    owner = candidate(username="ada")
    submission = SubmissionFactory(case_study=case_study, candidate=owner, scored=True)
    # A model of about 30 ms a request: within budget at the target, over it in the spike.
    service = [0.018 + 0.008 * ((i * 7) % 10) / 10 for i in range(200)]
    ScoreFactory(submission=submission, serving=serving_report(
        service_seconds=service, load_seconds=0.042, peak_memory_bytes=97 * 2**20,
        request_rows=1, target_rps=20.0, budget_ms=150, seed=12345,
        price_per_core_hour_usd=0.05))
    context = browser.new_context(base_url=live_server.url)
    log_in(context, owner, live_server.url)
    page = context.new_page()
    try:
        for viewport, name in ((LAPTOP, "laptop"), (PHONE, "phone")):
            page.set_viewport_size(viewport)
            page.goto(submission.get_absolute_url())
            section = page.get_by_test_id("serving")
            expect(section).to_be_visible()
            at_target = section.get_by_test_id("serving-at-target")
            expect(at_target).to_contain_text("20 requests/s")
            expect(at_target).not_to_contain_text("over budget")
            expect(section.get_by_test_id("serving-spike")).to_contain_text("over budget")
            expect(section.locator('svg[data-chart="line"]')).to_be_visible()
            assert page.evaluate(
                "document.documentElement.scrollWidth - window.innerWidth") <= 0, name
            assert_readable(page, f"serving chart, {name}")
            section.get_by_test_id("latency-load-chart").scroll_into_view_if_needed()
            screenshot(page, f"submission-serving-{name}", full_page=False, docs=False)
            violations = axe_violations(page, axe_source)
            assert not violations, axe_report(f"submission page, {name}", violations)
    finally:
        context.route("**/*", lambda route: route.abort())
        context.close()
