"""Writes for live interviews. Every event goes through ``event_append``, which numbers it
under the room's row lock and wakes the room's pages after the transaction commits."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import DurationField, F, Value
from django.db.models.functions import Now

from interviews.live import policy
from interviews.live.models import FollowUp, FollowUpRevision, LiveEvent, LiveInvite, LiveRoom
from interviews.live.push import room_wake
from interviews.live.selectors import event_payload
from interviews.models import CaseStudy, GuideStep, InterviewSession, QuestionAsked
from interviews.scorecards.services import ScorecardRefused, grade_claim
from interviews.services import sessions as session_services
from interviews.services.sessions import SessionClosed, session_lock, submit_if_due_locked
from mlsd_site import roles

logger = logging.getLogger("interviews.live")

Kind = LiveEvent.Kind


def event_append(*, room: LiveRoom, kind: str, actor: AbstractBaseUser | None = None,
                 body: str = "", step_number: int | None = None,
                 audience: str = LiveEvent.Audience.BOTH,
                 data: dict[str, Any] | None = None) -> LiveEvent:
    """Append one event to ``room``'s log with the next sequence number and the database's
    time, and push a wake-up to the room's pages once the transaction commits.

    Safe under concurrency: the room row is locked while its ``last_seq`` is bumped, so two
    writers get consecutive numbers (and the unique constraint backs that up). A caller that
    changes the event in the same transaction does it on the returned instance (the wake-up
    carries the instance as it is at the commit)."""
    with transaction.atomic():
        # of=("self",): lock the room row only (the session is the nullable side of an
        # outer join, which PostgreSQL refuses to lock, and must not be locked here anyway).
        locked = (LiveRoom.objects.select_for_update(of=("self",)).select_related("session")
                  .annotate(db_now=Now()).get(pk=room.pk))
        seq = locked.last_seq + 1
        LiveRoom.objects.filter(pk=room.pk).update(last_seq=F("last_seq") + 1)
        elapsed = (locked.session.elapsed_ms(now=locked.db_now)
                   if locked.session is not None else None)
        event = LiveEvent.objects.create(
            room=locked, seq=seq, kind=kind, audience=audience, actor=actor,
            step_number=step_number, body=body, data=data or {}, elapsed_ms=elapsed)
        event.refresh_from_db(fields=["created_at"])
        room.last_seq = seq
        transaction.on_commit(partial(_event_wake, event))
    return event


def _event_wake(event: LiveEvent) -> None:
    """Wake the room's pages for ``event``, once its transaction has committed. The event
    rides along when both sides may read it, so the pages' connections need not read it
    back from the log (push.py says when they still do); it is taken as the instance is at
    the commit, so a change the caller made to it in the same transaction (a follow-up's id
    in ``data``) is in it, as it is in the log."""
    both = event.audience == LiveEvent.Audience.BOTH
    room_wake(event.room_id, event.seq, audience=event.audience,
              event=event_payload(event) if both else None)


# --- refusals ---------------------------------------------------------------------------------


class LiveRefused(Exception):
    """The room's state or the person's place in it does not allow this; the message says
    why, in words for the person (the views answer 409 or show it)."""


class FollowUpConflict(Exception):
    """A follow-up answer was saved elsewhere (another tab) since the version this save
    edited; nothing was written."""

    def __init__(self, follow_up: FollowUp, yours: str) -> None:
        self.follow_up = follow_up
        self.yours = yours
        super().__init__("This answer was saved from another tab or window.")


def _refuse_if(reason: str | None) -> None:
    if reason:
        raise LiveRefused(reason)


def _role_in(room: LiveRoom, user: AbstractBaseUser) -> str | None:
    if user.pk == room.candidate_id:
        return policy.CANDIDATE
    if room.interviewer_id is not None and user.pk == room.interviewer_id:
        return policy.INTERVIEWER
    return None


def _lock_room(room_id: int) -> LiveRoom:
    """The room's row, locked (only that row), with the database's clock as ``db_now``."""
    return (LiveRoom.objects.select_for_update(of=("self",)).select_related("case_study")
            .annotate(db_now=Now()).get(pk=room_id))


def _text(value: str, *, limit: int, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError(f"Type {what}.")
    if len(value) > limit:
        raise ValidationError(f"At most {limit} characters, please.")
    return value


def _step(value: int | None, *, required: bool = False) -> int | None:
    if value is None and not required:
        return None
    if value not in session_services.STEP_NUMBERS:
        raise ValidationError("No such step.")
    return value


# --- the room ---------------------------------------------------------------------------------


def room_open(*, candidate: AbstractBaseUser, case_study: CaseStudy) -> tuple[LiveRoom, bool]:
    """Open ``candidate``'s live room for ``case_study``, or return the one already open
    (waiting or running): a double click or two tabs get the same room (the partial unique
    constraint decides the race). Returns ``(room, created)``.

    Raises ``PermissionDenied`` for interviewers and admins (they do not take interviews),
    ``LiveRefused`` while a solo session of the case study runs (one session per case study
    at a time: the live one starts when the interviewer starts the clock)."""
    if not roles.is_candidate(candidate):
        raise PermissionDenied("Interviewers and admins do not take interviews.")
    open_rooms = LiveRoom.objects.filter(candidate=candidate, case_study=case_study,
                                         state__in=[policy.WAITING, policy.RUNNING])
    existing = open_rooms.first()
    if existing is not None:
        return existing, False
    solo = InterviewSession.objects.filter(
        candidate=candidate, case_study=case_study, status=InterviewSession.Status.ACTIVE,
        deadline__gt=Now()).exists()
    if solo:
        raise LiveRefused("You have a session of this case study running: submit it before "
                          "you start a live interview of it.")
    try:
        with transaction.atomic():
            room = LiveRoom.objects.create(candidate=candidate, case_study=case_study)
            # Whoever opens the room is in it (their waiting-room page says so again).
            event_append(room=room, kind=Kind.JOINED, actor=candidate,
                         data={"role": policy.CANDIDATE})
    except IntegrityError:
        return open_rooms.get(), False
    logger.info("live room %s opened: %s for %s", room.pk, case_study.slug, candidate.pk)
    return room, True


@dataclass(frozen=True)
class NewInvite:
    invite: LiveInvite
    token: str  # shown once, in the link; only its hash is stored


def invite_create(*, room: LiveRoom, candidate: AbstractBaseUser) -> NewInvite:
    """A single-use link for one signed-in interviewer to join the candidate's waiting room,
    valid for ``policy.INVITE_LIFETIME``. The token is returned once (to show the link);
    the database keeps only its SHA-256. Raises ``LiveRefused`` once the room has an
    interviewer or is no longer waiting."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        locked = _lock_room(room.pk)
        if locked.candidate_id != candidate.pk:
            raise PermissionDenied("Only the candidate invites an interviewer.")
        _refuse_if(policy.invite_refusal(state=locked.state,
                                         has_interviewer=locked.interviewer_id is not None))
        invite = LiveInvite.objects.create(
            room=locked, token_hash=policy.invite_token_hash(token),
            expires_at=Now() + Value(policy.INVITE_LIFETIME, output_field=DurationField()))
        invite.refresh_from_db(fields=["expires_at", "created_at"])
    return NewInvite(invite=invite, token=token)


