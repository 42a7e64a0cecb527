"""Design claims end to end in Debian's Chromium: a candidate writes claims in steps 2-4 of a
running interview, uploads a model that gets scored (Score rows from the factories, with the
serving and scenario figures in the issue-16 shape, rather than a run of the sandbox), links
it, and sees each claim beside its measurement and verdict; on the review after submitting,
and for the interviewer on the scorecard, as evidence on the step that made the claim.
Screenshots (desktop and 390 px) under var/screenshots/claims-*.png."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from grading.engine.artifacts import MiB
from grading.tests.factories import ScoreFactory
from interviews.models import CaseStudy
from interviews.scorecards.services import grade_claim
from interviews.services.sessions import session_start
from interviews.tests.factories import candidate, interviewer
from tests.e2e.conftest import axe_report, axe_violations, close_quietly, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SLUG = "video-recommendation"  # NDCG@10, higher is better
PASSWORD = "correct-horse-battery"  # the factories' password

SERVING = {
    "version": 1, "load_seconds": 0.18, "peak_memory_bytes": 212_000_000,
    "request_rows": 100, "target_rps": 40.0, "budget_ms": 200, "seed": 12345,
    "at_target": {"rate_rps": 40.0, "requests": 600, "p50_ms": 3.1, "p95_ms": 5.0,
                  "p99_ms": 12.4, "within_budget": True},
    "spike": {"rate_rps": 80.0, "requests": 1200, "p50_ms": 4.0, "p95_ms": 9.0,
              "p99_ms": 21.0, "within_budget": True},
    "curve": [], "max_rate_within_budget_rps": 310.0, "service_ms": 2.4,
    "price_per_core_hour_usd": 0.05, "cost_per_million_usd": 0.83,
}
SCENARIOS = {
    "public": {"cold_start": {"value": 0.31, "low": 0.28, "high": 0.34, "rows": 5120},
               "latest_week": {"value": 0.39, "low": 0.37, "high": 0.41, "rows": 4000}},
    "all": {"cold_start": {"value": 0.3, "low": 0.28, "high": 0.32, "rows": 10240},
            "latest_week": {"value": 0.38, "low": 0.37, "high": 0.39, "rows": 8000}},
}


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("who")).to_contain_text(username)


def add_claim(page, step: int, kind: str, value: str = "", **fields: str) -> None:
    """Open step ``step``'s "Add a claim", fill it in and add it; wait for the panel."""
    panel = page.get_by_test_id(f"claims-step-{step}")
    before = panel.locator("li.claim").count()
    panel.get_by_test_id(f"claim-add-{step}").click()
    form = panel.locator("details.claim-add form")
    form.get_by_test_id("claim-kind").select_option(kind)
    for name, option in fields.items():
        form.get_by_test_id(f"claim-{name}").select_option(option)
    if value:
        form.get_by_test_id("claim-value").fill(value)
    form.get_by_test_id(f"claim-save-{step}").click()
    expect(page.get_by_test_id(f"claims-step-{step}").locator("li.claim")).to_have_count(
        before + 1)


def claim_row(page, step: int, statement: str):
    return page.get_by_test_id(f"claims-step-{step}").locator("li.claim").filter(
        has_text=statement)


def expect_verdict(page, step: int, statement: str, verdict: str, measured: str) -> None:
    row = claim_row(page, step, statement)
    expect(row.get_by_test_id("claim-verdict")).to_have_text(verdict)
    expect(row.get_by_test_id("claim-measurement")).to_have_text(measured)


