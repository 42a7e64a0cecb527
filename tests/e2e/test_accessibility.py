"""Accessibility in Debian's Chromium.

Every page, as every role, at a laptop's width (1366 px) and a phone's (390 px): axe-core
finds no serious or critical violation, each page has exactly one ``h1``, the content starts
clear of the header, and nothing in the content is wider than its card or the screen. Then
the keyboard on the interview page: focus stays where it is through the heartbeat, the
Write/Preview tabs follow the arrow keys, the skip links move focus past the header, the
focus ring can be seen; and time over budget is said in words, not only in orange.
Screenshots of every page at both widths go to var/screenshots/a11y/."""

import re
from datetime import timedelta

import pytest
from django.db.models import F
from django.test import Client
from playwright.sync_api import expect

from interviews.models import CaseStudy, InterviewSession, StepTime
from interviews.services.autosave import answer_save
from interviews.services.sessions import session_start, session_submit
from interviews.tests.factories import candidate, graded, released
from tests.e2e.conftest import axe_report, axe_violations, close_quietly, screenshot
from tests.e2e.test_csp_console import html_pages
from tests.e2e.test_scorecard_flow import DIAGRAM, double_graded_history, take_interview
from tests.test_crawl_security import site  # noqa: F401 - the fixture is reused

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WIDE = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
ROLES = ("anonymous", "candidate", "interviewer", "admin")

# Whatever in the content is wider than its card or the screen: the page scrolling sideways,
# a card whose content spills out of it (or hides behind a sideways scroll in it), an
# element sticking out of the viewport. Elements inside a scroll container made for it (a
# code block, a table in .table-scroll) are that container's business, not the page's.
CARDS = (".panel, .card, .answer-card, .stat, .verdict-box, .facts-box, .rubric-strip li, "
         ".step, .metric, .scorecard-facts, .table-panel, .level-card, .hint, .review-step")
OVERFLOW = """(cards) => {
  const width = document.documentElement.clientWidth;
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + [...el.classList].slice(0, 2).map((c) => "." + c).join("");
  const scrolls = (el) => getComputedStyle(el).overflowX !== "visible";
  const problems = [];
  const doc = document.scrollingElement;
  if (doc.scrollWidth > width + 1) {
    problems.push(`the page is ${doc.scrollWidth} px wide in ${width}`);
  }
  const main = document.querySelector("main");
  for (const card of main.querySelectorAll(cards)) {
    if (card.getClientRects().length && card.scrollWidth > card.clientWidth + 1) {
      problems.push(`${name(card)}: content ${card.scrollWidth} px wide in ${card.clientWidth}`);
    }
  }
  for (const el of main.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width <= 1 || (box.right <= width + 1 && box.left >= -1)) continue;
    let clipped = false;
    for (let up = el.parentElement; up && up !== main; up = up.parentElement) {
      if (scrolls(up)) { clipped = true; break; }
    }
    const span = `${Math.round(box.left)}..${Math.round(box.right)}`;
    if (!clipped) problems.push(`${name(el)} spans ${span} px`);
  }
  return [...new Set(problems)].slice(0, 8);
}"""

# Room between the header and the first thing under it (a message or the page's content).
HEADER_GAP = """() => {
  const header = document.querySelector("header.topbar").getBoundingClientRect();
  const first = [...document.querySelectorAll(".messages, main > *")]
    .find((el) => el.getClientRects().length);
  return Math.round(first.getBoundingClientRect().top - header.bottom);
}"""
MIN_HEADER_GAP = 16


def log_in(context, user, base_url: str) -> None:
    client = Client()
    client.force_login(user)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                          "url": base_url}])


