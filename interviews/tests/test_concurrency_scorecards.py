"""Interviewers racing on PostgreSQL: the session row lock, not luck, hands out exactly as
many grader slots as the session needs, and a release happens once."""

import threading

import pytest
from django.db import connection

from interviews.models import Grade
from interviews.scorecards import services as services
from interviews.tests.factories import graded, interviewer, submitted_session

pytestmark = pytest.mark.django_db(transaction=True)


def race(count: int, action) -> tuple[list[object], list[BaseException]]:
    """Run ``action(index)`` in ``count`` threads released at the same moment."""
    barrier = threading.Barrier(count, timeout=30)
    results: list[object] = []
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            results.append(action(index))
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def test_six_interviewers_claiming_at_once_get_exactly_two_slots(require_postgres):
    session = submitted_session(graders_required=2)
    graders = [interviewer() for _ in range(6)]
    results, errors = race(6, lambda i: services.grade_claim(session=session,
                                                             grader=graders[i]))
    assert len(results) == 2
    assert len(errors) == 4
    assert all(isinstance(error, services.ScorecardRefused) for error in errors), errors
    assert Grade.objects.filter(session=session).count() == 2


def test_two_graders_releasing_at_once_release_once(require_postgres):
    session = submitted_session(graders_required=2)
    first, second = interviewer(), interviewer()
    graded(session, first, dict.fromkeys(range(1, 8), 3))
    graded(session, second, dict.fromkeys(range(1, 8), 2))
    users = [first, second]
    results, errors = race(2, lambda i: services.session_release_feedback(session=session,
                                                                          by=users[i]))
    assert errors == []
    assert len({result.feedback_released_at for result in results}) == 1
    assert len({result.feedback_released_by_id for result in results}) == 1
