"""In CI the suite runs on the real services; these tests prove it, with a real worker."""

import time

import pytest
from django.db import connection

from grading.models import WorkerHeartbeat

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


def test_a_real_worker_on_redis_runs_a_task_against_this_database(celery_worker_process):
    from grading.tasks import worker_heartbeat_task

    deadline = time.monotonic() + 60
    # The worker records itself when it is ready; then a task sent through Redis runs.
    while not WorkerHeartbeat.objects.exists():
        assert celery_worker_process.poll() is None, celery_worker_process.log_path.read_text()
        assert time.monotonic() < deadline, celery_worker_process.log_path.read_text()
        time.sleep(0.3)
    worker_heartbeat_task.delay(hostname="sent-through-redis")
    while not WorkerHeartbeat.objects.filter(hostname="sent-through-redis").exists():
        assert time.monotonic() < deadline, celery_worker_process.log_path.read_text()
        time.sleep(0.3)