@pytest.fixture
def tour(site):  # noqa: F811
    """The crawl's site (two case studies with scored models, a closed round) plus what the
    interview and scorecard pages show: a running interview with an over-budget step, the
    candidate's earlier interview (its first step over budget) graded and released, another
    candidate's interview with a draft scorecard, and double-graded history for
    calibration. Returns ``(users,
    {role: [extra pages to visit]})``."""
    users, _ = site
    owner, iv = users["candidate"], users["interviewer"]
    reviewed = InterviewSession.objects.get(candidate=owner)
    StepTime.objects.filter(session=reviewed, step_number=1).update(seconds=40 * 60)
    graded(reviewed, iv, {1: 3, 2: 2, 3: 3, 4: 2, 5: 3, 6: 2},
           summary="Clear framing; quantify the bottlenecks next time.")
    released(reviewed, by=iv)
    running = running_interview(owner)
    drafted = take_interview(users["other-candidate"],
                             CaseStudy.objects.get(slug="ad-click-prediction"))
    graded(drafted, iv, {1: 3, 2: 4}, submit=False)
    double_graded_history()
    scorecards = ["/scorecards/?state=all", f"/scorecards/sessions/{drafted.pk}/",
                  f"/scorecards/sessions/{reviewed.pk}/",
                  f"/scorecards/sessions/{reviewed.pk}/replay/"]
    extra = {
        "candidate": [f"/sessions/{running.pk}/", reviewed.get_review_url()],
        "interviewer": scorecards,
        "admin": scorecards,
    }
    return users, extra


def running_interview(user) -> InterviewSession:
    """A running interview with answers (and a diagram) to three steps, the first over its
    time budget."""
    session, _ = session_start(candidate=user,
                               case_study=CaseStudy.objects.get(slug="feed-ranking"))
    for step, text in ((1, "Rank posts by **expected engagement**."),
                       (2, "NDCG@10 offline; time spent per user online."),
                       (5, "Candidate generation, then ranking with a feature store.")):
        answer_save(session=session, step_number=step, text=text, base_version=0,
                    diagram=DIAGRAM if step == 5 else "")
    StepTime.objects.filter(session=session, step_number=1).update(seconds=30 * 60)
    InterviewSession.objects.filter(pk=session.pk).update(
        started_at=F("started_at") - timedelta(minutes=5))
    return session


def test_every_page_passes_axe_at_both_widths_as_every_role(tour, browser, live_server,
                                                            axe_source):
    users, extra = tour
    problems: list[str] = []
    visited = 0
    for role in ROLES:
        user = users[role]
        context = browser.new_context(base_url=live_server.url, viewport=WIDE)
        if user is not None:
            log_in(context, user, live_server.url)
        page = context.new_page()
        pages = html_pages(user)
        pages += [url for url in extra.get(role, []) if url not in pages]
        for url in pages:
            slug = re.sub(r"[^a-z0-9]+", "-", url.lower()).strip("-") or "home"
            page.set_viewport_size(WIDE)
            page.goto(url)
            page.wait_for_load_state("networkidle")
            h1s = page.locator("h1").count()
            if h1s != 1:
                problems.append(f"{role} {url}: {h1s} h1 elements, not one")
            for width, viewport in (("1366", WIDE), ("390", PHONE)):
                page.set_viewport_size(viewport)
                page.evaluate("window.scrollTo(0, 0)")
                screenshot(page, f"a11y/{role}-{slug}-{width}", full_page=viewport is PHONE,
                           docs=False)
                where = f"{role} {url} at {width} px"
                gap = page.evaluate(HEADER_GAP)
                if gap < MIN_HEADER_GAP:
                    problems.append(f"{where}: the content starts {gap} px under the header")
                violations = axe_violations(page, axe_source)
                if violations:
                    problems.append(axe_report(where, violations))
                overflow = page.evaluate(OVERFLOW, CARDS)
                if overflow:
                    problems.append(f"{where}: wider than its card or the screen: {overflow}")
                visited += 1
        close_quietly(context)
    assert not problems, "\n".join(problems)
    assert visited > 60


# ----------------------------------------------------------------------------- the keyboard


