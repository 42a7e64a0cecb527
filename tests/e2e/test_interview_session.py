"""A whole timed interview in Debian's Chromium: answers, autosave, reload, a conflict between
two tabs, early submission and the review; then a short interview that runs out, where a tab
whose timers stalled (a sleeping laptop) has its late edit refused by the server."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from conftest import skip_or_fail
from interviews.models import Answer, CaseStudy, InterviewSession, QuestionAsked, StepTime
from interviews.services.catalogue import demo_accounts_ensure
from tests.e2e.conftest import ROOT, close_quietly, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MERMAID = ROOT / "static" / "vendor" / "mermaid" / "mermaid.min.js"

ANSWERS = {
    1: "Predict **p(click)** for every candidate ad: a binary classification whose output\n"
       "must be a *calibrated probability*, because the ad auction ranks by bid × pCTR.",
    2: "Offline: log loss and normalized entropy (NE), plus ROC AUC.\n"
       "Online: CTR and revenue in an A/B test, with the ad hide rate as a guardrail.",
    3: "- 20 billion impressions a day, about 1% CTR: heavy class imbalance\n"
       "- 80 ms p99 latency budget, 300k QPS at peak",
    4: "Start with a logistic regression baseline on hashed features, then a deep and cross "
       "network. Split by time to avoid leakage; recalibrate after negative downsampling.",
    5: "Candidate ads come from retrieval; the ranking service scores them with features "
       "from the feature store; the auction service picks the winners.",
    6: "Cache user features, shard the feature store, autoscale the ranking service and "
       "monitor calibration drift.",
}
DIAGRAM = (
    "flowchart LR\n"
    "  request[Ad request] --> retrieval[Ad retrieval]\n"
    "  retrieval --> ranking[Ranking service]\n"
    "  store[(Feature store)] --> ranking\n"
    "  ranking --> auction[Auction service]"
)


@pytest.fixture
def vendored_mermaid() -> None:
    if not MERMAID.exists():
        skip_or_fail("Mermaid is not vendored: run `make vendor` (part of `make install`)")


@pytest.fixture
def candidate_login(page, catalogue):
    account = next(a for a in demo_accounts_ensure() if a.role == "candidate")
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("who")).to_contain_text("candidate")
    return account


def start_interview(page, slug: str) -> InterviewSession:
    page.goto(f"/case-studies/{slug}/")
    page.get_by_test_id("start-interview").click()
    page.wait_for_url(re.compile(r"/sessions/\d+/$"))
    return InterviewSession.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))


def expect_all_saved(page) -> None:
    for step in range(1, 7):
        expect(page.get_by_test_id(f"save-state-{step}")).to_contain_text("Saved at")
    expect(page.get_by_test_id("save-summary")).to_contain_text("All changes saved")


def test_candidate_takes_a_whole_interview_and_loses_nothing(page, candidate_login, settings,
                                                            vendored_mermaid):
    answers = dict(ANSWERS)
    session = start_interview(page, "ad-click-prediction")
    expect(page.get_by_test_id("countdown")).to_have_text(re.compile(r"^4[45]:\d\d$"))
    # A refresh of the start never makes a second session: the case study offers to resume.
    page.goto("/case-studies/ad-click-prediction/")
    page.get_by_test_id("resume-interview").click()
    assert InterviewSession.objects.filter(candidate=session.candidate).count() == 1

    # Six answers and a diagram. One that does not parse shows Mermaid's message; the text
    # is saved all the same.
    for step, text in answers.items():
        page.get_by_test_id(f"answer-{step}").fill(text)
    diagram = page.get_by_test_id("diagram-source")
    diagram.fill("flowchart LR\n  request[Ad request] -->")
    expect(page.get_by_test_id("diagram-view")).to_contain_text("Parse error")
    expect(page.get_by_test_id("save-state-5")).to_contain_text("Saved at")
    assert Answer.objects.get(session=session, step_number=5).diagram.endswith("-->")
    diagram.fill(DIAGRAM)
    expect(page.get_by_test_id("diagram-view").locator("svg")).to_be_visible()
    expect(page.get_by_test_id("diagram-view")).to_contain_text("Feature store")
    # The nonce patch lived only during the render: the browser's own functions are back,
    # and a <style> made now gets no nonce.
    assert page.evaluate("""() => !Object.hasOwn(document, "createElement")
        && !Object.hasOwn(document, "createElementNS")
        && !document.createElement("style").hasAttribute("nonce")
        && DOMParser.prototype.parseFromString.toString().includes("[native code]")""")

    # A clarifying question from the list reveals the answer; an own question is recorded.
    page.get_by_role("button", name="What is the scale?").click()
    expect(page.get_by_test_id("qa-answer")).to_contain_text("500 million daily active users")
    page.get_by_label("Ask something else").fill("Do advertisers see our predictions?")
    page.get_by_role("button", name="Ask", exact=True).click()
    expect(page.locator(".qa-own-list")).to_contain_text("Do advertisers see our predictions?")
    page.get_by_test_id("answer-2").click()
    expect_all_saved(page)
    page.set_viewport_size({"width": 1280, "height": 1500})
    page.evaluate("window.scrollTo(0, 0); document.querySelector('.session-side').scrollTo(0, 0)")
    screenshot(page, "interview-session", full_page=False)
    page.set_viewport_size({"width": 1280, "height": 860})

    # Offline: the save fails, says so, and goes through by itself once the network is back.
    page.context.set_offline(True)
    page.get_by_test_id("answer-6").press_sequentially(" Offline edit.")
    expect(page.get_by_test_id("save-state-6")).to_contain_text("Not saved", timeout=8000)
    expect(page.get_by_test_id("save-summary")).to_contain_text("Not saved")
    page.context.set_offline(False)
    expect(page.get_by_test_id("save-state-6")).to_contain_text("Saved at", timeout=15000)
    answers[6] += " Offline edit."
    # The only console errors so far are the failed requests while offline.
    assert page.console_errors, "the offline saves should have failed"
    assert all(re.search(r"INTERNET_DISCONNECTED|htmx:(sendError|afterRequest)", error)
               for error in page.console_errors), page.console_errors
    page.console_errors.clear()

    # Reload: every answer, the diagram, the question and the clock are back.
    left_before = page.get_by_test_id("countdown").inner_text()
    page.reload()
    for step, text in answers.items():
        expect(page.get_by_test_id(f"answer-{step}")).to_have_value(text)
    expect(page.get_by_test_id("diagram-source")).to_have_value(DIAGRAM)
    expect(page.get_by_test_id("diagram-view").locator("svg")).to_be_visible()
    expect(page.get_by_test_id("qa-answer")).to_contain_text("500 million")
    assert page.get_by_test_id("countdown").inner_text() <= left_before

    # A second tab saves step 1; this tab's next edit of step 1 is a conflict showing both
    # texts, and merging keeps both.
    second = page.context.new_page()
    second.goto(page.url)
    second.get_by_test_id("answer-1").fill(answers[1] + "\nEdited in the second tab.")
    expect(second.get_by_test_id("save-state-1")).to_contain_text("Saved at")
    page.get_by_test_id("answer-1").fill(answers[1] + "\nEdited in the first tab.")
    conflict = page.get_by_test_id("conflict-1")
    expect(conflict).to_be_visible()
    expect(conflict.locator('[data-side="mine"]')).to_have_value(re.compile("first tab"))
    expect(conflict.locator('[data-side="theirs"]')).to_have_value(re.compile("second tab"))
    expect(page.get_by_test_id("save-state-1")).to_contain_text("Not saved")
    page.locator("#step-1").scroll_into_view_if_needed()
    screenshot(page, "interview-conflict", full_page=False)
    conflict.get_by_role("button", name="Merge by editing").click()
    merged = page.get_by_test_id("merge-1")
    expect(merged).to_have_value(re.compile("first tab"))
    expect(merged).to_have_value(re.compile("second tab"))
    conflict.get_by_role("button", name="Save merged answer").click()
    expect(page.get_by_test_id("save-state-1")).to_contain_text("Saved at")
    expect(page.get_by_test_id("conflict-1")).to_have_count(0)
    first = Answer.objects.get(session=session, step_number=1)
    assert "first tab" in first.text and "second tab" in first.text
    assert first.revisions.filter(text__contains="second tab").exists()
    second.reload()
    expect(second.get_by_test_id("answer-1")).to_have_value(re.compile("first tab"))
    second.close()

    # The server added up time per step from the step being worked on.
    assert sum(StepTime.objects.filter(session=session).values_list("seconds", flat=True)) > 0
    assert QuestionAsked.objects.filter(session=session).count() == 2

    # Early submission asks first, then shows the review.
    page.get_by_test_id("submit-open").click()
    expect(page.get_by_role("dialog")).to_contain_text("Submit your interview?")
    page.get_by_test_id("submit-confirm").click()
    page.wait_for_url(re.compile(r"/sessions/\d+/review/$"))
    session.refresh_from_db()
    assert session.status == "submitted" and session.submit_reason == "early"
    expect(page.get_by_role("heading", name="Ad Click Prediction", level=1)).to_be_visible()
    expect(page.get_by_test_id("review-step-1")).to_contain_text("second tab")
    expect(page.get_by_test_id("review-step-1").locator(".review-answer strong")).to_have_text(
        "p(click)")
    expect(page.get_by_test_id("review-diagram").locator("svg")).to_be_visible()
    time_chart = page.get_by_test_id("time-chart").locator("svg:visible")  # wide or narrow
    expect(time_chart.locator("rect.chart-bar")).to_have_count(6)
    expect(page.get_by_text("Hint, not a grade").first).to_be_visible()
    expect(page.get_by_test_id("review-step-2").locator(".chip-hit")).to_contain_text(
        ["log loss", "normalized entropy"])
    expect(page.get_by_test_id("verdict")).to_contain_text("Awaiting grading")
    screenshot(page, "interview-review")

    # No CSP violation or script error anywhere; Chrome logs the deliberate 409 as a failed load.
    unexpected = [error for error in page.console_errors if "status of 409" not in error]
    assert unexpected == [], unexpected


def test_short_interview_runs_out_and_late_edits_are_refused(page, candidate_login, settings,
                                                             live_server, vendored_mermaid):
    settings.INTERVIEW_SAVE_GRACE_SECONDS = 1
    CaseStudy.objects.filter(slug="food-delivery-time").update(duration_seconds=8)
    session = start_interview(page, "food-delivery-time")
    page.get_by_test_id("answer-1").fill("Predict the ETA of an order: a regression problem.")
    expect(page.get_by_test_id("save-state-1")).to_contain_text("Saved at")

    # Another window whose timers stalled, like a laptop that slept: its countdown stops.
    # (Playwright's clock belongs to a browser context, so this window gets its own, logged
    # in with the same cookies.)
    stalled_context = page.context.browser.new_context(
        base_url=live_server.url, storage_state=page.context.storage_state())
    stalled = stalled_context.new_page()
    stalled_errors: list[str] = []
    stalled.on("console", lambda msg: msg.type == "error" and stalled_errors.append(msg.text))
    stalled.clock.install()
    stalled.goto(page.url)
    expect(stalled.get_by_test_id("answer-1")).to_have_value(re.compile("ETA"))
    stalled.clock.pause_at(datetime.now(UTC) + timedelta(seconds=1))

    # The first tab counts down to zero, locks the answers and learns they were submitted.
    expect(page.get_by_test_id("time-up")).to_be_visible(timeout=15000)
    expect(page.get_by_test_id("countdown")).to_have_text("0:00")
    expect(page.get_by_test_id("answer-1")).not_to_be_editable()
    expect(page.get_by_test_id("session-closed")).to_be_visible(timeout=15000)
    session.refresh_from_db()
    assert session.status == "submitted" and session.submit_reason == "deadline"
    assert session.submitted_at == session.deadline

    # The stalled tab still thinks there is time; the server refuses its edit.
    answer = stalled.get_by_test_id("answer-2")
    answer.fill("MAE in minutes.")
    answer.blur()
    expect(stalled.get_by_test_id("save-state-2")).to_contain_text("Not saved")
    expect(stalled.get_by_test_id("session-closed")).to_contain_text("Time is up")
    expect(stalled.get_by_test_id("answer-2")).not_to_be_editable()
    assert Answer.objects.get(session=session, step_number=2).text == ""
    screenshot(stalled, "interview-time-up", full_page=False)
    close_quietly(stalled_context)

    page.get_by_test_id("review-link").click()
    page.wait_for_url(re.compile(r"/sessions/\d+/review/$"))
    expect(page.locator(".review-meta")).to_contain_text("Time ran out")
    expect(page.get_by_test_id("review-step-2")).to_contain_text("Not answered")
    expect(page.get_by_test_id("review-step-1").locator(".chip-hit")).to_contain_text(
        ["regression", "estimated time of arrival"])

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My sessions").click()
    expect(page.get_by_test_id("sessions")).to_contain_text("Estimate Food Delivery Time")
    expect(page.get_by_test_id("sessions")).to_contain_text("Submitted")
    screenshot(page, "interview-my-sessions")
    assert page.console_errors == [], page.console_errors
    assert [error for error in stalled_errors if "status of 423" not in error] == []


# Each autosave as the page sent it and as it came back, on the page's clock.
RECORD_SAVES = """
window.__saves = [];
const isAutosave = (elt) => elt && elt.getAttribute
  && elt.getAttribute("hx-trigger") === "autosave";
