"""Combined standings: model rank beside the released interview verdict."""

from decimal import Decimal

import pytest
from django.utils import timezone

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