@pytest.fixture
def keyboard_pages(catalogue):
    """What the keyboard tests need, without the crawl's site (datasets, scored models):
    a candidate's running interview (its first step over budget) and their earlier,
    submitted interview (its first step over budget too). Returns ``(candidate,
    [running page, review page])``."""
    owner = candidate(username="owner")
    earlier, _ = session_start(candidate=owner,
                               case_study=CaseStudy.objects.get(slug="food-delivery-time"))
    answer_save(session=earlier, step_number=1, text="Predict minutes.", base_version=0)
    StepTime.objects.filter(session=earlier, step_number=1).update(seconds=40 * 60)
    session_submit(session=earlier)
    running = running_interview(owner)
    return owner, [f"/sessions/{running.pk}/", earlier.get_review_url()]


@pytest.fixture
def interview_page(keyboard_pages, browser, live_server):
    """The running interview, open in a logged-in candidate's browser at 1366 px."""
    owner, urls = keyboard_pages
    context = browser.new_context(base_url=live_server.url, viewport=WIDE)
    log_in(context, owner, live_server.url)
    page = context.new_page()
    page.goto(urls[0])
    expect(page.get_by_test_id("countdown")).to_be_visible()
    yield page
    # Nothing more reaches the server (the heartbeat, the save the page sends on pagehide):
    # a request landing while the test database is flushed deadlocks the flush.
    close_quietly(context)


def active_element(page) -> str:
    return page.evaluate("""() => {
      const el = document.activeElement;
      return el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
        + (el.getAttribute("href") ? `[href="${el.getAttribute("href")}"]` : "");
    }""")


def heartbeat(page) -> None:
    """Send the interview's heartbeat now (it runs every 20 s) and wait until htmx has
    swapped a new step list in for the old one."""
    page.evaluate("document.getElementById('step-times').dataset.old = 'yes'")
    with page.expect_response(re.compile(r"/focus/$")):
        page.evaluate("htmx.trigger('#pulse', 'pulse')")
    expect(page.locator("#step-times[data-old]")).to_have_count(0)
    expect(page.locator("#step-times")).to_have_count(1)
    expect(page.locator("#step-times.htmx-settling")).to_have_count(0)


def test_focus_stays_in_the_step_list_and_the_answer_through_a_heartbeat(interview_page):
    page = interview_page
    link = page.locator('#step-times a[href="#step-2"]')
    link.focus()
    before = active_element(page)
    assert 'href="#step-2"' in before
    heartbeat(page)
    assert active_element(page) == before
    page.keyboard.press("Tab")  # the keyboard goes on from where it was
    assert 'href="#step-3"' in active_element(page)

    answer = page.get_by_test_id("answer-2")
    answer.focus()
    page.keyboard.press("End")
    page.keyboard.type(" More.")
    heartbeat(page)
    assert active_element(page) == "textarea#answer-2"
    page.keyboard.type(" Still here.")
    expect(answer).to_have_value(re.compile(r"More\. Still here\.$"))


def test_write_and_preview_tabs_follow_the_arrow_keys(interview_page):
    page = interview_page
    card = page.locator("#step-1")
    write, preview = card.get_by_role("tab", name="Write"), card.get_by_role("tab", name="Preview")
    # One tab stop for the tab list: the selected tab; the other is reached by arrows.
    expect(write).to_have_attribute("tabindex", "0")
    expect(preview).to_have_attribute("tabindex", "-1")
    expect(write).to_have_attribute("aria-controls", "answer-1")
    write.focus()
    page.keyboard.press("ArrowRight")
    expect(preview).to_be_focused()
    expect(preview).to_have_attribute("aria-selected", "true")
    expect(preview).to_have_attribute("tabindex", "0")
    expect(write).to_have_attribute("tabindex", "-1")
    expect(page.locator("#preview-1")).to_be_visible()
    expect(page.locator("#preview-1").locator("strong")).to_have_text("expected engagement")
    expect(page.get_by_test_id("answer-1")).to_be_hidden()
    page.keyboard.press("ArrowRight")  # wraps round
    expect(write).to_be_focused()
    expect(page.get_by_test_id("answer-1")).to_be_visible()
    page.keyboard.press("End")
    expect(preview).to_be_focused()
    page.keyboard.press("Home")
    expect(write).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(preview).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(write).to_be_focused()
    expect(write).to_have_attribute("aria-selected", "true")
    # Tab leaves the tab list for the answer box.
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("answer-1")).to_be_focused()


