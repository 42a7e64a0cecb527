"""Writes for the interviews app: the catalogue, rubric versions, demo accounts, and interview
sessions (start, answer saves, clarifying questions, time per step, submission)."""

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AbstractUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import DurationField, F, Value
from django.db.models.functions import Now
from django.http import Http404

from interviews.models import (
    Answer,
    AnswerRevision,
    CaseStudy,
    ClarifyingQuestion,
    Concept,
    InterviewSession,
    QuestionAsked,
    Rubric,
    RubricStep,
    StepBudget,
    StepTime,
)
from mlsd_site import roles

logger = logging.getLogger(__name__)

CATALOGUE_DIR = Path(__file__).resolve().parent / "catalogue"


@dataclass(frozen=True)
class CatalogueLoadResult:
    rubric: Rubric
    rubric_created: bool
    created: list[str]
    updated: list[str]
    unchanged: list[str]


def _rubric_content(rubric: Rubric) -> list[dict]:
    return [
        {
            "number": step.number,
            "slug": step.slug,
            "title": step.title,
            "weight": str(step.weight.normalize()),
            "default_minutes": step.default_minutes,
            "guidance": step.guidance,
            "descriptors": [step.descriptor_1, step.descriptor_2, step.descriptor_3,
                            step.descriptor_4],
        }
        for step in rubric.steps.order_by("number")
    ]


def _rubric_steps_from_json(data: dict) -> list[dict]:
    steps = []
    for step in data["steps"]:
        steps.append(
            {
                "number": step["number"],
                "slug": step["slug"],
                "title": step["title"],
                "weight": str(Decimal(str(step["weight"])).normalize()),
                "default_minutes": step["default_minutes"],
                "guidance": step["guidance"],
                "descriptors": [step["descriptors"][str(level)] for level in range(1, 5)],
            }
        )
    communication = data["communication"]
    steps.append(
        {
            "number": RubricStep.COMMUNICATION_NUMBER,
            "slug": "communication",
            "title": communication["title"],
            "weight": "0",
            "default_minutes": None,
            "guidance": communication["guidance"],
            "descriptors": [communication["descriptors"][str(level)] for level in range(1, 5)],
        }
    )
    return steps


@transaction.atomic
def rubric_ensure(*, data: dict) -> tuple[Rubric, bool]:
    """Make ``data`` the current rubric. If the current version already says the same, keep
    it; otherwise add a new version, so grades given under the old one keep their meaning."""
    wanted = _rubric_steps_from_json(data)
    current = Rubric.objects.filter(is_current=True).first()
    if current is not None and _rubric_content(current) == wanted:
        return current, False
    return rubric_new_version(name=data["name"], steps=wanted), True


@transaction.atomic
def rubric_new_version(*, name: str, steps: list[dict]) -> Rubric:
    """Add a rubric version with ``steps`` and make it current."""
    latest = Rubric.objects.select_for_update().order_by("-version").first()
    Rubric.objects.filter(is_current=True).update(is_current=False)
    rubric = Rubric.objects.create(
        name=name, version=(latest.version + 1) if latest else 1, is_current=True
    )
    RubricStep.objects.bulk_create(
        RubricStep(
            rubric=rubric,
            number=step["number"],
            slug=step["slug"],
            title=step["title"],
            weight=Decimal(step["weight"]),
            default_minutes=step["default_minutes"],
            guidance=step["guidance"],
            descriptor_1=step["descriptors"][0],
            descriptor_2=step["descriptors"][1],
            descriptor_3=step["descriptors"][2],
            descriptor_4=step["descriptors"][3],
        )
        for step in steps
    )
    return rubric


def rubric_copy_as_new_version(*, rubric: Rubric) -> Rubric:
    """Start editing a rubric: copy it to a new current version (admin action)."""
    return rubric_new_version(name=rubric.name, steps=_rubric_content(rubric))


