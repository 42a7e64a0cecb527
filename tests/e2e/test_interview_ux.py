"""Rough edges of the interview and scorecard pages, in Debian's Chromium (issue 14, "From
the browser tour"): replay's "Play" goes through every save and draws the diagram; a
triple-clicked last paragraph can be quoted as evidence; a tab learns that another tab
saved a step before it types, and the conflict box highlights the lines that differ; pages
without a diagram never load Mermaid; the case-study page's training example has a Copy
button."""

import re
from datetime import timedelta

import pytest
from django.db.models import F
from django.test import Client
from playwright.sync_api import expect

from conftest import skip_or_fail
from interviews.models import AnswerRevision, CaseStudy, EvidenceQuote, InterviewSession
from interviews.scorecards.services import grade_claim
from interviews.services.autosave import answer_save
from interviews.services.sessions import session_start, session_submit
from interviews.tests.factories import candidate, interviewer
from tests.e2e.conftest import ROOT, close_quietly, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MERMAID = ROOT / "static" / "vendor" / "mermaid" / "mermaid.min.js"
DIAGRAM = ("flowchart LR\n  user[User] --> retrieval[Candidate retrieval]\n"
           "  retrieval --> ranker[Heavy ranker]\n  store[(Feature store)] --> ranker")

# Saves of a feed-ranking interview, in milliseconds since the start: none on a whole
# second, as in real sessions (the replay slider moves in steps of a second).
SAVES = [
    (1, 58_400, "Predict the probability of engagement for each post."),
    (2, 61_700, "Offline: normalized entropy and ROC AUC."),
    (1, 95_200, "Predict the probability of engagement for each post: a binary "
                "classification with a weighted engagement score."),
    (5, 130_600, "Candidate retrieval, then a light ranker and a heavy ranker."),
    (3, 152_900, "- 50 ms p99 latency budget\n- thousands of posts per request"),
]
USED_SECONDS = 180


@pytest.fixture
def vendored_mermaid() -> None:
    if not MERMAID.exists():
        skip_or_fail("Mermaid is not vendored: run `make vendor` (part of `make install`)")


@pytest.fixture
def open_as(browser, live_server):
    """``open_as(user)``: a page in a fresh context, logged in as ``user``, recording every
    URL it requests and every console error; the contexts close after the test."""
    contexts = []

    def open_page(user, *, viewport=(1366, 900)):
        client = Client()
        client.force_login(user)
        context = browser.new_context(base_url=live_server.url,
                                      viewport={"width": viewport[0], "height": viewport[1]})
        contexts.append(context)
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                              "url": live_server.url}])
        page = context.new_page()
        page.requested = []
        page.console_errors = []
        page.on("request", lambda request: page.requested.append(request.url))
        page.on("console", lambda msg: msg.type == "error"
                and page.console_errors.append(msg.text))
        return page

    yield open_page
    for context in contexts:
        # Closing a page sends its last heartbeat; refused here, so that no request still
        # runs on the server while the test database is emptied.
        close_quietly(context)


def mermaid_requests(page) -> list[str]:
    return [url for url in page.requested if "mermaid" in url]


def interview_with_saves(case_study: CaseStudy, saves=SAVES) -> InterviewSession:
    """A submitted session whose saves happened at the given times since the start."""
    session, _ = session_start(candidate=candidate(), case_study=case_study)
    versions: dict[int, int] = {}
    for step, elapsed_ms, text in saves:
        result = answer_save(session=session, step_number=step, text=text,
                             diagram=DIAGRAM if step == 5 else "",
                             base_version=versions.get(step, 0))
        versions[step] = result.answer.version
        AnswerRevision.objects.filter(pk=result.revision.pk).update(elapsed_ms=elapsed_ms)
    session = session_submit(session=session)
    shift = timedelta(seconds=USED_SECONDS)
    InterviewSession.objects.filter(pk=session.pk).update(
        started_at=F("started_at") - shift, deadline=F("deadline") - shift)
    session.refresh_from_db()
    return session


# --- 1. replay ------------------------------------------------------------------------------


