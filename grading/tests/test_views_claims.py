"""The design-claim editor's views and the claims panels on the interviews pages: the running
session, the review, the scorecard (read-only evidence on the step that made the claim) and
the replay."""

import re

import pytest
from django.urls import reverse

from grading.models import DesignClaim, SessionModelLink
from grading.services.claims import ClaimInput, claim_add, session_model_link
from grading.tests.factories import ScoreFactory, SubmissionFactory
from interviews.scorecards import services as scorecard_services
from interviews.tests.factories import candidate, interviewer, start_session, submitted_session

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
Kind = DesignClaim.Kind


def claims_url(session, step):
    return reverse("grading:claims_step", kwargs={"session_id": session.pk, "step": step})


def panel_of(html: str, step: int) -> str:
    start = html.index(f'id="claims-step-{step}"')
    return html[start:html.index("</section>", start)]


def linked_score(session, **score):
    submission = SubmissionFactory(candidate=session.candidate, case_study=session.case_study,
                                   scored=True)
    result = ScoreFactory(submission=submission, **score)
    session_model_link(candidate=session.candidate, session=session,
                       submission_uuid=str(submission.uuid))
    return result


@pytest.fixture
def running(client):
    session = start_session()
    client.force_login(session.candidate)
    return session


def test_the_running_session_page_has_a_claims_editor_on_steps_2_to_4_only(client, running):
    html = client.get(running.get_absolute_url()).content.decode()
    assert [int(n) for n in re.findall(r' id="claims-step-(\d)"', html)] == [2, 3, 4]
    # Each panel follows its step's answer form, never inside it (no nested forms).
    for step in (2, 3, 4):
        assert html.index(f'id="answer-{step}"') < html.index(f'id="claims-step-{step}"')
    assert html.count('data-testid="model-link"') == 1  # the link control is on step 4
    assert "no scored submission for this case study yet" in panel_of(html, 4)
    assert "js/claims.js" in html