def _case_study_fields(data: dict) -> dict:
    return {
        "title": data["title"],
        "order": data["order"],
        "summary": data["summary"],
        "prompt": data["prompt"],
        "task_type": data["task_type"],
        "primary_metric": data["primary_metric"],
        "secondary_metrics": data["secondary_metrics"],
        "online_metrics": data["online_metrics"],
        "latency_budget_ms": data["latency_budget_ms"],
        "duration_seconds": data["length_minutes"] * 60,
    }


@transaction.atomic
def case_study_upsert(*, data: dict, overwrite: bool) -> tuple[CaseStudy, str]:
    """Create the case study from catalogue ``data``. An existing one is left as the admin
    edited it unless ``overwrite``; returns the row and "created", "updated" or "unchanged"."""
    case = CaseStudy.objects.filter(slug=data["slug"]).first()
    if case is not None and not overwrite:
        return case, "unchanged"
    outcome = "updated" if case else "created"
    if case is None:
        case = CaseStudy.objects.create(slug=data["slug"], **_case_study_fields(data))
    else:
        for field, value in _case_study_fields(data).items():
            setattr(case, field, value)
        case.save()
        case.budgets.all().delete()
        case.questions.all().delete()
        case.concepts.all().delete()
    StepBudget.objects.bulk_create(
        StepBudget(case_study=case, step_number=int(number), seconds=int(minutes) * 60)
        for number, minutes in data["step_minutes"].items()
    )
    ClarifyingQuestion.objects.bulk_create(
        ClarifyingQuestion(case_study=case, order=index, question=qa["question"],
                           answer=qa["answer"])
        for index, qa in enumerate(data["clarifying_questions"], start=1)
    )
    Concept.objects.bulk_create(
        Concept(case_study=case, step_number=int(number), name=concept["name"],
                synonyms=concept["synonyms"])
        for number, concepts in data["concepts"].items()
        for concept in concepts
    )
    return case, outcome


