"""The PostgreSQL connection of a saving request is terminated mid-request
(``pg_terminate_backend``): the page says "not saved", retries by itself, and every save
the server accepted is in the revision history."""

import time

import psycopg
import pytest
from django.db import connection
from playwright.sync_api import expect

from interviews.models import Answer, AnswerRevision
from tests.e2e.test_interview_session import candidate_login, start_interview  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.django_db(transaction=True)]


def dsn() -> str:
    params = connection.get_connection_params()
    return (f"host={params.get('host') or '127.0.0.1'} port={params.get('port') or 5432} "
            f"user={params.get('user') or 'postgres'} dbname={params['dbname']}")


def terminate_blocked_save(table: str, timeout: float = 20) -> int:
    """Wait until a backend is blocked on ``table``'s row lock, then terminate it."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn(), autocommit=True) as admin:
        while time.monotonic() < deadline:
            row = admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query ILIKE %s AND pid <> pg_backend_pid()",
                [f"%{table}%"]).fetchone()
            if row:
                admin.execute("SELECT pg_terminate_backend(%s)", [row[0]])
                return row[0]
            time.sleep(0.05)
    pytest.fail("no saving request blocked on the lock")


def test_a_save_whose_connection_is_killed_is_retried_and_nothing_is_lost(
        page, candidate_login, require_postgres):  # noqa: F811
    session = start_interview(page, "feed-ranking")
    box = page.get_by_test_id("answer-1")
    first_text = "First thoughts: rank posts by predicted engagement."
    box.fill(first_text)
    expect(page.get_by_test_id("save-state-1")).to_contain_text("Saved at")

    # Hold the session row so the next save blocks inside its transaction, then kill the
    # backend serving it: the request fails mid-flight with a server error.
    holder = psycopg.connect(dsn())
    holder.execute("SELECT id FROM interviews_interviewsession WHERE id = %s FOR UPDATE",
                   [session.pk])
    failed: list[int] = []
    page.on("response", lambda r: "/answers/1/" in r.url and r.status >= 500
            and failed.append(r.status))
    final_text = "First thoughts: rank posts by predicted engagement, per session."
    box.fill(final_text)
    box.blur()
    terminated = terminate_blocked_save("interviews_interviewsession")
    assert terminated
    expect(page.get_by_test_id("save-state-1")).to_contain_text("Not saved")
    holder.rollback()
    holder.close()

    # The page retries on its own and the text lands.
    expect(page.get_by_test_id("save-state-1")).to_contain_text("Saved at", timeout=30_000)
    answer = Answer.objects.get(session=session, step_number=1)
    assert answer.text == final_text
    revisions = list(AnswerRevision.objects.filter(answer=answer).order_by("version"))
    assert [r.version for r in revisions] == list(range(1, len(revisions) + 1))
    # Both texts the server acknowledged are in the history, once each; the killed request
    # failed with a server error and wrote nothing.
    assert [r.text for r in revisions] == [first_text, final_text]
    assert failed, "the terminated request should have failed"