def invite_redeem(*, token: str, user: AbstractBaseUser) -> LiveRoom:
    """``user`` joins the room the invite is for, as its interviewer. Works once: the invite
    row is locked, so of two people redeeming one link at the same time exactly one gets in
    (the same interviewer opening their link again is let back in).

    Raises ``LiveInvite.DoesNotExist`` for an unknown token, ``PermissionDenied`` for anyone
    but an interviewer (the candidate who made it included), ``LiveRefused`` when the link
    was used by someone else, has expired, or the room has another interviewer."""
    if not roles.is_interviewer(user):
        raise PermissionDenied("Only a signed-in interviewer can join with an invite link.")
    with transaction.atomic():
        invite = (LiveInvite.objects.select_for_update().annotate(db_now=Now())
                  .get(token_hash=policy.invite_token_hash(token)))
        if invite.redeemed_at is not None:
            if invite.redeemed_by_id == user.pk:
                return LiveRoom.objects.select_related("case_study").get(pk=invite.room_id)
            raise LiveRefused("This invite link has already been used.")
        if invite.db_now >= invite.expires_at:
            raise LiveRefused("This invite link has expired: ask the candidate for a new one.")
        room = _lock_room(invite.room_id)
        if room.candidate_id == user.pk:
            raise PermissionDenied("You cannot interview yourself.")
        _refuse_if(policy.join_refusal(state=room.state, interviewer_id=room.interviewer_id,
                                       user_id=user.pk))
        LiveInvite.objects.filter(pk=invite.pk).update(redeemed_at=Now(), redeemed_by=user)
        if room.interviewer_id != user.pk:
            room.interviewer = user
            room.save(update_fields=["interviewer"])
    logger.info("live room %s: invite %s redeemed by %s", room.pk, invite.pk, user.pk)
    return room