EXPECTED = [
    (2, "NDCG@10 on held-out data ≥ 0.38", "Supported", "0.4123 [0.4011, 0.4236]"),
    (2, "NDCG@10 on held-out data ≥ 0.45", "Not supported", "0.4123 [0.4011, 0.4236]"),
    (3, "NDCG@10 on the Cold start slice ≥ 0.3", "Inconclusive", "0.3100 [0.2800, 0.3400]"),
    (3, "p99 latency at the target rate (40 requests/s) ≤ 50 ms", "Supported", "12.4 ms"),
    (4, "Beats the reasonable baseline on NDCG@10", "Supported",
     "0.4123 [0.4011, 0.4236] vs 0.3500 [0.3400, 0.3600]"),
    (4, "Model size ≤ 1 MiB", "Not supported", "3.00 MiB"),
]


def test_candidate_claims_links_a_model_and_sees_verdicts_the_interviewer_sees_them_too(
        page, browser, live_server, catalogue, axe_source):
    case_study = CaseStudy.objects.get(slug=SLUG)
    case_study.target_rate_rps = 40.0
    case_study.save(update_fields=["target_rate_rps"])
    author = candidate(username="claire")
    session, _ = session_start(candidate=author, case_study=case_study)
    # The reasonable baseline, scored on the same case study.
    ScoreFactory(submission__case_study=case_study, submission__baseline=True,
                 submission__baseline_name="reasonable", public_primary=0.35,
                 public_ci_low=0.34, public_ci_high=0.36)

    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, "claire")
    page.goto(f"/sessions/{session.pk}/")
    step_4 = page.get_by_test_id("claims-step-4")
    expect(step_4.get_by_test_id("model-link")).to_contain_text("no scored submission")

    # --- claims in steps 2, 3 and 4, before any model exists
    add_claim(page, 2, "heldout_metric", "0.38", metric="ndcg_at_10", comparator="ge")
    add_claim(page, 2, "heldout_metric", "0.45", metric="ndcg_at_10", comparator="ge")
    add_claim(page, 3, "scenario_metric", "0.3", scenario="cold_start", comparator="ge")
    add_claim(page, 3, "latency_p99", "50")
    add_claim(page, 4, "beats_baseline")
    # Bad input: the message says why, and the typed value stays in the form.
    step_4.get_by_test_id("claim-add-4").click()
    form = step_4.locator("details.claim-add form")
    form.get_by_test_id("claim-kind").select_option("model_size")
    form.get_by_test_id("claim-value").fill("-1")
    form.get_by_test_id("claim-save-4").click()
    expect(page.get_by_test_id("claims-step-4").get_by_test_id("claim-error")).to_contain_text(
        "Enter a size in MiB above 0")
    form = page.get_by_test_id("claims-step-4").locator("details.claim-add form")
    expect(form.get_by_test_id("claim-value")).to_have_value("-1")
    form.get_by_test_id("claim-value").fill("1")
    form.get_by_test_id("claim-save-4").click()
    expect(page.get_by_test_id("claims-step-4").locator("li.claim")).to_have_count(2)
    for step, statement, _, _ in EXPECTED:
        expect(claim_row(page, step, statement).get_by_test_id("claim-verdict")).to_have_text(
            "Not measured")

    # --- the candidate's model is scored (in another tab, in real life); they link it
    ScoreFactory(
        submission__candidate=author, submission__case_study=case_study,
        submission__created_at=timezone.now() - timedelta(minutes=1),
        submission__artifact_bytes=3 * MiB, artifact_bytes=3 * MiB,
        public_primary=0.4123456, public_ci_low=0.4011, public_ci_high=0.4236,
        private_primary=0.4189, private_ci_low=0.41, private_ci_high=0.428,
        serving=SERVING, scenarios=SCENARIOS)
    page.reload()
    step_4 = page.get_by_test_id("claims-step-4")
    step_4.get_by_test_id("model-link-select").select_option(index=1)
    step_4.get_by_test_id("model-link-button").click()
    expect(page.get_by_test_id("claims-step-4").get_by_test_id("model-unlink")).to_be_visible()
    # Every step's verdicts, steps 2 and 3 refreshed by the link's event.
    for step, statement, verdict, measured in EXPECTED:
        expect_verdict(page, step, statement, verdict, measured)
    expect(page.get_by_test_id("claims-model-2")).to_contain_text("public split, rounded")
    expect(page.locator("body")).not_to_contain_text("0.4189")  # private: the round is open
    expect(page.get_by_test_id("made-after-scoring")).to_have_count(0)
    violations = axe_violations(page, axe_source)
    assert violations == [], axe_report("session page with claims", violations)
    page.get_by_test_id("claims-step-3").scroll_into_view_if_needed()
    screenshot(page, "claims-session-desktop", full_page=False, docs=False)

    # Editing a claim now, after the model was scored, marks it.
    row = claim_row(page, 2, "≥ 0.45")
    row.locator("details.claim-edit summary").click()
    row.get_by_test_id("claim-value").fill("0.41")
    row.get_by_role("button", name="Save claim").click()
    expect_verdict(page, 2, "NDCG@10 on held-out data ≥ 0.41", "Inconclusive",
                   "0.4123 [0.4011, 0.4236]")
    expect(claim_row(page, 2, "≥ 0.41").get_by_test_id("made-after-scoring")).to_be_visible()
    # Only the refused claim's 422, which the page shows as a message.
    assert [e for e in page.console_errors if "422" not in e] == []

    # --- 390 px
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_test_id("claims-step-4").scroll_into_view_if_needed()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "claims-session-390", full_page=False, docs=False)
    violations = axe_violations(page, axe_source)
    assert violations == [], axe_report("session page with claims at 390 px", violations)

    # --- submit; the review page shows the same verdicts, still editable
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_test_id("submit-open").click()
    page.get_by_test_id("submit-confirm").click()
    page.wait_for_url(re.compile(rf"/sessions/{session.pk}/review/$"))
    for step, statement, verdict, measured in EXPECTED:
        if statement.endswith("≥ 0.45"):
            continue
        expect_verdict(page, step, statement, verdict, measured)
    page.get_by_test_id("claims-step-4").scroll_into_view_if_needed()
    screenshot(page, "claims-review-desktop", full_page=False, docs=False)
    violations = axe_violations(page, axe_source)
    assert violations == [], axe_report("review page with claims", violations)

    # --- the interviewer sees them on the scorecard, on the step that made each claim
    grader = interviewer(username="ivan")
    grade_claim(session=session, grader=grader)
    context = browser.new_context(base_url=live_server.url,
                                  viewport={"width": 1440, "height": 1000})
    try:
        other = context.new_page()
        log_in(other, "ivan")
        other.goto(f"/scorecards/sessions/{session.pk}/")
        for step, statement, verdict, measured in EXPECTED:
            if statement.endswith("≥ 0.45"):
                continue
            expect_verdict(other, step, statement, verdict, measured)
        step_2 = other.get_by_test_id("claims-step-2")
        expect(step_2).to_contain_text("Checked against the candidate's model")
        expect(step_2.get_by_test_id("made-after-scoring")).to_have_count(1)
        expect(other.locator("#step-2 [data-testid=claims-step-2]")).to_have_count(1)
        expect(other.locator(".claims form")).to_have_count(0)  # read-only
        other.get_by_test_id("claims-step-3").scroll_into_view_if_needed()
        screenshot(other, "claims-scorecard-desktop", full_page=False, docs=False)
        violations = axe_violations(other, axe_source)
        assert violations == [], axe_report("scorecard with claims", violations)
        # The replay shows each step's claims too.
        other.goto(f"/scorecards/sessions/{session.pk}/replay/")
        expect(other.get_by_test_id("replay-step-3").get_by_test_id("claims-step-3")
               ).to_contain_text("Cold start")
        other.set_viewport_size({"width": 390, "height": 844})
        other.goto(f"/scorecards/sessions/{session.pk}/")
        other.get_by_test_id("claims-step-3").scroll_into_view_if_needed()
        screenshot(other, "claims-scorecard-390", full_page=False, docs=False)
        assert other.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        close_quietly(context)
