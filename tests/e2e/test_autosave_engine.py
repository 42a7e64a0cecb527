"""The autosave engine both pages share (static/js/lib/autosave.js), proven on each: the
candidate's interview page and the interviewer's scorecard. The server fails the saves for
real, as in test_database_faults: the row a save must write is held locked and the
PostgreSQL backend serving each save is terminated while it waits. Both pages say "Not
saved", keep the text in localStorage, retry on an exponential backoff that is jittered
(the two pages do not retry in step) and end saved, with the text in the database. Then
each page is left while a change fails to save: the next visit restores the copy from
localStorage and saves it."""

import re
import time
from contextlib import contextmanager

import psycopg
import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect
from psycopg import sql

from interviews.models import Answer, CaseStudy, Grade
from interviews.scorecards.services import grade_claim
from interviews.tests.factories import interviewer, submitted_session
from tests.e2e.conftest import close_quietly, screenshot
from tests.e2e.test_database_faults import dsn
from tests.e2e.test_interview_session import candidate_login, start_interview  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.django_db(transaction=True)]

FAILURES = 4  # retries after 1, 2, 4 and 8 s of backoff, each less its jitter
JITTER = 0.3  # a retry waits between 70 % and 100 % of its backoff
LATE_MS = 400  # how late a busy machine may run a timer

# Each autosave request as the page sent it and as its answer came back, on the page's
# monotonic clock. htmx's events bubble from the form to the document, after the engine's
# listener on <body> has handled them.
RECORD_SAVES = """
window.__autosaves = [];
const autosaveForm = (elt) => elt && elt.getAttribute
  && elt.getAttribute("hx-trigger") === "autosave";
document.addEventListener("htmx:configRequest", (event) => {
  const form = event.detail.elt;
  if (autosaveForm(form)) window.__autosaves.push({
    form: form.id || `step-${form.dataset.step}`, sent: performance.now(),
    status: null, answered: null,
  });
});
document.addEventListener("htmx:afterRequest", (event) => {
  if (!autosaveForm(event.detail.elt)) return;
  const save = window.__autosaves.find((s) => s.answered === null);  // hx-sync: in order
  if (save) {
    save.status = event.detail.xhr ? event.detail.xhr.status : 0;
    save.answered = performance.now();
  }
});
"""

# The texts in this form's localStorage copies (the scorecard's is the form, URL-encoded).
BACKUPS = """(prefix) => Object.keys(localStorage).filter((key) => key.startsWith(prefix))
  .map((key) => JSON.parse(localStorage.getItem(key)))
  .flatMap((copy) => (copy.data === undefined ? [copy.text]
    : [...new URLSearchParams(copy.data).values()]))"""


@contextmanager
def row_held(table: str, where: dict):
    """Hold a row lock on ``table``'s row matching ``where`` until the block ends."""
    holder = psycopg.connect(dsn())
    try:
        holder.execute(sql.SQL("SELECT id FROM {} WHERE {} FOR UPDATE").format(
            sql.Identifier(table),
            sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(column))
                                  for column in where)), list(where.values()))
        yield
    finally:
        holder.rollback()
        holder.close()

BACKUP_GONE = "(prefix) => !Object.keys(localStorage).some((key) => key.startsWith(prefix))"


def kill_blocked_saves(table: str, count: int | None = None, *, quiet: float = 1.5,
                       timeout: float = 40) -> list[int]:
    """Terminate the backends that wait for a row lock in a statement on ``table`` (each
    try of a save is one), one at a time, as they arrive: the next ``count`` of them, or
    with no count every one until none has come for ``quiet`` seconds."""
    killed: list[int] = []
    deadline = time.monotonic() + timeout
    last = time.monotonic()
    with psycopg.connect(dsn(), autocommit=True) as admin:
        while (len(killed) < count) if count else (time.monotonic() - last < quiet):
            if time.monotonic() > deadline:
                pytest.fail(f"only {len(killed)} of {count} saves blocked on {table}")
            row = admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query ILIKE %s AND pid <> pg_backend_pid() "
                "AND NOT (pid = ANY(%s))", [f"%{table}%", killed]).fetchone()
            if row:
                admin.execute("SELECT pg_terminate_backend(%s)", [row[0]])
                killed.append(row[0])
                last = time.monotonic()
            else:
                time.sleep(0.02)
    return killed


