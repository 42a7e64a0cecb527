"""Worker faults with real processes: Redis, Celery workers killed with SIGKILL, lost
messages, duplicate deliveries. Each submission ends scored once, or failed for a reason.
Scoring workers consume the scoring queue; the sweep runs from beat on a default-queue worker,
as in production."""

import os
import re
import signal
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import child_pids
from grading.models import QuotaUsage, Score, Submission, WorkerHeartbeat
from grading.services.submissions import submission_create
from grading.tests.slow_model import slow_regression_onnx
from interviews.tests.factories import candidate

pytestmark = [pytest.mark.services, pytest.mark.slow]

SLUG = "food-delivery-time"
# Short timeouts so faults resolve in seconds: the hard time limit stays below the
# visibility timeout, and the sweep's running timeout above the hard time limit.
FAST = {
    "CELERY_VISIBILITY_TIMEOUT": "12",
    "CELERY_TASK_TIME_LIMIT": "10",
    "CELERY_TASK_SOFT_TIME_LIMIT": "9",
    "SCORING_SWEEP_SECONDS": "2",
    "SCORING_QUEUED_TIMEOUT": "3",
    "SCORING_RUNNING_TIMEOUT": "11",
}


@pytest.fixture
def slow_upload(tiny_dataset, tmp_path):
    """Upload a valid model that takes a couple of seconds to score the tiny data."""
    dataset, built = tiny_dataset(SLUG)
    model = slow_regression_onnx(tmp_path / "slow.onnx",
                                 n_features=len(built.spec.feature_columns), work_per_row=12)
    user = candidate()

    def upload() -> Submission:
        return submission_create(
            candidate=user, case_study=dataset.case_study,
            upload=SimpleUploadedFile("slow.onnx", model.read_bytes()))

    upload.user = user
    return upload


