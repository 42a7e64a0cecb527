"""In CI the suite runs on the real services; these tests prove it, with a real worker."""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F

from grading.models import WorkerHeartbeat
from interviews.models import InterviewSession
from interviews.tests.factories import start_session

pytestmark = pytest.mark.services


def test_database_is_postgresql_when_services_are_required(require_postgres, db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        assert cursor.fetchone()[0].startswith("PostgreSQL")


def test_redis_answers(require_redis):
    from redis import Redis

    client = Redis.from_url(require_redis)
    client.set("mlsd:test", "ok", ex=10)
    assert client.get("mlsd:test") == b"ok"


def test_a_real_worker_on_redis_runs_a_task_against_this_database(celery_workers):
    from interviews.tasks import submit_overdue_sessions_task

    worker = celery_workers(queue="default")
    deadline = time.monotonic() + 60
    # The worker records itself when it is ready; then a task sent through Redis runs.
    while not WorkerHeartbeat.objects.exists():
        assert worker.poll() is None, worker.log_path.read_text()
        assert time.monotonic() < deadline, worker.log_path.read_text()
        time.sleep(0.3)
    session = start_session(duration_seconds=60)
    InterviewSession.objects.filter(pk=session.pk).update(
        started_at=F("started_at") - timedelta(hours=1),
        deadline=F("deadline") - timedelta(hours=1),
        active_step_since=F("active_step_since") - timedelta(hours=1))
    submit_overdue_sessions_task.delay()
    while not InterviewSession.objects.get(pk=session.pk).is_submitted:
        assert time.monotonic() < deadline, worker.log_path.read_text()
        time.sleep(0.3)
