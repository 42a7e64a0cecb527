import re
from datetime import timedelta

import pytest
from django.db.models import F
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from interviews.models import CaseStudy, InterviewSession
from interviews.services.sessions import session_start
from interviews.tests.factories import admin_user, candidate, interviewer

pytestmark = pytest.mark.django_db


def test_home_lists_every_published_case_study(client, catalogue):
    CaseStudy.objects.filter(slug="feed-ranking").update(is_published=False)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    for case in CaseStudy.objects.filter(is_published=True):
        assert case.title in html
        assert case.get_absolute_url() in html
    assert "/case-studies/feed-ranking/" not in html


def test_home_shows_case_studies_in_catalogue_order(client, catalogue):
    html = client.get(reverse("home")).content.decode()
    positions = [html.index(f"/case-studies/{slug}/") for slug in
                 ["video-recommendation", "ad-click-prediction", "rental-search-ranking",
                  "food-delivery-time"]]
    assert positions == sorted(positions)


def test_home_offers_to_resume_a_running_interview_with_the_minutes_left_by_the_db_clock(
        client, catalogue, monkeypatch):
    user = candidate()
    feed = CaseStudy.objects.get(slug="feed-ranking")
    assert feed.duration_seconds == 45 * 60
    running, _ = session_start(candidate=user, case_study=feed)
    # Eight minutes in, by the database's clock.
    InterviewSession.objects.filter(pk=running.pk).update(
        started_at=F("started_at") - timedelta(minutes=8),
        deadline=F("deadline") - timedelta(minutes=8))
    ending, _ = session_start(candidate=user, case_study=CaseStudy.objects.get(
        slug="ad-click-prediction"))
    InterviewSession.objects.filter(pk=ending.pk).update(
        started_at=F("started_at") - timedelta(seconds=ending.duration_seconds - 30),
        deadline=Now() + timedelta(seconds=30))
    overdue, _ = session_start(candidate=user, case_study=CaseStudy.objects.get(
        slug="food-delivery-time"))
    InterviewSession.objects.filter(pk=overdue.pk).update(
        started_at=F("started_at") - timedelta(hours=2), deadline=Now() - timedelta(hours=1))
    session_start(candidate=candidate(), case_study=CaseStudy.objects.get(
        slug="rental-search-ranking"))
    assert "running-sessions" not in client.get(reverse("home")).content.decode()

    client.force_login(user)
    # The web server's clock is an hour fast: the minutes still come from the database's.
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(hours=1))
    html = client.get(reverse("home")).content.decode()
    links = re.findall(r'<a [^>]*href="([^"]+)"[^>]*data-testid="resume-\d+">([^<]+)</a>', html)
    assert links == [(ending.get_absolute_url(), "Resume Ad Click Prediction — less than a "
                                                 "minute left"),
                     (running.get_absolute_url(), "Resume Feed Ranking — 37 min left")]
    client.force_login(interviewer())
    assert "running-sessions" not in client.get(reverse("home")).content.decode()


