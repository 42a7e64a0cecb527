"""Scorecard views: the queue, the scorecard page and its htmx fragments (autosave, conflict,
submit, evidence) with their error responses, hidden scores in the HTML, the candidate's
released feedback and "My sessions", replay and calibration."""

import re

import pytest
from django.urls import reverse

from interviews.models import Grade
from interviews.scorecards import services as services
from interviews.tests.factories import (
    admin_user,
    candidate,
    grade_input,
    graded,
    interviewer,
    released,
    submitted_session,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
THREES = dict.fromkeys(range(1, 8), 3)


def form_data(levels=None, *, revision=0, comments=None, **extra) -> dict:
    """The scorecard form as the page posts it."""
    data = {"revision": str(revision)}
    for step in range(1, 8):
        level = (levels or {}).get(step, "")
        data[f"step-{step}-level"] = str(level)
        data[f"step-{step}-comment"] = (comments or {}).get(step, "")
    data.update(extra)
    return data


def scorecard_url(session, name="session", **kwargs) -> str:
    return reverse(f"scorecards:{name}", kwargs={"session_id": session.pk, **kwargs})


@pytest.fixture
def claimed(client):
    """A submitted session claimed by a logged-in interviewer."""
    session = submitted_session()
    grader = interviewer()
    services.grade_claim(session=session, grader=grader)
    client.force_login(grader)
    return session, grader


# --- the queue --------------------------------------------------------------------------------


def test_queue_lists_submitted_sessions_with_claim_buttons(client):
    session = submitted_session()
    client.force_login(interviewer())
    response = client.get(reverse("scorecards:queue"))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-testid="claim-{session.pk}"' in html
    assert session.candidate.get_username() in html


def test_queue_and_calibration_are_for_interviewers(client):
    client.force_login(candidate())
    assert client.get(reverse("scorecards:queue")).status_code == 403
    assert client.get(reverse("scorecards:calibration")).status_code == 403
    client.logout()
    response = client.get(reverse("scorecards:queue"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_claim_from_the_queue_opens_the_scorecard_page(client):
    session = submitted_session()
    grader = interviewer()
    client.force_login(grader)
    response = client.post(scorecard_url(session, "claim"))
    assert response.status_code == 302 and response.url == session.get_scorecard_url()
    assert Grade.objects.get(session=session).grader == grader
    # A second interviewer is told why not, and stays on the queue.
    client.force_login(interviewer())
    response = client.post(scorecard_url(session, "claim"), follow=True)
    assert "as many as it needs" in response.content.decode()
    assert Grade.objects.filter(session=session).count() == 1


def test_admin_assigns_and_doubles_the_graders(client):
    session = submitted_session()
    first, second = interviewer(), interviewer()
    client.force_login(admin_user())
    client.post(scorecard_url(session, "assign"), {"grader": first.pk})
    client.post(scorecard_url(session, "graders_required"), {"count": "2"})
    client.post(scorecard_url(session, "assign"), {"grader": second.pk})
    assert set(Grade.objects.filter(session=session).values_list("grader_id", flat=True)) == {
        first.pk, second.pk}
    # Taking a slot back removes the draft.
    client.post(scorecard_url(session, "unassign", grader_id=first.pk))
    assert not Grade.objects.filter(session=session, grader=first).exists()
    # A candidate is not an interviewer: refused.
    assert client.post(scorecard_url(session, "assign"),
                       {"grader": candidate().pk}).status_code == 400


def test_the_admins_manage_menu_offers_only_what_the_rules_allow(client):
    """The queue's Manage menu comes from the policy: none once the feedback is released,
    never the session's own candidate among those to assign, "Take back" only for drafts,
    and none at all for an interviewer who is not an admin."""
    from mlsd_site import roles

    promoted = candidate()
    session = submitted_session(candidate_user=promoted, graders_required=3)
    promoted.groups.add(roles.roles_ensure()[roles.INTERVIEWERS])  # an interviewer since
    drafting, finished, boss = interviewer(), interviewer(), admin_user()
    graded(session, drafting, THREES, submit=False)
    graded(session, finished, THREES)
    done = submitted_session()
    graded(done, finished, THREES)
    released(done)

    def row(html: str, pk: int) -> str:
        return re.search(rf'<tr data-session="{pk}".*?</tr>', html, re.S).group(0)

    def option(user) -> str:
        return f'<option value="{user.pk}">{user.get_username()}</option>'

    client.force_login(boss)
    html = client.get(reverse("scorecards:queue"), {"state": "all"}).content.decode()
    manage = row(html, session.pk)
    assert 'class="manage"' in manage
    assert option(boss) in manage and option(drafting) in manage
    assert option(promoted) not in manage
    assert scorecard_url(session, "unassign", grader_id=drafting.pk) in manage
    assert scorecard_url(session, "unassign", grader_id=finished.pk) not in manage
    assert 'class="manage"' not in row(html, done.pk)

    client.force_login(drafting)
    html = client.get(reverse("scorecards:queue"), {"state": "all"}).content.decode()
    assert 'class="manage"' not in html and option(boss) not in html


# --- the scorecard page -------------------------------------------------------------------------


def test_scorecard_page_shows_answers_descriptors_and_the_scorecard(client, claimed):
    session, _ = claimed
    html = client.get(session.get_scorecard_url()).content.decode()
    assert 'id="grade-form"' in html
    assert "calibrated probability" in html  # step 1's answer
    assert "solid" in html and "weak" in html  # anchored descriptors
    assert 'name="step-4-level" value="not_reached"' in html
    assert 'name="step-7-level" value="not_reached"' not in html  # communication
    assert "Hint, not a grade" in html


def test_autosave_returns_the_saved_state_and_the_live_suggestion(client, claimed):
    session, grader = claimed
    response = client.post(scorecard_url(session, "grade_save"),
                           form_data(dict.fromkeys(range(1, 8), 4), comments={1: "Crisp."}),
                           **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert response["X-Grade-Revision"] == "1"
    assert 'id="grade-save-state"' in html and "Draft saved at" in html
    assert 'hx-swap-oob="outerHTML"' in html and "Strong hire" in html
    grade = Grade.objects.get(session=session, grader=grader)
    assert grade.revision == 1
    assert grade.step_scores.get(step_number=1).comment == "Crisp."


def test_autosave_of_a_stale_revision_is_409_with_the_conflict_banner(client, claimed):
    session, _ = claimed
    client.post(scorecard_url(session, "grade_save"), form_data({1: 4}), **HTMX)
    response = client.post(scorecard_url(session, "grade_save"), form_data({1: 1}), **HTMX)
    assert response.status_code == 409
    assert response["HX-Retarget"] == "#grade-banner"
    assert 'data-testid="grade-conflict"' in response.content.decode()
    assert Grade.objects.get(session=session).step_scores.get(step_number=1).level == 4


def test_autosave_errors(client, claimed):
    session, _ = claimed
    url = scorecard_url(session, "grade_save")
    assert client.post(url, {"revision": "x"}, **HTMX).status_code == 400
    bad_flag = client.post(url, form_data(red_flags="nonsense"), **HTMX)
    assert bad_flag.status_code == 400
    services.grade_submit(grade=Grade.objects.get(session=session), base_revision=0,
                          data=grade_input(THREES))
    locked = client.post(url, form_data(THREES, revision=1), **HTMX)
    assert locked.status_code == 423
    assert 'data-testid="grade-locked"' in locked.content.decode()


def test_submit_over_htmx_lists_what_is_missing_then_redirects(client, claimed):
    session, _ = claimed
    url = scorecard_url(session, "grade_submit")
    missing = client.post(url, form_data({1: 3, 2: 3}), **HTMX)
    assert missing.status_code == 422
    assert "missing: step 3, step 4, step 5, step 6, communication" in missing.content.decode()
    override = client.post(url, form_data(THREES, verdict="strong_hire"), **HTMX)
    assert override.status_code == 422 and "say why" in override.content.decode()
    done = client.post(url, form_data(THREES, verdict="strong_hire",
                                      override_reason="Exceptional depth."), **HTMX)
    assert done.status_code == 200 and done["HX-Redirect"] == session.get_scorecard_url()
    grade = Grade.objects.get(session=session)
    assert (grade.status, grade.verdict, grade.suggested_verdict) == (
        "submitted", "strong_hire", "hire")
    page = client.get(session.get_scorecard_url()).content.decode()
    assert 'id="grade-form"' not in page and "Exceptional depth." in page


def test_evidence_is_attached_over_htmx_and_refused_when_not_in_the_answer(client, claimed):
    session, _ = claimed
    url = scorecard_url(session, "evidence_add")
    response = client.post(url, {"step": "1", "quote": "calibrated probability"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "“calibrated probability”" in html
    # Out of band, the answer with the quote marked.
    assert 'id="answer-md-1" hx-swap-oob="outerHTML"' in html
    assert '<mark class="evidence-mark">calibrated probability</mark>' in html
    refused = client.post(url, {"step": "1", "quote": "made-up words"}, **HTMX)
    assert refused.status_code == 422
    assert "must be text from the candidate" in refused.content.decode()
    quote = Grade.objects.get(session=session).evidence.get()
    removed = client.post(scorecard_url(session, "evidence_remove", quote_id=quote.pk),
                          **HTMX)
    html = removed.content.decode()
    assert removed.status_code == 200
    assert "“calibrated probability”" not in html and "<mark" not in html


def test_other_graders_scores_are_not_in_the_html_until_you_submit(client):
    session = submitted_session(graders_required=2)
    first, second = interviewer(), interviewer()
    graded(session, first, THREES, comments={3: "OTTER-SECRET-COMMENT"},
           summary="OTTER-SECRET-SUMMARY")
    graded(session, second, {1: 2}, submit=False)
    client.force_login(second)
    html = client.get(session.get_scorecard_url()).content.decode()
    assert "OTTER-SECRET" not in html
    assert 'data-testid="other-scores-3"' not in html
    assert 'data-testid="hidden-note"' in html
    # An uninvolved interviewer does not see them either while a grade is still to come.
    client.force_login(interviewer())
    assert "OTTER-SECRET" not in client.get(session.get_scorecard_url()).content.decode()
    # After submitting, they are there.
    client.force_login(second)
    client.post(scorecard_url(session, "grade_submit"), form_data(THREES, revision=1), **HTMX)
    html = client.get(session.get_scorecard_url()).content.decode()
    assert "OTTER-SECRET-COMMENT" in html and "OTTER-SECRET-SUMMARY" in html
    assert 'data-testid="other-scores-3"' in html


# --- the candidate ----------------------------------------------------------------------------


def test_candidate_sees_feedback_only_once_released(client):
    session = submitted_session()
    grader = interviewer()
    graded(session, grader, {**THREES, 2: 4}, comments={2: "PELICAN-COMMENT"},
           summary="PELICAN-SUMMARY")
    client.force_login(session.candidate)
    review = client.get(session.get_review_url()).content.decode()
    assert "Awaiting grading" in review
    assert "PELICAN" not in review and 'data-testid="feedback"' not in review
    listing = client.get(reverse("interviews:session_list")).content.decode()
    assert "Awaiting grading" in listing and 'data-testid="skill-profile"' not in listing

    released(session)
    review = client.get(session.get_review_url()).content.decode()
    assert 'data-testid="released-verdict">Hire<' in review
    assert "PELICAN-COMMENT" in review and "PELICAN-SUMMARY" in review
    assert 'data-testid="radar"' in review and 'class="chart-series"' in review
    assert "Interviewer A" in review and grader.get_username() not in review
    listing = client.get(reverse("interviews:session_list")).content.decode()
    assert re.search(r'data-testid="session-verdict">Hire</a>', listing)
    assert 'data-testid="skill-profile"' in listing


def test_another_candidate_gets_404_for_the_feedback(client):
    session = submitted_session()
    graded(session, interviewer(), THREES)
    released(session)
    client.force_login(candidate())
    assert client.get(session.get_review_url()).status_code == 404


# --- replay and calibration -------------------------------------------------------------------


def test_replay_page_and_its_htmx_frame(client, claimed):
    session, _ = claimed
    page = client.get(scorecard_url(session, "replay"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="replay-timeline"' in html
    # the hooks the slider's script uses: the cursor it moves and where the time axis runs
    assert '<line class="chart-cursor" id="replay-cursor"' in html
    assert 'data-plot-x="170" data-plot-width="706"' in html
    frame = client.get(scorecard_url(session, "replay") + "?at=0", **HTMX)
    html = frame.content.decode()
    assert frame.status_code == 200 and 'id="replay-frame"' in html
    assert "<html" not in html and "nothing saved yet" in html


def test_calibration_page_shows_agreement(client):
    session = submitted_session(graders_required=2)
    graded(session, interviewer(username="ann"), THREES)
    graded(session, interviewer(username="ben"), {**THREES, 1: 2})
    client.force_login(interviewer())
    html = client.get(reverse("scorecards:calibration")).content.decode()
    assert 'data-testid="cal-sessions">1<' in html
    assert 'data-rater="ann"' in html and 'data-rater="ben"' in html
    assert 'data-testid="kappa-chart"' in html


def test_scorecard_page_queries_do_not_grow_with_graders_quotes_or_saves(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from interviews.services.autosave import answer_save
    from interviews.services.sessions import session_submit
    from interviews.tests.factories import start_session

    def build(graders: int, saves: int, quotes: int):
        session = start_session()
        for step in range(1, 7):
            for version in range(saves):
                answer_save(session=session, step_number=step, base_version=version,
                            text=f"Step {step}: calibrated probability, draft {version}.")
        session = session_submit(session=session)
        session.graders_required = graders
        session.save(update_fields=["graders_required"])
        users = [interviewer() for _ in range(graders)]
        for user in users:
            grade, _ = services.grade_claim(session=session, grader=user)
            for step in range(1, 1 + quotes):
                services.evidence_add(grade=grade, step_number=step,
                                      text="calibrated probability")
            services.grade_submit(grade=grade, base_revision=0, data=grade_input(THREES))
        return session, users[-1]

    def queries(session, user) -> int:
        client.force_login(user)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(session.get_scorecard_url())
        assert response.status_code == 200
        return len(captured)

    small = queries(*build(graders=2, saves=1, quotes=1))
    big = queries(*build(graders=3, saves=6, quotes=6))
    assert big == small


# --- the old /grading/... addresses ---------------------------------------------------------


def test_every_old_address_redirects_permanently_to_its_scorecard_url(client):
    """Each scorecard URL, reached by its old /grading/... address: 301 to the new one for
    a read, 308 (method and body kept) for a write; the query string travels along."""
    from interviews.scorecards.urls import urlpatterns

    session = submitted_session()
    client.force_login(interviewer())
    names = [pattern.name for pattern in urlpatterns]
    assert len(names) == 14
    kwargs_for = {"unassign": {"grader_id": 7}, "evidence_remove": {"quote_id": 9}}
    for name in names:
        kwargs = {} if name in ("queue", "calibration") else {
            "session_id": session.pk, **kwargs_for.get(name, {})}
        new = reverse(f"scorecards:{name}", kwargs=kwargs)
        assert new.startswith("/scorecards/")
        old = "/grading/" + new.removeprefix("/scorecards/")
        read = client.get(old + "?state=mine")
        assert (read.status_code, read["Location"]) == (301, new + "?state=mine"), old
        write = client.post(old, {"x": "1"})
        assert (write.status_code, write["Location"]) == (308, new), old


def test_a_form_posted_to_an_old_address_reaches_the_new_view(client):
    """A claim form from a page opened before the move: the browser follows the 308 with
    the same POST, and the claim happens."""
    session = submitted_session()
    grader = interviewer()
    client.force_login(grader)
    response = client.post(f"/grading/sessions/{session.pk}/claim/", follow=True)
    assert response.redirect_chain[0] == (f"/scorecards/sessions/{session.pk}/claim/", 308)
    assert session.grades.filter(grader=grader).exists()
