"""A whole live interview in two real Chromium contexts on the ASGI server (pages and
WebSockets, Redis channel layer): the interviewer joins through the candidate's invite link,
sees the candidate's text as it is typed, answers a typed question, posts a follow-up and a
requirement change; the candidate answers the follow-up; the candidate's browser goes
offline for 10 s while the interviewer carries on and, back online, has missed nothing and
shows nothing twice; the interviewer ends the interview and quotes the follow-up's answer
and a note as evidence on the scorecard. Screenshots of both pages; axe on both."""

import re

import pytest

from interviews.live.models import LiveRoom
from interviews.models import CaseStudy, EvidenceQuote
from interviews.tests.factories import candidate, interviewer
from tests.e2e.conftest import axe_report, axe_violations, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.slow,
              pytest.mark.django_db(transaction=True)]

SLUG = "feed-ranking"
WAIT_MS = 15_000
OFFLINE_SECONDS = 10


def expect_text(locator, text, timeout=WAIT_MS):
    from playwright.sync_api import expect

    expect(locator).to_contain_text(text, timeout=timeout)


def test_a_whole_live_interview(catalogue, open_as, axe_source):
    from playwright.sync_api import expect

    case = CaseStudy.objects.get(slug=SLUG)
    cand = open_as(candidate(username="cand"))
    # Chromium's offline emulation stops new requests but leaves an open WebSocket up, so the
    # candidate's sockets go through a route the test can cut: while "offline", open ones are
    # closed and new ones refused, as a dropped network does.
    network = {"offline": False, "sockets": []}

    def route_socket(socket) -> None:
        if network["offline"]:
            socket.close(code=1001, reason="offline")
            return
        server = socket.connect_to_server()
        network["sockets"].append((socket, server))

    cand.context.route_web_socket(re.compile(r"/ws/live/"), route_socket)
    iv_user = interviewer(username="iv")

    # The candidate opens a live room and makes an invite link.
    cand.goto(case.get_absolute_url())
    cand.get_by_test_id("start-live-interview").click()
    cand.wait_for_url(re.compile(r"/live/\d+/$"))
    expect(cand.get_by_test_id("live-status")).to_contain_text("Live", timeout=WAIT_MS)
    cand.get_by_test_id("invite-create").click()
    link = cand.get_by_test_id("invite-link").input_value(timeout=WAIT_MS)
    assert "/live/join/" in link
    violations = axe_violations(cand, axe_source)
    assert violations == [], axe_report("live waiting room", violations)

    # The interviewer joins through it and starts the clock; the candidate's waiting room
    # sees them arrive, then turns into the interview.
    iv = open_as(iv_user)
    iv.goto(link)
    iv.get_by_test_id("join-confirm").click()
    iv.wait_for_url(re.compile(r"/live/\d+/console/$"))
    expect(cand.locator('[data-person="interviewer"]')).to_have_attribute(
        "data-present", "1", timeout=WAIT_MS)
    expect(iv.get_by_test_id("live-status")).to_contain_text("Live", timeout=WAIT_MS)
    violations = axe_violations(iv, axe_source)
    assert violations == [], axe_report("live console, waiting", violations)
    iv.get_by_test_id("start-clock").click()
    expect(iv.get_by_test_id("console-clock")).not_to_have_text("", timeout=WAIT_MS)
    expect(cand.get_by_test_id("answer-1")).to_be_visible(timeout=WAIT_MS)
    expect(cand.get_by_test_id("live-status")).to_contain_text("Live", timeout=WAIT_MS)
    # No catalogue answers printed on the candidate's page in a live interview.
    assert cand.locator(".qa-ask").count() == 0

    # The candidate types; the interviewer sees the text.
    cand.get_by_test_id("answer-1").press_sequentially("Rank posts by predicted engagement")
    expect_text(iv.get_by_test_id("console-answer-1"), "Rank posts by predicted engagement")

    # A typed question, answered.
    cand.get_by_test_id("live-question-input").fill("How many daily active users?")
    cand.get_by_test_id("live-question-send").click()
    expect_text(iv.get_by_test_id("console-questions"), "How many daily active users?")
    iv.get_by_test_id("answer-input").fill("About 300 million.")
    iv.get_by_test_id("answer-input").press("Enter")
    expect_text(cand.get_by_test_id("live-answer"), "About 300 million.")

    # A follow-up on step 2 and a requirement change.
    iv.locator("#follow-up-step").select_option("2")
    iv.get_by_test_id("follow-up-text").fill("Which offline metric would you pick, and why?")
    iv.get_by_test_id("follow-up-send").click()
    iv.get_by_test_id("change-text").fill("The ranking must now return within 50 ms.")
    iv.get_by_test_id("change-send").click()
    expect_text(cand.get_by_test_id("follow-up-2"), "Which offline metric would you pick")
    expect_text(cand.get_by_test_id("requirement-changes"), "within 50 ms")

    # The candidate answers the follow-up inline; it saves, and the interviewer sees it.
    answer = cand.get_by_test_id("follow-up-answer-2")
    answer.press_sequentially("NDCG@10, because the order of the top of the feed matters.")
    expect_text(cand.get_by_test_id("follow-up-2"), "Saved")
    expect_text(iv.get_by_test_id("console-follow-ups-2"), "order of the top of the feed")
    iv.get_by_test_id("note-text").fill("Picks a ranking metric and says why.")
    iv.get_by_test_id("note-send").click()
    expect_text(iv.get_by_test_id("console-notes"), "Picks a ranking metric")
    for page in (cand, iv):
        page.evaluate("window.scrollTo(0, 0)")
    screenshot(cand, "live-candidate-follow-up")
    screenshot(iv, "live-console")
    for where, page in (("candidate", cand), ("console", iv)):
        violations = axe_violations(page, axe_source)
        assert violations == [], axe_report(f"live {where} page", violations)

    # The candidate goes offline for 10 s; the interviewer carries on.
    network["offline"] = True
    cand.context.set_offline(True)
    for socket, server in network["sockets"]:
        socket.close(code=1001, reason="offline")
        server.close(code=1001, reason="offline")
    network["sockets"].clear()
    expect(cand.get_by_test_id("live-status")).not_to_contain_text("Live", timeout=WAIT_MS)
    iv.locator("#follow-up-step").select_option("3")
    iv.get_by_test_id("follow-up-text").fill("What happens at ten times the traffic?")
    iv.get_by_test_id("follow-up-send").click()
    iv.get_by_test_id("change-text").fill("Posts older than a day no longer count.")
    iv.get_by_test_id("change-send").click()
    iv.get_by_test_id("time-check").click()
    expect_text(iv.locator("#console-log"), "Time check")
    # Waiting through Playwright (not time.sleep), so the socket route keeps being served.
    cand.wait_for_timeout(OFFLINE_SECONDS * 1000)
    expect(cand.get_by_test_id("live-status")).not_to_contain_text("Live", timeout=1000)
    assert cand.get_by_test_id("follow-up-3").count() == 0  # it really was offline
    network["offline"] = False
    cand.context.set_offline(False)
    expect_text(cand.get_by_test_id("follow-up-3"), "ten times the traffic", timeout=30_000)
    expect_text(cand.get_by_test_id("requirement-changes"), "older than a day", timeout=30_000)
    expect(cand.get_by_test_id("live-status")).to_contain_text("Live", timeout=30_000)
    # ...and nothing twice.
    assert cand.get_by_test_id("follow-up-2").count() == 1
    assert cand.get_by_test_id("follow-up-3").count() == 1
    assert cand.locator(".live-change").count() == 2
    assert cand.get_by_test_id("live-answer").count() == 1
    assert iv.get_by_test_id("console-question").count() == 1

    # Both pages fit a phone's width (390 px) without sideways scrolling.
    for page in (cand, iv):
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.set_viewport_size({"width": 1366, "height": 900})

    # The interviewer ends the interview; the candidate's page says so.
    iv.get_by_test_id("end-open").click()
    iv.get_by_test_id("end-confirm").click()
    expect(iv.get_by_test_id("console-ended")).to_be_visible(timeout=WAIT_MS)
    expect_text(cand.get_by_test_id("live-ended"), "The interviewer ended the interview.")
    room = LiveRoom.objects.get()
    assert room.state == "ended" and room.session.is_submitted

    # The scorecard: the follow-ups with their answers and the notes, quotable as evidence.
    iv.get_by_test_id("scorecard-link").click()
    iv.wait_for_load_state("load")  # scorecard.js (a module) listens for selections by then
    expect_text(iv.get_by_test_id("scorecard-follow-up-2"), "order of the top of the feed")
    note = iv.locator('[data-testid="scorecard-note-1"] [data-quote-source]').first
    expect_text(note, "Picks a ranking metric and says why.")
    for source, words in ((iv.locator('[data-testid="scorecard-follow-up-2"] [data-quote-source]'),
                           "order of the top of the feed"),
                          (note, "Picks a ranking metric")):
        source.evaluate("""(element, words) => {
            const node = [...element.querySelectorAll("p")]
              .find((p) => p.textContent.includes(words)).firstChild;
            const start = node.textContent.indexOf(words);
            const range = document.createRange();
            range.setStart(node, start);
            range.setEnd(node, start + words.length);
            const selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
            document.dispatchEvent(new MouseEvent("mouseup", {bubbles: true}));
        }""", words)
        iv.locator("#quote-button").click()
        expect(iv.locator(".evidence-list, [id^=evidence-]").filter(has_text=words).first
               ).to_be_visible(timeout=WAIT_MS)
    quotes = set(EvidenceQuote.objects.values_list("step_number", "text"))
    assert quotes == {(2, "order of the top of the feed"), (1, "Picks a ranking metric")}
    # The candidate's failed polls while offline are the only errors either page logged.
    assert [error for error in cand.console_errors
            if "ERR_INTERNET_DISCONNECTED" not in error] == []
    assert iv.console_errors == []
