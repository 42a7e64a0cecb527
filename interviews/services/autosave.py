"""Autosave: every accepted answer save is a new version with its revision, refused when
stale (``AnswerConflict``) or too late (``SessionClosed``). Two SQL statements a save on
PostgreSQL.

Revisions are capped so that a script cannot fill the database (settings
``ANSWER_REVISIONS_ALL``, ``ANSWER_REVISION_STRETCH_SECONDS``, ``ANSWER_REVISIONS_MAX``): past
the first ones, a save replaces the answer's last revision when that one was saved in the
same stretch of the interview, and past the maximum every save does. The answer always takes
the save; replay keeps a frame every stretch and at every pause."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from interviews.models import (
    Answer,
    AnswerRevision,
    InterviewSession,
)
from interviews.services.sessions import (
    ANSWER_TEXT_MAX_CHARS,
    DIAGRAM_MAX_CHARS,
    STEP_NUMBERS,
    SessionClosed,
    active_step_report,
    active_step_write,
    session_lock,
    submit_if_due_locked,
)


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


def _normalise_newlines(value: str) -> str:
    # Browsers may send CRLF for textarea content; store one form so versions compare equal.
    return value.replace("\r\n", "\n").replace("\r", "\n")


def answer_save(*, session: InterviewSession, step_number: int, text: str, diagram: str = "",
                base_version: int, active_step: int | None = None) -> SaveResult:
    """Save ``text`` (and for step 5 ``diagram``) as the next version of the step's answer.

    ``base_version`` is the version the candidate edited. When it is not the current one the
    save is refused with ``AnswerConflict`` (unless the text is already what is stored: a
    retried save that had in fact landed), so nothing is silently overwritten. Every accepted
    change writes an ``AnswerRevision`` with the database time and the time since start:
    appended, or over the last one once the answer has many (see the module's docstring).
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
# version only if the candidate edited the current one and changed something; its revision,
# appended, or written over the last one when the cap says so (``_replaces_last``); the time
# credited to the step that was active; and the newly reported step. Returns the answer's id
# and the revision's (NULL when the answer did not change).
_SAVE_SQL = """
WITH saved AS (
    UPDATE interviews_answer
    SET version = version + 1, text = %(text)s, diagram = %(diagram)s, updated_at = %(now)s
    WHERE session_id = %(session_id)s AND step_number = %(step_number)s
      AND version = %(base_version)s AND (text <> %(text)s OR diagram <> %(diagram)s)
    RETURNING id, version, text, diagram, updated_at
), latest AS (
    SELECT r.id, r.elapsed_ms,
           (SELECT count(*) FROM interviews_answerrevision c WHERE c.answer_id = r.answer_id)
               AS kept
    FROM interviews_answerrevision r JOIN saved ON r.answer_id = saved.id
    ORDER BY r.version DESC LIMIT 1
), replaced AS (
    UPDATE interviews_answerrevision r
    SET version = saved.version, text = saved.text, diagram = saved.diagram,
        saved_at = saved.updated_at, elapsed_ms = %(elapsed_ms)s
    FROM saved, latest
    WHERE r.id = latest.id AND (latest.kept >= %(revisions_max)s
        OR (latest.kept > %(revisions_all)s AND latest.elapsed_ms >= %(stretch_start_ms)s))
    RETURNING r.id, r.answer_id
), revision AS (
    INSERT INTO interviews_answerrevision (answer_id, version, text, diagram, saved_at, elapsed_ms)
    SELECT id, version, text, diagram, updated_at, %(elapsed_ms)s FROM saved
    WHERE NOT EXISTS (SELECT 1 FROM replaced)
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
SELECT answer_id, id FROM revision UNION ALL SELECT answer_id, id FROM replaced
"""


def _revision_cap(elapsed_ms: int) -> dict[str, int]:
    """The cap's parameters of ``_SAVE_SQL`` for a save ``elapsed_ms`` into the interview."""
    stretch_ms = max(1, settings.ANSWER_REVISION_STRETCH_SECONDS) * 1000
    return {"revisions_all": settings.ANSWER_REVISIONS_ALL,
            "revisions_max": settings.ANSWER_REVISIONS_MAX,
            "stretch_start_ms": elapsed_ms - elapsed_ms % stretch_ms}


def _replaces_last(params: dict, *, kept: int, last_elapsed_ms: int) -> bool:
    """Whether a save writes over the answer's last revision rather than append one (the
    ORM path's copy of ``replaced`` in ``_SAVE_SQL``)."""
    return kept >= params["revisions_max"] or (
        kept > params["revisions_all"] and last_elapsed_ms >= params["stretch_start_ms"])


def _session_lock_for_save(session_id: int, candidate: AbstractBaseUser | None
                           ) -> tuple[InterviewSession, datetime]:
    """``session_lock`` without the ORM's query building (``raw()`` costs as much again):
    the locked session and the database's clock. Http404 when it is not ``candidate``'s.
    The SQL is PostgreSQL's; other databases (SQLite for ``make run``) take the ORM's way."""
    if connection.vendor != "postgresql":
        try:
            return session_lock(session_id, candidate)
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
        # The answer's id with its revisions' count and last one, in one query as in SQL.
        revisions = AnswerRevision.objects.filter(answer=OuterRef("pk"))
        latest = revisions.order_by("-version")
        answer = answers.annotate(
            kept=Coalesce(Subquery(revisions.values("answer").annotate(n=Count("pk"))
                                   .values("n")), 0),
            last_pk=Subquery(latest.values("pk")[:1]),
            last_elapsed_ms=Subquery(latest.values("elapsed_ms")[:1]),
        ).values("pk", "kept", "last_pk", "last_elapsed_ms").get()
        fields = {"version": p["base_version"] + 1, "text": p["text"], "diagram": p["diagram"],
                  "saved_at": p["now"], "elapsed_ms": p["elapsed_ms"]}
        if answer["last_pk"] is not None and _replaces_last(
                p, kept=answer["kept"], last_elapsed_ms=answer["last_elapsed_ms"]):
            AnswerRevision.objects.filter(pk=answer["last_pk"]).update(**fields)
            saved = (answer["pk"], answer["last_pk"])
        else:
            revision = AnswerRevision.objects.create(answer_id=answer["pk"], **fields)
            saved = (answer["pk"], revision.pk)
    if p["report"]:
        active_step_write(p["session_id"], p["credited_step"], p["seconds"],
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
        submit_if_due_locked(locked, now)
        if locked.is_active:
            remaining = locked.remaining_ms(now=now)
            elapsed_ms = locked.elapsed_ms(now=now)
            report = active_step in STEP_NUMBERS
            seconds, next_step, since = active_step_report(locked, now, active_step)
            saved = _save_writes({
                "text": text, "diagram": diagram, "now": now, "session_id": locked.pk,
                "step_number": step_number, "base_version": base_version,
                "elapsed_ms": elapsed_ms, "report": report, "seconds": seconds,
                "credited_step": locked.active_step, "active_step": next_step,
                "since": since, **_revision_cap(elapsed_ms),
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