def test_replay_play_steps_through_every_save_to_the_end_and_draws_the_diagram(
        open_as, catalogue, vendored_mermaid):
    session = interview_with_saves(CaseStudy.objects.get(slug="feed-ranking"))
    end_ms = session.used_seconds * 1000
    page = open_as(interviewer())
    frames: list[int] = []
    page.on("request", lambda request: "?at=" in request.url and frames.append(
        int(re.search(r"[?&]at=(\d+)", request.url).group(1))))
    page.goto(f"/scorecards/sessions/{session.pk}/replay/")
    # The page opens at the end: the diagram drawn, its source a click away.
    step5 = page.get_by_test_id("replay-step-5")
    expect(step5.locator(".diagram-view svg")).to_be_visible()
    expect(step5).to_contain_text("Heavy ranker")

    play = page.get_by_role("button", name="▶ Play")
    play.click()
    expect(page.locator("#replay-play")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#replay-play")).to_have_attribute("aria-pressed", "false",
                                                           timeout=15_000)
    expect(page.get_by_test_id("replay-frame")).to_have_attribute("data-at", str(end_ms))
    # Every save once, in order, at its own time (not the slider's nearest second), then
    # the end.
    assert frames == [ms for _, ms, _ in SAVES] + [end_ms]
    expect(page.locator("#replay-time")).to_have_text("3:00")
    expect(page.get_by_test_id("replay-step-1")).to_contain_text("save 2 of 2")
    expect(page.get_by_test_id("replay-step-3")).to_contain_text("save 1 of 1")
    # The swapped-in frame draws its diagram too.
    expect(step5.locator(".diagram-view svg")).to_be_visible()
    expect(step5.locator(".diagram-view svg")).to_contain_text("Feature store")
    step5.scroll_into_view_if_needed()
    screenshot(page, "replay-played", full_page=False, docs=False)
    assert page.console_errors == []


# --- 2. quoting a triple-clicked paragraph ---------------------------------------------------


def test_triple_clicking_the_last_paragraph_of_an_answer_offers_the_quote_trimmed_to_it(
        open_as, catalogue):
    last = ("Split by time to avoid leakage, then recalibrate after negative downsampling.")
    saves = [(4, 600_400, "Start with a logistic regression baseline on hashed features.\n\n"
                          + last)]
    session = interview_with_saves(CaseStudy.objects.get(slug="ad-click-prediction"), saves)
    grader = interviewer()
    grade, _ = grade_claim(session=session, grader=grader)
    page = open_as(grader)
    page.goto(f"/scorecards/sessions/{session.pk}/")
    paragraph = page.get_by_test_id("answer-4").locator("p", has_text="Split by time")
    paragraph.click(click_count=3)
    button = page.get_by_test_id("quote-button")
    expect(button).to_be_visible()
    expect(button).to_contain_text("step 4")
    button.click()
    expect(page.get_by_test_id("evidence-4")).to_contain_text(f"“{last}”")
    assert list(EvidenceQuote.objects.filter(grade=grade).values_list("text", flat=True)) == [
        last]
    assert page.console_errors == []


# --- 4. two tabs ----------------------------------------------------------------------------


def test_a_tab_is_told_of_another_tabs_save_and_the_conflict_highlights_the_changed_lines(
        open_as, catalogue):
    user = candidate()
    session, _ = session_start(candidate=user, case_study=CaseStudy.objects.get(
        slug="feed-ranking"))
    lines = [f"- point {n}: the ranker weighs engagement signal {n}" for n in range(1, 31)]
    answer_save(session=session, step_number=2, text="\n".join(lines), base_version=0)
    first = open_as(user)
    first.goto(session.get_absolute_url())
    second = first.context.new_page()
    second.goto(session.get_absolute_url())
    theirs = [*lines[:24], "- point 25: CHANGED in the second tab", *lines[25:]]
    second.get_by_test_id("answer-2").fill("\n".join(theirs))
    expect(second.get_by_test_id("save-state-2")).to_contain_text("Saved at")

    # The first tab's next heartbeat (every 20 s; sent now) tells it, before it types.
    first.evaluate("window.htmx.trigger(document.getElementById('pulse'), 'pulse')")
    notice = first.get_by_test_id("stale-2")
    expect(notice).to_contain_text("Edited in another tab")
    expect(first.get_by_test_id("stale-1")).to_have_count(0)
    expect(first.get_by_test_id("save-summary")).to_contain_text(
        "step 2 was edited in another tab")
    notice.scroll_into_view_if_needed()
    screenshot(first, "stale-note", full_page=False, docs=False)

    # Typing anyway shows the conflict, with the line that differs highlighted and in view.
    mine = [*lines[:24], "- point 25: changed in the FIRST tab", *lines[25:]]
    first.get_by_test_id("answer-2").fill("\n".join(mine))
    conflict = first.get_by_test_id("conflict-2")
    expect(conflict).to_be_visible()
    expect(notice).to_have_count(0)
    changed = conflict.locator(".diff-line.is-changed")
    expect(changed).to_have_count(2)
    expect(changed.first).to_contain_text("changed in the FIRST tab")
    expect(changed.last).to_contain_text("CHANGED in the second tab")
    expect(changed.first).to_be_in_viewport()
    expect(conflict.locator(".diff-line:not(.is-changed)").first).to_contain_text("point 23:")
    expect(conflict.locator(".diff-gap").first).to_have_text("22 unchanged lines")
    expect(conflict).to_contain_text("1 line differs")
    screenshot(first, "conflict-diff", full_page=False, docs=False)
    first.set_viewport_size({"width": 390, "height": 844})
    conflict.scroll_into_view_if_needed()
    screenshot(first, "conflict-diff-phone", full_page=False, docs=False)
    # The choices still work on the full texts.
    conflict.get_by_role("button", name="Take the saved one").click()
    expect(first.get_by_test_id("answer-2")).to_have_value("\n".join(theirs))
    expect(first.get_by_test_id("save-state-2")).to_contain_text("Saved at")
    expect(conflict).to_have_count(0)

    # Told again, without typing: "Compare the versions" shows both.
    again = [*theirs[:-1], "- point 30: the second tab again"]
    second.reload()
    second.get_by_test_id("answer-2").fill("\n".join(again))
    expect(second.get_by_test_id("save-state-2")).to_contain_text("Saved at")
    first.evaluate("window.htmx.trigger(document.getElementById('pulse'), 'pulse')")
    notice.get_by_role("button", name="Compare the versions").click()
    expect(conflict.locator(".diff-line.is-changed").last).to_contain_text("the second tab again")
    unexpected = [e for e in first.console_errors if "status of 409" not in e]
    assert unexpected == []


