"""Two Celery queues, one worker process each: scoring never delays the interview deadline
sweep, and /healthz lists every live worker with the queues it consumes."""

import os
import signal
import socket
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from grading.models import Submission, WorkerHeartbeat
from grading.selectors.workers import workers_alive
from grading.services.submissions import submission_create
from grading.tests.slow_model import slow_regression_onnx
from interviews.models import InterviewSession
from interviews.tests.factories import candidate, start_session

SLUG = "food-delivery-time"
# Each worker records itself every second; the deadline sweep runs every second and a
# session closes one second after its deadline.
QUICK = {"WORKER_HEARTBEAT_SECONDS": "1", "INTERVIEW_SWEEP_SECONDS": "1",
         "INTERVIEW_SAVE_GRACE_SECONDS": "1"}
# A scoring job allowed to run for many minutes (the production hard limit is 15).
LONG_JOB = {**QUICK, "SANDBOX_CPU_SECONDS": "900", "SANDBOX_WALL_SECONDS": "900"}


def wait_until(predicate, workers, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        for worker in workers:
            assert worker.poll() is None, worker.log_path.read_text()[-3000:]
        time.sleep(0.2)
    logs = "\n".join(w.log_path.read_text()[-3000:] for w in workers)
    pytest.fail(f"timed out waiting for {what}\n{logs}")


def test_scoring_is_routed_to_the_scoring_queue_and_everything_else_to_the_default(settings):
    from mlsd_site.celery import app

    # The apps register their tasks when Django starts (apps.py), so no import is needed.
    router = app.amqp.Router()
    project_tasks = {name for name in app.tasks if not name.startswith("celery.")}
    assert {"grading.score_submission", "grading.requeue_stuck_submissions",
            "interviews.submit_overdue_sessions"} <= project_tasks
    routed = {name: router.route({}, name)["queue"].name for name in project_tasks}
    assert routed.pop("grading.score_submission") == settings.SCORING_QUEUE == "scoring"
    assert set(routed.values()) == {settings.CELERY_TASK_DEFAULT_QUEUE} == {"default"}
    # Beat only sends sweeps: heartbeats come from each worker itself.
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled == {"grading.requeue_stuck_submissions",
                         "interviews.submit_overdue_sessions",
                         "interviews.send_booking_reminders",
                         "interviews.settle_booking_attendance"}


@pytest.mark.services
@pytest.mark.slow
def test_a_deadline_passing_while_a_long_scoring_job_runs_is_still_submitted_promptly(
        celery_workers, tiny_dataset, tmp_path, settings):
    settings.WORKER_ALIVE_SECONDS = 5
    dataset, built = tiny_dataset(SLUG)
    # Minutes of scoring on the tiny data: far longer than this test waits for the sweep.
    model = slow_regression_onnx(tmp_path / "slow.onnx",
                                 n_features=len(built.spec.feature_columns),
                                 work_per_row=3000)
    default = celery_workers(queue="default", beat=True, env=QUICK)
    scoring = celery_workers(queue="scoring", concurrency=1, env=LONG_JOB)
    workers = [default, scoring]
    wait_until(lambda: WorkerHeartbeat.objects.count() >= 2, workers, 60, "both workers ready")

    submission = submission_create(
        candidate=candidate(), case_study=dataset.case_study,
        upload=SimpleUploadedFile("slow.onnx", model.read_bytes()))
    wait_until(lambda: Submission.objects.get(pk=submission.pk).status == "running", workers,
               60, "the scoring job to start")

    # The scoring worker's only pool slot is taken; now a session runs out of time.
    session = start_session(candidate_user=candidate(), case_study=dataset.case_study,
                            duration_seconds=3)
    closes_in = (session.deadline - session.started_at).total_seconds() + 1
    started = time.monotonic()
    wait_until(lambda: InterviewSession.objects.get(pk=session.pk).is_submitted, workers, 60,
               "the deadline sweep to submit the session")
    late = time.monotonic() - started - closes_in

    session.refresh_from_db()
    submission.refresh_from_db()
    assert session.submit_reason == InterviewSession.SubmitReason.DEADLINE
    assert session.submitted_at == session.deadline
    # Submitted within seconds of closing (sweep every second; a generous bound), while the
    # scoring job still held the scoring worker.
    assert late < 20, late
    assert submission.status == "running" and submission.attempts == 1
    # And the busy scoring worker is still alive: its main process records it, not the job.
    assert {tuple(worker.queues) for worker in workers_alive()} == {
        (settings.CELERY_TASK_DEFAULT_QUEUE,), (settings.SCORING_QUEUE,)}
    os.killpg(scoring.pid, signal.SIGKILL)  # no need to wait minutes for the job


@pytest.mark.services
@pytest.mark.slow
def test_healthz_lists_each_worker_with_its_queues_and_drops_a_killed_one(
        celery_workers, client, settings):
    settings.WORKER_ALIVE_SECONDS = 5
    default = celery_workers(queue="default", env=QUICK)
    scoring = celery_workers(queue="scoring", env=QUICK)
    workers = [default, scoring]

    def listed() -> dict[str, list[str]]:
        body = client.get("/healthz").json()
        return {worker["hostname"]: worker["queues"] for worker in body["workers"]}

    both = wait_until(lambda: len(listed()) == 2 and listed(), workers, 60, "both workers")
    names = {kind: f"test{number}-{kind}-{os.getpid()}@{socket.gethostname()}"
             for number, kind in ((1, "default"), (2, "scoring"))}
    assert both == {names["default"]: [settings.CELERY_TASK_DEFAULT_QUEUE],
                    names["scoring"]: [settings.SCORING_QUEUE]}
    body = client.get("/healthz").json()
    assert body["database"] == "ok" and body["workers_alive"] == 2
    assert body["workers_per_queue"] == {settings.CELERY_TASK_DEFAULT_QUEUE: 1,
                                         settings.SCORING_QUEUE: 1}
    # Still listed some seconds later: each worker keeps recording itself.
    time.sleep(settings.WORKER_ALIVE_SECONDS + 2)
    assert len(listed()) == 2

    os.killpg(scoring.pid, signal.SIGKILL)
    scoring.wait(timeout=10)
    killed_at = time.monotonic()
    remaining = wait_until(lambda: len(listed()) == 1 and listed(), [default], 30,
                           "the killed worker to drop out")
    assert remaining == {names["default"]: [settings.CELERY_TASK_DEFAULT_QUEUE]}
    assert time.monotonic() - killed_at < settings.WORKER_ALIVE_SECONDS + 5
    body = client.get("/healthz").json()
    assert body["workers_per_queue"] == {settings.CELERY_TASK_DEFAULT_QUEUE: 1,
                                         settings.SCORING_QUEUE: 0}
    assert WorkerHeartbeat.objects.count() == 2  # the row stays, for the admins