def save_fails_then_lands(page, *, form: str, edit, state, saved_text: str, table: str,
                          where: dict, backup_prefix: str, text: str, name: str) -> list[float]:
    """Hold the row the save writes, make the edit, fail the save and its first retries,
    then let it land. Returns each retry's wait in ms (from a failure to the next try)."""
    with row_held(table, where):
        page.evaluate("window.__autosaves = []")
        edit()
        kill_blocked_saves(table, 1)
        expect(state).to_contain_text(re.compile(r"Not saved \(server error\)\. Retrying in \d+ s"))
        # Until the server has it, the text is in this browser too.
        assert text in page.evaluate(BACKUPS, backup_prefix)
        screenshot(page, f"autosave-retrying-{name}", full_page=False, docs=False)
        kill_blocked_saves(table, FAILURES - 1)
    expect(state).to_contain_text(saved_text, timeout=30_000)
    page.wait_for_function(BACKUP_GONE, arg=backup_prefix)  # the server confirmed it

    saves = [s for s in page.evaluate("window.__autosaves") if s["form"] == form]
    statuses = [s["status"] for s in saves]
    assert len(saves) == FAILURES + 1 and all(s >= 500 for s in statuses[:-1]), statuses
    assert statuses[-1] == 200, statuses
    return [later["sent"] - earlier["answered"]
            for earlier, later in zip(saves, saves[1:], strict=False)]


def left_unsaved_then_restored(page, *, edit, state, saved_text: str, table: str,
                               where: dict, backup_prefix: str, toast: str) -> None:
    """Make a change while the saves fail and leave the page (the prompt says yes; its last
    keepalive copy fails too). On the next visit the page restores the copy this tab left
    in localStorage and saves it."""
    url = page.url
    page.on("dialog", lambda dialog: dialog.accept())  # "Leave the page?" Yes.
    with row_held(table, where):
        edit()
        kill_blocked_saves(table, 1)
        expect(state).to_contain_text("Not saved (server error)")
        page.goto("about:blank")
        # The keepalive copy sent on pagehide, and any save still on its way.
        assert kill_blocked_saves(table)
    page.goto(url)
    expect(page.locator("#toasts")).to_contain_text(toast)
    page.wait_for_function(BACKUP_GONE, arg=backup_prefix)  # the server confirmed it
    expect(state).to_contain_text(saved_text)


