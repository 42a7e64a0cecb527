"""Writes for timed interview sessions: start, the clock and the deadline, time per step,
clarifying questions and submission. Autosave lives in ``autosave``."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import DurationField, F, Value
from django.db.models.functions import Now

from interviews.models import (
    Answer,
    CaseStudy,
    ClarifyingQuestion,
    InterviewSession,
    QuestionAsked,
    Rubric,
    StepTime,
)
from mlsd_site import roles

logger = logging.getLogger(__name__)

# --- Interview sessions ---------------------------------------------------------------------
#
# Every write locks the session row first (then, where needed, the answer row), so the writes
# of one session are serialised and lock order is always the same. "Now" is always the
# database's clock, read in the same statement that takes the lock: web processes and workers
# may disagree about the time, the database does not.

STEP_NUMBERS = range(1, 7)
# Longest gap between two reports of the active step that is credited in full: the page
# reports every 20 s while visible, so a longer gap means a sleeping laptop or a closed tab.
FOCUS_GAP_MAX_SECONDS = 60
ANSWER_TEXT_MAX_CHARS = 30_000
DIAGRAM_MAX_CHARS = 10_000
QUESTION_MAX_CHARS = 500
RUNNING_ELSEWHERE = ("The candidate already has a session of this case study running: it must "
                     "be submitted before a live interview of it can start.")


class SessionClosed(Exception):
    """The session no longer takes writes: submitted, or past its deadline and grace."""

    def __init__(self, session: InterviewSession) -> None:
        self.session = session
        if session.submit_reason == InterviewSession.SubmitReason.DEADLINE:
            message = ("The interview ended at the deadline and was submitted; "
                       "this edit was not saved.")
        else:
            message = "You submitted this interview; this edit was not saved."
        super().__init__(message)


@dataclass(frozen=True)
class SessionClock:
    session: InterviewSession
    remaining_ms: int
    step_seconds: dict[int, float]


def session_lock(session_id: int, candidate: AbstractBaseUser | None = None
                  ) -> tuple[InterviewSession, datetime]:
    """Lock the session row (``candidate``'s only, when given; DoesNotExist otherwise);
    return it with the database's clock at lock time.

    ``of=("self",)``: only the session row. A bare ``FOR UPDATE`` with the joined case study
    would lock the case-study row too and make every session of that case study wait for
    each other's writes."""
    sessions = InterviewSession.objects.filter(pk=session_id)
    if candidate is not None:
        sessions = sessions.filter(candidate=candidate)
    session = (
        sessions.select_for_update(of=("self",))
        .select_related("case_study")
        .annotate(db_now=Now())
        .get()
    )
    return session, session.db_now


def active_step_report(session: InterviewSession, now: datetime, next_step: int | None
                        ) -> tuple[float, int | None, datetime | None]:
    """What a report of ``next_step`` at ``now`` changes: the seconds to credit to the step
    that was active (``session.active_step``; at most ``FOCUS_GAP_MAX_SECONDS``, never past
    the deadline), and the new active step and its start (None once the session is over)."""
    seconds = 0.0
    if session.active_step and session.active_step_since:
        end = min(now, session.deadline)
        seconds = (end - session.active_step_since).total_seconds()
        seconds = min(max(seconds, 0.0), FOCUS_GAP_MAX_SECONDS)
    if session.is_active and now < session.deadline:
        return seconds, next_step, now if next_step else None
    return seconds, None, None


def _credit_active_step(session: InterviewSession, now: datetime,
                        next_step: int | None) -> None:
    """Add the time since the last report to the step that was active, then make
    ``next_step`` (None: nobody is looking) the active one. The caller holds the lock."""
    seconds, step, since = active_step_report(session, now, next_step)
    active_step_write(session.pk, session.active_step, seconds, step, since)
    session.active_step, session.active_step_since = step, since


def active_step_write(session_id: int, credited_step: int | None, seconds: float,
                       step: int | None, since: datetime | None) -> None:
    """The writes of an active-step report through the ORM (``_SAVE_SQL`` makes the same
    ones on PostgreSQL's save path)."""
    if seconds > 0 and credited_step is not None:
        StepTime.objects.filter(session_id=session_id, step_number=credited_step).update(
            seconds=F("seconds") + seconds
        )
    InterviewSession.objects.filter(pk=session_id).update(active_step=step,
                                                          active_step_since=since)


def _submit_locked(session: InterviewSession, now: datetime,
                   reason: InterviewSession.SubmitReason) -> None:
    """Submit a locked, active session. At the deadline, the submission time is the deadline
    itself, however late the sweep or the next request noticed."""
    _credit_active_step(session, now, None)
    session.status = InterviewSession.Status.SUBMITTED
    session.submit_reason = reason
    session.submitted_at = (
        session.deadline if reason == InterviewSession.SubmitReason.DEADLINE
        else min(now, session.deadline)
    )
    session.save(update_fields=["status", "submit_reason", "submitted_at"])
    logger.info("interview session %s submitted (%s)", session.pk, reason)
    # A live interview's room ends with its session, however the session was submitted
    # (the interviewer, the candidate, the deadline sweep, a lazy check). Imported here:
    # the live services build on this module.
    from interviews.live.services import room_end_for_submitted_session

    room_end_for_submitted_session(session=session)


def submit_if_due_locked(session: InterviewSession, now: datetime) -> bool:
    if session.is_due(now=now):
        _submit_locked(session, now, InterviewSession.SubmitReason.DEADLINE)
        return True
    return False


def session_start(*, candidate: AbstractBaseUser, case_study: CaseStudy,
                  require_new: bool = False) -> tuple[InterviewSession, bool]:
    """Start ``candidate``'s session of ``case_study``, or return the one already running.

    Returns ``(session, created)``. Idempotent: a double click or two tabs starting at once
    get the same session (the partial unique constraint decides the race). An active session
    already past its deadline is submitted first and a fresh one started.
    ``require_new`` (a live interview's clock): a session already running is not returned
    but refused with ``ValidationError``, as is losing the race to another start.
    Raises ``PermissionDenied`` for interviewers and admins, ``ValidationError`` when there is
    no current rubric.
    """
    if not roles.is_candidate(candidate):
        raise PermissionDenied("Interviewers and admins do not take interviews.")
    rubric = Rubric.objects.filter(is_current=True).first()
    if rubric is None:
        raise ValidationError("There is no rubric yet: load the catalogue first.")
    with transaction.atomic():
        existing = (
            InterviewSession.objects.select_for_update()
            .annotate(db_now=Now())
            .filter(candidate=candidate, case_study=case_study,
                    status=InterviewSession.Status.ACTIVE)
            .first()
        )
        # A session past its deadline is submitted here, and a fresh one started.
        if existing is not None and not submit_if_due_locked(existing, existing.db_now):
            if require_new:
                raise ValidationError(RUNNING_ELSEWHERE)
            return existing, False
        try:
            with transaction.atomic():
                session = InterviewSession.objects.create(
                    candidate=candidate,
                    case_study=case_study,
                    rubric=rubric,
                    duration_seconds=case_study.duration_seconds,
                    started_at=Now(),
                    deadline=Now() + Value(timedelta(seconds=case_study.duration_seconds),
                                           output_field=DurationField()),
                )
        except IntegrityError:
            # Another request started it between our check and our insert.
            if require_new:
                raise ValidationError(RUNNING_ELSEWHERE) from None
            return InterviewSession.objects.get(
                candidate=candidate, case_study=case_study,
                status=InterviewSession.Status.ACTIVE,
            ), False
        session.refresh_from_db(fields=["started_at", "deadline"])
        Answer.objects.bulk_create(Answer(session=session, step_number=n) for n in STEP_NUMBERS)
        StepTime.objects.bulk_create(
            StepTime(session=session, step_number=n) for n in STEP_NUMBERS
        )
    logger.info("interview session %s started: %s for %s", session.pk, case_study.slug,
                candidate.pk)
    return session, True


def session_submit_if_due(*, session: InterviewSession) -> InterviewSession:
    """The lazy half of the deadline: called on every request for a session, submits it when
    its deadline and grace have passed. Returns the session as it now is. Takes no lock when
    ``session`` carries a ``db_now`` that says it is not due yet."""
    now = getattr(session, "db_now", None)
    if not session.is_active or (now is not None and not session.is_due(now=now)):
        return session
    with transaction.atomic():
        locked, now = session_lock(session.pk)
        if submit_if_due_locked(locked, now):
            return locked
    return session


def session_submit(*, session: InterviewSession) -> InterviewSession:
    """The candidate submits early (after confirming). Submitting a submitted session changes
    nothing; a session already past its deadline is recorded as timed out."""
    with transaction.atomic():
        locked, now = session_lock(session.pk)
        if locked.is_active and not submit_if_due_locked(locked, now):
            reason = (InterviewSession.SubmitReason.DEADLINE if now >= locked.deadline
                      else InterviewSession.SubmitReason.EARLY)
            _submit_locked(locked, now, reason)
    return locked


def session_submit_overdue(*, candidate: AbstractBaseUser | None = None, limit: int = 500
                           ) -> int:
    """The beat sweep (and, for one ``candidate``, the lazy check of "My sessions"): submit
    every active session past its deadline and grace. Returns how many it submitted; running
    it again submits nothing more."""
    overdue = InterviewSession.objects.filter(
        status=InterviewSession.Status.ACTIVE, deadline__lt=Now()
    )
    if candidate is not None:
        overdue = overdue.filter(candidate=candidate)
    candidates = list(overdue.order_by("deadline").values_list("pk", flat=True)[:limit])
    submitted = 0
    for session_id in candidates:
        with transaction.atomic():
            try:
                locked, now = session_lock(session_id)
            except InterviewSession.DoesNotExist:
                continue
            if submit_if_due_locked(locked, now):
                submitted += 1
    return submitted


def session_focus(*, session: InterviewSession, step: int | None) -> SessionClock:
    """Record that the candidate now works on ``step`` (None: the page is hidden), crediting
    the time since the last report to the previous step. Also the page's heartbeat: returns
    the time left by the server's clock and the seconds per step so far."""
    if step is not None and step not in STEP_NUMBERS:
        raise ValidationError("No such step.")
    with transaction.atomic():
        locked, now = session_lock(session.pk)
        if not submit_if_due_locked(locked, now) and locked.is_active:
            _credit_active_step(locked, now, step)
        seconds = dict(
            StepTime.objects.filter(session=locked).values_list("step_number", "seconds")
        )
    return SessionClock(session=locked, remaining_ms=locked.remaining_ms(now=now),
                        step_seconds=seconds)


def question_ask(*, session: InterviewSession, question: ClarifyingQuestion | None = None,
                 text: str = "") -> QuestionAsked:
    """Ask one of the case study's clarifying questions (its answer is revealed; asking it
    again returns the first record) or a question in the candidate's own words (recorded for
    the interviewer). Raises ``SessionClosed`` once the time is up."""
    text = " ".join(text.split())
    if question is None and not text:
        raise ValidationError("Type a question.")
    if len(text) > QUESTION_MAX_CHARS:
        raise ValidationError(f"A question has at most {QUESTION_MAX_CHARS} characters.")
    if question is not None and question.case_study_id != session.case_study_id:
        raise ValidationError("That question belongs to another case study.")
    with transaction.atomic():
        locked, now = session_lock(session.pk)
        submit_if_due_locked(locked, now)
        if locked.is_active:
            if question is not None:
                asked, _ = QuestionAsked.objects.get_or_create(
                    session=locked, question=question,
                    defaults={"kind": QuestionAsked.Kind.CATALOGUE, "text": question.question,
                              "answer": question.answer, "asked_at": now,
                              "elapsed_ms": locked.elapsed_ms(now=now)},
                )
            else:
                asked = QuestionAsked.objects.create(
                    session=locked, kind=QuestionAsked.Kind.FREE_TEXT, text=text,
                    asked_at=now, elapsed_ms=locked.elapsed_ms(now=now),
                )
    if not locked.is_active:
        raise SessionClosed(locked)
    return asked
