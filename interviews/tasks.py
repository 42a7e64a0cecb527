"""Celery tasks for interviews: thin wrappers that call services."""

from smtplib import SMTPException

from celery import shared_task

from interviews.services.sessions import session_submit_overdue


@shared_task(name="interviews.submit_overdue_sessions", ignore_result=True)
def submit_overdue_sessions_task() -> int:
    """Beat runs this every ``INTERVIEW_SWEEP_SECONDS`` (30 s) on the default queue, whose
    worker scoring jobs never occupy: sessions past their deadline become submitted even when
    the candidate never comes back. Idempotent; safe to run on several workers at once."""
    return session_submit_overdue()


@shared_task(name="interviews.send_booking_reminders", ignore_result=True)
def send_booking_reminders_task() -> int:
    """Beat runs this every ``BOOKING_REMINDER_SWEEP_SECONDS`` (60 s): each booking starting
    within ``SCHEDULING_REMINDER_MINUTES`` gets its reminder, once (claimed row by row)."""
    from interviews.scheduling.services import booking_reminders_send

    return booking_reminders_send()


@shared_task(name="interviews.settle_booking_attendance", ignore_result=True)
def settle_booking_attendance_task() -> int:
    """Beat runs this every five minutes: bookings whose slot is over are recorded as held or
    as a no-show, from who pressed Join (``bookings_settle_attendance``). Idempotent."""
    from interviews.scheduling.services import bookings_settle_attendance

    return bookings_settle_attendance()


@shared_task(name="interviews.send_booking_emails", ignore_result=True,
             autoretry_for=(OSError, SMTPException), retry_backoff=30, retry_backoff_max=600,
             max_retries=8)
def send_booking_emails_task(booking_id: int, change: str) -> int:
    """Both people's e-mail about a booking's ``change`` ("booked", "cancelled",
    "reminder"), with the .ics invitation; retried while the mail server is unreachable."""
    from interviews.scheduling.services import booking_emails_send

    return booking_emails_send(booking_id=booking_id, change=change)

