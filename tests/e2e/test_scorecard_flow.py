"""Grading end to end in Debian's Chromium: an interviewer claims a submitted interview,
scores every step against the rubric's anchors, comments, quotes the answer as evidence,
submits and releases; the candidate then sees the verdict, the comments, the evidence and the
radar chart. On the way: the draft survives a reload, the replay slider, the calibration
page. Screenshots: docs/img/grading-*.png."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F
from django.utils import timezone
from playwright.sync_api import expect

from conftest import skip_or_fail
from grading.tests.factories import ScoreFactory
from interviews.models import (
    AnswerRevision,
    CaseStudy,
    ClarifyingQuestion,
    Grade,
    InterviewSession,
    StepTime,
)
from interviews.services.autosave import answer_save
from interviews.services.catalogue import demo_accounts_ensure
from interviews.services.sessions import question_ask, session_start, session_submit
from interviews.tests.factories import candidate, graded, interviewer, released
from tests.e2e.conftest import ROOT, close_quietly, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MERMAID = ROOT / "static" / "vendor" / "mermaid" / "mermaid.min.js"
SLUG = "ad-click-prediction"

# Each step's answer as it grew: (minutes since the start, text).
DRAFTS = {
    1: [(1, "Predict p(click) for each ad."),
        (3, "Predict **p(click)** for every candidate ad shown to a user: a binary "
            "classification whose output must be a *calibrated probability*, because the "
            "auction ranks ads by bid × pCTR.")],
    2: [(6, "Offline: log loss and normalized entropy (NE); ROC AUC as a sanity check.\n\n"
            "Online: CTR and revenue per thousand impressions in an A/B test, with the ad "
            "hide rate as a guardrail.")],
    3: [(9, "- 20 billion impressions a day, about 1% CTR: heavy class imbalance\n"
            "- 80 ms p99 latency budget, 300k QPS at peak\n"
            "- retrain daily; features must be fresh within minutes")],
    4: [(13, "Logistic regression baseline on hashed features."),
        (19, "Start with a logistic regression baseline on hashed features, then a deep and "
             "cross network. Split by time to avoid leakage; after negative downsampling, "
             "recalibrate so that predicted CTR matches the observed rate.")],
    5: [(27, "Candidate ads come from retrieval; the ranking service scores them with "
             "features from the feature store; the auction picks the winners.")],
    6: [(36, "Cache user features, shard the feature store, autoscale the ranking service "
             "and monitor calibration drift with alerts.")],
}
DIAGRAM = ("flowchart LR\n  request[Ad request] --> retrieval[Ad retrieval]\n"
           "  retrieval --> ranking[Ranking service]\n  store[(Feature store)] --> ranking\n"
           "  ranking --> auction[Auction]")
LEVELS = {1: 3, 2: 4, 3: 3, 4: 3, 5: 3, 6: 2, 7: 3}  # weighted mean 3.05: Hire
QUOTE = "Split by time to avoid leakage"


@pytest.fixture
def vendored_mermaid() -> None:
    if not MERMAID.exists():
        skip_or_fail("Mermaid is not vendored: run `make vendor` (part of `make install`)")


def take_interview(user, case_study: CaseStudy) -> InterviewSession:
    """A realistic submitted session: answers that grew over 40 minutes, a diagram,
    clarifying questions and time per step."""
    session, _ = session_start(candidate=user, case_study=case_study)
    for step, drafts in DRAFTS.items():
        for version, (minutes, text) in enumerate(drafts):
            result = answer_save(session=session, step_number=step, text=text,
                                 diagram=DIAGRAM if step == 5 else "", base_version=version)
            AnswerRevision.objects.filter(pk=result.revision.pk).update(
                elapsed_ms=minutes * 60_000 + 17_000)
    for question, minutes in zip(ClarifyingQuestion.objects.filter(case_study=case_study)[:2],
                                 (1, 8), strict=False):
        asked = question_ask(session=session, question=question)
        type(asked).objects.filter(pk=asked.pk).update(elapsed_ms=minutes * 60_000)
    for step, seconds in zip(range(1, 7), (250, 170, 330, 760, 520, 240), strict=True):
        StepTime.objects.filter(session=session, step_number=step).update(seconds=seconds)
    # The interview started 40 minutes ago (its revisions say so too).
    InterviewSession.objects.filter(pk=session.pk).update(
        started_at=F("started_at") - timedelta(minutes=40),
        deadline=F("deadline") - timedelta(minutes=40))
    return session_submit(session=session)


def model_submission(user, case_study: CaseStudy) -> None:
    """A log-loss score from three hours before the interview, its round still open."""
    ScoreFactory(
        submission__candidate=user, submission__case_study=case_study,
        submission__created_at=timezone.now() - timedelta(hours=3),
        public_primary=0.4123456, private_primary=0.4189, public_ci_low=0.4011,
        public_ci_high=0.4236, private_ci_low=0.41, private_ci_high=0.428,
        latency_p50_ms=3.1, latency_p99_ms=11.4)


def double_graded_history() -> None:
    """Past sessions graded by two interviewers each, for the calibration page."""
    maria, tom = interviewer(username="maria"), interviewer(username="tom")
    pairs = [
        ({1: 3, 2: 3, 3: 2, 4: 3, 5: 3, 6: 2}, {1: 3, 2: 2, 3: 2, 4: 3, 5: 2, 6: 2}),
        ({1: 4, 2: 4, 3: 3, 4: 4, 5: 3, 6: 3}, {1: 3, 2: 4, 3: 3, 4: 3, 5: 3, 6: 3}),
        ({1: 2, 2: 2, 3: 2, 4: 1, 5: 2, 6: 1}, {1: 2, 2: 1, 3: 2, 4: 1, 5: 1, 6: 1}),
        ({1: 3, 2: 3, 3: 3, 4: 2, 5: 3, 6: 2}, {1: 2, 2: 3, 3: 1, 4: 2, 5: 3, 6: 2}),
        ({1: 4, 2: 3, 3: 3, 4: 3, 5: 4, 6: 3}, {1: 4, 2: 3, 3: 2, 4: 3, 5: 3, 6: 3}),
    ]
    cases = list(CaseStudy.objects.exclude(slug=SLUG))
    for i, (first, second) in enumerate(pairs):
        session = take_interview(candidate(username=f"past-candidate-{i}"), cases[i % 4])
        InterviewSession.objects.filter(pk=session.pk).update(graders_required=2)
        session.refresh_from_db()
        graded(session, maria, {**first, 7: 3})
        graded(session, tom, {**second, 7: 3 if i % 2 else 2})
        released(session)


def log_in(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("who")).to_contain_text(username)


def select_text(page, step: int, text: str) -> None:
    """Select ``text`` in the rendered answer to ``step``, as a mouse drag would."""
    page.evaluate(
        """([step, text]) => {
          const root = document.querySelector(`[data-testid="answer-${step}"]`);
          const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
          while (walker.nextNode()) {
            const node = walker.currentNode;
            const at = node.textContent.indexOf(text);
            if (at >= 0) {
              const range = document.createRange();
              range.setStart(node, at);
              range.setEnd(node, at + text.length);
              const selection = window.getSelection();
              selection.removeAllRanges();
              selection.addRange(range);
              document.dispatchEvent(new MouseEvent("mouseup", {bubbles: true}));
              return;
            }
          }
          throw new Error(`not found: ${text}`);
        }""",
        [step, text],
    )


def test_interviewer_grades_and_releases_then_the_candidate_reads_the_feedback(
        page, browser, live_server, catalogue, vendored_mermaid):
    accounts = {account.role: account for account in demo_accounts_ensure()}
    case_study = CaseStudy.objects.get(slug=SLUG)
    candidate_user = get_user_model().objects.get(username=accounts["candidate"].username)
    session = take_interview(candidate_user, case_study)
    model_submission(candidate_user, case_study)
    double_graded_history()

    # --- the interviewer claims the session from the queue
    page.set_viewport_size({"width": 1440, "height": 1000})
    log_in(page, accounts["interviewer"].username, accounts["interviewer"].password)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Scorecards").click()
    row = page.get_by_test_id(f"queue-row-{session.pk}")
    expect(row).to_contain_text("candidate")
    expect(row).to_contain_text("Ad Click Prediction")
    expect(row).to_contain_text("Needs a grader")
    page.get_by_test_id(f"claim-{session.pk}").click()
    page.wait_for_url(re.compile(rf"/scorecards/sessions/{session.pk}/$"))
    expect(page.get_by_test_id("grade-save-state")).to_contain_text("Draft")

    # The answer, rendered, beside the anchored descriptors; the model evidence on step 4.
    expect(page.get_by_test_id("answer-1").locator("strong")).to_have_text("p(click)")
    expect(page.get_by_test_id("answer-5").locator("svg")).to_be_visible()
    evidence = page.get_by_test_id("model-evidence")
    expect(evidence).to_contain_text("1 scored submission")
    expect(evidence).to_contain_text("0.4123")  # public log loss, rounded as on the board
    expect(evidence).not_to_contain_text("0.4189")  # the private score: round still open

    # --- score every step; the suggestion follows the rubric
    for step, level in LEVELS.items():
        page.get_by_test_id(f"level-{step}-{level}").click()
    expect(page.get_by_test_id("suggested-verdict")).to_have_text("Hire")
    expect(page.get_by_test_id("weighted-mean")).to_have_text("3.05")
    page.get_by_test_id("comment-4").fill(
        "A sound baseline and a time-based split. Say how you would check calibration per "
        "segment, and what negative downsampling does to the base rate.")
    page.get_by_test_id("comment-6").fill("Name the first bottleneck before the fixes.")

    # Evidence: select words in the answer and quote them.
    select_text(page, 4, QUOTE)
    page.get_by_test_id("quote-button").click()
    expect(page.get_by_test_id("evidence-4")).to_contain_text(f"“{QUOTE}”")
    expect(page.get_by_test_id("answer-4").locator("mark.evidence-mark")).to_have_text(QUOTE)

    # Departing from the suggestion asks for a reason; going back to it does not.
    page.get_by_test_id("verdict").select_option("strong_hire")
    expect(page.get_by_test_id("override-reason")).to_be_visible()
    page.get_by_test_id("verdict").select_option("")
    expect(page.get_by_test_id("override-reason")).to_be_hidden()
    page.get_by_test_id("summary").fill(
        "Clear framing and metrics. To reach Strong hire: quantify the bottlenecks in the "
        "scaling step and plan error analysis by segment.")
    page.get_by_test_id("summary").blur()
    expect(page.get_by_test_id("grade-save-state")).to_contain_text("Draft saved at")

    # The draft survives a reload.
    page.reload()
    expect(page.get_by_test_id("level-4-3").locator("input")).to_be_checked()
    expect(page.get_by_test_id("comment-4")).to_have_value(re.compile("time-based split"))
    expect(page.get_by_test_id("evidence-4")).to_contain_text(QUOTE)
    grade = Grade.objects.get(session=session)
    assert grade.status == "draft" and grade.step_scores.get(step_number=6).level == 2
    page.set_viewport_size({"width": 1440, "height": 1180})
    page.locator("#step-4").evaluate("(card) => window.scrollTo(0, card.offsetTop - 96)")
    screenshot(page, "scorecard-page", full_page=False)
    page.set_viewport_size({"width": 1440, "height": 1000})

    # --- submit (after confirming), then release
    page.get_by_test_id("submit-open").click()
    expect(page.get_by_role("dialog")).to_contain_text("You recommend Hire")
    page.get_by_test_id("submit-confirm").click()
    expect(page.get_by_test_id("final-verdict")).to_have_text("Hire")
    grade.refresh_from_db()
    assert grade.status == "submitted" and str(grade.weighted_mean) == "3.050"
    expect(page.locator("#grade-form")).to_have_count(0)
    page.get_by_test_id("release").click()
    expect(page.locator(".flash")).to_contain_text("Feedback released")

    # --- replay: the slider shows how the answers grew
    page.get_by_test_id("replay-link").click()
    expect(page.get_by_test_id("replay-timeline")).to_be_visible()
    expect(page.get_by_test_id("replay-step-4")).to_contain_text("deep and cross network")
    page.get_by_test_id("replay-slider").evaluate(
        "(slider) => { slider.value = String(15 * 60000); "
        "slider.dispatchEvent(new Event('input', {bubbles: true})); }")
    expect(page.get_by_test_id("replay-frame")).to_have_attribute("data-at", "900000")
    expect(page.get_by_test_id("replay-step-4")).not_to_contain_text("deep and cross network")
    expect(page.get_by_test_id("replay-step-4")).to_contain_text("save 1 of 2")
    expect(page.get_by_test_id("replay-step-6")).to_contain_text("Nothing yet")
    screenshot(page, "scorecard-replay", full_page=False)

    # --- calibration across interviewers
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Calibration").click()
    expect(page.get_by_test_id("cal-sessions")).to_have_text("5")
    expect(page.get_by_test_id("leniency-table")).to_contain_text("maria")
    expect(page.get_by_test_id("kappa-chart").locator("rect.chart-bar")).to_have_count(7)
    screenshot(page, "scorecard-calibration")
    interviewer_errors = list(page.console_errors)

    # --- the candidate sees the released feedback
    context = browser.new_context(base_url=live_server.url,
                                  viewport={"width": 1280, "height": 1500})
    reader = context.new_page()
    reader_errors: list[str] = []
    reader.on("console", lambda msg: msg.type == "error" and reader_errors.append(msg.text))
    log_in(reader, accounts["candidate"].username, accounts["candidate"].password)
    reader.goto("/sessions/")
    expect(reader.get_by_test_id("session-verdict")).to_have_text("Hire")
    expect(reader.get_by_test_id("skill-profile")).to_be_visible()
    reader.get_by_test_id("session-verdict").click()
    expect(reader.get_by_test_id("released-verdict")).to_have_text("Hire")
    radar = reader.get_by_test_id("radar")
    expect(radar.locator("svg")).to_be_visible()
    expect(radar.locator("polygon.chart-series")).to_have_count(1)
    expect(reader.get_by_test_id("feedback")).to_contain_text("To reach Strong hire")
    step4 = reader.get_by_test_id("step-feedback-4")
    expect(step4).to_contain_text("time-based split")
    expect(step4.get_by_test_id("evidence-quote")).to_have_text(f"“{QUOTE}”")
    expect(reader.get_by_test_id("review-step-4").locator("mark.evidence-mark")).to_have_text(
        QUOTE)
    expect(reader.get_by_test_id("step-score-6")).to_have_text("2")
    expect(reader.get_by_test_id("review-diagram").locator("svg")).to_be_visible()
    expect(reader.get_by_test_id("feedback")).not_to_contain_text("interviewer ")
    reader.evaluate("window.scrollTo(0, 0)")
    screenshot(reader, "scorecard-feedback", full_page=False)
    close_quietly(context)

    assert interviewer_errors == [], interviewer_errors
    assert reader_errors == [], reader_errors
