"""Celery tasks for interviews: thin wrappers that call services."""

from celery import shared_task

from interviews.services.sessions import session_submit_overdue


@shared_task(name="interviews.submit_overdue_sessions", ignore_result=True)
def submit_overdue_sessions_task() -> int:
    """Beat runs this every ``INTERVIEW_SWEEP_SECONDS`` (30 s) on the default queue, whose
    worker scoring jobs never occupy: sessions past their deadline become submitted even when
    the candidate never comes back. Idempotent; safe to run on several workers at once."""
    return session_submit_overdue()