def room_claim(*, room_id: int, interviewer: AbstractBaseUser) -> LiveRoom:
    """An interviewer takes a waiting room from the queue. Claiming one's own room again
    changes nothing. Raises ``PermissionDenied`` for non-interviewers, ``LiveRefused`` when
    another interviewer got there first or the interview is over."""
    if not roles.is_interviewer(interviewer):
        raise PermissionDenied("Only interviewers claim live interviews.")
    with transaction.atomic():
        room = _lock_room(room_id)
        _refuse_if(policy.join_refusal(state=room.state, interviewer_id=room.interviewer_id,
                                       user_id=interviewer.pk))
        if room.interviewer_id != interviewer.pk:
            room.interviewer = interviewer
            room.save(update_fields=["interviewer"])
    return room


def room_assign(*, room_id: int, admin: AbstractBaseUser, interviewer: AbstractBaseUser
                ) -> LiveRoom:
    """An admin gives a waiting room its interviewer (or another one). Raises
    ``PermissionDenied`` unless ``admin`` is an admin, ``ValidationError`` when
    ``interviewer`` may not interview, ``LiveRefused`` once the interview has started."""
    if not roles.is_admin(admin):
        raise PermissionDenied("Only admins assign interviewers.")
    if not roles.is_interviewer(interviewer):
        raise ValidationError("Pick an interviewer.")
    with transaction.atomic():
        room = _lock_room(room_id)
        _refuse_if(policy.assign_refusal(state=room.state))
        if room.candidate_id == interviewer.pk:
            raise ValidationError("Candidates do not interview themselves.")
        room.interviewer = interviewer
        room.save(update_fields=["interviewer"])
    return room


def room_presence(*, room: LiveRoom, user: AbstractBaseUser, present: bool) -> LiveEvent | None:
    """``user`` (the room's candidate or interviewer) opened (``present``) or left the room's
    page: a ``joined`` or ``left`` event, unless their last one already says so (a reload
    logs nothing). Nothing once the room has ended. Returns the event, or None."""
    kind = Kind.JOINED if present else Kind.LEFT
    with transaction.atomic():
        locked = _lock_room(room.pk)
        role = _role_in(locked, user)
        if role is None:
            raise PermissionDenied("Not a person of this room.")
        if locked.state == policy.ENDED:
            return None
        last = (LiveEvent.objects.filter(room=locked, actor=user,
                                         kind__in=[Kind.JOINED, Kind.LEFT])
                .order_by("-seq").values_list("kind", flat=True).first())
        if last == kind or (last is None and not present):
            return None
        return event_append(room=locked, kind=kind, actor=user, data={"role": role})


def _is_present(room: LiveRoom, user_id: int) -> bool:
    """Whether ``user_id``'s last presence event in ``room`` says they are in it."""
    last = (LiveEvent.objects.filter(room=room, actor_id=user_id,
                                     kind__in=[Kind.JOINED, Kind.LEFT])
            .order_by("-seq").values_list("kind", flat=True).first())
    return last == Kind.JOINED