def test_case_study_page_shows_prompt_questions_steps_and_budgets(client, catalogue):
    case = CaseStudy.objects.get(slug="ad-click-prediction")
    response = client.get(case.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert case.prompt.split(".")[0] in html
    for question in case.questions.all():
        assert question.question.replace("'", "&#x27;") in html
    assert "Train and evaluate the model" in html
    assert "12 min" in html
    assert f"{case.latency_budget_ms} ms" in html


def test_case_study_page_lists_the_questions_but_never_their_answers(client, catalogue):
    case = CaseStudy.objects.get(slug="ad-click-prediction")
    questions = list(case.questions.all())
    assert len(questions) > 3

    def page() -> str:
        return client.get(case.get_absolute_url()).content.decode()

    anonymous = page()
    user = candidate()
    client.force_login(user)
    for html in (anonymous, page()):
        listed = re.search(r'data-testid="case-questions">(.*?)</ol>', html, re.S).group(1)
        assert listed.count("<li>") == len(questions)
        for question in questions:
            assert escape(question.question) in listed
            assert escape(question.answer[:40]) not in html
    # A session still reveals them, one asked question at a time.
    client.post(reverse("interviews:session_start", args=[case.slug]))
    session = InterviewSession.objects.get(candidate=user)
    first, second = questions[0], questions[1]
    html = client.post(reverse("interviews:question_ask", args=[session.pk]),
                       {"question": first.pk}, headers={"HX-Request": "true"}).content.decode()
    assert escape(first.answer[:40]) in html
    assert escape(second.answer[:40]) not in html


def test_case_study_page_runs_a_constant_number_of_queries(client, catalogue):
    """The same number of queries with three times the questions, concepts and a second
    candidate's session: nothing is fetched per row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from interviews.models import ClarifyingQuestion, Concept
    from interviews.tests.factories import start_session

    url = reverse("interviews:case_study", args=["video-recommendation"])
    client.force_login(candidate())

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    count()  # the first request also loads the user's permissions, once
    few = count()
    case = CaseStudy.objects.get(slug="video-recommendation")
    questions, concepts = case.questions.count(), case.concepts.count()
    for i in range(2 * questions):
        ClarifyingQuestion.objects.create(case_study=case, order=100 + i,
                                          question=f"Extra question {i}?", answer="Yes.")
    for i in range(2 * concepts):
        Concept.objects.create(case_study=case, step_number=1 + i % 6, name=f"extra {i}",
                               synonyms=[f"synonym {i}"])
    start_session(candidate_user=candidate(), case_study=case)
    assert case.questions.count() == 3 * questions and case.concepts.count() == 3 * concepts
    assert count() == few


def test_unknown_or_unpublished_case_study_is_404(client, catalogue):
    assert client.get("/case-studies/no-such-case/").status_code == 404
    CaseStudy.objects.filter(slug="feed-ranking").update(is_published=False)
    response = client.get("/case-studies/feed-ranking/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_navigation_shows_each_role_what_it_may_do(client, catalogue):
    html = client.get("/").content.decode()
    assert "Log in" in html and "Sign up" in html and 'href="/admin/"' not in html

    client.force_login(candidate())
    html = client.get("/").content.decode()
    assert "candidate" in html and 'href="/admin/"' not in html and "Log out" in html

    client.force_login(interviewer())
    html = client.get("/").content.decode()
    assert ">Interviewer<" in html and 'href="/admin/"' not in html

    client.force_login(admin_user())
    html = client.get("/").content.decode()
    assert 'href="/admin/"' in html


def test_signup_creates_a_candidate_who_logs_in_through_the_mailed_link(client, db,
                                                                       mailoutbox):
    response = client.post(
        reverse("signup"),
        {"username": "ada", "email": "ada@example.com",
         "password1": "a-long-unusual-pass-42", "password2": "a-long-unusual-pass-42"},
    )
    assert response.status_code == 302 and response.url == reverse("verify_resend")
    assert "_auth_user_id" not in client.session  # not logged in before the link
    link = re.search(r"https?://\S+/accounts/verify/\S+/", mailoutbox[0].body).group(0)
    assert client.post(link).status_code == 302
    html = client.get("/").content.decode()
    assert "ada" in html and "candidate" in html


def test_signup_with_mismatched_passwords_explains_the_error(client, db):
    response = client.post(
        reverse("signup"),
        {"username": "ada", "email": "ada@example.com",
         "password1": "a-long-unusual-pass-42", "password2": "different-pass-42"},
    )
    assert response.status_code == 200
    assert "didn’t match" in response.content.decode() or "didn't match" in (
        response.content.decode())


def test_login_with_the_right_password_and_refusal_with_the_wrong_one(client, db):
    candidate(username="bob")
    bad = client.post(reverse("login"), {"username": "bob", "password": "nope"})
    assert bad.status_code == 200 and "didn't match" in bad.content.decode()
    good = client.post(reverse("login"), {"username": "bob", "password": "correct-horse-battery"})
    assert good.status_code == 302


def test_repeated_failed_logins_lock_the_account_out(client, db, settings):
    candidate(username="carol")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "carol", "password": "wrong"})
    locked = client.post(reverse("login"),
                         {"username": "carol", "password": "correct-horse-battery"})
    assert locked.status_code == 429
    assert "Too many failed log-ins" in locked.content.decode()


@pytest.mark.parametrize("model", ["casestudy", "rubric", "clarifyingquestion", "concept"])
def test_every_catalogue_model_is_in_the_admin(client, catalogue, model):
    client.force_login(admin_user(is_superuser=True))
    assert client.get(f"/admin/interviews/{model}/").status_code == 200


def test_admin_can_edit_a_case_study_page(client, catalogue):
    client.force_login(admin_user(is_superuser=True))
    case = CaseStudy.objects.get(slug="feed-ranking")
    assert client.get(f"/admin/interviews/casestudy/{case.pk}/change/").status_code == 200


def test_candidates_and_interviewers_cannot_open_the_admin(client, catalogue):
    for user in (candidate(), interviewer()):
        client.force_login(user)
        response = client.get("/admin/interviews/casestudy/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
