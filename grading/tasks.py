"""Celery tasks for grading: thin wrappers that call services."""

import socket

from celery import shared_task
from celery.signals import worker_ready

from grading import services


@shared_task(name="grading.worker_heartbeat", ignore_result=True)
def worker_heartbeat_task(hostname: str | None = None) -> None:
    services.worker_heartbeat_record(hostname=hostname or socket.gethostname())


@worker_ready.connect
def _record_worker_start(sender: object = None, **kwargs: object) -> None:
    hostname = getattr(sender, "hostname", None) or socket.gethostname()
    services.worker_heartbeat_record(hostname=hostname, starting=True)