def room_start(*, room: LiveRoom, interviewer: AbstractBaseUser) -> LiveRoom:
    """The room's interviewer starts the clock: the candidate's ``InterviewSession`` is
    created as a solo start creates it (``session_start``: the current rubric, the case
    study's length, the database's clock), the room runs, and a ``started`` event tells
    both pages. Starting a running room again changes nothing.

    Raises ``LiveRefused`` for anyone but the room's interviewer and for an ended room,
    ``ValidationError`` when the candidate has a solo session of the case study running or
    there is no rubric."""
    with transaction.atomic():
        locked = _lock_room(room.pk)
        _refuse_if(policy.start_refusal(
            state=locked.state,
            is_room_interviewer=locked.interviewer_id is not None
            and locked.interviewer_id == interviewer.pk,
            candidate_present=_is_present(locked, locked.candidate_id)))
        if locked.state == policy.RUNNING:
            return locked
        session, _ = session_services.session_start(
            candidate=locked.candidate, case_study=locked.case_study, require_new=True)
        locked.session = session
        locked.state = policy.RUNNING
        locked.save(update_fields=["session", "state"])
        event_append(room=locked, kind=Kind.STARTED, actor=interviewer,
                     data={"session": session.pk,
                           "duration_ms": session.duration_seconds * 1000})
    logger.info("live room %s started: session %s", locked.pk, session.pk)
    return locked


def _end_locked(room: LiveRoom, *, actor: AbstractBaseUser | None, reason: str,
                body: str) -> None:
    room.state = policy.ENDED
    room.ended_at = room.db_now
    room.save(update_fields=["state", "ended_at"])
    event_append(room=room, kind=Kind.ENDED, actor=actor, body=body,
                 data={"reason": reason,
                       "review_url": room.session.get_review_url() if room.session_id else ""})


def room_end(*, room: LiveRoom, user: AbstractBaseUser) -> LiveRoom:
    """End the room: its interviewer at any time (a running interview's session is
    submitted early through ``session_submit``), the candidate only while it waits (to stop
    waiting). Ending an ended room changes nothing. Raises ``LiveRefused`` otherwise.

    Locks the session before the room, as a submission does (``_submit_locked`` ends the
    room of the session it submits), so the two never wait for each other in a circle."""
    with transaction.atomic():
        session_id = LiveRoom.objects.filter(pk=room.pk).values_list("session_id",
                                                                     flat=True).get()
        if session_id is not None:
            session_lock(session_id)
        locked = _lock_room(room.pk)
        role = _role_in(locked, user)
        _refuse_if(policy.end_refusal(state=locked.state, role=role))
        if locked.state == policy.ENDED:
            return locked
        if role == policy.INTERVIEWER:
            _end_locked(locked, actor=user, reason="interviewer",
                        body="The interviewer ended the interview.")
        else:
            _end_locked(locked, actor=user, reason="candidate",
                        body="The candidate left the waiting room.")
        if locked.session_id is not None:
            # The room is ended already: the hook in _submit_locked finds nothing to do.
            session_services.session_submit(session=locked.session)
    return locked


def room_end_for_submitted_session(*, session: InterviewSession) -> None:
    """Called by ``_submit_locked`` for every session it submits, under the session's lock:
    a live interview whose session is submitted (by the candidate, at the deadline by the
    sweep or a lazy check) ends too, with an ``ended`` event for both pages."""
    rooms = (LiveRoom.objects.select_for_update(of=("self",)).select_related("interviewer")
             .annotate(db_now=Now()).filter(session_id=session.pk))
    for room in rooms:
        room.session = session
        if room.state == policy.RUNNING:
            if session.submit_reason == InterviewSession.SubmitReason.DEADLINE:
                _end_locked(room, actor=None, reason="deadline", body="Time is up.")
            else:
                _end_locked(room, actor=session.candidate, reason="candidate",
                            body="The candidate submitted the interview.")
        if room.interviewer is not None:
            _claim_scorecard(interviewer=room.interviewer, session=session)


def _claim_scorecard(*, interviewer: AbstractBaseUser, session: InterviewSession) -> None:
    """The interviewer who ran the live interview takes a grader slot of its scorecard (a
    draft, as a claim from the queue makes): they were there, and their notes are its
    evidence. No slot left (an admin assigned others) is fine: they may still read it."""
    try:
        grade_claim(session=session, grader=interviewer)
    except (ScorecardRefused, PermissionDenied) as refused:
        logger.info("live: session %s not claimed by %s: %s", session.pk, interviewer.pk,
                    refused)