def wait_until(predicate, workers, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    logs = "\n".join(w.log_path.read_text()[-3000:] for w in workers)
    pytest.fail(f"timed out waiting for {what}\n{logs}")


def status_of(submission: Submission) -> Submission:
    submission.refresh_from_db()
    return submission


def wait_for_ready(worker, count: int = 1) -> None:
    wait_until(lambda: WorkerHeartbeat.objects.count() >= count, [worker], 60, "worker ready")


def test_killing_the_pool_child_mid_job_redelivers_and_scores_once(celery_workers,
                                                                   slow_upload):
    worker = celery_workers(env=FAST)
    wait_for_ready(worker)
    submission = slow_upload()
    wait_until(lambda: status_of(submission).status == "running", [worker], 60, "running")
    children = child_pids(worker.pid)
    assert len(children) == 1
    os.kill(children[0], signal.SIGKILL)

    wait_until(lambda: status_of(submission).is_final, [worker], 90, "a final state")
    assert submission.status == "scored", submission.failure_message
    assert submission.attempts == 2
    assert Score.objects.filter(submission=submission).count() == 1
    assert worker.poll() is None  # the worker itself lived on


def test_killing_the_whole_worker_then_starting_another_scores_it(celery_workers,
                                                                  slow_upload):
    first = celery_workers(env=FAST)
    wait_for_ready(first)
    submission = slow_upload()
    wait_until(lambda: status_of(submission).status == "running", [first], 60, "running")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    killed_at = time.monotonic()

    sweeper = celery_workers(queue="default", env=FAST, beat=True)
    second = celery_workers(env=FAST)
    wait_until(lambda: status_of(submission).is_final, [first, sweeper, second], 120,
               "a final state")
    took = time.monotonic() - killed_at
    assert submission.status == "scored", submission.failure_message
    assert submission.attempts == 2
    assert Score.objects.filter(submission=submission).count() == 1
    # Within the visibility timeout plus one sweep, plus the scoring itself and start-up.
    assert took < 12 + 2 + 11 + 30, took


def test_a_message_lost_with_a_redis_flush_is_swept_up_and_scored(celery_workers,
                                                                  slow_upload,
                                                                  require_redis):
    from redis import Redis

    submission = slow_upload()  # enqueued; no worker is running yet
    client = Redis.from_url(require_redis)
    assert client.dbsize() > 0
    client.flushdb()
    assert client.dbsize() == 0

    sweeper = celery_workers(queue="default", env=FAST, beat=True)
    worker = celery_workers(env=FAST)
    wait_until(lambda: status_of(submission).is_final, [sweeper, worker], 90, "a final state")
    assert submission.status == "scored", submission.failure_message
    assert Score.objects.filter(submission=submission).count() == 1


def test_the_same_task_delivered_twice_stores_one_score(celery_workers, slow_upload):
    from grading.tasks import score_submission_task

    worker = celery_workers(env=FAST, concurrency=2)
    wait_for_ready(worker)
    submission = slow_upload()  # delivered once on commit
    score_submission_task.delay(submission.pk)  # and twice more
    score_submission_task.delay(submission.pk)
    wait_until(lambda: status_of(submission).is_final, [worker], 90, "a final state")
    time.sleep(4)  # let the other deliveries finish
    assert submission.status == "scored"
    assert Score.objects.filter(submission=submission).count() == 1
    assert Score.objects.filter(submission=submission, is_current=True).count() == 1


def test_a_submission_that_kills_its_worker_every_time_fails_after_the_cap(
        celery_workers, slow_upload, settings):
    worker = celery_workers(env=FAST)
    wait_for_ready(worker)
    submission = slow_upload()
    cap = settings.SCORING_MAX_ATTEMPTS
    for attempt in range(1, cap + 1):
        wait_until(lambda a=attempt: status_of(submission).status == "running"
                   and submission.attempts == a, [worker], 60, f"attempt {attempt}")
        for pid in child_pids(worker.pid):
            os.kill(pid, signal.SIGKILL)

    wait_until(lambda: status_of(submission).is_final, [worker], 60, "a final state")
    assert submission.status == "failed"
    assert submission.failure_reason == "internal_error"
    assert submission.attempts == cap
    assert "did not count against your quota" in submission.failure_message
    assert QuotaUsage.objects.get(candidate=slow_upload.user).used == 0
    assert not Score.objects.filter(submission=submission).exists()
    assert worker.poll() is None


SWEEP_DONE = re.compile(r"requeue_stuck_submissions\[[^\]]+\] succeeded in [\d.]+s: (\d+)")


def test_a_backlog_gets_one_message_per_submission_however_often_the_sweep_runs(
        celery_workers, slow_upload, settings, require_redis):
    from redis import Redis

    redis = Redis.from_url(require_redis)
    queue = settings.SCORING_QUEUE
    sweeper = celery_workers(queue="default", env=FAST, beat=True)
    submissions = [slow_upload() for _ in range(3)]  # no scoring worker yet: they wait

    def sweeps() -> list[int]:
        return [int(n) for n in SWEEP_DONE.findall(sweeper.log_path.read_text())]

    # Every upload overdue (SCORING_QUEUED_TIMEOUT is 3 s), then three sweeps more.
    time.sleep(3.5)
    seen = len(sweeps())
    wait_until(lambda: len(sweeps()) >= seen + 3, [sweeper], 60, "three sweeps")
    assert redis.llen(queue) == 3

    worker = celery_workers(env=FAST)
    while not all(status_of(s).is_final for s in submissions):
        waiting = Submission.objects.filter(status="queued").count()  # before the queue
        assert redis.llen(queue) <= waiting
        time.sleep(0.2)
    assert all(s.status == "scored" and s.attempts == 1 for s in submissions), [
        (s.status, s.attempts, s.failure_message) for s in submissions]
    deliveries = re.findall(r"score_submission\[[^\]]+\] received", worker.log_path.read_text())
    assert len(deliveries) == 3  # one message each, ever
    assert len(sweeps()) >= seen + 3 and set(sweeps()) == {0}  # no sweep sent anything
    assert redis.llen(queue) == 0