def catalogue_load(*, directory: Path = CATALOGUE_DIR, overwrite: bool = False
                   ) -> CatalogueLoadResult:
    """Load the rubric and every case study under ``directory``; safe to run again."""
    rubric_data = json.loads((directory / "rubric.json").read_text(encoding="utf-8"))
    rubric, rubric_created = rubric_ensure(data=rubric_data)
    created, updated, unchanged = [], [], []
    for path in sorted((directory / "case_studies").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        case, outcome = case_study_upsert(data=data, overwrite=overwrite)
        {"created": created, "updated": updated, "unchanged": unchanged}[outcome].append(
            case.slug
        )
    return CatalogueLoadResult(rubric, rubric_created, created, updated, unchanged)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str


DEMO_ACCOUNTS = (
    DemoAccount("admin", "admin-demo-pass", "admin"),
    DemoAccount("interviewer", "interviewer-demo-pass", "interviewer"),
    DemoAccount("candidate", "candidate-demo-pass", "candidate"),
)


@transaction.atomic
def demo_accounts_ensure() -> list[DemoAccount]:
    """Create (or reset) the demo admin, interviewer and candidate. For local use only."""
    groups = roles.roles_ensure()
    user_model = get_user_model()
    for account in DEMO_ACCOUNTS:
        user: AbstractUser
        user, _ = user_model.objects.get_or_create(username=account.username)
        user.email = f"{account.username}@example.com"
        user.set_password(account.password)
        user.is_staff = account.role == "admin"
        user.is_superuser = account.role == "admin"
        user.save()
        if account.role == "admin":
            user.groups.set([groups[roles.ADMINS]])
        elif account.role == "interviewer":
            user.groups.set([groups[roles.INTERVIEWERS]])
        else:
            user.groups.clear()
    return list(DEMO_ACCOUNTS)


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


class AnswerConflict(Exception):
    """A save named a version that is no longer current: another tab saved in between."""

    def __init__(self, answer: Answer, *, yours_text: str, yours_diagram: str,
                 remaining_ms: int) -> None:
        self.answer = answer
        self.yours_text = yours_text
        self.yours_diagram = yours_diagram
        self.remaining_ms = remaining_ms
        super().__init__(
            f"Step {answer.step_number} was saved elsewhere (now version {answer.version})."
        )


@dataclass(frozen=True)
class SaveResult:
    answer: Answer
    revision: AnswerRevision | None  # None when the save changed nothing
    remaining_ms: int


@dataclass(frozen=True)
class SessionClock:
    session: InterviewSession
    remaining_ms: int
    step_seconds: dict[int, float]


def _session_lock(session_id: int, candidate: AbstractBaseUser | None = None
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


def _active_step_report(session: InterviewSession, now: datetime, next_step: int | None
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
    seconds, step, since = _active_step_report(session, now, next_step)
    _active_step_write(session.pk, session.active_step, seconds, step, since)
    session.active_step, session.active_step_since = step, since


def _active_step_write(session_id: int, credited_step: int | None, seconds: float,
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


def _submit_if_due_locked(session: InterviewSession, now: datetime) -> bool:
    if session.is_due(now=now):
        _submit_locked(session, now, InterviewSession.SubmitReason.DEADLINE)
        return True
    return False


def session_start(*, candidate: AbstractBaseUser, case_study: CaseStudy
                  ) -> tuple[InterviewSession, bool]:
    """Start ``candidate``'s session of ``case_study``, or return the one already running.

    Returns ``(session, created)``. Idempotent: a double click or two tabs starting at once
    get the same session (the partial unique constraint decides the race). An active session
    already past its deadline is submitted first and a fresh one started.
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
        if existing is not None and not _submit_if_due_locked(existing, existing.db_now):
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
        locked, now = _session_lock(session.pk)
        if _submit_if_due_locked(locked, now):
            return locked
    return session


def session_submit(*, session: InterviewSession) -> InterviewSession:
    """The candidate submits early (after confirming). Submitting a submitted session changes
    nothing; a session already past its deadline is recorded as timed out."""
    with transaction.atomic():
        locked, now = _session_lock(session.pk)
        if locked.is_active and not _submit_if_due_locked(locked, now):
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
                locked, now = _session_lock(session_id)
            except InterviewSession.DoesNotExist:
                continue
            if _submit_if_due_locked(locked, now):
                submitted += 1
    return submitted


def _normalise_newlines(value: str) -> str:
    # Browsers may send CRLF for textarea content; store one form so versions compare equal.
    return value.replace("\r\n", "\n").replace("\r", "\n")


def answer_save(*, session: InterviewSession, step_number: int, text: str, diagram: str = "",
                base_version: int, active_step: int | None = None) -> SaveResult:
    """Save ``text`` (and for step 5 ``diagram``) as the next version of the step's answer.

    ``base_version`` is the version the candidate edited. When it is not the current one the
    save is refused with ``AnswerConflict`` (unless the text is already what is stored: a
    retried save that had in fact landed), so nothing is silently overwritten. Every accepted
    change appends an ``AnswerRevision`` with the database time and the time since start.
    Raises ``SessionClosed`` after the deadline and grace (submitting the session on the way)
    or once submitted; ``ValidationError`` for a bad step or an oversized text. The caller
    has checked that the session is the candidate's (the view uses
    ``answer_save_for_candidate``, which checks it under the lock).
    """
    return _answer_save(session_id=session.pk, candidate=None, step_number=step_number,
                        text=text, diagram=diagram, base_version=base_version,
                        active_step=active_step)


def answer_save_for_candidate(*, candidate: AbstractBaseUser, session_id: int,
                              step_number: int, text: str, diagram: str = "",
                              base_version: int, active_step: int | None = None
                              ) -> SaveResult:
    """``answer_save`` for the autosave endpoint: fetches and locks ``candidate``'s session
    in one statement. Raises ``Http404`` for anyone else's session (as
    ``selectors.session_get_for_candidate`` does), and the rest as ``answer_save``."""
    return _answer_save(session_id=session_id, candidate=candidate, step_number=step_number,
                        text=text, diagram=diagram, base_version=base_version,
                        active_step=active_step)


# Autosave is the hottest write, and each statement is a round trip under the session lock
# (and, on a small server, a millisecond or more of ORM query building): a save is two
# statements in SQL. The first locks the session (with the candidate filter when there is
# one) and reads the database clock, as Django's ``Now()`` does on PostgreSQL. The answer row
# needs no lock of its own: every writer of answers holds the session's.
_SESSION_FIELDS = InterviewSession._meta.concrete_fields
_SESSION_ATTNAMES = [field.attname for field in _SESSION_FIELDS]
_SAVE_LOCK_SQL = f"""
SELECT {", ".join(field.column for field in _SESSION_FIELDS)}, statement_timestamp()
FROM interviews_interviewsession
WHERE id = %(session_id)s AND (%(candidate_id)s::bigint IS NULL OR candidate_id = %(candidate_id)s)
FOR UPDATE
"""  # noqa: S608 (column names from the model, values as parameters)
# The second makes the writes of an accepted save (the text sent once): the answer's next
# version only if the candidate edited the current one and changed something, its revision,
# the time credited to the step that was active, and the newly reported step. Returns the
# answer's id and the revision's (NULL when the answer did not change).
_SAVE_SQL = """
WITH saved AS (
    UPDATE interviews_answer
    SET version = version + 1, text = %(text)s, diagram = %(diagram)s, updated_at = %(now)s
    WHERE session_id = %(session_id)s AND step_number = %(step_number)s
      AND version = %(base_version)s AND (text <> %(text)s OR diagram <> %(diagram)s)
    RETURNING id, version, text, diagram, updated_at
), revision AS (
    INSERT INTO interviews_answerrevision (answer_id, version, text, diagram, saved_at, elapsed_ms)
    SELECT id, version, text, diagram, updated_at, %(elapsed_ms)s FROM saved
    RETURNING id, answer_id
), credited AS (
    UPDATE interviews_steptime SET seconds = seconds + %(seconds)s
    WHERE %(report)s AND %(seconds)s > 0 AND session_id = %(session_id)s
      AND step_number = %(credited_step)s
), reported AS (
    UPDATE interviews_interviewsession
    SET active_step = %(active_step)s, active_step_since = %(since)s
    WHERE %(report)s AND id = %(session_id)s
)
SELECT answer_id, id FROM revision
"""


def _session_lock_for_save(session_id: int, candidate: AbstractBaseUser | None
                           ) -> tuple[InterviewSession, datetime]:
    """``_session_lock`` without the ORM's query building (``raw()`` costs as much again):
    the locked session and the database's clock. Http404 when it is not ``candidate``'s.
    The SQL is PostgreSQL's; other databases (SQLite for ``make run``) take the ORM's way."""
    if connection.vendor != "postgresql":
        try:
            return _session_lock(session_id, candidate)
        except InterviewSession.DoesNotExist:
            raise Http404("No such interview session.") from None
    with connection.cursor() as cursor:
        cursor.execute(_SAVE_LOCK_SQL, {
            "session_id": session_id,
            "candidate_id": candidate.pk if candidate is not None else None,
        })
        row = cursor.fetchone()
    if row is None:
        raise Http404("No such interview session.")
    session = InterviewSession.from_db(connection.alias, _SESSION_ATTNAMES, row[:-1])
    return session, row[-1]


def _save_writes(params: dict) -> tuple[int, int] | None:
    """The writes of ``_SAVE_SQL`` (see there); (answer id, revision id), or None when the
    answer did not change. One statement on PostgreSQL, the ORM's four on other databases."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_SAVE_SQL, params)
            return cursor.fetchone()
    p = params
    answers = Answer.objects.filter(session_id=p["session_id"], step_number=p["step_number"])
    changed = (answers.filter(version=p["base_version"])
               .exclude(text=p["text"], diagram=p["diagram"])
               .update(version=F("version") + 1, text=p["text"], diagram=p["diagram"],
                       updated_at=p["now"]))
    saved = None
    if changed:
        answer_id = answers.values_list("pk", flat=True).get()
        revision = AnswerRevision.objects.create(
            answer_id=answer_id, version=p["base_version"] + 1, text=p["text"],
            diagram=p["diagram"], saved_at=p["now"], elapsed_ms=p["elapsed_ms"])
        saved = (answer_id, revision.pk)
    if p["report"]:
        _active_step_write(p["session_id"], p["credited_step"], p["seconds"],
                           p["active_step"], p["since"])
    return saved


def _answer_save(*, session_id: int, candidate: AbstractBaseUser | None, step_number: int,
                 text: str, diagram: str, base_version: int, active_step: int | None
                 ) -> SaveResult:
    if step_number not in STEP_NUMBERS:
        raise ValidationError("No such step.")
    text, diagram = _normalise_newlines(text), _normalise_newlines(diagram)
    if step_number != Answer.DIAGRAM_STEP and diagram:
        raise ValidationError("Only the high-level design step takes a diagram.")
    if len(text) > ANSWER_TEXT_MAX_CHARS or len(diagram) > DIAGRAM_MAX_CHARS:
        raise ValidationError(
            f"An answer holds at most {ANSWER_TEXT_MAX_CHARS:,} characters and a diagram "
            f"{DIAGRAM_MAX_CHARS:,}."
        )
    conflict: AnswerConflict | None = None
    with transaction.atomic():
        locked, now = _session_lock_for_save(session_id, candidate)
        _submit_if_due_locked(locked, now)
        if locked.is_active:
            remaining = locked.remaining_ms(now=now)
            elapsed_ms = locked.elapsed_ms(now=now)
            report = active_step in STEP_NUMBERS
            seconds, next_step, since = _active_step_report(locked, now, active_step)
            saved = _save_writes({
                "text": text, "diagram": diagram, "now": now, "session_id": locked.pk,
                "step_number": step_number, "base_version": base_version,
                "elapsed_ms": elapsed_ms, "report": report, "seconds": seconds,
                "credited_step": locked.active_step, "active_step": next_step,
                "since": since,
            })
            if report:
                locked.active_step, locked.active_step_since = next_step, since
            revision = None
            if saved is not None:
                answer_id, revision_id = saved
                answer = Answer(pk=answer_id, session=locked, step_number=step_number,
                                text=text, diagram=diagram, version=base_version + 1,
                                updated_at=now)
                revision = AnswerRevision(pk=revision_id, answer=answer, version=answer.version,
                                          text=text, diagram=diagram, saved_at=now,
                                          elapsed_ms=elapsed_ms)
            else:
                # Not saved: a retry of the text already stored, or a stale version.
                answer = Answer.objects.get(session=locked, step_number=step_number)
                if answer.text != text or answer.diagram != diagram:
                    conflict = AnswerConflict(answer, yours_text=text, yours_diagram=diagram,
                                              remaining_ms=remaining)
    if not locked.is_active:
        raise SessionClosed(locked)
    if conflict is not None:
        raise conflict
    return SaveResult(answer=answer, revision=revision, remaining_ms=remaining)


def session_focus(*, session: InterviewSession, step: int | None) -> SessionClock:
    """Record that the candidate now works on ``step`` (None: the page is hidden), crediting
    the time since the last report to the previous step. Also the page's heartbeat: returns
    the time left by the server's clock and the seconds per step so far."""
    if step is not None and step not in STEP_NUMBERS:
        raise ValidationError("No such step.")
    with transaction.atomic():
        locked, now = _session_lock(session.pk)
        if not _submit_if_due_locked(locked, now) and locked.is_active:
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
        locked, now = _session_lock(session.pk)
        _submit_if_due_locked(locked, now)
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