# --- what happens in a running room -----------------------------------------------------------


def _running_room(room: LiveRoom, user: AbstractBaseUser, kind: str) -> LiveRoom:
    """The room as it is now (not locked), after the policy's check that ``user`` may post
    ``kind`` in its state; ``LiveRefused`` otherwise."""
    current = LiveRoom.objects.select_related("session", "case_study").get(pk=room.pk)
    _refuse_if(policy.post_refusal(kind=kind, role=_role_in(current, user),
                                   state=current.state))
    return current


def question_post(*, room: LiveRoom, candidate: AbstractBaseUser, text: str,
                  step_number: int | None = None) -> LiveEvent:
    """The candidate types a clarifying question. It is recorded with the session's
    questions (``question_ask``: the review and the scorecard list it) and as a ``question``
    event the interviewer answers. Raises ``SessionClosed`` once the time is up."""
    current = _running_room(room, candidate, "question")
    step_number = _step(step_number)
    text = _text(text, limit=session_services.QUESTION_MAX_CHARS, what="a question")
    closed = None
    with transaction.atomic():
        try:
            asked = session_services.question_ask(session=current.session, text=text)
        except SessionClosed as error:
            closed = error  # raised after this block, so the deadline's submission commits
        else:
            return event_append(room=current, kind=Kind.QUESTION, actor=candidate,
                                body=asked.text, step_number=step_number,
                                data={"question_asked": asked.pk})
    raise closed


def answer_post(*, room: LiveRoom, interviewer: AbstractBaseUser, question_seq: int,
                text: str) -> LiveEvent:
    """The interviewer answers the candidate's question number ``question_seq`` (its event's
    seq); the answer is also kept on the session's question record."""
    current = _running_room(room, interviewer, "answer")
    text = _text(text, limit=policy.MESSAGE_MAX_CHARS, what="an answer")
    question = LiveEvent.objects.filter(room=current, seq=question_seq,
                                        kind=Kind.QUESTION).first()
    if question is None:
        raise ValidationError("No such question.")
    with transaction.atomic():
        asked_id = question.data.get("question_asked")
        if asked_id:
            QuestionAsked.objects.filter(pk=asked_id, session_id=current.session_id).update(
                answer=text)
        return event_append(room=current, kind=Kind.ANSWER, actor=interviewer, body=text,
                            step_number=question.step_number,
                            data={"question_seq": question.seq})


def follow_up_post(*, room: LiveRoom, interviewer: AbstractBaseUser, step_number: int,
                   text: str) -> FollowUp:
    """The interviewer asks a follow-up on a step: it appears under that step on the
    candidate's page, with a box whose answer saves like any answer."""
    current = _running_room(room, interviewer, "follow_up")
    step_number = _step(step_number, required=True)
    text = _text(text, limit=policy.MESSAGE_MAX_CHARS, what="a follow-up question")
    with transaction.atomic():
        event = event_append(room=current, kind=Kind.FOLLOW_UP, actor=interviewer, body=text,
                             step_number=step_number)
        follow_up = FollowUp.objects.create(room=current, event=event, step_number=step_number,
                                            question=text)
        # The pages read the event after this transaction commits, with its follow-up's id.
        event.data = {"follow_up": follow_up.pk}
        event.save(update_fields=["data"])
    return follow_up


@dataclass(frozen=True)
class FollowUpSaved:
    follow_up: FollowUp
    remaining_ms: int