def test_adding_a_claim_answers_with_the_steps_panel(client, running):
    response = client.post(claims_url(running, 2), {
        "kind": "heldout_metric", "metric": "ndcg_at_10", "comparator": "ge", "value": "0.35"},
        **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="claims-step-2"' in html
    assert "NDCG@10 on held-out data ≥ 0.35" in html
    assert "Not measured" in html
    assert DesignClaim.objects.get().step_number == 2


def test_a_refused_claim_says_why_and_keeps_the_input(client, running):
    response = client.post(claims_url(running, 3), {
        "kind": "heldout_metric", "metric": "ndcg_at_10", "comparator": "ge", "value": "35"},
        **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert "Claim not saved: This metric lies between 0 and 1" in html
    assert 'value="35"' in html and 'aria-invalid="true"' in html
    assert re.search(r'<details class="claim-add" open>', html)
    response = client.post(claims_url(running, 3), {"kind": "heldout_metric",
                                                     "value": "a lot"}, **HTMX)
    assert response.status_code == 422
    assert "as a number, e.g. 0.35" in response.content.decode()
    assert not DesignClaim.objects.exists()


def test_editing_and_deleting_a_claim(client, running):
    claim = claim_add(candidate=running.candidate, session=running, step_number=4,
                      data=ClaimInput(kind=Kind.MODEL_SIZE, value=20))
    edit = reverse("grading:claim_edit", kwargs={"session_id": running.pk, "step": 4,
                                                 "claim_id": claim.pk})
    response = client.post(edit, {"kind": "model_size", "value": "-3"}, **HTMX)
    assert response.status_code == 422
    assert 'value="-3"' in response.content.decode()  # kept in the claim's edit form
    response = client.post(edit, {"kind": "model_size", "value": "12"}, **HTMX)
    assert response.status_code == 200 and "Model size ≤ 12 MiB" in response.content.decode()
    # The claim's URL names its step: another step's URL is a 404.
    wrong_step = reverse("grading:claim_edit", kwargs={"session_id": running.pk, "step": 3,
                                                       "claim_id": claim.pk})
    assert client.post(wrong_step, {"kind": "model_size", "value": "1"}, **HTMX
                       ).status_code == 404
    delete = reverse("grading:claim_delete", kwargs={"session_id": running.pk, "step": 4,
                                                     "claim_id": claim.pk})
    assert client.post(delete, **HTMX).status_code == 200
    assert not DesignClaim.objects.exists()


def test_without_htmx_the_editor_redirects_back_to_the_page(client, running):
    response = client.post(claims_url(running, 2), {"kind": "model_size", "value": "5"})
    assert response.status_code == 302
    assert response["Location"] == f"{running.get_absolute_url()}#claims-step-2"
    response = client.post(claims_url(running, 2), {"kind": "model_size", "value": "0"},
                           follow=True)
    assert "Claim not saved: Enter a size in MiB above 0." in response.content.decode()


def test_another_users_session_is_a_404_for_every_claims_url(client):
    session = start_session()
    claim = claim_add(candidate=session.candidate, session=session, step_number=2,
                      data=ClaimInput(kind=Kind.MODEL_SIZE, value=20))
    urls = [claims_url(session, 2),
            reverse("grading:claim_edit", kwargs={"session_id": session.pk, "step": 2,
                                                  "claim_id": claim.pk}),
            reverse("grading:claim_delete", kwargs={"session_id": session.pk, "step": 2,
                                                    "claim_id": claim.pk}),
            reverse("grading:session_model_link", kwargs={"session_id": session.pk})]
    for user in (candidate(), interviewer()):
        client.force_login(user)
        assert client.get(urls[0], **HTMX).status_code == 404
        for url in urls:
            assert client.post(url, {"kind": "model_size", "value": "1"},
                               **HTMX).status_code == 404
    claim.refresh_from_db()
    assert claim.value == 20


def test_claims_step_outside_2_to_4_is_a_404(client, running):
    assert client.get(claims_url(running, 5), **HTMX).status_code == 404


def test_linking_a_model_shows_the_verdicts_and_tells_the_other_panels(client, running):
    claim_add(candidate=running.candidate, session=running, step_number=2,
              data=ClaimInput(kind=Kind.HELDOUT_METRIC, metric="ndcg_at_10", comparator="ge",
                              value=0.6))
    submission = SubmissionFactory(candidate=running.candidate,
                                   case_study=running.case_study, scored=True)
    ScoreFactory(submission=submission, public_primary=0.7123456)
    link = reverse("grading:session_model_link", kwargs={"session_id": running.pk})
    refused = client.post(link, {"submission": str(ScoreFactory().submission.uuid)}, **HTMX)
    assert refused.status_code == 422
    assert "Not linked: Choose one of your scored submissions" in refused.content.decode()
    response = client.post(link, {"submission": str(submission.uuid)}, **HTMX)
    assert response.status_code == 200
    assert response["HX-Trigger"] == '{"claims:changed": {}}'
    assert SessionModelLink.objects.get().submission == submission
    step_2 = client.get(claims_url(running, 2), **HTMX).content.decode()
    assert "0.7123 [0.7023, 0.7223]" in step_2 and "Supported" in step_2
    assert 'hx-trigger="claims:changed from:body"' in step_2
    response = client.post(link, {"action": "unlink"}, **HTMX)
    assert response.status_code == 200 and not SessionModelLink.objects.exists()


def test_the_review_page_has_the_editor_and_the_verdicts(client):
    session = submitted_session()
    client.force_login(session.candidate)
    linked_score(session, artifact_bytes=1024)
    claim_add(candidate=session.candidate, session=session, step_number=4,
              data=ClaimInput(kind=Kind.MODEL_SIZE, value=1))
    html = client.get(session.get_review_url()).content.decode()
    panel = panel_of(html, 4)
    assert "Model size ≤ 1 MiB" in panel and "Supported" in panel
    assert "made after scoring" in panel
    assert 'data-testid="model-link-select"' in panel
    assert html.index('id="review-title-4"') < html.index('id="claims-step-4"') < html.index(
        'id="review-title-5"')


def test_the_scorecard_shows_each_steps_claims_as_evidence_read_only(client):
    session = submitted_session()
    grader = interviewer()
    scorecard_services.grade_claim(session=session, grader=grader)
    linked_score(session, public_primary=0.7123456, private_primary=0.123456)
    claim_add(candidate=session.candidate, session=session, step_number=2,
              data=ClaimInput(kind=Kind.HELDOUT_METRIC, metric="ndcg_at_10", comparator="ge",
                              value=0.8))
    client.force_login(grader)
    html = client.get(session.get_scorecard_url()).content.decode()
    panel = panel_of(html, 2)
    assert html.index('id="step-2"') < html.index('id="claims-step-2"') < html.index(
        'id="step-3"')
    assert "NDCG@10 on held-out data ≥ 0.8" in panel and "Not supported" in panel
    assert "the candidate's model" in panel
    assert "0.1234" not in html  # the private score: the round is open
    assert "<form" not in panel and "hx-get" not in panel
    assert 'data-testid="model-link"' not in html


def test_the_replay_shows_the_claims_of_each_step(client):
    session = submitted_session()
    grader = interviewer()
    scorecard_services.grade_claim(session=session, grader=grader)
    claim_add(candidate=session.candidate, session=session, step_number=3,
              data=ClaimInput(kind=Kind.LATENCY_P99, value=50))
    client.force_login(grader)
    url = reverse("scorecards:replay", kwargs={"session_id": session.pk})
    html = client.get(url).content.decode()
    assert "p99 latency at the target rate (20 requests/s) ≤ 50 ms" in panel_of(html, 3)
    frame = client.get(url, {"at": "0"}, **HTMX).content.decode()
    assert 'id="claims-step-3"' in frame