def test_skip_links_take_the_keyboard_past_the_header(interview_page):
    page = interview_page
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the answers")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("answer-1")).to_be_focused()
    page.keyboard.press("Control+End")
    page.keyboard.type(" Typed straight away.")
    expect(page.get_by_test_id("answer-1")).to_have_value(re.compile("Typed straight away.$"))

    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")


# The focus ring against what is behind it: WCAG 2.2's 3:1 for what shows focus (1.4.11).
FOCUS_RING = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  let behind = el.parentElement, bg = [255, 255, 255];
  for (; behind; behind = behind.parentElement) {
    const c = rgb(getComputedStyle(behind).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] === 1)) { bg = c.slice(0, 3); break; }
  }
  const lum = ([r, g, b]) => [r, g, b].map((v) => v / 255)
    .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const [a, b] = [lum(rgb(style.outlineColor).slice(0, 3)), lum(bg)];
  return {width: parseFloat(style.outlineWidth), style: style.outlineStyle,
          contrast: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)};
}"""


def test_the_keyboard_focus_ring_is_clear_on_buttons_links_tabs_and_fields(interview_page):
    page = interview_page
    targets = {
        "the submit button": page.get_by_test_id("submit-open"),
        "a step link": page.locator('#step-times a[href="#step-3"]'),
        "a question": page.locator(".qa-ask").first,
        "an editor tab": page.locator("#step-2").get_by_role("tab", name="Write"),
        "an answer box": page.get_by_test_id("answer-2"),
        "a text field": page.locator("#own-question"),
    }
    weak = {}
    for name, target in targets.items():
        target.focus()
        page.keyboard.press("Shift+Tab")  # focus by keyboard, as :focus-visible needs
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING)
        if ring["style"] == "none" or ring["width"] < 2 or ring["contrast"] < 3:
            weak[name] = ring
    assert weak == {}


def test_over_budget_steps_say_so_in_words_not_only_in_orange(interview_page, keyboard_pages):
    page = interview_page
    nav = page.locator("#step-times")
    expect(nav.locator('[data-step="1"] .over-note')).to_be_visible()
    expect(nav.locator('[data-step="1"] .over-note')).to_have_text("over budget")
    expect(nav.locator('[data-step="2"] .over-note')).to_be_hidden()
    expect(page.locator("#step-1 .budget-chip")).to_have_text(
        re.compile(r"budget · over$"), use_inner_text=True)
    expect(page.locator("#step-2 .budget-chip")).to_have_text(
        re.compile(r"budget$"), use_inner_text=True)

    _, urls = keyboard_pages
    page.goto(urls[1])  # the review of the earlier interview
    chart = page.get_by_test_id("time-chart")
    for viewport in (WIDE, PHONE):
        page.set_viewport_size(viewport)
        notes = chart.locator(".chart-over-notes text").locator("visible=true")
        expect(notes).to_have_text(["over budget"])
        times = chart.locator(".chart-values text.chart-over").locator("visible=true")
        note, time = notes.bounding_box(), times.bounding_box()
        assert note["x"] + note["width"] <= time["x"]  # beside the times, not over them
        assert abs(note["y"] - time["y"]) < 2
    expect(page.get_by_test_id("review-step-1")).to_contain_text("over budget")