document.addEventListener("htmx:configRequest", (event) => {
  if (!isAutosave(event.detail.elt)) return;
  window.__saves.push({sent: performance.now(), answered: null});
});
document.addEventListener("htmx:afterRequest", (event) => {
  const save = window.__saves.find((s) => s.answered === null);
  if (!isAutosave(event.detail.elt) || !save) return;
  const xhr = event.detail.xhr;
  save.status = xhr ? xhr.status : 0;
  save.retryAfter = Number((xhr && xhr.getResponseHeader("Retry-After")) || 0);
  save.answered = performance.now();
});
"""


def test_too_many_saves_wait_for_retry_after_and_lose_nothing(page, candidate_login, settings):
    """A 429 says "Not saved (too many requests)", keeps the text in the browser, sends
    nothing before its Retry-After (typing on does not hurry it) and saves once allowed."""
    autosave = settings.RATE_LIMITS["autosave"]
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "autosave": {"user": "0/3s", "ip": "off"}}
    page.add_init_script(RECORD_SAVES)
    session = start_interview(page, "food-delivery-time")
    answer = page.get_by_test_id("answer-1")
    answer.fill("Predict the ETA")
    state = page.get_by_test_id("save-state-1")
    expect(state).to_contain_text(
        re.compile(r"Not saved \(too many requests\)\. Retrying in \d+ s"))
    answer.press_sequentially(" of an order.")
    page.wait_for_function("() => window.__saves.filter((s) => s.status === 429).length >= 3",
                           timeout=30_000)
    assert page.evaluate(
        "Object.values(localStorage).some((copy) => copy.includes('ETA of an order.'))")
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "autosave": autosave}
    expect(state).to_contain_text("Saved at", timeout=30_000)
    assert Answer.objects.get(session=session, step_number=1).text == (
        "Predict the ETA of an order.")
    saves = page.evaluate("window.__saves")
    for refused, after in zip(saves, saves[1:], strict=False):
        if refused["status"] == 429:
            assert refused["retryAfter"] >= 1
            assert after["sent"] >= refused["answered"] + refused["retryAfter"] * 1000 - 50, saves
    # Chrome and htmx log each refused save; nothing else.
    assert [e for e in page.console_errors if not re.search(r"\b429\b", e)] == []
    # Leave the page while the test database is intact: its heartbeat stops.
    page.goto("/")