def test_both_pages_retry_a_failing_save_with_jittered_backoff_and_lose_nothing(
        page, browser, live_server, candidate_login, require_postgres):  # noqa: F811
    # --- the candidate's interview page
    page.context.add_init_script(RECORD_SAVES)
    session = start_interview(page, "feed-ranking")
    box = page.get_by_test_id("answer-1")
    box.fill("Rank posts by predicted engagement.")
    expect(page.get_by_test_id("save-state-1")).to_contain_text("Saved at")
    page.wait_for_load_state("networkidle")  # the focus report after typing has gone out

    interview_text = "Rank posts by predicted engagement, then diversify the top of the feed."

    def edit_answer() -> None:
        box.fill(interview_text)
        box.blur()

    answers = Answer._meta.db_table
    interview_waits = save_fails_then_lands(
        page, form="step-1", edit=edit_answer, state=page.get_by_test_id("save-state-1"),
        saved_text="Saved at",
        table=answers, where={"session_id": session.pk, "step_number": 1},
        backup_prefix=f"mlsd:backup:{session.pk}:1:", text=interview_text, name="interview")
    expect(page.get_by_test_id("save-summary")).to_contain_text("All changes saved")
    answer = Answer.objects.get(session=session, step_number=1)
    assert answer.text == interview_text
    assert list(answer.revisions.order_by("version").values_list("version", flat=True)) == [1, 2]

    left_text = interview_text + " Typed as the tab was left."

    def edit_and_leave() -> None:
        box.fill(left_text)
        box.blur()

    left_unsaved_then_restored(
        page, edit=edit_and_leave, state=page.get_by_test_id("save-state-1"),
        saved_text="Saved at", table=answers, where={"session_id": session.pk, "step_number": 1},
        backup_prefix=f"mlsd:backup:{session.pk}:1:", toast="Restored unsaved changes to step 1")
    expect(box).to_have_value(left_text)
    assert Answer.objects.get(session=session, step_number=1).text == left_text

    # The backoff is capped: 30 s at most, less its jitter.
    delays = page.evaluate("""async () => {
      const script = document.querySelector('script[type="module"][src*="js/session"]');
      const engine = await import(new URL("lib/autosave.js", script.src).href);
      return [0, 1, 2, 3, 12].map((attempt) => [engine.retryDelay(attempt, () => 0),
                                                 engine.retryDelay(attempt, () => 1)]);
    }""")
    assert delays == [[1000, 700], [2000, 1400], [4000, 2800], [8000, 5600], [30000, 21000]]

    # --- the interviewer's scorecard, in another browser
    candidate_user = get_user_model().objects.get(username=candidate_login.username)
    submitted = submitted_session(candidate_user=candidate_user,
                                  case_study=CaseStudy.objects.get(slug="ad-click-prediction"))
    grader = interviewer(username="ines")
    grade, _ = grade_claim(session=submitted, grader=grader)
    context = browser.new_context(base_url=live_server.url,
                                  viewport={"width": 1280, "height": 860})
    context.add_init_script(RECORD_SAVES)
    grading = context.new_page()
    errors: list[str] = []
    grading.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    grading.goto("/accounts/login/")
    grading.get_by_label("Username").fill("ines")
    grading.get_by_label("Password").fill("correct-horse-battery")
    grading.get_by_role("button", name="Log in").click()
    expect(grading.get_by_test_id("who")).to_contain_text("ines")
    grading.goto(submitted.get_scorecard_url())
    expect(grading.get_by_test_id("grade-save-state")).to_contain_text("Draft")

    summary = grading.get_by_test_id("summary")
    scorecard_text = "Clear framing; quantify the bottlenecks before scaling the design."

    def edit_summary() -> None:
        summary.fill(scorecard_text)
        summary.blur()

    grades = Grade._meta.db_table
    scorecard_waits = save_fails_then_lands(
        grading, form="grade-form", edit=edit_summary,
        state=grading.get_by_test_id("grade-save-state"), saved_text="Draft saved at",
        table=grades, where={"id": grade.pk},
        backup_prefix=f"mlsd:grade:{submitted.pk}:{grader.pk}:", text=scorecard_text,
        name="scorecard")
    grade.refresh_from_db()
    assert grade.summary == scorecard_text

    def edit_summary_and_leave() -> None:
        summary.fill(scorecard_text + " Typed as the tab was left.")
        summary.blur()

    left_unsaved_then_restored(
        grading, edit=edit_summary_and_leave, state=grading.get_by_test_id("grade-save-state"),
        saved_text="Draft saved at", table=grades, where={"id": grade.pk},
        backup_prefix=f"mlsd:grade:{submitted.pk}:{grader.pk}:", toast="Restored changes")
    grade.refresh_from_db()
    assert grade.summary == scorecard_text + " Typed as the tab was left."
    close_quietly(context)

    # Each retry waited its backoff (1, 2, 4, 8 s) less a random part of up to 30 %: never
    # early, never more than a busy machine's lateness beyond it, and the two pages apart.
    backoffs = [1000 * 2 ** attempt for attempt in range(FAILURES)]
    shares = {}
    for name, waits in (("interview", interview_waits), ("scorecard", scorecard_waits)):
        for wait, backoff in zip(waits, backoffs, strict=True):
            assert (1 - JITTER) * backoff - 2 <= wait <= backoff + LATE_MS, (name, waits)
        shares[name] = [wait / backoff for wait, backoff in zip(waits, backoffs, strict=True)]
        # Without jitter every wait is the full backoff or later (a timer never fires early).
        assert min(shares[name]) < 0.98, (name, waits)
    assert any(abs(a - b) > 0.01 for a, b in zip(*shares.values(), strict=True)), shares

    # The only console errors are the failed saves (Chrome logs each failed load).
    failed = r"status of 5\d\d|Response Status Error Code 5\d\d"
    for logged in (page.console_errors, errors):
        assert all(re.search(failed, error)
                   for error in logged), logged