def follow_up_answer_save(*, candidate: AbstractBaseUser, room: LiveRoom, follow_up_id: int,
                          text: str, base_version: int) -> FollowUpSaved:
    """Autosave of the candidate's answer to a follow-up, with the rules of an answer's
    autosave: the save names the version it edited, and a stale one is refused
    (``FollowUpConflict``) unless it carries exactly the stored text (a retried save that
    had landed); saves are taken until the deadline and its grace (``SessionClosed`` after).
    Every accepted save is a ``FollowUpRevision``; every one that changed the text is also a
    ``follow_up_answered`` event carrying it, so the console shows the answer as it is saved
    (the page saves about a second after typing stops, so that is the events' pace).

    Raises ``FollowUp.DoesNotExist`` for a follow-up of another room, ``ValidationError``
    for a text that is too long."""
    if len(text) > session_services.ANSWER_TEXT_MAX_CHARS:
        raise ValidationError(
            f"An answer has at most {session_services.ANSWER_TEXT_MAX_CHARS} characters.")
    if room.candidate_id != candidate.pk or room.session_id is None:
        raise FollowUp.DoesNotExist("No such follow-up.")
    closed = None
    with transaction.atomic():
        session, now = session_lock(room.session_id, candidate)
        if submit_if_due_locked(session, now) or not session.is_active:
            closed = session
        else:
            follow_up = FollowUp.objects.select_for_update().get(pk=follow_up_id, room=room)
            remaining = session.remaining_ms(now=now)
            if text == follow_up.answer:
                return FollowUpSaved(follow_up=follow_up, remaining_ms=remaining)
            if follow_up.version != base_version:
                raise FollowUpConflict(follow_up, text)
            follow_up.answer = text
            follow_up.version += 1
            follow_up.updated_at = now
            follow_up.save(update_fields=["answer", "version", "updated_at"])
            FollowUpRevision.objects.create(follow_up=follow_up, version=follow_up.version,
                                            text=text, saved_at=now,
                                            elapsed_ms=session.elapsed_ms(now=now))
            event_append(room=room, kind=Kind.FOLLOW_UP_ANSWERED, actor=candidate, body=text,
                         step_number=follow_up.step_number,
                         data={"follow_up": follow_up.pk, "version": follow_up.version,
                               "follow_up_seq": follow_up.event.seq})
    if closed is not None:
        raise SessionClosed(closed)
    return FollowUpSaved(follow_up=follow_up, remaining_ms=remaining)


def requirement_change_post(*, room: LiveRoom, interviewer: AbstractBaseUser, text: str = "",
                            guide_step: int | None = None, guide_index: int | None = None,
                            step_number: int | None = None) -> LiveEvent:
    """Announce a requirement change: one from the guide's list (``guide_step`` and
    ``guide_index`` into that step's ``requirement_changes``) or typed. The candidate's page
    shows it as a banner that stays."""
    current = _running_room(room, interviewer, "requirement_change")
    data: dict[str, Any] = {}
    if guide_index is not None:
        guide = GuideStep.objects.filter(case_study_id=current.case_study_id,
                                         step_number=_step(guide_step, required=True)).first()
        changes = guide.requirement_changes if guide else []
        if not 0 <= guide_index < len(changes):
            raise ValidationError("No such requirement change in the guide.")
        text = str(changes[guide_index].get("change", ""))
        step_number = guide_step
        data = {"guide_step": guide_step, "guide_index": guide_index}
    text = _text(text, limit=policy.MESSAGE_MAX_CHARS, what="the change")
    return event_append(room=current, kind=Kind.REQUIREMENT_CHANGE, actor=interviewer,
                        body=text, step_number=_step(step_number), data=data)


def note_post(*, room: LiveRoom, interviewer: AbstractBaseUser, text: str,
              step_number: int | None = None) -> LiveEvent:
    """A private note: the interviewer's only (audience ``interviewer``), stamped with the
    time since the clock started (none in the waiting room). The scorecard shows it beside
    its step, quotable as evidence."""
    current = _running_room(room, interviewer, "note")
    text = _text(text, limit=policy.NOTE_MAX_CHARS, what="a note")
    return event_append(room=current, kind=Kind.NOTE, actor=interviewer, body=text,
                        step_number=_step(step_number), audience=LiveEvent.Audience.INTERVIEWER)


def time_check_post(*, room: LiveRoom, interviewer: AbstractBaseUser) -> LiveEvent:
    """Tell the candidate how much time is left, by the server's clock."""
    current = _running_room(room, interviewer, "time_check")
    session = InterviewSession.objects.annotate(db_now=Now()).get(pk=current.session_id)
    minutes = policy.minutes_left(session.remaining_ms(now=session.db_now))
    body = f"{minutes} minute{'s' if minutes != 1 else ''} left."
    return event_append(room=current, kind=Kind.TIME_CHECK, actor=interviewer, body=body,
                        data={"minutes_left": minutes})