# --- 5. Mermaid only where a diagram is -----------------------------------------------------


def test_pages_without_a_diagram_never_load_mermaid_and_diagrams_still_render(
        open_as, catalogue, vendored_mermaid):
    case_study = CaseStudy.objects.get(slug="feed-ranking")
    plain = interview_with_saves(case_study, [s for s in SAVES if s[0] != 5])
    drawn = interview_with_saves(case_study)
    grader = interviewer()
    grade_claim(session=plain, grader=grader)

    # The scorecard page and replay of a session without a diagram.
    page = open_as(grader)
    page.goto(f"/scorecards/sessions/{plain.pk}/")
    page.wait_for_load_state("networkidle")
    page.goto(f"/scorecards/sessions/{plain.pk}/replay/")
    page.wait_for_load_state("networkidle")
    assert mermaid_requests(page) == []
    # One with a diagram: Mermaid loads and draws it.
    page.goto(f"/scorecards/sessions/{drawn.pk}/")
    expect(page.get_by_test_id("answer-5").locator("svg")).to_be_visible()
    assert len(mermaid_requests(page)) == 1

    # The candidate's review without a diagram, and a running interview before the diagram
    # is touched.
    reader = open_as(plain.candidate)
    reader.goto(plain.get_review_url())
    reader.wait_for_load_state("networkidle")
    running, _ = session_start(candidate=plain.candidate, case_study=CaseStudy.objects.get(
        slug="ad-click-prediction"))
    reader.goto(running.get_absolute_url())
    reader.get_by_test_id("answer-1").fill("Predict p(click).")
    expect(reader.get_by_test_id("save-state-1")).to_contain_text("Saved at")
    reader.wait_for_load_state("networkidle")
    assert mermaid_requests(reader) == []
    # Typing a diagram loads Mermaid and draws it.
    reader.get_by_test_id("diagram-source").fill(DIAGRAM)
    expect(reader.get_by_test_id("diagram-view").locator("svg")).to_be_visible()
    expect(reader.get_by_test_id("diagram-view")).to_contain_text("Feature store")
    assert len(mermaid_requests(reader)) == 1
    assert page.console_errors == [] and reader.console_errors == []


# --- 7. copying the training example --------------------------------------------------------


def test_the_training_example_has_a_keyboard_reachable_copy_button(open_as, catalogue):
    page = open_as(candidate())
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/case-studies/ad-click-prediction/")
    example = page.get_by_test_id("training-example")
    button = page.get_by_role("button", name="Copy the example")
    expect(button).to_be_visible()
    # Reached with the keyboard: Tab from the top of the page until it is focused.
    for _ in range(120):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.copy !== undefined"):
            break
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    expect(button).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == example.inner_text()
    assert "import" in copied and len(copied.splitlines()) > 10
    example.scroll_into_view_if_needed()
    screenshot(page, "training-example-copy", full_page=False, docs=False)
    page.set_viewport_size({"width": 390, "height": 844})
    button.scroll_into_view_if_needed()
    screenshot(page, "training-example-copy-phone", full_page=False, docs=False)
    assert page.console_errors == []
