"""Combined standings: model rank beside the released interview verdict."""

from decimal import Decimal

import pytest
from django.utils import timezone

from grading.services.leaderboards import leaderboard_close, leaderboard_for
from interviews.models import CaseStudy, InterviewSession
from interviews.services.sessions import session_start, session_submit
from interviews.tests.factories import candidate, interviewer

pytestmark = pytest.mark.django_db

SLUG = "food-delivery-time"


def release(user, verdict: str, mean: str) -> InterviewSession:
    session, _ = session_start(
        candidate=user, case_study=CaseStudy.objects.get(slug=SLUG))
    session_submit(session=session)
    InterviewSession.objects.filter(pk=session.pk).update(
        feedback_released_at=timezone.now(), feedback_verdict=verdict,
        feedback_weighted_mean=Decimal(mean))
    return session


def test_model_rank_sits_beside_the_released_verdict(scored, client):
    ada, bob, cy = candidate(username="ada"), candidate(username="bob"), candidate(username="cy")
    scored(SLUG, ada, public=5.0, private=5.0)
    scored(SLUG, bob, public=7.0, private=7.0)
    session = release(ada, "hire", "3.100")
    release(cy, "no_hire", "2.200")  # interviewed, no model

    client.force_login(interviewer())
    response = client.get(f"/case-studies/{SLUG}/standings/")
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(r.name, r.model_rank, r.verdict) for r in rows] == [
        ("ada", 1, "hire"), ("bob", 2, None), ("cy", None, "no_hire")]
    assert rows[0].session_id == session.pk and rows[0].rubric_mean == pytest.approx(3.1)
    html = response.content.decode()
    assert "Hire" in html and "not graded" in html and "no model" in html


def test_standings_and_the_leaderboard_agree_on_every_rank(scored, client):
    """Baselines above and between the candidates, and ties: both pages give each candidate
    the same rank, on the public ranking while the round is open and on the private one
    after it closes (where both pages open)."""
    scored(SLUG, None, public=4.0, private=4.0, baseline_name="gradient boosting")
    scored(SLUG, candidate(username="ada"), public=5.0, private=7.0)
    scored(SLUG, candidate(username="bob"), public=5.0, private=5.5)
    scored(SLUG, None, public=6.0, private=6.0, baseline_name="global mean")
    scored(SLUG, candidate(username="cy"), public=7.0, private=5.5)
    client.force_login(interviewer())
    expected = {"public": {"ada": 1, "bob": 1, "cy": 3},
                "private": {"bob": 1, "cy": 1, "ada": 3}}
    for split in ("public", "private"):
        if split == "private":
            leaderboard_close(leaderboard=leaderboard_for(CaseStudy.objects.get(slug=SLUG)))
        response = client.get(f"/case-studies/{SLUG}/standings/")
        assert response.context["split"] == split
        standings = {row.name: row.model_rank for row in response.context["rows"]}
        board = client.get(f"/case-studies/{SLUG}/leaderboard/").context["board"]
        assert board.split == split
        leaderboard = {row.entry.display_name: row.rank for row in board.rows
                       if not row.entry.is_baseline}
        assert standings == leaderboard == expected[split]


def test_candidates_cannot_see_other_peoples_verdicts(scored, client):
    scored(SLUG, candidate(username="ada"), public=5.0, private=5.0)
    client.force_login(candidate())
    assert client.get(f"/case-studies/{SLUG}/standings/").status_code == 404
    client.logout()
    assert client.get(f"/case-studies/{SLUG}/standings/").status_code == 302


def test_standings_run_a_constant_number_of_queries(scored, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add(n: int) -> None:
        for i in range(n):
            user = candidate()
            scored(SLUG, user, public=5.0 + i, private=5.0)
            release(user, "hire", "3.000")
        release(candidate(), "no_hire", "2.000")  # and one with no model

    def count() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(f"/case-studies/{SLUG}/standings/").status_code == 200
        return len(context.captured_queries)

    client.force_login(interviewer())
    add(2)
    few = count()
    add(6)
    assert count() == few
