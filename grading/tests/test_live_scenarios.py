"""Scenario slices in a live interview: the interviewer's console lists each slice (and the
traffic spike) with an announcement and the candidate's linked model's figure on it, public
and rounded while the round is open, the whole split after; announcing one posts it to the
candidate as a requirement change."""

import pytest
from django.urls import reverse

from grading.services.claims import session_model_link
from grading.tests.factories import LeaderboardFactory, ScoreFactory, SubmissionFactory
from interviews.live import services as live
from interviews.live.models import LiveEvent
from interviews.tests.factories import (
    CaseStudyFactory,
    candidate,
    interviewer,
    rubric_with_steps,
)

pytestmark = pytest.mark.django_db

SCENARIOS = {
    "public": {"cold_start": {"value": 0.412345, "low": 0.401234, "high": 0.423456,
                              "rows": 5120}},
    "all": {"cold_start": {"value": 0.398765, "low": 0.39, "high": 0.407, "rows": 10240}},
}
SERVING = {"spike": {"rate_rps": 40.0, "p99_ms": 358.1, "within_budget": False},
           "budget_ms": 150}


@pytest.fixture
def console(client):
    rubric_with_steps()
    case = CaseStudyFactory()
    board = LeaderboardFactory(case_study=case, public_decimals=4)
    person, grader = candidate(), interviewer()
    room, _ = live.room_open(candidate=person, case_study=case)
    live.room_claim(room_id=room.pk, interviewer=grader)
    room = live.room_start(room=room, interviewer=grader)
    submission = SubmissionFactory(candidate=person, case_study=case, scored=True)
    ScoreFactory(submission=submission, scenarios=SCENARIOS, serving=SERVING)
    client.force_login(grader)
    url = reverse("live:console", kwargs={"room_id": room.pk})
    return client, url, room, person, submission, board


def test_before_a_model_is_linked_the_console_says_so(console):
    client, url, *_ = console
    page = client.get(url).text
    assert 'data-testid="live-scenarios"' in page
    assert "No scored model is linked to this interview yet" in page
    assert page.count("No scored model is linked") == 1
    assert 'data-testid="announce-scenario-cold_start"' in page


def test_the_linked_models_figure_is_rounded_while_the_round_is_open(console):
    client, url, room, person, submission, board = console
    session_model_link(candidate=person, session=room.session,
                       submission_uuid=str(submission.uuid))
    page = client.get(url).text
    assert "0.4123 [0.4012, 0.4235]" in page
    assert "0.412345" not in page and "0.3988" not in page
    assert "p99 358.1 ms at 40 requests/s" in page and "over the 150 ms budget" in page
    board.is_closed = True
    board.save()
    page = client.get(url).text
    assert "0.398765" in page or "0.3988" in page  # the whole split, once it closed


def test_announcing_a_scenario_posts_it_as_a_requirement_change(console):
    from grading.datasets.scenarios import COLD_START

    client, _url, room, *_ = console
    response = client.post(reverse("live:requirement_change", kwargs={"room_id": room.pk}),
                           {"text": COLD_START.announcement}, HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    event = LiveEvent.objects.filter(room=room, kind=LiveEvent.Kind.REQUIREMENT_CHANGE).get()
    assert event.body == COLD_START.announcement
