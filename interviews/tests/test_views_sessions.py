import json
import re

import pytest
from django.db import connection
from django.http import Http404
from django.test import Client
from django.urls import reverse

from interviews.models import Answer, InterviewSession, QuestionAsked
from interviews.services.autosave import AnswerConflict, answer_save, answer_save_for_candidate
from interviews.services.sessions import question_ask, session_focus, session_start, session_submit
from interviews.tests.factories import (
    CaseStudyFactory,
    candidate,
    interviewer,
    rubric_with_steps,
    start_session,
)
from interviews.tests.test_services_sessions import shift_back

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def save_url(session, step=1):
    return reverse("interviews:answer_save", args=[session.pk, step])


def logged_in(client, session):
    client.force_login(session.candidate)
    return client


def client_events(response) -> dict:
    return json.loads(response.headers.get("HX-Trigger", "{}"))


# --- start and the case-study page ----------------------------------------------------------


def test_start_redirects_to_the_session_and_a_double_click_reuses_it(client):
    rubric_with_steps()
    case = CaseStudyFactory()
    client.force_login(candidate())
    url = reverse("interviews:session_start", args=[case.slug])
    first = client.post(url)
    second = client.post(url)
    session = InterviewSession.objects.get()
    assert first.status_code == second.status_code == 302
    assert first.url == second.url == session.get_absolute_url()


