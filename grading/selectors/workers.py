"""Reads for worker liveness: which workers have been seen lately, and on which queues."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models.functions import Now
from django.utils import timezone

from grading.models import (
    WorkerHeartbeat,
)


def workers_alive(*, queue: str | None = None) -> list[WorkerHeartbeat]:
    """Workers seen within ``WORKER_ALIVE_SECONDS`` (each records itself every
    ``WORKER_HEARTBEAT_SECONDS``), newest first; only those consuming ``queue`` if given."""
    window = timedelta(seconds=settings.WORKER_ALIVE_SECONDS)
    alive = list(WorkerHeartbeat.objects.filter(seen_at__gte=Now() - window))
    if queue is None:
        return alive
    # Filtered here: SQLite has no "JSON list contains", and there are a handful of rows.
    return [worker for worker in alive if queue in worker.queues]


def worker_last_seen_seconds() -> float | None:
    latest = WorkerHeartbeat.objects.order_by("-seen_at").first()
    if latest is None:
        return None
    return (timezone.now() - latest.seen_at).total_seconds()


@dataclass(frozen=True)
class WorkersHealth:
    alive: list[WorkerHeartbeat]
    last_seen_seconds: float | None
    # Every configured queue with the number of live workers consuming it: 0 means tasks
    # sent there wait until a worker for it starts.
    workers_per_queue: dict[str, int]


def workers_health() -> WorkersHealth:
    """The live workers with their queues, for the health page (two queries)."""
    alive = workers_alive()
    queues = dict.fromkeys([settings.CELERY_TASK_DEFAULT_QUEUE, settings.SCORING_QUEUE], 0)
    for worker in alive:
        for queue in worker.queues:
            queues[queue] = queues.get(queue, 0) + 1
    return WorkersHealth(alive=alive, last_seen_seconds=worker_last_seen_seconds(),
                         workers_per_queue=queues)
