"""Celery tasks for grading: thin wrappers that call services.

Scoring runs with late acknowledgement and requeue on worker loss (settings), so a worker
killed mid-job gives the message back; ``submission_score`` makes redelivery safe.
"""

import socket

from celery import shared_task
from celery.signals import worker_ready

from grading.services.submissions import submission_score, submissions_requeue_stuck
from grading.services.workers import worker_heartbeat_record


@shared_task(name="grading.score_submission", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def score_submission_task(submission_id: int) -> str:
    return submission_score(submission_id=submission_id)


@shared_task(name="grading.requeue_stuck_submissions", ignore_result=True)
def requeue_stuck_submissions_task() -> int:
    return len(submissions_requeue_stuck())


@shared_task(name="grading.worker_heartbeat", ignore_result=True)
def worker_heartbeat_task(hostname: str | None = None) -> None:
    worker_heartbeat_record(hostname=hostname or socket.gethostname())


@worker_ready.connect
def _record_worker_start(sender: object = None, **kwargs: object) -> None:
    hostname = getattr(sender, "hostname", None) or socket.gethostname()
    worker_heartbeat_record(hostname=hostname, starting=True)