def test_start_over_htmx_answers_with_a_client_redirect(client):
    rubric_with_steps()
    case = CaseStudyFactory()
    client.force_login(candidate())
    response = client.post(reverse("interviews:session_start", args=[case.slug]), **HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == InterviewSession.objects.get().get_absolute_url()


def test_interviewers_cannot_start_and_anonymous_users_must_log_in(client):
    rubric_with_steps()
    case = CaseStudyFactory()
    url = reverse("interviews:session_start", args=[case.slug])
    response = client.post(url)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    client.force_login(interviewer())
    assert client.post(url).status_code == 403
    assert client.get(url).status_code == 405
    assert not InterviewSession.objects.exists()


def test_case_study_page_offers_start_then_resume_to_candidates_only(client):
    rubric_with_steps()
    case = CaseStudyFactory()
    html = client.get(case.get_absolute_url()).content.decode()
    assert "Log in to start a mock interview" in html
    user = candidate()
    client.force_login(user)
    assert 'data-testid="start-interview"' in client.get(case.get_absolute_url()).content.decode()
    session, _ = session_start(candidate=user, case_study=case)
    html = client.get(case.get_absolute_url()).content.decode()
    assert session.get_absolute_url() in html and "Resume your interview" in html
    client.force_login(interviewer())
    html = client.get(case.get_absolute_url()).content.decode()
    assert "start-interview" not in html and "Resume" not in html


# --- the session page -----------------------------------------------------------------------


def test_session_page_shows_prompt_steps_budgets_questions_and_the_server_clock(
        client, django_assert_max_num_queries):
    session = start_session()
    save = answer_save(session=session, step_number=3, text="Saved **before**.",
                                base_version=0)
    question_ask(session=session, text="Own question?")
    logged_in(client, session)
    # +3 for grading's design-claims panels: the claims, the model link, the candidate's
    # scored submissions (grading_panels; none linked, so no score or leaderboard read).
    with django_assert_max_num_queries(14):
        html = client.get(session.get_absolute_url()).content.decode()
    assert session.case_study.prompt in html
    for title in ("Problem statement", "Metrics", "Requirements", "Train and evaluate the model",
                  "High-level system design", "Scale the design"):
        assert title in html
    assert "12:00 budget" in html and "4:00 budget" in html
    assert "What is the scale?" in html
    assert "About 10 million daily users." not in html  # revealed only when asked
    assert 'name="diagram"' in html and html.count('name="diagram"') == 1
    assert "Saved before." not in html and "Saved **before**." in html
    assert f'name="base_version" value="{save.answer.version}"' in html
    remaining = int(re.search(r'data-remaining-ms="(\d+)"', html).group(1))
    assert session.duration_seconds * 1000 - 10_000 < remaining <= session.duration_seconds * 1000
    assert 'hx-sync="this:queue last"' in html


def test_session_page_of_someone_else_is_404_and_anonymous_users_log_in(client):
    session = start_session()
    response = client.get(session.get_absolute_url())
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    client.force_login(candidate())
    assert client.get(session.get_absolute_url()).status_code == 404
    assert client.get(session.get_review_url()).status_code == 404
    assert client.post(save_url(session), {"text": "x", "base_version": 0},
                       **HTMX).status_code == 404
    assert Answer.objects.get(session=session, step_number=1).text == ""


def test_session_page_after_the_deadline_submits_lazily_and_shows_the_review(client):
    session = shift_back(start_session(duration_seconds=60), 600)
    response = logged_in(client, session).get(session.get_absolute_url(), follow=True)
    assert response.redirect_chain[-1][0] == session.get_review_url()
    assert "Time ran out" in response.content.decode()
    session.refresh_from_db()
    assert session.is_submitted


# --- saving (htmx fragments and their errors) ----------------------------------------------


def test_save_returns_only_the_saved_state_fragment(client):
    session = start_session()
    response = logged_in(client, session).post(
        save_url(session, 2), {"text": "Use **NE**. <script>alert(1)</script>",
                               "base_version": 0, "active_step": 2}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert 'name="base_version" value="1"' in html and "Saved at" in html
    assert response["X-Answer-Version"] == "1"
    # The preview has its own endpoint: a keystroke save renders no Markdown and echoes
    # nothing of the text.
    assert "preview" not in html and "<strong>" not in html and "alert" not in html
    remaining = client_events(response)["session:clock"]["remaining_ms"]
    assert 0 < remaining <= session.duration_seconds * 1000
    assert Answer.objects.get(session=session, step_number=2).text.startswith("Use **NE**.")


def test_save_takes_a_constant_number_of_queries(client, django_assert_max_num_queries):
    session = start_session()
    logged_in(client, session)
    version = 0
    # Growing texts, a change of step, and the first save of a step: the same statements.
    for step, text in ((1, "a" * 50), (1, "a" * 5_000), (2, "b" * 20_000), (1, "a" * 29_000)):
        base = version if step == 1 else 0
        # PostgreSQL: session and user (middleware), BEGIN, the session lock, the writes (one
        # statement), COMMIT. Other databases (SQLite for `make run`) write through the ORM.
        with django_assert_max_num_queries(6 if connection.vendor == "postgresql" else 10):
            response = client.post(save_url(session, step), {
                "text": text, "base_version": base, "active_step": step}, **HTMX)
        assert response.status_code == 200
        if step == 1:
            version = int(response["X-Answer-Version"])
    assert version == 3


def test_save_of_someone_elses_session_is_a_404_that_changes_nothing(client):
    session = start_session()
    client.force_login(candidate())
    response = client.post(save_url(session), {"text": "x", "base_version": 0,
                                                "active_step": 1}, **HTMX)
    assert response.status_code == 404
    session.refresh_from_db()
    assert session.active_step is None
    assert Answer.objects.get(session=session, step_number=1).version == 0


def test_preview_renders_the_posted_text_as_safe_markdown(client):
    session = start_session()
    url = reverse("interviews:answer_preview", args=[session.pk])
    response = logged_in(client, session).post(
        url, {"text": "Use **NE**. <script>alert(1)</script>"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert "<strong>NE</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Nothing to preview yet" in client.post(url, {"text": "  \n"}, **HTMX).content.decode()
    assert client.post(url, {"text": "x" * 40_000}, **HTMX).status_code == 400
    # Rendering writes nothing.
    assert Answer.objects.get(session=session, step_number=1).version == 0


def test_preview_of_someone_elses_session_is_a_404(client):
    session = start_session()
    client.force_login(candidate())
    url = reverse("interviews:answer_preview", args=[session.pk])
    assert client.post(url, {"text": "x"}, **HTMX).status_code == 404


def test_session_page_wires_the_preview_to_its_endpoint_outside_the_save_queue(client):
    session = start_session()
    answer_save(session=session, step_number=1, text="Saved **before**.",
                         base_version=0)
    html = logged_in(client, session).get(session.get_absolute_url()).content.decode()
    preview = re.search(r'<div class="md md-preview" id="preview-1"[^>]*>', html).group(0)
    assert f'hx-post="{reverse("interviews:answer_preview", args=[session.pk])}"' in preview
    assert 'hx-trigger="preview"' in preview and 'hx-sync="this:replace"' in preview
    assert 'hx-target="this"' in preview
    assert "<strong>before</strong>" in html  # the first view is rendered with the page


def test_stale_save_is_a_409_showing_both_texts(client):
    session = start_session()
    answer_save(session=session, step_number=1, text="Saved by the other tab",
                         base_version=0)
    response = logged_in(client, session).post(
        save_url(session), {"text": "Typed in this tab", "base_version": 0}, **HTMX)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Saved by the other tab" in html and "Typed in this tab" in html
    assert 'data-server-version="1"' in html
    assert response["HX-Retarget"] == "#conflict-1"
    assert response["HX-Reswap"] == "innerHTML"
    assert response["X-Answer-Version"] == "1"
    assert Answer.objects.get(session=session, step_number=1).text == "Saved by the other tab"


def test_stale_save_highlights_only_the_lines_that_differ_first(client):
    session = start_session()
    lines = [f"line {n} of the answer" for n in range(1, 21)]
    answer_save(session=session, step_number=2, base_version=0,
                text="\n".join([*lines[:15], "line 16, the other tab's", *lines[16:]]))
    response = logged_in(client, session).post(
        save_url(session, 2), {"text": "\n".join([*lines[:15], "line 16, this tab's",
                                                   *lines[16:]]), "base_version": 0}, **HTMX)
    assert response.status_code == 409
    html = response.content.decode()
    assert "1 line differs, from line 16." in html
    changed = re.findall(r'<li class="diff-line is-changed">.*?</li>', html, re.S)
    assert len(changed) == 2
    assert "this tab&#x27;s" in changed[0] and "the other tab&#x27;s" in changed[1]
    # Two lines of context on each side, the rest folded; the full texts stay for the choices.
    assert html.count('<li class="diff-gap">13 unchanged lines</li>') == 2
    assert html.count('<li class="diff-line">') == 8
    assert ">line 1 of the answer\n" in html  # in the full texts, not in the diff
    assert 'data-side="mine"' in html and 'data-side="theirs"' in html


def test_save_after_the_deadline_is_a_423_with_the_ended_banner(client, settings):
    settings.INTERVIEW_SAVE_GRACE_SECONDS = 3
    session = shift_back(start_session(duration_seconds=60), 64)
    response = logged_in(client, session).post(
        save_url(session), {"text": "late", "base_version": 0}, **HTMX)
    assert response.status_code == 423
    html = response.content.decode()
    assert "Time is up" in html and session.get_review_url() in html
    assert response["HX-Retarget"] == "#session-banner"
    assert "session:closed" in client_events(response)
    assert Answer.objects.get(session=session, step_number=1).text == ""


def test_save_with_bad_input_is_a_400_that_says_not_saved(client):
    session = start_session()
    logged_in(client, session)
    missing_version = client.post(save_url(session), {"text": "x"}, **HTMX)
    assert missing_version.status_code == 400
    assert missing_version.content.decode().startswith("Not saved")
    too_long = client.post(save_url(session), {"text": "x" * 40_000, "base_version": 0}, **HTMX)
    assert too_long.status_code == 400
    diagram_in_step_1 = client.post(save_url(session), {"text": "x", "diagram": "graph TD",
                                                        "base_version": 0}, **HTMX)
    assert diagram_in_step_1.status_code == 400
    assert client.post(save_url(session, 9), {"text": "x", "base_version": 0},
                       **HTMX).status_code == 400
    assert client.get(save_url(session)).status_code == 405


def test_anonymous_htmx_save_gets_a_401_instead_of_the_login_page(client):
    session = start_session()
    response = client.post(save_url(session), {"text": "x", "base_version": 0}, **HTMX)
    assert response.status_code == 401
    assert "logged out" in response.content.decode()
    plain = client.post(save_url(session), {"text": "x", "base_version": 0})
    assert plain.status_code == 302 and plain.url.startswith(reverse("login"))


def test_writes_need_the_csrf_token():
    session = start_session()
    client = Client(enforce_csrf_checks=True)
    client.force_login(session.candidate)
    data = {"text": "x", "base_version": 0}
    assert client.post(save_url(session), data, **HTMX).status_code == 403
    assert client.post(reverse("interviews:session_submit", args=[session.pk]),
                       **HTMX).status_code == 403
    assert client.post(reverse("interviews:session_focus", args=[session.pk]),
                       {"step": 1}, **HTMX).status_code == 403
    assert client.post(reverse("interviews:question_ask", args=[session.pk]),
                       {"text": "Why?"}, **HTMX).status_code == 403
    session.refresh_from_db()
    assert session.is_active and Answer.objects.get(session=session, step_number=1).version == 0

    page = client.get(session.get_absolute_url())
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page.content.decode()).group(1)
    response = client.post(save_url(session), data, HTTP_X_CSRFTOKEN=token, **HTMX)
    assert response.status_code == 200


# --- heartbeat, questions, submit -----------------------------------------------------------


def test_focus_returns_the_step_times_fragment_and_the_clock(client):
    session = start_session()
    response = logged_in(client, session).post(
        reverse("interviews:session_focus", args=[session.pk]), {"step": 4}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="step-times"' in html and 'data-budget-seconds="720"' in html
    assert "session:clock" in client_events(response)
    session.refresh_from_db()
    assert session.active_step == 4


def test_focus_tells_the_page_each_answers_version(client):
    session = start_session()
    answer_save(session=session, step_number=2, text="first", base_version=0)
    answer_save(session=session, step_number=2, text="second", base_version=1)
    answer_save(session=session, step_number=5, text="", diagram="flowchart LR", base_version=0)
    response = logged_in(client, session).post(
        reverse("interviews:session_focus", args=[session.pk]), {"step": 2}, **HTMX)
    assert client_events(response)["session:versions"] == {
        "1": 0, "2": 2, "3": 0, "4": 0, "5": 1, "6": 0}


def test_focus_after_the_session_ended_stops_the_polling(client):
    session = shift_back(start_session(duration_seconds=60), 600)
    response = logged_in(client, session).post(
        reverse("interviews:session_focus", args=[session.pk]), {"step": ""}, **HTMX)
    assert response.status_code == 286
    assert response["HX-Retarget"] == "#session-banner"
    assert "See your review" in response.content.decode()


def test_asking_a_question_swaps_in_the_panel_with_the_answer(client):
    session = start_session()
    question = session.case_study.questions.get(question="What is the scale?")
    url = reverse("interviews:question_ask", args=[session.pk])
    response = logged_in(client, session).post(url, {"question": question.pk}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="questions"' in html and "About 10 million daily users." in html
    own = client.post(url, {"text": "Is there a mobile app?"}, **HTMX)
    assert "Is there a mobile app?" in own.content.decode()
    assert QuestionAsked.objects.filter(session=session).count() == 2
    assert client.post(url, {"text": ""}, **HTMX).status_code == 400
    other_case = CaseStudyFactory().questions.first()
    assert client.post(url, {"question": other_case.pk}, **HTMX).status_code == 404


def test_submit_over_htmx_redirects_to_the_review(client):
    session = start_session()
    response = logged_in(client, session).post(
        reverse("interviews:session_submit", args=[session.pk]), **HTMX)
    assert response["HX-Redirect"] == session.get_review_url()
    session.refresh_from_db()
    assert session.submit_reason == InterviewSession.SubmitReason.EARLY
    plain = client.post(reverse("interviews:session_submit", args=[session.pk]))
    assert plain.status_code == 302 and plain.url == session.get_review_url()


# --- review and "My sessions" ---------------------------------------------------------------


def test_review_waits_for_submission(client):
    session = start_session()
    response = logged_in(client, session).get(session.get_review_url())
    assert response.status_code == 302 and response.url == session.get_absolute_url()


def test_review_shows_answers_diagram_time_chart_and_a_labelled_coverage_hint(
        client, django_assert_max_num_queries):
    session = start_session()
    answer_save(session=session, step_number=2,
                         text="We track NE and NDCG@10.\n\n<img src=x onerror=alert(1)>",
                         base_version=0)
    answer_save(session=session, step_number=5, text="Design.",
                         diagram="flowchart LR\n  a[Feature store] --> b[Ranker]",
                         base_version=0)
    session_focus(session=session, step=2)
    session_submit(session=session)
    logged_in(client, session)
    # +3: the design-claims panels, as on the session page.
    with django_assert_max_num_queries(14):
        response = client.get(session.get_review_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert "Hint, not a grade" in html
    assert "Concepts mentioned: 2 of 2" in html  # NE and NDCG for step 2
    assert "Not answered" in html  # steps 1, 3, 4, 6
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img" not in html
    assert 'data-diagram' in html and "a[Feature store] --&gt; b[Ranker]" in html
    assert html.count('<rect class="chart-bar') == 12  # six steps, wide and narrow charts
    assert "Awaiting grading" in html and "Submitted early" in html


def test_my_sessions_lists_only_my_sessions_with_status(client, settings):
    mine = start_session()
    session_submit(session=mine)
    running, _ = session_start(candidate=mine.candidate,
                                         case_study=CaseStudyFactory(title="Feed Ranking"))
    someone_elses = start_session(case_study=CaseStudyFactory(title="Secret Case"))
    html = logged_in(client, mine).get(reverse("interviews:session_list")).content.decode()
    assert mine.case_study.title in html and "Feed Ranking" in html
    assert someone_elses.case_study.title not in html
    assert "Submitted" in html and "In progress" in html and "Awaiting grading" in html
    assert running.get_absolute_url() in html and mine.get_review_url() in html


def test_my_sessions_shows_an_overdue_session_as_submitted(client):
    session = shift_back(start_session(duration_seconds=60), 600)
    html = logged_in(client, session).get(reverse("interviews:session_list")).content.decode()
    assert "In progress" not in html and "at the deadline" in html


def test_admin_shows_sessions_read_only(client, django_user_model):
    session = start_session()
    answer_save(session=session, step_number=1, text="An answer.", base_version=0)
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com",
                                                                  "pass-word-123"))
    assert client.get(reverse("admin:interviews_interviewsession_changelist")).status_code == 200
    page = client.get(reverse("admin:interviews_interviewsession_change", args=[session.pk]))
    assert page.status_code == 200 and "An answer." in page.content.decode()
    assert client.get(reverse("admin:interviews_interviewsession_add")).status_code == 403


@pytest.mark.parametrize("orm_path", [False, True], ids=["this database", "ORM path"])
def test_both_save_paths_leave_the_same_history(monkeypatch, orm_path):
    """The save's SQL is PostgreSQL's; other databases (SQLite under `make run`) take the
    ORM's path. Forcing that path on this database must give the same rows."""
    if orm_path:
        monkeypatch.setattr(connection, "vendor", "other")
    session = start_session()
    steps = []
    version = 0
    for step, text in ((1, "first"), (1, "first"), (2, "other step"), (1, "second")):
        base = version if step == 1 else 0
        result = answer_save_for_candidate(
            candidate=session.candidate, session_id=session.pk, step_number=step, text=text,
            base_version=base, active_step=step)
        steps.append((step, result.answer.version, result.revision is not None))
        if step == 1:
            version = result.answer.version
    # The repeated text made no revision; the stale version is refused with both texts.
    assert steps == [(1, 1, True), (1, 1, False), (2, 1, True), (1, 2, True)]
    with pytest.raises(AnswerConflict):
        answer_save_for_candidate(
            candidate=session.candidate, session_id=session.pk, step_number=1, text="stale",
            base_version=1, active_step=1)
    answer = Answer.objects.get(session=session, step_number=1)
    assert (answer.text, answer.version) == ("second", 2)
    assert [r.text for r in answer.revisions.order_by("version")] == ["first", "second"]
    session.refresh_from_db()
    assert session.active_step == 1 and session.active_step_since is not None
    with pytest.raises(Http404):
        answer_save_for_candidate(
            candidate=candidate(), session_id=session.pk, step_number=1, text="x",
            base_version=2, active_step=1)
