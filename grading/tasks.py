"""Celery tasks for grading: thin wrappers that call services, and each worker's heartbeat.

Scoring runs with late acknowledgement and requeue on worker loss (settings), so a worker
killed mid-job gives the message back; ``submission_score`` makes redelivery safe. It is
routed to the scoring queue (``CELERY_TASK_ROUTES``); the sweep goes to the default queue.
"""

import logging
import threading

from celery import current_app, shared_task
from celery.signals import worker_process_init, worker_ready, worker_shutdown
from django.conf import settings
from django.db import connection

from grading.engine.sandbox import sandbox_isolation, warm_sandbox_start
from grading.selectors.datasets import sandbox_limits
from grading.services.submissions import submission_score, submissions_requeue_stuck
from grading.services.workers import worker_heartbeat_record

logger = logging.getLogger(__name__)


@shared_task(name="grading.score_submission", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def score_submission_task(submission_id: int) -> str:
    return submission_score(submission_id=submission_id)


@shared_task(name="grading.requeue_stuck_submissions", ignore_result=True)
def requeue_stuck_submissions_task() -> int:
    return len(submissions_requeue_stuck())


# --- heartbeat ------------------------------------------------------------------------------
# Each worker process records itself from a thread of its main process rather than from a
# beat task: a task reaches only the one worker that takes it, and waits behind whatever
# fills that worker's pool, while the main process stays free during a 15-minute scoring job.

_stop_heartbeat = threading.Event()
_heartbeat_thread: threading.Thread | None = None


def _consumed_queues(consumer: object) -> list[str]:
    task_consumer = getattr(consumer, "task_consumer", None)
    if task_consumer is not None:
        return [queue.name for queue in task_consumer.queues]
    return list(consumer.app.amqp.queues.consume_from)


def _beat(consumer: object, *, starting: bool) -> None:
    try:
        worker_heartbeat_record(hostname=consumer.hostname, queues=_consumed_queues(consumer),
                                starting=starting)
    except Exception:  # noqa: BLE001 - a database outage must not end the heartbeat
        logger.warning("worker heartbeat not recorded", exc_info=True)
    finally:
        # No connection is held between beats, so a restarted database costs one beat and
        # a pool process forked meanwhile inherits no socket in use.
        connection.close()


def _heartbeat_loop(consumer: object, interval: float) -> None:
    _beat(consumer, starting=True)
    while not _stop_heartbeat.wait(interval):
        _beat(consumer, starting=False)


@worker_ready.connect
def _start_worker_heartbeat(sender: object = None, **kwargs: object) -> None:
    """``sender`` is the worker's consumer. Celery sends this again after a broker
    reconnection; the thread already running carries on."""
    global _heartbeat_thread
    if _heartbeat_thread is not None and _heartbeat_thread.is_alive():
        return
    _stop_heartbeat.clear()
    _heartbeat_thread = threading.Thread(
        target=_heartbeat_loop, args=(sender, float(settings.WORKER_HEARTBEAT_SECONDS)),
        name="mlsd-worker-heartbeat", daemon=True)
    _heartbeat_thread.start()


@worker_ready.connect
def _probe_scoring_sandbox(sender: object = None, **kwargs: object) -> None:
    """A scoring worker probes the model sandbox as it starts, so its log says at once (an
    ERROR naming what is missing) when this host cannot isolate models and scoring will
    refuse; every job probes again (cached for a minute)."""
    if settings.SCORING_QUEUE in _consumed_queues(sender):
        sandbox_isolation(sandbox_limits())


@worker_process_init.connect
def _start_warm_sandbox(**kwargs: object) -> None:
    """Each pool process of a scoring worker starts its first job's sandboxed child at once
    (``grading.engine.sandbox.warm``), so the first job is warm too; every job then starts
    the next one's."""
    try:
        queues = set(current_app.amqp.queues.consume_from)
    except AttributeError:  # no queue selection made: the worker consumes every queue
        queues = {settings.SCORING_QUEUE}
    if settings.SCORING_QUEUE in queues:
        warm_sandbox_start(sandbox_limits())


@worker_shutdown.connect
def _stop_worker_heartbeat(sender: object = None, **kwargs: object) -> None:
    _stop_heartbeat.set()
    if _heartbeat_thread is not None:
        _heartbeat_thread.join(timeout=5)
